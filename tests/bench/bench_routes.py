"""Walking routes for 40-pick lists (DESIGN section 11: exact for one block, < 2 ms).

Run: python tests/bench/bench_routes.py
Prints one JSON object: the machine, the speed of exact routes, and the metres walked by the
exact route against S-shape (the baseline, measured in this run) and largest gap. A second part
measures several-block routes against a much longer search on the same lists.
"""
from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.layoutspec import parse_layout  # noqa: E402
from server.services.waves import tour_search
from server.services.waves import routing  # noqa: E402

AISLES, LENGTH, WIDTH, SLOTS = 20, 30.0, 3.0, 60
PICKS, LISTS, TIMED_ROUNDS = 40, 200, 5


def layout(blocks=1):
    """Shelves on both sides of 20 aisles of 30 m, a slot every metre per side: 1,200 locations;
    the depot at the front of the middle aisle."""
    locations = {}
    for aisle in range(AISLES):
        for slot in range(SLOTS):
            side = "L" if slot % 2 == 0 else "R"
            code = f"A{aisle + 1:02d}-{slot // 2 + 1:02d}{side}"
            locations[code] = {"aisle": aisle, "y": 0.5 + slot // 2}
    return parse_layout({"aisles": AISLES, "aisle_length": LENGTH, "aisle_width": WIDTH,
                         "blocks": blocks, "depot": {"aisle": AISLES // 2, "y": 0.0},
                         "locations": locations}, "bench")


def timed(function, lists):
    """Milliseconds per call over `lists`, repeated TIMED_ROUNDS times."""
    samples = []
    for _ in range(TIMED_ROUNDS):
        for codes in lists:
            start = time.perf_counter()
            function(codes)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"routes_per_s": round(1000 / statistics.fmean(samples)),
            "mean_ms": round(statistics.fmean(samples), 4),
            "p99_ms": round(samples[int(0.99 * (len(samples) - 1))], 4)}


def one_block(rng):
    floor = layout()
    codes = sorted(floor.locations)
    lists = [rng.sample(codes, PICKS) for _ in range(LISTS)]
    routing.route(floor, lists[0])  # per-layout data is prepared once, on first use
    exact_speed = timed(lambda c: routing.route(floor, c), lists)
    s_shape_speed = timed(lambda c: routing.s_shape(floor, c), lists)
    metres = {name: statistics.fmean(routing.route(floor, c, name).distance_m for c in lists)
              for name in ("ratliff-rosenthal", "s-shape", "largest-gap")}
    baseline = metres["s-shape"]
    return {
        "layout": f"{AISLES} aisles x {LENGTH:g} m, 1 block, {len(codes)} locations",
        "picks_per_list": PICKS,
        "lists": LISTS,
        "exact_route": exact_speed,
        "s_shape_route": s_shape_speed,
        "exact_target_ms": 2.0,
        "exact_mean_vs_s_shape_time": round(exact_speed["mean_ms"] / s_shape_speed["mean_ms"], 2),
        "mean_metres": {name: round(value, 1) for name, value in metres.items()},
        "baseline": "s-shape",
        "metres_ratio_to_s_shape": {name: round(value / baseline, 4)
                                    for name, value in metres.items()},
    }


def several_blocks(rng, lists=12, reference_kicks=400):
    floor = layout(blocks=3)
    plan = routing._plan_for(floor)
    codes = sorted(floor.locations)
    gaps, samples = [], []
    for _ in range(lists):
        picks = rng.sample(codes, PICKS)
        start = time.perf_counter()
        found = routing.route(floor, picks).distance_m
        samples.append((time.perf_counter() - start) * 1000)
        reference = tour_search.local_search(plan, routing._stops(plan, picks),
                                          kicks=reference_kicks)[1]
        gaps.append(found / reference - 1)
    return {
        "layout": f"{AISLES} aisles x {LENGTH:g} m, 3 blocks, {len(codes)} locations",
        "method": "local-search",
        "lists": lists,
        "mean_ms": round(statistics.fmean(samples), 2),
        "max_ms": round(max(samples), 2),
        "reference": f"same search with {reference_kicks} perturbations",
        "max_gap_to_reference": round(max(gaps), 5),
        "mean_gap_to_reference": round(statistics.fmean(gaps), 5),
    }


def main():
    rng = random.Random(20261128)
    started = time.perf_counter()
    result = {
        "benchmark": "routes",
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "python": platform.python_implementation() + " " + platform.python_version()},
        "one_block": one_block(rng),
        "several_blocks": several_blocks(rng),
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
