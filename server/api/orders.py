from apiflask.fields import Boolean, Date, DateTime, Dict, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import Response, current_app, request

from server.api import api
from server.api.schemas import Integer, Schema
from server.channels.values import LARGEST_WHOLE
from server.guard import current_principal, public, requires
from server.models.orders import ORDER_STATES
from server.services.connectors import tracking
from server.services.orders import channel_stock, merge, office, webhooks
from server.services.orders import lifecycle as orders
from server.services.orders import views as order_views
from server.services.stock import desk as stockdesk


class OrderQuery(Schema):
    status = String(load_default=None, validate=OneOf(ORDER_STATES))
    channel = String(load_default=None, validate=Length(1, 16))
    hold = String(load_default=None, validate=Length(1, 64))
    province = String(load_default=None, validate=Length(1, 32))
    since = Date(load_default=None)
    until = Date(load_default=None)
    q = String(load_default=None, validate=Length(1, 64))
    limit = Integer(load_default=50, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class OrderSummary(Schema):
    id = Integer()
    channel = String()
    shop = String()
    external_id = String()
    status = String()
    hold_reasons = List(String())
    buyer_nick = String()
    receiver_name = String()
    receiver_phone = String()
    province = String()
    city = String()
    paid_fen = Integer()
    priority = Integer()
    ship_by = DateTime(allow_none=True)
    warehouse = String(allow_none=True)
    carrier = String()
    created_at = DateTime()


class OrderList(Schema):
    items = List(Nested(OrderSummary))
    total = Integer()


class OrderLineOut(Schema):
    external_line_id = String()
    sku = String()
    title = String()
    qty = Integer()
    price_fen = Integer()
    paid_fen = Integer()
    refund_status = String()
    reserved_qty = Integer()
    picked_qty = Integer()
    short_qty = Integer()
    unknown_sku = Boolean()


class HistoryOut(Schema):
    at = DateTime()
    action = String()
    detail = String()
    user = String(allow_none=True)


class TrackingEventOut(Schema):
    """A step of the order's parcel on its way (物流轨迹)."""
    at = DateTime(metadata={"description": "when the carrier recorded the step (UTC)"})
    status = String(metadata={"description": "collected | in_transit | delivering | delivered | exception"})
    status_en = String()
    status_zh = String()
    detail = String()
    place = String()
    source = String(metadata={"description": "top (pulled from the platform) or push:<carrier>"})
    tracking = String()
    carrier = String()


class OrderDetail(OrderSummary):
    receiver_address = String()
    receiver_district = String()
    buyer_message = String()
    seller_memo = String()
    seller_flag = Integer()
    goods_fen = Integer()
    freight_fen = Integer()
    discount_fen = Integer()
    coupon_fen = Integer()
    presale = Boolean()
    presale_final_paid = Boolean()
    channel_status = String()
    source = String()
    lines = List(Nested(OrderLineOut))
    history = List(Nested(HistoryOut))
    tracking = List(Nested(TrackingEventOut), metadata={"description": "its parcel's tracking steps (物流轨迹), oldest first"})


class NoteIn(Schema):
    note = String(load_default="", validate=Length(0, 500))


class CancelIn(Schema):
    reason = String(required=True, validate=Length(1, 200))


class PriorityIn(Schema):
    priority = Integer(required=True, validate=Range(-100, 100))


class EditIn(Schema):
    changes = Dict(keys=String(validate=OneOf(office.EDITABLE)), values=String(validate=Length(0, 300)), required=True)


class ShopIn(Schema):
    channel = String(required=True, validate=OneOf(["tmall", "top", "jd", "douyin", "csv"]))
    name = String(load_default="", validate=Length(0, 100))
    stock_ratio_pct = Integer(load_default=100, validate=Range(0, 100))
    safety_buffer = Integer(load_default=0, validate=Range(0, 100000))
    webhook_secret = String(load_default="", validate=Length(0, 128))
    sell_in_transit = Boolean(load_default=False, metadata={"description": "offer units in transit (在途) for presale"})


class ShopOut(Schema):
    code = String()
    channel = String()
    name = String()
    stock_ratio_pct = Integer()
    safety_buffer = Integer()
    webhook = Boolean()
    sell_in_transit = Boolean()


class PresaleBatch(Schema):
    expected_on = String(allow_none=True)
    quantity = Integer()


class StockRow(Schema):
    sku = String()
    barcode = String()
    quantity = Integer()
    in_transit = List(Nested(PresaleBatch), metadata={"description": "shops that sell in transit only: "
                                                                     "presale units by expected date, apart from quantity"})


class ShopStock(Schema):
    items = List(Nested(StockRow))


class ImportOut(Schema):
    created = Integer()
    updated = Integer()
    unchanged = Integer()
    cancelled = Integer()
    held = Integer()
    allocated = Integer()
    backorder = Integer()
    problems = List(String())


def _actor():
    return stockdesk.actor_of(current_principal())


@api.get("/orders")
@requires("orders.read")
@api.input(OrderQuery, location="query")
@api.output(OrderList)
@api.doc(summary="Orders with filters (status, channel, hold reason, province, dates)", security="BearerAuth")
def list_orders(query_data):
    return order_views.order_list(current_principal(), **query_data)


@api.get("/orders/<int:order_id>")
@requires("orders.read")
@api.output(OrderDetail)
@api.doc(summary="One order with its lines and history", security="BearerAuth")
def get_order(order_id):
    return dict(order_views.order_detail(order_id, current_principal()), tracking=tracking.order_events(order_id))


@api.post("/orders/<int:order_id>/approve")
@requires("orders.write")
@api.input(NoteIn)
@api.output(OrderDetail)
@api.doc(summary="Approve a held order (审单通过); it is routed and reserved", security="BearerAuth")
def approve_order(order_id, json_data):
    office.approve(order_id, _actor(), json_data["note"])
    return order_views.order_detail(order_id, current_principal())


@api.post("/orders/<int:order_id>/cancel")
@requires("orders.write")
@api.input(CancelIn)
@api.output(OrderDetail)
@api.doc(summary="Cancel an order before it ships; its stock is released", security="BearerAuth")
def cancel_order(order_id, json_data):
    office.cancel(orders.get(order_id), _actor(), json_data["reason"])
    return order_views.order_detail(order_id, current_principal())


@api.patch("/orders/<int:order_id>")
@requires("orders.write")
@api.input(EditIn)
@api.output(OrderDetail)
@api.doc(summary="Correct a held order (address, memo, carrier); it is reviewed again", security="BearerAuth")
def edit_order(order_id, json_data):
    office.edit(order_id, json_data["changes"], _actor())
    return order_views.order_detail(order_id, current_principal())


@api.post("/orders/<int:order_id>/priority")
@requires("orders.write")
@api.input(PriorityIn)
@api.output(OrderDetail)
@api.doc(summary="Raise or lower an order's priority for waves", security="BearerAuth")
def prioritise_order(order_id, json_data):
    office.set_priority(order_id, json_data["priority"], _actor())
    return order_views.order_detail(order_id, current_principal())


class MergeIn(Schema):
    orders = List(Integer(validate=Range(1, LARGEST_WHOLE)), required=True, validate=Length(2, 50))


class CandidateGroup(Schema):
    orders = List(Nested(OrderSummary))


class Candidates(Schema):
    groups = List(Nested(CandidateGroup))


@api.get("/orders/merge-candidates")
@requires("orders.read")
@api.output(Candidates)
@api.doc(summary="Orders of one buyer to one receiver that could ship as one parcel (合单)", security="BearerAuth")
def merge_candidates():
    return {"groups": [{"orders": order_views.summaries(group, current_principal())}
                       for group in merge.candidates()]}


@api.post("/orders/merge")
@requires("orders.write")
@api.input(MergeIn)
@api.output(OrderDetail)
@api.doc(summary="Merge orders into the oldest of them", security="BearerAuth")
def merge_orders(json_data):
    target = merge.merge(json_data["orders"], _actor())
    return order_views.order_detail(target.id, current_principal())


@api.put("/shops/<code>")
@requires("shops.manage")
@api.input(ShopIn)
@api.output(ShopOut)
@api.doc(summary="Create or update a shop (channel, stock share, safety buffer, webhook secret)",
         security="BearerAuth")
def put_shop(code, json_data):
    shop = channel_stock.save_shop(code, json_data, _actor())
    return channel_stock.shop_view(shop)


@api.get("/shops/<code>/stock")
@requires("stock.read")
@api.output(ShopStock)
@api.doc(summary="Available-to-sell per SKU for a shop; ?format=csv gives the channel upload file",
         security="BearerAuth")
def shop_stock(code):
    if request.args.get("format") == "csv":
        return Response(channel_stock.upload_csv(code).encode("utf-8-sig"), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={code}-stock.csv"})
    return {"items": channel_stock.available_to_sell(code)}


@api.post("/channels/<shop>/orders")
@public
@api.output(ImportOut)
@api.doc(summary="Orders pushed by a channel: the body is the channel's JSON, signed with the shop's "
                 "secret in X-Wavefloor-Signature: sha256=<hex HMAC-SHA256 of the body>; a body over "
                 f"{webhooks.MAX_BODY_BYTES} bytes is refused (413) unread")
def channel_orders(shop):
    report = webhooks.receive_orders(shop, _bounded_body(webhooks.MAX_BODY_BYTES),
                                     request.headers.get("X-Wavefloor-Signature", ""),
                                     current_app.config["WF"]["SHIP_BY_HOURS"])
    return report.as_dict()


def _bounded_body(limit: int) -> bytes:
    """The body, never more than ``limit`` bytes of it (nor more than the server's own cap, where
    that is lower): a longer Content-Length is refused before a byte is read, and a body sent
    without one (chunked) is refused once it passes the limit, read no further than that."""
    cap = request.max_content_length
    allowed = min(limit, cap) if cap else limit
    if request.content_length is not None and request.content_length > allowed:
        raise webhooks.BodyTooLarge(allowed)
    request.max_content_length = allowed + 1  # werkzeug cuts a stream at the cap: one byte more tells
    body = request.get_data(cache=False)
    if len(body) > allowed:
        raise webhooks.BodyTooLarge(allowed)
    return body
