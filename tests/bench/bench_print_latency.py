"""Shipping labels from ``enqueue`` to bytes at the printer, through the print queue on SQLite.

One label at a time (the packer's case: a label is asked for, then the next): the time from
``printing.enqueue`` until the emulator has the whole format, over ~300 labels, with the
worker running in its thread and woken by the queueing. Baseline, same run, same emulator:
a bare ``TcpTransport.send`` of the same ZPL. Also the queue's throughput for a burst.
Prints one JSON object.  usage: python tests/bench/bench_print_latency.py [labels]
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from printers.emulator import PrinterEmulator  # noqa: E402
from printers.labels import shipping_demo  # noqa: E402
from printers.transport import TcpTransport  # noqa: E402
from server.db import database, init_database  # noqa: E402
from server.models import PrintJob  # noqa: E402
from server.schema import create_all  # noqa: E402
from server.services import printing  # noqa: E402
from server.services.stock import inventory

LABELS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
WARMUP = 20


class TimedEmulator(PrinterEmulator):
    """Notes when each format has fully arrived (before it is written to disk)."""

    def _receive_job(self, job: bytes) -> None:
        self.arrivals.append(time.perf_counter())
        super()._receive_job(job)


def label(n: int) -> dict:
    return dict(shipping_demo(), tracking_number=f"SF{1500000000000 + n}", order_number=f"TM{n:08d}")


def wait_for(emulator: TimedEmulator, count: int) -> float:
    deadline = time.monotonic() + 30
    while len(emulator.arrivals) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"label {count} never reached the printer")
        time.sleep(0.00005)
    return emulator.arrivals[count - 1]


def percentiles(samples_s: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples_s)
    cut = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50_ms": round(cut[49], 3), "p99_ms": round(cut[98], 3), "max_ms": round(ms[-1], 3),
            "n": len(ms)}


def through_queue(emulator: TimedEmulator, actor) -> tuple[list[float], float]:
    latencies = []
    for n in range(WARMUP + LABELS):
        start = time.perf_counter()
        printing.enqueue("BENCH", "shipping", label(n), f"TM{n:08d}", actor)
        arrived = wait_for(emulator, n + 1)
        if n >= WARMUP:
            latencies.append(arrived - start)
    # a burst: every label queued at once, the worker drains them in order
    before = len(emulator.arrivals)
    start = time.perf_counter()
    for n in range(LABELS):
        printing.enqueue("BENCH", "shipping", label(10_000 + n), f"TB{n:08d}", actor)
    last = wait_for(emulator, before + LABELS)
    return latencies, LABELS / (last - start)


def bare_send(emulator: TimedEmulator, zpls: list[str]) -> list[float]:
    latencies = []
    before = len(emulator.arrivals)
    with TcpTransport("127.0.0.1", emulator.port) as transport:
        for n, zpl in enumerate(zpls):
            start = time.perf_counter()
            transport.send(zpl)
            arrived = wait_for(emulator, before + n + 1)
            if n >= WARMUP:
                latencies.append(arrived - start)
    return latencies


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        init_database(f"sqlite:///{scratch}/bench.db")
        create_all()
        emulator = TimedEmulator("127.0.0.1", 0, os.path.join(scratch, "printed"))
        emulator.arrivals = []
        emulator.start()
        actor = inventory.system_actor()
        printing.save_printer("BENCH", {"url": f"tcp://127.0.0.1:{emulator.port}"}, actor)
        worker = printing.PrintWorker("bench", idle_s=1.0).start()
        try:
            queued, burst_per_s = through_queue(emulator, actor)
        finally:
            worker.stop()
        zpls = [job.zpl for job in PrintJob.select(PrintJob.zpl).order_by(PrintJob.id).limit(WARMUP + LABELS)]
        baseline = bare_send(emulator, zpls)
        emulator.stop()
        done = PrintJob.select().where(PrintJob.state == "done").count()
        database.obj.close_all()
    queue_stats, base_stats = percentiles(queued), percentiles(baseline)
    print(json.dumps({
        "bench": "print_latency",
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "database": "sqlite",
        "labels": LABELS,
        "label_bytes": round(statistics.mean(len(z.encode()) for z in zpls)),
        "enqueue_to_printer": queue_stats,
        "baseline_bare_tcp_send": base_stats,
        "ratio_p50": round(queue_stats["p50_ms"] / base_stats["p50_ms"], 1),
        "ratio_p99": round(queue_stats["p99_ms"] / base_stats["p99_ms"], 1),
        "burst_labels_per_s": round(burst_per_s, 1),
        "jobs_done": done,
        "target": "print to a LAN printer in < 50 ms (DESIGN section 11)",
    }, indent=2))


if __name__ == "__main__":
    main()
