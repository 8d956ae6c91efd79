"""The office's approvals page ``/approvals`` (多级审批): what waits for the person looking, every
request with its steps, and the flow table. docs/approvals.md explains the flows."""
from __future__ import annotations

from flask import render_template, request

from server.guard import current_principal, requires
from server.messages import text
from server.services.approvals import apply, flows, requests
from server.services.errors import DomainError
from server.services.stock import desk as stockdesk
from server.web import select_locale, web

WORDS = {
    "approvals": ("Approvals", "审批"), "waiting": ("Waiting for you", "待我审批"),
    "recent": ("All requests", "全部申请"), "flows": ("Approval flows", "审批流程"),
    "subject": ("Subject", "事项"), "summary": ("What", "内容"), "amount": ("Amount", "金额"),
    "requested_by": ("Asked by", "申请人"), "status": ("Status", "状态"), "level": ("Level", "审批级"),
    "steps": ("Decisions", "审批记录"), "comment": ("Comment", "意见"), "approve": ("Approve", "同意"),
    "reject": ("Reject", "驳回"), "nothing_waiting": ("Nothing waits for you.", "没有待您审批的申请。"),
    "over": ("From", "起始金额"), "levels": ("Levels", "审批级别"), "off": ("off", "停用"),
    "no_flow": ("no approval", "无需审批"), "outcome": ("Result", "结果"),
    "hint": ("Flows are set with `wavefloor approvals flow` or PUT /api/v1/approvals/flows/SUBJECT; docs/approvals.md.",
             "审批流程用 `wavefloor approvals flow` 或 PUT /api/v1/approvals/flows/SUBJECT 设置；见 docs/approvals.md。"),
}
STATUS_WORDS = {"pending": ("pending", "审批中"), "approved": ("approved", "已通过"), "rejected": ("rejected", "已驳回"),
                "cancelled": ("withdrawn", "已撤回")}
SUBJECT_WORDS = {"stock_adjustment": ("Stock adjustment", "库存调整"), "purchase_order": ("Purchase order", "采购单"),
                 "price_change": ("Price change", "改价"), "cost_change": ("Cost change", "改成本"),
                 "voucher_export": ("Voucher export (closed period)", "已结账期间导出凭证")}
ROLE_WORDS = {"admin": ("administrator", "管理员"), "supervisor": ("supervisor", "主管"), "office": ("office", "文员"),
              "picker": ("picker", "拣货员"), "packer": ("packer", "打包员"), "receiver": ("receiver", "收货员")}


def words() -> dict:
    pick = 0 if select_locale() == "en" else 1
    table = {key: pair[pick] for key, pair in WORDS.items()}
    table["statuses"] = {key: pair[pick] for key, pair in STATUS_WORDS.items()}
    table["subjects"] = {key: pair[pick] for key, pair in SUBJECT_WORDS.items()}
    table["roles"] = {key: pair[pick] for key, pair in ROLE_WORDS.items()}
    return table


def _page(error: str | None = None, done: dict | None = None, status: int = 200):
    me = current_principal().user.id
    return render_template("approvals.html", w=words(), waiting=requests.listing(for_user=me),
                           recent=requests.listing(status=None, limit=100), flows=flows.flows(), error=error,
                           done=done), status


@web.get("/approvals")
@requires("approvals.decide")
def approvals_page():
    return _page()


@web.post("/approvals/<int:request_id>")
@requires("approvals.decide")
def approvals_decide(request_id):
    approve = request.form.get("decision") == "approve"
    try:
        decided = apply.decide(request_id, stockdesk.actor_of(current_principal()), approve=approve,
                               comment=(request.form.get("comment") or "")[:2000])
    except DomainError as exc:
        message = text(exc.code, select_locale())
        if exc.code == "error":  # a field's own sentence ("comment: say why ...")
            message = exc.text
        return _page(error=message, status=exc.http_status)
    return _page(done=requests.as_dict(decided))
