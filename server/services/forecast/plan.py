"""The daily purchase plan (采购计划): from each SKU's latest stored forecast and its stock, the
reorder point and, at or below it, a quantity rounded to the supplier's MOQ and packs; the
suggestions grouped by supplier and warehouse become draft purchase orders for approval
(services/purchasing/orders.py), never lines written here.

A SKU already on a draft or submitted order of its warehouse is left out: those units are not in
transit yet (在途 starts at approval), and ordering them again would double them.
"""
from __future__ import annotations

import datetime as dt
import json

from peewee import fn

from server.models import DemandForecast, Product, PurchaseOrder, PurchaseOrderLine, Warehouse
from server.services.forecast import reorder, supply
from server.services.forecast.settings import DEFAULT_LEAD_DAYS, Settings, today
from server.services.purchasing import orders
from server.services.stock import inventory

UNORDERED_STATES = ("draft", "submitted")


def latest_rows(warehouse_id: int | None = None, sku: str | None = None) -> list[DemandForecast]:
    """Each SKU and warehouse's most recent forecast."""
    newest = (DemandForecast.select(DemandForecast.product, DemandForecast.warehouse,
                                    fn.MAX(DemandForecast.made_on).alias("made_on"))
              .group_by(DemandForecast.product, DemandForecast.warehouse))
    if warehouse_id is not None:
        newest = newest.where(DemandForecast.warehouse == warehouse_id)
    if sku:
        newest = newest.join(Product).where(Product.sku == sku)
    newest = newest.alias("newest")
    query = (DemandForecast.select(DemandForecast, Product, Warehouse)
             .join(newest, on=((DemandForecast.product == newest.c.product_id)
                               & (DemandForecast.warehouse == newest.c.warehouse_id)
                               & (DemandForecast.made_on == newest.c.made_on)))
             .switch(DemandForecast).join(Product).switch(DemandForecast).join(Warehouse)
             .order_by(Product.sku, Warehouse.code))
    return list(query)


def numbers(row: DemandForecast, stock: supply.Stock, source: supply.Source | None, settings: Settings) -> dict:
    """The office's numbers of one SKU in one warehouse from its stored forecast."""
    daily = json.loads(row.daily or "[]")
    lead = source.lead_time_days if source else DEFAULT_LEAD_DAYS
    point = reorder.reorder_point(daily, row.per_day, row.sigma, lead, settings.service_level_pct)
    qty = 0
    if daily:
        qty = reorder.order_quantity(stock.position, point, row.per_day, settings.cover_days,
                                     source.moq if source else 1, source.pack_size if source else 1)
    cover = reorder.days_of_cover(stock.position, row.per_day)
    return {"lead_time_days": lead, "lead_time_demand": round(point.lead_time_demand, 1),
            "safety_stock": round(point.safety_stock, 1), "reorder_point": round(point.reorder_point, 1),
            "available": stock.available, "reserved": stock.reserved, "in_transit": stock.in_transit,
            "position": stock.position, "days_of_cover": None if cover is None else round(cover, 1),
            "order_qty": qty, "supplier": source.supplier if source else None,
            "supplier_name": source.supplier_name if source else None,
            "moq": source.moq if source else None, "pack_size": source.pack_size if source else None,
            "unit_cost_fen": source.unit_cost_fen if source else None}


def forecast_view(row: DemandForecast) -> dict:
    return {"sku": row.product.sku, "name": row.product.name, "warehouse": row.warehouse.code,
            "made_on": str(row.made_on), "sb_class": row.sb_class, "adi": row.adi, "cv2": row.cv2,
            "method": row.method, "per_day": round(row.per_day, 3), "sigma": round(row.sigma, 3),
            "mase": row.mase, "bias": row.bias, "reason": row.reason, "daily": json.loads(row.daily or "[]")}


def _on_open_orders(warehouse_id: int | None) -> set[tuple[int, int]]:
    """(product id, warehouse id) on a draft or submitted purchase order."""
    query = (PurchaseOrderLine.select(PurchaseOrderLine.product, PurchaseOrder.warehouse).join(PurchaseOrder)
             .where(PurchaseOrder.status.in_(UNORDERED_STATES)))
    if warehouse_id is not None:
        query = query.where(PurchaseOrder.warehouse == warehouse_id)
    return set(query.tuples())


def overview(settings: Settings | None = None, *, warehouse: str | None = None, sku: str | None = None) -> list[dict]:
    """Every SKU with a forecast: the forecast and the reorder numbers."""
    settings = settings or Settings()
    warehouse_id = orders.warehouse_by_code(warehouse).id if warehouse else None
    rows = latest_rows(warehouse_id, sku)
    product_ids = {row.product_id for row in rows}
    stock = supply.stock(product_ids, warehouse_id) if rows else {}
    sources = supply.sources(product_ids) if rows else {}
    return [dict(forecast_view(row), **numbers(row, stock.get((row.product_id, row.warehouse_id), supply.Stock()),
                                               sources.get(row.product_id), settings))
            for row in rows]


def suggestions(settings: Settings | None = None, *, warehouse: str | None = None) -> list[dict]:
    """The SKUs to order now: at or below their reorder point, with the quantity; those with no
    supplier or already on an open draft say so (``blocked``) and make no order."""
    warehouse_id = orders.warehouse_by_code(warehouse).id if warehouse else None
    pending = _on_open_orders(warehouse_id)
    out = []
    for row in overview(settings, warehouse=warehouse):
        if not row["order_qty"]:
            continue
        row["blocked"] = "no_supplier" if row["supplier"] is None else ""
        out.append(row)
    keyed = {(r["sku"], r["warehouse"]) for r in out}
    if keyed and pending:
        skus = dict(Product.select(Product.id, Product.sku).where(Product.id.in_({p for p, _ in pending})).tuples())
        codes = dict(Warehouse.select(Warehouse.id, Warehouse.code).tuples())
        on_draft = {(skus[p], codes[w]) for p, w in pending}
        for row in out:
            if not row["blocked"] and (row["sku"], row["warehouse"]) in on_draft:
                row["blocked"] = "on_open_order"
    return out


def create_drafts(actor: inventory.Actor, settings: Settings | None = None, *, warehouse: str | None = None,
                  made_on: dt.date | None = None) -> list[dict]:
    """A draft purchase order per supplier and warehouse for the open suggestions:
    [{po, supplier, warehouse, lines, total_fen}]."""
    made_on = made_on or today()
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in suggestions(settings, warehouse=warehouse):
        if not row["blocked"]:
            groups.setdefault((row["supplier"], row["warehouse"]), []).append(row)
    created = []
    for (supplier_code, warehouse_code), rows in sorted(groups.items()):
        lead = max(r["lead_time_days"] for r in rows)
        for start in range(0, len(rows), orders.MAX_LINES):
            lines = [{"sku": r["sku"], "qty": r["order_qty"]} for r in rows[start:start + orders.MAX_LINES]]
            po = orders.create(supplier_code, warehouse_code, lines, actor,
                               expected_on=made_on + dt.timedelta(days=lead),
                               note=f"purchase plan 采购计划 {made_on.isoformat()}")
            created.append({"po": po.code, "supplier": supplier_code, "warehouse": warehouse_code,
                            "lines": len(lines), "total_fen": po.total_fen})
    return created
