"""Stock by codes: what the API, the pages and the CLI ask of the inventory, in warehouse terms
(SKU codes, barcodes, location codes) rather than row ids."""
from __future__ import annotations

from peewee import JOIN

from server.models import Device, Location, Product, StockMove, User, Warehouse
from server.models.base import as_utc
from server.services.approvals import requests as approval_requests
from server.services.errors import DomainError, NotFound
from server.services.purchasing import intransit
from server.services.stock import inventory


def actor_of(principal) -> inventory.Actor:
    return inventory.Actor(principal.user.id, principal.device.id if principal.device else None)


def location_by_code(code: str) -> Location:
    found = Location.get_or_none(Location.code == code)
    if found is None:
        raise NotFound(f"unknown location {code!r}", code=code)
    return found


def product_by_code(code: str) -> Product:
    return inventory.find_product(code)[0]


def quant_rows(quants) -> list[dict]:
    """Each quant; ``free`` is what may still be promised to an order: available units not
    reserved (units waiting for QC, frozen or damaged are never free)."""
    return [{"sku": q.product.sku, "name": q.product.name, "location": q.location.code,
             "state": q.state, "lot": q.lot, "qty": q.qty, "reserved": q.reserved,
             "free": q.qty - q.reserved if q.state == "available" else 0} for q in quants]


def stock_view(sku=None, barcode=None, location=None, warehouse=None) -> dict:
    if not (sku or barcode or location):
        raise DomainError("name a sku, a barcode or a location")
    filters = {}
    if sku or barcode:
        filters["product"] = product_by_code(sku or barcode)
    if location:
        filters["location"] = location_by_code(location)
    if warehouse:
        found = Warehouse.get_or_none(Warehouse.code == warehouse)
        if found is None:
            raise NotFound(f"unknown warehouse {warehouse!r}")
        filters["warehouse"] = found
    items = quant_rows(inventory.quants(**filters))
    view = {"items": items, "total_qty": sum(i["qty"] for i in items),
            "total_reserved": sum(i["reserved"] for i in items), "total_free": sum(i["free"] for i in items),
            "in_transit": 0, "in_transit_items": []}
    if "product" in filters and "location" not in filters:  # 在途 is at no location: shown for a product
        warehouse_id = filters["warehouse"].id if "warehouse" in filters else None
        view["in_transit_items"] = intransit.rows([filters["product"].id], warehouse_id)
        view["in_transit"] = sum(row["qty"] for row in view["in_transit_items"])
    return view


def ledger(sku=None, location=None, ref=None, limit=100) -> list[dict]:
    src, dst = Location.alias(), Location.alias()
    query = (StockMove.select(StockMove.id, StockMove.at, Product.sku, StockMove.lot, StockMove.qty,
                              StockMove.reserved, src.code.alias("from_location"), StockMove.from_state,
                              dst.code.alias("to_location"), StockMove.to_state, StockMove.reason,
                              StockMove.ref, User.code.alias("user"), Device.code.alias("device"))
             .join(Product).switch(StockMove)
             .join(src, JOIN.LEFT_OUTER, on=(StockMove.from_location == src.id)).switch(StockMove)
             .join(dst, JOIN.LEFT_OUTER, on=(StockMove.to_location == dst.id)).switch(StockMove)
             .join(User, JOIN.LEFT_OUTER).switch(StockMove)
             .join(Device, JOIN.LEFT_OUTER)
             .order_by(StockMove.id.desc()).limit(limit))
    if sku:
        query = query.where(StockMove.product == product_by_code(sku))
    if location:
        loc = location_by_code(location)
        query = query.where((StockMove.from_location == loc) | (StockMove.to_location == loc))
    if ref:
        query = query.where(StockMove.ref == ref)
    return [dict(row, at=as_utc(row["at"])) for row in query.dicts()]


def receive(*, actor, sku, location, qty, state="available", lot="", ref=""):
    inventory.receive(product_by_code(sku), location_by_code(location), qty, actor=actor, state=state,
                      lot=lot, ref=ref)


def move(*, actor, sku, from_location, to_location, qty, state="available", to_state=None, lot="",
         ref=""):
    inventory.move(product_by_code(sku), location_by_code(from_location), location_by_code(to_location), qty, actor=actor,
                   state=state, to_state=to_state, lot=lot, ref=ref)


def adjust(*, actor, sku, location, delta, reason, state="available", lot="", ref=""):
    """Correct a quantity; one worth more at cost than the ``stock_adjustment`` approval flow's
    amount waits for its approvers instead (the request is returned; None when it was posted)."""
    product, place = product_by_code(sku), location_by_code(location)
    value = abs(delta) * product.cost_fen
    payload = {"sku": sku, "location": location, "delta": delta, "reason": reason, "state": state, "lot": lot,
               "ref": ref}
    request = approval_requests.open_request("stock_adjustment", f"{sku}@{location}", value, payload,
                                             f"{sku} at {location}: {delta:+d} ({reason}), {value} fen at cost", actor)
    if request is None:
        inventory.adjust(product, place, delta, actor=actor, reason=reason, state=state, lot=lot, ref=ref)
    return request


def post_adjustment(payload: dict, actor) -> None:
    """An approved adjustment, posted as its requester asked it (attributed to them)."""
    inventory.adjust(product_by_code(payload["sku"]), location_by_code(payload["location"]), payload["delta"],
                     actor=actor, reason=payload["reason"], state=payload["state"], lot=payload["lot"],
                     ref=payload["ref"])


def change_state(*, actor, sku, location, qty, from_state, to_state, reason="state", lot=""):
    inventory.change_state(product_by_code(sku), location_by_code(location), qty, from_state, to_state,
                           actor=actor, lot=lot, reason=reason)
