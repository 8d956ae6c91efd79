"""The last units of a SKU, fought over by 4 processes of 50 greenlets each: every unit is
reserved once and no unit is reserved twice, on SQLite and on PostgreSQL."""
import json
import os
import subprocess
import sys
import time

import pytest

from server.models import Quant
from server.services.stock import inventory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "reserve_worker.py")


def fight(db_url, sku, processes=4, greenlets=50, attempts=2, qty=1):
    start_at = time.time() + 2.0  # every process imports and connects first, then all start together
    env = dict(os.environ, PYTHONPATH=ROOT)
    procs = [subprocess.Popen([sys.executable, WORKER, db_url, sku, str(greenlets), str(attempts), str(qty),
                               str(start_at)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for _ in range(processes)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()[-3000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results


@pytest.mark.parametrize("qty", [1, 2])
def test_last_units_are_never_oversold(db, db_url, small_warehouse, people, qty):
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    actor = inventory.Actor(people["receiver"].id)
    inventory.receive(tee, locs["A-01"], 17, actor=actor)
    inventory.receive(tee, locs["A-02"], 8, actor=actor)
    inventory.receive(tee, locs["R-01"], 12, actor=actor)
    units = 17 + 8 + 12
    db.close()

    results = fight(db_url, "TS-01", qty=qty)

    errors = [e for r in results for e in r["errors"]]
    assert errors == []
    claimed = sum(r["reserved_units"] for r in results)
    in_db = sum(q.reserved for q in Quant.select())
    assert claimed == in_db  # every success the workers saw is in the database, nothing more
    assert claimed == units - units % qty  # all that could be reserved was, and not one unit more
    assert sum(r["successes"] + r["refusals"] for r in results) == 4 * 50 * 2
    assert all(q.reserved <= q.qty for q in Quant.select())
    assert inventory.audit() == []
