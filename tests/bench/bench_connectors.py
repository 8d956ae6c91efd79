"""A week of 20,000 Tmall orders pulled from the fake TOP platform over HTTP (tests/fakes/top.py),
with 25 orders modified during the pull and a rate-limit storm of fifteen calls (DESIGN section 11,
"connectors": each order once). Prints one JSON object: the pull's seconds, orders a second,
calls, rate-limited calls and seconds waited, and whether every order arrived exactly once.

Baseline, measured in the same run: the same days' pages read from the fake platform's store and
their JSON written and read back, without HTTP, signing or the database; what the pull takes
beyond it is its own (the calls over HTTP, parsing the trades, storing the orders).

    .venv/bin/python tests/bench/bench_connectors.py [--orders 20000] [--engine sqlite|postgres]

tests/test_connectors_sync.py runs the same week with fewer orders in the suite.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench.bench_scans import machine  # noqa: E402
from tests.bench.databases import bench_database  # noqa: E402

UTC = dt.timezone.utc


def week(top, orders: int, modify_at: int, storm: tuple[int, int], now: dt.datetime) -> dict:
    """Pull a week of ``orders`` trades from ``top`` into the database set up already; the
    buyers change 25 orders at the ``modify_at``-th search, the storm runs over searches
    ``storm``. Returns the figures and the checks."""
    from server.models import Order, Product, Shop
    from server.services.connectors import connections, pull
    from tests.fakes.top import CATALOG

    for sku, _, _, title, _ in CATALOG:
        Product.get_or_create(sku=sku, defaults={"name": title})
    Shop.create(code="TM-1", channel="tmall", name="天猫旗舰店")
    connections.connect("TM-1", app_key=top.app_key, secret=top.secret, session=top.session, endpoint=top.url,
                        seller_nick=top.seller_nick, push_stock=True)
    client = connections.client_for(connections.of_shop("TM-1"))
    start = now - dt.timedelta(days=7)
    tids = top.add_trades(orders, start.replace(tzinfo=UTC), (now - dt.timedelta(minutes=1)).replace(tzinfo=UTC),
                          seed=7)
    searches, modified, slept = [0], [], []

    def meanwhile(method, params):
        if method != "taobao.trades.sold.increment.get":
            return
        searches[0] += 1
        if searches[0] == modify_at:
            first_page = top.trades.window(params["start_modified"], params["end_modified"], 1, 100)[1]
            for trade in first_page[:25]:
                top.modify(trade["tid_str"])
                modified.append(trade["tid_str"])
        if searches[0] == storm[0]:
            top.storm(True)
        if searches[0] == storm[1]:
            top.storm(False)
    top.on_call(meanwhile)
    began = time.perf_counter()
    report = pull.pull("TM-1", "orders", client, now=now, since=start, sleep=slept.append)
    seconds = time.perf_counter() - began
    ids = [o.external_id for o in Order.select(Order.external_id).where(Order.shop == "TM-1")]
    again = pull.pull("TM-1", "orders", client, now=now + dt.timedelta(minutes=5), sleep=slept.append)
    final = [o.external_id for o in Order.select(Order.external_id).where(Order.shop == "TM-1")]
    return {"report": report, "again": again, "seconds": seconds, "searches": searches[0], "modified": modified,
            "tids": tids, "ids_after_first": ids, "ids_after_second": final, "slept": slept}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    os.environ.setdefault("WAVEFLOOR_CREDENTIALS_KEY", "bench-credentials-key")
    from server.db import init_database
    from server.models.base import utcnow
    from server.schema import create_all
    from tests.fakes.top import FakeTop, beijing

    with tempfile.TemporaryDirectory() as tmp, bench_database(args.engine, tmp, "connectors") as url:
        init_database(url)
        create_all()
        top = FakeTop().start()
        try:
            now = utcnow().replace(microsecond=0)
            # at 20,000 orders (about 200 searches): changes at the 40th search, the storm over the
            # 80th to the 95th; fewer orders, proportionally earlier (the storm still fifteen calls)
            modify_at = max(8, round(40 * args.orders / 20_000))
            run = week(top, args.orders, modify_at, (2 * modify_at, 2 * modify_at + 15), now)
            # the baseline: the same windows' pages fetched and parsed, nothing stored
            began = time.perf_counter()
            pages = 0
            for day in range(8):
                first = (now - dt.timedelta(days=7 - day)).replace(tzinfo=UTC)
                window = (beijing(first), beijing(first + dt.timedelta(days=1) - dt.timedelta(seconds=1)))
                page, total = 1, None
                while total is None or (page - 1) * 100 < total:
                    total, trades = top.trades.window(*window, page, 100)
                    json.loads(json.dumps(trades))
                    pages, page = pages + 1, page + 1
            baseline = time.perf_counter() - began
        finally:
            top.stop()
    report, tids = run["report"], run["tids"]
    first, final = run["ids_after_first"], run["ids_after_second"]
    print(json.dumps({
        "benchmark": "connectors: a week of orders pulled with changes and a rate-limit storm",
        "machine": machine(), "engine": args.engine, "orders": args.orders,
        "pull_seconds": round(run["seconds"], 2), "orders_per_s": round(len(first) / run["seconds"], 1),
        "searches": run["searches"], "rate_limited": report.rate_limited, "waited_s": round(report.waited_s, 1),
        "modified_during_pull": len(run["modified"]),
        "baseline_fetch_and_parse_only_s": round(baseline, 2), "baseline_pages": pages,
        "ratio_pull_to_fetch_only": round(run["seconds"] / baseline, 1) if baseline else None,
        "checks": {"stored_once": len(first) == len(set(first)),
                   "all_but_modified_after_first_pull": set(tids) - set(first) <= set(run["modified"]),
                   "every_order_after_second_pull": sorted(final) == sorted(tids),
                   "no_error": report.error == "" and report.stopped == ""},
        "target": "each order once (DESIGN section 11)",
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
