"""The purchase order's lifecycle (``PO_TRANSITIONS``, models/purchasing.py): the only writer of
``PurchaseOrder.status``, and the guarded count of what its lines received.

Receiving adds to a line's ``received_qty`` with one guarded UPDATE that also holds the
supplier's over-receipt tolerance, so two receivers scanning the same line at the same moment
never take more than it allows, on SQLite and on PostgreSQL alike.
"""
from __future__ import annotations

from server.db import is_sqlite, sql, sql_row
from server.models import PurchaseOrder
from server.models.base import utcnow
from server.models.purchasing import PO_TRANSITIONS
from server.services.states import Lifecycle

PURCHASE_ORDER = Lifecycle("purchase_order", PurchaseOrder, PO_TRANSITIONS)


def allowed_qty(qty: int, over_receipt_pct: int) -> int:
    """The most units a line of ``qty`` may receive with the tolerance (rounded down)."""
    return qty + (qty * max(over_receipt_pct, 0)) // 100


def take_receipt(line_id: int, qty: int, over_receipt_pct: int) -> bool:
    """Count ``qty`` more units received on the line unless that passes the tolerance; whether
    it counted them. One guarded statement: the check and the write cannot be split."""
    rows = sql("UPDATE purchase_order_line SET received_qty = received_qty + ?"
               " WHERE id = ? AND (received_qty + ?) * 100 <= qty * (100 + ?)",
               qty, line_id, qty, max(over_receipt_pct, 0)).rowcount
    return rows == 1


def settle(po_id: int) -> str:
    """Move an approved or partially received order on by what its lines received: partially
    received after its first unit, received when every line has all it ordered. The status
    it is in after.

    On PostgreSQL the order's row is locked first: two receipts finishing different lines at the
    same moment would each read the other's line as it was before, and neither would see the
    order complete. Locked, the second reads after the first commits. (SQLite has one writer.)"""
    if not is_sqlite():
        sql("SELECT id FROM purchase_order WHERE id = ? FOR UPDATE", po_id)
    row = sql_row("SELECT status FROM purchase_order WHERE id = ?", po_id)
    status = row[0]
    totals = sql_row("SELECT COALESCE(SUM(received_qty), 0), COUNT(*),"
                     " SUM(CASE WHEN received_qty >= qty THEN 1 ELSE 0 END) FROM purchase_order_line"
                     " WHERE po_id = ?", po_id)
    received, lines, complete = totals[0], totals[1], totals[2] or 0
    target = status
    if lines and complete == lines:
        target = "received"
    elif received > 0:
        target = "partially_received"
    if target != status and PURCHASE_ORDER.allows(status, target):
        if PURCHASE_ORDER.move_if(po_id, status, target, updated_at=utcnow()):
            return target
        return sql_row("SELECT status FROM purchase_order WHERE id = ?", po_id)[0]
    return status
