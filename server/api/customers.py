"""Customers (CRM, 客户) over HTTP: the customers with their RFM scores and tags, the tag trend, the
repurchase model per SKU, the due-to-reorder list (JSON and the SMS tool's CSV), opt-outs and the
live-stream windows. Phone numbers, receivers' names and nicks are masked for a caller without
``pii.read``, in every answer and in the CSV. See docs/customers.md."""
from apiflask.fields import Boolean, Date, DateTime, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from flask import Response, current_app

from server.api import api
from server.api.schemas import Schema, refresh_run_out
from server.guard import current_principal, requires
from server.services import refresh_runs
from server.services.customers import repurchase, views
from server.services.customers.common import today
from server.services.stock import desk as stockdesk

TAG_CODE = Regexp(r"^[A-Za-z0-9_\-]{1,32}$")


def _pii() -> bool:
    return current_principal().can("pii.read")


# --- shapes -------------------------------------------------------------------------------------

class CustomerQuery(Schema):
    tag = String(load_default=None, validate=TAG_CODE)
    channel = String(load_default=None, validate=Length(1, 16))
    q = String(load_default=None, validate=Length(1, 64),
               metadata={"description": "part of the nick (and, with pii.read, of the phone or name)"})
    sort = String(load_default="spent", validate=OneOf(tuple(views.SORTS)))
    opt_out = Boolean(load_default=None)
    limit = Integer(load_default=100, validate=Range(1, 1000))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class CustomerOut(Schema):
    id = Integer()
    channel = String()
    shop = String()
    province = String()
    nick = String(metadata={"description": "masked without pii.read"})
    name = String(metadata={"description": "the last order's receiver; masked without pii.read"})
    phone = String(metadata={"description": "as the channel gave it; masked (138****5678) without pii.read"})
    first_order_at = DateTime(allow_none=True)
    last_order_at = DateTime(allow_none=True)
    orders = Integer()
    units = Integer()
    spent_fen = Integer()
    coupon_orders = Integer()
    live_orders = Integer()
    r_score = Integer()
    f_score = Integer()
    m_score = Integer()
    rfm = String()
    tags = List(String())
    opt_out = Boolean()
    opt_out_at = DateTime(allow_none=True)


class CustomerPage(Schema):
    items = List(Nested(CustomerOut))
    total = Integer()


class CustomerDueOut(Schema):
    sku = String()
    due_on = Date()
    made_on = Date()


class CustomerDetail(CustomerOut):
    due = List(Nested(CustomerDueOut))


class CustomerRefreshOut(Schema):
    day = String()
    customers = Integer()
    new = Integer()
    tags = Dict(keys=String(), values=Integer())
    skus = Integer()
    skus_modelled = Integer()
    due = Integer(metadata={"description": "customers and SKUs added to the day's due list"})
    seconds = Float()


class CustomerRefreshRunOut(Schema):
    id = Integer()
    kind = String()
    state = String(metadata={"description": "running, done or failed"})
    started = Boolean(metadata={"description": "false: a refresh was running already; this is that one"})
    started_at = DateTime()
    finished_at = DateTime(allow_none=True)
    result = Nested(CustomerRefreshOut, allow_none=True, metadata={"description": "the summary, once done"})
    error = String()


class CustomerTrendQuery(Schema):
    days = Integer(load_default=90, validate=Range(1, 1000))


class CustomerTrendOut(Schema):
    dates = List(String())
    series = Dict(keys=String(), values=List(Integer(allow_none=True)))
    names = Dict(keys=String(), values=String())


class RepurchaseQuery(Schema):
    modelled = Boolean(load_default=False, metadata={"description": "only SKUs with a model"})
    limit = Integer(load_default=500, validate=Range(1, 5000))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class RepurchaseOut(Schema):
    sku = String()
    item = String()
    buyers = Integer()
    repeat_buyers = Integer()
    repeat_share = Float()
    intervals = Integer()
    median_days = Float(allow_none=True, metadata={"description": "the typical interval between one customer's "
                                                                  "purchases of the SKU"})
    p25_days = Float(allow_none=True)
    p75_days = Float(allow_none=True)
    made_on = Date()


class RepurchasePage(Schema):
    items = List(Nested(RepurchaseOut))
    total = Integer()


class ReorderDueQuery(Schema):
    day = Date(load_default=None, metadata={"description": "the list's day (default: today in China)"})


class ReorderDueOut(Schema):
    customer_id = Integer()
    phone = String(metadata={"description": "masked without pii.read"})
    name = String()
    nick = String()
    channel = String()
    shop = String()
    sku = String()
    item = String()
    last_order_on = Date()
    due_on = Date()
    typical_days = Float()


class ReorderDueList(Schema):
    day = Date()
    items = List(Nested(ReorderDueOut))


class CustomerOptOutIn(Schema):
    opt_out = Boolean(load_default=True)
    note = String(load_default="", validate=Length(0, 200))


class CustomerOptOutOut(Schema):
    changed = Integer()


class LiveStreamIn(Schema):
    starts_at = DateTime(required=True, metadata={"description": "with a time zone; naive is UTC"})
    ends_at = DateTime(required=True)
    title = String(load_default="", validate=Length(0, 100))
    channel = String(load_default="", validate=Length(0, 16))
    shop = String(load_default="", validate=Length(0, 64))


class LiveStreamOut(Schema):
    id = Integer()
    channel = String()
    shop = String()
    title = String()
    starts_at = DateTime()
    ends_at = DateTime()


class LiveStreamList(Schema):
    items = List(Nested(LiveStreamOut))


# --- routes -------------------------------------------------------------------------------------

@api.get("/customers")
@requires("customers.read")
@api.input(CustomerQuery, location="query")
@api.output(CustomerPage)
@api.doc(summary="Customers with their RFM scores and tags; phone and names masked without pii.read",
         security="BearerAuth")
def list_customers(query_data):
    items, total = views.listing(_pii(), tag=query_data["tag"], channel=query_data["channel"], text=query_data["q"],
                                 sort=query_data["sort"], limit=query_data["limit"], offset=query_data["offset"],
                                 opt_out=query_data["opt_out"])
    return {"items": items, "total": total}


@api.get("/customers/<int:customer_id>")
@requires("customers.read")
@api.output(CustomerDetail)
@api.doc(summary="One customer and the reminders listed for them; masked without pii.read", security="BearerAuth")
def get_customer(customer_id):
    return views.one(customer_id, _pii())



@api.post("/customers/refresh")
@requires("customers.write")
@api.output(CustomerRefreshRunOut, status_code=202)
@api.doc(summary="Derive the customers from the orders again (totals, RFM, tags, the day's tag counts, the "
                 "repurchase models and the day's due-to-reorder list) in a process of its own; poll "
                 "GET /customers/refresh/{run_id} for its summary. While one runs, asking again starts nothing "
                 "and answers that one (started: false)", security="BearerAuth")
def refresh_customers():
    run, started = refresh_runs.start("customers", {}, current_app.config["WF"], current_principal().user.id)
    return refresh_run_out(run, started), 202, {"Location": f"/api/v1/customers/refresh/{run['id']}"}


@api.get("/customers/refresh/<int:run_id>")
@requires("customers.read")
@api.output(CustomerRefreshRunOut)
@api.doc(summary="A customers refresh: running, done (with its summary) or failed (with why)",
         security="BearerAuth")
def customers_refresh_run(run_id):
    return refresh_run_out(refresh_runs.one(run_id, "customers"))


@api.get("/customers/tag-trend")
@requires("customers.read")
@api.input(CustomerTrendQuery, location="query")
@api.output(CustomerTrendOut)
@api.doc(summary="How many customers carried each tag on each refresh day", security="BearerAuth")
def customer_tag_trend(query_data):
    return dict(views.tag_trend(query_data["days"]), names=views.tag_names(current_principal().lang))


@api.get("/customers/repurchase")
@requires("customers.read")
@api.input(RepurchaseQuery, location="query")
@api.output(RepurchasePage)
@api.doc(summary="The repurchase model per SKU: median and quartiles of the days between a customer's purchases",
         security="BearerAuth")
def customer_repurchase(query_data):
    items, total = repurchase.model_rows(query_data["limit"], query_data["offset"], query_data["modelled"])
    return {"items": items, "total": total}


@api.get("/customers/due")
@requires("customers.read")
@api.input(ReorderDueQuery, location="query")
@api.output(ReorderDueList)
@api.doc(summary="The day's due-to-reorder list (opted-out customers left out); phone masked without pii.read",
         security="BearerAuth")
def customers_due(query_data):
    day = query_data["day"] or today()
    return {"day": day, "items": repurchase.due_rows(day, _pii())}


@api.get("/customers/due.csv")
@requires("customers.read")
@api.input(ReorderDueQuery, location="query")
@api.doc(summary="The day's due-to-reorder list as CSV for the SMS tool (UTF-8 with BOM); opted-out customers "
                 "left out; phone masked without pii.read", security="BearerAuth",
         responses={200: {"description": "CSV", "content": {"text/csv": {}}}})
def customers_due_csv(query_data):
    day = query_data["day"] or today()
    return Response(repurchase.due_csv(day, _pii()), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=reorder-due-{day.isoformat()}.csv"})


@api.post("/customers/<int:customer_id>/opt-out")
@requires("customers.write")
@api.input(CustomerOptOutIn)
@api.output(CustomerOptOutOut)
@api.doc(summary="Opt a customer out of reminder messages (or back in with opt_out false)", security="BearerAuth")
def customer_opt_out(customer_id, json_data):
    actor = stockdesk.actor_of(current_principal())
    return {"changed": views.set_opt_out(actor, [customer_id], json_data["opt_out"], json_data["note"])}


@api.get("/live-streams")
@requires("customers.read")
@api.output(LiveStreamList)
@api.doc(summary="Live-stream windows: orders in them (or just after) are impulse buys", security="BearerAuth")
def list_live_streams():
    return {"items": views.live_streams()}


@api.post("/live-streams")
@requires("customers.write")
@api.input(LiveStreamIn)
@api.output(LiveStreamOut, status_code=201)
@api.doc(summary="Add a live-stream window", security="BearerAuth")
def add_live_stream(json_data):
    actor = stockdesk.actor_of(current_principal())
    return views.add_live_stream(actor, json_data["starts_at"], json_data["ends_at"], json_data["title"],
                                 json_data["channel"], json_data["shop"])
