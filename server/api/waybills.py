"""Carrier waybills (电子面单): each carrier's account (number pool, Cainiao, SF) with its pool
counts, a pool file's upload, a wave's numbers fetched before picking (打单), and an order's
waybill. A carrier's secret is written, never read back."""
from __future__ import annotations

import tempfile
from pathlib import Path

from apiflask.fields import Boolean, DateTime, Dict, List, Nested, Raw, String
from apiflask.validators import Length, OneOf
from flask import request

from server.api import api
from server.api.schemas import Integer, Schema
from server.guard import current_principal, requires
from server.services.packages import carrier_accounts, waybills
from server.services.stock import desk as stockdesk
from server.services.waves import planning as waves

MAX_POOL_FILE_BYTES = 32 * 1024 * 1024


class AccountIn(Schema):
    source = String(required=True, validate=OneOf(carrier_accounts.SOURCES),
                    metadata={"description": "pool (号段), cainiao (菜鸟 through a Taobao shop), sf (顺丰 丰桥), "
                                             "or local (no account: this server makes the numbers)"})
    shop = String(load_default="", validate=Length(0, 64),
                  metadata={"description": "cainiao: the Taobao / Tmall shop whose session Cainiao uses"})
    endpoint = String(load_default="", validate=Length(0, 300), metadata={"description": "sf: the service's URL"})
    partner = String(load_default="", validate=Length(0, 64), metadata={"description": "sf: partner id (顾客编码)"})
    secret = String(load_default="", validate=Length(0, 200), load_only=True,
                    metadata={"description": "sf: the checkword; empty keeps the stored one"})
    account = String(load_default="", validate=Length(0, 64),
                     metadata={"description": "sf: monthly account (月结卡号); cainiao: the branch"})
    template_url = String(load_default="", validate=Length(0, 300),
                          metadata={"description": "cainiao: the standard template's URL"})


class Counts(Schema):
    free = Integer()
    assigned = Integer()
    cancelled = Integer()


class AccountOut(Schema):
    carrier = String()
    name_zh = String()
    name_en = String()
    source = String(metadata={"description": "local | pool | cainiao | sf"})
    shop = String()
    endpoint = String()
    partner = String()
    account = String()
    template_url = String()
    secret_set = Boolean(metadata={"description": "a secret is stored (it is never shown)"})
    problem = String(metadata={"description": "a message code when the account cannot give numbers now"})
    counts = Nested(Counts)
    updated_at = DateTime(allow_none=True)


class AccountList(Schema):
    carriers = List(Nested(AccountOut))


class PoolQuery(Schema):
    name = String(load_default="pool.txt", validate=Length(1, 100),
                  metadata={"description": "the file's name, for the problems (name:line: reason)"})


class PoolOut(Schema):
    carrier = String()
    added = Integer()
    duplicates = Integer()
    problems = List(String(), metadata={"description": "file:line: reason; the good lines are imported"})
    counts = Nested(Counts)


class Failure(Schema):
    order_id = Integer()
    order = String()
    carrier = String()
    error = String(metadata={"description": "Unreachable, Refused, SessionInvalid, BadAnswer, pool_empty, ..."})
    reason = String()


class FetchOut(Schema):
    wave_id = Integer()
    wave = String()
    asked = Integer()
    assigned = Integer()
    skipped = Integer(metadata={"description": "had a number already, or their carrier has no account"})
    failed = Integer()
    failures = List(Nested(Failure))
    seconds = Raw()


class WaitingOut(Schema):
    wave_id = Integer()
    code = String()
    status = String()
    waiting = Integer(metadata={"description": "orders without a carrier number whose carrier has a service"})


class WaitingList(Schema):
    waves = List(Nested(WaitingOut))


class WaybillOut(Schema):
    carrier = String()
    number = String()
    source = String()
    state = String()
    sort_code = String()
    batch = String()
    assigned_at = DateTime(allow_none=True)
    print_data = Raw(allow_none=True, metadata={"description": "the carrier's print data as it came"})


class OrderWaybillOut(Schema):
    order_id = Integer()
    external_id = String()
    carrier = String()
    source = String()
    waybill = Nested(WaybillOut, allow_none=True)
    cancelled = List(String())
    last_failure = String()
    history = List(Dict())


def _actor():
    return stockdesk.actor_of(current_principal())


@api.get("/carriers")
@requires("shops.manage")
@api.output(AccountList)
@api.doc(summary="Every carrier with where its waybill numbers come from and its pool counts (never a secret)",
         security="BearerAuth")
def list_carriers():
    return {"carriers": carrier_accounts.views()}


@api.get("/carriers/<code>/account")
@requires("shops.manage")
@api.output(AccountOut)
@api.doc(summary="A carrier's waybill account (source local when it has none)", security="BearerAuth")
def get_carrier_account(code):
    return carrier_accounts.view_of(code)


@api.put("/carriers/<code>/account")
@requires("shops.manage")
@api.input(AccountIn)
@api.output(AccountOut)
@api.doc(summary="Set a carrier's waybill account: pool, cainiao (a Taobao shop's session) or sf (its own API; "
                 "the checkword sealed at rest); source local removes it", security="BearerAuth")
def put_carrier_account(code, json_data):
    carrier_accounts.set_account(code, json_data.pop("source"), _actor(), **json_data)
    return carrier_accounts.view_of(code)


@api.post("/carriers/<code>/pool")
@requires("shops.manage")
@api.input(PoolQuery, location="query")
@api.output(PoolOut)
@api.doc(summary="Import a number pool (号段): the body is the carrier's file, one number a line or start,end "
                 "ranges (UTF-8 or GBK); numbers known already are duplicates, bad lines are named file:line",
         security="BearerAuth")
def import_pool(code, query_data):
    if request.content_length is not None and request.content_length > MAX_POOL_FILE_BYTES:
        return {"code": "request_too_large", "message": "request too large"}, 413
    name = Path(query_data["name"]).name or "pool.txt"
    with tempfile.TemporaryDirectory(prefix="wf-pool-") as folder:
        path = Path(folder) / name
        path.write_bytes(request.get_data(cache=False))
        report = waybills.import_pool(code, path, _actor())
    return {"carrier": code.upper(), **report, "counts": waybills.pool_counts(code)}


@api.post("/waves/<wave_id>/waybills")
@requires("waves.manage")
@api.output(FetchOut)
@api.doc(summary="Fetch the carriers' numbers for a wave's orders (打单) from Cainiao, SF or the pools: "
                 "asked, assigned, skipped, and each failure with its reason (no number is made up)",
         security="BearerAuth")
def fetch_wave_waybills(wave_id):
    wave = waves.get(wave_id)
    return {**waybills.fetch_for_wave(wave.id), "wave": wave.code}


@api.get("/waybills/waves")
@requires("waves.read")
@api.output(WaitingList)
@api.doc(summary="Open waves with orders still waiting for a number from their carrier's service (Cainiao, SF)",
         security="BearerAuth")
def waves_waiting_for_waybills():
    return {"waves": carrier_accounts.waves_waiting()}


@api.get("/orders/<int:order_id>/waybill")
@requires("orders.read")
@api.output(OrderWaybillOut)
@api.doc(summary="An order's carrier number (电子面单), those cancelled, and why its last fetch failed",
         security="BearerAuth")
def order_waybill(order_id):
    return carrier_accounts.order_waybill(order_id)
