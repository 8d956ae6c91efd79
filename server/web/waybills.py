"""The office's carriers page (快递面单账号), ``/carriers``: each carrier with where its waybill
numbers come from (this server, a number pool 号段, Cainiao through a Taobao shop, SF's own API),
its pool's free and used numbers, the form that sets its account, and the upload of a pool file
with the file's problems listed line by line.

As on the connections page, the actions are plain forms answered with the page again (the
result in words at its top). SF's checkword goes one way: typed into the form, sealed in the
database, never written into a page; left empty, the stored one is kept.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import redirect, render_template, request, url_for

from server.guard import current_principal, requires
from server.messages import text
from server.models import Shop
from server.services.errors import DomainError
from server.services.packages import carrier_accounts, waybills
from server.services.stock import desk as stockdesk
from server.web import select_locale, web

TEXTS = {
    "zh": {
        "title": "快递面单账号", "connections": "平台对接", "carrier": "快递公司", "source": "面单来源",
        "details": "账号", "free": "可用单号", "used": "已用", "cancelled": "已取消", "actions": "操作",
        "src_local": "本系统生成", "src_pool": "号段（单号池）", "src_cainiao": "菜鸟电子面单", "src_sf": "顺丰丰桥",
        "summary": "{accounts} 家快递公司已设置面单账号；号段中共有 {free} 个可用单号。",
        "hint": "没有账号的快递公司使用本系统生成的单号（演示用）。设置账号后，打包时只使用快递公司给的单号，绝不编造。",
        "edit": "设置账号", "import": "导入号段", "shop": "店铺", "partner": "顾客编码", "monthly": "月结卡号",
        "branch": "网点", "endpoint": "接口地址", "template": "模板", "secret_kept": "校验码已保存，不显示",
        "form_title": "设置面单账号", "form_hint": "顺丰校验码（checkword）加密保存，保存后不再显示；留空则保留已保存的校验码。"
        "菜鸟电子面单使用所选淘宝 / 天猫店铺的授权（在“平台对接”中对接该店铺）。",
        "choose_carrier": "选择快递公司", "choose_shop": "选择店铺",
        "f_source": "面单来源", "f_shop": "店铺（菜鸟：使用其淘宝授权）", "f_template": "模板地址（菜鸟标准模板，可留空）",
        "f_account": "月结卡号（顺丰）/ 网点（菜鸟，可留空）", "f_endpoint": "接口地址（顺丰）", "f_partner": "顾客编码 partnerID（顺丰）",
        "f_secret": "校验码 checkword（顺丰）", "f_monthly": "月结卡号（顺丰）", "save": "保存",
        "pool_title": "导入号段", "pool_hint": "文件每行一个单号，或“起始单号,结束单号”表示一段；UTF-8 或 GBK。"
        "已导入过的单号算作重复，不会重复添加；有问题的行会逐行列出，其余行照常导入。",
        "file": "号段文件", "upload": "导入",
        "done_account": "{carrier} 的面单账号已保存：{source}。",
        "done_local": "{carrier} 已不再使用面单账号：单号由本系统生成。",
        "done_pool": "{carrier}：新增 {added} 个单号，重复 {duplicates} 个，问题 {problems} 行。",
        "problems": "文件中的问题", "more": "还有 {n} 行问题未列出。", "field": "字段",
        "none": "–", "problem": "注意",
    },
    "en": {
        "title": "Carriers", "connections": "Connections", "carrier": "Carrier", "source": "Numbers from",
        "details": "Account", "free": "Free numbers", "used": "Used", "cancelled": "Cancelled", "actions": "Actions",
        "src_local": "This server", "src_pool": "Number pool", "src_cainiao": "Cainiao waybills", "src_sf": "SF API",
        "summary": "{accounts} carriers have a waybill account; {free} free numbers in the pools.",
        "hint": "A carrier without an account gets numbers made by this server (for the demo). With an account, "
                "packing uses only the numbers the carrier gives, never a made-up one.",
        "edit": "Set account", "import": "Import pool", "shop": "Shop", "partner": "Partner", "monthly": "Monthly account",
        "branch": "Branch", "endpoint": "Endpoint", "template": "Template", "secret_kept": "checkword stored, not shown",
        "form_title": "Set a waybill account", "form_hint": "SF's checkword is stored encrypted and never shown "
        "again; leave it empty to keep the stored one. Cainiao uses the chosen Taobao / Tmall shop's session "
        "(connect that shop on the Connections page).",
        "choose_carrier": "Choose a carrier", "choose_shop": "Choose a shop",
        "f_source": "Numbers from", "f_shop": "Shop (Cainiao: whose Taobao session)",
        "f_template": "Template URL (Cainiao standard template, optional)",
        "f_account": "Monthly account (SF) / branch (Cainiao, optional)", "f_endpoint": "Endpoint (SF)",
        "f_partner": "Partner ID (SF)", "f_secret": "Checkword (SF)", "f_monthly": "Monthly account (SF)",
        "save": "Save",
        "pool_title": "Import a number pool", "pool_hint": "One number a line, or \"start,end\" for a range; "
        "UTF-8 or GBK. Numbers imported before count as duplicates and are not added again; lines with a "
        "problem are listed, the other lines are imported.",
        "file": "Pool file", "upload": "Import",
        "done_account": "{carrier}'s waybill account is saved: {source}.",
        "done_local": "{carrier} has no waybill account any more: this server makes its numbers.",
        "done_pool": "{carrier}: added {added}, duplicates {duplicates}, lines with a problem {problems}.",
        "problems": "Problems in the file", "more": "{n} more problems not listed.", "field": "field",
        "none": "–", "problem": "Attention",
    },
}
SHOWN_PROBLEMS = 50


def _lang() -> str:
    return "en" if select_locale() == "en" else "zh"


def _page(result: dict | None = None, form: dict | None = None, status: int = 200):
    t = TEXTS[_lang()]
    carriers = carrier_accounts.views()
    for row in carriers:
        row["name"] = row["name_en"] if _lang() == "en" else row["name_zh"]
        row["problem_text"] = text(row["problem"], select_locale()) if row["problem"] else ""
    summary = t["summary"].format(accounts=sum(1 for c in carriers if c["source"] != "local"),
                                  free=sum(c["counts"]["free"] for c in carriers))
    shops = [s.code for s in Shop.select(Shop.code).order_by(Shop.code)]
    return render_template("carriers.html", t=t, carriers=carriers, summary=summary, shops=shops,
                           form=form or _form_for(carriers, request.args.get("carrier", "")),
                           result=result or _result(t), sources=carrier_accounts.SOURCES), status


def _form_for(carriers: list[dict], code: str) -> dict:
    """The form's values for a carrier (its stored settings, never its secret)."""
    row = next((c for c in carriers if c["carrier"] == code), None)
    if row is None:
        return {"carrier": "", "source": "pool"}
    return {key: row[key] for key in ("carrier", "source", "shop", "endpoint", "partner", "account",
                                      "template_url", "secret_set")}


def _result(t: dict) -> dict | None:
    done, carrier = request.args.get("done", ""), request.args.get("carrier", "")
    if done in ("account", "local"):
        source = t.get(f"src_{request.args.get('source', '')}", "")
        return {"ok": True, "text": t[f"done_{done}"].format(carrier=carrier, source=source)}
    return None


def _actor():
    return stockdesk.actor_of(current_principal())


@web.get("/carriers")
@requires("shops.manage")
def carriers_page():
    return _page()


@web.post("/carriers/account")
@requires("shops.manage")
def carrier_account_save():
    """Set a carrier's account: a refused form comes back with what was typed (but the secret)."""
    form = request.form
    values = {key: form.get(key, "").strip()[:300] for key in ("shop", "endpoint", "partner", "account",
                                                               "template_url")}
    code, source = form.get("carrier", "").strip().upper()[:32], form.get("source", "")
    try:
        carrier_accounts.set_account(code, source, _actor(), secret=form.get("secret", "")[:200], **values)
    except DomainError as exc:
        t = TEXTS[_lang()]
        words = text(exc.code, select_locale())
        if exc.params.get("field"):
            words += f" ({t['field']}: {exc.params['field']})"
        return _page({"ok": False, "text": words}, form={"carrier": code, "source": source, **values},
                     status=exc.http_status)
    return redirect(url_for("web.carriers_page", done="local" if source == "local" else "account", carrier=code,
                            source=source))


@web.post("/carriers/pool")
@requires("shops.manage")
def carrier_pool_import():
    """A pool file uploaded from the form: the page again with what was added and each problem."""
    t = TEXTS[_lang()]
    code = request.form.get("carrier", "").strip().upper()[:32]
    upload = request.files.get("file")
    if not carrier_accounts.CODE.match(code) or upload is None or not upload.filename:
        words = text("bad_carrier_account", select_locale()) + f" ({t['field']}: {'file' if code else 'carrier'})"
        return _page({"ok": False, "text": words}, status=422)
    name = Path(upload.filename).name[:100] or "pool.txt"
    with tempfile.TemporaryDirectory(prefix="wf-pool-") as folder:
        path = Path(folder) / name
        upload.save(path)
        report = waybills.import_pool(code, path, _actor())
    problems = report["problems"]
    result = {"ok": True, "warn": bool(problems), "text": t["done_pool"].format(carrier=code, added=report["added"],
                                                                duplicates=report["duplicates"],
                                                                problems=len(problems)),
              "problems": problems[:SHOWN_PROBLEMS],
              "more": t["more"].format(n=len(problems) - SHOWN_PROBLEMS) if len(problems) > SHOWN_PROBLEMS else ""}
    return _page(result)
