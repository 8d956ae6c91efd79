"""Reservations per second on SQLite and PostgreSQL, and oversold units under contention.

Baseline (same run, same database): the naive read-then-write reservation most systems do
(SELECT the free quantity, then UPDATE it), which is what oversells under concurrency.
Prints one JSON object.  usage: python tests/bench/bench_reservations.py
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import psycopg  # noqa: E402

from server.db import database, init_database, write_transaction  # noqa: E402
from server.models import Location, Product, Quant, User, Warehouse  # noqa: E402
from server.schema import create_all  # noqa: E402
from server.services import auth  # noqa: E402
from server.services.stock import inventory

PG_ADMIN = os.environ.get("WAVEFLOOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SEQUENTIAL = 2000
PROCESSES, GREENLETS, ATTEMPTS = 4, 50, 50  # 10,000 concurrent attempts
UNITS = 5000


def setup(url: str, units: int) -> None:
    init_database(url)
    create_all()
    auth.add_user("u-picker", "bench", ["picker"])
    wh = Warehouse.create(code="B", name="bench")
    loc = Location.create(warehouse=wh, code="B-01", kind="pick")
    product = Product.create(sku="BENCH", name="bench")
    inventory.receive(product, loc, units, actor=inventory.system_actor())


def guarded(n: int) -> float:
    product, loc = Product.get(Product.sku == "BENCH"), Location.get(Location.code == "B-01")
    actor = inventory.Actor(User.get(User.code == "u-picker").id)
    start = time.perf_counter()
    for _ in range(n):
        inventory.reserve(product.id, loc.id, 1, actor=actor)
    return n / (time.perf_counter() - start)


def naive(n: int) -> float:
    quant = Quant.get()
    start = time.perf_counter()
    for _ in range(n):
        with write_transaction():
            qty, reserved = Quant.select(Quant.qty, Quant.reserved).where(Quant.id == quant.id).tuples().get()
            if qty - reserved >= 1:
                Quant.update(reserved=reserved + 1).where(Quant.id == quant.id).execute()
    return n / (time.perf_counter() - start)


def contended(url: str) -> dict:
    database.obj.close_all()
    start_at = time.time() + 2.0
    worker = os.path.join(ROOT, "tests", "reserve_worker.py")
    env = dict(os.environ, PYTHONPATH=ROOT)
    procs = [subprocess.Popen([sys.executable, worker, url, "BENCH", str(GREENLETS), str(ATTEMPTS), "1",
                               str(start_at)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for _ in range(PROCESSES)]
    results = [json.loads(p.communicate(timeout=600)[0].decode().strip().splitlines()[-1]) for p in procs]
    seconds = time.time() - start_at
    init_database(url)
    quant = Quant.get()
    claimed = sum(r["reserved_units"] for r in results)
    return {"attempts": PROCESSES * GREENLETS * ATTEMPTS, "units": quant.qty,
            "units_reserved_in_db": quant.reserved, "units_claimed_by_workers": claimed,
            "oversold_units": max(0, quant.reserved - quant.qty) + max(0, claimed - quant.qty),
            "errors": sum(len(r["errors"]) for r in results), "seconds": round(seconds, 2),
            "attempts_per_s": round(PROCESSES * GREENLETS * ATTEMPTS / seconds, 1),
            "audit_differences": len(inventory.audit())}


def run_engine(name: str, url: str) -> dict:
    setup(url, SEQUENTIAL * 2 + 10)
    rate = guarded(SEQUENTIAL)
    baseline = naive(SEQUENTIAL)
    database.obj.close_all()
    if name == "sqlite":
        url2 = url.replace(".db", "-contended.db")
    else:
        url2 = url + "_c"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{url2.rsplit("/", 1)[1]}"')
    setup(url2, UNITS)
    return {"guarded_reservations_per_s": round(rate, 1), "baseline_naive_read_then_write_per_s": round(baseline, 1),
            "ratio": round(rate / baseline, 3), "contended": contended(url2)}


def main() -> None:
    results = {"benchmark": "reservations",
               "machine": {"platform": platform.platform(), "python": platform.python_version(),
                           "cpus": os.cpu_count()}}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run_engine("sqlite", f"sqlite:///{tmp}/bench.db")
    name = f"wf_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        results["postgresql"] = run_engine("postgresql", f"{base}/{name}")
    finally:
        database.obj.close_all()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_c" WITH (FORCE)')
    print(json.dumps(results))


if __name__ == "__main__":
    main()
