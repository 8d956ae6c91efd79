"""One SKU's forecast: its class picks the method, the last 28 days are held out to measure it,
and what is left of a bad series (no sales, one sale, promotion sales only) gets a flat forecast
or none, with the reason. The models are statsforecast's (AutoETS, CrostonSBA, TSB, ADIDA).
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from statsforecast.models import ADIDA, TSB, AutoETS, CrostonSBA

from server.services.forecast import series

HOLDOUT = 28
MIN_TRAIN = 28  # fewer days than holdout + this: a flat forecast, not a model's
# ETS is fitted on the last 52 weeks before the holdout: its cost grows with the days (23 ms for
# 702 days, 12 ms for 364 here), and a year holds the weekly pattern many times over
ETS_FIT_DAYS = 364
# ETS(A,N,A): additive error and weekly season, no trend. Letting AutoETS search every form
# ("ZZZ") cost 290 ms a series here against 15 ms; days without sales rule out multiplicative
# errors anyway, and a nightly refit follows a trend over a 7–30 day horizon.
ETS_MODEL = "ANA"
METHODS = {
    "AutoETS": lambda: AutoETS(season_length=7, model=ETS_MODEL),
    "CrostonSBA": CrostonSBA,
    "TSB": lambda: TSB(alpha_d=0.1, alpha_p=0.1),
    "ADIDA": ADIDA,
}
METHOD_OF_CLASS = {"smooth": "AutoETS", "erratic": "AutoETS", "intermittent": "CrostonSBA", "lumpy": "TSB"}
# why a SKU has no forecast or a flat one (DemandForecast.reason)
NO_HISTORY = "no_history"
ONE_SALE = "one_sale"
PROMOTION_ONLY = "promotion_sales_only"
SHORT_HISTORY = "short_history"
NEGATIVE = "negative_demand_ignored"
MODEL_FAILED = "model_failed"
REASONS = (NO_HISTORY, ONE_SALE, PROMOTION_ONLY, SHORT_HISTORY, NEGATIVE, MODEL_FAILED)


@dataclass
class Forecast:
    daily: list[float]                 # units a day for the horizon ([] without a forecast)
    per_day: float = 0.0
    sigma: float = 0.0                 # the one-day forecast error's spread (RMSE on the holdout)
    sb_class: str = ""
    adi: float | None = None
    cv2: float | None = None
    method: str = ""
    mase: float | None = None
    bias: float | None = None
    reason: str = ""
    holdout: list[float] = field(default_factory=list)   # what the method said for the held-out days
    holdout_actual: float = 0.0                           # units sold in them

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _flat(level: float, horizon: int, spread: float, reason: str, profile=None) -> Forecast:
    return Forecast(daily=[level] * horizon, per_day=level, sigma=spread, reason=reason,
                    sb_class=profile.sb_class if profile else "", adi=profile.adi if profile else None,
                    cv2=profile.cv2 if profile else None, method="flat")


def forecast_one(demand, promo=None, horizon: int = 28, method: str | None = None, ordinary=None) -> Forecast:
    """``demand``: units a day up to yesterday, oldest first; ``promo``: the promotion days among
    them (``ordinary``: the demand with them taken out, when the caller did that for many SKUs
    at once). ``method`` overrides the class's. Never raises on the data: a bad series comes
    back with its reason."""
    demand = np.asarray(demand, dtype=float)
    reason = ""
    if demand.size and demand.min() < 0:  # returns booked as negative lines: not demand
        demand, reason = np.clip(demand, 0, None), NEGATIVE
    if demand.size == 0 or not demand.any():
        return Forecast(daily=[], reason=NO_HISTORY)
    if ordinary is None:
        promo = np.zeros(demand.size, dtype=bool) if promo is None else np.asarray(promo, dtype=bool)
        ordinary = series.without_promotions(demand, promo)
    ordinary = np.clip(np.asarray(ordinary, dtype=float), 0, None)
    if not ordinary.any():
        return _flat(0.0, horizon, 0.0, PROMOTION_ONLY)
    ordinary = ordinary[np.flatnonzero(ordinary)[0]:]   # a SKU's history starts at its first sale
    profile = series.profile(ordinary)
    if profile is None:
        # spread over the whole history, not only the days since it
        return _flat(float(ordinary.sum() / demand.size), horizon, 0.0, ONE_SALE)
    if ordinary.size < HOLDOUT + MIN_TRAIN:
        return _flat(float(ordinary.mean()), horizon, float(ordinary.std()), SHORT_HISTORY, profile)
    name = method or METHOD_OF_CLASS[profile.sb_class]
    try:
        held, ahead = _run(name, ordinary, horizon)
    except Exception:  # noqa: BLE001 - a model that cannot fit this series must not stop the others
        return _flat(float(ordinary[-HOLDOUT:].mean()), horizon, float(ordinary.std()), MODEL_FAILED, profile)
    train, actual = ordinary[:-HOLDOUT], ordinary[-HOLDOUT:]
    errors = held - actual
    return Forecast(daily=[float(x) for x in ahead], per_day=float(ahead.mean()),
                    sigma=float(np.sqrt(np.mean(errors * errors))), sb_class=profile.sb_class, adi=profile.adi,
                    cv2=profile.cv2, method=name, mase=series.mase(actual, held, train),
                    bias=series.bias(actual, held), reason=reason, holdout=[float(x) for x in held],
                    holdout_actual=float(actual.sum()))


def _run(name: str, demand: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """(the holdout's forecast from the days before it, the horizon's forecast from all days).
    ETS is fitted once, on the days before the holdout, and run forward over all of them: its
    parameters barely move in 28 more days, and a second fit would double its cost."""
    model = METHODS[name]()
    train = demand[:-HOLDOUT]
    if name == "AutoETS":
        model.fit(train[-ETS_FIT_DAYS:])
        held = model.predict(HOLDOUT)["mean"]
        ahead = model.forward(y=demand[-(ETS_FIT_DAYS + HOLDOUT):], h=horizon)["mean"]
    else:
        held = model.forecast(train, HOLDOUT)["mean"]
        ahead = model.forecast(demand, horizon)["mean"]
    return np.clip(held, 0, None), np.clip(ahead, 0, None)  # no negative demand


def _forecast_rows(args) -> list[Forecast]:
    rows, promo, horizon = args
    if promo is None or not np.any(promo):
        return [forecast_one(row, None, horizon) for row in rows]
    cleaned = series.without_promotions_matrix(rows, np.asarray(promo, dtype=bool))
    return [forecast_one(row, promo, horizon, ordinary=clean) for row, clean in zip(rows, cleaned)]


def forecast_many(demand: np.ndarray, promo=None, horizon: int = 28, workers: int = 1) -> list[Forecast]:
    """:func:`forecast_one` for each row of ``demand`` (SKUs × days, the same days for all), in
    ``workers`` processes when there are enough rows to be worth starting them."""
    rows = np.asarray(demand, dtype=float)
    if workers <= 1 or len(rows) < 200:
        return _forecast_rows((rows, promo, horizon))
    chunks = [(part, promo, horizon) for part in np.array_split(rows, workers * 4) if len(part)]
    # forked: the children have statsforecast imported already and start at once
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return [one for part in pool.map(_forecast_rows, chunks) for one in part]
