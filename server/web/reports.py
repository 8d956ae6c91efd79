"""The office's reports (报表): ``/reports/<report>`` draws one report with ECharts (served from
static/vendor) over a table of its figures, filtered by period, region or province, channel and
shop; ``/reports/<report>/export.xlsx`` downloads the same table as a workbook. The pages' words
are in ``WORDS`` and ``COLUMNS`` (English, 中文); docs/reports.md says what each figure is.
"""
from __future__ import annotations

import datetime as dt

from flask import Response, abort, current_app, render_template, request

from server.guard import current_principal, requires
from server.messages import text
from server.services import reports
from server.services.errors import DomainError, Forbidden
from server.services.reports import export, facts
from server.services.reports import filters as flt
from server.services.reports.sales import GRAINS
from server.services.reports.skus import MEASURES
from server.web import select_locale, web

WORDS = {
    "reports": ("Reports", "报表"),
    "sales": ("Sales trend", "销售趋势"), "skus": ("SKU ranking", "商品排行"), "margin": ("Margin trend", "毛利趋势"),
    "logistics": ("Logistics timeliness", "物流时效"), "returns": ("Return rate", "退货率"),
    "productivity": ("Pick/pack productivity", "拣货/打包人效"), "inventory": ("Inventory turnover", "库存周转"),
    "since": ("From", "开始日期"), "until": ("To", "结束日期"), "grain": ("By", "粒度"),
    "day": ("Day", "日"), "week": ("Week", "周"), "month": ("Month", "月"),
    "measure": ("Rank by", "排序依据"), "revenue": ("Revenue", "销售额"), "units": ("Units", "销量"),
    "margin_m": ("Margin", "毛利"),
    "region": ("Region", "大区"), "province": ("Province", "省份"), "channel": ("Channel", "渠道"),
    "shop": ("Shop", "店铺"), "all_regions": ("All regions", "全部大区"), "all_provinces": ("All provinces", "全部省份"),
    "all_channels": ("All channels", "全部渠道"), "all_shops": ("All shops", "全部店铺"),
    "apply": ("Apply", "查询"), "export": ("Export xlsx", "导出 Excel"),
    "as_of": ("Sales aggregate refreshed at {at}", "销售汇总更新于 {at}"),
    "explain": ("What each figure means: docs/reports.md. Money in yuan.", "各指标含义见 docs/reports.md。金额单位：元。"),
    "no_rows": ("Nothing in this period.", "该期间没有数据。"),
    "last_year": ("Last year", "去年同期"), "this_year": ("This period", "本期"),
    "orders_axis": ("Orders", "订单数"), "yuan": ("Yuan", "元"), "hours": ("Hours", "小时"), "pct": ("%", "%"),
    "by_carrier": ("By carrier", "按快递公司"), "by_province": ("By province", "按省份"),
    "by_reason": ("By reason", "按退货原因"), "total": ("Total", "合计"),
    "cum": ("Cumulative share", "累计占比"), "margin_pct_axis": ("Margin %", "毛利率 %"),
    "pick": ("Pick", "拣货"), "pack": ("Pack", "打包"), "no_margin": ("—", "—"),
    "filters": ("Filters", "筛选条件"), "generated": ("Generated", "生成时间"),
}
TILES = {  # (key in totals, word) shown above each report's chart
    "sales": (("revenue_fen", ("Revenue", "销售额")), ("orders", ("Orders", "订单数")), ("units", ("Units", "销量")),
              ("aov_fen", ("Average order", "客单价")), ("refund_fen", ("Refunds", "退款"))),
    "skus": (("revenue_fen", ("Revenue", "销售额")), ("units", ("Units", "销量")), ("refund_fen", ("Refunds", "退款"))),
    "margin": (("revenue_fen", ("Net revenue", "净销售额")), ("shipped_revenue_fen", ("Shipped revenue", "已发货销售额")),
               ("margin_fen", ("Gross margin", "毛利")), ("margin_pct", ("Margin %", "毛利率 %"))),
    "logistics": (("parcels", ("Parcels", "包裹数")), ("shipped_24h_pct", ("Shipped in 24 h %", "24 小时发货率 %")),
                  ("paid_to_shipped_h", ("Paid → shipped, h", "付款→发货（小时）")),
                  ("shipped_to_signed_h", ("Shipped → signed, h", "发货→签收（小时）"))),
    "returns": (("sold", ("Units sold", "销售件数")), ("refunded", ("Units refunded", "退款件数")),
                ("rate_pct", ("Return rate %", "退货率 %")), ("refund_fen", ("Refunded", "退款金额"))),
    "productivity": (),
    "inventory": (("closing", ("On hand at the end", "期末库存")), ("shipped", ("Shipped", "出库件数")),
                  ("turnover", ("Turnover", "周转次数")), ("days_of_cover", ("Days of cover", "可售天数"))),
}
COLUMNS = {
    "sales": (("period", "Period", "期间"), ("orders", "Orders", "订单数"), ("lines", "Lines", "行数"),
              ("units", "Units", "销量"), ("revenue_fen", "Revenue", "销售额"), ("refund_fen", "Refunds", "退款"),
              ("last_year_orders", "Orders last year", "去年订单数"),
              ("last_year_revenue_fen", "Revenue last year", "去年销售额"), ("growth_pct", "Growth %", "同比 %")),
    "skus": (("sku", "SKU", "商品编码"), ("name", "Item", "商品"), ("abc", "ABC", "ABC"), ("orders", "Orders", "订单数"),
             ("units", "Units", "销量"), ("revenue_fen", "Revenue", "销售额"), ("refund_fen", "Refunds", "退款"),
             ("cogs_fen", "Cost of goods", "销售成本"), ("margin_fen", "Gross margin", "毛利"),
             ("margin_pct", "Margin %", "毛利率 %"), ("cum_pct", "Cumulative %", "累计占比 %")),
    "margin": (("period", "Period", "期间"), ("revenue_fen", "Net revenue", "净销售额"),
               ("shipped_revenue_fen", "Shipped revenue", "已发货销售额"), ("cogs_fen", "Cost of goods", "销售成本"),
               ("fees_fen", "Fees", "平台及支付费用"), ("freight_fen", "Net freight", "净运费"),
               ("margin_fen", "Gross margin", "毛利"), ("margin_pct", "Margin %", "毛利率 %")),
    "logistics": (("key", "Carrier", "快递公司"), ("parcels", "Parcels", "包裹数"), ("shipped", "Shipped", "已发货"),
                  ("paid_to_shipped_h", "Paid → shipped, h", "付款→发货（小时）"),
                  ("shipped_24h_pct", "In 24 h %", "24 小时内 %"), ("shipped_48h_pct", "In 48 h %", "48 小时内 %"),
                  ("signed", "Signed", "已签收"), ("shipped_to_signed_h", "Shipped → signed, h", "发货→签收（小时）"),
                  ("paid_to_signed_h", "Paid → signed, h", "付款→签收（小时）"), ("tracked", "With tracking", "有物流轨迹")),
    "returns": (("sku", "SKU", "商品编码"), ("name", "Item", "商品"), ("sold", "Sold", "销售件数"),
                ("refunded", "Refunded", "退款件数"), ("rate_pct", "Return rate %", "退货率 %"),
                ("returned", "Back at the bench", "退回入库"), ("refund_fen", "Refunded amount", "退款金额"),
                ("reasons", "By reason", "原因分布")),
    "productivity": (("kind", "Work", "作业"), ("user", "Person", "工号"), ("name", "Name", "姓名"),
                     ("lines", "Lines", "行数"), ("units", "Units", "件数"), ("hours", "Hours worked", "作业小时数"),
                     ("units_per_hour", "Units an hour", "每小时件数")),
    "inventory": (("sku", "SKU", "商品编码"), ("name", "Item", "商品"), ("opening", "On hand at the start", "期初库存"),
                  ("closing", "On hand at the end", "期末库存"), ("shipped", "Shipped", "出库件数"),
                  ("turnover", "Turnover", "周转次数"), ("days_of_cover", "Days of cover", "可售天数")),
}
EXTRA = {  # the second table of a report: (result key, columns)
    "logistics": ("by_province", (("key", "Province", "省份"),) + COLUMNS["logistics"][1:]),
    "returns": ("by_reason", (("reason", "Reason", "原因"), ("refunds", "Refunds", "退款单数"),
                              ("refunded", "Units", "件数"), ("share_pct", "Of units sold %", "占销售件数 %"),
                              ("refund_fen", "Amount", "金额"))),
}
MONEY_COLUMNS = ("cogs_fen", "margin_fen", "margin_pct")  # hidden from a role without finance.read
TOP = 20


def _pick(lang: str | None = None) -> int:
    return 0 if (lang or select_locale()) == "en" else 1


def words(lang: str | None = None) -> dict:
    pick = _pick(lang)
    table = {key: pair[pick] for key, pair in WORDS.items()}
    table["regions"] = {code: names[pick] for code, (names, _) in flt.REGIONS.items()}
    return table


def columns(report: str, lang: str | None = None, money: bool = True, extra: bool = False) -> list[tuple[str, str]]:
    pick = _pick(lang) + 1
    source = EXTRA[report][1] if extra else COLUMNS[report]
    return [(c[0], c[pick]) for c in source if money or c[0] not in MONEY_COLUMNS]


def _date(name: str) -> dt.date | None:
    raw = (request.args.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _arg(name: str, allowed=None) -> str | None:
    value = (request.args.get(name) or "").strip()[:64] or None
    return value if value is None or allowed is None or value in allowed else None


def _filters(known: dict) -> flt.Filters:
    zone = current_app.config["WF"]["TIMEZONE"]
    return flt.make(_date("since"), _date("until"), zone=zone, province=_arg("province", known["provinces"]),
                    region=_arg("region", flt.REGIONS), channel=_arg("channel", known["channels"]),
                    shop=_arg("shop", known["shops"]), known_provinces=known["provinces"])


def _options() -> dict:
    return {"grain": _arg("grain", GRAINS) or "day", "measure": _arg("measure", MEASURES) or "revenue"}


def _money_allowed() -> bool:
    return current_principal().can("finance.read")


def _run(report: str) -> tuple[dict, flt.Filters, dict]:
    if report not in reports.REPORTS:
        abort(404)
    if report in reports.NEEDS_FINANCE and not _money_allowed():
        raise Forbidden(f"{current_principal().user.code} may not finance.read")
    zone = current_app.config["WF"]["TIMEZONE"]
    facts.refresh_if_stale(zone, current_app.config["WF"]["REPORTS_REFRESH_S"])
    known = facts.choices()
    f = _filters(known)
    options = _options()
    if options["measure"] == "margin" and not _money_allowed():
        options["measure"] = "revenue"
    return reports.run(report, f, options), f, known


def _yuan(fen) -> float | None:
    return None if fen is None else round(fen / 100, 2)


def chart(report: str, result: dict, w: dict, lang: str | None = None) -> dict:
    """What reports.js draws: categories, series (bar or line, on the left or right axis)."""
    rows = result["rows"]
    if report == "sales":
        return {"x": [r["period"] for r in rows], "axes": [w["yuan"], w["orders_axis"]], "series": [
            {"name": w["this_year"], "type": "line", "data": [_yuan(r["revenue_fen"]) for r in rows]},
            {"name": w["last_year"], "type": "line", "dashed": True, "data": [_yuan(r["last_year_revenue_fen"]) for r in rows]},
            {"name": w["orders_axis"], "type": "bar", "axis": 1, "data": [r["orders"] for r in rows]}]}
    if report == "skus":
        top = rows[:TOP]
        key = {"revenue": "revenue_fen", "units": "units", "margin": "margin_fen"}[result["measure"]]
        money = key.endswith("_fen")
        return {"x": [r["sku"] for r in top], "axes": [w["yuan"] if money else w["units"], w["cum"]],
                "colors": [{"A": "#5470c6", "B": "#91cc75", "C": "#fac858"}[r["abc"]] for r in top], "series": [
                    {"name": w[{"revenue": "revenue", "units": "units", "margin": "margin_m"}[result["measure"]]],
                     "type": "bar", "by_color": True,
                     "data": [_yuan(r[key]) if money else r[key] for r in top]},
                    {"name": w["cum"], "type": "line", "axis": 1, "data": [r["cum_pct"] for r in top]}]}
    if report == "margin":
        return {"x": [r["period"] for r in rows], "axes": [w["yuan"], w["margin_pct_axis"]], "series": [
            {"name": dict(TILES["margin"])["shipped_revenue_fen"][_pick(lang)], "type": "bar",
             "data": [_yuan(r["shipped_revenue_fen"]) for r in rows]},
            {"name": dict(TILES["margin"])["margin_fen"][_pick(lang)], "type": "bar",
             "data": [_yuan(r["margin_fen"]) for r in rows]},
            {"name": w["margin_pct_axis"], "type": "line", "axis": 1, "data": [r["margin_pct"] for r in rows]}]}
    if report == "logistics":
        names = {c[0]: c[1 + _pick(lang)] for c in COLUMNS["logistics"]}
        return {"x": [r["key"] or "—" for r in rows], "axes": [w["hours"], "%"], "series": [
            {"name": names[k], "type": "bar", "data": [None if r[k] is None else round(r[k], 1) for r in rows]}
            for k in ("paid_to_shipped_h", "shipped_to_signed_h", "paid_to_signed_h")]
            + [{"name": names["shipped_24h_pct"], "type": "line", "axis": 1, "data": [r["shipped_24h_pct"] for r in rows]}]}
    if report == "returns":
        top = [r for r in rows if r["refunded"]][:TOP]
        return {"x": [r["sku"] for r in top], "axes": ["%"], "series": [
            {"name": COLUMNS["returns"][4][1 + _pick(lang)], "type": "bar", "data": [r["rate_pct"] for r in top]}],
            "pie": {"name": w["by_reason"], "data": [{"name": r["reason"] or "—", "value": r["refunded"]}
                                                    for r in result["by_reason"]]}}
    if report == "productivity":
        return {"x": [f"{h:02d}" for h in range(24)], "axes": [w["units"]], "stacked": True, "series": [
            {"name": f"{w[key.split(':', 1)[0]]} {key.split(':', 1)[1]}", "type": "bar", "data": values}
            for key, values in sorted(result["by_hour"].items())]}
    top = [r for r in rows if r["days_of_cover"] is not None][:TOP]
    return {"x": [r["sku"] for r in top], "axes": [dict(TILES["inventory"])["days_of_cover"][_pick(lang)],
                                                    dict(TILES["inventory"])["turnover"][_pick(lang)]], "series": [
        {"name": dict(TILES["inventory"])["days_of_cover"][_pick(lang)], "type": "bar",
         "data": [r["days_of_cover"] for r in top]},
        {"name": dict(TILES["inventory"])["turnover"][_pick(lang)], "type": "line", "axis": 1,
         "data": [r["turnover"] for r in top]}]}


def _strip_money(result: dict) -> dict:
    for row in result.get("rows", []):
        for key in MONEY_COLUMNS:
            row.pop(key, None)
    return result


def _shown(report: str):
    """The report's figures as this caller may see them (without margin and cost unless they may
    read money): the result, its filters, the choices the filters offer, and whether money is shown."""
    result, f, known = _run(report)
    money = _money_allowed()
    if not money:
        _strip_money(result)
    return result, f, known, money


@web.get("/reports")
@requires("reports.read")
def reports_index():
    return report_page("sales")


@web.get("/reports/<report>")
@requires("reports.read")
def report_page(report):
    try:
        result, f, known, money = _shown(report)
    except Forbidden:
        raise
    except DomainError as exc:
        return render_template("message.html", message=text(exc.code, select_locale())), exc.http_status
    w = words()
    pick = _pick()
    totals = result.get("totals") or {}
    tiles = [(word[pick], totals.get(key), key) for key, word in TILES[report] if key in totals]
    extra = None
    if report in EXTRA:
        key, _ = EXTRA[report]
        extra = {"columns": columns(report, money=money, extra=True), "rows": result[key],
                 "title": w[key]}
    return render_template("reports.html", w=w, report=report, reports=[r for r in reports.REPORTS
                                                                        if money or r not in reports.NEEDS_FINANCE],
                           result=result, f=f, known=known, tiles=tiles, columns=columns(report, money=money),
                           extra=extra, chart=chart(report, result, w), options=_options(), grains=GRAINS,
                           measures=[m for m in MEASURES if money or m != "margin"], as_of=facts.refreshed_at(),
                           regions=flt.REGIONS, query=request.query_string.decode())


def export_bytes(report: str, result: dict, lang: str, money: bool = True) -> bytes:
    """The report's table (and its second table) as an xlsx workbook in ``lang``."""
    w = words(lang)
    labels = (("since", w["since"]), ("until", w["until"]), ("region", w["region"]), ("province", w["province"]),
              ("channel", w["channel"]), ("shop", w["shop"]))
    shown = result["filters"]
    filters = [(label, shown.get(key) or "—") for key, label in labels]
    if "grain" in result:
        filters.append((w["grain"], w[result["grain"]]))
    sheets = [(w[report], columns(report, lang, money), result["rows"])]
    if report in EXTRA:
        key, _ = EXTRA[report]
        sheets.append((w[key], columns(report, lang, money, extra=True), result[key]))
    return export.workbook(w[report], filters, sheets)


@web.get("/reports/<report>/export.xlsx")
@requires("reports.read")
def report_export(report):
    try:
        result, f, _, money = _shown(report)
    except Forbidden:
        raise
    except DomainError as exc:
        return render_template("message.html", message=text(exc.code, select_locale())), exc.http_status
    data = export_bytes(report, result, select_locale(), money)
    name = f"{report}-{f.since.isoformat()}-{f.until.isoformat()}.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
