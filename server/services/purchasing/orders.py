"""Purchase orders (采购单): written as a draft with their lines, submitted, approved by amount
(services/purchasing/approvals.py) or rejected back to draft, cancelled, and closed short (短收结案)
with a reason when the rest will not come. Receiving (services/receiving/) moves an approved
order on as its units arrive (lifecycle.take_receipt and settle).

Every status change goes through ``lifecycle.PURCHASE_ORDER``; every approval, rejection,
cancellation and close is an ``AuditLog`` row. A line's quantity must reach the supplier's
minimum order quantity (起订量) and be a whole number of its packs (箱规); its unit cost is the
supplier item's unless given.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid

from peewee import IntegrityError, fn

from server.channels.values import CHANNEL_TZ
from server.db import write_transaction
from server.models import (ApprovalStep, AuditLog, Product, PurchaseOrder, PurchaseOrderLine, Supplier, User,
                           Warehouse)
from server.models.base import as_utc, utcnow
from server.models.purchasing import PO_STATES
from server.services.errors import DomainError, InvalidQuantity, NotFound
from server.services.approvals import requests as approval_requests
from server.services.purchasing import approvals, suppliers
from server.services.purchasing.lifecycle import PURCHASE_ORDER
from server.services.stock import inventory

MAX_LINES = 500
AUTOMATIC_CODE = re.compile(r"PO-\d{8}-\d+")
OPEN_FOR_EDIT = ("draft",)
#: the states whose supplier delivery note number may still be set
NOTE_STATES = ("draft", "submitted", "approved", "partially_received")


class BelowMoq(DomainError):
    code = "below_moq"

    def __init__(self, sku: str, qty: int, moq: int):
        super().__init__(f"{sku}: {qty} is below the supplier's minimum order quantity of {moq}",
                         sku=sku, qty=qty, moq=moq)


class NotPackMultiple(DomainError):
    code = "not_pack_multiple"

    def __init__(self, sku: str, qty: int, pack: int):
        super().__init__(f"{sku}: {qty} is not a whole number of packs of {pack}", sku=sku, qty=qty,
                         pack_size=pack)


class NotSupplied(DomainError):
    """A SKU the supplier has no item for, ordered without a unit cost."""
    code = "not_supplied"

    def __init__(self, sku: str, supplier_code: str):
        super().__init__(f"{sku}: {supplier_code} has no price for this SKU; give unit_cost_fen",
                         sku=sku, supplier=supplier_code)


class EmptyOrder(DomainError):
    code = "purchase_order_empty"


class ReasonRequired(DomainError):
    code = "po_reason_required"


def get(code: str) -> PurchaseOrder:
    """The order by its code, else by its supplier's delivery note number (送货单号)."""
    found = PurchaseOrder.get_or_none(PurchaseOrder.code == code)
    if found is None and code:
        found = (PurchaseOrder.select().where(PurchaseOrder.delivery_note == code)
                 .order_by(PurchaseOrder.id.desc()).first())
    if found is None:
        raise NotFound(f"no purchase order {code!r}", code=code)
    return found


def warehouse_by_code(code: str) -> Warehouse:
    found = Warehouse.get_or_none(Warehouse.code == code)
    if found is None:
        raise NotFound(f"no warehouse {code!r}", code=code)
    return found


def parse_date(value, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        raise suppliers.InvalidValue(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def check_line(the_supplier: Supplier, product: Product, qty, unit_cost_fen=None, item=None) -> int:
    """The line's unit cost; raises when ``qty`` breaks the supplier item's MOQ or pack size."""
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 < qty <= inventory.MAX_QTY:
        raise InvalidQuantity(f"{product.sku}: quantity must be a whole number from 1 to {inventory.MAX_QTY}, "
                              f"not {qty!r}", qty=qty)
    item = item if item is not None else suppliers.item_of(the_supplier.id, product.id)
    if item is not None:
        if qty < item.moq:
            raise BelowMoq(product.sku, qty, item.moq)
        if qty % item.pack_size:
            raise NotPackMultiple(product.sku, qty, item.pack_size)
    if unit_cost_fen is None:
        if item is None:
            raise NotSupplied(product.sku, the_supplier.code)
        return item.unit_cost_fen
    if not isinstance(unit_cost_fen, int) or isinstance(unit_cost_fen, bool) or not 0 <= unit_cost_fen <= suppliers.MAX_FEN:
        raise suppliers.InvalidValue("unit_cost_fen", f"{unit_cost_fen!r} is not a whole number of fen")
    return unit_cost_fen


def _lines(the_supplier: Supplier, lines: list[dict]) -> list[dict]:
    """The order's lines checked and priced: [{product, qty, unit_cost_fen, expected_on}]."""
    if len(lines) > MAX_LINES:
        raise suppliers.InvalidValue("lines", f"more than {MAX_LINES} lines")
    items = suppliers.items_by_product(the_supplier.id)
    checked, seen = [], set()
    for line in lines:
        product = inventory.find_product(str(line.get("sku", "")))[0]
        if product.id in seen:
            raise suppliers.InvalidValue("sku", f"{product.sku} is on the order twice")
        seen.add(product.id)
        cost = check_line(the_supplier, product, line.get("qty"), line.get("unit_cost_fen"), items.get(product.id))
        checked.append({"product": product, "qty": line["qty"], "unit_cost_fen": cost,
                        "expected_on": parse_date(line.get("expected_on"), "expected_on")})
    return checked


def create(supplier_code: str, warehouse_code: str, lines: list[dict], actor: inventory.Actor, *,
           expected_on=None, delivery_note: str = "", note: str = "", code: str | None = None) -> PurchaseOrder:
    """A draft order with its lines; its code is PO-YYYYMMDD-NNNN (China's date, the order's number)
    unless ``code`` names one."""
    the_supplier = suppliers.supplier(supplier_code)
    if not the_supplier.active:
        raise suppliers.InvalidValue("supplier", f"{supplier_code} is not active")
    warehouse = warehouse_by_code(warehouse_code)
    if not lines:
        raise EmptyOrder("a purchase order needs at least one line")
    checked = _lines(the_supplier, lines)
    expected = parse_date(expected_on, "expected_on")
    if code is not None and not (0 < len(code.strip()) <= 32):
        raise suppliers.InvalidValue("code", "a purchase order code has 1 to 32 characters")
    if code is not None and AUTOMATIC_CODE.fullmatch(code.strip()):
        raise suppliers.InvalidValue("code", f"{code}: codes like PO-YYYYMMDD-NNNN are given by the server")
    if len(delivery_note) > 64:
        raise suppliers.InvalidValue("delivery_note", "longer than 64 characters")
    today = dt.datetime.now(CHANNEL_TZ).date()
    try:
        with write_transaction():
            # numbered by its row id, so that writers at the same moment never want the same code
            po = PurchaseOrder.create(code=code.strip() if code else f"new-{uuid.uuid4().hex[:24]}",
                                      supplier=the_supplier, warehouse=warehouse, expected_on=expected,
                                      delivery_note=delivery_note.strip(), note=note, created_by=actor.user_id,
                                      total_fen=sum(l["qty"] * l["unit_cost_fen"] for l in checked))
            if not code:
                po.code = f"PO-{today:%Y%m%d}-{po.id:04d}"
                PurchaseOrder.update(code=po.code).where(PurchaseOrder.id == po.id).execute()
            _write_lines(po, checked)
            AuditLog.create(user=actor.user_id, device=actor.device_id, action="po.create", target=po.code,
                            detail=f"{the_supplier.code} {warehouse.code} {len(checked)} lines {po.total_fen} fen")
        return po
    except IntegrityError:
        if code and PurchaseOrder.select().where(PurchaseOrder.code == code.strip()).exists():
            raise suppliers.InvalidValue("code", f"purchase order {code} exists") from None
        raise


def _write_lines(po: PurchaseOrder, checked: list[dict]) -> None:
    for seq, line in enumerate(checked, start=1):
        PurchaseOrderLine.create(po=po, seq=seq, product=line["product"], qty=line["qty"],
                                 unit_cost_fen=line["unit_cost_fen"], expected_on=line["expected_on"])


def update(code: str, values: dict, actor: inventory.Actor) -> PurchaseOrder:
    """Change a draft's lines, date or note; the delivery note number (送货单号) may also be set
    on a submitted or approved order, since the supplier gives it when the goods leave."""
    po = get(code)
    draft_only = {"lines", "expected_on", "note"} & set(values)
    if draft_only and po.status not in OPEN_FOR_EDIT:
        raise suppliers.InvalidValue(sorted(draft_only)[0], f"only a draft's can change; {po.code} is {po.status}")
    if "delivery_note" in values and po.status not in NOTE_STATES:
        raise suppliers.InvalidValue("delivery_note", f"{po.code} is {po.status}")
    if len(values.get("delivery_note", "")) > 64:
        raise suppliers.InvalidValue("delivery_note", "longer than 64 characters")
    changes = {}
    if "expected_on" in values:
        changes["expected_on"] = parse_date(values["expected_on"], "expected_on")
    for name in ("note", "delivery_note"):
        if name in values:
            changes[name] = str(values[name]).strip()
    checked = None
    if "lines" in values:
        if not values["lines"]:
            raise EmptyOrder("a purchase order needs at least one line")
        checked = _lines(po.supplier, values["lines"])
        changes["total_fen"] = sum(l["qty"] * l["unit_cost_fen"] for l in checked)
    with write_transaction():
        rows = PurchaseOrder.update(updated_at=utcnow(), **changes).where(
            (PurchaseOrder.id == po.id) & (PurchaseOrder.status == po.status)).execute()
        if rows != 1:
            raise DomainError(f"{po.code} changed meanwhile; read it again")
        if checked is not None:
            PurchaseOrderLine.delete().where(PurchaseOrderLine.po == po.id).execute()
            _write_lines(po, checked)
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="po.update", target=po.code,
                        detail=", ".join(sorted(values)))
    return PurchaseOrder.get_by_id(po.id)


# --- the transitions ----------------------------------------------------------------------------

def _move(po: PurchaseOrder, target: str, actor, action: str, detail: str = "", **values) -> PurchaseOrder:
    with write_transaction():
        PURCHASE_ORDER.move(po.id, po.status, target, updated_at=utcnow(), **values)
        AuditLog.create(user=actor.user_id, device=actor.device_id, action=action, target=po.code,
                        detail=detail or f"{po.status} -> {target}")
    return PurchaseOrder.get_by_id(po.id)


def submit(code: str, actor: inventory.Actor) -> PurchaseOrder:
    po = get(code)
    PURCHASE_ORDER.check(po.status, "submitted")
    if not PurchaseOrderLine.select().where(PurchaseOrderLine.po == po.id).exists():
        raise EmptyOrder(f"{po.code} has no lines")
    with write_transaction():
        moved = _move(po, "submitted", actor, "po.submit", f"total {po.total_fen} fen")
        # an approval flow over this total (多级审批): its levels decide instead of the limits
        approval_requests.open_request("purchase_order", po.code, po.total_fen, {"po": po.code},
                                       f"{po.code}: {po.total_fen} fen", actor)
    return moved


def approve(code: str, actor: inventory.Actor, comment: str = "") -> PurchaseOrder:
    """Approve a submitted order: a level of its approval flow when it has one (the order is
    approved at the last level), else when one of the actor's roles may approve its total."""
    po = get(code)
    PURCHASE_ORDER.check(po.status, "approved")
    waiting = approval_requests.pending_for("purchase_order", po.code)
    if waiting is not None:
        decided = approval_requests.decide(waiting.id, actor, approve=True, comment=comment)
        return finish_approval(decided) if decided.status == "approved" else get(code)
    try:
        role = approvals.check(actor.user_id, po.total_fen)
    except approvals.OverApprovalLimit as exc:
        with write_transaction():
            AuditLog.create(user=actor.user_id, device=actor.device_id, action="po.approve_refused",
                            target=po.code, detail=exc.text)
        raise
    return _move(po, "approved", actor, "po.approve", f"total {po.total_fen} fen as {role}",
                 approved_by=actor.user_id, approved_at=utcnow())


def finish_approval(request) -> PurchaseOrder:
    """The last level of the order's approval flow approved it: the order is approved, by that
    level's approver."""
    po = get(request.ref)
    last = request.steps.order_by(ApprovalStep.id.desc()).first()
    approver = inventory.Actor(last.user_id, last.device_id)
    return _move(po, "approved", approver, "po.approve", f"total {po.total_fen} fen: approval #{request.id}",
                 approved_by=approver.user_id, approved_at=utcnow())


def reject(code: str, actor: inventory.Actor, reason: str) -> PurchaseOrder:
    """Send a submitted order back to draft, with the approver's reason."""
    po = get(code)
    PURCHASE_ORDER.check(po.status, "draft")
    reason = _reason(reason)
    waiting = approval_requests.pending_for("purchase_order", po.code)
    if waiting is not None:
        approval_requests.decide(waiting.id, actor, approve=False, comment=reason)
    return _move(po, "draft", actor, "po.reject", reason)


def cancel(code: str, actor: inventory.Actor, reason: str = "") -> PurchaseOrder:
    po = get(code)
    PURCHASE_ORDER.check(po.status, "cancelled")
    if po.status == "approved":
        reason = _reason(reason)  # the supplier may already be packing it
    return _move(po, "cancelled", actor, "po.cancel", reason or "cancelled", close_reason=reason[:200])


def close_short(code: str, actor: inventory.Actor, reason: str) -> PurchaseOrder:
    """Close an approved or partly received order: what was not received leaves 在途."""
    po = get(code)
    PURCHASE_ORDER.check(po.status, "closed_short")
    reason = _reason(reason)
    missing = (PurchaseOrderLine.select(fn.COALESCE(fn.SUM(PurchaseOrderLine.qty - PurchaseOrderLine.received_qty), 0))
               .where((PurchaseOrderLine.po == po.id) & (PurchaseOrderLine.received_qty < PurchaseOrderLine.qty))
               .scalar())
    return _move(po, "closed_short", actor, "po.close_short", f"{missing} units short: {reason}",
                 close_reason=reason[:200])


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired("give a reason")
    return reason


# --- reading ------------------------------------------------------------------------------------

def line_view(line: PurchaseOrderLine, product: Product) -> dict:
    return {"seq": line.seq, "sku": product.sku, "name": product.name, "qty": line.qty,
            "received_qty": line.received_qty, "open_qty": max(0, line.qty - line.received_qty),
            "unit_cost_fen": line.unit_cost_fen, "amount_fen": line.qty * line.unit_cost_fen,
            "expected_on": line.expected_on.isoformat() if line.expected_on else None}


def order_view(po: PurchaseOrder, with_lines: bool = True) -> dict:
    users = {u.id: u.code for u in User.select(User.id, User.code)
             .where(User.id.in_([i for i in (po.created_by_id, po.approved_by_id) if i]))}
    view = {"code": po.code, "supplier": po.supplier.code, "supplier_name": po.supplier.name,
            "warehouse": po.warehouse.code, "status": po.status, "delivery_note": po.delivery_note,
            "expected_on": po.expected_on.isoformat() if po.expected_on else None, "total_fen": po.total_fen,
            "note": po.note, "close_reason": po.close_reason, "created_by": users.get(po.created_by_id),
            "approved_by": users.get(po.approved_by_id), "approved_at": as_utc(po.approved_at),
            "created_at": as_utc(po.created_at), "blind_receiving": po.supplier.blind_receiving}
    if with_lines:
        view["lines"] = [line_view(line, line.product) for line in
                         PurchaseOrderLine.select(PurchaseOrderLine, Product).join(Product)
                         .where(PurchaseOrderLine.po == po.id).order_by(PurchaseOrderLine.seq)]
        view["qty"] = sum(l["qty"] for l in view["lines"])
        view["received_qty"] = sum(l["received_qty"] for l in view["lines"])
    return view


def list_orders(status: str | None = None, supplier: str | None = None, warehouse: str | None = None,
                sku: str | None = None, q: str | None = None, limit: int = 50, offset: int = 0) -> dict:
    query = (PurchaseOrder.select(PurchaseOrder, Supplier, Warehouse).join(Supplier).switch(PurchaseOrder)
             .join(Warehouse))
    if status:
        wanted = [s for s in status.split(",") if s]
        unknown = [s for s in wanted if s not in PO_STATES]
        if unknown:
            raise suppliers.InvalidValue("status", f"{unknown[0]!r} is not one of {', '.join(PO_STATES)}")
        query = query.where(PurchaseOrder.status.in_(wanted))
    if supplier:
        query = query.where(Supplier.code == supplier)
    if warehouse:
        query = query.where(Warehouse.code == warehouse)
    if sku:
        product = inventory.find_product(sku)[0]
        query = query.where(PurchaseOrder.id.in_(PurchaseOrderLine.select(PurchaseOrderLine.po)
                                                 .where(PurchaseOrderLine.product == product.id)))
    if q:
        query = query.where(PurchaseOrder.code.contains(q) | PurchaseOrder.delivery_note.contains(q)
                            | Supplier.name.contains(q))
    total = query.count()
    rows = list(query.order_by(PurchaseOrder.id.desc()).limit(limit).offset(offset))
    sums = {po: (qty, received) for po, qty, received in
            PurchaseOrderLine.select(PurchaseOrderLine.po, fn.SUM(PurchaseOrderLine.qty),
                                     fn.SUM(PurchaseOrderLine.received_qty))
            .where(PurchaseOrderLine.po.in_([po.id for po in rows])).group_by(PurchaseOrderLine.po).tuples()}
    items = []
    for po in rows:
        view = order_view(po, with_lines=False)
        qty, received = sums.get(po.id, (0, 0))
        view.update(qty=int(qty or 0), received_qty=int(received or 0))
        items.append(view)
    return {"items": items, "total": total}

