"""What a SKU has in a warehouse and where more comes from: available and reserved units on the
pick and reserve locations, units in transit (在途), and the supplier item it is bought by.

The supplier item chosen is the cheapest of active suppliers (then the shortest lead time, then
the supplier's code): the one a buyer would order from first.
"""
from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from server.models import Location, Quant, Supplier, SupplierItem
from server.models.layout import PICKABLE_KINDS
from server.services.purchasing import intransit


@dataclass(frozen=True)
class Stock:
    available: int = 0   # units in the available state on pick and reserve locations
    reserved: int = 0    # of them, promised to orders
    in_transit: int = 0  # open units of approved purchase orders

    @property
    def position(self) -> int:
        return self.available + self.in_transit - self.reserved

    @property
    def free(self) -> int:
        return self.available - self.reserved


@dataclass(frozen=True)
class Source:
    supplier: str        # code
    supplier_name: str
    lead_time_days: int
    moq: int
    pack_size: int
    unit_cost_fen: int


def stock(product_ids=None, warehouse_id: int | None = None) -> dict[tuple[int, int], Stock]:
    """(product id, warehouse id) -> its stock."""
    query = (Quant.select(Quant.product, Location.warehouse, fn.SUM(Quant.qty), fn.SUM(Quant.reserved))
             .join(Location)
             .where((Quant.state == "available") & Location.kind.in_(PICKABLE_KINDS) & Location.active)
             .group_by(Quant.product, Location.warehouse))
    if product_ids is not None:
        query = query.where(Quant.product.in_(list(product_ids)))
    if warehouse_id is not None:
        query = query.where(Location.warehouse == warehouse_id)
    on_hand = {(p, w): (int(q or 0), int(r or 0)) for p, w, q, r in query.tuples()}
    transit = intransit.by_warehouse(product_ids)
    keys = set(on_hand) | {k for k in transit if warehouse_id is None or k[1] == warehouse_id}
    return {key: Stock(*on_hand.get(key, (0, 0)), transit.get(key, 0)) for key in keys}


def sources(product_ids=None) -> dict[int, Source]:
    """product id -> the supplier item it is bought by."""
    query = (SupplierItem.select(SupplierItem.product, Supplier.code, Supplier.name, Supplier.lead_time_days,
                                 SupplierItem.moq, SupplierItem.pack_size, SupplierItem.unit_cost_fen)
             .join(Supplier).where(Supplier.active)
             .order_by(SupplierItem.product, SupplierItem.unit_cost_fen, Supplier.lead_time_days, Supplier.code))
    if product_ids is not None:
        query = query.where(SupplierItem.product.in_(list(product_ids)))
    found: dict[int, Source] = {}
    for product_id, *fields in query.tuples():
        found.setdefault(product_id, Source(*fields))
    return found
