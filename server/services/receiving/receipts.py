"""Receipts (入库单): one receiver's session receiving one purchase order at a dock.

A receipt opens on a purchase order found by its code (the barcode printed on the PO) or by the
supplier's delivery note number (送货单号), at a dock of the order's warehouse (a location of kind
``receiving``). The order must be approved or partially received.

Every count is one transaction: the order line's ``received_qty`` goes up by a guarded UPDATE
that holds the supplier's over-receipt tolerance (purchasing.lifecycle.take_receipt: two
receivers at the same line never pass it), the units arrive at the dock in state ``qc_pending``
(ledger reason ``receipt``, ref ``receipt:<id>``) with their lot and expiry, the SKU and lot's
open licence plate counts them, and the order settles (partially received, received). After
commit, ``receipt.progress`` tells the wall and the warehouse.

Finishing closes the open plates (QC plan, label) and the receipt; what was not received stays
in transit (在途), unless the receiver, with ``receiving.close_short``, closes the order short
with a reason.
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field

from server import events
from server.db import after_commit, database, sql, sql_row, write_transaction
from server.models import Location, PurchaseOrder, Receipt, Supplier
from server.models.base import utcnow
from server.services.errors import Refused
from server.services.money import costing
from server.services.purchasing.lifecycle import PURCHASE_ORDER, allowed_qty, settle, take_receipt
from server.services.receiving import lpn as plates
from server.services.receiving import putaway
from server.services.receiving.lifecycle import RECEIPT
from server.services.stock import inventory

RECEIVABLE = ("approved", "partially_received")
PROGRESS_EVERY_S = 0.25
log = logging.getLogger(__name__)
_guard = threading.Lock()
_dirty: set[int] = set()  # receipts whose progress the wall has not heard yet


# --- finding the order and the dock ---------------------------------------------------------------

def find_po(code: str) -> PurchaseOrder:
    """The order a scanned code names: its code, else a delivery note (an open order first)."""
    code = (code or "").strip()
    if not code:
        raise Refused("po_not_found", scanned=code)
    po = PurchaseOrder.get_or_none(PurchaseOrder.code == code)
    if po is None:
        by_note = list(PurchaseOrder.select().where(PurchaseOrder.delivery_note == code).order_by(PurchaseOrder.id))
        po = next((p for p in by_note if p.status in RECEIVABLE), by_note[0] if by_note else None)
    if po is None:
        raise Refused("po_not_found", scanned=code)
    if po.status not in RECEIVABLE:
        raise Refused("po_not_receivable", po=po.code, status=po.status)
    return po


def dock_of(warehouse_id: int, code: str = "") -> Location:
    """The dock named (it must be a receiving location of the warehouse), else the first active one."""
    query = Location.select().where((Location.warehouse == warehouse_id) & (Location.kind == "receiving")
                                    & (Location.active == True))  # noqa: E712
    if code:
        query = query.where(Location.code == code)
    dock = query.order_by(Location.pick_seq, Location.code).first()
    if dock is None:
        raise Refused("no_dock", dock=code)
    return dock


# --- the receiver's receipt -------------------------------------------------------------------------
# Every scan reads the receipt with its order, supplier, dock and warehouse in one statement, and
# the plates and lines it shows in one each, written out (see server.db.sql): peewee took longer
# to build these queries than the database took to answer them.

@dataclass
class Held:
    """An open receipt as a scan reads it (never saved; the writes are statements of their own)."""
    id: int
    code: str
    po_id: int
    po_code: str
    po_status: str
    warehouse_id: int
    warehouse_code: str
    dock_id: int
    dock_code: str
    supplier_id: int
    supplier_name: str
    over_pct: int
    blind: bool
    status: str
    lines: list | None = field(default=None)  # the order's lines, once a scan has read them


HELD_SQL = ("SELECT r.id, r.code, r.po_id, po.code, po.status, r.warehouse_id, w.code, r.dock_id, d.code, s.id,"
            " s.name, s.over_receipt_pct, s.blind_receiving, r.status FROM receipt r"
            " JOIN purchase_order po ON po.id = r.po_id"
            " JOIN supplier s ON s.id = po.supplier_id JOIN location d ON d.id = r.dock_id"
            " JOIN warehouse w ON w.id = r.warehouse_id WHERE {where} ORDER BY r.id")
CURRENT_SQL = HELD_SQL.format(where="r.user_id = ? AND r.status = 'open'") + " LIMIT 1"
BY_ID_SQL = HELD_SQL.format(where="r.id = ?")
LINES_SQL = ("SELECT p.sku, p.name, l.qty, l.received_qty FROM purchase_order_line l"
             " JOIN product p ON p.id = l.product_id WHERE l.po_id = ? ORDER BY l.seq, l.id")
PLATES_SQL = ("SELECT l.id, l.sscc, l.product_id, p.sku, p.name, l.lot, l.expiry, l.qty, l.status FROM lpn l"
              " JOIN product p ON p.id = l.product_id WHERE l.receipt_id = ? AND l.status = 'open' ORDER BY l.id")


def _held(row) -> Held | None:
    if row is None:
        return None
    values = list(row)
    values[12] = bool(values[12])
    return Held(*values)


def current(user_id: int) -> Held | None:
    return _held(sql_row(CURRENT_SQL, user_id))


def held(receipt_id: int) -> Held:
    return _held(sql_row(BY_ID_SQL, receipt_id))


def open_receipt(code: str, actor: inventory.Actor, dock_code: str = "") -> Held:
    """Open a receipt for the order ``code`` names; the receiver's open receipt of that order
    when there is one (a device that asks again), refused while another one is open."""
    po = find_po(code)
    mine = current(actor.user_id)
    if mine is not None:
        if mine.po_id == po.id:
            return mine
        raise Refused("receipt_open", po=mine.po_code)
    dock = dock_of(po.warehouse_id, dock_code)
    with write_transaction():
        receipt = Receipt.create(code=uuid.uuid4().hex[:32], po=po.id, warehouse=po.warehouse_id, dock=dock.id,
                                 user=actor.user_id, device=actor.device_id)
        Receipt.update(code=f"RC{receipt.id:06d}").where(Receipt.id == receipt.id).execute()
        opened = held(receipt.id)
        publish_progress(opened)
    return opened


def receive(receipt: Held, product_id: int, qty: int, actor: inventory.Actor, *, lot: str = "",
            expiry=None, scanned: str = "") -> plates.Filled:
    """Count ``qty`` units of a SKU (and lot) received: the order line, the dock's stock, the plate
    and the order's status, in one transaction; refused (before anything is written) for an item
    the order does not hold or a count past the tolerance. The plate that counted them."""
    if receipt.po_status not in RECEIVABLE:  # closed short or cancelled by the office meanwhile
        raise Refused("po_not_receivable", po=receipt.po_code, status=receipt.po_status)
    line = sql_row("SELECT id, qty, received_qty FROM purchase_order_line WHERE po_id = ? AND product_id = ?",
                   receipt.po_id, product_id)
    if line is None:
        raise Refused("not_on_po", scanned=scanned, po=receipt.po_code)
    line_id, ordered, before = line
    # its one refusal (the tolerance) comes before it writes: no savepoint (two statements a scan)
    with write_transaction(savepoint=False):
        if not take_receipt(line_id, qty, receipt.over_pct):
            if receipt.blind:  # a blind receipt never tells how many are expected, nor how many more fit
                raise Refused("over_receipt_blind", adding=qty)
            received = sql_row("SELECT received_qty FROM purchase_order_line WHERE id = ?", line_id)[0]
            raise Refused("over_receipt", most=max(allowed_qty(ordered, receipt.over_pct) - received, 0), adding=qty)
        # the moving average takes the units in before they are counted on hand
        costing.received(product_id, receipt.warehouse_id, qty, line_id, ref=f"receipt:{receipt.id}")
        inventory.receive(product_id, receipt.dock_id, qty, actor=actor, state="qc_pending", lot=lot,
                          reason="receipt", ref=f"receipt:{receipt.id}", expiry=expiry)
        plate = plates.fill(receipt, line_id, product_id, lot, expiry, qty)
        # partially received stays so until a line is complete: only a scan completing one may move it
        if receipt.po_status != "partially_received" or before + qty >= ordered:
            receipt.po_status = settle(receipt.po_id)
        publish_progress(receipt)
    return plate


def in_hand(receipt: Held, open_plates: list[plates.Filled] | None = None) -> plates.Filled | None:
    """The open plate the receiver counted last: the one a typed quantity counts into."""
    row = sql_row("SELECT product_id, lot FROM stock_move WHERE ref = ? ORDER BY id DESC LIMIT 1",
                  f"receipt:{receipt.id}")
    if row is None:
        return None
    for plate in open_plates if open_plates is not None else open_plates_of(receipt):
        if (plate.product_id, plate.lot) == (row[0], row[1]):
            return plate
    return None


def count_to(receipt: Held, plate: plates.Filled, total: int, actor: inventory.Actor) -> plates.Filled:
    """A typed quantity: the plate holds ``total`` units (more than counted so far)."""
    if total < plate.qty:
        raise Refused("qty_below_received", received=plate.qty)
    if total == plate.qty:
        return plate
    return receive(receipt, plate.product_id, total - plate.qty, actor, lot=plate.lot, expiry=plate.expiry)


def open_plates_of(receipt: Held) -> list[plates.Filled]:
    return [plates.filled(row) for row in sql(PLATES_SQL, receipt.id).fetchall()]


def supplier_of(receipt: Held) -> Supplier:
    return Supplier.get_by_id(receipt.supplier_id)


def close_plate(receipt: Held, sscc: str, actor: inventory.Actor):
    """Close one open plate of the receipt (QC plan, label); the plate as it is after."""
    plate = plates.by_sscc(sscc)
    if plate is None or plate.receipt_id != receipt.id or plate.status != "open":
        raise Refused("lpn_not_open", sscc=sscc)
    with write_transaction():
        closed = plates.close(plate, supplier_of(receipt), actor)
        if closed.status == "ready":
            putaway.announce(receipt.warehouse_id)
    return closed


def finish(receipt: Held, actor: inventory.Actor, *, short_reason: str = "", may_close_short: bool = False) -> list:
    """Close the receipt: its open plates closed (QC plan, label); with a reason (and the right),
    the order closed short, the rest no longer in transit. The plates closed."""
    reason = (short_reason or "").strip()
    if reason and not may_close_short:
        raise Refused("forbidden")
    with write_transaction():
        supplier = supplier_of(receipt)
        closed = [plates.close(plates.by_sscc(plate.sscc), supplier, actor) for plate in open_plates_of(receipt)]
        if any(plate.status == "ready" for plate in closed):
            putaway.announce(receipt.warehouse_id)
        RECEIPT.move(receipt.id, "open", "closed", closed_at=utcnow())
        status = sql_row("SELECT status FROM purchase_order WHERE id = ?", receipt.po_id)[0]
        if reason and status in RECEIVABLE:
            PURCHASE_ORDER.move(receipt.po_id, status, "closed_short", close_reason=reason[:200],
                                updated_at=utcnow())
            status = "closed_short"
        receipt.po_status = status
        receipt.lines = None
        publish_progress(receipt)
    return closed


# --- progress -----------------------------------------------------------------------------------------

def lines_of(receipt: Held) -> list[tuple]:
    """The order's lines (sku, name, ordered, received), read once per scan."""
    if receipt.lines is None:
        receipt.lines = sql(LINES_SQL, receipt.po_id).fetchall()
    return receipt.lines


def progress(receipt: Held) -> dict:
    lines = lines_of(receipt)
    return {"po": receipt.po_code, "status": receipt.po_status, "lines_ordered": len(lines),
            "lines_received": sum(1 for _, _, qty, received in lines if received >= qty),
            "units_ordered": sum(qty for _, _, qty, _ in lines),
            "units_received": sum(received for _, _, _, received in lines)}


def publish_progress(receipt: Held) -> None:
    """``receipt.progress`` to the wall and the warehouse's room after commit, coalesced to one per
    receipt each quarter second however fast the scans come (as picking's ``wave.progress``)."""
    receipt.lines = None  # what this change wrote
    after_commit(lambda: _mark_dirty(receipt.id))


def _mark_dirty(receipt_id: int) -> None:
    with _guard:
        scheduled = bool(_dirty)
        _dirty.add(receipt_id)
    if not scheduled:
        events.call_later(PROGRESS_EVERY_S, flush_progress)


def flush_progress() -> None:
    """One ``receipt.progress`` per receipt changed since the last flush, however many receivers
    scanned meanwhile."""
    with _guard:
        receipt_ids = sorted(_dirty)
        _dirty.clear()
    try:
        with database.connection_context():
            for start in range(0, len(receipt_ids), 500):
                chunk = receipt_ids[start:start + 500]
                for payload in progress_of(f"r.id IN ({', '.join('?' * len(chunk))})", chunk):
                    events.publish("receipt.progress", payload,
                                   rooms=["wallboard", f"warehouse:{payload['warehouse']}"])
    except Exception:  # the wall catches up with the next scan
        log.exception("receipt progress for %s failed", receipt_ids)


def open_progress() -> list[dict]:
    """The progress of every open receipt (a wall screen's snapshot)."""
    return progress_of("r.status = 'open'", [])


def progress_of(where: str, params: list) -> list[dict]:
    """``receipt.progress`` payloads of the receipts ``where`` names: the receipts and their
    orders' lines read in one statement each."""
    found = [_held(row) for row in sql(HELD_SQL.format(where=where), *params).fetchall()]
    if not found:
        return []
    lines: dict[int, list] = {}
    po_ids = sorted({receipt.po_id for receipt in found})
    for po_id, *line in sql("SELECT l.po_id, p.sku, p.name, l.qty, l.received_qty FROM purchase_order_line l"
                            f" JOIN product p ON p.id = l.product_id WHERE l.po_id IN ({', '.join('?' * len(po_ids))})"
                            " ORDER BY l.po_id, l.seq, l.id", *po_ids).fetchall():
        lines.setdefault(po_id, []).append(tuple(line))
    payloads = []
    for receipt in found:
        receipt.lines = lines.get(receipt.po_id, [])
        payloads.append(dict(progress(receipt), receipt=receipt.code, warehouse=receipt.warehouse_code,
                             open=receipt.status == "open"))
    return payloads


def lines_view(receipt: Held) -> list[dict]:
    """The order's lines as the receiver sees them: what was ordered only when not blind."""
    shown = []
    for sku, name, qty, received in lines_of(receipt):
        line = {"sku": sku, "name": name, "received": received}
        if not receipt.blind:
            line["ordered"] = qty
        shown.append(line)
    return shown
