"""Orders out, for scripts and reports (`wavefloor orders export`)."""
from __future__ import annotations

from server.models import Order, OrderLine, Warehouse


def export(status: str | None = None, shop: str | None = None) -> list[dict]:
    query = Order.select().order_by(Order.id)
    if status:
        query = query.where(Order.status == status)
    if shop:
        query = query.where(Order.shop == shop)
    orders = list(query)
    lines: dict[int, list] = {}
    for line in OrderLine.select().where(OrderLine.order.in_([o.id for o in orders])).order_by(OrderLine.id):
        lines.setdefault(line.order_id, []).append(line)
    warehouses = dict(Warehouse.select(Warehouse.id, Warehouse.code).tuples())
    return [{
        "channel": o.channel, "shop": o.shop, "external_id": o.external_id, "status": o.status,
        "channel_status": o.channel_status,
        "hold_reasons": [c for c in o.hold_reasons.split(",") if c],
        "province": o.receiver_province, "city": o.receiver_city,
        "goods_fen": o.goods_fen, "freight_fen": o.freight_fen, "discount_fen": o.discount_fen,
        "coupon_fen": o.coupon_fen, "paid_fen": o.paid_fen, "presale": o.presale,
        "units": sum(l.qty for l in lines.get(o.id, [])),
        "warehouse": warehouses.get(o.warehouse_id), "carrier": o.carrier,
        "ship_by": o.ship_by.isoformat() + "Z" if o.ship_by else None,
        "split_from": o.split_from_id, "merged_into": o.merged_into_id,
        "lines": [{"external_line_id": l.external_line_id, "sku": l.sku_code, "qty": l.qty,
                   "paid_fen": l.paid_fen, "refund_status": l.refund_status,
                   "unknown_sku": l.product_id is None, "reserved_qty": l.reserved_qty}
                  for l in lines.get(o.id, [])],
    } for o in orders]
