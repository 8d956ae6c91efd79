"""Live connectors (平台对接): a shop's connection to its platform, its pulls, and the outbox of
calls to the platform (发货回传, 库存同步) with the failed ones a person retries."""
from __future__ import annotations

from apiflask.fields import Boolean, DateTime, Dict, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from server.api import api
from server.api.schemas import Integer, Schema
from server.db import database
from server.models.connectors import CALL_STATES, PLATFORMS
from server.realtime import socketio
from server.services.connectors import connections, outbox, pull
from server.services.connectors.worker import holder_name
from server.guard import requires


class ConnectionIn(Schema):
    platform = String(load_default=None, validate=OneOf(PLATFORMS),
                      metadata={"description": "top (Taobao/Tmall), jos (JD) or doudian (抖店); default: by the shop's channel"})
    endpoint = String(load_default="", validate=Length(0, 300),
                      metadata={"description": "the platform's gateway; empty means its published one"})
    app_key = String(required=True, validate=Length(1, 64))
    secret = String(required=True, validate=Length(1, 200), load_only=True)
    session = String(required=True, validate=Length(1, 500), load_only=True,
                     metadata={"description": "the seller's authorisation: TOP session key, JOS / 抖店 access token"})
    sign_method = String(load_default="md5", validate=OneOf(("md5", "hmac", "hmac-sha256")))
    seller_nick = String(load_default="", validate=Length(0, 100))
    pull_every_s = Integer(load_default=60, validate=Range(10, 86400))
    push_shipments = Boolean(load_default=True)
    push_stock = Boolean(load_default=False)


class Checkpoint(Schema):
    until = DateTime()
    last_run_at = DateTime(allow_none=True)
    last_error = String()
    stored = Integer()


class ConnectionOut(Schema):
    shop = String()
    name = String()
    channel = String()
    connected = Boolean()
    platform = String()
    status = String(metadata={"description": "ok | reauthorise | paused ('' when not connected)"})
    last_error = String()
    endpoint = String()
    app_key = String()
    sign_method = String()
    seller_nick = String()
    pull_every_s = Integer()
    push_shipments = Boolean()
    push_stock = Boolean()
    readable = Boolean(metadata={"description": "false: the secrets were sealed under another CREDENTIALS_KEY"})
    updated_at = DateTime()
    checkpoints = Dict(keys=String(), values=Nested(Checkpoint))
    failed_calls = Integer()
    waiting_calls = Integer()


class ConnectionList(Schema):
    shops = List(Nested(ConnectionOut))


class PauseIn(Schema):
    paused = Boolean(required=True)


class PullIn(Schema):
    operations = List(String(validate=OneOf(pull.OPERATIONS)), load_default=list(pull.OPERATIONS))


class CallQuery(Schema):
    state = String(load_default=None, validate=OneOf(CALL_STATES))
    shop = String(load_default=None, validate=Length(1, 64))
    limit = Integer(load_default=200, validate=Range(1, 1000))


class CallOut(Schema):
    id = Integer()
    shop = String()
    kind = String(metadata={"description": "ship | stock | waybill_cancel"})
    subject = String(metadata={"description": "the order's number, or the SKU"})
    order_id = Integer(allow_none=True)
    state = String(metadata={"description": "pending | sending | done | failed"})
    attempts = Integer()
    last_error = String()
    created_at = DateTime()
    next_at = DateTime()
    sent_at = DateTime(allow_none=True)
    payload = Dict()


class CallList(Schema):
    calls = List(Nested(CallOut))
    counts = Dict(keys=String(), values=Integer())


class StockPushOut(Schema):
    queued = Integer()
    unlisted = List(String(), metadata={"description": "SKUs the platform's item of is not known yet"})


@api.get("/connections")
@requires("shops.manage")
@api.output(ConnectionList)
@api.doc(summary="Every shop with its platform connection, pull checkpoints and outbox figures (never a secret)",
         security="BearerAuth")
def list_connections():
    return {"shops": connections.views()}


@api.put("/shops/<code>/connection")
@requires("shops.manage")
@api.input(ConnectionIn)
@api.output(ConnectionOut)
@api.doc(summary="Connect a shop to its platform, or re-authorise it (secret and session sealed at rest)",
         security="BearerAuth")
def put_connection(code, json_data):
    connections.connect(code, **json_data)
    return _view(code)


@api.post("/shops/<code>/connection/pause")
@requires("shops.manage")
@api.input(PauseIn)
@api.output(ConnectionOut)
@api.doc(summary="Pause or resume a shop's pulls and outbox", security="BearerAuth")
def pause_connection(code, json_data):
    connections.pause(code, json_data["paused"])
    return _view(code)


@api.post("/shops/<code>/pull")
@requires("shops.manage")
@api.input(PullIn)
@api.output(ConnectionOut, status_code=202)
@api.doc(summary="Pull the shop's orders and refunds now, in the background (the page shows the checkpoints)",
         security="BearerAuth")
def pull_now(code, json_data):
    connection = connections.of_shop(code)
    client = connections.client_for(connection)
    holder = holder_name()

    def work():
        with database.connection_context():
            for operation in json_data["operations"]:
                pull.pull(code, operation, client, holder=holder)
    socketio.start_background_task(work)
    return _view(code)


@api.post("/shops/<code>/stock/push")
@requires("shops.manage")
@api.output(StockPushOut)
@api.doc(summary="Queue the shop's stock figures for upload, one call per listed SKU (库存同步)",
         security="BearerAuth")
def push_stock(code):
    connections.of_shop(code)
    return connections.push_stock(code)


@api.get("/channel-calls")
@requires("shops.manage")
@api.input(CallQuery, location="query")
@api.output(CallList)
@api.doc(summary="The platform outbox, newest first; ?state=failed is the 发货回传失败 list", security="BearerAuth")
def list_calls(query_data):
    shop_id = None
    if query_data["shop"]:
        shop_id = connections.of_shop(query_data["shop"]).shop_id
    return {"calls": _with_shops(outbox.listing(query_data["state"], shop_id, query_data["limit"])),
            "counts": outbox.counts()}


@api.post("/channel-calls/<int:call_id>/retry")
@requires("shops.manage")
@api.output(CallOut)
@api.doc(summary="Send a failed call again", security="BearerAuth")
def retry_call(call_id):
    return _with_shops([outbox.retry(call_id)])[0]


def _view(code: str) -> dict:
    return next(row for row in connections.views() if row["shop"] == code)


def _with_shops(calls: list[dict]) -> list[dict]:
    codes = connections.shop_codes()
    for call in calls:
        call["shop"] = codes.get(call["shop_id"], "")
    return calls
