"""Orders as the office sees them: lists with filters, one order with lines and history, and
personal data shown only to roles that need it."""
from __future__ import annotations

import datetime as dt

from server.models import Order, OrderLine, Warehouse
from server.services.auth import Principal, personal
from server.services.orders import lifecycle as orders


def order_filter(status=None, channel=None, hold=None, province=None, since=None, until=None, q=None):
    query = Order.select()
    if status:
        query = query.where(Order.status == status)
    if channel:
        query = query.where(Order.channel == channel)
    if hold:
        query = query.where(Order.hold_reasons.contains(hold))
    if province:
        query = query.where(Order.receiver_province.startswith(province))
    if since:
        query = query.where(Order.created_at >= dt.datetime.combine(since, dt.time()))
    if until:
        query = query.where(Order.created_at < dt.datetime.combine(until, dt.time()) + dt.timedelta(days=1))
    if q:
        query = query.where((Order.external_id.contains(q)) | (Order.buyer_nick.contains(q)))
    return query


def summary(order: Order, principal: Principal, warehouses: dict) -> dict:
    return {"id": order.id, "channel": order.channel, "shop": order.shop, "external_id": order.external_id,
            "status": order.status, "hold_reasons": [c for c in order.hold_reasons.split(",") if c],
            "buyer_nick": order.buyer_nick, "receiver_name": personal(principal, order.receiver_name, "name"),
            "receiver_phone": personal(principal, order.receiver_phone, "phone"),
            "province": order.receiver_province, "city": order.receiver_city,
            "paid_fen": order.paid_fen, "priority": order.priority, "ship_by": order.ship_by,
            "warehouse": warehouses.get(order.warehouse_id), "carrier": order.carrier,
            "created_at": order.created_at}


def summaries(rows, principal: Principal) -> list[dict]:
    warehouses = dict(Warehouse.select(Warehouse.id, Warehouse.code).tuples())
    return [summary(o, principal, warehouses) for o in rows]


def order_list(principal: Principal, limit=50, offset=0, **filters) -> dict:
    query = order_filter(**filters)
    warehouses = dict(Warehouse.select(Warehouse.id, Warehouse.code).tuples())
    rows = query.order_by(Order.priority.desc(), Order.ship_by, Order.id).limit(limit).offset(offset)
    return {"items": [summary(o, principal, warehouses) for o in rows], "total": query.count()}


def order_detail(order_id: int, principal: Principal) -> dict:
    order = orders.get(order_id)
    warehouses = dict(Warehouse.select(Warehouse.id, Warehouse.code).tuples())
    detail = summary(order, principal, warehouses)
    detail.update({
        "receiver_address": personal(principal, order.receiver_address, "address"),
        "receiver_district": order.receiver_district, "buyer_message": order.buyer_message,
        "seller_memo": order.seller_memo, "seller_flag": order.seller_flag, "goods_fen": order.goods_fen,
        "freight_fen": order.freight_fen, "discount_fen": order.discount_fen, "coupon_fen": order.coupon_fen,
        "presale": order.presale, "presale_final_paid": order.presale_final_paid,
        "channel_status": order.channel_status, "source": order.source,
        "lines": [{"external_line_id": l.external_line_id, "sku": l.sku_code, "title": l.title, "qty": l.qty,
                   "price_fen": l.price_fen, "paid_fen": l.paid_fen, "refund_status": l.refund_status,
                   "reserved_qty": l.reserved_qty, "picked_qty": l.picked_qty, "short_qty": l.short_qty,
                   "unknown_sku": l.product_id is None}
                  for l in OrderLine.select().where(OrderLine.order == order.id).order_by(OrderLine.id)],
        "history": orders.history(order),
    })
    return detail
