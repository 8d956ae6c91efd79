"""Review (审单): the rules decide hold or approve; approved orders go on to routing (分仓).

The rules see the order as orders.facts builds it (rules/order.py lists its fields)."""
from __future__ import annotations

from server.models import Order
from server.services.orders import allocation
from server.services.orders import lifecycle as orders
from server.services.orders.facts import context
from server.services.rulebook import book
from server.services.stock import inventory


def review_and_route(order: Order, actor: inventory.Actor) -> None:
    """``order`` is in ``reviewing``: hold it with every reason that applies, or approve and allocate."""
    result = book().review.review(context(order))
    if not result.approved:
        codes = ",".join(h.code for h in result.holds)
        Order.update(hold_reasons=codes).where(Order.id == order.id).execute()
        orders.transition(order, "held", actor, "; ".join(f"{h.code}: {h.name_zh}" for h in result.holds))
        return
    Order.update(hold_reasons="").where(Order.id == order.id).execute()
    orders.transition(order, "approved", actor, "rules approved")
    allocation.allocate(order, actor)


def hold(order: Order, actor: inventory.Actor, detail: str) -> None:
    """Send an order back to the office with the reasons the rules give now (e.g. a refund request)."""
    result = book().review.review(context(order))
    codes = ",".join(h.code for h in result.holds) or "channel_change"
    Order.update(hold_reasons=codes).where(Order.id == order.id).execute()
    orders.transition(order, "held", actor, f"{detail}: {codes}")
