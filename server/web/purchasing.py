"""The office's purchasing pages (采购): purchase orders with the stock in transit (在途), one
order with its lines, history, receipts and licence plates and the steps its state and the
user's role allow, a printable order with its code as a Code 128 barcode for the dock, and the
suppliers with what they sell us.

``/purchase-orders`` lists the orders (filtered by status and supplier) and imports a PO CSV
file: the import's report is shown line by line (``file:line: field: reason``). A step (submit,
approve, reject, cancel, close short) is a form posted to ``/purchase-orders/<code>/<step>``;
the page comes back with the result in words next to the steps. The pages' own words are in
``WORDS`` (English, 中文), chosen by the page's language; refusals by their message codes.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import zxingcpp
from flask import redirect, render_template, request, url_for
from markupsafe import Markup, escape
from peewee import JOIN, fn

from server.guard import current_principal, requires
from server.messages import MESSAGES, text
from server.models import AuditLog, Location, Product, PurchaseOrder, PurchaseOrderLine, Receipt, User
from server.models.purchasing import PO_STATES
from server.models.receiving import Lpn
from server.services.auth import roles_of
from server.services.errors import DomainError
from server.services.purchasing import approvals, intransit, orders, po_file, suppliers
from server.services.purchasing.lifecycle import PURCHASE_ORDER
from server.services.stock import desk as stockdesk
from server.web import select_locale, web

WORDS = {
    "purchasing": ("Purchasing", "采购"),
    "purchase_orders": ("Purchase orders", "采购单"), "suppliers": ("Suppliers", "供应商"),
    "po": ("Purchase order", "采购单"), "code": ("Code", "单号"), "supplier": ("Supplier", "供应商"),
    "warehouse": ("Warehouse", "仓库"), "status": ("Status", "状态"), "lines": ("Lines", "行数"),
    "ordered": ("Ordered", "采购数"), "received": ("Received", "已收"), "open": ("Open", "未收"),
    "total": ("Total", "金额"), "expected": ("Expected", "预计到货"), "created": ("Created", "创建时间"),
    "all_states": ("All states", "全部状态"), "all_suppliers": ("All suppliers", "全部供应商"),
    "filter": ("Filter", "筛选"), "show_all": ("Show all orders", "显示全部采购单"),
    "n_orders": ("{n} purchase orders", "共 {n} 张采购单"),
    "no_orders": ("No purchase orders match these filters.", "没有符合条件的采购单。"),
    "no_orders_yet": ("No purchase orders yet: import a PO file below, or with", "还没有采购单：可在下方导入采购单文件，或使用"),
    "next_page": ("Next page", "下一页"),
    "in_transit": ("In transit", "在途"), "sku": ("SKU", "商品编码"), "name": ("Item", "商品"),
    "units": ("Units", "件数"), "no_transit": ("Nothing in transit: no approved order is waiting for goods.",
                                             "没有在途商品：没有待到货的已审批采购单。"),
    "undated": ("no date", "未定"),
    "transit_more": ("… and {n} more rows; all of them: {api}", "……另有 {n} 行；全部数据：{api}"),
    "import": ("Import purchase orders (CSV)", "导入采购单（CSV）"),
    "import_hint": ("One row per order line; the rows with the same PO reference make one order. "
                    "UTF-8 or GBK, English or Chinese headers.",
                    "每行一条采购明细，采购单号相同的行合为一张采购单。UTF-8 或 GBK 编码，中英文表头均可。"),
    "file": ("File", "文件"), "choose_file": ("Choose a file…", "选择文件…"),
    "no_file_chosen": ("no file chosen", "未选择文件"), "submit_after": ("Submit them for approval", "导入后提交审批"),
    "do_import": ("Import", "导入"),
    "import_counts": ("{file}: purchase orders created {created}, unchanged {unchanged}; rows refused {problems}",
                      "{file}：新建 {created} 张，未变 {unchanged} 张，拒绝 {problems} 行"),
    "import_problems": ("Rows left out (file:line: field: reason)", "未导入的行（文件:行号: 字段: 原因）"),
    "no_file": ("Choose a CSV file to import.", "请选择要导入的 CSV 文件。"),
    "file_too_big": ("The file is larger than 5 MB.", "文件超过 5 MB。"),
    # one order
    "delivery_note": ("Delivery note", "送货单号"), "note": ("Note", "备注"), "created_by": ("Created by", "创建人"),
    "approved_by": ("Approved by", "审批人"), "close_reason": ("Closed because", "结案原因"),
    "blind": ("Blind receiving", "盲收"), "unit_cost": ("Unit cost", "单价"), "line_total": ("Line total", "金额"),
    "history": ("History", "操作记录"), "no_history": ("Nothing has happened to this order yet.", "此采购单还没有操作记录。"),
    "receipts": ("Receipts", "收货单"), "receipt": ("Receipt", "收货单"), "dock": ("Dock", "收货口"),
    "receiver": ("Receiver", "收货人"), "started": ("Started", "开始"), "closed": ("Closed", "完成"),
    "no_receipts": ("Nothing received yet.", "尚未收货。"),
    "lpns": ("Licence plates", "托盘/箱（LPN）"), "sscc": ("SSCC", "SSCC"), "lot": ("Lot", "批次"),
    "expiry": ("Expiry", "有效期"), "qty": ("Qty", "数量"), "location": ("Location", "库位"), "qc": ("QC", "质检"),
    "steps": ("Steps", "操作"), "print": ("Print for the dock", "打印（收货口扫码）"),
    "submit": ("Submit for approval", "提交审批"), "approve": ("Approve", "审批通过"),
    "reject": ("Reject", "驳回"), "reject_reason": ("Why reject (back to draft)", "驳回原因（退回草稿）"),
    "cancel": ("Cancel order", "取消采购单"), "cancel_reason": ("Reason", "原因"),
    "cancel_reason_required": ("Reason (needed: the supplier may be packing it)", "原因（必填：供应商可能已在备货）"),
    "cancel_confirm": ("Cancel this purchase order? Its open units are no longer in transit.", "确定取消此采购单？其未收数量不再计入在途。"),
    "close": ("Close short", "短收结案"), "close_reason_ask": ("Why close short (what will not come)", "短收结案原因（剩余不再到货）"),
    "close_confirm": ("Close this order short? What was not received is no longer in transit.", "确定短收结案？未收数量不再计入在途。"),
    "your_limit": ("You may approve up to {limit}.", "您的审批额度：{limit}。"),
    "no_limit": ("no limit", "不限额"), "no_limit_at_all": ("Your role may not approve orders.", "您的角色不能审批采购单。"),
    "over_limit": ("Not approved: the order's total {total} is above your approval limit of {limit}. "
                   "Ask someone with a higher limit.",
                   "未审批：采购单金额 {total} 超过您的审批额度 {limit}，请由额度更高的人审批。"),
    "done_submit": ("Submitted for approval.", "已提交审批。"),
    "done_approve": ("Approved: the order's open units are now in transit.", "已审批通过：未收数量已计入在途。"),
    "done_reject": ("Rejected: the order is a draft again.", "已驳回：采购单退回草稿。"),
    "done_cancel": ("Cancelled.", "已取消。"), "done_close": ("Closed short.", "已短收结案。"),
    "no_steps": ("No step is open to you for this order.", "此采购单当前没有您可执行的操作。"),
    "no_such_po": ("No such purchase order.", "没有这张采购单。"),
    "scan_at_dock": ("Scan this code at the dock to receive the order.", "收货时在收货口扫描此条码。"),
    "signature": ("Received by", "收货人签字"), "checked_by": ("Checked by", "复核人签字"),
    "counted": ("Counted", "实收数量"),
    "blind_print": ("the ordered quantities are not shown; count what arrives.", "不显示采购数量，请按实际到货清点。"),
    # suppliers
    "contact": ("Contact", "联系人"), "phone": ("Phone", "电话"), "lead_time": ("Lead time", "交期"),
    "days": ("{n} days", "{n} 天"), "tolerance": ("Tolerance", "超收比例"), "qc_plan": ("QC plan", "质检方案"),
    "supplier_items": ("What it sells us", "供货商品"), "n_items": ("Items", "商品数"),
    "supplier_code": ("Code", "供应商编码"), "moq": ("MOQ", "起订量"), "pack": ("Pack", "箱规"),
    "yes": ("yes", "是"), "no": ("no", "否"), "inactive": ("inactive", "已停用"),
    "no_suppliers": ("No suppliers yet: import them with", "还没有供应商，请用以下命令导入"),
    "no_items": ("This supplier sells us nothing yet.", "该供应商还没有供货商品。"),
    "no_such_supplier": ("No such supplier.", "没有这个供应商。"),
    "supplier_orders": ("Its purchase orders", "该供应商的采购单"),
    "plan_none": ("none", "免检"), "plan_full": ("full", "全检"), "plan_sample": ("sample", "抽检"),
    "as_supplier": ("as the supplier", "同供应商"),
}

PO_STATE_WORDS = {
    "draft": ("Draft", "草稿"), "submitted": ("Waiting for approval", "待审批"), "approved": ("Approved", "已审批"),
    "partially_received": ("Partly received", "部分收货"), "received": ("Received", "已收货"),
    "closed_short": ("Closed short", "短收结案"), "cancelled": ("Cancelled", "已取消"),
}
RECEIPT_STATE_WORDS = {"open": ("Receiving", "收货中"), "closed": ("Done", "已完成")}
LPN_STATE_WORDS = {"open": ("Being filled", "装货中"), "qc_pending": ("Waiting for QC", "待质检"),
                   "ready": ("Ready for putaway", "待上架"), "stored": ("Put away", "已上架"),
                   "rejected": ("Rejected by QC", "质检判退")}
# what each history line of an order is called (its AuditLog action)
EVENT_WORDS = {
    "po.create": ("Created", "创建"), "po.update": ("Changed", "修改"), "po.submit": ("Submitted", "提交审批"),
    "po.approve": ("Approved", "审批通过"), "po.approve_refused": ("Approval refused", "审批被拒（超额度）"),
    "po.reject": ("Rejected", "驳回"), "po.cancel": ("Cancelled", "取消"), "po.close_short": ("Closed short", "短收结案"),
}
ROLE_WORDS = {"admin": ("administrator", "管理员"), "supervisor": ("supervisor", "主管"), "office": ("office", "文员")}
# the steps of the page: step -> (target state, permission)
STEPS = {"submit": ("submitted", "purchasing.write"), "approve": ("approved", "purchasing.approve"),
         "reject": ("draft", "purchasing.approve"), "cancel": ("cancelled", "purchasing.write"),
         "close": ("closed_short", "purchasing.write")}
MAX_UPLOAD = 5 * 1024 * 1024
PAGE = 50
TRANSIT_ROWS = 200  # the in-transit summary's rows on the page (all of them: GET /api/v1/in-transit)


def _english() -> bool:
    return select_locale() == "en"


def words() -> dict:
    pick = 0 if _english() else 1
    table = {key: pair[pick] for key, pair in WORDS.items()}
    table["states"] = {key: pair[pick] for key, pair in PO_STATE_WORDS.items()}
    table["receipt_states"] = {key: pair[pick] for key, pair in RECEIPT_STATE_WORDS.items()}
    table["lpn_states"] = {key: pair[pick] for key, pair in LPN_STATE_WORDS.items()}
    return table


def yuan(fen) -> str:
    """Fen as ¥1,234.50."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


@web.app_template_filter("yuan")
def _yuan_filter(fen):
    return yuan(fen)


def _can(permission: str) -> bool:
    return current_principal().can(permission)


# --- the list ------------------------------------------------------------------------------------

def _supplier_choices() -> list[dict]:
    return suppliers.list_suppliers(current_principal(), limit=500)["items"]


def _list_page(report=None, report_file: str = "", status_code: int = 200):
    status = request.args.get("status") or None
    if status not in PO_STATES:
        status = None
    supplier = (request.args.get("supplier") or "").strip()[:32] or None
    page = int(request.args["page"]) if request.args.get("page", "").isdecimal() else 0
    found = orders.list_orders(status=status, supplier=supplier, limit=PAGE, offset=page * PAGE)
    line_counts = _line_counts([po["code"] for po in found["items"]])
    for po in found["items"]:
        po["line_count"] = line_counts.get(po["code"], 0)
    next_url = None
    if found["total"] > (page + 1) * PAGE:
        next_url = url_for("web.purchase_order_list", **dict(request.args.to_dict(), page=page + 1))
    transit = _transit_summary(intransit.rows())
    shown = transit[:TRANSIT_ROWS]
    names = dict(Product.select(Product.sku, Product.name).where(Product.sku.in_({r["sku"] for r in shown}))
                 .tuples()) if shown else {}
    return render_template("purchase_orders.html", w=words(), result=found, status=status, supplier=supplier,
                           supplier_choices=_supplier_choices(), states=PO_STATES, next_url=next_url,
                           transit=shown, transit_more=len(transit) - len(shown), names=names,
                           can_write=_can("purchasing.write"), report=report, report_file=report_file), status_code


def _line_counts(codes: list[str]) -> dict[str, int]:
    """code -> number of lines, for a page of orders in one query."""
    if not codes:
        return {}
    return dict(PurchaseOrderLine.select(PurchaseOrder.code, fn.COUNT(PurchaseOrderLine.id)).join(PurchaseOrder)
                .where(PurchaseOrder.code.in_(codes)).group_by(PurchaseOrder.code).tuples())


def _transit_summary(rows: list[dict]) -> list[dict]:
    """SKU, warehouse and expected date with their units (the orders that bring them named)."""
    summed: dict[tuple, dict] = {}
    for row in rows:
        key = (row["sku"], row["warehouse"], row["expected_on"])
        entry = summed.setdefault(key, {"sku": row["sku"], "warehouse": row["warehouse"],
                                        "expected_on": row["expected_on"], "qty": 0, "pos": []})
        entry["qty"] += row["qty"]
        if row["po"] not in entry["pos"]:
            entry["pos"].append(row["po"])
    return list(summed.values())


@web.get("/purchase-orders")
@requires("purchasing.read")
def purchase_order_list():
    return _list_page()


_SAFE_NAME = re.compile(r"[^\w.\-]+")


@web.post("/purchase-orders/import")
@requires("purchasing.write")
def purchase_order_import():
    w = words()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _list_page(report={"error": w["no_file"]}, status_code=400)
    data = upload.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _list_page(report={"error": w["file_too_big"]}, status_code=413)
    # the report names the file as the user chose it (its last part, in safe characters)
    name = _SAFE_NAME.sub("_", Path(upload.filename.replace("\\", "/")).name).strip("._") or "upload.csv"
    with tempfile.TemporaryDirectory(prefix="wf-po-") as folder:
        path = Path(folder) / name[:100]
        path.write_bytes(data)
        report = po_file.import_orders(path, stockdesk.actor_of(current_principal()),
                                       submit=request.form.get("submit") == "1")
    shown = {"created": report.created, "unchanged": report.unchanged,
             "problems": [str(p) for p in report.problems], "file": path.name}
    return _list_page(report=shown, report_file=path.name, status_code=200 if not report.problems else 422)


@web.get("/purchase-orders/import")
@requires("purchasing.read")
def purchase_order_import_page():
    """The address the import's report was shown at, opened again (the language links lead
    here): the list, at its import form."""
    return redirect(url_for("web.purchase_order_list", _anchor="import"))


# --- one order -----------------------------------------------------------------------------------

def _history(code: str) -> list[dict]:
    pick = 0 if _english() else 1
    rows = (AuditLog.select(AuditLog, User).join(User, on=(AuditLog.user == User.id), join_type=JOIN.LEFT_OUTER)
            .where((AuditLog.target == code) & AuditLog.action.startswith("po."))
            .order_by(AuditLog.at, AuditLog.id))
    lines = []
    for row in rows:
        name = EVENT_WORDS.get(row.action, (row.action, row.action))[pick]
        user = row.user.code if row.user_id and row.user else ""
        lines.append({"at": row.at, "action": row.action, "name": name, "words": _event_words(row.action, row.detail),
                      "user": user})
    return lines


_CREATED = re.compile(r"^\S+ \S+ (\d+) lines (\d+) fen$")
_TOTAL = re.compile(r"^total (\d+) fen(?: as (\w+))?$")
_SHORT = re.compile(r"^(\d+) units short: (.*)$", re.S)


def _event_words(action: str, detail: str) -> str:
    """A history line's detail in the page's language: amounts in ¥, no internal notation."""
    english = _english()
    detail = detail or ""
    if action == "po.create" and (found := _CREATED.match(detail)):
        n, fen = int(found[1]), int(found[2])
        return f"{n} line{'s' if n != 1 else ''}, {yuan(fen)}" if english else f"{n} 行，{yuan(fen)}"
    if action in ("po.submit", "po.approve") and (found := _TOTAL.match(detail)):
        said = yuan(int(found[1]))
        if found[2]:
            role = ROLE_WORDS.get(found[2], (found[2], found[2]))[0 if english else 1]
            said += f", as {role}" if english else f"，以{role}身份"
        return said
    if action == "po.approve_refused":
        return "above the approver's limit" if english else "超过审批人的审批额度"
    if action == "po.close_short" and (found := _SHORT.match(detail)):
        return (f"{found[1]} units short: {found[2]}" if english else f"短收 {found[1]} 件：{found[2]}")
    if action == "po.update":
        fields = {"lines": ("lines", "明细"), "expected_on": ("expected date", "预计到货日期"),
                  "note": ("note", "备注"), "delivery_note": ("delivery note", "送货单号")}
        return ", ".join(fields.get(f.strip(), (f.strip(), f.strip()))[0 if english else 1]
                         for f in detail.split(",") if f.strip())
    if action == "po.cancel" and detail in ("cancelled", "draft -> cancelled", "submitted -> cancelled"):
        return ""
    return detail


def _receipts(po_id: int) -> tuple[list[dict], list[dict]]:
    receipts = [{"code": r.code, "status": r.status, "dock": r.dock.code, "user": r.user.code if r.user else "",
                 "started_at": r.started_at, "closed_at": r.closed_at}
                for r in Receipt.select(Receipt, Location).join(Location, on=(Receipt.dock == Location.id))
                .where(Receipt.po == po_id).order_by(Receipt.id)]
    plates = [{"sscc": p.sscc, "receipt": p.receipt.code, "sku": p.product.sku, "name": p.product.name,
               "lot": p.lot, "expiry": p.expiry, "qty": p.qty, "status": p.status, "location": p.location.code,
               "qc_plan": p.qc_plan, "aql": p.aql}
              for p in Lpn.select(Lpn, Receipt, Product, Location).join(Receipt).switch(Lpn).join(Product)
              .switch(Lpn).join(Location, on=(Lpn.location == Location.id))
              .where(Receipt.po == po_id).order_by(Lpn.id)]
    return receipts, plates


def _approval_limit() -> int | None | str:
    """The largest total the user may approve (None: no limit), or "" when none of their roles may."""
    table = approvals.limits()
    mine = [table[role] for role in roles_of(current_principal().user) if role in table]
    if not mine:
        return ""
    return None if None in mine else max(mine)


def _steps(status: str) -> list[str]:
    principal = current_principal()
    return [step for step, (target, permission) in STEPS.items()
            if principal.can(permission) and PURCHASE_ORDER.allows(status, target)]


def _result(po: dict, w: dict) -> dict | None:
    """The result of the step just pressed (``done=step`` or ``error=code&step=...``), in words."""
    done = request.args.get("done", "")
    if done in STEPS:
        return {"ok": True, "step": done, "text": w[f"done_{done}"]}
    code = request.args.get("error", "")
    step = request.args.get("step", "")
    if code == "over_approval_limit":
        limit = _approval_limit()
        shown = w["no_limit"] if limit is None else ("—" if limit == "" else yuan(limit))
        return {"ok": False, "step": "approve",
                "text": w["over_limit"].format(total=yuan(po["total_fen"]), limit=shown)}
    if code in MESSAGES:
        return {"ok": False, "step": step if step in STEPS else "", "text": text(code, select_locale())}
    return None


@web.get("/purchase-orders/<code>")
@requires("purchasing.read")
def purchase_order_detail(code):
    w = words()
    try:
        found = orders.get(code)
    except DomainError:
        return render_template("message.html", message=w["no_such_po"]), 404
    po = orders.order_view(found)
    receipts, plates = _receipts(found.id)
    limit = _approval_limit() if _can("purchasing.approve") else ""
    return render_template("purchase_order.html", w=w, po=po, history=_history(found.code), receipts=receipts,
                           plates=plates, steps=_steps(po["status"]), result=_result(po, w), limit=limit,
                           created_at=found.created_at)


@web.get("/purchase-orders/<code>/print")
@requires("purchasing.read")
def purchase_order_print(code):
    w = words()
    try:
        found = orders.get(code)
    except DomainError:
        return render_template("message.html", message=w["no_such_po"]), 404
    return render_template("purchase_order_print.html", w=w, po=orders.order_view(found),
                           barcode=code128_svg(found.code), created_at=found.created_at)


def code128_svg(data: str) -> Markup:
    """``data`` as a Code 128 barcode, an inline SVG drawn here (nothing loaded from elsewhere)."""
    symbol = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.Code128)
    svg = symbol.to_svg(add_hrt=False, add_quiet_zones=True)
    svg = svg[svg.index("<svg"):]
    width, height = re.search(r'width="(\d+)" height="(\d+)"', svg).groups()
    # scaled by its viewBox, a module 0.38 mm wide on paper (any dock scanner reads it at arm's
    # length), the whole between 35 and 95 mm; crisp edges
    printed_mm = min(max(int(width) * 0.38, 35.0), 95.0)
    svg = svg.replace(f'width="{width}" height="{height}"',
                      f'viewBox="0 0 {width} {height}" preserveAspectRatio="none" shape-rendering="crispEdges" '
                      f'style="width: {printed_mm:.1f}mm" class="barcode" role="img" aria-label="{escape(data)}" '
                      f'data-modules="{width}"', 1)
    return Markup(re.sub(r"<desc>.*?</desc>", "", svg, flags=re.S))


@web.post("/purchase-orders/<code>/<action>")
@requires("purchasing.read")
def purchase_order_step(code, action):
    step = action
    if step not in STEPS:
        return render_template("message.html", message=text("not_found", select_locale())), 404
    principal = current_principal()
    if not principal.can(STEPS[step][1]):
        return redirect(url_for("web.purchase_order_detail", code=code, error="forbidden", step=step))
    actor = stockdesk.actor_of(principal)
    reason = request.form.get("reason", "").strip()[:200]
    try:
        if step == "submit":
            po = orders.submit(code, actor)
        elif step == "approve":
            po = orders.approve(code, actor)
        elif step == "reject":
            po = orders.reject(code, actor, reason)
        elif step == "cancel":
            po = orders.cancel(code, actor, reason)
        else:
            po = orders.close_short(code, actor, reason)
    except DomainError as exc:
        return redirect(url_for("web.purchase_order_detail", code=code, error=exc.code, step=step))
    return redirect(url_for("web.purchase_order_detail", code=po.code, done=step))


# --- suppliers -----------------------------------------------------------------------------------

@web.get("/suppliers")
@requires("purchasing.read")
def supplier_list():
    return render_template("suppliers.html", w=words(), items=_supplier_choices())


@web.get("/suppliers/<code>")
@requires("purchasing.read")
def supplier_detail(code):
    w = words()
    try:
        found = suppliers.supplier(code)
    except DomainError:
        return render_template("message.html", message=w["no_such_supplier"]), 404
    view = suppliers.supplier_view(found, current_principal(), with_items=True)
    recent = orders.list_orders(supplier=found.code, limit=20)["items"]
    return render_template("supplier.html", w=w, s=view, recent=recent)
