"""Return rate per SKU (退货率): units that came back at the returns bench over units shipped,
both counted over the same dates (UTC days, the end day included).

Shipped units are the ledger's ``ship`` lines (scan-out); returned units are the bench's units
(every condition: a scrapped unit was returned all the same).
"""
from __future__ import annotations

import datetime as dt

from peewee import fn

from server.models import Location, Product, ReturnParcel, ReturnUnit, StockMove


def _bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(since, dt.time()), dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))


def return_rates(since: dt.date, until: dt.date, *, warehouse_id: int | None = None) -> list[dict]:
    """One row per SKU shipped or returned in the range: shipped, returned, by condition, and the
    rate in per mille (an integer) and as a percent string; most returned first."""
    start, end = _bounds(since, until)
    shipped_q = (StockMove.select(StockMove.product, fn.SUM(StockMove.qty))
                 .where((StockMove.reason == "ship") & (StockMove.at >= start) & (StockMove.at < end))
                 .group_by(StockMove.product))
    returned_q = (ReturnUnit.select(ReturnUnit.product, ReturnUnit.condition, fn.SUM(ReturnUnit.qty))
                  .join(ReturnParcel)
                  .where((ReturnUnit.at >= start) & (ReturnUnit.at < end))
                  .group_by(ReturnUnit.product, ReturnUnit.condition))
    if warehouse_id is not None:
        returned_q = returned_q.where(ReturnParcel.warehouse == warehouse_id)
        shipped_q = shipped_q.where(StockMove.from_location.in_(_locations_of(warehouse_id)))
    shipped = {product: int(total or 0) for product, total in shipped_q.tuples()}
    returned: dict[int, dict[str, int]] = {}
    for product, condition, total in returned_q.tuples():
        returned.setdefault(product, {})[condition] = int(total or 0)
    ids = set(shipped) | set(returned)
    products = {p.id: p for p in Product.select().where(Product.id.in_(list(ids) or [0]))}
    rows = []
    for product_id in ids:
        back = sum(returned.get(product_id, {}).values())
        out = shipped.get(product_id, 0)
        per_mille = back * 1000 // out if out else None
        rows.append({"sku": products[product_id].sku, "name": products[product_id].name, "shipped": out,
                     "returned": back, "by_condition": returned.get(product_id, {}),
                     "rate_per_mille": per_mille,
                     "rate": f"{back * 100 / out:.1f}%" if out else "—"})
    rows.sort(key=lambda r: (-(r["rate_per_mille"] or 0), -r["returned"], r["sku"]))
    return rows


def _locations_of(warehouse_id: int):
    return Location.select(Location.id).where(Location.warehouse == warehouse_id)
