"""Review (审单): the rules decide hold or approve; approved orders go on to routing (分仓).

The rules see the order as a plain dict (rules/order.py lists its fields)."""
from __future__ import annotations

from server.models import Order, OrderLine, Product
from server.services.stock import inventory
from server.services.orders import lifecycle as orders
from server.services.rulebook import book

BLOCKING_CHANNEL_STATES = {"forbid_consign"}


def active_lines(order: Order) -> list[OrderLine]:
    return [line for line in OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id)
            if line.refund_status != "refunded" and line.qty > 0]


def context(order: Order, lines: list[OrderLine] | None = None, warehouses_with_stock=(),
            products: dict | None = None) -> dict:
    """The order as the rules see it; pass ``products`` (id -> Product) to spare the query when
    many orders are read at once (wave planning)."""
    lines = active_lines(order) if lines is None else lines
    if products is None:
        products = {p.id: p for p in
                    Product.select().where(Product.id.in_([l.product_id for l in lines if l.product_id]))}
    weight = sum(products[l.product_id].weight_g * l.qty for l in lines if l.product_id in products)
    return {
        "channel": order.channel, "shop": order.shop, "external_id": order.external_id,
        "status": order.channel_status, "buyer_nick": order.buyer_nick, "buyer_message": order.buyer_message,
        "seller_memo": order.seller_memo, "seller_flag": order.seller_flag,
        "receiver": {"name": order.receiver_name, "phone": order.receiver_phone,
                     "province": order.receiver_province, "city": order.receiver_city,
                     "district": order.receiver_district, "address": order.receiver_address,
                     "zip": order.receiver_zip},
        "goods_fen": order.goods_fen, "freight_fen": order.freight_fen, "discount_fen": order.discount_fen,
        "paid_fen": order.paid_fen, "units": sum(l.qty for l in lines),
        "sku_count": len({l.sku_code for l in lines}),
        "presale": order.presale, "presale_final_paid": order.presale_final_paid,
        "refund_pending": any(l.refund_status == "pending" for l in lines),
        "forbid_consign": order.channel_status in BLOCKING_CHANNEL_STATES,
        "unknown_skus": sorted({l.sku_code for l in lines if l.product_id is None}),
        "weight_g": weight, "tags": [], "blacklisted": False,
        "lines": [{"sku": l.sku_code, "qty": l.qty, "paid_fen": l.paid_fen, "refund_status": l.refund_status,
                   "bulky": bool(products.get(l.product_id) and products[l.product_id].bulky),
                   "cold_chain": bool(products.get(l.product_id) and products[l.product_id].cold_chain)}
                  for l in lines],
        "warehouses_with_stock": list(warehouses_with_stock),
    }


def review_and_route(order: Order, actor: inventory.Actor) -> None:
    """``order`` is in ``reviewing``: hold it with every reason that applies, or approve and allocate."""
    from server.services.orders import allocation
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
