"""The QC bench (质检台) and the office's supplier returns (退供).

``/qc``: a PC at the QC bench (1280 x 800). The page lists the licence plates waiting for QC; the
inspector scans or picks one, records each sampled unit as passed or failed with a defect reason
(static/qc.js, through ``/api/v1/qc/...``) and sees the lot's decision. ``/supplier-returns``:
the office lists the returns, prints a pick list (an A4 page from the browser: the dock, SKU,
lot and state of every unit going back) and ships or cancels them.

The pages' own words are in ``WORDS`` (English, 中文), chosen by the page's language.
"""
from __future__ import annotations

import datetime as dt

from flask import redirect, render_template, request, url_for

from server.guard import current_principal, requires
from server.services.errors import DomainError
from server.services.receiving import supplier_returns as returns
from server.services.stock import desk as stockdesk
from server.messages import MESSAGES, text
from server.web import select_locale, web

WORDS = {
    "qc": ("QC bench", "质检台"),
    "supplier_returns": ("Supplier returns", "退供单"),
    "code": ("Return", "退供单号"), "status": ("Status", "状态"), "supplier": ("Supplier", "供应商"),
    "po": ("PO", "采购单"), "sscc": ("LPN (SSCC)", "托盘/箱号 (SSCC)"), "sku": ("SKU", "商品编码"),
    "name": ("Item", "商品"), "lot": ("Lot", "批次"), "qty": ("Qty", "数量"), "reason": ("Reason", "原因"),
    "created": ("Created", "创建时间"), "location": ("Location", "库位"), "state": ("State", "库存状态"),
    "open": ("open", "待退"), "shipped": ("shipped", "已发出"), "cancelled": ("cancelled", "已取消"),
    "all": ("all", "全部"), "print": ("Print pick list", "打印拣货单"), "ship": ("Ship", "发出"),
    "cancel": ("Cancel", "取消"), "cancel_reason": ("Why cancel (units stay frozen)", "取消原因（商品保持冻结）"),
    "none": ("No supplier returns.", "没有退供单。"), "pick_list": ("Supplier return pick list", "退供拣货单"),
    "damaged": ("damaged", "次品"), "frozen": ("frozen", "冻结"), "total": ("Total", "合计"),
    "picked_by": ("Picked by", "拣货人"), "checked_by": ("Checked by", "复核人"),
    "received_by": ("Carrier / supplier signature", "承运人/供应商签收"),
    "printed_at": ("Printed", "打印时间"), "shipped_note": ("Shipped.", "已发出。"),
    "cancelled_note": ("Cancelled; the units stay frozen.", "已取消，商品保持冻结。"),
    "qc_reject": ("QC rejected the lot: {failed} of {checked} sampled units failed (accept number {accept_number}).",
                  "质检判退：抽检 {checked} 件，不合格 {failed} 件（接收数 {accept_number}）。"),
}


def words() -> dict:
    english = select_locale() == "en"
    return {key: (en if english else zh) for key, (en, zh) in WORDS.items()}


def _error_text(code: str) -> str:
    """The sentence of a refusal code sent back to the list (never text from the address)."""
    return text(code, select_locale()) if code in MESSAGES else ""


@web.get("/qc")
@requires("quality.write")
def qc_bench():
    principal = current_principal()
    return render_template("qc.html", w=words(), can_reject=principal.can("floor.control"))


@web.get("/supplier-returns")
@requires("purchasing.read")
def supplier_return_list():
    status = request.args.get("status") or None
    if status not in returns.STATUSES:
        status = None
    done = request.args.get("done", "")
    items = [dict(item, created=dt.datetime.fromisoformat(item["created_at"])) for item in returns.listing(status=status)]
    return render_template("supplier_returns.html", w=words(), items=items,
                           status=status, statuses=returns.STATUSES, done=done,
                           can_write=current_principal().can("purchasing.write"),
                           error=_error_text(request.args.get("error", "")))


@web.get("/supplier-returns/<code>/print")
@requires("purchasing.read")
def supplier_return_print(code):
    found = returns.get(code)
    view = returns.view(found, with_lines=found.status == "open")
    return render_template("supplier_return_print.html", w=words(), sr=view)


@web.post("/supplier-returns/<code>/<action>")
@requires("purchasing.write")
def supplier_return_action(code, action):
    actor = stockdesk.actor_of(current_principal())
    try:
        if action == "ship":
            returns.ship(code, actor=actor)
        elif action == "cancel":
            returns.cancel(code, request.form.get("reason", ""), actor=actor)
        else:
            return redirect(url_for("web.supplier_return_list"))
    except DomainError as exc:
        return redirect(url_for("web.supplier_return_list", error=exc.code))
    return redirect(url_for("web.supplier_return_list", done=action))
