"""Tracking (物流轨迹): the carriers' signed pushes of a parcel's steps, and how long parcels take
(paid → shipped → collected → delivered) by carrier and province."""
from __future__ import annotations

from apiflask.fields import Date, Float, List, Nested, String
from flask import current_app, request

from server.api import api
from server.api.orders import _bounded_body
from server.api.schemas import Integer, Schema
from server.guard import public, requires
from server.services.connectors import delivery, tracking


class PushOut(Schema):
    carrier = String()
    received = Integer(metadata={"description": "rows in the body"})
    stored = Integer(metadata={"description": "steps new to us, stored"})
    duplicates = Integer(metadata={"description": "steps we had already (the same parcel, moment and status)"})
    unknown = List(String(), metadata={"description": "tracking numbers no parcel of this carrier has"})
    problems = List(String(), metadata={"description": "rows not taken: events[<index>].<field>: why"})


class PeriodQuery(Schema):
    since = Date(load_default=None, metadata={"description": "first day shipped (the warehouse's zone); "
                                                             "default: 29 days before until"})
    until = Date(load_default=None, metadata={"description": "last day shipped, included; default: today"})


class LegOut(Schema):
    count = Integer()
    median_h = Float(allow_none=True)
    p90_h = Float(allow_none=True)


class FiguresOut(Schema):
    parcels = Integer()
    paid_to_shipped = Nested(LegOut)
    shipped_to_collected = Nested(LegOut)
    shipped_to_delivered = Nested(LegOut)


class DeliveryRow(FiguresOut):
    carrier = String()
    province = String()


class DeliveryReport(Schema):
    since = String()
    until = String()
    zone = String()
    rows = List(Nested(DeliveryRow))
    all = Nested(FiguresOut)


@api.post("/carriers/<carrier>/tracking")
@public
@api.output(PushOut)
@api.doc(summary="A carrier's tracking steps (物流轨迹), signed with TRACKING_PUSH_SECRET in X-Wavefloor-Signature: "
                 "sha256=<hex HMAC-SHA256 of the body>; body {\"events\": [{tracking, at, status, detail, place}]} "
                 f"(docs/tracking.md), at most {tracking.MAX_PUSH_BYTES} bytes")
def carrier_tracking(carrier):
    body = _bounded_body(tracking.MAX_PUSH_BYTES)
    return tracking.receive_push(carrier, body, request.headers.get("X-Wavefloor-Signature", ""),
                                 current_app.config["WF"]["TRACKING_PUSH_SECRET"])


@api.get("/reports/delivery")
@requires("orders.read")
@api.input(PeriodQuery, location="query")
@api.output(DeliveryReport)
@api.doc(summary="How long parcels take (时效): count, median and 90th percentile hours of paid → shipped, "
                 "shipped → collected and shipped → delivered, by carrier and province, for the parcels "
                 "shipped in the period", security="BearerAuth")
def delivery_times(query_data):
    zone = current_app.config["WF"]["TIMEZONE"]
    since, until = delivery.period(query_data["since"], query_data["until"], zone)
    return delivery.delivery_report(since, until, zone)

