"""A pick face's minimum and maximum (最低/最高库存): set by hand, or suggested from days of cover.

Days of cover turn a SKU's daily demand into units: a face that should last ``min_days`` before
it is refilled gets ``min_qty = ceil(per_day * min_days)``, and one refill brings it up to
``max_qty = ceil(per_day * max_days)``. The daily demand is the SKU's latest forecast
(``DemandForecast.per_day``) when one exists, else the average of the last 28 days' shipped-to
demand (order lines by paid time, cancelled orders and refunded lines left out).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from peewee import fn

from server.db import write_transaction
from server.models import Location, Order, OrderLine, PickFace, Product, Quant, Warehouse
from server.models.base import utcnow
from server.models.stockcontrol import DemandForecast
from server.services.errors import DomainError, NotFound

HISTORY_DAYS = 28
MIN_DAYS, MAX_DAYS = 1.0, 3.0  # the suggestion's defaults: refill when a day is left, fill for three
MAX_LIMIT = 10_000_000


class BadLimits(DomainError):
    """A maximum below the minimum, or a negative one."""
    code = "replenish_bad_limits"


def per_day(product_id: int, warehouse_id: int, today: dt.date | None = None) -> tuple[float, str]:
    """(units a day, where the figure comes from: ``forecast`` or ``history``)."""
    forecast = (DemandForecast.select(DemandForecast.per_day)
                .where((DemandForecast.product == product_id) & (DemandForecast.warehouse == warehouse_id))
                .order_by(DemandForecast.made_on.desc()).limit(1).scalar())
    if forecast is not None:
        return float(forecast), "forecast"
    today = today or utcnow().date()
    since = dt.datetime.combine(today - dt.timedelta(days=HISTORY_DAYS), dt.time())
    units = (OrderLine.select(fn.SUM(OrderLine.qty)).join(Order)
             .where((OrderLine.product == product_id) & (Order.warehouse == warehouse_id)
                    & (Order.status != "cancelled") & (OrderLine.refund_status != "refunded")
                    & (Order.paid_at >= since) & (Order.paid_at < dt.datetime.combine(today, dt.time())))
             .scalar())
    return float(units or 0) / HISTORY_DAYS, "history"


def face_of(location_code: str, sku: str) -> PickFace:
    location = Location.get_or_none(Location.code == location_code)
    if location is None:
        raise NotFound(f"unknown location {location_code!r}", code=location_code)
    product = Product.get_or_none(Product.sku == sku)
    if product is None:
        raise NotFound(f"no product with SKU {sku!r}", code=sku)
    face = PickFace.get_or_none((PickFace.location == location.id) & (PickFace.product == product.id))
    return face or PickFace(location=location, product=product, min_qty=0, max_qty=0)


def set_limits(location_code: str, sku: str, min_qty: int, max_qty: int) -> PickFace:
    """A face's minimum and maximum, set by hand (the face is made when the SKU has none there)."""
    if not (0 <= min_qty <= max_qty <= MAX_LIMIT):
        raise BadLimits(f"need 0 <= min ({min_qty}) <= max ({max_qty})", min_qty=min_qty, max_qty=max_qty)
    with write_transaction():
        face = face_of(location_code, sku)
        face.min_qty, face.max_qty = min_qty, max_qty
        face.save()
    return face


@dataclass(frozen=True)
class Suggestion:
    location: str
    sku: str
    per_day: float
    source: str       # forecast | history
    min_qty: int
    max_qty: int
    was_min: int
    was_max: int


def suggest(warehouse, *, min_days: float = MIN_DAYS, max_days: float = MAX_DAYS, apply: bool = False,
            today: dt.date | None = None) -> list[Suggestion]:
    """Each face's minimum and maximum from days of cover; written when ``apply``. A face whose
    SKU sold nothing keeps a minimum of 0 (it is never refilled by the minimum) and a maximum of 1."""
    if not 0 <= min_days <= max_days:
        raise BadLimits(f"need 0 <= min_days ({min_days}) <= max_days ({max_days})")
    found = Warehouse.get_or_none((Warehouse.code == str(warehouse)))
    if found is None:
        raise NotFound(f"no warehouse {warehouse!r}", warehouse=str(warehouse))
    faces = list(PickFace.select(PickFace, Location, Product).join(Location).switch(PickFace).join(Product)
                 .where(Location.warehouse == found.id).order_by(Location.code, Product.sku))
    out = []
    with write_transaction():
        for face in faces:
            daily, source = per_day(face.product_id, found.id, today)
            low = math.ceil(daily * min_days - 1e-9)
            high = max(low, math.ceil(daily * max_days - 1e-9), 1)
            out.append(Suggestion(face.location.code, face.product.sku, round(daily, 3), source, low, high,
                                  face.min_qty, face.max_qty))
            if apply:
                PickFace.update(min_qty=low, max_qty=high).where(PickFace.id == face.id).execute()
    return out


def faces(warehouse=None) -> list[dict]:
    """Every pick face with its limits and the units on it now."""
    query = (PickFace.select(PickFace, Location, Product).join(Location).switch(PickFace).join(Product)
             .order_by(Location.code, Product.sku))
    if warehouse is not None:
        query = query.join(Warehouse, on=(Location.warehouse == Warehouse.id)).where(Warehouse.code == str(warehouse))
    rows = list(query)
    on_hand = dict(((product, location), int(qty or 0)) for product, location, qty in Quant.select(
        Quant.product, Quant.location, fn.SUM(Quant.qty)).where(
        (Quant.state == "available") & Quant.location.in_([f.location_id for f in rows] or [0]))
        .group_by(Quant.product, Quant.location).tuples())
    return [{"location": f.location.code, "sku": f.product.sku, "name": f.product.name, "min_qty": f.min_qty,
             "max_qty": f.max_qty, "on_hand": on_hand.get((f.product_id, f.location_id), 0)} for f in rows]


def face_view(face: PickFace) -> dict:
    on_hand = (Quant.select(fn.SUM(Quant.qty)).where((Quant.product == face.product_id)
                                                      & (Quant.location == face.location_id)
                                                      & (Quant.state == "available")).scalar())
    return {"location": face.location.code, "sku": face.product.sku, "name": face.product.name,
            "min_qty": face.min_qty, "max_qty": face.max_qty, "on_hand": int(on_hand or 0)}
