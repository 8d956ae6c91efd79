"""The office's customer pages (CRM, 客户): ``/customers`` (the customers with their RFM scores and
tags, the tag trend as a chart), ``/customers/due`` (the day's due-to-reorder list, its CSV for the
SMS tool and the opt-out button) and ``/customers/repurchase`` (the model per SKU). Phone numbers,
receivers' names and nicks are masked for a user without ``pii.read``. The pages' own words are in
``WORDS`` (English, 中文); docs/customers.md explains each figure.
"""
from __future__ import annotations

import datetime as dt

from flask import Response, redirect, render_template, request, url_for

from server.guard import current_principal, requires
from server.messages import text
from server.services.customers import repurchase, views
from server.services.customers.common import local_day, today
from server.services.errors import DomainError
from server.services.stock import desk as stockdesk
from server.web import select_locale, web

WORDS = {
    "customers": ("Customers", "客户"), "due": ("Due to reorder", "复购提醒"), "repurchase": ("Repurchase cycles", "复购周期"),
    "nick": ("Buyer", "买家"), "name": ("Receiver", "收件人"), "phone": ("Phone", "手机"), "channel": ("Channel", "渠道"),
    "shop": ("Shop", "店铺"), "province": ("Province", "省份"), "orders": ("Orders", "订单数"), "units": ("Units", "件数"),
    "spent": ("Spent", "消费金额"), "last_order": ("Last order", "最近下单"), "rfm": ("RFM", "RFM"),
    "tags": ("Tags", "标签"), "all_tags": ("All tags", "全部标签"), "search": ("Buyer", "买家"),
    "filter": ("Filter", "筛选"), "total": ("{n} customers", "共 {n} 位客户"),
    "repeat": ("{n} bought twice or more", "{n} 位复购客户"), "opted_out": ("{n} opted out", "{n} 位已退订"),
    "trend": ("Customers per tag, by refresh day", "各标签客户数（按刷新日）"),
    "none": ("No customers yet: run", "还没有客户数据，请运行"),
    "masked": ("Phone numbers and names are masked: your role may not read personal data.",
               "手机号和姓名已脱敏：您的角色无权查看个人信息。"),
    "explain": ("RFM: recency, frequency, monetary, each scored 1–5 by quantile (5 best). Tags come from the rules "
                "in rules/customers.yaml. What each figure means: docs/customers.md.",
                "RFM：最近购买（R）、购买频次（F）、消费金额（M），按分位数各打 1–5 分（5 分最好）。标签由 rules/customers.yaml "
                "中的规则计算。各数字含义见 docs/customers.md。"),
    "sku": ("SKU", "商品编码"), "item": ("Item", "商品"), "last_bought": ("Last bought", "上次购买"),
    "due_on": ("Due", "预计复购日"), "typical": ("Typical interval", "典型间隔"), "days": ("{n} days", "{n} 天"),
    "csv": ("Download CSV for the SMS tool", "下载短信工具用 CSV"), "day": ("Day", "日期"), "show": ("Show", "查看"),
    "opt_out": ("Opt out", "退订"), "opted": ("opted out", "已退订"),
    "no_due": ("Nobody is due to reorder on this day.", "当天没有需要提醒复购的客户。"),
    "due_explain": ("A customer is listed when the SKU's typical interval since their last purchase is nearly up; "
                    "each purchase is listed once. Opted-out customers and masked phone numbers are left out.",
                    "客户上次购买某商品后，达到该商品的典型复购间隔时列入；每次购买只提醒一次。已退订客户和被平台脱敏的手机号不列入。"),
    "buyers": ("Buyers", "购买客户"), "repeat_buyers": ("Repeat buyers", "复购客户"),
    "repeat_share": ("Repeat rate", "复购率"), "intervals": ("Intervals", "间隔数"),
    "median": ("Median", "中位数"), "spread": ("Spread (p25–p75)", "离散（四分位）"),
    "no_model": ("too few repurchases", "复购数据不足"), "no_models": ("No SKU yet: run", "还没有数据，请运行"),
}
SHOWN = 300


def _pick() -> int:
    return 0 if select_locale() == "en" else 1


def words() -> dict:
    pick = _pick()
    return {key: pair[pick] for key, pair in WORDS.items()}


def _arg(name: str, length: int = 64) -> str | None:
    return (request.args.get(name) or "").strip()[:length] or None


def _day() -> dt.date:
    try:
        return dt.date.fromisoformat(_arg("day", 10) or "")
    except ValueError:
        return today()


@web.get("/customers")
@requires("customers.read")
def customers_page():
    principal = current_principal()
    pii = principal.can("pii.read")
    names = views.tag_names("en" if _pick() == 0 else "zh")
    tag = _arg("tag", 32)
    tag = tag if tag in names else None
    rows, total = views.listing(pii, tag=tag, text=_arg("q"), sort=_arg("sort") or "spent", limit=SHOWN)
    for row in rows:  # the day in China, as every office page shows days
        row["last_order_day"] = local_day(row["last_order_at"]) if row["last_order_at"] else None
    trend = views.tag_trend(90)
    chart = dict(trend, names=names, title=words()["trend"]) if trend["dates"] else None
    return render_template("customers.html", w=words(), rows=rows, total=total, tag=tag, tags=names, q=_arg("q"),
                           summary=views.summary(), chart=chart, pii=pii)


@web.get("/customers/due")
@requires("customers.read")
def customers_due_page():
    principal = current_principal()
    day = _day()
    return render_template("customers_due.html", w=words(), rows=repurchase.due_rows(day, principal.can("pii.read")),
                           day=day, can_write=principal.can("customers.write"), pii=principal.can("pii.read"),
                           error=_arg("error"))


@web.get("/customers/due.csv")
@requires("customers.read")
def customers_due_csv():
    day = _day()
    return Response(repurchase.due_csv(day, current_principal().can("pii.read")), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=reorder-due-{day.isoformat()}.csv"})


@web.post("/customers/<int:customer_id>/opt-out")
@requires("customers.write")
def customer_opt_out_form(customer_id):
    error = None
    try:
        views.set_opt_out(stockdesk.actor_of(current_principal()), [customer_id],
                          request.form.get("opt_out", "1") != "0", request.form.get("note", "")[:200])
    except DomainError as exc:
        error = text(exc.code, select_locale())
    back = request.form.get("day", "")[:10]
    return redirect(url_for("web.customers_due_page", day=back or None, error=error))


@web.get("/customers/repurchase")
@requires("customers.read")
def customers_repurchase_page():
    rows, total = repurchase.model_rows(limit=SHOWN)
    return render_template("customers_repurchase.html", w=words(), rows=rows, total=total)
