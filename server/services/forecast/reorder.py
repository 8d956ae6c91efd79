"""Reorder points (再订货点) and order quantities from a forecast: arithmetic only, so that the
office's numbers can be checked by hand (docs/forecast.md works the same examples).

- lead-time demand: the forecast's units over the supplier's lead time;
- safety stock (安全库存): z × σ × √lead time, z the service level's normal quantile
  (95 % → 1.645) and σ the one-day forecast error's spread;
- reorder point: lead-time demand + safety stock;
- position: available + in transit (在途) − reserved;
- days of cover (可售天数): position ÷ forecast units a day;
- order quantity: when the position is at or below the reorder point, enough to reach the reorder
  point plus ``cover_days`` of demand, raised to the supplier's MOQ (起订量) and rounded up to whole
  packs (箱规).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class ReorderPoint:
    lead_time_demand: float
    safety_stock: float
    reorder_point: float


def z_of(service_level_pct: float) -> float:
    """The standard normal quantile of a service level in % (95 → 1.645); 50 % or less needs none."""
    if service_level_pct <= 50:
        return 0.0
    return NormalDist().inv_cdf(min(service_level_pct, 99.99) / 100)


def lead_time_demand(daily: list[float], per_day: float, lead_days: int) -> float:
    """The forecast's units over ``lead_days``; past the forecast's horizon its mean goes on."""
    covered = daily[:lead_days]
    return float(sum(covered) + per_day * max(0, lead_days - len(covered)))


def reorder_point(daily: list[float], per_day: float, sigma: float, lead_days: int,
                  service_level_pct: float) -> ReorderPoint:
    demand = lead_time_demand(daily, per_day, lead_days)
    safety = z_of(service_level_pct) * sigma * math.sqrt(max(lead_days, 0))
    return ReorderPoint(demand, safety, demand + safety)


def position(available: int, in_transit: int, reserved: int) -> int:
    return available + in_transit - reserved


def days_of_cover(stock: float, per_day: float) -> float | None:
    """Days ``stock`` lasts at the forecast's rate; None when the forecast sells nothing."""
    if per_day <= 0:
        return None
    return max(stock, 0) / per_day


def round_to_supplier(qty: float, moq: int = 1, pack_size: int = 1) -> int:
    """``qty`` raised to the MOQ, then up to whole packs: 130 with MOQ 100 and packs of 24 → 144."""
    if qty <= 0:
        return 0
    wanted = max(math.ceil(qty - 1e-9), moq)
    return math.ceil(wanted / pack_size) * pack_size


def order_quantity(stock_position: float, point: ReorderPoint, per_day: float, cover_days: int,
                   moq: int = 1, pack_size: int = 1) -> int:
    """0 above the reorder point; else up to the reorder point plus ``cover_days`` of demand,
    rounded to the supplier's MOQ and packs."""
    if stock_position > point.reorder_point or (point.reorder_point <= 0 and per_day <= 0):
        return 0
    return round_to_supplier(point.reorder_point + per_day * cover_days - stock_position, moq, pack_size)
