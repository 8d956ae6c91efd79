"""Review, routing and reservation of many orders at once, from 4 processes of greenlets:
no SKU is oversold, and every reserved unit belongs to exactly one order line."""
import json
import os
import subprocess
import sys
import time

from peewee import fn

from server.models import Allocation, Order, OrderLine, Product, Quant
from server.services.stock import inventory
from tests.test_orders import stock, two_warehouses  # noqa: F401  (fixture)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_concurrent_orders_never_oversell(db, db_url, two_warehouses, people):  # noqa: F811
    for sku in ("TS-01", "MG-01"):
        Product.create(sku=sku, name=sku, weight_g=100)
        stock(sku, "WH-HZ-A1", 40)
        stock(sku, "WH-SZ-A1", 25)
    db.close()
    per_process, processes = 60, 4  # 240 orders asking for about 560 units of 130 there are
    start_at = time.time() + 2.0
    env = dict(os.environ, PYTHONPATH=ROOT)
    procs = [subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "order_worker.py"), db_url,
                               str(p * per_process), str(per_process), "15", str(start_at)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for p in range(processes)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-3000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert [e for r in results for e in r["errors"]] == []
    parents = Order.select().where(Order.split_from.is_null())
    assert sum(r["created"] for r in results) == per_process * processes == parents.count()

    for product in Product.select():
        reserved = Quant.select(fn.SUM(Quant.reserved)).where(Quant.product == product).scalar() or 0
        there = Quant.select(fn.SUM(Quant.qty)).where(Quant.product == product).scalar()
        allocated = (Allocation.select(fn.SUM(Allocation.qty)).join(OrderLine)
                     .where(OrderLine.product == product).scalar() or 0)
        assert reserved == allocated <= there
    for order in Order.select().where(Order.status == "allocated"):
        assert all(l.reserved_qty == l.qty for l in order.lines), order.external_id
    for order in Order.select().where(Order.status == "backorder"):
        assert sum(l.reserved_qty for l in order.lines) == 0, order.external_id
    allocated = parents.where(Order.status == "allocated").count()
    assert allocated == sum(r["allocated"] for r in results) > 0
    assert Order.select().where(Order.status == "backorder").count() > 0  # demand exceeded stock
    assert inventory.audit() == []
