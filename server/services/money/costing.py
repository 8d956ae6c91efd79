"""Unit cost by moving weighted average (移动加权平均), per SKU and warehouse, and stock value.

A receipt of ``q`` units at ``c`` fen each (the purchase order line's unit cost plus its share of
the order's inbound freight) into a warehouse that holds ``Q`` units at unit cost ``C``:

    new unit cost = round((Q × C + q × c) / (Q + q))        (half up, to the fen)

computed in the receipt's own transaction (``received``, called by receiving/receipts.py before
the units enter the ledger), with the unit cost row locked so two receipts of one SKU at once
do not both start from the same ``C``. Units sold that come back at the returns bench into
stock (restock, damaged) are taken in the same way at ``c`` = the unit cost fixed at their
shipment (``returned``), the cost their COGS is reversed at; scrapped units leave again and
are not taken in. ``Q`` is every unit of the SKU in the warehouse's
locations (any state) except the shipped sink. A SKU with no receipt yet costs its catalogue
cost (``Product.cost_fen``).

Stock value at a date: the units each SKU had in each warehouse at the end of that China day,
summed from the ledger (StockMove), times the unit cost in force then (the last CostChange
before the end of the day, else the catalogue cost).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from peewee import EXCLUDED, JOIN, fn

from server.channels.values import CHANNEL_TZ
from server.db import sql, sql_row, write_transaction
from server.models import (CostChange, InboundFreight, Location, Product, PurchaseOrderLine, StockMove, UnitCost,
                           Warehouse)
from server.models.base import utcnow
from server.services.errors import DomainError, NotFound
from server.services.money.split import half_up, split

NOT_STOCK = ("shipped",)  # location kinds whose units have left


class BadCost(DomainError):
    code = "bad_cost"


def _id(value) -> int | None:
    return value if value is None or isinstance(value, int) else value.id


def catalogue_cost(product_id: int) -> int:
    return Product.select(Product.cost_fen).where(Product.id == product_id).scalar() or 0


def unit_cost(product, warehouse) -> int:
    """The SKU's unit cost in the warehouse now (fen); its catalogue cost before any receipt."""
    product_id, warehouse_id = _id(product), _id(warehouse)
    if warehouse_id is not None:
        found = (UnitCost.select(UnitCost.unit_cost_fen)
                 .where((UnitCost.product == product_id) & (UnitCost.warehouse == warehouse_id)).scalar())
        if found is not None:
            return found
    return catalogue_cost(product_id)


def on_hand(product_id: int, warehouse_id: int) -> int:
    """Units of the SKU in the warehouse, every state, the shipped sink left out."""
    row = sql_row("SELECT COALESCE(SUM(q.qty), 0) FROM quant q JOIN location l ON l.id = q.location_id "
                  "WHERE q.product_id = ? AND l.warehouse_id = ? AND l.kind NOT IN ('shipped')",
                  product_id, warehouse_id)
    return int(row[0])


def freight_per_line(po_id: int) -> dict[int, int]:
    """The purchase order's inbound freight split over its lines by value (qty × unit cost)."""
    freight = InboundFreight.select(InboundFreight.fen).where(InboundFreight.po == po_id).scalar() or 0
    if not freight:
        return {}
    lines = list(PurchaseOrderLine.select(PurchaseOrderLine.id, PurchaseOrderLine.qty, PurchaseOrderLine.unit_cost_fen)
                 .where(PurchaseOrderLine.po == po_id).order_by(PurchaseOrderLine.id).tuples())
    if not lines:
        return {}
    shares = split(freight, [qty * cost for _, qty, cost in lines] if any(c for *_, c in lines)
                   else [qty for _, qty, _ in lines])
    return {line_id: share for (line_id, _, _), share in zip(lines, shares)}


def value_in(po_line_id: int, qty: int) -> int:
    """What ``qty`` units of a purchase order line cost, its share of inbound freight included."""
    po_id, ordered, cost = sql_row("SELECT po_id, qty, unit_cost_fen FROM purchase_order_line WHERE id = ?",
                                   po_line_id)
    freight = freight_per_line(po_id).get(po_line_id, 0)
    return qty * cost + (half_up(freight * qty, ordered) if freight and ordered > 0 else 0)


def _lock(product_id: int, warehouse_id: int) -> int:
    """The unit cost row, made if missing and locked for this transaction (PostgreSQL takes the
    row lock with the UPDATE; SQLite writers are serialised already). The cost before."""
    (UnitCost.insert(product=product_id, warehouse=warehouse_id, unit_cost_fen=catalogue_cost(product_id),
                     updated_at=utcnow()).on_conflict_ignore().execute())
    sql("UPDATE unit_cost SET updated_at = updated_at WHERE product_id = ? AND warehouse_id = ?",
        product_id, warehouse_id)
    return UnitCost.select(UnitCost.unit_cost_fen).where(
        (UnitCost.product == product_id) & (UnitCost.warehouse == warehouse_id)).scalar()


def _apply(product_id: int, warehouse_id: int, qty: int, value_fen: int, *, reason: str, ref: str) -> int:
    before = _lock(product_id, warehouse_id)
    held = on_hand(product_id, warehouse_id)
    after = half_up(held * before + value_fen, held + qty) if held + qty > 0 else before
    now = utcnow()
    UnitCost.update(unit_cost_fen=after, updated_at=now).where(
        (UnitCost.product == product_id) & (UnitCost.warehouse == warehouse_id)).execute()
    CostChange.create(product=product_id, warehouse=warehouse_id, at=now, qty_before=held, cost_before_fen=before,
                      qty_in=qty, value_in_fen=value_fen, unit_cost_fen=after, reason=reason, ref=ref[:100])
    return after


def received(product_id: int, warehouse_id: int, qty: int, po_line_id: int, ref: str = "") -> int:
    """Units of a purchase order line arrive (call before they enter the ledger, in the same
    transaction): the moving average takes them in. The new unit cost."""
    if qty <= 0:
        return unit_cost(product_id, warehouse_id)
    with write_transaction(savepoint=False):
        return _apply(product_id, warehouse_id, qty, value_in(po_line_id, qty), reason="receipt", ref=ref)


def returned(product_id: int, warehouse_id: int, qty: int, unit_cost_fen: int, ref: str = "") -> int:
    """Units sold come back into stock (call before they enter the ledger, in the same
    transaction): the moving average takes them in at ``unit_cost_fen``, the cost fixed when
    they were shipped, which is the cost their COGS is reversed at. The new unit cost."""
    if qty <= 0:
        return unit_cost(product_id, warehouse_id)
    with write_transaction(savepoint=False):
        return _apply(product_id, warehouse_id, qty, qty * unit_cost_fen, reason="return", ref=ref)


def set_unit_cost(product_id: int, warehouse_id: int, unit_cost_fen: int, ref: str = "") -> int:
    """The office corrects a unit cost (an opening balance, a supplier's credit note)."""
    if unit_cost_fen < 0:
        raise BadCost("a unit cost is not negative", fen=unit_cost_fen)
    with write_transaction():
        before = _lock(product_id, warehouse_id)
        held = on_hand(product_id, warehouse_id)
        now = utcnow()
        UnitCost.update(unit_cost_fen=unit_cost_fen, updated_at=now).where(
            (UnitCost.product == product_id) & (UnitCost.warehouse == warehouse_id)).execute()
        CostChange.create(product=product_id, warehouse=warehouse_id, at=now, qty_before=held, cost_before_fen=before,
                          qty_in=0, value_in_fen=0, unit_cost_fen=unit_cost_fen, reason="set", ref=ref[:100])
    return unit_cost_fen


def set_inbound_freight(po_id: int, fen: int) -> dict:
    """The purchase order's inbound freight (采购运费); receipts after this carry their share."""
    if fen < 0:
        raise BadCost("inbound freight is not negative", fen=fen)
    with write_transaction():
        (InboundFreight.insert(po=po_id, fen=fen, updated_at=utcnow())
         .on_conflict(conflict_target=[InboundFreight.po],
                      update={InboundFreight.fen: EXCLUDED.fen, InboundFreight.updated_at: EXCLUDED.updated_at})
         .execute())
    return {"po_id": po_id, "fen": fen, "lines": freight_per_line(po_id)}


def end_of_day(day: dt.date) -> dt.datetime:
    """The end of a China day as a stored (naive UTC) time."""
    return (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), CHANNEL_TZ)
            .astimezone(dt.timezone.utc).replace(tzinfo=None))


def quantities_at(moment: dt.datetime, warehouse=None) -> dict[tuple[int, int], int]:
    """(product, warehouse) -> units in stock at ``moment``, summed from the ledger."""
    held: dict[tuple[int, int], int] = defaultdict(int)
    for side, sign in ((StockMove.to_location, 1), (StockMove.from_location, -1)):
        query = (StockMove.select(StockMove.product, Location.warehouse, fn.SUM(StockMove.qty))
                 .join(Location, on=(side == Location.id))
                 .where((StockMove.at < moment) & Location.kind.not_in(NOT_STOCK) & (StockMove.qty != 0))
                 .group_by(StockMove.product, Location.warehouse))
        if warehouse is not None:
            query = query.where(Location.warehouse == _id(warehouse))
        for product_id, warehouse_id, units in query.tuples():
            held[(product_id, warehouse_id)] += sign * int(units or 0)
    return {key: units for key, units in held.items() if units}


def costs_at(moment: dt.datetime, warehouse=None) -> dict[tuple[int, int], int]:
    """(product, warehouse) -> the unit cost in force at ``moment`` (the last change before it)."""
    last = (CostChange.select(CostChange.product, CostChange.warehouse, fn.MAX(CostChange.id).alias("last"))
            .where(CostChange.at < moment).group_by(CostChange.product, CostChange.warehouse))
    if warehouse is not None:
        last = last.where(CostChange.warehouse == _id(warehouse))
    ids = [row[2] for row in last.tuples()]
    found = {}
    for start in range(0, len(ids), 500):
        for product_id, warehouse_id, cost in (CostChange.select(CostChange.product, CostChange.warehouse,
                                                                 CostChange.unit_cost_fen)
                                               .where(CostChange.id.in_(ids[start:start + 500])).tuples()):
            found[(product_id, warehouse_id)] = cost
    return found


def stock_values(at: dt.date, warehouse=None) -> list[dict]:
    """Each SKU's units and value in each warehouse at the end of the China day ``at``."""
    moment = end_of_day(at)
    units = quantities_at(moment, warehouse)
    costs = costs_at(moment, warehouse)
    product_ids = sorted({p for p, _ in units})
    names, catalogue = {}, {}
    for start in range(0, len(product_ids), 500):
        for pid, sku, name, cost in (Product.select(Product.id, Product.sku, Product.name, Product.cost_fen)
                                     .where(Product.id.in_(product_ids[start:start + 500])).tuples()):
            names[pid], catalogue[pid] = (sku, name), cost
    codes = dict(Warehouse.select(Warehouse.id, Warehouse.code).tuples())
    rows = []
    for (product_id, warehouse_id), qty in sorted(units.items(), key=lambda kv: (codes.get(kv[0][1], ""),
                                                                                 names.get(kv[0][0], ("",))[0])):
        cost = costs.get((product_id, warehouse_id), catalogue.get(product_id, 0))
        rows.append({"sku": names.get(product_id, ("", ""))[0], "name": names.get(product_id, ("", ""))[1],
                     "warehouse": codes.get(warehouse_id, ""), "qty": qty, "unit_cost_fen": cost,
                     "value_fen": qty * cost})
    return rows


def stock_value(at: dt.date, warehouse=None) -> int:
    """The stock's value (fen) at the end of the China day ``at``, one warehouse or all."""
    return sum(row["value_fen"] for row in stock_values(at, warehouse))


def unit_costs(warehouse=None, sku: str | None = None, limit: int = 500) -> list[dict]:
    query = (UnitCost.select(Product.sku, Product.name, Warehouse.code, UnitCost.unit_cost_fen, UnitCost.updated_at)
             .join(Product, on=(UnitCost.product == Product.id))
             .join(Warehouse, JOIN.INNER, on=(UnitCost.warehouse == Warehouse.id))
             .order_by(Warehouse.code, Product.sku).limit(limit))
    if warehouse is not None:
        query = query.where(UnitCost.warehouse == _id(warehouse))
    if sku:
        query = query.where(Product.sku == sku)
    return [{"sku": s, "name": n, "warehouse": w, "unit_cost_fen": c, "updated_at": u}
            for s, n, w, c, u in query.tuples()]


def history(product_id: int, warehouse_id: int, limit: int = 100) -> list[dict]:
    if Product.get_or_none(Product.id == product_id) is None:
        raise NotFound(f"no product {product_id}", id=product_id)
    return [{"at": c.at, "reason": c.reason, "ref": c.ref, "qty_before": c.qty_before,
             "cost_before_fen": c.cost_before_fen, "qty_in": c.qty_in, "value_in_fen": c.value_in_fen,
             "unit_cost_fen": c.unit_cost_fen}
            for c in CostChange.select().where((CostChange.product == product_id) & (CostChange.warehouse == warehouse_id))
            .order_by(CostChange.id.desc()).limit(limit)]
