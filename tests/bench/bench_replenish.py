"""Demand replenishment (按需补货) for a 10,000-order wave: planned in < 2 s (issue 27).

Run: python tests/bench/bench_replenish.py [--orders 10000] [--reserve-share 0.3]
On a fresh SQLite file: the demo warehouse WH-HZ, a pick face per SKU, allocated orders over its
SKUs (tests/bench/bench_waves.py's baskets), and for a share of the SKUs the orders' units
promised in reserve instead of at the face (written in bulk: set-up, not what is measured). All
the orders go into one wave. Measured, in the same run:

- replenishment: what the release adds for it: each pick promised in reserve moved to its face
  (demand.to_faces) and the wave's demand tasks written (demand.for_wave, one transaction); also
  with the reading of the wave's facts it needs (which the release does anyway);
- baseline: the release's own planning of the same wave without it: its facts read
  (facts_of) and its batches, tasks and walks computed (planning._task_plans).

Prints one JSON object: the machine, the seconds of each, and their ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.db import init_database, write_transaction  # noqa: E402
from server.models import (Allocation, Location, Order, OrderLine, PickFace, Warehouse, Wave,  # noqa: E402
                           WaveOrder)
from server.models.base import utcnow  # noqa: E402
from server.models.stockcontrol import ReplenishmentTask  # noqa: E402
from server.schema import create_all  # noqa: E402
from server.services import demo  # noqa: E402
from server.services.replenishment import demand  # noqa: E402
from server.services.waves import planning  # noqa: E402
from server.services.waves.wave_facts import facts_of  # noqa: E402
from tests.bench.bench_waves import allocated_orders, pick_faces  # noqa: E402


def one_wave(warehouse, strategy: str) -> Wave:
    """Every allocated order of the bench in one wave (waved), written in bulk."""
    with write_transaction():
        wave = Wave.create(code="WBENCH", warehouse=warehouse, strategy=strategy, status="planned",
                           created_at=utcnow())
        ids = [i for (i,) in Order.select(Order.id).where(Order.shop == "bench").order_by(Order.id).tuples()]
        rows = [{"wave": wave.id, "order": i, "slot": 0} for i in ids]
        for start in range(0, len(rows), 500):
            WaveOrder.insert_many(rows[start:start + 500]).execute()
        Order.update(status="waved").where(Order.shop == "bench").execute()
    return wave


def promise_in_reserve(warehouse, share: float, rng) -> tuple[int, int]:
    """A pick face per SKU; for ``share`` of the SKUs, their orders' allocations moved to a reserve
    location. Returns (SKUs, allocations) now in reserve."""
    faces = pick_faces(warehouse)
    with write_transaction():
        PickFace.insert_many([{"location": loc, "product": product, "min_qty": 0, "max_qty": 100}
                              for product, loc in faces.items()]).execute()
        reserves = [i for (i,) in Location.select(Location.id).where(
            (Location.warehouse == warehouse) & (Location.kind == "reserve")).tuples()]
        chosen = rng.sample(sorted(faces), int(len(faces) * share))
        moved = 0
        for n, product in enumerate(chosen):
            lines = OrderLine.select(OrderLine.id).where(OrderLine.product == product)
            moved += (Allocation.update(location=reserves[n % len(reserves)])
                      .where(Allocation.line.in_(lines)).execute())
    return len(chosen), moved


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--reserve-share", type=float, default=0.3)
    parser.add_argument("--strategy", default="cluster")
    parser.add_argument("--seed", type=int, default=2727)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = tempfile.mkdtemp(prefix="wf-bench-replenish-")
    init_database(f"sqlite:///{folder}/bench.db")
    create_all()
    demo.load()
    warehouse = Warehouse.get(Warehouse.code == "WH-HZ")
    kinds, allocations = allocated_orders(warehouse, args.orders, rng)
    skus_in_reserve, allocations_in_reserve = promise_in_reserve(warehouse, args.reserve_share, rng)
    wave = one_wave(warehouse, args.strategy)
    members = list(Order.select().join(WaveOrder).where(WaveOrder.wave == wave.id).order_by(Order.id))

    started = time.perf_counter()
    facts = facts_of(members, strategies=False)
    facts_s = time.perf_counter() - started
    started = time.perf_counter()
    planning._task_plans(wave, facts, planning._walker(warehouse))
    batching_s = time.perf_counter() - started
    baseline_s = facts_s + batching_s

    started = time.perf_counter()
    demand.to_faces(facts, warehouse.id)
    with write_transaction():
        made = demand.for_wave(wave, facts)
    replenish_s = time.perf_counter() - started

    units = sum(t.qty for t in ReplenishmentTask.select(ReplenishmentTask.qty))
    print(json.dumps({
        "bench": "demand replenishment for one wave",
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "database": "sqlite",
        "orders": args.orders, "order_kinds": kinds, "allocations": allocations,
        "skus_promised_in_reserve": skus_in_reserve, "allocations_in_reserve": allocations_in_reserve,
        "demand_tasks": made, "units_to_replenish": units,
        "seconds": {"replenishment": round(replenish_s, 3), "target": 2.0,
                    "replenishment_with_reading_the_wave": round(facts_s + replenish_s, 3),
                    "baseline": round(baseline_s, 3), "baseline_facts": round(facts_s, 3),
                    "baseline_batching": round(batching_s, 3)},
        "baseline": "the same wave's release planning without replenishment: facts read, batches, tasks and "
                    "walks computed (facts_of + planning._task_plans), same run",
        "ratio_to_baseline": round(replenish_s / baseline_s, 4) if baseline_s else None,
        "within_target": facts_s + replenish_s < 2.0,
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
