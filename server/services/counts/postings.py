"""What an approved count does to the ledger: one adjustment (reason ``count``) per line with a
variance, the units a short pick froze at the location given back, and the location's flag
cleared.

Each adjustment is the counter's (the move's user and device) with ref ``count:<code>``; the
approval is the approver's, in the audit log (``count.approved``), naming the adjustments.
"""
from __future__ import annotations

from server.db import sql, write_transaction
from server.models import AuditLog, CountLine, CountTask, Location, Product
from server.services.errors import DomainError
from server.services.stock import inventory

# where missing units are taken from, first that holds them all: the units a short pick froze
# are the ones most likely gone; then free units, then damaged or waiting ones
TAKE_ORDER = ("frozen", "available", "damaged", "qc_pending")


class CountUnitsReserved(DomainError):
    """The count found fewer units than the location holds free: the rest are promised to orders
    (their picks will short, or are under way)."""
    code = "count_units_reserved"
    http_status = 409


def _quants(location_id: int, product_id: int, lot: str) -> dict[str, tuple[int, int]]:
    rows = sql("SELECT state, qty, reserved FROM quant WHERE location_id = ? AND product_id = ? AND lot = ?",
               location_id, product_id, lot).fetchall()
    return {state: (qty, reserved) for state, qty, reserved in rows}


def _state_for(delta: int, quants: dict[str, tuple[int, int]]) -> str | None:
    """The one state an adjustment of ``delta`` units goes to: found units are available."""
    if delta > 0:
        return "available"
    for state in TAKE_ORDER:
        qty, reserved = quants.get(state, (0, 0))
        if qty - reserved >= -delta:
            return state
    return None


def _frozen_by_shorts(location_id: int, product_id: int, lot: str) -> int:
    """Units short picks froze here that no count has settled yet."""
    (net,) = sql("SELECT COALESCE(SUM(CASE WHEN reason = 'short_pick' AND to_location_id = ? AND to_state = 'frozen'"
                 " THEN qty ELSE 0 END), 0) - COALESCE(SUM(CASE WHEN reason IN ('count', 'count_release')"
                 " AND from_location_id = ? AND from_state = 'frozen' THEN qty ELSE 0 END), 0)"
                 " FROM stock_move WHERE product_id = ? AND lot = ? AND (from_location_id = ? OR to_location_id = ?)",
                 location_id, location_id, product_id, lot, location_id, location_id).fetchone()
    return max(0, int(net or 0))


def post(task: CountTask, approver_id: int | None, note: str = "") -> list[dict]:
    """Post the task's variances and settle its location; returns the adjustments made."""
    counter = inventory.Actor(task.user_id, task.device_id)
    location = Location.get_by_id(task.location_id)
    ref = f"count:{task.code}"
    made = []
    with write_transaction():
        lines = list(CountLine.select(CountLine, Product).join(Product).where(CountLine.task == task.id)
                     .order_by(Product.sku, CountLine.lot))
        for line in lines:
            delta = line.counted - (line.expected + line.moved)
            if delta:
                state = _state_for(delta, _quants(location.id, line.product_id, line.lot))
                if state is None:
                    raise CountUnitsReserved(f"{line.product.sku} at {location.code}: fewer units than are free",
                                             sku=line.product.sku, location=location.code)
                inventory.adjust(line.product, location, delta, actor=counter, reason="count", state=state,
                                 lot=line.lot, ref=ref)
                made.append({"sku": line.product.sku, "lot": line.lot, "delta": delta, "state": state})
            frozen = _quants(location.id, line.product_id, line.lot).get("frozen", (0, 0))[0]
            settle = min(frozen, _frozen_by_shorts(location.id, line.product_id, line.lot))
            if settle:
                inventory.change_state(line.product, location, settle, "frozen", "available", actor=counter,
                                       lot=line.lot, reason="count_release", ref=ref)
        Location.update(needs_count=False).where(Location.id == location.id).execute()
        detail = "; ".join(f"{m['sku']}{'/' + m['lot'] if m['lot'] else ''} {m['delta']:+d} {m['state']}"
                           for m in made) or "no variance"
        AuditLog.create(user=approver_id if approver_id is not None else task.user_id,
                        action="count.approved", target=ref,
                        detail=f"{location.code}: {detail}" + (f" ({note})" if note else ""))
    return made
