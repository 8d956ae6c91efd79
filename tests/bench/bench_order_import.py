"""Import 100,000 Tmall export lines end to end (parse, store, review, route, reserve) and
re-import them (which must change nothing). Prints one JSON object.

Baseline, measured in the same run: parsing alone (the channel adapter without the database).

    .venv/bin/python tests/bench/bench_order_import.py [--lines 100000] [--engine sqlite|postgresql]
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(__file__))

import psycopg  # noqa: E402
from bench_parse_tmall import PRODUCTS, generate  # noqa: E402

from server.channels import get_adapter  # noqa: E402
from server.db import database, init_database  # noqa: E402
from server.models import Location, Order, OrderLine, Product, Warehouse  # noqa: E402
from server.schema import create_all  # noqa: E402
from server.services.orders import intake as order_import
from server.services.stock import inventory  # noqa: E402

PG_ADMIN = os.environ.get("WAVEFLOOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def prepare(url: str) -> None:
    init_database(url)
    create_all()
    actor = inventory.system_actor()
    for code in ("WH-HZ", "WH-SZ"):
        wh = Warehouse.create(code=code, name=code)
        loc = Location.create(warehouse=wh, code=f"{code}-A1", kind="pick")
        for sku, name, price in PRODUCTS:
            product = Product.get_or_create(sku=sku, defaults={"name": name, "price_fen": price})[0]
            inventory.receive(product, loc, 1_000_000, actor=actor)


def run(url: str, lines: int, directory: str) -> dict:
    orders_csv, items_csv, _ = generate(directory, lines)
    start = time.perf_counter()
    get_adapter("tmall_csv").parse([orders_csv, items_csv])
    parse_s = time.perf_counter() - start
    prepare(url)
    start = time.perf_counter()
    first = order_import.import_files("tmall", [orders_csv, items_csv])
    import_s = time.perf_counter() - start
    start = time.perf_counter()
    second = order_import.import_files("tmall", [orders_csv, items_csv])
    reimport_s = time.perf_counter() - start
    result = {
        "lines": lines, "orders": Order.select().count(), "order_lines": OrderLine.select().count(),
        "import_s": round(import_s, 2), "lines_per_s": round(lines / import_s),
        "reimport_s": round(reimport_s, 2),
        "reimport_changed": second.created + second.updated,
        "outcome": {k: v for k, v in first.as_dict().items() if k != "problems"},
        "problems": len(first.problems),
        "baseline_parse_only_s": round(parse_s, 2), "ratio_import_to_parse": round(import_s / parse_s, 2),
        "audit_differences": len(inventory.audit()),
    }
    database.obj.close_all()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    out = {"benchmark": "order_import", "engine": args.engine,
           "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
           "target": "100,000 lines in < 20 s; re-import changes nothing"}
    with tempfile.TemporaryDirectory() as tmp:
        if args.engine == "sqlite":
            out.update(run(f"sqlite:///{tmp}/bench.db", args.lines, tmp))
        else:
            name = f"wf_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                out.update(run(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, args.lines, tmp))
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
