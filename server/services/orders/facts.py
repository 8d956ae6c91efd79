"""The order as the rules see it (rules/order.py lists its fields): the one builder, for an
order in the database and for an order being imported alike.

Review (审单), routing (分仓), carriers, merges, wave strategies and ``wavefloor rules explain``
all read an order through :func:`rules_view`, so a field means the same in every rule file.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple

from server.channels.base import FORBID_CONSIGN
from server.models import Order, OrderLine, Product

#: channel states in which the platform forbids shipping (e.g. a refund under way on Tmall)
BLOCKING_CHANNEL_STATES = frozenset({FORBID_CONSIGN})
#: channel states of an order that is paid for: it goes to review (审单), which holds a blocked one
TO_REVIEW = frozenset({"paid", FORBID_CONSIGN})


class RuleLine(NamedTuple):
    """One order line as the rules need it; ``product`` is (weight_g, bulky, cold_chain) of a
    known SKU, None for a SKU the catalogue does not have."""
    sku: str
    qty: int
    paid_fen: int
    refund_status: str
    product: tuple | None


def is_active(refund_status: str, qty: int) -> bool:
    """A line still to ship: not refunded, and asking for units."""
    return refund_status != "refunded" and qty > 0


def forbids_consign(channel_status: str) -> bool:
    return channel_status in BLOCKING_CHANNEL_STATES


def rules_view(order, channel_status: str, lines: Iterable[RuleLine], warehouses_with_stock=(),
               warehouses_with_stock_or_in_transit=(), shop_sells_in_transit: bool = False) -> dict:
    """``order`` is anything with the order header's fields (an :class:`Order`, or an order
    parsed from a channel); refunded and empty lines are left out. The warehouses that could
    fill it counting units in transit (在途) as well, and whether its shop sells presale against
    them, are filled in where the order is routed (allocation, import)."""
    lines = [line for line in lines if is_active(line.refund_status, line.qty)]
    return {
        "channel": order.channel, "shop": order.shop, "external_id": order.external_id,
        "status": channel_status, "buyer_nick": order.buyer_nick, "buyer_message": order.buyer_message,
        "seller_memo": order.seller_memo, "seller_flag": order.seller_flag,
        "receiver": {"name": order.receiver_name, "phone": order.receiver_phone,
                     "province": order.receiver_province, "city": order.receiver_city,
                     "district": order.receiver_district, "address": order.receiver_address,
                     "zip": order.receiver_zip},
        "goods_fen": order.goods_fen, "freight_fen": order.freight_fen, "discount_fen": order.discount_fen,
        "paid_fen": order.paid_fen, "units": sum(line.qty for line in lines),
        "sku_count": len({line.sku for line in lines}),
        "presale": order.presale, "presale_final_paid": order.presale_final_paid,
        "refund_pending": any(line.refund_status == "pending" for line in lines),
        "forbid_consign": forbids_consign(channel_status),
        "unknown_skus": sorted({line.sku for line in lines if line.product is None}),
        "weight_g": sum(line.product[0] * line.qty for line in lines if line.product),
        "tags": [], "blacklisted": False,
        "lines": [{"sku": line.sku, "qty": line.qty, "paid_fen": line.paid_fen, "refund_status": line.refund_status,
                   "bulky": bool(line.product and line.product[1]),
                   "cold_chain": bool(line.product and line.product[2])} for line in lines],
        "warehouses_with_stock": list(warehouses_with_stock),
        "warehouses_with_stock_or_in_transit": list(warehouses_with_stock_or_in_transit),
        "shop_sells_in_transit": bool(shop_sells_in_transit),
    }


def active_lines(order: Order) -> list[OrderLine]:
    return [line for line in OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id)
            if is_active(line.refund_status, line.qty)]


def context(order: Order, lines: list[OrderLine] | None = None, warehouses_with_stock=(),
            products: dict | None = None, in_transit: tuple = ((), False)) -> dict:
    """:func:`rules_view` of an order in the database; pass ``products`` (id -> Product) to
    spare the query when many orders are read at once (wave planning)."""
    lines = active_lines(order) if lines is None else lines
    if products is None:
        products = {p.id: p for p in
                    Product.select().where(Product.id.in_([l.product_id for l in lines if l.product_id]))}
    rule_lines = []
    for line in lines:
        product = products.get(line.product_id) if line.product_id is not None else None
        rule_lines.append(RuleLine(line.sku_code, line.qty, line.paid_fen, line.refund_status,
                                   (product.weight_g, product.bulky, product.cold_chain) if product else None))
    return rules_view(order, order.channel_status, rule_lines, warehouses_with_stock, *in_transit)
