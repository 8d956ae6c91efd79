"""Orders: the state machine, history, and the office's verbs (approve, cancel, edit, priority).

Every state change goes through :func:`transition`, which checks ``TRANSITIONS`` and records
who did it; a refused change raises ``InvalidTransition``.
"""
from __future__ import annotations

import json

from server import events
from server.db import write_transaction
from server.models import Allocation, Order, OrderEvent, OrderLine
from server.models.base import utcnow
from server.models.orders import TRANSITIONS
from server.services.stock import inventory
from server.services.errors import DomainError, InvalidTransition, NotFound


def get(order_id: int) -> Order:
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def by_external(channel: str, shop: str, external_id: str) -> Order | None:
    return Order.get_or_none((Order.channel == channel) & (Order.shop == shop) & (Order.external_id == external_id))


def record(order: Order, action: str, detail: str = "", actor: inventory.Actor | None = None) -> None:
    OrderEvent.create(order=order.id, action=action, detail=detail[:2000],
                      user=actor.user_id if actor else None)


def transition(order: Order, target: str, actor: inventory.Actor | None, detail: str = "") -> None:
    """Move ``order`` to ``target`` (checked against TRANSITIONS) and record it."""
    if (order.status, target) not in TRANSITIONS:
        raise InvalidTransition("order", order.status, target)
    previous = order.status
    rows = (Order.update(status=target, updated_at=utcnow())
            .where((Order.id == order.id) & (Order.status == previous)).execute())
    if rows != 1:  # someone else moved it first
        raise InvalidTransition("order", previous, target)
    order.status = target
    record(order, target, detail, actor)
    _changed(order, previous)


def _changed(order: Order, previous: str) -> None:
    events.publish("order.changed", {"order": order.id, "status": order.status, "from": previous},
                   rooms=["role:office", "role:supervisor"])


def transition_all(batch: list[Order], target: str, actor: inventory.Actor | None, detail: str = "") -> None:
    """:func:`transition` for many orders in the same status at once (a wave's 10,000): one
    update and one insert of their history, instead of two statements and their query building
    per order. Raises if any of them is no longer where it was, and changes none then (inside
    the caller's transaction)."""
    if not batch:
        return
    previous = batch[0].status
    if any(order.status != previous for order in batch) or (previous, target) not in TRANSITIONS:
        raise InvalidTransition("order", previous, target)
    now = utcnow()
    with write_transaction():
        moved = 0
        for start in range(0, len(batch), 500):
            ids = [order.id for order in batch[start:start + 500]]
            moved += (Order.update(status=target, updated_at=now)
                      .where(Order.id.in_(ids) & (Order.status == previous)).execute())
        if moved != len(batch):  # someone else moved one of them first
            raise InvalidTransition("order", previous, target)
        user = actor.user_id if actor else None
        history = [{"order": order.id, "at": now, "action": target, "detail": detail[:2000], "user": user}
                   for order in batch]
        for start in range(0, len(history), 500):
            OrderEvent.insert_many(history[start:start + 500]).execute()
    for order in batch:
        order.status = target
        _changed(order, previous)


def release_allocations(order: Order, actor: inventory.Actor, lines=None) -> int:
    """Give back every unit reserved for the order (or for some of its lines)."""
    released = 0
    query = (Allocation.select(Allocation, OrderLine).join(OrderLine)
             .where(OrderLine.order == order.id))
    if lines is not None:
        query = query.where(OrderLine.id.in_([line.id for line in lines]))
    for allocation in query:
        inventory.release(allocation.line.product_id, allocation.location_id, allocation.qty, actor=actor,
                          lot=allocation.lot, ref=f"order:{order.id}")
        OrderLine.update(reserved_qty=OrderLine.reserved_qty - allocation.qty).where(
            OrderLine.id == allocation.line_id).execute()
        allocation.delete_instance()
        released += allocation.qty
    return released


def cancel(order: Order, actor: inventory.Actor, reason: str) -> None:
    with write_transaction():
        release_allocations(order, actor)
        transition(order, "cancelled", actor, reason)


def approve(order_id: int, actor: inventory.Actor, note: str = "") -> Order:
    """The office approves a held order (审单通过); it is then routed and reserved."""
    from server.services.orders import allocation
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
    from server.services.orders import review
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


def history(order: Order) -> list[dict]:
    rows = OrderEvent.select().where(OrderEvent.order == order.id).order_by(OrderEvent.id)
    return [{"at": e.at, "action": e.action, "detail": e.detail,
             "user": e.user.code if e.user_id else None} for e in rows]
