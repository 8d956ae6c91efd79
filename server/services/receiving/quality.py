"""Quality control of received lots (入库质检): one check per sampled unit, and the lot's decision.

A licence plate (LPN) waiting in ``qc_pending`` carries its plan (models/receiving.py): its
``sample_size`` units are checked one by one, each passed or failed with a defect reason
(``DEFECT_REASONS``). The check that completes the sample decides the lot::

    failed <= accept_number  -> pass:   failed units qc_pending -> damaged   (reason qc_fail)
                                        the rest     qc_pending -> available (reason qc_pass)
                                        LPN qc_pending -> ready (putaway takes it;
                                        putaway.waiting goes to the receivers after commit)
    failed >  accept_number  -> reject: failed units qc_pending -> damaged   (reason qc_fail)
                                        the rest     qc_pending -> frozen    (reason qc_reject)
                                        LPN qc_pending -> rejected, and a supplier return (退供)
                                        of all its units, open, for the office to print and ship

A supervisor may reject a lot before its sample is done once its failures already exceed the
acceptance number (no further check can save it). Every stock change goes through the inventory
service with the inspector as actor and ``ref = lpn:<sscc>``.

Two inspectors checking the last unit of one lot at the same moment: the count of checks is a
guarded update (``... WHERE checked < sample_size AND status = 'qc_pending'``), so only one of
them records it and decides; the other is refused with ``qc_sample_done``. The decision itself is
a guarded move of the LPN's status, so a lot is never decided twice.
"""
from __future__ import annotations

from server.db import sql, sql_row, write_transaction
from server.models import AuditLog, Location, Lpn, Product, PurchaseOrder, QcCheck, Receipt, Supplier, SupplierReturn
from server.models.base import utcnow
from server.services.errors import NotFound, Refused
from server.services.receiving import putaway
from server.services.receiving.lifecycle import LPN
from server.services.receiving.lpn import sscc_of
from server.services.stock import inventory
from server.services.stock.inventory import Actor

DEFECT_REASONS = ("damaged", "wrong_item", "expired", "short_dated", "dirty", "other")


class LpnNotFound(NotFound):
    code = "qc_unknown_lpn"


def find_lpn(code: str) -> Lpn:
    """The plate a scanned or typed code names: its SSCC bare, with the (00) AI printed or raw,
    or with the scanner's symbology identifier (receiving's ``lpn.sscc_of``)."""
    sscc = sscc_of(code)
    lpn = Lpn.get_or_none(Lpn.sscc == sscc) if sscc else None
    if lpn is None:
        raise LpnNotFound(f"no licence plate {code!r}", code=code)
    return lpn


# --- reading ----------------------------------------------------------------------------------

def view(lpn: Lpn) -> dict:
    """What an inspector sees of a plate: the SKU, the lot, the plan and the checks so far."""
    product = Product.get_by_id(lpn.product_id)
    receipt = Receipt.get_by_id(lpn.receipt_id)
    po = PurchaseOrder.get_by_id(receipt.po_id)
    supplier = Supplier.get_by_id(po.supplier_id)
    decided = {"pending": None, "ready": "pass", "stored": "pass", "rejected": "reject"}.get(lpn.status)
    supplier_return = (SupplierReturn.select(SupplierReturn.code).where(SupplierReturn.lpn == lpn.id).first()
                       if decided == "reject" else None)
    return {
        "sscc": lpn.sscc, "status": lpn.status, "sku": product.sku, "name": product.name,
        "lot": lpn.lot, "expiry": lpn.expiry.isoformat() if lpn.expiry else None, "qty": lpn.qty,
        "qc_plan": lpn.qc_plan, "aql": lpn.aql, "sample_size": lpn.sample_size,
        "accept_number": lpn.accept_number, "checked": lpn.checked, "failed": lpn.failed,
        "remaining": max(lpn.sample_size - lpn.checked, 0) if lpn.status == "qc_pending" else 0,
        "decision": decided, "can_reject_early": lpn.status == "qc_pending" and lpn.failed > lpn.accept_number,
        "decided_by": lpn.decided_by_id, "decided_at": lpn.decided_at.isoformat() if lpn.decided_at else None,
        "supplier": supplier.code, "supplier_name": supplier.name, "po": po.code, "receipt": receipt.code,
        "location": Location.get_by_id(lpn.location_id).code,
        "supplier_return": supplier_return.code if supplier_return else None,
    }


def checks_of(lpn: Lpn) -> list[dict]:
    return [{"passed": c.passed, "reason": c.reason, "user": c.user_id, "at": c.at.isoformat()}
            for c in QcCheck.select().where(QcCheck.lpn == lpn.id).order_by(QcCheck.id)]


def waiting(warehouse=None, limit: int = 200) -> list[dict]:
    """The plates waiting for QC, oldest first."""
    query = (Lpn.select().where(Lpn.status == "qc_pending").order_by(Lpn.created_at, Lpn.id).limit(limit))
    if warehouse is not None:
        warehouse_id = warehouse if isinstance(warehouse, int) else warehouse.id
        query = query.join(Receipt).where(Receipt.warehouse == warehouse_id)
    return [view(lpn) for lpn in query]


# --- checking ---------------------------------------------------------------------------------

def record_check(code: str, passed: bool, reason: str = "", *, actor: Actor) -> dict:
    """One sampled unit of the plate checked: passed, or failed with a reason from
    ``DEFECT_REASONS``. The check that completes the sample decides the lot. Returns the
    plate's :func:`view` after the check."""
    if not isinstance(passed, bool):
        raise Refused("qc_bad_result", passed=passed)
    reason = "" if passed else (reason or "").strip()
    if not passed and reason not in DEFECT_REASONS:
        raise Refused("qc_bad_reason", reason=reason, reasons=",".join(DEFECT_REASONS))
    with write_transaction():
        lpn = find_lpn(code)
        if lpn.status != "qc_pending":
            raise Refused("qc_not_pending", sscc=lpn.sscc, status=lpn.status)
        if lpn.sample_size < 1:
            raise Refused("qc_no_sample", sscc=lpn.sscc)
        counted = sql("UPDATE lpn SET checked = checked + 1, failed = failed + ? WHERE id = ?"
                      " AND status = 'qc_pending' AND checked < sample_size",
                      0 if passed else 1, lpn.id).rowcount
        if counted != 1:  # another inspector took the last check, or the lot was decided meanwhile
            status = sql_row("SELECT status FROM lpn WHERE id = ?", lpn.id)[0]
            raise Refused("qc_sample_done" if status == "qc_pending" else "qc_not_pending",
                          sscc=lpn.sscc, status=status)
        QcCheck.create(lpn=lpn.id, passed=passed, reason=reason, user=actor.user_id, device=actor.device_id)
        checked, sample_size, failed, accept = sql_row(
            "SELECT checked, sample_size, failed, accept_number FROM lpn WHERE id = ?", lpn.id)
        if checked >= sample_size:
            _decide(Lpn.get_by_id(lpn.id), failed <= accept, actor)
    return view(Lpn.get_by_id(lpn.id))


def reject_early(code: str, *, actor: Actor) -> dict:
    """A supervisor rejects a lot before its sample is done: its failures already exceed the
    acceptance number, so the rest of the sample cannot change the decision."""
    with write_transaction():
        lpn = find_lpn(code)
        if lpn.status != "qc_pending":
            raise Refused("qc_not_pending", sscc=lpn.sscc, status=lpn.status)
        if lpn.failed <= lpn.accept_number:
            raise Refused("qc_not_exceeded", sscc=lpn.sscc, failed=lpn.failed, accept_number=lpn.accept_number)
        _decide(lpn, False, actor)
    return view(Lpn.get_by_id(lpn.id))


def _decide(lpn: Lpn, passes: bool, actor: Actor) -> None:
    """Move the plate to its decision (guarded: the caller that moves it is the one that moves
    its units) and its units out of qc_pending."""
    target = "ready" if passes else "rejected"
    if not LPN.move_if(lpn.id, "qc_pending", target, decided_by=actor.user_id, decided_at=utcnow()):
        raise Refused("qc_already_decided", sscc=lpn.sscc)
    ref = f"lpn:{lpn.sscc}"
    checked, failed = sql_row("SELECT checked, failed FROM lpn WHERE id = ?", lpn.id)
    rest = lpn.qty - failed
    if failed:
        inventory.change_state(lpn.product_id, lpn.location_id, failed, "qc_pending", "damaged",
                               actor=actor, lot=lpn.lot, reason="qc_fail", ref=ref, expiry=lpn.expiry)
    if rest > 0:
        inventory.change_state(lpn.product_id, lpn.location_id, rest, "qc_pending",
                               "available" if passes else "frozen", actor=actor, lot=lpn.lot,
                               reason="qc_pass" if passes else "qc_reject", ref=ref, expiry=lpn.expiry)
    if not passes:
        receipt = Receipt.get_by_id(lpn.receipt_id)
        po = PurchaseOrder.get_by_id(receipt.po_id)
        SupplierReturn.create(code=f"SR-{lpn.sscc}", supplier=po.supplier_id, po=po.id, lpn=lpn.id,
                              product=lpn.product_id, lot=lpn.lot, qty=lpn.qty,
                              reason=f"qc_reject: {failed} of {checked} sampled units failed,"
                                     f" accept number {lpn.accept_number}")
    if passes:  # the plate waits for putaway now: the receivers' devices hear of it after commit
        putaway.announce(Location.get_by_id(lpn.location_id).warehouse_id)
    AuditLog.create(user=actor.user_id, device=actor.device_id, action="qc.decided", target=lpn.sscc,
                    detail=f"{'pass' if passes else 'reject'}: {failed} failed of {checked}"
                           f" checked (Ac {lpn.accept_number})")
