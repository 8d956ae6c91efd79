"""Merging orders (合单): orders of one buyer to one receiver, not yet in a wave, ship as one
parcel. The oldest order absorbs the others' lines (and their reservations); the absorbed
orders are cancelled with ``merged_into`` pointing at it, so tracking numbers still reach
every channel order."""
from __future__ import annotations

from collections import defaultdict

from server.db import write_transaction
from server.models import Order, OrderLine
from server.models.base import utcnow
from server.services.errors import DomainError
from server.services.orders import lifecycle as orders
from server.services.orders.facts import context
from server.services.rulebook import book

MERGEABLE = ("approved", "allocated", "backorder")
SAME = ("shop", "buyer_nick", "receiver_name", "receiver_phone", "receiver_province", "receiver_city",
        "receiver_district", "receiver_address")


def _key(order: Order) -> tuple:
    return tuple(getattr(order, f) for f in SAME) + (order.warehouse_id,)


def candidates() -> list[list[Order]]:
    """Groups of two or more orders that could ship together (same warehouse, not presale)."""
    groups = defaultdict(list)
    query = Order.select().where(Order.status.in_(MERGEABLE) & ~Order.presale & Order.merged_into.is_null())
    for order in query.order_by(Order.id):
        if order.buyer_nick and order.receiver_address:
            groups[_key(order)].append(order)
    return [group for group in groups.values() if len(group) > 1]


def merge(order_ids: list[int], actor) -> Order:
    with write_transaction():
        group = list(Order.select().where(Order.id.in_(order_ids)).order_by(Order.id))
        if len(group) < 2 or len(group) != len(set(order_ids)):
            raise DomainError("name two or more existing orders to merge")
        if any(o.status not in MERGEABLE for o in group) or len({_key(o) for o in group}) != 1:
            raise DomainError("only orders of one buyer to one receiver, in one warehouse and not yet in a wave, "
                              "can be merged")
        target, others = group[0], group[1:]
        for other in others:
            OrderLine.update(order=target.id).where(OrderLine.order == other.id).execute()
            Order.update(merged_into=target.id, updated_at=utcnow()).where(Order.id == other.id).execute()
            orders.transition(other, "cancelled", actor, f"merged into {target.external_id}")
        sums = {f: getattr(target, f) + sum(getattr(o, f) for o in others)
                for f in ("goods_fen", "freight_fen", "discount_fen", "coupon_fen", "paid_fen")}
        deadlines = [o.ship_by for o in group if o.ship_by]
        Order.update(ship_by=min(deadlines) if deadlines else None, priority=max(o.priority for o in group),
                     updated_at=utcnow(), **sums).where(Order.id == target.id).execute()
        orders.record(target, "merged", ", ".join(o.external_id for o in others), actor)
    return Order.get_by_id(target.id)


def merge_all(actor, *, by_rule: bool = True) -> int:
    """Merge candidate groups; with ``by_rule`` only those whose every order the routing rules'
    ``merge`` condition allows. Return how many orders were absorbed."""
    absorbed = 0
    for group in candidates():
        if by_rule and not all(book().routing.may_merge(context(o)) for o in group):
            continue
        merge([o.id for o in group], actor)
        absorbed += len(group) - 1
    return absorbed

