"""Supplier returns (退供): the units of a rejected lot going back to their supplier.

QC opens one when it rejects a licence plate (services/receiving/quality.py): the plate's failed
units wait at the dock as ``damaged``, the rest as ``frozen``. The office lists them, prints a
pick list (the dock, the SKU, the lot, how many of each state) and ships them::

    open ──ship──> shipped     the units leave: inventory.issue, reason supplier_return
      └───cancel──> cancelled  the units stay where they are, frozen or damaged

Why a cancel leaves the units frozen: a return is cancelled when the goods stay with us (the
supplier grants a price concession, 让步接收, or the return was opened in error), but whether
they may be sold is a decision on the units themselves, made with its own reason and actor
(``POST /api/v1/stock/state`` frozen -> available, or damaged -> scrapped by an issue), not a
side effect of an office click on a document. Frozen units never count in channel stock, so
nothing is oversold meanwhile.
"""
from __future__ import annotations

from server.db import write_transaction
from server.models import AuditLog, Location, Lpn, Product, PurchaseOrder, Supplier, SupplierReturn
from server.models.base import utcnow
from server.services.errors import NotFound, Refused
from server.services.receiving.lifecycle import SUPPLIER_RETURN
from server.services.stock import inventory
from server.services.stock.inventory import Actor

STATUSES = ("open", "shipped", "cancelled")


class SupplierReturnNotFound(NotFound):
    code = "supplier_return_not_found"


def get(code: str) -> SupplierReturn:
    found = SupplierReturn.get_or_none(SupplierReturn.code == (code or "").strip())
    if found is None:
        raise SupplierReturnNotFound(f"no supplier return {code!r}", code=code)
    return found


def lines(sr: SupplierReturn) -> list[dict]:
    """Where the return's units are and in which state: one line per state, damaged first
    (the units QC failed), then frozen (the rest of the rejected lot)."""
    lpn = Lpn.get_or_none(Lpn.id == sr.lpn_id) if sr.lpn_id else None
    if lpn is None:
        raise Refused("supplier_return_no_lpn", supplier_return=sr.code)
    location = Location.get_by_id(lpn.location_id)
    product = Product.get_by_id(sr.product_id)
    damaged = min(lpn.failed, sr.qty)
    split = [("damaged", damaged), ("frozen", sr.qty - damaged)]
    return [{"location": location.code, "location_id": location.id, "sku": product.sku, "name": product.name,
             "product_id": product.id, "lot": sr.lot, "state": state, "qty": qty, "sscc": lpn.sscc}
            for state, qty in split if qty > 0]


def view(sr: SupplierReturn, *, with_lines: bool = False) -> dict:
    supplier = Supplier.get_by_id(sr.supplier_id)
    product = Product.get_by_id(sr.product_id)
    po = PurchaseOrder.get_or_none(PurchaseOrder.id == sr.po_id) if sr.po_id else None
    lpn = Lpn.get_or_none(Lpn.id == sr.lpn_id) if sr.lpn_id else None
    out = {
        "code": sr.code, "status": sr.status, "supplier": supplier.code, "supplier_name": supplier.name,
        "po": po.code if po else None, "sscc": lpn.sscc if lpn else None, "sku": product.sku,
        "name": product.name, "lot": sr.lot, "qty": sr.qty, "reason": sr.reason,
        "created_at": sr.created_at.isoformat(), "shipped_at": sr.shipped_at.isoformat() if sr.shipped_at else None,
    }
    if lpn is not None:  # the QC that rejected the lot, for the pick list's words
        out["qc"] = {"checked": lpn.checked, "failed": lpn.failed, "accept_number": lpn.accept_number}
    if with_lines:
        out["lines"] = [{k: v for k, v in line.items() if not k.endswith("_id")} for line in lines(sr)]
    return out


def listing(status: str | None = None, supplier: str | None = None, limit: int = 200) -> list[dict]:
    """Supplier returns, newest first; only those of one status or supplier when asked."""
    query = SupplierReturn.select().order_by(SupplierReturn.created_at.desc(), SupplierReturn.id.desc()).limit(limit)
    if status:
        if status not in STATUSES:
            raise Refused("bad_request", field="status", reason=f"one of {', '.join(STATUSES)}")
        query = query.where(SupplierReturn.status == status)
    if supplier:
        query = query.join(Supplier).where(Supplier.code == supplier)
    return [view(sr, with_lines=sr.status == "open") for sr in query]


def ship(code: str, *, actor: Actor) -> dict:
    """The return leaves with its carrier: every unit is issued from where it waits, in its state."""
    with write_transaction():
        sr = get(code)
        picked = lines(sr)
        SUPPLIER_RETURN.move(sr.id, sr.status, "shipped", shipped_at=utcnow())
        for line in picked:
            inventory.issue(line["product_id"], line["location_id"], line["qty"], actor=actor,
                            state=line["state"], lot=line["lot"], reason="supplier_return",
                            ref=f"supplier_return:{sr.code}")
        _audit(actor, "supplier_return.shipped", sr, f"{sr.qty} units to {Supplier.get_by_id(sr.supplier_id).code}")
    return view(get(code))


def cancel(code: str, reason: str, *, actor: Actor) -> dict:
    """The units stay with us, as they are (frozen, damaged); see the module's docstring."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused("supplier_return_reason_required", supplier_return=code)
    with write_transaction():
        sr = get(code)
        SUPPLIER_RETURN.move(sr.id, sr.status, "cancelled")
        _audit(actor, "supplier_return.cancelled", sr, reason[:200])
    return view(get(code))


def _audit(actor: Actor, action: str, sr: SupplierReturn, detail: str) -> None:
    AuditLog.create(user=actor.user_id, device=actor.device_id, action=action, target=sr.code, detail=detail)
