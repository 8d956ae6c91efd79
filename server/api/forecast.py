"""Demand forecasts (需求预测), stock alerts and the purchase plan (采购计划) over HTTP.
See docs/forecast.md for what each number means."""
from apiflask.fields import Date, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import current_app

from server.api import api
from server.api.schemas import Schema
from server.guard import current_principal, requires
from server.models import Product, Warehouse
from server.models.stockcontrol import ALERT_KINDS, SB_CLASSES
from server.services.errors import NotFound
from server.services.forecast import alerts, plan, series
from server.services.forecast.settings import Settings
from server.services.stock import desk as stockdesk


def _settings() -> Settings:
    return Settings.of(current_app.config["WF"])


# --- shapes -------------------------------------------------------------------------------------

class RunIn(Schema):
    sku = String(load_default=None, validate=Length(1, 64), metadata={"description": "only this SKU"})
    warehouse = String(load_default=None, validate=Length(1, 32), metadata={"description": "only this warehouse"})


class ClassOut(Schema):
    skus = Integer()
    mase = Float(allow_none=True, metadata={"description": "mean MASE of the class's SKUs on the 28-day holdout"})
    bias = Float(allow_none=True, metadata={"description": "mean bias: (forecast − actual) / actual on the holdout"})


class RunOut(Schema):
    made_on = String()
    skus = Integer()
    seconds = Float()
    classes = Dict(keys=String(), values=Nested(ClassOut))
    reasons = Dict(keys=String(), values=Integer(), metadata={"description": "SKUs with no or a flat forecast, by why"})
    methods = Dict(keys=String(), values=Integer())
    alerts = Dict(keys=String(), values=Integer(), metadata={"description": "raised and closed"})


class ForecastQuery(Schema):
    warehouse = String(load_default=None, validate=Length(1, 32))
    sku = String(load_default=None, validate=Length(1, 64))
    sb_class = String(load_default=None, validate=OneOf(SB_CLASSES))
    limit = Integer(load_default=100, validate=Range(1, 1000))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class ForecastOut(Schema):
    sku = String()
    name = String()
    warehouse = String()
    made_on = String()
    sb_class = String(metadata={"description": "smooth | erratic | intermittent | lumpy; empty without a class"})
    adi = Float(allow_none=True, metadata={"description": "average demand interval: days / days with demand"})
    cv2 = Float(allow_none=True, metadata={"description": "squared coefficient of variation of the demand sizes"})
    method = String(metadata={"description": "AutoETS, CrostonSBA, TSB, ADIDA, or flat"})
    per_day = Float()
    sigma = Float(metadata={"description": "the one-day forecast error's spread (RMSE on the holdout)"})
    mase = Float(allow_none=True)
    bias = Float(allow_none=True)
    reason = String(metadata={"description": "why there is no forecast or a flat one"})
    daily = List(Float())
    lead_time_days = Integer()
    lead_time_demand = Float()
    safety_stock = Float()
    reorder_point = Float()
    available = Integer()
    reserved = Integer()
    in_transit = Integer()
    position = Integer(metadata={"description": "available + in transit − reserved"})
    days_of_cover = Float(allow_none=True)
    order_qty = Integer()
    supplier = String(allow_none=True)
    moq = Integer(allow_none=True)
    pack_size = Integer(allow_none=True)


class ForecastList(Schema):
    items = List(Nested(ForecastOut))
    total = Integer()
    classes = Dict(keys=String(), values=Nested(ClassOut))


class ChartQuery(Schema):
    warehouse = String(required=True, validate=Length(1, 32))


class ChartOut(Schema):
    dates = List(String())
    actual = List(Float(allow_none=True))
    holdout = List(Float(allow_none=True), metadata={"description": "the method's forecast of the held-out days"})
    forecast = List(Float(allow_none=True))
    promotions = List(String())
    result = Dict()


class AlertQuery(Schema):
    state = String(load_default="open", validate=OneOf(("open", "closed", "all")))
    kind = String(load_default=None, validate=OneOf(ALERT_KINDS))
    warehouse = String(load_default=None, validate=Length(1, 32))
    limit = Integer(load_default=200, validate=Range(1, 1000))


class AlertOut(Schema):
    id = Integer()
    kind = String()
    sku = String()
    name = String()
    warehouse = String()
    raised_on = Date()
    state = String()
    detail = Dict()


class AlertList(Schema):
    items = List(Nested(AlertOut))


class PlanQuery(Schema):
    warehouse = String(load_default=None, validate=Length(1, 32))


class SuggestionOut(ForecastOut):
    supplier_name = String(allow_none=True)
    unit_cost_fen = Integer(allow_none=True)
    blocked = String(metadata={"description": "no_supplier | on_open_order; empty: it goes on a draft"})


class PlanOut(Schema):
    items = List(Nested(SuggestionOut))


class DraftOut(Schema):
    po = String()
    supplier = String()
    warehouse = String()
    lines = Integer()
    total_fen = Integer()


class DraftsOut(Schema):
    created = List(Nested(DraftOut))


# --- routes -------------------------------------------------------------------------------------

@api.post("/forecasts/run")
@requires("purchasing.write")
@api.input(RunIn)
@api.output(RunOut)
@api.doc(summary="Forecast every SKU with sales or stock (or one), store the forecasts, raise and close the "
                 "stock alerts", security="BearerAuth")
def run_forecasts(json_data):
    from server.services.forecast import run  # statsforecast takes a second to import: only a run needs it
    return run.run(_settings(), sku=json_data["sku"], warehouse=json_data["warehouse"])


@api.get("/forecasts")
@requires("stock.read")
@api.input(ForecastQuery, location="query")
@api.output(ForecastList)
@api.doc(summary="Each SKU's latest forecast with its class, accuracy, reorder point and days of cover",
         security="BearerAuth")
def list_forecasts(query_data):
    rows = plan.overview(_settings(), warehouse=query_data["warehouse"], sku=query_data["sku"])
    if query_data["sb_class"]:
        rows = [r for r in rows if r["sb_class"] == query_data["sb_class"]]
    start = query_data["offset"]
    return {"items": rows[start:start + query_data["limit"]], "total": len(rows),
            "classes": series.class_summary(rows)}


@api.get("/forecasts/<sku>/chart")
@requires("stock.read")
@api.input(ChartQuery, location="query")
@api.output(ChartOut)
@api.doc(summary="A SKU's actual daily demand against its forecast (the holdout and the days ahead)",
         security="BearerAuth")
def forecast_chart(sku, query_data):
    from server.services.forecast import run  # statsforecast takes a second to import: only a chart needs it
    product = Product.get_or_none(Product.sku == sku)
    warehouse = Warehouse.get_or_none(Warehouse.code == query_data["warehouse"])
    if product is None or warehouse is None:
        raise NotFound(f"no SKU {sku!r} or warehouse {query_data['warehouse']!r}", sku=sku)
    return run.chart(product.id, warehouse.id, _settings())


@api.get("/stock-alerts")
@requires("stock.read")
@api.input(AlertQuery, location="query")
@api.output(AlertList)
@api.doc(summary="Stock alerts: stock-out risk, overstock, slow movers, demand drops", security="BearerAuth")
def list_stock_alerts(query_data):
    return {"items": alerts.listing(query_data["state"], query_data["kind"], query_data["warehouse"],
                                    query_data["limit"])}


@api.get("/purchase-plan")
@requires("purchasing.read")
@api.input(PlanQuery, location="query")
@api.output(PlanOut)
@api.doc(summary="What to order now: SKUs at or below their reorder point, rounded to MOQ and packs",
         security="BearerAuth")
def purchase_plan(query_data):
    return {"items": plan.suggestions(_settings(), warehouse=query_data["warehouse"])}


@api.post("/purchase-plan")
@requires("purchasing.write")
@api.input(PlanQuery)
@api.output(DraftsOut, status_code=201)
@api.doc(summary="Write the plan's suggestions as draft purchase orders, one per supplier and warehouse",
         security="BearerAuth")
def create_purchase_plan(json_data):
    actor = stockdesk.actor_of(current_principal())
    return {"created": plan.create_drafts(actor, _settings(), warehouse=json_data["warehouse"])}
