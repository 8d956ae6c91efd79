"""Forecast and reorder points for 10,000 SKUs × 730 days: must take under 60 s on 2 cores.

The series are generated with known parameters, a mix of the four Syntetos–Boylan classes
(20 % smooth, 10 % erratic, 40 % intermittent, 30 % lumpy: an online shop's long tail), with six
promotion days a year. Ours: classify, take out the promotion days, forecast the 28-day holdout
and 28 days ahead with the class's method, MASE and bias, then the reorder point, days of cover
and rounded order quantity of each SKU (server/services/forecast/methods.py, reorder.py).

Baseline, measured in the same run: statsforecast's own fit-predict (``StatsForecast(...).
forecast`` with ``n_jobs=2``) of the same series with the same models, once for the holdout and
once ahead, grouped by the method ours chose. Prints one JSON object.

    .venv/bin/python tests/bench/bench_forecast.py [--skus 10000] [--days 730] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.services.forecast import methods, reorder  # noqa: E402

LIMIT_S = 60.0
MIX = {"smooth": 0.2, "erratic": 0.1, "intermittent": 0.4, "lumpy": 0.3}
HORIZON = 28


def generate(kind: str, days: int, rng) -> np.ndarray:
    """One SKU's daily demand of a known class (see tests/test_forecast.py for the parameters)."""
    week = 1 + 0.3 * np.sin(np.arange(days) * 2 * np.pi / 7)
    if kind == "smooth":
        return rng.poisson(rng.uniform(10, 40) * week).astype(float)
    if kind == "erratic":
        sizes = np.ceil(rng.lognormal(rng.uniform(1.5, 2.5), 1.0, days))
        return np.where(rng.random(days) < 0.95, sizes, 0.0)
    p = rng.uniform(0.1, 0.35)
    if kind == "intermittent":
        sizes = 1 + rng.poisson(rng.uniform(1, 4), days)
    else:
        sizes = np.ceil(rng.lognormal(1.5, 1.1, days))
    return np.where(rng.random(days) < p, sizes, 0.0)


def dataset(skus: int, days: int, seed: int = 27):
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(MIX), size=skus, p=list(MIX.values()))
    demand = np.vstack([generate(kind, days, rng) for kind in kinds])
    promo = np.zeros(days, dtype=bool)
    promo[rng.choice(days, size=max(1, days * 6 // 365), replace=False)] = True
    demand[:, promo] *= 5  # promotion spikes
    return kinds, demand, promo


def ours(demand, promo, workers: int, rng):
    results = methods.forecast_many(demand, promo, HORIZON, workers=workers)
    lead = rng.integers(3, 30, len(results))
    size = len(results)
    on_hand, moq, pack = rng.integers(0, 500, size), rng.integers(1, 100, size), rng.integers(1, 24, size)
    orders = 0
    for i, one in enumerate(results):
        point = reorder.reorder_point(one.daily, one.per_day, one.sigma, int(lead[i]), 95)
        stock = reorder.position(int(on_hand[i]), 0, 0)
        reorder.days_of_cover(stock, one.per_day)
        orders += reorder.order_quantity(stock, point, one.per_day, 14, int(moq[i]), int(pack[i])) > 0
    return results, orders


def baseline(demand, promo, results, workers: int) -> float:
    """The library's fit-predict of the same (promotion-cleaned) series with the same models."""
    import pandas as pd
    from statsforecast import StatsForecast
    from server.services.forecast import series
    cleaned = series.without_promotions_matrix(demand, promo)
    by_method: dict[str, list[int]] = {}
    for i, one in enumerate(results):
        if one.method in methods.METHODS:
            by_method.setdefault(one.method, []).append(i)
    started = time.perf_counter()
    for name, rows in by_method.items():
        frames = []
        for i in rows:
            y = cleaned[i]
            y = y[np.flatnonzero(y)[0]:]
            frames.append(pd.DataFrame({"unique_id": i, "ds": np.arange(y.size), "y": y}))
        full = pd.concat(frames, ignore_index=True)
        train = full[full.groupby("unique_id")["ds"].transform("max") - full["ds"] >= methods.HOLDOUT]
        for frame, h in ((train, methods.HOLDOUT), (full, HORIZON)):
            StatsForecast(models=[methods.METHODS[name]()], freq=1, n_jobs=workers).forecast(df=frame, h=h)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    kinds, demand, promo = dataset(args.skus, args.days)
    started = time.perf_counter()
    results, orders = ours(demand, promo, args.workers, np.random.default_rng(1))
    elapsed = time.perf_counter() - started
    base = baseline(demand, promo, results, args.workers)
    right = sum(one.sb_class == kind for one, kind in zip(results, kinds))
    classes = {}
    for one in results:
        entry = classes.setdefault(one.sb_class or one.reason, {"skus": 0, "mase": []})
        entry["skus"] += 1
        if one.mase is not None:
            entry["mase"].append(one.mase)
    print(json.dumps({
        "bench": "forecast", "skus": args.skus, "days": args.days, "workers": args.workers,
        "cpus": os.cpu_count(), "seconds": round(elapsed, 2), "limit_s": LIMIT_S,
        "baseline_seconds": round(base, 2), "ratio": round(elapsed / base, 3) if base else None,
        "skus_per_s": round(args.skus / elapsed),
        "classified_as_generated": round(right / args.skus, 4), "orders_suggested": int(orders),
        "classes": {k: {"skus": v["skus"], "mean_mase": round(float(np.mean(v["mase"])), 3) if v["mase"] else None}
                    for k, v in sorted(classes.items())},
        "ok": elapsed < LIMIT_S,
    }))
    if elapsed >= LIMIT_S:
        sys.exit(1)


if __name__ == "__main__":
    main()
