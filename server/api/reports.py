"""Reports (BI, 报表) over HTTP: each report's figures as JSON, filtered as the pages filter them,
and a refresh of the daily sales aggregate. docs/reports.md says what each figure is; the xlsx
exports are the pages' (/reports/<report>/export.xlsx)."""
from apiflask.fields import Boolean, Date, Dict, Float, Integer, List, String
from apiflask.validators import Length, OneOf
from flask import current_app

from server.api import api
from server.api.schemas import Schema
from server.guard import current_principal, requires
from server.services import reports
from server.services.errors import Forbidden, NotFound
from server.services.reports import facts
from server.services.reports import filters as flt
from server.services.reports.sales import GRAINS
from server.services.reports.skus import MEASURES

MONEY_KEYS = ("cogs_fen", "margin_fen", "margin_pct")


class ReportQuery(Schema):
    since = Date(load_default=None, metadata={"description": "first day (the warehouse's time zone); "
                                                             "default: 29 days before until"})
    until = Date(load_default=None, metadata={"description": "last day, included; default: today"})
    region = String(load_default=None, validate=OneOf(tuple(flt.REGIONS)),
                    metadata={"description": "大区: " + ", ".join(flt.REGIONS)})
    province = String(load_default=None, validate=Length(1, 32), metadata={"description": "as the orders name it"})
    channel = String(load_default=None, validate=Length(1, 16))
    shop = String(load_default=None, validate=Length(1, 64))
    grain = String(load_default="day", validate=OneOf(GRAINS), metadata={"description": "sales and margin trends"})
    measure = String(load_default="revenue", validate=OneOf(MEASURES), metadata={"description": "SKU ranking"})


class ReportOut(Schema):
    report = String()
    filters = Dict(keys=String(), values=String())
    grain = String()
    measure = String()
    rows = List(Dict(), metadata={"description": "the report's table; money in fen (*_fen)"})
    totals = Dict(allow_none=True)
    last_year_totals = Dict()
    classes = Dict(metadata={"description": "SKU ranking: SKUs and share of the measure per ABC class"})
    skus = Integer()
    by_carrier = List(Dict())
    by_province = List(Dict())
    by_reason = List(Dict())
    by_hour = Dict(metadata={"description": "productivity: units by hour of the day, per '<pick|pack>:<person>'"})


class RefreshIn(Schema):
    full = Boolean(load_default=False, metadata={"description": "rebuild every day, not only the changed ones"})


class ReportRefreshOut(Schema):
    full = Boolean()
    days = Integer(metadata={"description": "days recomputed"})
    rows = Integer()
    seconds = Float()
    exact = Boolean(metadata={"description": "the aggregate equals the order lines after the refresh"})


@api.get("/reports/<report>")
@requires("reports.read")
@api.input(ReportQuery, location="query")
@api.output(ReportOut)
@api.doc(summary="One report's figures: sales, skus, margin (finance.read too), logistics, returns, productivity, "
                 "inventory", security="BearerAuth")
def report_figures(report, query_data):
    if report not in reports.REPORTS:
        raise NotFound(f"no report {report!r}: one of {', '.join(reports.REPORTS)}", report=report[:64])
    money = current_principal().can("finance.read")
    if report in reports.NEEDS_FINANCE and not money:
        raise Forbidden(f"{current_principal().user.code} may not finance.read")
    zone = current_app.config["WF"]["TIMEZONE"]
    facts.refresh_if_stale(zone, current_app.config["WF"]["REPORTS_REFRESH_S"])
    known = facts.choices()
    q = query_data
    f = flt.make(q["since"], q["until"], zone=zone, province=q["province"], region=q["region"], channel=q["channel"],
                 shop=q["shop"], known_provinces=known["provinces"])
    measure = q["measure"] if money or q["measure"] != "margin" else "revenue"
    result = reports.run(report, f, {"grain": q["grain"], "measure": measure})
    if not money:
        for row in result["rows"]:
            for key in MONEY_KEYS:
                row.pop(key, None)
    return result


@api.post("/reports/refresh")
@requires("reports.read")
@api.input(RefreshIn)
@api.output(ReportRefreshOut)
@api.doc(summary="Bring the daily sales aggregate up to date (the changed days, or all) and check it",
         security="BearerAuth")
def refresh_reports(json_data):
    zone = current_app.config["WF"]["TIMEZONE"]
    done = facts.refresh(zone, full=json_data["full"])
    return dict(done, exact=facts.verify(zone)["exact"])
