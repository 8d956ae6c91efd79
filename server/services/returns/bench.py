"""The returns bench (退货入库): a parcel from a buyer is opened, each unit in it is scanned and
given its condition, and the parcel is closed.

A parcel is opened by what is written on it: its return tracking number (the one the buyer
gave on the channel's refund, ``Refund.return_tracking``), the tracking number of the parcel
we shipped, or the order number. A parcel that names no order is kept as an unknown parcel
(无头件) with a note (no photo), its units received as the receiver chooses, and matched to
its order later.

Each unit raises its order line's ``returned_qty`` by a guarded update (``... WHERE
returned_qty + n <= qty``), so a unit never comes back twice: the same unit scanned again, or
scanned at two benches at once, is received once and refused after (``already_returned``).
Stock changes only through the inventory service (reason ``return``, ref ``return:<parcel>``)
into the warehouse's returns location: ``restock`` as available (or qc_pending when returns go
through QC), ``damaged`` as damaged, ``scrap`` received as damaged and issued (reason
``scrap``).
"""
from __future__ import annotations

import uuid

from peewee import IntegrityError

from server.db import sql, write_transaction
from server.models import Location, Order, OrderLine, Product, Refund, ReturnParcel, ReturnUnit, Warehouse
from server.models.base import as_utc, utcnow
from server.models.returns import RETURN_CONDITIONS
from server.services.auth import mask_name, mask_phone
from server.services.errors import NotFound, Refused
from server.services.money import lines as line_money
from server.services.orders import lifecycle as orders
from server.services.packages import lifecycle as packages
from server.services.returns.lifecycle import RETURN_PARCEL
from server.services.stock import inventory
from server.services.stock.inventory import Actor

RETURNS_KIND = "returns"
MAX_UNITS_A_SCAN = 1000
NOTE_MOST = 500


# --- finding the order of a parcel ------------------------------------------------------------------

def order_for_code(code: str) -> tuple[Order | None, str]:
    """(the order a code on a parcel names, what named it: refund | package | order | "")."""
    code = (code or "").strip()
    if not code:
        return None, ""
    refund = (Refund.select().where((Refund.return_tracking == code) & (Refund.order.is_null(False)))
              .order_by(Refund.id.desc()).first())
    if refund is not None:
        return Order.get_by_id(refund.order_id), "refund"
    parcel = packages.by_tracking(code)
    if parcel is not None:
        return Order.get_by_id(parcel.order_id), "package"
    order = order_by_number(code)
    if order is not None:
        return order, "order"
    return None, ""


def order_by_number(number: str) -> Order | None:
    """The order with this number on its channel (the first, if two shops share one)."""
    return Order.select().where(Order.external_id == number).order_by(Order.id).first()


def returns_location(warehouse_id: int) -> Location:
    """The warehouse's returns area (kind ``returns``), made the first time it is needed."""
    found = (Location.select().where((Location.warehouse == warehouse_id) & (Location.kind == RETURNS_KIND))
             .order_by(Location.id).first())
    if found is not None:
        return found
    warehouse = Warehouse.get_by_id(warehouse_id)
    code = f"{warehouse.code}-RET"
    try:
        with write_transaction():
            return Location.create(warehouse=warehouse_id, code=code, kind=RETURNS_KIND)
    except IntegrityError:  # another bench made it a moment ago
        return Location.get(Location.code == code)


# --- the parcel ------------------------------------------------------------------------------------------

def open_parcel(code: str, *, actor: Actor, warehouse_id: int | None = None, unknown_ok: bool = False,
                note: str = "") -> ReturnParcel:
    """The open parcel for ``code`` (resumed when one is open already), else a new one. A code
    naming no order is refused (``return_not_found``) unless ``unknown_ok``: then the parcel is
    an unknown parcel (无头件) with ``note``."""
    code = (code or "").strip()[:64]
    if not code and not unknown_ok:
        raise Refused("return_not_found", scanned=code)
    order, named_by = order_for_code(code)
    tracking = code if named_by != "order" else ""
    if code:  # this bench's open parcel of the same order (or code) resumes; another bench opens its own
        bench = (ReturnParcel.device == actor.device_id) if actor.device_id else (ReturnParcel.user == actor.user_id)
        existing = (ReturnParcel.select().where((ReturnParcel.status == "open") & bench & (
            (ReturnParcel.order == order.id) if order is not None else (ReturnParcel.tracking == code)))
            .order_by(ReturnParcel.id).first())
        if existing is not None:
            return existing
    if order is None and not unknown_ok:
        raise Refused("return_not_found", scanned=code)
    warehouse_id = warehouse_id or (order.warehouse_id if order is not None else None) or _first_warehouse()
    with write_transaction():
        parcel = ReturnParcel.create(code=uuid.uuid4().hex[:16], warehouse=warehouse_id, tracking=tracking,
                                     order=order.id if order else None, note=(note or "")[:NOTE_MOST],
                                     user=actor.user_id, device=actor.device_id)
        parcel.code = f"RT{parcel.id:06d}"
        ReturnParcel.update(code=parcel.code).where(ReturnParcel.id == parcel.id).execute()
        if order is not None:
            orders.record(order, "return_opened", f"{parcel.code} {tracking}".strip(), actor)
    return parcel


def _first_warehouse() -> int:
    found = Warehouse.select(Warehouse.id).order_by(Warehouse.id).first()
    if found is None:
        raise Refused("no_warehouse")
    return found.id


def parcel_by_code(code: str) -> ReturnParcel:
    parcel = ReturnParcel.get_or_none(ReturnParcel.code == code)
    if parcel is None:
        raise NotFound(f"no return parcel {code!r}", code=code)
    return parcel


def set_note(parcel: ReturnParcel, note: str) -> None:
    with write_transaction():
        ReturnParcel.update(note=(note or "")[:NOTE_MOST]).where(ReturnParcel.id == parcel.id).execute()
    parcel.note = (note or "")[:NOTE_MOST]


def receive_unit(parcel: ReturnParcel, product_id: int, condition: str, *, actor: Actor, qty: int = 1,
                 lot: str = "", qc: bool = False) -> ReturnUnit:
    """``qty`` units of a product out of the parcel, in ``condition``; refused before anything is
    written when the parcel is closed, the condition unknown, the product not on the order
    (``not_on_order``) or its units all back already (``already_returned``)."""
    if parcel.status != "open":
        raise Refused("parcel_closed", parcel=parcel.code)
    if condition not in RETURN_CONDITIONS:
        raise Refused("bad_condition", condition=str(condition)[:32])
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 < qty <= MAX_UNITS_A_SCAN:
        raise Refused("invalid_quantity", qty=str(qty)[:16])
    with write_transaction():
        line_id = take_line(parcel.order_id, product_id, qty) if parcel.order_id else None
        location = returns_location(parcel.warehouse_id)
        if line_id is not None and condition != "scrap":  # scrapped units leave again: no cost to average
            line_money.returning(line_id, product_id, parcel.warehouse_id, qty, ref=f"return:{parcel.code}")
        _stock(product_id, location.id, qty, condition, lot, parcel.code, actor, qc)
        if line_id is not None:
            line_money.returned(line_id)  # the units' cost of goods sold goes back to stock
        unit = ReturnUnit.create(parcel=parcel.id, product=product_id, line=line_id, lot=lot, qty=qty,
                                 condition=condition, location=location.id, user=actor.user_id,
                                 device=actor.device_id)
    return unit


def room_on_order(order_id: int, product_id: int) -> int | None:
    """Units of the product the order may still take back (None: not on the order)."""
    rows = list(OrderLine.select(OrderLine.qty, OrderLine.returned_qty)
                .where((OrderLine.order == order_id) & (OrderLine.product == product_id)).tuples())
    return sum(qty - back for qty, back in rows) if rows else None


def product_brief(product_id: int) -> dict:
    product = Product.get_by_id(product_id)
    return {"sku": product.sku, "name": product.name}


def take_line(order_id: int, product_id: int, qty: int) -> int:
    """Raise ``returned_qty`` on a line of the order for this product by ``qty``, never above the
    line's quantity (a guarded update: of two benches taking the last unit, one wins)."""
    lines = list(OrderLine.select(OrderLine.id).where((OrderLine.order == order_id)
                                                      & (OrderLine.product == product_id))
                 .order_by(OrderLine.id).tuples())
    if not lines:
        raise Refused("not_on_order", product=product_id)
    for (line_id,) in lines:
        if sql("UPDATE order_line SET returned_qty = returned_qty + ? WHERE id = ? AND returned_qty + ? <= qty",
               qty, line_id, qty).rowcount == 1:
            return line_id
    raise Refused("already_returned", product=product_id)


def _stock(product_id, location_id, qty, condition, lot, parcel_code, actor, qc) -> None:
    ref = f"return:{parcel_code}"
    if condition == "restock":
        inventory.receive(product_id, location_id, qty, actor=actor, lot=lot, reason="return", ref=ref,
                          state="qc_pending" if qc else "available")
    else:
        inventory.receive(product_id, location_id, qty, actor=actor, lot=lot, reason="return", ref=ref,
                          state="damaged")
        if condition == "scrap":
            inventory.issue(product_id, location_id, qty, actor=actor, lot=lot, state="damaged", reason="scrap",
                            ref=ref)


def close_parcel(parcel: ReturnParcel, *, actor: Actor) -> None:
    """open -> done (RETURN_PARCEL); the order's history says how many units came back."""
    with write_transaction():
        RETURN_PARCEL.move(parcel.id, "open", "done", closed_at=utcnow())
        parcel.status = "done"
        if parcel.order_id:
            units = sum(u.qty for u in ReturnUnit.select(ReturnUnit.qty).where(ReturnUnit.parcel == parcel.id))
            orders.record(Order.get_by_id(parcel.order_id), "return_closed", f"{parcel.code}: {units} units", actor)


def match(parcel: ReturnParcel, order: Order, *, actor: Actor) -> None:
    """An unknown parcel (无头件) is this order's: its units' quantities move onto the order's
    lines (each within the line's quantity, all or none) and the parcel names the order. The
    stock stays where the units were received."""
    if parcel.order_id is not None:
        raise Refused("parcel_has_order", parcel=parcel.code)
    with write_transaction():
        for unit in ReturnUnit.select().where(ReturnUnit.parcel == parcel.id).order_by(ReturnUnit.id):
            line_id = take_line(order.id, unit.product_id, unit.qty)
            ReturnUnit.update(line=line_id).where(ReturnUnit.id == unit.id).execute()
            line_money.returned(line_id)  # their cost of goods sold goes back to stock
        if ReturnParcel.update(order=order.id).where(
                (ReturnParcel.id == parcel.id) & ReturnParcel.order.is_null()).execute() != 1:
            raise Refused("parcel_has_order", parcel=parcel.code)
        orders.record(order, "return_matched", f"{parcel.code} {parcel.tracking}".strip(), actor)
    parcel.order = order.id


# --- what the bench shows ----------------------------------------------------------------------------------

def parcel_view(parcel: ReturnParcel) -> dict:
    """The parcel, its order's lines (ordered, back) and the units taken out."""
    view = {"code": parcel.code, "status": parcel.status, "tracking": parcel.tracking, "note": parcel.note,
            "unknown": parcel.order_id is None, "order": None, "lines": [], "units": []}
    if parcel.order_id is not None:
        order = Order.get_by_id(parcel.order_id)
        view["order"] = {"id": order.id, "external_id": order.external_id, "shop": order.shop,
                         "channel": order.channel, "status": order.status}
        rows = (OrderLine.select(OrderLine, Product).join(Product).where(OrderLine.order == order.id)
                .order_by(OrderLine.id))
        view["lines"] = [{"id": line.id, "sku": line.product.sku, "name": line.product.name, "qty": line.qty,
                          "returned": line.returned_qty, "refund_status": line.refund_status,
                          "refund_fen": line.refund_fen} for line in rows]
    units = (ReturnUnit.select(ReturnUnit, Product).join(Product).where(ReturnUnit.parcel == parcel.id)
             .order_by(ReturnUnit.id))
    view["units"] = [{"sku": u.product.sku, "name": u.product.name, "qty": u.qty, "condition": u.condition,
                      "lot": u.lot} for u in units]
    return view


def open_parcel_of(user_id: int, device_id: int | None) -> ReturnParcel | None:
    """The parcel this bench (device, else user) has open, the latest first."""
    query = ReturnParcel.select().where(ReturnParcel.status == "open")
    query = query.where(ReturnParcel.device == device_id) if device_id else query.where(ReturnParcel.user == user_id)
    return query.order_by(ReturnParcel.id.desc()).first()


def unknown_parcels(limit: int = 100) -> list[dict]:
    """The unknown parcels (无头件), newest first."""
    return _parcel_rows(ReturnParcel.select().where(ReturnParcel.order.is_null()), limit)


def recent_parcels(limit: int = 100) -> list[dict]:
    return _parcel_rows(ReturnParcel.select(), limit)


def _parcel_rows(query, limit: int) -> list[dict]:
    rows = list(query.order_by(ReturnParcel.id.desc()).limit(limit))
    units: dict[int, int] = {}
    for parcel_id, qty in (ReturnUnit.select(ReturnUnit.parcel, ReturnUnit.qty)
                           .where(ReturnUnit.parcel.in_([p.id for p in rows] or [0])).tuples()):
        units[parcel_id] = units.get(parcel_id, 0) + qty
    return [{"code": p.code, "status": p.status, "tracking": p.tracking, "note": p.note,
             "order_id": p.order_id, "opened_at": as_utc(p.opened_at).isoformat(),
             "units": units.get(p.id, 0)} for p in rows]


def search_orders(text: str, *, pii: bool, limit: int = 20) -> list[dict]:
    """Orders by the buyer (nick, receiver's name or phone) or by number, for a parcel whose
    slip names a person: the buyer's data masked for a caller without ``pii.read``."""
    text = (text or "").strip()[:64]
    if len(text) < 2:
        return []
    like = f"%{text}%"
    rows = (Order.select().where((Order.external_id == text) | (Order.buyer_nick ** like)
                                 | (Order.receiver_name ** like) | (Order.receiver_phone == text))
            .order_by(Order.id.desc()).limit(limit))
    return [{"id": o.id, "external_id": o.external_id, "shop": o.shop, "status": o.status,
             "buyer_nick": o.buyer_nick if pii else mask_name(o.buyer_nick),
             "receiver_name": o.receiver_name if pii else mask_name(o.receiver_name),
             "receiver_phone": o.receiver_phone if pii else mask_phone(o.receiver_phone),
             "ordered_at": o.ordered_at.isoformat() if o.ordered_at else None} for o in rows]

