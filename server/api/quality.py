"""Quality control (入库质检) and supplier returns (退供) over HTTP: the QC bench records checks,
the office lists, prints, ships or cancels what goes back to suppliers."""
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from server.api import api
from server.api.schemas import Schema
from server.guard import current_principal, requires
from server.services.receiving import quality
from server.services.receiving import supplier_returns as returns
from server.services.stock import desk as stockdesk


class LpnQcOut(Schema):
    sscc = String()
    status = String()
    sku = String()
    name = String()
    lot = String()
    expiry = String(allow_none=True)
    qty = Integer()
    qc_plan = String()
    aql = String()
    sample_size = Integer()
    accept_number = Integer()
    checked = Integer()
    failed = Integer()
    remaining = Integer()
    decision = String(allow_none=True)
    can_reject_early = Boolean()
    decided_by = Integer(allow_none=True)
    decided_at = String(allow_none=True)
    supplier = String()
    supplier_name = String()
    po = String()
    receipt = String()
    location = String()
    supplier_return = String(allow_none=True)


class QcCheckOut(Schema):
    passed = Boolean()
    reason = String()
    user = Integer(allow_none=True)
    at = String()


class LpnQcDetail(LpnQcOut):
    checks = List(Nested(QcCheckOut))
    reasons = List(String())


class LpnQcList(Schema):
    items = List(Nested(LpnQcOut))
    reasons = List(String())


class LpnQuery(Schema):
    limit = Integer(load_default=200, validate=Range(1, 500))


class CheckIn(Schema):
    passed = Boolean(required=True)
    reason = String(load_default="", validate=OneOf(("",) + quality.DEFECT_REASONS))


class ReturnLineOut(Schema):
    location = String()
    sku = String()
    name = String()
    lot = String()
    state = String()
    qty = Integer()
    sscc = String()


class SupplierReturnOut(Schema):
    code = String()
    status = String()
    supplier = String()
    supplier_name = String()
    po = String(allow_none=True)
    sscc = String(allow_none=True)
    sku = String()
    name = String()
    lot = String()
    qty = Integer()
    reason = String()
    created_at = String()
    shipped_at = String(allow_none=True)
    lines = List(Nested(ReturnLineOut))


class SupplierReturnList(Schema):
    items = List(Nested(SupplierReturnOut))


class SupplierReturnQuery(Schema):
    status = String(load_default=None, validate=OneOf(returns.STATUSES))
    supplier = String(load_default=None, validate=Length(1, 32))
    limit = Integer(load_default=200, validate=Range(1, 500))


class CancelIn(Schema):
    reason = String(required=True, validate=Length(1, 200))


def _actor():
    return stockdesk.actor_of(current_principal())


def _detail(lpn) -> dict:
    return dict(quality.view(lpn), checks=quality.checks_of(lpn), reasons=list(quality.DEFECT_REASONS))


@api.get("/qc/lpns")
@requires("quality.write")
@api.input(LpnQuery, location="query")
@api.output(LpnQcList)
@api.doc(summary="Licence plates waiting for QC, oldest first", security="BearerAuth")
def qc_waiting(query_data):
    return {"items": quality.waiting(limit=query_data["limit"]), "reasons": list(quality.DEFECT_REASONS)}


@api.get("/qc/lpns/<code>")
@requires("quality.write")
@api.output(LpnQcDetail)
@api.doc(summary="One licence plate's QC: plan, checks so far, decision", security="BearerAuth")
def qc_lpn(code):
    return _detail(quality.find_lpn(code))


@api.post("/qc/lpns/<code>/checks")
@requires("quality.write")
@api.input(CheckIn)
@api.output(LpnQcDetail, status_code=201)
@api.doc(summary="Record one sampled unit: passed, or failed with a defect reason", security="BearerAuth")
def qc_check(code, json_data):
    quality.record_check(code, json_data["passed"], json_data["reason"], actor=_actor())
    return _detail(quality.find_lpn(code))


@api.post("/qc/lpns/<code>/reject")
@requires("quality.write")
@api.output(LpnQcDetail, status_code=201)
@api.doc(summary="Reject a lot before its sample is done (supervisor; failures beyond Ac)",
         security="BearerAuth")
def qc_reject(code):
    current_principal().require("floor.control")
    quality.reject_early(code, actor=_actor())
    return _detail(quality.find_lpn(code))


@api.get("/supplier-returns")
@requires("purchasing.read")
@api.input(SupplierReturnQuery, location="query")
@api.output(SupplierReturnList)
@api.doc(summary="Supplier returns (退供), newest first", security="BearerAuth")
def supplier_return_list(query_data):
    return {"items": returns.listing(**query_data)}


@api.get("/supplier-returns/<code>")
@requires("purchasing.read")
@api.output(SupplierReturnOut)
@api.doc(summary="One supplier return with where its units are", security="BearerAuth")
def supplier_return_get(code):
    found = returns.get(code)
    return returns.view(found, with_lines=found.status == "open")


@api.post("/supplier-returns/<code>/ship")
@requires("purchasing.write")
@api.output(SupplierReturnOut, status_code=201)
@api.doc(summary="Ship a supplier return: its units leave the ledger (supplier_return)", security="BearerAuth")
def supplier_return_ship(code):
    return returns.ship(code, actor=_actor())


@api.post("/supplier-returns/<code>/cancel")
@requires("purchasing.write")
@api.input(CancelIn)
@api.output(SupplierReturnOut, status_code=201)
@api.doc(summary="Cancel a supplier return; its units stay frozen or damaged", security="BearerAuth")
def supplier_return_cancel(code, json_data):
    return returns.cancel(code, json_data["reason"], actor=_actor())
