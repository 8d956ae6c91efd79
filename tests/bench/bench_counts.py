"""Counting scans (盘点) from 50 handhelds against a live ``wavefloor serve`` on SQLite (or
PostgreSQL), beside the bare Socket.IO echo server of tests/bench/bench_scans.py in the same run.

Each simulated counter (a python-socketio AsyncClient over WebSocket) takes the count of a
location of its own (``counting/get_work``; the counts are taken one after another, so counter n
gets location n), scans the location (the count starts: the ledger's figure is taken), then
scans units: the item's barcode, its case code (a pack of 12) every tenth scan. Each scan is one
transaction: the count line's guarded count and the command's stored answer. Two phases, as
bench_scans.py:

  paced      every counter scans at an even rate so the floor sends RATE scans/s in total
  saturated  every counter scans again as soon as its answer arrives: scans/s the server takes

DESIGN section 11: floor scans hold the picking scans' ratio to the echo server
(``ratio_saturated_throughput``; compare with bench_scans.py's in a run on the same machine).
Prints one JSON object.
usage: python tests/bench/bench_counts.py [--devices 50] [--rate 250] [--database sqlite|postgres]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench import bench_scans  # noqa: E402
from tests.bench.bench_scans import (Scanning, against_echo, machine, note,  # noqa: E402
                                     session_token)
from tests.bench.databases import bench_database  # noqa: E402

# the servers started here serve the floor only: no nightly jobs or platform pulls beside the scans
os.environ.setdefault("WAVEFLOOR_NIGHTLY_JOBS", "false")
os.environ.setdefault("WAVEFLOOR_CONNECTOR_WORKER", "false")

PACED_SCANS = 40
SATURATED_SCANS = 60
UNIT, CASE, PACK = "6900000007771", "16900000007771", 12
LOG_DIR = bench_scans.LOG_DIR
# each counter takes its count first (in turn: counter n gets location n), and starts pacing within one interval
COUNTING = Scanning("counting", lambda walk: {"action": "get_work"}, PACED_SCANS, SATURATED_SCANS, 1,
                    "count.changed")


def walk_scans() -> list[str]:
    """The location's label is the count's first scan (its code goes first when the walk is built);
    then units, a case every tenth scan."""
    return [CASE if i % 10 == 9 else UNIT for i in range(PACED_SCANS + SATURATED_SCANS - 1)]


def setup(url: str, devices: int) -> tuple[list[dict], str]:
    """A location per counter holding 500 units of the bench item, an open count at each (in the
    counters' order), and per counter a receiver's token; returns each counter's scans and a
    supervisor's token for the wall."""
    from server.db import init_database
    from server.models import Barcode, Device, Location, Product, Warehouse
    from server.schema import create_all
    from server.services import auth
    from server.services.counts import tasks
    from server.services.stock import inventory

    init_database(url)
    create_all()
    auth.ensure_roles()
    wh = Warehouse.create(code="B", name="bench", aisles=4, aisle_length_m=20, aisle_width_m=3)
    product = Product.create(sku="CB-1", name="bench item", cost_fen=500)
    Barcode.create(code=UNIT, product=product)
    Barcode.create(code=CASE, product=product, multiplier=PACK, kind="case")
    actor = inventory.system_actor()
    walks = []
    for n in range(devices):
        location = Location.create(warehouse=wh, code=f"CB-{n:03d}", kind="pick", aisle=n % 4, y_m=1.0 + n,
                                   pick_seq=n)
        inventory.receive(product, location, 500, actor=actor)
        tasks.create(wh.id, location.id, "list", tell=False)
        user = auth.add_user(f"bc-{n:03d}", f"Counter {n}", ["receiver"])
        device = Device.create(code=f"BC-{n:03d}")
        walks.append({"token": session_token(user, device), "scans": [location.code] + walk_scans()})
    boss = auth.add_user("b-boss", "Boss", ["supervisor"])
    boss_token = session_token(boss)
    if not url.startswith("sqlite"):
        from server.db import database
        database.execute_sql("ANALYZE")
    return walks, boss_token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rate", type=float, default=250.0, help="paced phase: scans/s from all counters")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, bench_database(args.database, tmp, "counts") as url:
        walks, boss = setup(url, args.devices)
        note("floor set up; starting wavefloor serve")
        wavefloor = bench_scans.measure_scenario(url, tmp, "counts", walks, boss, args.rate, COUNTING)
        note("wavefloor measured")
        from server.db import database
        from server.models import CountLine, CountTask, StockMove
        from server.services.stock import inventory
        with database.connection_context():
            wavefloor["units_counted"] = sum(line.counted for line in CountLine.select())
            wavefloor["counts_started"] = CountTask.select().where(CountTask.started_at.is_null(False)).count()
            wavefloor["ledger_lines"] = StockMove.select().count()
            wavefloor["audit_differences"] = len(inventory.audit())

    note("starting the echo baseline")
    baseline = bench_scans.echo_scenario("counts", walks, args.rate, COUNTING)

    print(json.dumps({
        "benchmark": "counting scans, 50 handhelds",
        "machine": machine(),
        "devices": args.devices, "database": args.database,
        **against_echo(wavefloor, baseline),
        "targets": {"ratio": "the picking scans' ratio (tests/bench/bench_scans.py, same machine)"},
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
