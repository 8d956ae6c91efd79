"""The office's margin page ``/money`` (毛利): gross margin by SKU, shop, channel, day or order for
a period, with the period's totals and a chart of the margin by day; ``/money/export.xlsx`` is the
same table, every row of it, as a workbook. The page's own words are in ``WORDS`` (English, 中文);
docs/money.md explains each figure."""
from __future__ import annotations

import datetime as dt

from flask import Response, render_template, request

from server.channels.values import CHANNEL_TZ
from server.guard import requires
from server.models import Shop
from server.services.money import margin
from server.services.reports import export
from server.web import select_locale, web

WORDS = {
    "title": ("Margin", "毛利"), "explain": (
        "Sums of the order lines paid in the period. Margin and margin % count shipped lines only (their cost is "
        "fixed at scan-out). What each figure means: docs/money.md.",
        "统计期内付款的订单行合计。毛利与毛利率只计已发货的行（成本在出库时固定）。各数字含义见 docs/money.md。"),
    "first": ("From", "从"), "last": ("To", "到"), "shop": ("Shop", "店铺"), "all_shops": ("All shops", "全部店铺"),
    "channel": ("Channel", "渠道"), "all_channels": ("All channels", "全部渠道"), "group": ("By", "按"),
    "show": ("Show", "查询"), "sku": ("SKU", "商品编码"), "day": ("Day", "日期"), "order": ("Order", "订单"),
    "lines": ("Lines", "行数"), "shipped_lines": ("Shipped", "已发货"), "qty": ("Units", "件数"),
    "price": ("List value", "标价金额"), "merchant": ("Shop discounts", "商家优惠"),
    "platform": ("Platform subsidies", "平台补贴"), "paid": ("Buyer paid", "买家实付"), "refund": ("Refunds", "退款"),
    "revenue": ("Revenue", "收入"), "tax": ("VAT", "增值税"), "cogs": ("COGS", "销售成本"),
    "fees": ("Commission + payment", "佣金+手续费"), "freight": ("Freight (paid − charged)", "运费（支出−收取）"),
    "margin": ("Margin", "毛利"), "margin_pct": ("Margin %", "毛利率"), "total": ("Total", "合计"),
    "nothing": ("No order lines with money in this period: run", "该期间没有订单行金额，请运行"),
    "export": ("Export xlsx", "导出 Excel"), "external_id": ("Order", "订单号"),
    "chart": ("Margin and revenue by day", "每日收入与毛利"), "more": ("… {n} more rows: GET /api/v1/money/margin",
                                                                "……另有 {n} 行：GET /api/v1/money/margin"),
}
GROUPS = ("sku", "shop", "channel", "day", "order")
CHANNELS = ("tmall", "top", "jd", "douyin", "csv")
SHOWN = 300


def words() -> dict:
    pick = 0 if select_locale() == "en" else 1
    return {key: pair[pick] for key, pair in WORDS.items()}


def _day(name: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat((request.args.get(name) or "").strip())
    except ValueError:
        return default


def _net(row: dict) -> dict:
    row["tax_net_fen"] = row["tax_fen"] - row["refund_tax_fen"] + row["freight_tax_fen"]  # the postage's VAT too
    row["fees_net_fen"] = (row["commission_fen"] - row["refund_commission_fen"] + row["payment_fee_fen"]
                           - row["refund_payment_fee_fen"])
    row["freight_net_fen"] = row["freight_paid_fen"] - row["freight_charged_fen"]
    return row


def _asked() -> tuple[dict, str, list[str]]:
    """(the filters, the grouping, the shops to choose from) the query string asks for."""
    today = dt.datetime.now(CHANNEL_TZ).date()
    last = _day("last", today)
    first = min(_day("first", last - dt.timedelta(days=29)), last)
    shops = [code for (code,) in Shop.select(Shop.code).order_by(Shop.code).tuples()]
    shop = request.args.get("shop") or None
    shop = shop if shop in shops else None
    channel = request.args.get("channel") or None
    channel = channel if channel in CHANNELS else None
    group = request.args.get("group") if request.args.get("group") in GROUPS else "sku"
    return {"first": first, "last": last, "shop": shop, "channel": channel}, group, shops


@web.get("/money")
@requires("finance.read")
def money_page():
    filters, group, shops = _asked()
    first, last, shop, channel = filters["first"], filters["last"], filters["shop"], filters["channel"]
    rows = [_net(r) for r in margin.margin_by(group, filters, limit=SHOWN + 1)]
    totals = _net(margin.totals(filters))
    days = margin.margin_by("day", filters)
    chart = {"days": [d["day"].isoformat() for d in days], "revenue": [d["shipped_revenue_fen"] / 100 for d in days],
             "margin": [d["margin_fen"] / 100 for d in days], "labels": {"revenue": words()["revenue"],
                                                                         "margin": words()["margin"],
                                                                         "title": words()["chart"]}}
    return render_template("money.html", w=words(), rows=rows[:SHOWN], more=len(rows) > SHOWN, totals=totals,
                           group=group, groups=GROUPS, first=first, last=last, shop=shop, shops=shops,
                           channel=channel, channels=CHANNELS, chart=chart, query=request.query_string.decode())


def export_columns(group: str) -> list[tuple[str, str]]:
    """(key, heading) of the workbook's columns, the page's own, in the user's language."""
    w = words()
    keys = [("external_id", w["order"]), ("day", w["day"]), ("shop", w["shop"])] if group == "order" \
        else [(group, w[group])]
    return keys + [("lines", w["lines"]), ("shipped_lines", w["shipped_lines"]), ("qty", w["qty"]),
                   ("price_fen", w["price"]), ("merchant_discount_fen", w["merchant"]),
                   ("platform_subsidy_fen", w["platform"]), ("paid_fen", w["paid"]), ("refund_fen", w["refund"]),
                   ("revenue_fen", w["revenue"]), ("tax_net_fen", w["tax"]), ("cogs_fen", w["cogs"]),
                   ("fees_net_fen", w["fees"]), ("freight_net_fen", w["freight"]), ("margin_fen", w["margin"]),
                   ("margin_pct", w["margin_pct"])]


def _pct(row: dict) -> dict:
    row["margin_pct"] = round(row["margin_bp"] / 100, 2) if row["margin_bp"] is not None else None
    return row


@web.get("/money/export.xlsx")
@requires("finance.read")
def money_export():
    """Every row the page's filters give (the page shows the first SHOWN), then the totals."""
    filters, group, _ = _asked()
    w = words()
    rows = [_pct(_net(r)) for r in margin.margin_by(group, filters, limit=export.XLSX_ROWS)]
    first_key = export_columns(group)[0][0]
    rows.append(_pct(_net(dict(margin.totals(filters), **{first_key: w["total"]}))))
    shown = [(w["first"], filters["first"].isoformat()), (w["last"], filters["last"].isoformat()),
             (w["shop"], filters["shop"] or w["all_shops"]), (w["channel"], filters["channel"] or w["all_channels"]),
             (w["group"], w[group])]
    data = export.workbook(w["title"], shown, [(w["title"], export_columns(group), rows)])
    name = f"margin-{group}-{filters['first'].isoformat()}-{filters['last'].isoformat()}.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
