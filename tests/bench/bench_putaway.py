"""Putaway suggestions for 1,000 licence plates in a 2,000-location warehouse (issue 26: < 1 s).

Run: python tests/bench/bench_putaway.py [--database sqlite|postgres] [--plates 1000]
Prints one JSON object: the machine, the time of one pass suggesting every plate (reading the
warehouse's locations, pick faces and stock once), and the baseline measured in the same run:
the same suggestion asked one plate at a time, as a device's scan asks it (every location read
again for each plate), per plate and extrapolated to all of them.

The warehouse: 20 aisles of 50 m in 2 blocks; 400 pick locations, each the pick face of one SKU
(max 120 units, a random fill), and 1,600 reserve locations in 4 zones, a third of them holding
stock. Plates: 1,000 of the 400 SKUs, 10 to 80 units, half with an expiry date (FEFO).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench.databases import bench_database  # noqa: E402

AISLES, AISLE_M, PICKS, RESERVES, SKUS, ZONES = 20, 50.0, 400, 1600, 400, 4
ROUNDS = 5
TARGET_S = 1.0


def setup(url: str, plates: int, rng: random.Random):
    from server.db import init_database, insert_rows, write_transaction
    from server.models import Location, PickFace, Product, Quant, StockMove, Warehouse, Zone
    from server.schema import create_all
    from server.services.receiving.putaway import Plate

    init_database(url)
    create_all()
    with write_transaction():
        wh = Warehouse.create(code="B", name="bench", aisles=AISLES, aisle_length_m=AISLE_M, aisle_width_m=3.0,
                              blocks=2)
        zones = [Zone.create(warehouse=wh, code=f"Z{n}") for n in range(ZONES)]
        dock = Location.create(warehouse=wh, code="DOCK", kind="receiving", aisle=0, y_m=0.0)
        insert_rows(Product, [{"sku": f"S{n:04d}", "name": f"item {n}"} for n in range(SKUS)])
        products = [p for (p,) in Product.select(Product.id).order_by(Product.id).tuples()]
        rows = []
        for n in range(PICKS + RESERVES):
            kind = "pick" if n < PICKS else "reserve"
            aisle = n % AISLES
            rows.append({"warehouse": wh.id, "zone": zones[aisle * ZONES // AISLES].id, "code": f"L{n:05d}",
                         "kind": kind, "aisle": aisle, "y_m": round(1 + (n // AISLES) % 48 + rng.random(), 2),
                         "capacity_units": 0 if kind == "pick" else 500})
        insert_rows(Location, rows)
        locations = [(i, k) for i, k in Location.select(Location.id, Location.kind).where(
            Location.code != "DOCK").order_by(Location.id).tuples()]
        picks = [i for i, k in locations if k == "pick"]
        reserves = [i for i, k in locations if k == "reserve"]
        insert_rows(PickFace, [{"location": loc, "product": products[n], "max_qty": 120}
                               for n, loc in enumerate(picks)])
        stock = [{"product": products[n], "location": loc, "lot": "", "state": "available",
                  "qty": rng.randint(0, 110), "reserved": 0} for n, loc in enumerate(picks)]
        stock += [{"product": rng.choice(products), "location": loc, "lot": "", "state": "available",
                   "qty": rng.randint(1, 400), "reserved": 0} for loc in reserves if rng.random() < 1 / 3]
        stock = [row for row in stock if row["qty"]]
        insert_rows(Quant, stock)
        insert_rows(StockMove, [{"product": row["product"], "lot": "", "qty": row["qty"], "reserved": 0,
                                 "to_location": row["location"], "to_state": "available", "reason": "bench"}
                                for row in stock])
    if not url.startswith("sqlite"):
        from server.db import database
        database.execute_sql("ANALYZE")
    today = dt.date(2026, 12, 6)
    waiting = [Plate(n + 1, rng.choice(products), rng.randint(10, 80),
                     today + dt.timedelta(days=rng.randint(30, 700)) if rng.random() < 0.5 else None, dock.id)
               for n in range(plates)]
    return wh.id, waiting


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--plates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=26)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp, bench_database(args.database, tmp, "putaway") as url:
        warehouse, plates = setup(url, args.plates, rng)
        from server.db import database
        from server.services.receiving import putaway
        with database.connection_context():
            putaway.suggest_many(warehouse, plates[:10])  # warm the statements
            samples = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                answers = putaway.suggest_many(warehouse, plates)
                samples.append(time.perf_counter() - start)
            why = {}
            for answer in answers.values():
                why[answer.why] = why.get(answer.why, 0) + 1
            one_by_one = []
            for plate in plates[:50]:
                start = time.perf_counter()
                putaway.suggest_many(warehouse, [plate])
                one_by_one.append(time.perf_counter() - start)
    batch_s = statistics.median(samples)
    single_ms = 1000 * statistics.median(one_by_one)
    print(json.dumps({
        "benchmark": "putaway suggestions",
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "database": args.database,
        "warehouse": {"locations": PICKS + RESERVES, "pick_faces": PICKS, "reserve": RESERVES, "zones": ZONES,
                      "aisles": AISLES, "blocks": 2},
        "plates": len(plates),
        "one_pass": {"median_s": round(batch_s, 4), "min_s": round(min(samples), 4), "rounds": ROUNDS,
                     "ms_per_plate": round(1000 * batch_s / len(plates), 4)},
        "suggested": why,
        "baseline": "the same suggestion one plate at a time (each reads the warehouse again), 50 plates",
        "baseline_one_by_one": {"ms_per_plate": round(single_ms, 3),
                                "extrapolated_s": round(single_ms * len(plates) / 1000, 2)},
        "ratio_one_pass_to_one_by_one": round(batch_s / (single_ms * len(plates) / 1000), 4),
        "target_s": TARGET_S,
        "within_target": batch_s < TARGET_S,
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
