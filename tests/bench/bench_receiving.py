"""Receiving scans (入库) from 50 handhelds against a live ``wavefloor serve`` on SQLite (or
PostgreSQL), beside the bare Socket.IO echo server of tests/bench/bench_scans.py in the same run.

Each simulated receiver (a python-socketio AsyncClient over WebSocket) opens a receipt on a
purchase order of its own (``receiving/start``), then scans items: the barcodes of four SKUs in
turn, a case code (its pack of 12) every fifth scan. Each scan is one transaction: the order
line's guarded count, the units into the dock (``qc_pending``), the licence plate, the order's
status, and ``receipt.progress`` to the wall after commit. Two phases, as bench_scans.py:

  paced      every receiver scans at an even rate so the floor sends RATE scans/s in total
  saturated  every receiver scans again as soon as its answer arrives: scans/s the server takes

DESIGN section 11: receiving scans hold "the same ratio to the echo server as picking scans"
(``ratio_saturated_throughput``; compare with bench_scans.py's in a run on the same machine).
Prints one JSON object.
usage: python tests/bench/bench_receiving.py [--devices 50] [--rate 250] [--database sqlite|postgres]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import hashlib
import json
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench import bench_scans  # noqa: E402
from tests.bench.bench_scans import (bench_database, command_buckets, commands_per_commit, connect_all,  # noqa: E402
                                     cpu_seconds, machine_ticks, note, server_quantiles, start, stop)
from tests.bench.keys import time_ordered_key  # noqa: E402
from tests.bench.ports import free_port  # noqa: E402

PACED_SCANS = 40
SATURATED_SCANS = 60
SKUS = 4
PHASE_LIMIT_S = 20.0
LOG_DIR = bench_scans.LOG_DIR


def setup(url: str, devices: int) -> tuple[list[dict], str]:
    """A dock, four SKUs with a barcode and a case code each, and per receiver a purchase order
    (approved) of its own and a token; returns each receiver's PO code and scans, and a
    supervisor's token for the wall."""
    from server.db import init_database
    from server.models import (ApiToken, Barcode, Device, Location, Product, PurchaseOrder, PurchaseOrderLine,
                               Supplier, Warehouse)
    from server.models.base import utcnow
    from server.schema import create_all
    from server.services import auth

    init_database(url)
    create_all()
    auth.ensure_roles()
    wh = Warehouse.create(code="B", name="bench", aisles=4, aisle_length_m=20, aisle_width_m=3)
    Location.create(warehouse=wh, code="DOCK-B", kind="receiving", aisle=0, y_m=0.0)
    supplier = Supplier.create(code="SUP-B", name="bench supplier", over_receipt_pct=0)
    products = []
    for n in range(SKUS):
        product = Product.create(sku=f"RB-{n}", name=f"bench item {n}")
        Barcode.create(code=f"69000000{n:04d}1", product=product)
        Barcode.create(code=f"169000000{n:04d}1", product=product, multiplier=12, kind="case")
        products.append(product)

    def token_for(user, device=None):
        token = secrets.token_urlsafe(32)
        ApiToken.create(token_hash=hashlib.sha256(token.encode()).hexdigest(), user=user, device=device,
                        kind="session", expires_at=utcnow() + dt.timedelta(hours=2))
        return token

    walks = []
    scans_each = PACED_SCANS + SATURATED_SCANS
    for n in range(devices):
        po = PurchaseOrder.create(code=f"PO-B{n:03d}", supplier=supplier, warehouse=wh, status="approved")
        for seq, product in enumerate(products, 1):
            PurchaseOrderLine.create(po=po, seq=seq, product=product, qty=12 * scans_each)
        user = auth.add_user(f"br-{n:03d}", f"Receiver {n}", ["receiver"])
        device = Device.create(code=f"BR-{n:03d}")
        scans = [(f"169000000{i % SKUS:04d}1" if i % 5 == 4 else f"69000000{i % SKUS:04d}1")
                 for i in range(scans_each)]
        walks.append({"token": token_for(user, device), "po": po.code, "scans": scans})
    boss = auth.add_user("b-boss", "Boss", ["supervisor"])
    boss_token = token_for(boss)
    if not url.startswith("sqlite"):
        from server.db import database
        database.execute_sql("ANALYZE")
    return walks, boss_token


async def run_phase(clients, walks, count: int, interval: float | None, server_pids: list[int]) -> dict:
    """bench_scans.run_phase for receiving scans."""
    times: list[float] = []
    refused = []
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + PHASE_LIMIT_S

    async def device(client, walk):
        if interval:
            await asyncio.sleep(random.random() * interval)
        next_at = loop.time()
        start_at = walk.setdefault("position", 0)
        for code in walk["scans"][start_at:start_at + count]:
            if loop.time() > stop_at:
                break
            walk["position"] += 1
            sent = time.perf_counter()
            answer = await client.call("cmd", {"key": time_ordered_key(), "scenario": "receiving", "action": "scan",
                                               "code": code}, namespace="/floor", timeout=60)
            times.append(time.perf_counter() - sent)
            if not answer.get("ok"):
                refused.append(answer["message"]["code"])
            if interval:
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - loop.time()))

    began, cpu_before, clients_before, machine_before = (time.perf_counter(), cpu_seconds(server_pids),
                                                         time.process_time(), machine_ticks())
    await asyncio.gather(*(device(c, w) for c, w in zip(clients, walks)))
    elapsed, cpu = time.perf_counter() - began, cpu_seconds(server_pids) - cpu_before
    clients_cpu = time.process_time() - clients_before
    machine = [after - before for after, before in zip(machine_ticks(), machine_before)]
    times.sort()
    return {"scans": len(times), "seconds": round(elapsed, 2), "scans_per_s": round(len(times) / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(times), 2),
            "p99_ms": round(1000 * times[int(0.99 * (len(times) - 1))], 2), "refused": len(refused),
            "refused_codes": sorted(set(refused)),
            "server_cpu_ms_per_scan": round(1000 * cpu / len(times), 3),
            "clients_cpu_ms_per_scan": round(1000 * clients_cpu / len(times), 3),
            "machine_busy_pct": round(100 * (sum(machine) - machine[3] - machine[4]) / sum(machine), 1)}


async def floor(url: str, walks: list[dict], boss_token: str | None, rate: float, server_pids: list[int]) -> dict:
    wall_events = {"receipt.progress": 0}

    async def on_wall(event, data=None):
        if event in wall_events:
            wall_events[event] += 1

    wall = (await connect_all(url, [boss_token], on_wall))[0] if boss_token else None
    clients = await connect_all(url, [w["token"] for w in walks])
    try:
        if boss_token:  # every receiver opens its receipt first
            for client, walk in zip(clients, walks):
                answer = await client.call("cmd", {"key": time_ordered_key(), "scenario": "receiving",
                                                   "action": "start", "code": walk["po"]},
                                           namespace="/floor", timeout=60)
                assert answer["ok"], answer
        for walk in walks:
            walk["position"] = 0
        gc.collect()
        gc.freeze()
        timed = command_buckets([url]) if boss_token else None
        paced = await run_phase(clients, walks, PACED_SCANS, len(clients) / rate, server_pids)
        if timed is not None:
            timed = server_quantiles(paced, timed, command_buckets([url]))
        saturated = await run_phase(clients, walks, SATURATED_SCANS, None, server_pids)
        if timed is not None:
            server_quantiles(saturated, timed, command_buckets([url]))
        await asyncio.sleep(0.5)
    finally:
        await asyncio.gather(*(client.disconnect() for client in clients + ([wall] if wall else [])))
    result = {"paced": dict(paced, target_scans_per_s=rate), "saturated": saturated}
    if boss_token:
        result["wall_progress_events"] = wall_events["receipt.progress"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rate", type=float, default=250.0, help="paced phase: scans/s from all receivers")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, bench_database(args.database, tmp) as url:
        walks, boss = setup(url, args.devices)
        note("floor set up; starting wavefloor serve")
        env = dict(os.environ, WAVEFLOOR_DATABASE_URL=url, WAVEFLOOR_INSTANCE_DIR=f"{tmp}/instance",
                   WAVEFLOOR_SECRET_KEY="bench")
        port = free_port()
        server = start([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env, port,
                       os.path.join(LOG_DIR, "bench-receiving-server.log"))
        try:
            wavefloor = asyncio.run(floor(f"http://127.0.0.1:{port}", walks, boss, args.rate, [server.pid]))
            wavefloor["commands_per_commit"] = commands_per_commit([f"http://127.0.0.1:{port}"])
        finally:
            stop(server)
        note("wavefloor measured")
        from server.db import database
        from server.models import Lpn, PurchaseOrderLine, StockMove
        from server.services.stock import inventory
        with database.connection_context():
            moved = StockMove.select().where(StockMove.reason == "receipt")
            wavefloor["receipt_moves"] = moved.count()
            wavefloor["units_received"] = sum(line.received_qty for line in PurchaseOrderLine.select())
            wavefloor["units_on_plates"] = sum(plate.qty for plate in Lpn.select())
            wavefloor["audit_differences"] = len(inventory.audit())

    note("starting the echo baseline")
    port = free_port()
    echo = start([sys.executable, os.path.join(ROOT, "tests", "bench", "bench_scans.py"), "--echo-server", str(port)],
                 dict(os.environ), port, os.path.join(LOG_DIR, "bench-receiving-echo.log"))
    try:
        baseline = asyncio.run(floor(f"http://127.0.0.1:{port}", walks, None, args.rate, [echo.pid]))
    finally:
        stop(echo)

    print(json.dumps({
        "benchmark": "receiving scans, 50 handhelds",
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "devices": args.devices, "database": args.database,
        "wavefloor": wavefloor,
        "baseline_echo_gevent": baseline,
        "ratio_saturated_throughput": round(wavefloor["saturated"]["scans_per_s"]
                                            / baseline["saturated"]["scans_per_s"], 3),
        "server_core_scans_per_s": {
            "wavefloor": round(1000 / wavefloor["saturated"]["server_cpu_ms_per_scan"]),
            "baseline_echo_gevent": round(1000 / baseline["saturated"]["server_cpu_ms_per_scan"])},
        "targets": {"ratio": "the picking scans' ratio (tests/bench/bench_scans.py, same machine)"},
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
