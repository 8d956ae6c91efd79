"""The sales dashboard over 1,000,000 order lines must answer in under 300 ms.

Data: two years of orders (so the trend has last year's line), 3 lines on average each, 5 shops
on 3 channels, 31 provinces, 2,000 SKUs. The dashboard is ``server/services/reports/sales.trend``
for the last 365 days by day with last year's line (read from the daily aggregate
``report_sales_day``, server/services/reports/facts.py), once for everything and once narrowed
to a region and a shop; each timed as the median of several runs.

Baseline, measured in the same run: the same figures (orders, lines, units, revenue, refunds a
day for this year and last year) computed straight from the raw order lines with one GROUP BY
query each, as a report without the aggregate would. Also measured: the full build of the
aggregate, an incremental refresh after 1,000 orders spread over the two years change, another
after 1,000 orders of the last three days change (and that the aggregate is exact after them),
and a refresh that finds nothing to do (the check a page makes). Prints one JSON
object.

    .venv/bin/python tests/bench/bench_dashboard.py [--lines 1000000] [--engine sqlite|postgres]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.db import database, init_database, sql, sql_many  # noqa: E402
from server.schema import create_all  # noqa: E402
from server.services.reports import facts, sales  # noqa: E402
from server.services.reports import filters as flt  # noqa: E402
from tests.bench.databases import bench_database  # noqa: E402

LIMIT_MS = 300.0
ZONE = "Asia/Shanghai"
TODAY = dt.date(2026, 11, 30)
PROVINCES = ("北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
             "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省",
             "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省",
             "青海省", "宁夏回族自治区", "新疆维吾尔自治区")
SHOPS = (("tm-flagship", "tmall"), ("tm-outlet", "tmall"), ("tb-1", "top"), ("jd-1", "jd"), ("dy-1", "douyin"))


def generate(lines: int, seed: int = 28) -> int:
    """Orders and lines straight into the tables (the bench is about reading them)."""
    rng = random.Random(seed)
    days = 730
    start = dt.datetime.combine(TODAY - dt.timedelta(days=days - 1), dt.time()) - dt.timedelta(hours=8)
    stamp = dt.datetime(2026, 11, 30, 12)
    orders, order_rows, line_rows = 0, [], []
    made = 0
    while made < lines:
        orders += 1
        shop, channel = SHOPS[rng.randrange(len(SHOPS))]
        # more sales lately, and promotion peaks
        day = min(days - 1, int(days * rng.random() ** 0.8))
        paid = start + dt.timedelta(days=day, seconds=rng.randrange(86400))
        cancelled = rng.random() < 0.03
        order_rows.append((orders, channel, shop, f"E{orders}", "cancelled" if cancelled else "shipped",
                           PROVINCES[int(len(PROVINCES) * rng.random() ** 1.5)], paid, stamp))
        for k in range(min(lines - made, rng.choice((1, 1, 2, 3, 4, 5, 5)))):
            made += 1
            qty = rng.choice((1, 1, 1, 2, 3))
            price = rng.randrange(990, 29900, 100)
            line_rows.append((made, orders, f"L{k}", f"SKU-{rng.randrange(2000):04d}", qty, price * qty,
                              price * qty - rng.choice((0, 0, 500, 1000)), price if rng.random() < 0.02 else 0))
        if len(line_rows) >= 50000:
            _flush(order_rows, line_rows)
    _flush(order_rows, line_rows)
    if not database.obj.__class__.__name__.lower().startswith("sqlite"):
        sql("SELECT setval(pg_get_serial_sequence('\"order\"', 'id'), (SELECT MAX(id) FROM \"order\"))")
        sql("SELECT setval(pg_get_serial_sequence('order_line', 'id'), (SELECT MAX(id) FROM order_line))")
        sql('ANALYZE "order"')
        sql("ANALYZE order_line")
    return orders


def _flush(order_rows, line_rows):
    with database.atomic():
        sql_many('INSERT INTO "order" (id, channel, shop, external_id, status, receiver_province, paid_at, updated_at, '
                 "channel_status, fingerprint, buyer_nick, buyer_message, seller_memo, seller_flag, receiver_name, "
                 "receiver_phone, receiver_city, receiver_district, receiver_address, receiver_zip, goods_fen, "
                 "freight_fen, discount_fen, coupon_fen, paid_fen, presale, presale_final_paid, priority, "
                 "hold_reasons, carrier, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '', '', '', '', 0, "
                 "'', '', '', '', '', '', 0, 0, 0, 0, 0, false, false, 0, '', '', '', ?)",
                 [row + (row[-1],) for row in order_rows])
        sql_many("INSERT INTO order_line (id, order_id, external_line_id, sku_code, qty, price_fen, paid_fen, refund_fen, "
                 "title, refund_status, returned_qty, reserved_qty, picked_qty, short_qty) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 'none', 0, 0, 0, 0)", line_rows)
    order_rows.clear()
    line_rows.clear()


def baseline(f: flt.Filters) -> dict:
    """The dashboard's figures straight from the lines: one grouped query for this year, one for last year's."""
    out = {}
    for since, until in ((f.since, f.until), (f.since - sales.WEEK_BACK, f.until - sales.WEEK_BACK)):
        g = f.shifted(since, until)
        where, params = flt.where_orders(g)
        day = flt.day_sql("o.paid_at", ZONE)
        out[since] = {str(d)[:10]: rest for d, *rest in sql(
            f"SELECT {day}, COUNT(DISTINCT o.id), COUNT(*), SUM(l.qty), SUM(l.paid_fen), SUM(l.refund_fen) "
            f'FROM order_line l JOIN "order" o ON o.id = l.order_id WHERE {where} GROUP BY {day}', *params).fetchall()}
    return out


def agrees(result: dict, raw: dict, f: flt.Filters) -> bool:
    """Every day's figures and last year's revenue on the dashboard equal the raw lines' figures."""
    zero = (0, 0, 0, 0, 0)
    this, last = raw[f.since], raw[f.since - sales.WEEK_BACK]
    for row in result["rows"]:
        day = dt.date.fromisoformat(row["period"])
        want = tuple(int(v or 0) for v in this.get(row["period"], zero))
        back = tuple(int(v or 0) for v in last.get((day - sales.WEEK_BACK).isoformat(), zero))
        if (row["orders"], row["lines"], row["units"], row["revenue_fen"], row["refund_fen"]) != want:
            return False
        if row["last_year_revenue_fen"] != back[3] or row["last_year_orders"] != back[0]:
            return False
    return True


def timed(work, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, bench_database(args.engine, folder, "dashboard") as url:
        init_database(url)
        create_all()
        began = time.perf_counter()
        orders = generate(args.lines)
        load_s = time.perf_counter() - began
        began = time.perf_counter()
        facts.refresh(ZONE, full=True)
        build_s = time.perf_counter() - began
        known = [p for (p,) in sql("SELECT DISTINCT province FROM report_sales_day")]
        everything = flt.make(TODAY - dt.timedelta(days=364), TODAY, zone=ZONE, known_provinces=known)
        narrowed = flt.make(TODAY - dt.timedelta(days=364), TODAY, zone=ZONE, region="east", shop="tm-flagship",
                            known_provinces=known)
        dashboard_ms, result = timed(lambda: sales.trend(everything, "day"), args.runs)
        filtered_ms, narrow = timed(lambda: sales.trend(narrowed, "day"), args.runs)
        weekly_ms, _ = timed(lambda: sales.trend(everything, "week"), args.runs)
        baseline_ms, raw = timed(lambda: baseline(everything), max(3, args.runs // 2))
        baseline_filtered_ms, raw_narrow = timed(lambda: baseline(narrowed), max(3, args.runs // 2))
        same = agrees(result, raw, everything) and agrees(narrow, raw_narrow, narrowed)
        check_ms, _ = timed(lambda: facts.refresh(ZONE), 3)
        # the usual case: the changes are recent (today's cancellations and edits, refunds of last week)
        recent = [oid for (oid,) in sql('SELECT id FROM "order" WHERE paid_at >= ? ORDER BY id',
                                        dt.datetime.combine(TODAY - dt.timedelta(days=2), dt.time())
                                        - dt.timedelta(hours=8)).fetchall()][:1000]
        with database.atomic():
            now = dt.datetime.utcnow()
            for oid in recent:
                sql("UPDATE order_line SET refund_fen = refund_fen + 1 WHERE order_id = ?", oid)
                sql('UPDATE "order" SET updated_at = ? WHERE id = ?', now, oid)
        began = time.perf_counter()
        recent_done = facts.refresh(ZONE)
        recent_ms = (time.perf_counter() - began) * 1000
        # 1,000 orders change (a line's amount, a cancellation): the refresh recomputes their days
        changed = [i * (orders // 1000) + 1 for i in range(1000)]
        with database.atomic():
            now = dt.datetime.utcnow()
            for i, oid in enumerate(changed):
                if i % 10 == 0:
                    sql("UPDATE \"order\" SET status = 'cancelled', updated_at = ? WHERE id = ?", now, oid)
                else:
                    sql("UPDATE order_line SET paid_fen = paid_fen + 1 WHERE order_id = ?", oid)
                    sql('UPDATE "order" SET updated_at = ? WHERE id = ?', now, oid)
        began = time.perf_counter()
        incremental = facts.refresh(ZONE)
        incremental_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        exact = facts.verify(ZONE)["exact"]
        verify_s = time.perf_counter() - began
        rows_kept = sql("SELECT COUNT(*) FROM report_sales_day").fetchone()[0]
        database.obj.close_all()
    print(json.dumps({
        "bench": "dashboard", "engine": args.engine, "order_lines": args.lines, "orders": orders,
        "aggregate_rows": rows_kept, "load_s": round(load_s, 1),
        "dashboard_ms": round(dashboard_ms, 1), "dashboard_filtered_ms": round(filtered_ms, 1),
        "dashboard_weekly_ms": round(weekly_ms, 1),
        "baseline_raw_lines_ms": round(baseline_ms, 1), "baseline_filtered_ms": round(baseline_filtered_ms, 1),
        "ratio_baseline_over_dashboard": round(baseline_ms / dashboard_ms, 1),
        "ratio_filtered": round(baseline_filtered_ms / filtered_ms, 1),
        "limit_ms": LIMIT_MS, "within_limit": dashboard_ms < LIMIT_MS and filtered_ms < LIMIT_MS,
        "figures_equal_raw": same,
        "aggregate_full_build_s": round(build_s, 2), "refresh_nothing_changed_ms": round(check_ms, 1),
        "refresh_after_1000_orders_changed_ms": round(incremental_ms, 1), "days_recomputed": incremental["days"],
        "refresh_after_1000_recent_orders_changed_ms": round(recent_ms, 1), "recent_days_recomputed": recent_done["days"],
        "exact_after_refresh": exact, "verify_s": round(verify_s, 2),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
