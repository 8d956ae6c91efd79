"""The order's lifecycle: the only writer of ``Order.status``, and the order's history.

Every state change goes through :func:`transition` (or :func:`transition_all` for many orders
at once), which moves the order along an edge of ``TRANSITIONS`` with a guarded update
(services/states.py) and records who did it; a refused change raises ``InvalidTransition``.
The office's verbs (approve, cancel, edit, priority) are in orders/office.py. One edge is also
taken in the database: on PostgreSQL a picking scan's function moves an order waved -> picking
with its history line, as :func:`transition` would (migrations/0021_pick_scan_function.py), and
the serving process then calls :func:`changed`.
"""
from __future__ import annotations

from server import events
from server.db import write_transaction
from server.models import Order, OrderEvent
from server.models.base import utcnow
from server.models.orders import TRANSITIONS
from server.services.errors import InvalidTransition, NotFound
from server.services.states import Lifecycle
from server.services.stock import inventory

ORDER = Lifecycle("order", Order, TRANSITIONS)


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
    """Move ``order`` to ``target`` (an edge of TRANSITIONS, and only if nobody moved it first)
    and record it."""
    previous = order.status
    ORDER.move(order.id, previous, target, updated_at=utcnow())
    order.status = target
    record(order, target, detail, actor)
    _changed(order, previous)


def _changed(order: Order, previous: str) -> None:
    changed(order.id, order.status, previous)


def changed(order_id: int, status: str, previous: str) -> None:
    """The office and the supervisors hear that an order moved (a picking scan on PostgreSQL
    moves it in the database: scenarios/picking_direct.py)."""
    events.publish("order.changed", {"order": order_id, "status": status, "from": previous},
                   rooms=["role:office", "role:supervisor"])


def transition_all(batch: list[Order], target: str, actor: inventory.Actor | None, detail: str = "") -> None:
    """:func:`transition` for many orders in the same status at once (a wave's 10,000): one
    update and one insert of their history, instead of two statements and their query building
    per order. Raises if any of them is no longer where it was, and changes none then (inside
    the caller's transaction)."""
    if not batch:
        return
    previous = batch[0].status
    if any(order.status != previous for order in batch):
        raise InvalidTransition("order", previous, target)
    now = utcnow()
    with write_transaction():
        ORDER.move_many([order.id for order in batch], previous, target, updated_at=now)
        user = actor.user_id if actor else None
        history = [{"order": order.id, "at": now, "action": target, "detail": detail[:2000], "user": user}
                   for order in batch]
        for start in range(0, len(history), 500):
            OrderEvent.insert_many(history[start:start + 500]).execute()
    for order in batch:
        order.status = target
        _changed(order, previous)


def history(order: Order) -> list[dict]:
    rows = OrderEvent.select().where(OrderEvent.order == order.id).order_by(OrderEvent.id)
    return [{"at": e.at, "action": e.action, "detail": e.detail,
             "user": e.user.code if e.user_id else None} for e in rows]
