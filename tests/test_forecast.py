"""Demand forecasts without a database: generated series of each Syntetos–Boylan class are
classified right and forecast as well as statsforecast's own call of the same method (MASE
within 5 %); bad series give a reason, never an exception; reorder points and MOQ/pack rounding
match hand-worked examples (the same as docs/forecast.md)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from statsforecast.models import ADIDA, TSB, AutoETS, CrostonSBA

from server.services.forecast import alerts, methods, reorder, series

DAYS = 730
WEEK = 1 + 0.3 * np.sin(np.arange(DAYS) * 2 * np.pi / 7)


def generated(kind: str, seed: int) -> np.ndarray:
    """Known parameters: smooth = Poisson(20 × weekly pattern) every day (ADI 1, CV² ≈ 0.1);
    erratic = lognormal(2, 1) sizes on 97 % of days (CV² ≈ 1.7); intermittent = 1 + Poisson(3)
    on 20 % of days (ADI 5, CV² ≈ 0.19); lumpy = lognormal(1.5, 1.1) sizes on 20 % of days."""
    rng = np.random.default_rng(seed)
    if kind == "smooth":
        y = rng.poisson(20 * WEEK).astype(float)
    elif kind == "erratic":
        y = np.where(rng.random(DAYS) < 0.97, np.ceil(rng.lognormal(2.0, 1.0, DAYS)), 0.0)
    elif kind == "intermittent":
        y = np.where(rng.random(DAYS) < 0.2, 1 + rng.poisson(3, DAYS), 0).astype(float)
    else:
        y = np.where(rng.random(DAYS) < 0.2, np.ceil(rng.lognormal(1.5, 1.1, DAYS)), 0.0)
    y[0] = max(y[0], 1.0)  # the history starts with a sale, as ours trims it to
    return y


LIBRARY = {"AutoETS": lambda: AutoETS(season_length=7, model="ANA"), "CrostonSBA": CrostonSBA,
           "TSB": lambda: TSB(alpha_d=0.1, alpha_p=0.1), "ADIDA": ADIDA}


def library_mase(y: np.ndarray, method: str) -> float:
    """The library's own forecast of the holdout from all the days before it, scored by hand."""
    train, actual = y[:-28], y[-28:]
    predicted = LIBRARY[method]().forecast(train, 28)["mean"]
    return float(np.mean(np.abs(actual - predicted)) / np.mean(np.abs(np.diff(train))))


@pytest.mark.parametrize("kind,method", [("smooth", "AutoETS"), ("erratic", "AutoETS"),
                                         ("intermittent", "CrostonSBA"), ("lumpy", "TSB")])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_class_is_recognised_and_forecast_as_well_as_the_library(kind, method, seed):
    y = generated(kind, seed)
    result = methods.forecast_one(y, None, 28)
    assert result.sb_class == kind, (result.adi, result.cv2)
    assert result.method == method
    assert result.reason == ""
    # no worse than 5 % above the library's; ETS is fitted on the last 364 days here (methods.py),
    # which may come out a little better than the library fitted on all 702
    theirs = library_mase(y, method)
    assert theirs * 0.85 <= result.mase <= theirs * 1.05, (result.mase, theirs)
    assert len(result.daily) == 28 and min(result.daily) >= 0
    assert result.bias is not None and result.sigma > 0


@pytest.mark.parametrize("kind", ["intermittent", "lumpy"])
def test_adida_on_request_matches_the_library(kind):
    y = generated(kind, 7)
    result = methods.forecast_one(y, None, 28, method="ADIDA")
    assert result.method == "ADIDA"
    assert result.mase == pytest.approx(library_mase(y, "ADIDA"), rel=0.05)  # the same call: equal


def test_the_class_cut_offs():
    assert series.classify(1.32, 0.49) == "smooth"
    assert series.classify(1.32, 0.50) == "erratic"
    assert series.classify(1.33, 0.49) == "intermittent"
    assert series.classify(1.33, 0.50) == "lumpy"
    # ADI = days / days with demand; CV² = (std / mean)² of the demand sizes
    profile = series.profile(np.array([2.0, 0, 4, 0, 0, 6]))
    assert profile.adi == 2.0
    assert profile.cv2 == pytest.approx(np.var([2, 4, 6]) / 16)
    assert profile.sb_class == "intermittent"


def test_promotion_days_are_taken_out_as_outliers():
    y = generated("smooth", 4)
    promo = np.zeros(DAYS, dtype=bool)
    promo[[300, 500, 700]] = True
    spiked = y.copy()
    spiked[promo] = 2000
    plain = methods.forecast_one(y, None, 28)
    cleaned = methods.forecast_one(spiked, promo, 28)
    assert cleaned.sb_class == "smooth"
    assert cleaned.per_day == pytest.approx(plain.per_day, rel=0.1)
    unhandled = methods.forecast_one(spiked, None, 28)
    assert unhandled.sb_class == "erratic"  # what the spikes would have done
    assert series.without_promotions(spiked, promo)[700] < 60
    both = series.without_promotions_matrix(np.vstack([spiked, spiked]), promo)
    assert np.array_equal(both[0], series.without_promotions(spiked, promo))


# --- bad input: a reason, never an exception ---------------------------------------------------

def test_no_history():
    for empty in ([], np.zeros(DAYS)):
        result = methods.forecast_one(empty, None, 28)
        assert result.reason == "no_history" and result.daily == [] and result.per_day == 0


def test_one_sale_ever_gives_a_flat_forecast():
    y = np.zeros(DAYS)
    y[400] = 3
    result = methods.forecast_one(y, None, 28)
    assert result.reason == "one_sale" and result.method == "flat"
    assert result.daily == [pytest.approx(3 / DAYS)] * 28
    assert result.mase is None and result.sb_class == ""


def test_only_promotion_day_sales():
    y = np.zeros(DAYS)
    promo = np.zeros(DAYS, dtype=bool)
    promo[[310, 675]] = True
    y[promo] = 40
    result = methods.forecast_one(y, promo, 28)
    assert result.reason == "promotion_sales_only"
    assert result.daily == [0.0] * 28 and result.per_day == 0


def test_negative_quantities_from_returns_are_not_demand():
    y = generated("intermittent", 5)
    with_returns = y.copy()
    with_returns[[100, 200, 650]] = -4
    result = methods.forecast_one(with_returns, None, 28)
    assert result.reason == "negative_demand_ignored"
    assert result.sb_class == "intermittent" and min(result.daily) >= 0
    only_returns = np.zeros(DAYS)
    only_returns[50] = -2
    assert methods.forecast_one(only_returns, None, 28).reason == "no_history"


def test_a_short_history_is_flat_but_classified():
    y = np.tile([3.0, 0, 2, 0], 10)  # 40 days since the first sale
    result = methods.forecast_one(np.concatenate([np.zeros(690), y]), None, 28)
    assert result.reason == "short_history" and result.method == "flat"
    assert result.sb_class == "intermittent" and result.per_day == pytest.approx(1.25)


def test_odd_values_never_raise():
    for odd in ([np.nan] * 60, [1e12] * 100, [5.0] * 100, [0.0] * 99 + [1.0], np.arange(100.0)):
        result = methods.forecast_one(np.nan_to_num(np.asarray(odd, dtype=float)), None, 28)
        assert isinstance(result.reason, str)
        assert all(math.isfinite(x) for x in result.daily)


def test_many_in_two_processes_is_the_same_as_one_by_one():
    rows = np.vstack([generated(kind, seed) for kind in ("smooth", "intermittent", "lumpy") for seed in (1, 2)] * 40)
    promo = np.zeros(DAYS, dtype=bool)
    promo[[100, 465]] = True
    together = methods.forecast_many(rows, promo, 28, workers=2)
    alone = [methods.forecast_one(row, promo, 28) for row in rows[:6]]
    assert [r.per_day for r in together[:6]] == pytest.approx([r.per_day for r in alone])


# --- reorder points and rounding, worked by hand -----------------------------------------------

def test_reorder_point_by_hand():
    # 10 a day for 7 days of lead time, σ 4 a day, 95 %: z = 1.645
    # lead-time demand 70; safety stock 1.645 × 4 × √7 = 17.41; reorder point 87.41
    point = reorder.reorder_point([10.0] * 28, 10.0, 4.0, 7, 95)
    assert point.lead_time_demand == 70
    assert point.safety_stock == pytest.approx(1.6449 * 4 * math.sqrt(7), abs=0.01)
    assert point.reorder_point == pytest.approx(87.41, abs=0.01)
    # a lead time past the horizon goes on at the forecast's mean
    assert reorder.lead_time_demand([2.0] * 28, 2.0, 35) == 70
    assert reorder.z_of(50) == 0 and reorder.z_of(99) == pytest.approx(2.326, abs=0.001)


def test_order_quantity_by_hand():
    point = reorder.ReorderPoint(70, 17.41, 87.41)
    # position: 60 available + 20 in transit − 15 reserved = 65, below 87.41:
    # up to 87.41 + 14 days × 10 = 227.41 → 162.41 → 163 → MOQ 100 is met → packs of 24: 168
    position = reorder.position(60, 20, 15)
    assert position == 65
    assert reorder.order_quantity(position, point, 10, 14, moq=100, pack_size=24) == 168
    assert reorder.order_quantity(position, point, 10, 14) == 163
    assert reorder.order_quantity(88, point, 10, 14, moq=100, pack_size=24) == 0
    # the MOQ lifts a small need, then whole packs: 30 → 50 → 3 packs of 20
    assert reorder.round_to_supplier(30, moq=50, pack_size=20) == 60
    assert reorder.round_to_supplier(130, moq=100, pack_size=24) == 144
    assert reorder.round_to_supplier(0, moq=100, pack_size=24) == 0
    assert reorder.days_of_cover(65, 10) == 6.5 and reorder.days_of_cover(65, 0) is None


def test_alerts_by_hand():
    limits = alerts.Limits(overstock_days=90, slow_days=30, drop_pct=30)

    def kinds(**changes):
        base = dict(per_day=10.0, recent_per_day=10.0, last_year_ratio=None, sold_recently=300, lead_time_days=7,
                    position=200, on_hand=200)
        return [k for k, _ in alerts.evaluate(alerts.Situation(**dict(base, **changes)), limits)]

    assert kinds() == []
    assert kinds(position=60) == ["stockout_risk"]             # 6 days of cover, 7 of lead time
    assert kinds(position=1000) == ["overstock"]               # 100 days > 90
    assert kinds(per_day=0.0, recent_per_day=0.0, sold_recently=0) == ["slow_mover"]
    assert kinds(per_day=6.0) == ["demand_drop"]               # −40 %, 33 days of cover left
    assert kinds(per_day=6.0, position=60) == []               # 10 days of stock left: under 14, too late
    assert kinds(last_year_ratio=0.5) == ["demand_drop"]       # last year's same weeks fell by half
    detail = dict(alerts.evaluate(alerts.Situation(6.0, 10.0, None, 300, 7, 200, 200), limits))["demand_drop"]
    assert detail["drop_pct"] == 40 and detail["source"] == "forecast" and detail["cover_days"] == 33.3
