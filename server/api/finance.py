"""Settlement bills (结算账单) and their reconciliation (对账), the account mapping (科目对照),
daily vouchers (凭证) and their export for 金蝶云星空/K3 and 用友 U8/T+, the transaction list.
See docs/finance.md."""
import datetime as dt

from apiflask.fields import Boolean, Date, DateTime, Dict, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import Response, request

from server.api import api
from server.api.schemas import Integer, Schema
from server.guard import current_principal, requires
from server.models.base import as_utc
from server.models.finance import BILL_CHANNELS, MATCH_STATES
from server.services.errors import DomainError
from server.services.finance import accounts, export, settlement, transactions, vouchers
from server.services.stock import desk as stockdesk

MAX_BILL_BYTES = 50 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LONGEST_PERIOD_DAYS = 366


def _period(first: dt.date, last: dt.date | None) -> tuple[dt.date, dt.date]:
    last = last or first
    if last < first or (last - first).days >= LONGEST_PERIOD_DAYS:
        raise DomainError("first .. last: the last day not before the first, at most a year")
    return first, last


# --- shapes -------------------------------------------------------------------------------------

class BillImportQuery(Schema):
    channel = String(required=True, validate=OneOf(BILL_CHANNELS),
                     metadata={"description": "alipay (Tmall/Taobao 账务明细 CSV), jd or douyin (settlement JSON)"})
    shop = String(required=True, validate=Length(1, 64))
    name = String(load_default="upload", validate=Length(1, 100))


class BillImportOut(Schema):
    bill = Integer()
    channel = String()
    shop = String()
    name = String()
    lines = Integer()
    added = Integer()
    already_imported = Integer()
    problems = List(String(), metadata={"description": "file:line: field: reason of each row not read"})
    reconciliation = Dict()


class FinBillOut(Schema):
    id = Integer()
    channel = String()
    shop = String()
    name = String()
    account = String()
    lines = Integer()
    added = Integer()
    problems = List(String())
    imported_at = DateTime()
    counts = Dict(keys=String(), values=Integer())


class FinBillList(Schema):
    items = List(Nested(FinBillOut))


class BillLineQuery(Schema):
    bill = Integer(load_default=None, validate=Range(1, 2**31 - 1))
    state = String(load_default=None, validate=OneOf(MATCH_STATES))
    shop = String(load_default=None, validate=Length(1, 64))
    limit = Integer(load_default=200, validate=Range(1, 1000))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class BillLineOut(Schema):
    id = Integer()
    bill = Integer()
    line = Integer()
    serial = String()
    order = String()
    kind = String()
    biz_type = String()
    subsidy_source = String()
    amount_fen = Integer()
    expected_fen = Integer(allow_none=True)
    diff_fen = Integer(metadata={"description": "bill − expected, for the order's lines of this kind together"})
    state = String()
    occurred_at = DateTime(allow_none=True)
    memo = String()


class BillLineList(Schema):
    items = List(Nested(BillLineOut))
    total = Integer()


class ReconcileIn(Schema):
    shop = String(load_default=None, validate=Length(1, 64))
    bill = Integer(load_default=None, validate=Range(1, 2**31 - 1))


class ReconcileOut(Schema):
    counts = Dict(keys=String(), values=Integer())
    mismatched_diff_fen = Integer()


class FinAccountOut(Schema):
    key = String()
    code = String()
    name = String()
    meaning = String()
    meaning_zh = String()
    default_code = String()
    set = Boolean()


class FinAccountList(Schema):
    items = List(Nested(FinAccountOut))


class FinAccountQuery(Schema):
    shop = String(load_default="", validate=Length(0, 64))


class FinAccountIn(Schema):
    code = String(required=True, validate=Length(1, 32))
    name = String(load_default="", validate=Length(0, 100))
    shop = String(load_default="", validate=Length(0, 64))


class FinAccountSetOut(Schema):
    key = String()
    shop = String()
    code = String()
    name = String()


class VoucherBuildIn(Schema):
    first = Date(required=True)
    last = Date(load_default=None)
    shop = String(load_default="", validate=Length(0, 64))


class VoucherQuery(Schema):
    first = Date(required=True)
    last = Date(load_default=None)
    shop = String(load_default=None, validate=Length(0, 64))


class VoucherLineOut(Schema):
    seq = Integer()
    summary = String()
    account_key = String()
    account_code = String()
    account_name = String()
    debit_fen = Integer()
    credit_fen = Integer()


class VoucherOut(Schema):
    id = Integer()
    day = Date()
    kind = String()
    kind_name = String()
    shop = String()
    word = String()
    number = Integer()
    summary = String()
    debit_fen = Integer()
    credit_fen = Integer()
    balanced = Boolean()
    exported_at = DateTime(allow_none=True)
    lines = List(Nested(VoucherLineOut))


class VoucherList(Schema):
    items = List(Nested(VoucherOut))


class VoucherExportIn(Schema):
    layout = String(required=True, validate=Length(1, 32), metadata={"description": "kingdee, u8, tplus or your own"})
    first = Date(required=True)
    last = Date(load_default=None)
    shop = String(load_default=None, validate=Length(0, 64))


class LayoutOut(Schema):
    code = String()
    name = String()
    preset = Boolean()
    edited = Boolean()
    header_rows = Integer()
    columns = List(Dict())


class LayoutList(Schema):
    items = List(Nested(LayoutOut))
    fields = Dict(keys=String(), values=String())


class LayoutIn(Schema):
    name = String(required=True, validate=Length(1, 100))
    header_rows = Integer(load_default=1, validate=Range(1, 2))
    columns = List(Dict(), required=True)


class TransactionQuery(Schema):
    first = Date(required=True)
    last = Date(load_default=None)
    shop = String(load_default=None, validate=Length(1, 64))
    limit = Integer(load_default=500, validate=Range(1, 5000))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class TransactionOut(Schema):
    day = Date()
    shop = String()
    channel = String()
    order = String()
    sku = String()
    qty = Integer()
    price_fen = Integer()
    paid_fen = Integer()
    merchant_discount_fen = Integer()
    platform_subsidy_fen = Integer()
    subsidy_source = String()
    vat_rate_bp = Integer()
    tax_fen = Integer()
    refund_fen = Integer()
    freight_charged_fen = Integer(metadata={"description": "the line's share of the postage the buyer paid"})
    freight_tax_fen = Integer(metadata={"description": "the VAT inside it, at the rate of the order's largest line"})


class TransactionList(Schema):
    items = List(Nested(TransactionOut))
    total = Integer()


def _times(rows: list[dict], *names: str) -> list[dict]:
    for row in rows:
        for name in names:
            row[name] = as_utc(row.get(name))
    return rows


def _xlsx(content: bytes, name: str, count: int | None = None) -> Response:
    headers = {"Content-Disposition": f"attachment; filename={name}"}
    if count is not None:
        headers["X-Wavefloor-Vouchers"] = str(count)
    return Response(content, mimetype=XLSX, headers=headers)


# --- routes -------------------------------------------------------------------------------------

@api.post("/finance/bills")
@requires("finance.write")
@api.input(BillImportQuery, location="query")
@api.output(BillImportOut)
@api.doc(summary="Import a settlement bill: the body is the Alipay 账务明细 CSV (GBK or UTF-8, with its # lines) "
                 "for channel=alipay, or the JD / Douyin settlement JSON; new lines are kept (a line imported "
                 "before, by its serial, is not added again), bad rows named file:line: field: reason, and the "
                 "bill reconciled against the orders", security="BearerAuth")
def import_bill(query_data):
    if request.content_length is not None and request.content_length > MAX_BILL_BYTES:
        return {"code": "request_too_large", "message": "request too large"}, 413
    body = request.get_data(cache=False)
    return settlement.import_bill(query_data["channel"], query_data["shop"], body, name=query_data["name"],
                                  user=current_principal().user.code)


@api.get("/finance/bills")
@requires("finance.read")
@api.output(FinBillList)
@api.doc(summary="The imported bills, newest first, with their lines' reconciliation states", security="BearerAuth")
def list_bills():
    return {"items": _times(settlement.list_bills(), "imported_at")}


@api.get("/finance/bill-lines")
@requires("finance.read")
@api.input(BillLineQuery, location="query")
@api.output(BillLineList)
@api.doc(summary="Bill lines with their state: matched, mismatched (with the difference), unmatched, unchecked, "
                 "ignored", security="BearerAuth")
def list_bill_lines(query_data):
    found = settlement.bill_lines(bill_id=query_data["bill"], state=query_data["state"], shop=query_data["shop"],
                                  limit=query_data["limit"], offset=query_data["offset"])
    return {"items": _times(found["items"], "occurred_at"), "total": found["total"]}


@api.post("/finance/reconcile")
@requires("finance.write")
@api.input(ReconcileIn)
@api.output(ReconcileOut)
@api.doc(summary="Reconcile the bill lines again (after orders, refunds or line money changed)",
         security="BearerAuth")
def reconcile_bills(json_data):
    return settlement.reconcile(bill_id=json_data["bill"], shop=json_data["shop"])


@api.get("/finance/accounts")
@requires("finance.read")
@api.input(FinAccountQuery, location="query")
@api.output(FinAccountList)
@api.doc(summary="The account mapping (科目对照): each voucher account with the merchant's subject code",
         security="BearerAuth")
def list_accounts(query_data):
    return {"items": accounts.listing(query_data["shop"])}


@api.put("/finance/accounts/<key>")
@requires("finance.write")
@api.input(FinAccountIn)
@api.output(FinAccountSetOut)
@api.doc(summary="Set the merchant's subject code (科目编码) of an account, for every shop or one",
         security="BearerAuth")
def set_account(key, json_data):
    return accounts.set_account(key, json_data["code"], json_data["name"], shop=json_data["shop"])


@api.post("/finance/vouchers")
@requires("finance.write")
@api.input(VoucherBuildIn)
@api.output(VoucherList)
@api.doc(summary="Make (or make again) the daily vouchers of the days first .. last; an exported day is refused",
         security="BearerAuth")
def build_vouchers(json_data):
    first, last = _period(json_data["first"], json_data["last"])
    return {"items": _times(vouchers.build_days(first, last, shop=json_data["shop"]), "exported_at")}


@api.get("/finance/vouchers")
@requires("finance.read")
@api.input(VoucherQuery, location="query")
@api.output(VoucherList)
@api.doc(summary="The vouchers of the days first .. last with their lines and balance", security="BearerAuth")
def list_vouchers(query_data):
    first, last = _period(query_data["first"], query_data["last"])
    return {"items": _times(vouchers.vouchers_between(first, last, query_data["shop"]), "exported_at")}


@api.post("/finance/vouchers/export")
@requires("finance.write")
@api.input(VoucherExportIn)
@api.doc(summary="The vouchers of first .. last as the xlsx import file of a layout (kingdee, u8, tplus or the "
                 "merchant's own), marked exported; refused (400 voucher_unbalanced) when any voucher is "
                 "unbalanced, (409 approval_required) when they were exported before and the voucher_export "
                 "approval flow is active and has not approved it",
         security="BearerAuth", responses={200: {"description": "the xlsx file",
                                                 "content": {XLSX: {"schema": {"type": "string",
                                                                               "format": "binary"}}}}})
def export_vouchers(json_data):
    first, last = _period(json_data["first"], json_data["last"])
    content, count = export.export_xlsx(json_data["layout"], first, last, json_data["shop"],
                                        actor=stockdesk.actor_of(current_principal()))
    return _xlsx(content, f"vouchers-{json_data['layout']}-{first}-{last}.xlsx", count)


@api.get("/finance/layouts")
@requires("finance.read")
@api.output(LayoutList)
@api.doc(summary="The voucher export layouts: the 金蝶云星空, 用友 U8 and T+ presets and the merchant's own",
         security="BearerAuth")
def list_layouts():
    return {"items": list(export.layouts().values()), "fields": export.FIELDS}


@api.put("/finance/layouts/<code>")
@requires("finance.write")
@api.input(LayoutIn)
@api.output(LayoutOut)
@api.doc(summary="Save a layout (a preset saved under its code replaces it; DELETE brings the preset back)",
         security="BearerAuth")
def save_layout(code, json_data):
    return export.save_layout(code, json_data["name"], {"header_rows": json_data["header_rows"],
                                                        "columns": json_data["columns"]})


@api.delete("/finance/layouts/<code>")
@requires("finance.write")
@api.output({}, status_code=204)
@api.doc(summary="Forget a layout's saved edits", security="BearerAuth")
def reset_layout(code):
    export.reset_layout(code)
    return ""


@api.get("/finance/transactions")
@requires("finance.read")
@api.input(TransactionQuery, location="query")
@api.output(TransactionList)
@api.doc(summary="The transaction list of a period: per order line, the platform subsidy and its source "
                 "(天猫红包/卡券, 集分宝 …), the VAT rate and amount", security="BearerAuth")
def list_transactions(query_data):
    first, last = _period(query_data["first"], query_data["last"])
    items, total = transactions.rows(first, last, query_data["shop"], limit=query_data["limit"],
                                     offset=query_data["offset"])
    return {"items": items, "total": total}


@api.get("/finance/transactions/export")
@requires("finance.read")
@api.input(VoucherQuery, location="query")
@api.doc(summary="The transaction list of a period as xlsx", security="BearerAuth",
         responses={200: {"description": "the xlsx file",
                          "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
def export_transactions(query_data):
    first, last = _period(query_data["first"], query_data["last"])
    return _xlsx(transactions.xlsx(first, last, query_data["shop"]), f"transactions-{first}-{last}.xlsx")
