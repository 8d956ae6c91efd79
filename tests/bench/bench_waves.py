"""Wave planning (DESIGN section 11: 10,000 open orders -> waves, batches and routes in < 10 s;
travel per line >= 20 % below first-come-first-served batches).

Run: python tests/bench/bench_waves.py [--orders 10000]
On a fresh SQLite file: the demo warehouse WH-HZ, then allocated orders over its SKUs (written in
bulk: this is set-up, not what is measured), then the real service plans them into waves and
releases every wave into tasks and routes. Prints one JSON object: the machine, the seconds, and
the metres walked per picked line for the plan against first-come-first-served batches of the
same size (the baseline, computed in the same run by the same exact router).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.db import init_database, write_transaction  # noqa: E402
from server.models import (Allocation, Location, Order, OrderLine, PickLine, PickTask, Product,  # noqa: E402
                           Quant, Warehouse)
from server.schema import create_all  # noqa: E402
from server.services import demo  # noqa: E402
from server.services.stock import inventory
from server.services.waves import planning as waves

# share of orders per kind: one unit, one SKU several units, a few items (cart), many items (put wall)
MIX = (("single_unit", 0.45), ("single_sku_multi", 0.12), ("cluster", 0.38), ("batch", 0.05))
SAME_CATEGORY = 0.6  # chance that another item of a basket is a neighbour of the first (same category)


def pick_faces(warehouse):
    """Each SKU's pick face in the warehouse (the demo stocks one per SKU)."""
    rows = (Quant.select(Quant.product, Location.id).join(Location)
            .where((Location.warehouse == warehouse) & (Location.kind == "pick") & (Quant.state == "available"))
            .order_by(Quant.product, Location.id).tuples())
    faces = {}
    for product, location in rows:
        faces.setdefault(product, location)
    return faces


def baskets(count, products, rng):
    """(kind, {product: qty}) per order. Popularity is skewed (a few SKUs sell most); a second item
    is often from the same category, whose SKUs sit next to each other on the shelves."""
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(products))]
    by_popularity = products[:]
    rng.shuffle(by_popularity)

    def popular():
        return rng.choices(by_popularity, weights)[0]

    def neighbour(product):
        index = products.index(product) + rng.randint(-6, 6)
        return products[min(max(index, 0), len(products) - 1)]

    kinds = rng.choices([k for k, _ in MIX], [w for _, w in MIX], k=count)
    for kind in kinds:
        first = popular()
        if kind == "single_unit":
            yield kind, {first: 1}
        elif kind == "single_sku_multi":
            yield kind, {first: rng.choice([2, 2, 3, 4])}
        else:
            skus = rng.choice([2, 2, 2, 3, 3, 4]) if kind == "cluster" else rng.randint(2, 5)
            basket = {first: 1}
            while len(basket) < skus:
                other = neighbour(first) if rng.random() < SAME_CATEGORY else popular()
                basket.setdefault(other, 1)
            if kind == "batch":
                while sum(basket.values()) <= 6:
                    basket[rng.choice(list(basket))] += rng.randint(1, 3)
            else:
                while sum(basket.values()) < min(6, len(basket) + rng.choice([0, 0, 1, 2])):
                    basket[rng.choice(list(basket))] += 1
            yield kind, basket


def allocated_orders(warehouse, count, rng):
    products = [p.id for p in Product.select(Product.id).order_by(Product.sku)]
    faces = pick_faces(warehouse)
    products = [p for p in products if p in faces]
    start = dt.datetime(2026, 11, 11)
    kinds = {}
    with write_transaction():
        orders = []
        for n in range(count):
            paid = start + dt.timedelta(seconds=5 * n + rng.randint(0, 4))
            orders.append({"channel": "tmall", "shop": "bench", "external_id": f"BW{n:06d}", "status": "allocated",
                           "warehouse": warehouse.id, "carrier": "ZTO", "receiver_province": "浙江省",
                           "paid_at": paid, "ordered_at": paid, "ship_by": paid + dt.timedelta(hours=48),
                           "seller_flag": rng.choice([0, 0, 0, 0, 1, 2])})
        for chunk in range(0, count, 500):
            Order.insert_many(orders[chunk:chunk + 500]).execute()
        ids = [i for (i,) in Order.select(Order.id).where(Order.shop == "bench").order_by(Order.id).tuples()]
        lines = []
        for order_id, (kind, basket) in zip(ids, baskets(count, products, rng)):
            kinds[kind] = kinds.get(kind, 0) + 1
            for number, (product, qty) in enumerate(basket.items()):
                lines.append({"order": order_id, "external_line_id": f"{order_id}-{number}", "sku_code": str(product),
                              "product": product, "qty": qty, "reserved_qty": qty})
        for chunk in range(0, len(lines), 500):
            OrderLine.insert_many(lines[chunk:chunk + 500]).execute()
        allocations = [{"line": line_id, "location": faces[product], "qty": qty} for line_id, product, qty in
                       OrderLine.select(OrderLine.id, OrderLine.product, OrderLine.qty)
                       .join(Order).where(Order.shop == "bench").tuples()]
        for chunk in range(0, len(allocations), 500):
            Allocation.insert_many(allocations[chunk:chunk + 500]).execute()
    return kinds, len(allocations)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1111)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = tempfile.mkdtemp(prefix="wf-bench-waves-")
    init_database(f"sqlite:///{folder}/bench.db")
    create_all()
    demo.load()
    warehouse = Warehouse.get(Warehouse.code == "WH-HZ")
    kinds, pick_lines = allocated_orders(warehouse, args.orders, rng)
    actor = inventory.system_actor()

    started = time.perf_counter()
    planned = waves.plan_waves(warehouse, actor=actor)
    plan_s = time.perf_counter() - started
    for wave in planned:
        waves.release_wave(wave.id, actor)
    total_s = time.perf_counter() - started

    planned_m = sum(w.planned_metres for w in planned)
    fcfs_m = sum(w.fcfs_metres for w in planned)
    by_kind = {}
    for wave in planned:
        row = by_kind.setdefault(wave.strategy, {"waves": 0, "orders": 0, "planned_m": 0.0, "fcfs_m": 0.0})
        row["waves"] += 1
        row["orders"] += wave.orders_count
        row["planned_m"] += wave.planned_metres
        row["fcfs_m"] += wave.fcfs_metres
    for row in by_kind.values():
        row["ratio"] = round(row["planned_m"] / row["fcfs_m"], 4) if row["fcfs_m"] else None
        row["planned_m"], row["fcfs_m"] = round(row["planned_m"]), round(row["fcfs_m"])
    released_m = sum(m for (m,) in PickTask.select(PickTask.metres).tuples())
    print(json.dumps({
        "bench": "wave planning",
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "database": "sqlite",
        "layout": f"WH-HZ demo: {warehouse.aisles} aisles x {warehouse.aisle_length_m:g} m",
        "orders": args.orders, "order_kinds": kinds, "pick_lines": pick_lines,
        "waves": len(planned), "tasks": PickTask.select().count(), "task_lines": PickLine.select().count(),
        "seconds": {"plan": round(plan_s, 2), "release": round(total_s - plan_s, 2), "total": round(total_s, 2),
                    "target": 10.0},
        "baseline": "first-come-first-served batches of the same capacity, same exact router",
        "metres": {"planned": round(planned_m), "fcfs": round(fcfs_m), "released_tasks": round(released_m)},
        "metres_per_picked_line": {"planned": round(planned_m / pick_lines, 3),
                                   "fcfs": round(fcfs_m / pick_lines, 3)},
        "ratio_to_fcfs": round(planned_m / fcfs_m, 4),
        "less_walking_pct": round(100 * (1 - planned_m / fcfs_m), 1),
        "target_less_walking_pct": 20.0,
        "by_strategy": by_kind,
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
