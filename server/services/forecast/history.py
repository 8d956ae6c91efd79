"""Daily demand per SKU and warehouse from the order lines (by the day the order was paid, in
China's time), leaving out cancelled orders and refunded lines; and the promotion days (大促:
618, 双11, 双12, the merchant's own) among those days.

An order not yet routed to a warehouse is not counted: its demand has no warehouse yet.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
from peewee import SQL, fn

from server.channels.values import CHANNEL_TZ
from server.db import is_sqlite
from server.models import Order, OrderLine, PromotionDay


def _offset_hours() -> int:
    """China's offset from UTC in whole hours (no daylight saving: +8)."""
    return int(dt.datetime.now(CHANNEL_TZ).utcoffset().total_seconds() // 3600)


def _paid_day():
    """The SQL expression of the China date an order was paid on (paid_at is stored in UTC)."""
    hours = _offset_hours()
    if is_sqlite():
        return fn.date(Order.paid_at, f"{hours:+d} hours")
    return fn.date(Order.paid_at + SQL(f"interval '{hours} hours'"))


def window(end: dt.date, days: int) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The first day of the ``days`` ending the day before ``end``, and those days' bounds in UTC."""
    first = end - dt.timedelta(days=days)
    shift = dt.timedelta(hours=_offset_hours())
    return first, dt.datetime.combine(first, dt.time()) - shift, dt.datetime.combine(end, dt.time()) - shift


def daily_demand(end: dt.date, days: int, product_ids=None, warehouse_id: int | None = None
                 ) -> dict[tuple[int, int], np.ndarray]:
    """(product id, warehouse id) -> units a day for the ``days`` before ``end``, oldest first.
    A return booked as a negative line comes through as it is (the forecast leaves it out)."""
    first, since, until = window(end, days)
    day = _paid_day().alias("day")
    query = (OrderLine.select(OrderLine.product, Order.warehouse, day, fn.SUM(OrderLine.qty))
             .join(Order)
             .where((Order.paid_at >= since) & (Order.paid_at < until) & (Order.status != "cancelled")
                    & (OrderLine.refund_status != "refunded") & OrderLine.product.is_null(False)
                    & Order.warehouse.is_null(False))
             .group_by(OrderLine.product, Order.warehouse, SQL("3")))
    if product_ids is not None:
        query = query.where(OrderLine.product.in_(list(product_ids)))
    if warehouse_id is not None:
        query = query.where(Order.warehouse == warehouse_id)
    out: dict[tuple[int, int], np.ndarray] = {}
    for product_id, warehouse, paid_on, qty in query.tuples():
        index = (_as_date(paid_on) - first).days
        if 0 <= index < days:
            out.setdefault((product_id, warehouse), np.zeros(days))[index] += float(qty)
    return out


#: the platforms' promotion days of every year (month, day, name), promotion days without a row
PLATFORM_DAYS = ((6, 18, "618"), (11, 11, "双11"), (12, 12, "双12"))


def promotion_days(end: dt.date, days: int) -> np.ndarray:
    """Which of the ``days`` before ``end`` are promotion days: the platforms' (618, 双11, 双12,
    every year) and the table's (the merchant's own, and any other)."""
    first = end - dt.timedelta(days=days)
    mask = np.zeros(days, dtype=bool)
    for year in range(first.year, end.year + 1):
        for month, day, _ in PLATFORM_DAYS:
            index = (dt.date(year, month, day) - first).days
            if 0 <= index < days:
                mask[index] = True
    for (day,) in PromotionDay.select(PromotionDay.day).where((PromotionDay.day >= first)
                                                              & (PromotionDay.day < end)).tuples():
        mask[(_as_date(day) - first).days] = True
    return mask


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
