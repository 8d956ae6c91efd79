"""The nightly customer refresh over a year of orders: customers, RFM, tags, tag counts,
repurchase models and the due list (server/services/customers/derive.py refresh).

Data: ORDERS paid orders over 365 days from CUSTOMERS buyers (a long tail: most buy once), one or
two lines each from 500 SKUs, a tenth of the SKUs bought again every 20–40 days by their buyers,
a third of the orders with a coupon, 50 live-stream windows.

Baseline, measured in the same run: the customer totals alone (orders, units, money, first and
last paid time per channel and buyer) as one GROUP BY straight on the order lines, which is what
the refresh must read at the least. Prints one JSON object.

    .venv/bin/python tests/bench/bench_customers.py [--orders 200000] [--customers 50000] [--engine sqlite]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.databases import bench_database  # noqa: E402


def populate(orders: int, customers: int, rng: random.Random) -> None:
    from server.db import insert_rows
    from server.models import Order, OrderLine, Product
    from server.models.customers import LiveStream
    products = insert_rows(Product, [{"sku": f"SKU-{i:04d}", "name": f"商品{i}", "price_fen": 1000 + i * 10}
                                     for i in range(500)], returning=("id",))
    pids = [p[0] for p in products]
    start = dt.datetime(2025, 12, 1, 4)
    weights = [1 / (i + 1) ** 0.6 for i in range(customers)]
    buyers = rng.choices(range(customers), weights=weights, k=orders)
    rows, lines = [], []
    for n, buyer in enumerate(buyers):
        paid = start + dt.timedelta(days=rng.randrange(365), minutes=rng.randrange(1440))
        rows.append({"channel": "tmall", "shop": "tm-1", "external_id": f"E{n}", "status": "shipped",
                     "buyer_nick": f"buyer{buyer}", "receiver_phone": f"138{buyer:08d}", "receiver_name": "张三",
                     "paid_at": paid, "ordered_at": paid, "coupon_fen": 500 if rng.random() < 0.33 else 0})
    ids = []
    for chunk in range(0, len(rows), 5000):
        ids += [r[0] for r in insert_rows(Order, rows[chunk:chunk + 5000], returning=("id",))]
    for oid, buyer in zip(ids, buyers):
        for k in range(1 + (rng.random() < 0.4)):
            sku = (buyer * 7 + k) % 500
            lines.append({"order": oid, "external_line_id": str(k), "sku_code": f"SKU-{sku:04d}",
                          "product": pids[sku], "qty": 1 + rng.randrange(3), "price_fen": 1000, "paid_fen": 2500})
    for chunk in range(0, len(lines), 5000):
        insert_rows(OrderLine, lines[chunk:chunk + 5000])
    insert_rows(LiveStream, [{"title": f"live {i}", "starts_at": start + dt.timedelta(days=7 * i, hours=12),
                              "ends_at": start + dt.timedelta(days=7 * i, hours=14)} for i in range(50)])


def baseline() -> float:
    from peewee import fn
    from server.models import Order, OrderLine
    started = time.perf_counter()
    list(OrderLine.select(Order.channel, Order.buyer_nick, fn.COUNT(Order.id.distinct()), fn.SUM(OrderLine.qty),
                          fn.SUM(OrderLine.paid_fen), fn.MIN(Order.paid_at), fn.MAX(Order.paid_at))
         .join(Order).where((Order.status != "cancelled") & Order.paid_at.is_null(False)
                            & (OrderLine.refund_status != "refunded"))
         .group_by(Order.channel, Order.buyer_nick).tuples())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    from server.db import database, init_database
    from server.schema import create_all
    from server.services.customers import derive
    with tempfile.TemporaryDirectory() as folder, bench_database(args.engine, folder, "customers") as url:
        init_database(url)
        create_all()
        populate(args.orders, args.customers, random.Random(28))
        base = baseline()
        started = time.perf_counter()
        report = derive.refresh(dt.date(2026, 12, 1))
        elapsed = time.perf_counter() - started
        again = time.perf_counter()
        derive.refresh(dt.date(2026, 12, 1))
        second = time.perf_counter() - again
        database.obj.close_all()
    print(json.dumps({
        "bench": "customers_refresh", "engine": args.engine, "orders": args.orders, "customers": report["customers"],
        "cpus": os.cpu_count(), "seconds": round(elapsed, 2), "second_run_seconds": round(second, 2),
        "baseline_seconds": round(base, 2), "ratio": round(elapsed / base, 2) if base else None,
        "skus_modelled": report["skus_modelled"], "due": report["due"], "tags": report["tags"],
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
