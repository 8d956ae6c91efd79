"""The office's verbs on an order (订单处理): approve a held one (审单通过), cancel, correct an
address or memo (it goes back through review), raise its priority. Each is one transaction and
leaves the order's history; status changes go through the order's lifecycle."""
from __future__ import annotations

import json

from server.db import write_transaction
from server.models import Order
from server.models.base import utcnow
from server.services.errors import DomainError, InvalidTransition
from server.services.orders import allocation, review
from server.services.orders.lifecycle import get, record, transition
from server.services.packages import waybills
from server.services.stock import inventory


def cancel(order: Order, actor: inventory.Actor, reason: str) -> None:
    """Cancel the order; a carrier's number it holds (电子面单) is voided with it, and the call that
    gives the number back to the carrier is queued in the same transaction."""
    with write_transaction():
        allocation.release_allocations(order, actor)
        transition(order, "cancelled", actor, reason)
        if waybills.assigned(order.id) is not None:
            waybills.cancel(order, actor)


def approve(order_id: int, actor: inventory.Actor, note: str = "") -> Order:
    """The office approves a held order (审单通过); it is then routed and reserved."""
    with write_transaction():
        order = get(order_id)
        transition(order, "approved", actor, note or "approved by hand")
        Order.update(hold_reasons="").where(Order.id == order.id).execute()
        allocation.allocate(order, actor)
    return get(order_id)


EDITABLE = ("receiver_name", "receiver_phone", "receiver_province", "receiver_city", "receiver_district",
            "receiver_address", "receiver_zip", "seller_memo", "carrier")


def edit(order_id: int, changes: dict, actor: inventory.Actor) -> Order:
    """Correct a held order (an address, a memo); it goes back through review."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DomainError(f"cannot edit {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}")
    with write_transaction():
        order = get(order_id)
        if order.status not in ("held", "new", "backorder", "approved"):
            raise InvalidTransition("order", order.status, "edited")
        Order.update(updated_at=utcnow(), **changes).where(Order.id == order.id).execute()
        record(order, "edited", json.dumps(changes, ensure_ascii=False), actor)
        order = get(order_id)
        if order.status == "held":
            transition(order, "reviewing", actor, "re-review after edit")
            review.review_and_route(order, actor)
    return get(order_id)


def set_priority(order_id: int, priority: int, actor: inventory.Actor) -> Order:
    with write_transaction():
        order = get(order_id)
        Order.update(priority=priority, updated_at=utcnow()).where(Order.id == order.id).execute()
        record(order, "priority", str(priority), actor)
    return get(order_id)
