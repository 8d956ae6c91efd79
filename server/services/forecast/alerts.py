"""Stock alerts (库存预警) from the forecast and the stock position, kept as ``StockAlert`` rows
and told to the office and the supervisors (event ``stock.alerts``).

- ``stockout_risk`` (断货风险): the position (available + in transit − reserved) lasts fewer days
  than the supplier's lead time: an order placed today arrives after the shelf is empty;
- ``overstock`` (积压): the position lasts more than ``overstock_days``;
- ``slow_mover`` (滞销): units on hand and nothing sold for ``slow_days``;
- ``demand_drop`` (需求下降): the forecast (or the same weeks last year) says demand falls by at
  least ``drop_pct`` % against the last 28 days, found while the stock still lasts 14 days or
  more, so that buying can stop and the surplus be sold off before the drop.

An alert stays one open row while it holds (its detail refreshed each run) and is closed by the
first run that no longer finds it.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from peewee import fn

from server import events
from server.db import write_transaction
from server.models import Product, StockAlert, Warehouse
from server.models.stockcontrol import ALERT_KINDS
from server.services.forecast import reorder
from server.services.forecast.lifecycle import STOCK_ALERT

DROP_NOTICE_DAYS = 14  # a drop is worth telling while the stock lasts at least this long
ROOMS = ("role:office", "role:supervisor")


@dataclass(frozen=True)
class Limits:
    overstock_days: int = 90
    slow_days: int = 30
    drop_pct: int = 30


@dataclass(frozen=True)
class Situation:
    """One SKU in one warehouse, as the run sees it."""
    per_day: float             # the forecast's units a day
    recent_per_day: float      # units a day sold in the last 28 ordinary days
    last_year_ratio: float | None  # the coming weeks against the 28 days before, a year ago
    sold_recently: float       # units sold in the last ``slow_days``
    lead_time_days: int
    position: int              # available + in transit − reserved
    on_hand: int               # available units


def evaluate(s: Situation, limits: Limits) -> list[tuple[str, dict]]:
    """The alerts that hold, each with its numbers."""
    found = []
    cover = reorder.days_of_cover(s.position, s.per_day)
    if cover is not None and cover < s.lead_time_days:
        found.append(("stockout_risk", {"cover_days": round(cover, 1), "lead_time_days": s.lead_time_days,
                                        "position": s.position, "per_day": round(s.per_day, 2)}))
    if cover is not None and cover > limits.overstock_days:
        found.append(("overstock", {"cover_days": round(cover, 1), "limit_days": limits.overstock_days,
                                    "position": s.position, "per_day": round(s.per_day, 2)}))
    if s.on_hand > 0 and s.sold_recently <= 0:
        found.append(("slow_mover", {"on_hand": s.on_hand, "days_without_sale": limits.slow_days}))
    drop = _drop(s)
    if drop is not None and drop[0] * 100 >= limits.drop_pct:
        lasts = reorder.days_of_cover(s.position, s.per_day)
        if lasts is None or lasts >= DROP_NOTICE_DAYS:
            found.append(("demand_drop", {"drop_pct": round(drop[0] * 100), "source": drop[1],
                                          "recent_per_day": round(s.recent_per_day, 2),
                                          "per_day": round(s.per_day, 2), "position": s.position,
                                          "cover_days": None if lasts is None else round(lasts, 1)}))
    return found


def _drop(s: Situation) -> tuple[float, str] | None:
    """(the fall as a share, where it was seen): the forecast against the last 28 days, or last
    year's same weeks; the larger of the two."""
    if s.recent_per_day <= 0:
        return None
    seen = [(1 - s.per_day / s.recent_per_day, "forecast")]
    if s.last_year_ratio is not None:
        seen.append((1 - s.last_year_ratio, "last_year"))
    return max(seen)


def record(made_on: dt.date, found: dict[tuple[int, int], list[tuple[str, dict]]], checked) -> dict:
    """Write what ``found`` holds for the (product id, warehouse id) pairs in ``checked``: new
    alerts raised, open ones refreshed, the rest of the checked pairs' open alerts closed. Tells
    the office and the supervisors when anything was raised or closed."""
    checked = set(checked)
    raised, closed = [], []
    with write_transaction():
        open_rows = {(a.product_id, a.warehouse_id, a.kind): a for a in StockAlert.select().where(
            StockAlert.state == "open")}
        # closed earlier the same day (a second run): the day's row is taken, so it is not raised again
        closed_today = set(StockAlert.select(StockAlert.product, StockAlert.warehouse, StockAlert.kind)
                           .where((StockAlert.raised_on == made_on) & (StockAlert.state == "closed")).tuples())
        for key, alerts in found.items():
            for kind, detail in alerts:
                text = json.dumps(detail, sort_keys=True)
                held = open_rows.pop((key[0], key[1], kind), None)
                if held is None and (key[0], key[1], kind) not in closed_today:
                    raised.append(StockAlert.create(kind=kind, product=key[0], warehouse=key[1], raised_on=made_on,
                                                    detail=text).id)
                elif held is not None and held.detail != text:
                    StockAlert.update(detail=text).where(StockAlert.id == held.id).execute()
        stale = [row.id for (product_id, warehouse_id, _), row in open_rows.items()
                 if (product_id, warehouse_id) in checked]
        if stale:
            STOCK_ALERT.move_many(stale, "open", "closed")
            closed = stale
        if raised or closed:
            events.publish("stock.alerts", {"made_on": made_on.isoformat(), "raised": len(raised),
                                            "closed": len(closed), "open": open_counts()}, ROOMS)
    return {"raised": len(raised), "closed": len(closed)}


def open_counts() -> dict[str, int]:
    """kind -> open alerts of it."""
    counts = dict.fromkeys(ALERT_KINDS, 0)
    for kind, n in (StockAlert.select(StockAlert.kind, fn.COUNT(StockAlert.id)).where(StockAlert.state == "open")
                    .group_by(StockAlert.kind).tuples()):
        counts[kind] = n
    return counts


def listing(state: str = "open", kind: str | None = None, warehouse: str | None = None, limit: int = 200) -> list[dict]:
    """Alerts newest first, with their SKU, warehouse and numbers."""
    query = (StockAlert.select(StockAlert, Product, Warehouse).join(Product).switch(StockAlert).join(Warehouse)
             .order_by(StockAlert.raised_on.desc(), StockAlert.kind, Product.sku).limit(limit))
    if state != "all":
        query = query.where(StockAlert.state == state)
    if kind:
        query = query.where(StockAlert.kind == kind)
    if warehouse:
        query = query.where(Warehouse.code == warehouse)
    return [{"id": a.id, "kind": a.kind, "sku": a.product.sku, "name": a.product.name, "warehouse": a.warehouse.code,
             "raised_on": a.raised_on, "state": a.state, "detail": json.loads(a.detail or "{}")} for a in query]
