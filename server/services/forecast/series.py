"""A SKU's daily demand as numbers: promotion days (大促) taken out as outliers, the
Syntetos–Boylan class from ADI and CV², and the holdout's accuracy (MASE, bias).

Plain numpy, no database: the runner (run.py) and the benchmark feed it arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ADI_CUT = 1.32   # Syntetos & Boylan (2005): above it demand comes on few days (intermittent)
CV2_CUT = 0.49   # above it the sizes of the demands vary a lot (erratic)
PROMO_WINDOW = 7  # ordinary days looked at on each side of a promotion day


@dataclass(frozen=True)
class Profile:
    adi: float          # days of history / days with demand
    cv2: float          # (std / mean)² of the non-zero days' demand
    sb_class: str       # smooth | erratic | intermittent | lumpy
    demand_days: int


def classify(adi: float, cv2: float) -> str:
    if adi <= ADI_CUT:
        return "smooth" if cv2 <= CV2_CUT else "erratic"
    return "intermittent" if cv2 <= CV2_CUT else "lumpy"


def profile(demand: np.ndarray) -> Profile | None:
    """The series' class; None with fewer than two days of demand (no interval to measure)."""
    sizes = demand[demand > 0]
    if sizes.size < 2:
        return None
    adi = demand.size / sizes.size
    mean = sizes.mean()
    cv2 = float(sizes.var() / (mean * mean))
    return Profile(float(adi), cv2, classify(adi, cv2), int(sizes.size))


def without_promotions(demand: np.ndarray, promo: np.ndarray) -> np.ndarray:
    """Each promotion day's demand replaced by the median of the ordinary days around it: a 双11
    spike is not what the SKU sells on a normal day, and a median keeps an intermittent series
    intermittent (mostly 0) where a mean would spread the spike."""
    if not promo.any():
        return demand
    cleaned = demand.copy()
    n = demand.size
    for day in np.flatnonzero(promo):
        low, high = max(0, day - PROMO_WINDOW), min(n, day + PROMO_WINDOW + 1)
        window = demand[low:high][~promo[low:high]]
        cleaned[day] = float(np.median(window)) if window.size else 0.0
    return cleaned


def without_promotions_matrix(demand: np.ndarray, promo: np.ndarray) -> np.ndarray:
    """:func:`without_promotions` for many SKUs at once (rows), the same days promoted for all."""
    if not promo.any():
        return demand
    cleaned = demand.copy()
    n = demand.shape[1]
    for day in np.flatnonzero(promo):
        low, high = max(0, day - PROMO_WINDOW), min(n, day + PROMO_WINDOW + 1)
        ordinary = np.flatnonzero(~promo[low:high]) + low
        cleaned[:, day] = np.median(demand[:, ordinary], axis=1) if ordinary.size else 0.0
    return cleaned


def mase(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray) -> float | None:
    """Mean absolute scaled error: the holdout's mean absolute error over the mean absolute change
    from one day to the next in the training days (what "tomorrow = today" would have missed).
    Below 1 beats that naive guess. None when the training days never changed."""
    scale = float(np.mean(np.abs(np.diff(train)))) if train.size > 1 else 0.0
    if scale <= 0:
        return None
    return float(np.mean(np.abs(actual - forecast)) / scale)


def bias(actual: np.ndarray, forecast: np.ndarray) -> float | None:
    """(forecast − actual) summed over the holdout, as a share of the actual: +0.10 forecast 10 %
    too much. None when nothing sold in the holdout."""
    sold = float(actual.sum())
    if sold <= 0:
        return None
    return float((forecast.sum() - sold) / sold)


def class_summary(rows) -> dict[str, dict]:
    """Per class: its SKUs, their mean MASE and mean bias (of the SKUs that have one)."""
    out: dict[str, dict] = {}
    for row in rows:
        if not row.get("sb_class"):
            continue
        entry = out.setdefault(row["sb_class"], {"skus": 0, "mase": [], "bias": []})
        entry["skus"] += 1
        for name in ("mase", "bias"):
            if row.get(name) is not None:
                entry[name].append(row[name])
    return {name: {"skus": e["skus"], "mase": (sum(e["mase"]) / len(e["mase"])) if e["mase"] else None,
                   "bias": (sum(e["bias"]) / len(e["bias"])) if e["bias"] else None}
            for name, e in out.items()}
