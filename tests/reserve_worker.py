"""A process of greenlets that all try to reserve the same SKU at once (used by
tests/test_concurrency.py and tests/bench/bench_reservations.py).

usage: python tests/reserve_worker.py DB_URL SKU GREENLETS ATTEMPTS QTY START_AT
prints JSON {"reserved_units": n, "successes": n, "refusals": n, "errors": [...]}
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

from server.db import database, init_database  # noqa: E402
from server.models import Product, User  # noqa: E402
from server.services.errors import InsufficientStock  # noqa: E402
from server.services.stock import inventory  # noqa: E402


def main(url, sku, greenlets, attempts, qty, start_at):
    init_database(url, pool_size=12)
    with database.connection_context():
        product = Product.get(Product.sku == sku)
        actor = inventory.Actor(User.get(User.code == "u-picker").id)
    totals = {"reserved_units": 0, "successes": 0, "refusals": 0, "errors": []}

    def worker(n):
        for attempt in range(attempts):
            try:
                inventory.reserve_any(product.id, qty, actor=actor, ref=f"w{n}-{attempt}")
                totals["successes"] += 1
                totals["reserved_units"] += qty
            except InsufficientStock:
                totals["refusals"] += 1
            except Exception as exc:  # reported to the test, which fails on any
                totals["errors"].append(f"{type(exc).__name__}: {exc}")

    time.sleep(max(0.0, start_at - time.time()))
    gevent.joinall([gevent.spawn(worker, n) for n in range(greenlets)])
    database.obj.close_all()
    print(json.dumps(totals))


if __name__ == "__main__":
    url, sku, greenlets, attempts, qty, start_at = sys.argv[1:7]
    main(url, sku, int(greenlets), int(attempts), int(qty), float(start_at))
