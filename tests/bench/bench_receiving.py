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
SKUS = 4
LOG_DIR = bench_scans.LOG_DIR
# each receiver opens the receipt of its own purchase order, and starts pacing within one interval
RECEIVING = Scanning("receiving", lambda walk: {"action": "start", "code": walk["po"]}, PACED_SCANS, SATURATED_SCANS,
                     1, "receipt.progress")


def setup(url: str, devices: int) -> tuple[list[dict], str]:
    """A dock, four SKUs with a barcode and a case code each, and per receiver a purchase order
    (approved) of its own and a token; returns each receiver's PO code and scans, and a
    supervisor's token for the wall."""
    from server.db import init_database
    from server.models import Barcode, Device, Location, Product, PurchaseOrder, PurchaseOrderLine, Supplier, Warehouse
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
        walks.append({"token": session_token(user, device), "po": po.code, "scans": scans})
    boss = auth.add_user("b-boss", "Boss", ["supervisor"])
    boss_token = session_token(boss)
    if not url.startswith("sqlite"):
        from server.db import database
        database.execute_sql("ANALYZE")
    return walks, boss_token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rate", type=float, default=250.0, help="paced phase: scans/s from all receivers")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, bench_database(args.database, tmp, "receiving") as url:
        walks, boss = setup(url, args.devices)
        note("floor set up; starting wavefloor serve")
        wavefloor = bench_scans.measure_scenario(url, tmp, "receiving", walks, boss, args.rate, RECEIVING)
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
    baseline = bench_scans.echo_scenario("receiving", walks, args.rate, RECEIVING)

    print(json.dumps({
        "benchmark": "receiving scans, 50 handhelds",
        "machine": machine(),
        "devices": args.devices, "database": args.database,
        **against_echo(wavefloor, baseline),
        "targets": {"ratio": "the picking scans' ratio (tests/bench/bench_scans.py, same machine)"},
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
