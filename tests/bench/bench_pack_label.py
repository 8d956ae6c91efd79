"""Scan to label at the printer, at a packing station, on SQLite.

For each of ~300 picked orders (two units, each in its own tote) the station opens the tote and
checks the first unit; the timed part is the last unit's scan: the ``packing`` command
(check, picked -> packed, tracking number, label rendered and queued, all in one transaction)
until the emulator has the whole label, sent by a PrintWorker running in its thread. Baseline,
same run, same printer and worker: a bare ``printing.enqueue`` of the same label data until it
is at the printer. Prints one JSON object.  usage: python tests/bench/bench_pack_label.py [orders]
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
from server.db import database, init_database  # noqa: E402
from server.models import Barcode, Device, Location, PrintJob, Product, User, Warehouse, Wave  # noqa: E402
from server.schema import create_all  # noqa: E402
from server.services import printing  # noqa: E402
from server.services.auth import Principal  # noqa: E402
from server.services.device import commands
from server.services.scenarios import packing
from server.services.stock import inventory
from tests.bench.keys import time_ordered_key  # noqa: E402
from tests.test_packing import picked_order  # noqa: E402

ORDERS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
WARMUP = 20
STATION = "PK-BENCH"


class TimedEmulator(PrinterEmulator):
    """Notes when each format has fully arrived (before it is written to disk)."""

    def _receive_job(self, job: bytes) -> None:
        self.arrivals.append(time.perf_counter())
        super()._receive_job(job)


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
    return {"p50_ms": round(cut[49], 3), "p99_ms": round(cut[98], 3), "max_ms": round(ms[-1], 3), "n": len(ms)}


def floor(count: int) -> None:
    actor = inventory.system_actor()
    wh = Warehouse.create(code="WH1", name="基准仓", province="浙江省", address="文一西路 1500 号")
    pick = Location.create(warehouse=wh, code="A-01", kind="pick")
    tee = Product.create(sku="TS-01", name="纯棉T恤 白 M", weight_g=180)
    mug = Product.create(sku="MG-01", name="马克杯", weight_g=380)
    Barcode.create(code="6900000000014", product=tee)
    Barcode.create(code="6900000000021", product=mug)
    inventory.receive(tee, pick, count + WARMUP, actor=actor)
    inventory.receive(mug, pick, count + WARMUP, actor=actor)
    wave = Wave.create(code="W1", warehouse=wh, strategy="cluster", status="picked")
    for n in range(count + WARMUP):
        tote = Location.create(warehouse=wh, code=f"T-{n:04d}", kind="tote")
        picked_order(f"TM{n:08d}", [(tee, pick, 1), (mug, pick, 1)], wave=wave, tote=tote, actor=actor,
                     shop="bench", carrier="SF")


def run(principal, action, **params) -> dict:
    result = commands.execute(principal, {"key": time_ordered_key(), "scenario": "packing", "action": action,
                                          **params})
    if not result["ok"]:
        raise RuntimeError(result)
    return result


def scan_to_label(emulator: TimedEmulator, principal) -> tuple[list[float], list[float], list[dict]]:
    latencies, command_times, labels = [], [], []
    for n in range(WARMUP + ORDERS):
        run(principal, "scan", code=f"T-{n:04d}")
        run(principal, "scan", code="6900000000014")
        start = time.perf_counter()
        result = run(principal, "scan", code="6900000000021")
        answered = time.perf_counter()
        arrived = wait_for(emulator, n + 1)
        if n >= WARMUP:
            latencies.append(arrived - start)
            command_times.append(answered - start)
        labels.append(json.loads(PrintJob.get_by_id(result["data"]["weigh"]["label"]["job"]).data))
    return latencies, command_times, labels


def bare_enqueue(emulator: TimedEmulator, labels: list[dict], actor) -> list[float]:
    latencies = []
    before = len(emulator.arrivals)
    for n, data in enumerate(labels):
        start = time.perf_counter()
        printing.enqueue("ZD-BENCH", "shipping", data, data["order_number"], actor)
        arrived = wait_for(emulator, before + n + 1)
        if n >= WARMUP:
            latencies.append(arrived - start)
    return latencies


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        init_database(f"sqlite:///{scratch}/bench.db")
        create_all()
        floor(ORDERS)
        emulator = TimedEmulator("127.0.0.1", 0, os.path.join(scratch, "printed"))
        emulator.arrivals = []
        emulator.start()
        actor = inventory.system_actor()
        printing.save_printer("ZD-BENCH", {"url": f"tcp://127.0.0.1:{emulator.port}", "station": STATION}, actor)
        user = User.create(code="packer", name="Packer")
        principal = Principal(user, ["packer"], Device.create(code=STATION, kind="kiosk"))
        worker = printing.PrintWorker("bench", idle_s=1.0).start()
        try:
            packed, command_times, labels = scan_to_label(emulator, principal)
            baseline = bare_enqueue(emulator, labels, actor)
        finally:
            worker.stop()
        emulator.stop()
        done = PrintJob.select().where(PrintJob.state == "done").count()
        database.obj.close_all()
    packed_stats, base_stats = percentiles(packed), percentiles(baseline)
    print(json.dumps({
        "bench": "pack_scan_to_label",
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "database": "sqlite",
        "orders": ORDERS,
        "last_scan_to_label_at_printer": packed_stats,
        "last_scan_command": percentiles(command_times),
        "baseline_bare_enqueue_to_printer": base_stats,
        "ratio_p50": round(packed_stats["p50_ms"] / base_stats["p50_ms"], 2),
        "ratio_p99": round(packed_stats["p99_ms"] / base_stats["p99_ms"], 2),
        "jobs_done": done,
        "settings": {"packaging_g": packing.PACKAGING_G, "weight_tolerance_pct": packing.WEIGHT_TOLERANCE_PCT},
    }, indent=2))


if __name__ == "__main__":
    main()
