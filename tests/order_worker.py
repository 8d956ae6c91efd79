"""A process of greenlets importing orders (review, routing, reservation) for
tests/test_orders_concurrency.py.

usage: python tests/order_worker.py DB_URL FIRST COUNT GREENLETS START_AT
prints JSON {"allocated": n, "backorder": n, "errors": [...]}
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

from server.channels.base import ParsedLine, ParsedOrder, ParseResult  # noqa: E402
from server.db import init_database  # noqa: E402
from server.services.orders import intake as order_import  # noqa: E402

SKUS = ("TS-01", "MG-01")
PROVINCES = ("浙江省", "广东省", "四川省")


def make(n: int) -> ParsedOrder:
    lines = [ParsedLine(f"O{n}-1", SKUS[n % 2], "x", 1 + n % 3, 100, 100, "none")]
    if n % 4 == 0:
        lines.append(ParsedLine(f"O{n}-2", SKUS[(n + 1) % 2], "y", 1, 100, 100, "none"))
    return ParsedOrder(channel="tmall", shop="race", external_id=f"O{n}", channel_status="paid", status="paid",
                       receiver_name="张三", receiver_phone="13800000000", receiver_province=PROVINCES[n % 3],
                       receiver_city="某市", receiver_address="某路1号", lines=lines, source="race")


def main(url, first, count, greenlets, start_at):
    init_database(url, pool_size=20)
    totals = {"allocated": 0, "backorder": 0, "held": 0, "created": 0, "errors": []}
    numbers = list(range(first, first + count))

    def worker(k):
        for n in numbers[k::greenlets]:
            try:
                report = order_import.import_parsed(ParseResult([make(n)]))
            except Exception as exc:  # reported to the test, which fails on any
                totals["errors"].append(f"O{n}: {type(exc).__name__}: {exc}")
                continue
            totals["errors"].extend(report.problems)
            for name in ("allocated", "backorder", "held", "created"):
                totals[name] += getattr(report, name)

    time.sleep(max(0.0, start_at - time.time()))
    gevent.joinall([gevent.spawn(worker, k) for k in range(greenlets)])
    print(json.dumps(totals))


if __name__ == "__main__":
    url, first, count, greenlets, start_at = sys.argv[1:6]
    main(url, int(first), int(count), int(greenlets), float(start_at))
