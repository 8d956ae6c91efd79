"""Stock in transit (在途): what approved and partly received purchase orders still bring, per
SKU, warehouse and expected date (the line's date, else its order's; none when neither says).

It is never a quant: no unit of it can be reserved or picked. The stock views show it beside
on-hand, reserved and free; a shop that sells presale (预售) against inbound is offered it by
its expected date, apart from its available stock (services/orders/channel_stock.py); the
routing rules see it in the order's context (services/orders/facts.py).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from peewee import fn

from server.models import Product, PurchaseOrder, PurchaseOrderLine, Warehouse
from server.models.purchasing import IN_TRANSIT_STATES


def _open_lines(product_ids=None, warehouse_id: int | None = None):
    """(product id, warehouse id, expected date or None, open qty, po code) of each open line."""
    expected = fn.COALESCE(PurchaseOrderLine.expected_on, PurchaseOrder.expected_on)
    query = (PurchaseOrderLine.select(PurchaseOrderLine.product, PurchaseOrder.warehouse, expected.alias("expected"),
                                      (PurchaseOrderLine.qty - PurchaseOrderLine.received_qty).alias("open"),
                                      PurchaseOrder.code)
             .join(PurchaseOrder)
             .where(PurchaseOrder.status.in_(IN_TRANSIT_STATES)
                    & (PurchaseOrderLine.received_qty < PurchaseOrderLine.qty)))
    if product_ids is not None:
        query = query.where(PurchaseOrderLine.product.in_(list(product_ids)))
    if warehouse_id is not None:
        query = query.where(PurchaseOrder.warehouse == warehouse_id)
    for product_id, warehouse, expected_on, open_qty, code in query.tuples():
        yield product_id, warehouse, _as_date(expected_on), int(open_qty), code


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])  # SQLite's COALESCE gives the stored text


def by_product(product_ids=None, warehouse_id: int | None = None) -> dict[int, int]:
    """product id -> units in transit (in one warehouse, or in all)."""
    totals: dict[int, int] = defaultdict(int)
    for product_id, _, _, open_qty, _ in _open_lines(product_ids, warehouse_id):
        totals[product_id] += open_qty
    return dict(totals)


def by_warehouse(product_ids) -> dict[tuple[int, int], int]:
    """(product id, warehouse id) -> units in transit, of ``product_ids`` (None: every product)."""
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for product_id, warehouse_id, _, open_qty, _ in _open_lines(product_ids):
        totals[(product_id, warehouse_id)] += open_qty
    return dict(totals)


def by_date(product_ids=None, warehouse_id: int | None = None) -> dict[int, list[tuple[dt.date | None, int]]]:
    """product id -> [(expected date, units)], earliest first, an undated quantity last."""
    dated: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for product_id, _, expected_on, open_qty, _ in _open_lines(product_ids, warehouse_id):
        dated[product_id][expected_on] += open_qty
    return {product_id: sorted(days.items(), key=lambda item: (item[0] is None, item[0] or dt.date.min))
            for product_id, days in dated.items()}


def rows(product_ids=None, warehouse_id: int | None = None) -> list[dict]:
    """Each SKU, warehouse, expected date and purchase order with units in transit."""
    found = list(_open_lines(product_ids, warehouse_id))
    skus = dict(Product.select(Product.id, Product.sku).where(Product.id.in_({r[0] for r in found})).tuples())
    codes = dict(Warehouse.select(Warehouse.id, Warehouse.code).tuples())
    out = [{"sku": skus[product_id], "warehouse": codes[warehouse], "po": code, "qty": open_qty,
            "expected_on": expected_on.isoformat() if expected_on else None}
           for product_id, warehouse, expected_on, open_qty, code in found]
    out.sort(key=lambda r: (r["sku"], r["warehouse"], r["expected_on"] is None, r["expected_on"] or "", r["po"]))
    return out
