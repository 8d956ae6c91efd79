"""The returns bench page (退货台), ``/returns/bench?station=CODE``, and the office's returns page
(``/returns``: return rate per SKU, unknown parcels and their matching, the latest refunds).

The bench page is a station page like the put wall's: a kiosk that logged in by PIN opens it
with ``?token=``; a person logged in at /login logs in again on the page with user and PIN for
the bench. Its module (static/returns.js) runs the ``returns`` scenario over Socket.IO. Both
pages speak Chinese and English: their texts are here, one dict per language.
"""
from __future__ import annotations

import datetime as dt

from flask import redirect, render_template, request, url_for

from server.guard import current_principal, requires
from server.messages import text
from server.services.errors import DomainError
from server.services.returns import bench, refunds, report
from server.services.stock import desk as stockdesk
from server.web import select_locale, web
from server.web.stations import opens_at_station, render_station_page, socket_token

BENCH_TEXTS = {
    "zh": {
        "title": "退货台", "offline": "离线", "online": "在线", "logout": "退出", "login_title": "退货台登录",
        "user": "工号", "pin": "PIN", "station": "退货台", "login": "登录", "scan_here": "扫描条码…",
        "scan_parcel": "请扫描退货包裹的运单号或订单号", "scan_unit": "请逐件扫描退回的商品",
        "condition": "请选择商品状况", "restock": "可售入库", "damaged": "次品", "scrap": "报废",
        "close": "完成包裹", "unknown": "登记为无头件", "note": "备注（无头件请写明线索）", "save_note": "保存备注",
        "order": "订单", "tracking": "运单号", "parcel": "包裹", "sku": "商品编码", "item": "商品",
        "returned": "已退/购买", "units": "已收商品", "unknown_parcel": "无头件", "refund": "退款",
        "no_station": "请输入退货台编码", "timeout": "服务器无响应，请重试", "lang": "EN",
        "cond_restock": "可售", "cond_damaged": "次品", "cond_scrap": "报废",
        "search": "查找订单", "search_hint": "没有单号？按买家昵称、收货人或电话查找", "buyer": "买家",
        "receiver": "收货人", "phone": "电话", "open": "打开",
    },
    "en": {
        "title": "Returns bench", "offline": "offline", "online": "online", "logout": "Log out",
        "login_title": "Returns bench login", "user": "User", "pin": "PIN", "station": "Bench", "login": "Log in",
        "scan_here": "Scan a code…", "scan_parcel": "Scan the parcel's tracking number or the order number",
        "scan_unit": "Scan each returned unit", "condition": "Choose the unit's condition", "restock": "Restock",
        "damaged": "Damaged", "scrap": "Scrap", "close": "Close parcel", "unknown": "Keep as unknown parcel",
        "note": "Note (for an unknown parcel: any clue)", "save_note": "Save note", "order": "Order",
        "tracking": "Tracking", "parcel": "Parcel", "sku": "SKU", "item": "Item", "returned": "Back / bought",
        "units": "Units received", "unknown_parcel": "Unknown parcel", "refund": "Refund",
        "no_station": "Type the bench's code", "timeout": "The server did not answer; try again", "lang": "中文",
        "cond_restock": "restock", "cond_damaged": "damaged", "cond_scrap": "scrap",
        "search": "Find order", "search_hint": "No number? Find by buyer nick, receiver or phone", "buyer": "Buyer",
        "receiver": "Receiver", "phone": "Phone", "open": "Open",
    },
}

OFFICE_TEXTS = {
    "zh": {"title": "退货", "rates": "退货率（按商品）", "since": "从", "until": "到", "show": "查询", "sku": "商品编码",
           "name": "商品", "shipped": "发出件数", "returned": "退回件数", "rate": "退货率", "conditions": "状况",
           "unknown": "无头件", "parcel_code": "包裹", "tracking": "运单号", "note": "备注", "units": "件数",
           "match": "关联订单", "order_no": "订单号", "refunds": "最近退款", "refund_id": "退款编号", "state": "状态",
           "amount": "金额", "none": "无", "bench": "打开退货台", "search": "按买家查订单", "buyer": "买家",
           "receiver": "收货人", "phone": "电话", "status": "状态", "matched": "已关联", "not_found": "未找到此订单号",
           "cond_restock": "可售", "cond_damaged": "次品", "cond_scrap": "报废", "state_requested": "待卖家同意",
           "state_agreed": "已同意", "state_refused": "已拒绝", "state_closed": "退款关闭", "state_success": "退款成功"},
    "en": {"title": "Returns", "rates": "Return rate per SKU", "since": "From", "until": "To", "show": "Show",
           "sku": "SKU", "name": "Item", "shipped": "Shipped", "returned": "Returned", "rate": "Rate",
           "conditions": "Conditions", "unknown": "Unknown parcels", "parcel_code": "Parcel", "tracking": "Tracking",
           "note": "Note", "units": "Units", "match": "Match to order", "order_no": "Order number",
           "refunds": "Latest refunds", "refund_id": "Refund", "state": "State", "amount": "Amount", "none": "None",
           "bench": "Open the returns bench", "search": "Find orders by buyer", "buyer": "Buyer",
           "receiver": "Receiver", "phone": "Phone", "status": "Status", "matched": "Matched",
           "not_found": "No order with this number", "cond_restock": "restock", "cond_damaged": "damaged",
           "cond_scrap": "scrap", "state_requested": "requested", "state_agreed": "agreed", "state_refused": "refused",
           "state_closed": "closed", "state_success": "refunded"},
}


opens_at_station("web.returns_bench", "returns.write")


def _lang() -> str:
    return "en" if select_locale() == "en" else "zh"


@web.get("/returns/bench")
@requires("returns.write")
def returns_bench():
    return render_station_page("returns_bench.html", texts=BENCH_TEXTS)


@web.get("/returns/bench/socket-token")
@requires("returns.write")
def returns_bench_socket_token():
    """The token the bench page's socket connects with when the page's session has the bench's."""
    return socket_token()


@web.get("/returns")
@requires("returns.read")
def returns_office():
    today = dt.datetime.now(dt.timezone.utc).date()
    try:
        until = dt.date.fromisoformat(request.args.get("until", "")) if request.args.get("until") else today
        since = dt.date.fromisoformat(request.args.get("since", "")) if request.args.get("since") \
            else until - dt.timedelta(days=29)
    except ValueError:
        since, until = today - dt.timedelta(days=29), today
    principal = current_principal()
    query = request.args.get("q", "").strip()[:64]
    found = bench.search_orders(query, pii=principal.can("pii.read")) if query else []
    return render_template("returns.html", t=OFFICE_TEXTS[_lang()], since=since, until=until,
                           rates=report.return_rates(min(since, until), until), unknown=bench.unknown_parcels(50),
                           latest=refunds.list_refunds(limit=20)["items"], q=query, found=found,
                           can_write=principal.can("returns.write"), error=request.args.get("error", ""))


@web.post("/returns/parcels/<code>/match")
@requires("returns.write")
def returns_match(code):
    t = OFFICE_TEXTS[_lang()]
    number = request.form.get("order", "").strip()
    order = bench.order_by_number(number) if number else None
    if order is None:
        return redirect(url_for("web.returns_office", error=f"{t['not_found']}: {number}"))
    try:
        bench.match(bench.parcel_by_code(code), order, actor=stockdesk.actor_of(current_principal()))
    except DomainError as exc:
        return redirect(url_for("web.returns_office", error=text(exc.code, select_locale())))
    return redirect(url_for("web.returns_office"))
