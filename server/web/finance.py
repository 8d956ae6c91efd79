"""The office's finance pages (财务): ``/finance`` (import a settlement bill, the bills and their
reconciliation: mismatched lines with the difference, unmatched lines), ``/finance/vouchers``
(make the daily vouchers, see them balanced, the account mapping, export for 金蝶 / 用友) and
``/finance/transactions`` (the transaction list with each line's subsidy source and VAT rate).
The pages' own words are in ``WORDS`` (English, 中文); docs/finance.md explains the figures.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from flask import Response, render_template, request

from server.guard import current_principal, requires
from server.messages import text
from server.models.finance import BILL_CHANNELS, MATCH_STATES
from server.services.errors import DomainError
from server.services.finance import accounts, export, settlement, transactions, vouchers
from server.services.stock import desk as stockdesk
from server.web import select_locale, web

MAX_UPLOAD = 50 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SAFE_NAME = re.compile(r"[^\w.\-]+")
SHOWN = 500

WORDS = {
    "finance": ("Finance", "财务"), "bills": ("Bills & reconciliation", "账单对账"), "vouchers": ("Vouchers", "凭证"),
    "transactions": ("Transactions", "交易明细"),
    "import": ("Import a bill", "导入账单"), "channel": ("Format", "格式"), "shop": ("Shop", "店铺"),
    "file": ("File", "文件"), "upload": ("Import", "导入"), "no_file": ("Choose a file first.", "请先选择文件。"),
    "file_too_big": ("The file is over 50 MB.", "文件超过 50 MB。"),
    "channels": {"alipay": ("Tmall / Taobao: Alipay 账务明细 CSV", "天猫/淘宝：支付宝账务明细 CSV"),
                 "jd": ("JD settlement JSON", "京东结算 JSON"), "douyin": ("Douyin settlement JSON", "抖店结算 JSON")},
    "imported": ("Imported {added} new lines of {lines} ({known} imported before).",
                 "已导入 {lines} 行中的 {added} 行新记录（{known} 行此前已导入）。"),
    "problems": ("Rows not read", "未能读取的行"),
    "bill": ("Bill", "账单"), "name": ("Name", "名称"), "imported_at": ("Imported", "导入时间"),
    "lines": ("Lines", "行数"), "state": ("State", "状态"), "all_states": ("Mismatched and unmatched", "不符与未匹配"),
    "states": {"matched": ("matched", "已匹配"), "mismatched": ("mismatched", "金额不符"),
               "unmatched": ("unmatched", "未匹配订单"), "unchecked": ("not checked", "未核对"),
               "ignored": ("not an order's", "非订单款项"), "pending": ("pending", "待对账")},
    "kinds": {"payment": ("payment", "货款"), "refund": ("refund", "退款"), "commission": ("commission", "佣金"),
              "payment_fee": ("payment fee", "支付手续费"), "subsidy": ("platform subsidy", "平台补贴"),
              "freight": ("freight", "运费"), "transfer": ("transfer", "提现/转账"), "other": ("other", "其他")},
    "line": ("Line", "行"), "serial": ("Serial", "账务流水号"), "order": ("Order", "订单号"), "kind": ("Kind", "类型"),
    "amount": ("Bill", "账单金额"), "expected": ("Expected", "应为"), "diff": ("Difference", "差额"),
    "memo": ("Memo", "备注"), "filter": ("Show", "显示"), "no_lines": ("No such lines.", "没有这样的记录。"),
    "reconcile": ("Reconcile again", "重新对账"),
    "first": ("From", "从"), "last": ("To", "到"), "make": ("Make the vouchers", "生成凭证"),
    "make_hint": ("One voucher per day and kind (sales, subsidy, COGS, fees, refunds, returned units, receipts); "
                  "made again until exported.", "每天每类一张凭证（销售、补贴、成本、费用、退款、退货入库、采购入库）；导出前可重新生成。"),
    "export": ("Export for", "导出为"), "no_vouchers": ("No vouchers for these days yet.", "这些日期还没有凭证。"),
    "word_no": ("No.", "凭证号"), "day": ("Day", "日期"), "summary": ("Summary", "摘要"),
    "account": ("Account", "科目"), "debit": ("Debit", "借方"), "credit": ("Credit", "贷方"),
    "balanced": ("balanced", "借贷平衡"), "unbalanced": ("UNBALANCED: not exported", "借贷不平衡：不能导出"),
    "exported": ("exported", "已导出"),
    "mapping": ("Account mapping (科目对照)", "科目对照"), "code": ("Subject code", "科目编码"),
    "meaning": ("What goes there", "用途"), "save": ("Save", "保存"), "saved": ("Saved.", "已保存。"),
    "subsidy_source": ("Subsidy source", "补贴来源"), "vat_rate": ("VAT rate", "税率"), "tax": ("VAT", "税额"),
    "postage": ("Postage", "运费"), "postage_tax": ("Postage VAT", "运费税额"),
    "paid": ("Paid", "实付"), "merchant_discount": ("Merchant discount", "商家优惠"),
    "subsidy": ("Platform subsidy", "平台补贴"), "qty": ("Qty", "数量"), "sku": ("SKU", "商品编码"),
    "download": ("Download xlsx", "下载 xlsx"), "n_more": ("… {n} more rows in the xlsx", "……另有 {n} 行，见 xlsx"),
    "explain": ("What each figure means, and how to import the vouchers into 金蝶 and 用友: docs/finance.md.",
                "各数字含义及如何把凭证导入金蝶、用友，见 docs/finance.md。"),
}


def _pick() -> int:
    return 0 if select_locale() == "en" else 1


def words() -> dict:
    pick = _pick()
    return {key: ({k: v[pick] for k, v in pair.items()} if isinstance(pair, dict) else pair[pick])
            for key, pair in WORDS.items()}


def _day(name: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat((request.values.get(name) or "").strip()[:10])
    except ValueError:
        return default


def _period() -> tuple[dt.date, dt.date]:
    yesterday = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date() - dt.timedelta(days=1)
    first = _day("first", yesterday)
    last = _day("last", first)
    if last < first or (last - first).days > 366:
        last = first
    return first, last


def _error(exc: DomainError) -> str:
    return f"{text(exc.code, select_locale())} {exc.text}"


# --- bills ------------------------------------------------------------------------------------------

def _bills_page(report=None, error: str | None = None, status: int = 200):
    state = request.args.get("state") if request.args.get("state") in MATCH_STATES else None
    bill = request.args.get("bill", type=int)
    if state:
        found = settlement.bill_lines(bill_id=bill, state=state, limit=SHOWN)
        lines, total = found["items"], found["total"]
    else:
        wrong = [settlement.bill_lines(bill_id=bill, state=s, limit=SHOWN) for s in ("mismatched", "unmatched")]
        lines, total = wrong[0]["items"] + wrong[1]["items"], wrong[0]["total"] + wrong[1]["total"]
    return render_template("finance.html", w=words(), bills=settlement.list_bills(), lines=lines[:SHOWN],
                           more=max(0, total - SHOWN), state=state, states=MATCH_STATES, channels=BILL_CHANNELS,
                           report=report, error=error, bill=bill,
                           can_write=current_principal().can("finance.write")), status


@web.get("/finance")
@requires("finance.read")
def finance_page():
    return _bills_page()


@web.post("/finance")
@requires("finance.write")
def finance_import():
    w = words()
    upload = request.files.get("file")
    channel = request.form.get("channel", "")
    shop = (request.form.get("shop") or "").strip()[:64]
    if upload is None or not upload.filename or channel not in BILL_CHANNELS or not shop:
        return _bills_page(error=w["no_file"], status=400)
    data = upload.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _bills_page(error=w["file_too_big"], status=413)
    name = _SAFE_NAME.sub("_", Path(upload.filename.replace("\\", "/")).name).strip("._")[:100] or "bill"
    try:
        report = settlement.import_bill(channel, shop, data, name=name, user=current_principal().user.code)
    except DomainError as exc:
        return _bills_page(error=_error(exc), status=exc.http_status)
    return _bills_page(report=report)


# --- vouchers -----------------------------------------------------------------------------------------

def _vouchers_page(message: str | None = None, error: str | None = None, status: int = 200):
    first, last = _period()
    return render_template("finance_vouchers.html", w=words(), first=first, last=last,
                           vouchers=vouchers.vouchers_between(first, last, ""), layouts=export.layouts(),
                           accounts=accounts.listing(), message=message, error=error,
                           can_write=current_principal().can("finance.write")), status


@web.get("/finance/vouchers")
@requires("finance.read")
def finance_vouchers_page():
    return _vouchers_page()


@web.post("/finance/vouchers")
@requires("finance.write")
def finance_vouchers_action():
    first, last = _period()
    action = request.form.get("action", "")
    try:
        if action == "make":
            vouchers.build_days(first, last)
        elif action == "export":
            layout = request.form.get("layout", "")
            content, _count = export.export_xlsx(layout, first, last,
                                                 actor=stockdesk.actor_of(current_principal()))
            return Response(content, mimetype=XLSX, headers={
                "Content-Disposition": f"attachment; filename=vouchers-{layout}-{first}-{last}.xlsx"})
        elif action == "account":
            accounts.set_account(request.form.get("key", ""), request.form.get("code", ""),
                                 request.form.get("name", ""))
            return _vouchers_page(message=words()["saved"])
    except DomainError as exc:
        return _vouchers_page(error=_error(exc), status=exc.http_status)
    return _vouchers_page()


# --- transactions -------------------------------------------------------------------------------------

@web.get("/finance/transactions")
@requires("finance.read")
def finance_transactions_page():
    first, last = _period()
    shop = (request.args.get("shop") or "").strip()[:64] or None
    if request.args.get("format") == "xlsx":
        try:
            content = transactions.xlsx(first, last, shop)
        except DomainError as exc:
            return Response(_error(exc), status=exc.http_status, mimetype="text/plain")
        return Response(content, mimetype=XLSX, headers={
            "Content-Disposition": f"attachment; filename=transactions-{first}-{last}.xlsx"})
    items, total = transactions.rows(first, last, shop, limit=SHOWN)
    return render_template("finance_transactions.html", w=words(), items=items, more=max(0, total - SHOWN),
                           first=first, last=last, shop=shop or "")
