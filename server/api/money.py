"""Money per order line, fee rates, unit costs, margin and stock value over HTTP (每单核算, 毛利).
Reading needs ``finance.read``; changing a rate, a cost or a charge ``finance.write``.
See docs/money.md for what each figure means."""
from apiflask.fields import Boolean, Date, DateTime, Dict, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from flask import current_app

from server.api import api
from server.api.schemas import Integer, Schema, refresh_run_out
from server.guard import current_principal, requires
from server.models import Order, Product, PurchaseOrder, Warehouse
from server.models.base import as_utc
from server.models.money import CHARGE_KINDS, FEE_KINDS
from server.services import refresh_runs
from server.services.errors import DomainError, NotFound
from server.services.money import costing, margin, rates
from server.services.money import lines as line_money

FEN = Range(0, 10 ** 9)
CODE = Length(1, 64)


def _warehouse(code):
    if code is None:
        return None
    found = Warehouse.get_or_none(Warehouse.code == code)
    if found is None:
        raise NotFound(f"no warehouse {code!r}", warehouse=code)
    return found


def _product(sku):
    found = Product.get_or_none(Product.sku == sku)
    if found is None:
        raise NotFound(f"no SKU {sku!r}", sku=sku)
    return found


# --- shapes -------------------------------------------------------------------------------------

class MarginQuery(Schema):
    group = String(load_default="sku", validate=OneOf(margin.GROUPS))
    first = Date(load_default=None, metadata={"description": "the first China day (paid)"})
    last = Date(load_default=None)
    shop = String(load_default=None, validate=CODE)
    channel = String(load_default=None, validate=Length(1, 16))
    sku = String(load_default=None, validate=CODE)
    province = String(load_default=None, validate=Length(1, 32))
    shipped = Boolean(load_default=False, metadata={"description": "only lines whose cost is fixed"})
    limit = Integer(load_default=200, validate=Range(1, 10000))
    offset = Integer(load_default=0, validate=Range(0, 10 ** 9))


class MoneyFiguresOut(Schema):
    """The figures of a line's money that a line and a group of lines both have."""
    qty = Integer()
    price_fen = Integer()
    paid_fen = Integer()
    merchant_discount_fen = Integer()
    platform_subsidy_fen = Integer()
    commission_fen = Integer()
    payment_fee_fen = Integer()
    freight_charged_fen = Integer()
    freight_tax_fen = Integer(metadata={"description": "VAT inside the postage charged (the order's goods rate)"})
    freight_paid_fen = Integer()
    tax_fen = Integer()
    refund_fen = Integer()
    refund_subsidy_fen = Integer()
    refund_commission_fen = Integer()
    refund_payment_fee_fen = Integer()
    refund_tax_fen = Integer()


class MarginRowOut(MoneyFiguresOut):
    line_id = Integer()
    order_id = Integer()
    external_id = String()
    sku = String()
    shop = String()
    channel = String()
    day = Date()
    lines = Integer()
    shipped_lines = Integer()
    revenue_fen = Integer(metadata={"description": "paid + platform subsidy − refunds, net"})
    shipped_revenue_fen = Integer()
    cogs_fen = Integer()
    margin_fen = Integer(metadata={"description": "sum over shipped lines"})
    margin_bp = Integer(allow_none=True, metadata={"description": "margin / shipped revenue, basis points"})


class MarginOut(Schema):
    items = List(Nested(MarginRowOut))
    totals = Nested(MarginRowOut)


class LineMoneyOut(MoneyFiguresOut):
    line_id = Integer()
    order_id = Integer()
    product_id = Integer(allow_none=True)
    warehouse_id = Integer(allow_none=True)
    shop = String()
    channel = String()
    day = Date()
    province = String()
    sku_code = String()
    category = String()
    vat_rate_bp = Integer()
    revenue_fen = Integer()
    unit_cost_fen = Integer(allow_none=True)
    cogs_fen = Integer(allow_none=True)
    shipped_at = DateTime(allow_none=True, format="iso")
    margin_fen = Integer(allow_none=True)
    updated_at = DateTime(format="iso")


class ChargeIn(Schema):
    kind = String(required=True, validate=OneOf(CHARGE_KINDS))
    fen = Integer(required=True, validate=FEN)
    payer = String(load_default="", validate=OneOf(("merchant", "platform", "buyer", "carrier", "")))
    name = String(load_default="", validate=Length(0, 64))
    source = String(load_default="api", validate=Length(0, 100))


class ChargeOut(Schema):
    id = Integer()
    order_id = Integer()
    kind = String()
    payer = String()
    name = String()
    fen = Integer()
    source = String()


class ChargeQuery(Schema):
    kind = String(load_default=None, validate=OneOf(CHARGE_KINDS))


class ChargesCleared(Schema):
    removed = Integer()


class OrderMoneyOut(Schema):
    order_id = Integer()
    external_id = String()
    shop = String()
    channel = String()
    lines = List(Nested(LineMoneyOut))
    charges = List(Nested(ChargeOut))


class MoneyRefreshIn(Schema):
    first = Date(required=True)
    last = Date(load_default=None)
    shop = String(load_default=None, validate=CODE)


class RefreshOut(Schema):
    first = String()
    last = String()
    orders = Integer()
    lines = Integer()


class MoneyRefreshRunOut(Schema):
    id = Integer()
    kind = String()
    state = String(metadata={"description": "running, done or failed"})
    started = Boolean(metadata={"description": "false: a money refresh was running already; this is that one"})
    params = Dict(keys=String(), values=String(allow_none=True), metadata={"description": "first, last, shop"})
    started_at = DateTime()
    finished_at = DateTime(allow_none=True)
    result = Nested(RefreshOut, allow_none=True, metadata={"description": "what was refreshed, once done"})
    error = String()


class FeeRateIn(Schema):
    kind = String(required=True, validate=OneOf(FEE_KINDS))
    rate_bp = Integer(required=True, validate=Range(0, 10000))
    shop = String(load_default="", validate=Length(0, 64))
    category = String(load_default="", validate=Length(0, 64))
    refundable = Boolean(load_default=True)


class FeeRateOut(Schema):
    id = Integer()
    kind = String()
    shop = String()
    category = String()
    rate_bp = Integer()
    refundable = Boolean()


class FreightRateIn(Schema):
    carrier = String(load_default="", validate=Length(0, 32))
    province = String(load_default="", validate=Length(0, 32))
    first_g = Integer(load_default=1000, validate=Range(0, 10 ** 6))
    first_fen = Integer(required=True, validate=Range(0, 10 ** 7))
    step_g = Integer(load_default=1000, validate=Range(1, 10 ** 6))
    step_fen = Integer(load_default=0, validate=Range(0, 10 ** 7))


class FreightRateOut(Schema):
    id = Integer()
    carrier = String()
    province = String()
    first_g = Integer()
    first_fen = Integer()
    step_g = Integer()
    step_fen = Integer()


class RatesOut(Schema):
    fees = List(Nested(FeeRateOut))
    freight = List(Nested(FreightRateOut))


class UnitCostQuery(Schema):
    warehouse = String(load_default=None, validate=Length(1, 32))
    sku = String(load_default=None, validate=CODE)
    limit = Integer(load_default=500, validate=Range(1, 10000))


class UnitCostOut(Schema):
    sku = String()
    name = String()
    warehouse = String()
    unit_cost_fen = Integer()
    updated_at = DateTime(format="iso")


class UnitCostList(Schema):
    items = List(Nested(UnitCostOut))


class CostOfQuery(Schema):
    warehouse = String(required=True, validate=Length(1, 32))


class CostChangeOut(Schema):
    at = DateTime(format="iso")
    reason = String()
    ref = String()
    qty_before = Integer()
    cost_before_fen = Integer()
    qty_in = Integer()
    value_in_fen = Integer()
    unit_cost_fen = Integer()


class CostOfOut(Schema):
    sku = String()
    warehouse = String()
    unit_cost_fen = Integer()
    history = List(Nested(CostChangeOut))


class CostIn(Schema):
    warehouse = String(required=True, validate=Length(1, 32))
    unit_cost_fen = Integer(required=True, validate=FEN)


class InboundFreightIn(Schema):
    fen = Integer(required=True, validate=FEN)


class InboundFreightOut(Schema):
    po = String()
    fen = Integer()
    lines = Integer(metadata={"description": "purchase order lines it is shared over"})


class StockValueQuery(Schema):
    at = Date(required=True, metadata={"description": "a China day: the value at its end"})
    warehouse = String(load_default=None, validate=Length(1, 32))
    detail = Boolean(load_default=False)


class StockValueRowOut(Schema):
    sku = String()
    name = String()
    warehouse = String()
    qty = Integer()
    unit_cost_fen = Integer()
    value_fen = Integer()


class StockValueOut(Schema):
    at = Date()
    warehouse = String(allow_none=True)
    value_fen = Integer()
    rows = List(Nested(StockValueRowOut))


# --- routes -------------------------------------------------------------------------------------

def _time(value):
    return as_utc(value)


@api.get("/money/margin")
@requires("finance.read")
@api.input(MarginQuery, location="query")
@api.output(MarginOut)
@api.doc(summary="Gross margin (毛利) by line, order, SKU, shop, channel or day, with the totals",
         security="BearerAuth")
def money_margin(query_data):
    filters = {name: query_data[name] for name in ("first", "last", "shop", "channel", "sku", "province", "shipped")}
    return {"items": margin.margin_by(query_data["group"], filters, limit=query_data["limit"],
                                      offset=query_data["offset"]),
            "totals": margin.totals(filters)}


@api.get("/money/orders/<int:order_id>")
@requires("finance.read")
@api.output(OrderMoneyOut)
@api.doc(summary="An order's money per line (分摊, fees, VAT, COGS, margin) and its charges", security="BearerAuth")
def money_of_order(order_id):
    found = line_money.money_of_order(order_id)
    for row in found["lines"]:
        row["shipped_at"], row["updated_at"] = as_utc(row["shipped_at"]), as_utc(row["updated_at"])
    return found


@api.post("/money/orders/<int:order_id>/charges")
@requires("finance.write")
@api.input(ChargeIn)
@api.output(ChargeOut, status_code=201)
@api.doc(summary="Record an order-level amount as a bill states it (it replaces the estimate of its kind)",
         security="BearerAuth")
def add_money_charge(order_id, json_data):
    return line_money.add_charge(order_id, json_data["kind"], json_data["fen"], payer=json_data["payer"],
                                 name=json_data["name"], source=json_data["source"])


@api.delete("/money/orders/<int:order_id>/charges")
@requires("finance.write")
@api.input(ChargeQuery, location="query")
@api.output(ChargesCleared)
@api.doc(summary="Forget an order's charges (of one kind): the estimates apply again", security="BearerAuth")
def clear_money_charges(order_id, query_data):
    if Order.get_or_none(Order.id == order_id) is None:
        raise NotFound(f"no order {order_id}", id=order_id)
    return {"removed": line_money.clear_charges(order_id, query_data["kind"])}



@api.post("/money/refresh")
@requires("finance.write")
@api.input(MoneyRefreshIn)
@api.output(MoneyRefreshRunOut, status_code=202)
@api.doc(summary="Make or bring up to date the money of the lines of the orders paid on these China days, in a "
                 "process of its own; poll GET /money/refresh/{run_id} for what it did. While one runs, asking "
                 "again starts nothing and answers that one (started: false)", security="BearerAuth")
def refresh_money(json_data):
    first, last = json_data["first"], json_data["last"] or json_data["first"]
    if last < first:
        raise DomainError("the last day is before the first")
    params = {"first": first.isoformat(), "last": last.isoformat(), "shop": json_data["shop"]}
    run, started = refresh_runs.start("money", params, current_app.config["WF"], current_principal().user.id)
    return refresh_run_out(run, started), 202, {"Location": f"/api/v1/money/refresh/{run['id']}"}


@api.get("/money/refresh/<int:run_id>")
@requires("finance.read")
@api.output(MoneyRefreshRunOut)
@api.doc(summary="A money refresh: running, done (with what it refreshed) or failed (with why)",
         security="BearerAuth")
def money_refresh_run(run_id):
    return refresh_run_out(refresh_runs.one(run_id, "money"))


@api.get("/money/rates")
@requires("finance.read")
@api.output(RatesOut)
@api.doc(summary="Fee rates (commission per shop and category, payment fee per shop) and carrier prices",
         security="BearerAuth")
def money_rates():
    return {"fees": rates.fee_rates(), "freight": rates.freight_rates()}


@api.put("/money/rates/fees")
@requires("finance.write")
@api.input(FeeRateIn)
@api.output(FeeRateOut)
@api.doc(summary="Set a fee rate (bp); the row of the same kind, shop and category is replaced", security="BearerAuth")
def set_money_fee_rate(json_data):
    return rates.set_fee_rate(json_data["kind"], json_data["rate_bp"], shop=json_data["shop"],
                              category=json_data["category"], refundable=json_data["refundable"])


@api.delete("/money/rates/fees/<int:rate_id>")
@requires("finance.write")
@api.output({}, status_code=204)
@api.doc(summary="Delete a fee rate", security="BearerAuth")
def delete_money_fee_rate(rate_id):
    rates.delete_fee_rate(rate_id)
    return ""


@api.put("/money/rates/freight")
@requires("finance.write")
@api.input(FreightRateIn)
@api.output(FreightRateOut)
@api.doc(summary="Set what a carrier charges a parcel to a province (first weight, then each step)",
         security="BearerAuth")
def set_money_freight_rate(json_data):
    return rates.set_freight_rate(**json_data)


@api.get("/money/unit-costs")
@requires("finance.read")
@api.input(UnitCostQuery, location="query")
@api.output(UnitCostList)
@api.doc(summary="Moving weighted average unit costs (移动加权平均成本) per SKU and warehouse", security="BearerAuth")
def money_unit_costs(query_data):
    rows = costing.unit_costs(_warehouse(query_data["warehouse"]), query_data["sku"], query_data["limit"])
    return {"items": [dict(r, updated_at=_time(r["updated_at"])) for r in rows]}


@api.get("/money/unit-costs/<sku>")
@requires("finance.read")
@api.input(CostOfQuery, location="query")
@api.output(CostOfOut)
@api.doc(summary="A SKU's unit cost in a warehouse and how it came to be (receipts, corrections)",
         security="BearerAuth")
def money_unit_cost(sku, query_data):
    product, warehouse = _product(sku), _warehouse(query_data["warehouse"])
    return {"sku": sku, "warehouse": warehouse.code, "unit_cost_fen": costing.unit_cost(product, warehouse),
            "history": [dict(c, at=_time(c["at"])) for c in costing.history(product.id, warehouse.id)]}


@api.put("/money/unit-costs/<sku>")
@requires("finance.write")
@api.input(CostIn)
@api.output(CostOfOut)
@api.doc(summary="Correct a SKU's unit cost in a warehouse (an opening balance, a credit note)", security="BearerAuth")
def set_money_unit_cost(sku, json_data):
    product, warehouse = _product(sku), _warehouse(json_data["warehouse"])
    costing.set_unit_cost(product.id, warehouse.id, json_data["unit_cost_fen"], ref="api")
    return {"sku": sku, "warehouse": warehouse.code, "unit_cost_fen": costing.unit_cost(product, warehouse),
            "history": [dict(c, at=_time(c["at"])) for c in costing.history(product.id, warehouse.id)]}


@api.put("/money/inbound-freight/<code>")
@requires("finance.write")
@api.input(InboundFreightIn)
@api.output(InboundFreightOut)
@api.doc(summary="A purchase order's inbound freight (采购运费), shared over its lines by value at receipt",
         security="BearerAuth")
def set_money_inbound_freight(code, json_data):
    po = PurchaseOrder.get_or_none(PurchaseOrder.code == code)
    if po is None:
        raise NotFound(f"no purchase order {code!r}", po=code)
    result = costing.set_inbound_freight(po.id, json_data["fen"])
    return {"po": code, "fen": json_data["fen"], "lines": len(result["lines"])}


@api.get("/money/stock-value")
@requires("finance.read")
@api.input(StockValueQuery, location="query")
@api.output(StockValueOut)
@api.doc(summary="The stock's value at the end of a China day: ledger units × the unit cost then",
         security="BearerAuth")
def money_stock_value(query_data):
    warehouse = _warehouse(query_data["warehouse"])
    rows = costing.stock_values(query_data["at"], warehouse)
    return {"at": query_data["at"], "warehouse": query_data["warehouse"], "value_fen": sum(r["value_fen"] for r in rows),
            "rows": rows if query_data["detail"] else []}
