"""Refunds and returns (售后 / 退货入库): refund records from the channels, the returns bench's
parcels, unknown parcels (无头件) and their matching, return rates per SKU."""
from __future__ import annotations

import datetime as dt

from apiflask import abort
from apiflask.fields import Boolean, Date, Dict, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import request

from server.api import api
from server.api.schemas import Integer, Schema
from server.channels.refund_base import REFUND_STATES
from server.channels.refunds import REFUND_ADAPTERS
from server.guard import current_principal, requires
from server.services.orders import lifecycle as orders
from server.services.returns import bench, refunds, report
from server.services.stock import desk as stockdesk

MAX_REFUND_FILE_BYTES = 20 * 1024 * 1024


class RefundQuery(Schema):
    shop = String(load_default=None, validate=Length(1, 64))
    state = String(load_default=None, validate=OneOf(REFUND_STATES))
    order = String(load_default=None, validate=Length(1, 64))
    limit = Integer(load_default=100, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class RefundOut(Schema):
    id = Integer()
    channel = String()
    shop = String()
    refund_id = String()
    order_external_id = String()
    line_external_id = String()
    order_id = Integer(allow_none=True)
    line_id = Integer(allow_none=True)
    sku = String()
    qty = Integer()
    refund_fen = Integer()
    state = String()
    channel_status = String()
    reason = String()
    goods_returned = Boolean()
    return_tracking = String()
    return_carrier = String()
    requested_at = String(allow_none=True)
    modified_at = String(allow_none=True)


class RefundList(Schema):
    items = List(Nested(RefundOut))
    total = Integer()


class RefundImportQuery(Schema):
    channel = String(required=True, validate=OneOf(sorted(REFUND_ADAPTERS)))
    shop = String(load_default=None, validate=Length(1, 64))
    name = String(load_default="upload", validate=Length(1, 100))


class RefundImportOut(Schema):
    created = Integer()
    updated = Integer()
    unchanged = Integer()
    stale = Integer()
    unlinked = List(String())
    problems = List(String())


class ParcelQuery(Schema):
    unknown = Boolean(load_default=True)
    limit = Integer(load_default=100, validate=Range(1, 500))


class ParcelList(Schema):
    items = List(Dict())


class ParcelOut(Schema):
    code = String()
    status = String()
    tracking = String()
    note = String()
    unknown = Boolean()
    order = Dict(allow_none=True)
    lines = List(Dict())
    units = List(Dict())


class MatchIn(Schema):
    order_id = Integer(required=True, validate=Range(1, 2**31 - 1))


class RateQuery(Schema):
    since = Date(load_default=None)
    until = Date(load_default=None)


class RateList(Schema):
    since = Date()
    until = Date()
    items = List(Dict())


class OrderSearchQuery(Schema):
    q = String(required=True, validate=Length(2, 64))


@api.get("/refunds")
@requires("returns.read")
@api.input(RefundQuery, location="query")
@api.output(RefundList)
@api.doc(summary="Refund records from the channels (退款单), newest change first", security="BearerAuth")
def list_refunds(query_data):
    return refunds.list_refunds(shop=query_data["shop"], state=query_data["state"],
                                order_external_id=query_data["order"], limit=query_data["limit"],
                                offset=query_data["offset"])


@api.post("/refunds")
@requires("returns.write")
@api.input(RefundImportQuery, location="query")
@api.output(RefundImportOut)
@api.doc(summary="Import a refund file: the body is the Tmall refund report (CSV, GBK or UTF-8) for "
                 "channel=tmall, or the channel's JSON answer for top, jd and douyin; bad rows are named "
                 "file:line: field: reason and the good ones imported", security="BearerAuth")
def import_refunds(query_data):
    if request.content_length is not None and request.content_length > MAX_REFUND_FILE_BYTES:
        return {"code": "request_too_large", "message": "request too large"}, 413
    body = request.get_data(cache=False)
    result = refunds.import_body(query_data["channel"], body, query_data["shop"], name=query_data["name"],
                                 actor=stockdesk.actor_of(current_principal()))
    return result.as_dict()


@api.get("/returns/parcels")
@requires("returns.read")
@api.input(ParcelQuery, location="query")
@api.output(ParcelList)
@api.doc(summary="Return parcels: the unknown ones (无头件, no order) by default", security="BearerAuth")
def list_parcels(query_data):
    return {"items": bench.unknown_parcels(query_data["limit"]) if query_data["unknown"]
            else bench.recent_parcels(query_data["limit"])}


@api.get("/returns/parcels/<code>")
@requires("returns.read")
@api.output(ParcelOut)
@api.doc(summary="One return parcel with its order's lines and the units taken out", security="BearerAuth")
def get_parcel(code):
    return bench.parcel_view(bench.parcel_by_code(code))


@api.post("/returns/parcels/<code>/match")
@requires("returns.write")
@api.input(MatchIn)
@api.output(ParcelOut)
@api.doc(summary="Match an unknown parcel to its order: its units count as returned on the order's lines",
         security="BearerAuth")
def match_parcel(code, json_data):
    parcel = bench.parcel_by_code(code)
    order = orders.get(json_data["order_id"])
    bench.match(parcel, order, actor=stockdesk.actor_of(current_principal()))
    return bench.parcel_view(bench.parcel_by_code(code))


@api.get("/returns/rates")
@requires("returns.read")
@api.input(RateQuery, location="query")
@api.output(RateList)
@api.doc(summary="Return rate per SKU: units returned / units shipped over a date range (default: the "
                 "last 30 days)", security="BearerAuth")
def return_rates(query_data):
    until = query_data["until"] or dt.date.today()
    since = query_data["since"] or until - dt.timedelta(days=29)
    if since > until:
        abort(400, "since is after until")
    return {"since": since, "until": until, "items": report.return_rates(since, until)}


@api.get("/returns/orders")
@requires("returns.read")
@api.input(OrderSearchQuery, location="query")
@api.output(ParcelList)
@api.doc(summary="Orders by buyer or number for a parcel; buyer data masked without pii.read",
         security="BearerAuth")
def search_orders(query_data):
    return {"items": bench.search_orders(query_data["q"], pii=current_principal().can("pii.read"))}
