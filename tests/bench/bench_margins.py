"""Margins for a day of 50,000 orders (issue 28: under 10 s).

The day: 50,000 Tmall orders paid on one China day, 1 to 3 lines each (about 100,000 lines) over
500 SKUs in 12 categories and 4 shops, with shop discounts, 天猫卡券 and 集分宝 on some, postage
on some; a commission rate per shop and category and a payment fee per shop; every order shipped
(each SKU has its moving average unit cost in the warehouse, set up in bulk, not timed).

Timed, ours: ``lines.refresh_orders(the day's orders, shipping=...)`` — every line's split (分摊)
of discounts, subsidies, postage, commission and payment fee to the fen, VAT, refunds, its COGS
fixed at the SKU's moving average unit cost (as each scan-out does), revenue and margin, written
to line_money — then ``margin.margin_by`` for the day by SKU, shop, channel, day and order
(50,000 rows), and the day's totals. Reported beside it, not in ``seconds``: the nightly
``refresh_days`` of the same day again (every row there, its cost kept).

Baseline, measured in the same run on the same database: the same grouped sums (units, list
value, paid) straight on the raw order lines of the day by SKU, shop and order, with no fee split:
what merely reading the day once costs on this engine. ``ratio`` is ours / baseline. Prints one
JSON object.

    .venv/bin/python tests/bench/bench_margins.py [--orders 50000] [--database sqlite|postgres]
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench.databases import bench_database  # noqa: E402

LIMIT_S = 10.0
DAY = dt.date(2026, 11, 11)
SHOPS = ("tm-flagship", "tm-outlet", "tb-store", "tm-kids")
CATEGORIES = ("服装", "鞋靴", "箱包", "配饰", "家居", "厨具", "母婴", "玩具", "美妆", "个护", "食品", "数码")


def build(orders: int, seed: int = 28) -> dict:
    """The day's orders, lines, products, rates and warehouse; every line shipped at its SKU's cost."""
    from server.db import insert_rows, write_transaction
    from server.models import Location, Order, OrderLine, Product, UnitCost, Warehouse
    from server.services.money import rates
    rng = random.Random(seed)
    wh = Warehouse.create(code="WH1", name="主仓")
    Location.create(warehouse=wh, code="WH1-SHIPPED", kind="shipped")
    products = [{"sku": f"SKU-{n:04d}", "name": f"商品 {n}", "category": CATEGORIES[n % len(CATEGORIES)],
                 "vat_rate_bp": (1300, 1300, 900, 600, 0)[n % 5], "price_fen": rng.randrange(990, 39900, 100),
                 "cost_fen": 0, "weight_g": rng.randrange(50, 3000)} for n in range(500)]
    for p in products:
        p["cost_fen"] = p["price_fen"] * rng.randrange(30, 70) // 100
    ids = [row[0] for row in insert_rows(Product, products, returning=("id",))]
    for shop in SHOPS:
        rates.set_fee_rate("payment", 60, shop=shop, refundable=False)
        for n, category in enumerate(CATEGORIES):
            rates.set_fee_rate("commission", 200 + 50 * (n % 7), shop=shop, category=category)
    start = dt.datetime.combine(DAY, dt.time()) - dt.timedelta(hours=8)
    order_rows, line_specs = [], []
    for n in range(orders):
        picks = [rng.randrange(len(products)) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
        qtys = [rng.choice((1, 1, 1, 2, 3)) for _ in picks]
        listed = sum(products[i]["price_fen"] * q for i, q in zip(picks, qtys))
        shop_off = rng.choice((0, 0, 500, 1000, 2000)) if listed > 3000 else 0
        coupon = rng.choice((0, 0, 0, 300, 500)) if listed - shop_off > 1000 else 0
        points = rng.choice((0, 0, 0, 0, 99))
        freight = rng.choice((0, 0, 0, 600, 1000))
        paid = listed - shop_off - coupon - points + freight
        order_rows.append({"channel": "tmall", "shop": SHOPS[n % len(SHOPS)], "external_id": f"T{n:08d}",
                           "status": "shipped", "paid_at": start + dt.timedelta(seconds=rng.randrange(86400)),
                           "paid_fen": paid, "freight_fen": freight, "coupon_fen": coupon, "discount_fen": points,
                           "goods_fen": listed - shop_off, "receiver_province": rng.choice(("浙江省", "广东省", "江苏省")),
                           "warehouse": wh.id, "carrier": "yto"})
        line_specs.append(list(zip(picks, qtys)))
    with write_transaction():
        order_ids = [row[0] for row in insert_rows(Order, order_rows, returning=("id",))]
        insert_rows(OrderLine, [{"order": oid, "external_line_id": f"{oid}-{k}", "sku_code": products[i]["sku"],
                                 "product": ids[i], "qty": q, "price_fen": products[i]["price_fen"]}
                                for oid, spec in zip(order_ids, line_specs) for k, (i, q) in enumerate(spec)])
    # the moving average unit cost of each SKU in the warehouse, as the receipts left it
    insert_rows(UnitCost, [{"product": pid, "warehouse": wh.id, "unit_cost_fen": p["cost_fen"]}
                           for pid, p in zip(ids, products)])
    return {"orders": orders, "lines": sum(len(s) for s in line_specs), "warehouse": wh.id,
            "shipped_at": start + dt.timedelta(days=1)}


BASELINE_SQL = (
    'SELECT l.sku_code, SUM(l.qty), SUM(l.qty * l.price_fen), SUM(o.paid_fen) FROM order_line l '
    'JOIN "order" o ON o.id = l.order_id WHERE o.paid_at >= ? AND o.paid_at < ? GROUP BY l.sku_code',
    'SELECT o.shop, SUM(l.qty), SUM(l.qty * l.price_fen), SUM(o.paid_fen) FROM order_line l '
    'JOIN "order" o ON o.id = l.order_id WHERE o.paid_at >= ? AND o.paid_at < ? GROUP BY o.shop',
    'SELECT o.id, o.external_id, SUM(l.qty), SUM(l.qty * l.price_fen), MAX(o.paid_fen) FROM order_line l '
    'JOIN "order" o ON o.id = l.order_id WHERE o.paid_at >= ? AND o.paid_at < ? GROUP BY o.id, o.external_id '
    'ORDER BY o.id',
)


def baseline() -> float:
    from server.db import sql
    from server.services.money.lines import day_bounds
    first, end = day_bounds(DAY, DAY)
    began = time.perf_counter()
    for statement in BASELINE_SQL:
        sql(statement, first, end).fetchall()
    return time.perf_counter() - began


def ours(size: dict) -> tuple[float, dict]:
    from server.services.money import lines, margin
    steps = {}
    began, cpu = time.perf_counter(), time.process_time()
    ids = lines.orders_of_days(DAY, DAY)
    shipping = {order_id: (size["warehouse"], size["shipped_at"]) for order_id in ids}
    written = lines.refresh_orders(ids, shipping=shipping)
    steps["money_and_cogs_s"] = round(time.perf_counter() - began, 3)
    mark = time.perf_counter()
    filters = {"first": DAY, "last": DAY}
    counts = {group: len(margin.margin_by(group, filters)) for group in ("sku", "shop", "channel", "day", "order")}
    totals = margin.totals(filters)
    steps["margins_s"] = round(time.perf_counter() - mark, 3)
    seconds = time.perf_counter() - began
    steps["cpu_s (this process)"] = round(time.process_time() - cpu, 3)
    mark = time.perf_counter()
    again = lines.refresh_days(DAY)          # the nightly refresh of the same day: every row there already
    steps["refresh_again_s (not in seconds)"] = round(time.perf_counter() - mark, 3)
    assert again["lines"] == written and margin.totals(filters)["margin_fen"] == totals["margin_fen"]
    return seconds, {"steps": steps, "lines_written": written, "groups": counts, "margin_fen": totals["margin_fen"],
                     "revenue_fen": totals["revenue_fen"], "shipped_lines": totals["shipped_lines"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=50000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    from server.db import init_database
    from server.schema import create_all
    with tempfile.TemporaryDirectory() as folder, bench_database(args.database, folder, "margins") as url:
        init_database(url)
        create_all()
        began = time.perf_counter()
        size = build(args.orders)
        setup_s = time.perf_counter() - began
        base = min(baseline() for _ in range(3))
        seconds, detail = ours(size)
        result = {"bench": "margins_day", "database": args.database, "orders": size["orders"], "lines": size["lines"], "setup_s": round(setup_s, 2),
                  "seconds": round(seconds, 3), "limit_s": LIMIT_S, "passed": seconds < LIMIT_S,
                  "baseline_s": round(base, 3), "baseline": "grouped sums of the raw order lines of the day "
                  "(by SKU, shop, order), no fee split", "ratio": round(seconds / base, 2) if base else None,
                  "lines_per_s": round(size["lines"] / seconds), "load_average": os.getloadavg(),
                  "cpus": os.cpu_count(), **detail}
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
