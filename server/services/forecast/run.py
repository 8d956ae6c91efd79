"""A forecast run (需求预测): every SKU and warehouse with sales or stock, forecast from its
daily demand, stored as ``DemandForecast`` rows of the day, and its alerts raised or closed.
``wavefloor forecast run`` and ``POST /api/v1/forecasts/run`` start one; the purchase plan
(plan.py) reads the rows it leaves.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter

import numpy as np

from server.db import insert_rows, write_transaction
from server.models import DemandForecast, Product, Warehouse
from server.services.errors import NotFound
from server.services.forecast import alerts, history, methods, series, supply
from server.services.forecast.settings import DEFAULT_LEAD_DAYS, Settings, today

YEAR = 364              # 52 weeks back lands on the same weekday
RECENT = 28


def _scope(sku: str | None, warehouse: str | None) -> tuple[list[int] | None, Warehouse | None]:
    product_ids = None
    if sku:
        product = Product.get_or_none(Product.sku == sku)
        if product is None:
            raise NotFound(f"no SKU {sku!r}", sku=sku)
        product_ids = [product.id]
    found = None
    if warehouse:
        found = Warehouse.get_or_none(Warehouse.code == warehouse)
        if found is None:
            raise NotFound(f"no warehouse {warehouse!r}", code=warehouse)
    return product_ids, found


def run(settings: Settings | None = None, *, made_on: dt.date | None = None, sku: str | None = None,
        warehouse: str | None = None) -> dict:
    """Forecast, store and alert; returns what the run did (counts by class and reason, each
    class's MASE and bias, alerts raised and closed)."""
    settings = settings or Settings()
    made_on = made_on or today()
    started = time.perf_counter()
    product_ids, the_warehouse = _scope(sku, warehouse)
    warehouse_id = the_warehouse.id if the_warehouse else None
    days = settings.history_days
    demand = history.daily_demand(made_on, days, product_ids, warehouse_id)
    stock = supply.stock(product_ids, warehouse_id)
    keys = sorted(set(demand) | {k for k, s in stock.items() if s.available or s.in_transit})
    if product_ids and not keys:  # asked for by name: say it has no history rather than nothing
        warehouses = [warehouse_id] if warehouse_id else [w for (w,) in Warehouse.select(Warehouse.id).tuples()]
        keys = [(product_ids[0], w) for w in warehouses]
    promo = history.promotion_days(made_on, days)
    matrix = np.vstack([demand.get(k, np.zeros(days)) for k in keys]) if keys else np.zeros((0, days))
    results = methods.forecast_many(matrix, promo, settings.horizon_days, workers=settings.workers)
    sources = supply.sources({k[0] for k in keys})
    ordinary = series.without_promotions_matrix(matrix, promo) if keys else matrix
    found = {}
    for i, key in enumerate(keys):
        source = sources.get(key[0])
        situation = _situation(results[i], matrix[i], ordinary[i], stock.get(key, supply.Stock()), source,
                               settings)
        found[key] = alerts.evaluate(situation, settings.limits)
    _store(made_on, keys, results)
    told = alerts.record(made_on, found, keys)
    rows = [one.as_dict() for one in results]
    return {"made_on": made_on.isoformat(), "skus": len(keys), "seconds": round(time.perf_counter() - started, 2),
            "classes": series.class_summary(rows),
            "reasons": dict(Counter(one.reason for one in results if one.reason)),
            "methods": dict(Counter(one.method for one in results if one.method)), "alerts": told}


def _situation(one: methods.Forecast, raw: np.ndarray, ordinary: np.ndarray, stock: supply.Stock,
               source: supply.Source | None, settings: Settings) -> alerts.Situation:
    horizon, n = settings.horizon_days, ordinary.size
    ratio = None
    if n >= YEAR + RECENT:
        before = ordinary[n - YEAR - RECENT:n - YEAR].mean()
        coming = ordinary[n - YEAR:n - YEAR + horizon].mean()
        ratio = float(coming / before) if before > 0 else None
    return alerts.Situation(
        per_day=one.per_day, recent_per_day=float(ordinary[-RECENT:].mean()) if n else 0.0,
        last_year_ratio=ratio, sold_recently=float(np.clip(raw[-settings.limits.slow_days:], 0, None).sum()),
        lead_time_days=source.lead_time_days if source else DEFAULT_LEAD_DAYS,
        position=stock.position, on_hand=stock.available)


def _store(made_on: dt.date, keys, results) -> None:
    """The day's rows, replacing those of an earlier run the same day."""
    rows = [{"product": p, "warehouse": w, "made_on": made_on, "sb_class": one.sb_class, "adi": one.adi,
             "cv2": one.cv2, "method": one.method, "daily": json.dumps([round(x, 3) for x in one.daily]),
             "per_day": one.per_day, "sigma": one.sigma, "mase": one.mase, "bias": one.bias, "reason": one.reason}
            for (p, w), one in zip(keys, results)]
    with write_transaction():
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            for warehouse_id in {w for _, w in chunk}:
                DemandForecast.delete().where(
                    (DemandForecast.made_on == made_on) & (DemandForecast.warehouse == warehouse_id)
                    & DemandForecast.product.in_([p for p, w in chunk if w == warehouse_id])).execute()
        for start in range(0, len(rows), 1000):
            insert_rows(DemandForecast, rows[start:start + 1000])


def chart(product_id: int, warehouse_id: int, settings: Settings | None = None, *, made_on: dt.date | None = None,
          shown_days: int = 120) -> dict:
    """What the forecast page draws for one SKU: the last ``shown_days`` of actual demand, what
    its method said for the 28 held-out days (fitted on the days before them, as the MASE was
    measured), and the days ahead; promotion days marked."""
    settings = settings or Settings()
    made_on = made_on or today()
    days = settings.history_days
    raw = history.daily_demand(made_on, days, [product_id], warehouse_id).get((product_id, warehouse_id),
                                                                           np.zeros(days))
    promo = history.promotion_days(made_on, days)
    one = methods.forecast_one(raw, promo, settings.horizon_days)
    first = made_on - dt.timedelta(days=min(shown_days, days))
    dates = [(first + dt.timedelta(days=i)).isoformat() for i in range(min(shown_days, days))]
    held = [None] * (len(dates) - len(one.holdout)) + [round(x, 2) for x in one.holdout]
    ahead = [(made_on + dt.timedelta(days=i)).isoformat() for i in range(len(one.daily))]
    return {"dates": dates + ahead, "actual": [float(x) for x in raw[-len(dates):]] + [None] * len(ahead),
            "holdout": held + [None] * len(ahead),
            "forecast": [None] * len(dates) + [round(x, 2) for x in one.daily],
            "promotions": [d for d, p in zip(dates, promo[-len(dates):]) if p], "result": one.as_dict()}
