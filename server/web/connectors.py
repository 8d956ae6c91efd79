"""The office's page of live connectors (平台对接), ``/connections``: every shop with its platform,
its status (connected, 需重新授权 re-authorise, paused, not connected), where its pulls have got to
and its waiting and failed platform calls; the form that connects or re-authorises a shop; and
the failed platform calls (发货回传失败) with a retry for each.

The actions are plain forms posted to this module's routes, which answer with the page again
(the result in words at its top), so the page needs no script. A form sent by a page of another
host carries no login (server/guard.py), so it cannot act for the office. The app secret and the
session go one way: typed into the form, sealed in the database, never written into a page. The
page's words are in ``TEXTS``, one dict per language; refusals are shown by their message codes.
"""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from server.db import database
from server.messages import text
from server.models.connectors import PLATFORMS
from server.realtime import socketio
from server.services.connectors import connections, outbox, pull
from server.services.connectors.worker import holder_name
from server.services.errors import DomainError
from server.guard import requires
from server.web import select_locale, web

TEXTS = {
    "zh": {
        "title": "平台对接", "shops": "店铺", "shop": "店铺", "platform": "平台", "status": "状态",
        "orders": "订单拉取", "refunds": "退款拉取", "until": "已拉取至", "last_run": "上次运行", "stored": "已存",
        "never": "尚未拉取", "calls": "平台调用", "waiting": "等待发送", "failed": "失败", "last_error": "最近错误",
        "actions": "操作", "pull": "立即拉取", "pause": "暂停", "resume": "恢复", "stock_now": "同步库存",
        "connect": "对接", "reauthorise": "重新授权", "edit": "修改",
        "st_ok": "正常", "st_reauthorise": "需重新授权", "st_paused": "已暂停", "st_": "未对接",
        "unreadable": "授权无法读取",
        "summary": "{connected} 家店铺已对接，共 {shops} 家；{reauth} 家需重新授权；{failed} 个平台调用失败。",
        "form_title": "对接店铺 / 重新授权", "form_hint": "App Secret 与授权码（Session / Access Token）加密保存，"
        "保存后不再显示；重新授权时请重新填写。",
        "choose_shop": "选择店铺", "app_key": "App Key", "secret": "App Secret", "session": "授权码（Session / Access Token）",
        "sign_method": "签名方式（淘宝）", "seller_nick": "卖家昵称", "pull_every": "拉取间隔（秒）",
        "endpoint": "网关地址（留空为平台默认）", "push_shipments": "发货回传（把运单号回传平台）",
        "push_stock": "库存同步（把可售库存上传平台）", "save": "保存并对接", "by_channel": "按店铺渠道",
        "secret_kept": "已保存，不显示",
        "failed_title": "发货回传失败", "failed_hint": "平台拒绝的调用等待人工处理：处理原因后点击重试。",
        "call": "编号", "kind": "类型", "subject": "单号 / 商品", "attempts": "尝试次数", "created": "创建时间",
        "retry": "重试", "no_failed": "没有失败的平台调用。", "no_shops": "还没有店铺。",
        "kind_ship": "发货回传", "kind_stock": "库存同步", "kind_waybill_cancel": "取消电子面单",
        "counts": "待发送 {pending}，发送中 {sending}，已完成 {done}，失败 {failed}",
        "done_connect": "店铺 {shop} 已对接，状态正常。",
        "done_pause": "店铺 {shop} 已暂停：不再拉取订单，也不发送平台调用，直到恢复。",
        "done_resume": "店铺 {shop} 已恢复。",
        "done_pull": "店铺 {shop} 正在后台拉取订单和退款，稍后刷新本页查看进度。",
        "done_stock": "店铺 {shop}：已排队上传 {queued} 个商品的库存。",
        "unlisted": "尚未知道平台商品编号的商品（拉取到含此商品的订单后即可同步）：{skus}",
        "done_retry": "调用 #{call} 已重新排队发送。", "refresh": "刷新",
        "confirm_pause": "暂停店铺 {shop}？暂停期间不拉取订单，也不回传发货。",
        "field": "字段", "seconds": "秒",
        "pf_top": "淘宝 / 天猫（TOP）", "pf_jos": "京东（JOS）", "pf_doudian": "抖店",
    },
    "en": {
        "title": "Connections", "shops": "Shops", "shop": "Shop", "platform": "Platform", "status": "Status",
        "orders": "Orders pull", "refunds": "Refunds pull", "until": "Until", "last_run": "Last run",
        "stored": "Stored", "never": "Not pulled yet", "calls": "Platform calls", "waiting": "Waiting",
        "failed": "Failed", "last_error": "Last error", "actions": "Actions", "pull": "Pull now", "pause": "Pause",
        "resume": "Resume", "stock_now": "Push stock", "connect": "Connect", "reauthorise": "Re-authorise",
        "edit": "Edit", "st_ok": "Connected", "st_reauthorise": "Re-authorise", "st_paused": "Paused",
        "st_": "Not connected", "unreadable": "Credentials unreadable",
        "summary": "{connected} of {shops} shops connected; {reauth} to re-authorise; {failed} failed platform calls.",
        "form_title": "Connect or re-authorise a shop", "form_hint": "The app secret and the session (access "
        "token) are stored encrypted and never shown again; to re-authorise, enter them again.",
        "choose_shop": "Choose a shop", "app_key": "App key", "secret": "App secret",
        "session": "Session (access token)", "sign_method": "Sign method (Taobao)", "seller_nick": "Seller nick",
        "pull_every": "Pull every (seconds)", "endpoint": "Gateway (empty: the platform's own)",
        "push_shipments": "Push shipments (send tracking numbers to the platform)",
        "push_stock": "Push stock (upload available stock to the platform)", "save": "Save and connect",
        "by_channel": "By the shop's channel", "secret_kept": "stored, not shown",
        "failed_title": "Failed platform calls", "failed_hint": "Calls the platform refused wait for a person: "
        "deal with the cause, then retry.",
        "call": "Call", "kind": "Kind", "subject": "Order / SKU", "attempts": "Attempts", "created": "Created",
        "retry": "Retry", "no_failed": "No failed platform calls.", "no_shops": "No shops yet.",
        "kind_ship": "Shipment", "kind_stock": "Stock", "kind_waybill_cancel": "Waybill cancel",
        "counts": "pending {pending}, sending {sending}, done {done}, failed {failed}",
        "done_connect": "Shop {shop} is connected.",
        "done_pause": "Shop {shop} is paused: nothing is pulled or sent for it until it is resumed.",
        "done_resume": "Shop {shop} is resumed.",
        "done_pull": "Shop {shop} is pulling its orders and refunds in the background; refresh to see how far.",
        "done_stock": "Shop {shop}: stock figures of {queued} SKUs queued for upload.",
        "unlisted": "SKUs whose platform item is not known yet (a pulled order with them teaches it): {skus}",
        "done_retry": "Call #{call} is queued to be sent again.", "refresh": "Refresh",
        "confirm_pause": "Pause shop {shop}? While paused, no orders are pulled and no shipments are sent.",
        "field": "field", "seconds": "s",
        "pf_top": "Taobao / Tmall (TOP)", "pf_jos": "JD (JOS)", "pf_doudian": "Douyin shop (抖店)",
    },
}
SIGN_METHODS = ("md5", "hmac", "hmac-sha256")


def _lang() -> str:
    return "en" if select_locale() == "en" else "zh"


def _page(result: dict | None = None, form: dict | None = None, status: int = 200):
    t = TEXTS[_lang()]
    shops = connections.views()
    chosen = form or _form_for(shops, request.args.get("shop", ""))
    failed = outbox.listing("failed", None, 200)
    codes = connections.shop_codes()
    for call in failed:
        call["shop"] = codes.get(call["shop_id"], "")
    counts = outbox.counts()
    summary = t["summary"].format(shops=len(shops), connected=sum(1 for s in shops if s["connected"]),
                                  reauth=sum(1 for s in shops if s["status"] == "reauthorise"),
                                  failed=counts["failed"])
    return render_template("connections.html", t=t, shops=shops, failed=failed, counts=counts, summary=summary,
                           form=chosen, result=result or _result(t), platforms=PLATFORMS,
                           sign_methods=SIGN_METHODS), status


def _form_for(shops: list[dict], code: str) -> dict:
    """The form's values for a shop (its stored settings, never its secrets), or a blank form."""
    row = next((s for s in shops if s["shop"] == code), None)
    if row is None or not row["connected"]:
        return {"shop": code if row else "", "platform": "", "sign_method": "md5", "pull_every_s": 60,
                "push_shipments": True, "push_stock": False}
    return {key: row.get(key) for key in ("shop", "platform", "app_key", "sign_method", "seller_nick",
                                          "pull_every_s", "endpoint", "push_shipments", "push_stock")}


def _result(t: dict) -> dict | None:
    """What the last action did (``done=...``) or why it was refused (``error=code``), in words."""
    done, shop = request.args.get("done", ""), request.args.get("shop", "")
    if done == "stock":
        words = t["done_stock"].format(shop=shop, queued=request.args.get("queued", "0"))
        unlisted = request.args.get("unlisted", "")
        return {"ok": True, "text": words, "more": t["unlisted"].format(skus=unlisted) if unlisted else ""}
    if done == "retry":
        return {"ok": True, "text": t["done_retry"].format(call=request.args.get("call", ""))}
    if f"done_{done}" in t:
        return {"ok": True, "text": t[f"done_{done}"].format(shop=shop), "refresh": done == "pull"}
    code = request.args.get("error", "")
    if code:
        return {"ok": False, "text": text(code, select_locale())}
    return None


def _back(**args):
    return redirect(url_for("web.connections_page", **args))


@web.get("/connections")
@requires("shops.manage")
def connections_page():
    return _page()


@web.post("/connections")
@requires("shops.manage")
def connection_save():
    """Connect or re-authorise: the refused form comes back with what was typed (but the secrets)."""
    form = request.form
    code = form.get("shop", "").strip()[:64]
    values = {"app_key": form.get("app_key", "").strip()[:64], "secret": form.get("secret", "")[:200],
              "session": form.get("session", "")[:500], "sign_method": form.get("sign_method", "md5"),
              "seller_nick": form.get("seller_nick", "").strip()[:100], "endpoint": form.get("endpoint", "").strip()[:300],
              "platform": form.get("platform") or None, "push_shipments": form.get("push_shipments") == "1",
              "push_stock": form.get("push_stock") == "1"}
    try:
        if values["platform"] is not None and values["platform"] not in PLATFORMS:
            raise connections.BadConnection(field="platform", reason="unknown")
        if values["sign_method"] not in SIGN_METHODS:
            raise connections.BadConnection(field="sign_method", reason="md5, hmac or hmac-sha256")
        try:
            values["pull_every_s"] = int(form.get("pull_every_s", "60"))
        except ValueError:
            raise connections.BadConnection(field="pull_every_s", reason="a number of seconds") from None
        connections.connect(code, **values)
    except DomainError as exc:
        t = TEXTS[_lang()]
        words = text(exc.code, select_locale())
        if exc.params.get("field"):
            words += f" ({t['field']}: {exc.params['field']})"
        shown = {key: value for key, value in values.items() if key not in ("secret", "session")}
        shown.update(shop=code, pull_every_s=form.get("pull_every_s", ""))
        return _page({"ok": False, "text": words}, form=shown, status=exc.http_status)
    return _back(done="connect", shop=code)


@web.post("/connections/<code>/pause")
@requires("shops.manage")
def connection_pause(code):
    paused = request.form.get("paused") == "1"
    try:
        connections.pause(code, paused)
    except DomainError as exc:
        return _back(error=exc.code)
    return _back(done="pause" if paused else "resume", shop=code)


@web.post("/connections/<code>/pull")
@requires("shops.manage")
def connection_pull(code):
    """Pull the shop's orders and refunds now, in the background (as POST /api/v1/shops/<code>/pull)."""
    try:
        client = connections.client_for(connections.of_shop(code))
    except DomainError as exc:
        return _back(error=exc.code)
    holder = holder_name()

    def work():
        with database.connection_context():
            for operation in pull.OPERATIONS:
                pull.pull(code, operation, client, holder=holder)
    socketio.start_background_task(work)
    return _back(done="pull", shop=code)


@web.post("/connections/<code>/stock")
@requires("shops.manage")
def connection_stock(code):
    try:
        connections.of_shop(code)
        queued = connections.push_stock(code)
    except DomainError as exc:
        return _back(error=exc.code)
    unlisted = queued["unlisted"]
    shown = ", ".join(unlisted[:20]) + (" …" if len(unlisted) > 20 else "")
    return _back(done="stock", shop=code, queued=queued["queued"], unlisted=shown)


@web.post("/connections/calls/<int:call_id>/retry")
@requires("shops.manage")
def channel_call_retry(call_id):
    try:
        outbox.retry(call_id)
    except DomainError as exc:
        return _back(error=exc.code)
    return _back(done="retry", call=call_id)
