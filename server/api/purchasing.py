"""Purchasing over HTTP: suppliers and what they sell us, purchase orders through their states,
and the stock in transit (在途). See docs/purchasing.md."""
from apiflask.fields import Boolean, Date, DateTime, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from server.api import api
from server.api.schemas import Integer, Schema
from server.guard import current_principal, requires
from server.models.purchasing import PO_STATES, QC_PLANS
from server.services.purchasing import intransit, orders, suppliers
from server.services.stock import desk as stockdesk

_fen = Integer(validate=Range(0, suppliers.MAX_FEN))


def _actor():
    return stockdesk.actor_of(current_principal())


# --- shapes -------------------------------------------------------------------------------------

class SupplierQuery(Schema):
    q = String(load_default="", validate=Length(0, 64))
    sku = String(load_default="", validate=Length(0, 64))
    active = Boolean(load_default=None)
    limit = Integer(load_default=50, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class SupplierFields(Schema):
    name = String(validate=Length(1, 100))
    contact_name = String(validate=Length(0, 100))
    contact_phone = String(validate=Length(0, 64))
    lead_time_days = Integer(validate=Range(0, suppliers.MAX_LEAD_DAYS))
    over_receipt_pct = Integer(validate=Range(0, suppliers.MAX_PCT),
                               metadata={"description": "units a receipt may take beyond the ordered quantity, in %"})
    blind_receiving = Boolean(metadata={"description": "the receiver is not shown the expected quantity"})
    qc_plan = String(validate=OneOf(QC_PLANS))
    aql = String(validate=OneOf(suppliers.AQLS))
    active = Boolean()


class SupplierIn(SupplierFields):
    code = String(required=True, validate=Length(1, 32))
    name = String(required=True, validate=Length(1, 100))


class ItemIn(Schema):
    unit_cost_fen = _fen
    moq = Integer(validate=Range(1, 10_000_000), metadata={"description": "minimum order quantity (起订量)"})
    pack_size = Integer(validate=Range(1, suppliers.MAX_PACK), metadata={"description": "units a pack (箱规)"})
    qc_plan = String(validate=OneOf(("",) + QC_PLANS))
    aql = String(validate=OneOf(("",) + suppliers.AQLS))


class ItemOut(Schema):
    sku = String()
    name = String()
    unit_cost_fen = Integer()
    moq = Integer()
    pack_size = Integer()
    qc_plan = String()
    aql = String()


class SupplierSummary(Schema):
    code = String()
    name = String()
    contact_name = String()
    contact_phone = String(metadata={"description": "masked without the pii.read permission"})
    lead_time_days = Integer()
    over_receipt_pct = Integer()
    blind_receiving = Boolean()
    qc_plan = String()
    aql = String()
    active = Boolean()


class SupplierOut(SupplierSummary):
    items = List(Nested(ItemOut))


class SupplierRow(SupplierSummary):
    item_count = Integer()


class SupplierList(Schema):
    items = List(Nested(SupplierRow))
    total = Integer()


class PoQuery(Schema):
    status = String(load_default=None, validate=Length(1, 200),
                    metadata={"description": "one or more of " + ", ".join(PO_STATES) + ", comma separated"})
    supplier = String(load_default=None, validate=Length(1, 32))
    warehouse = String(load_default=None, validate=Length(1, 32))
    sku = String(load_default=None, validate=Length(1, 64))
    q = String(load_default=None, validate=Length(1, 64))
    limit = Integer(load_default=50, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class PoLineIn(Schema):
    sku = String(required=True, validate=Length(1, 64))
    qty = Integer(required=True, validate=Range(1, 10_000_000))
    unit_cost_fen = Integer(validate=Range(0, suppliers.MAX_FEN),
                            metadata={"description": "default: the supplier item's unit cost"})
    expected_on = Date(allow_none=True)


class PoIn(Schema):
    supplier = String(required=True, validate=Length(1, 32))
    warehouse = String(required=True, validate=Length(1, 32))
    lines = List(Nested(PoLineIn), required=True, validate=Length(1, orders.MAX_LINES))
    expected_on = Date(load_default=None, allow_none=True)
    delivery_note = String(load_default="", validate=Length(0, 64))
    note = String(load_default="", validate=Length(0, 500))
    code = String(load_default=None, validate=Length(1, 32),
                  metadata={"description": "default: PO-YYYYMMDD-NNNN"})


class PoPatch(Schema):
    lines = List(Nested(PoLineIn), validate=Length(1, orders.MAX_LINES))
    expected_on = Date(allow_none=True)
    delivery_note = String(validate=Length(0, 64))
    note = String(validate=Length(0, 500))


class ReasonIn(Schema):
    reason = String(required=True, validate=Length(1, 200))


class OptionalReasonIn(Schema):
    reason = String(load_default="", validate=Length(0, 200))


class PoLineOut(Schema):
    seq = Integer()
    sku = String()
    name = String()
    qty = Integer()
    received_qty = Integer()
    open_qty = Integer()
    unit_cost_fen = Integer()
    amount_fen = Integer()
    expected_on = String(allow_none=True)


class PoOut(Schema):
    code = String()
    supplier = String()
    supplier_name = String()
    warehouse = String()
    status = String()
    delivery_note = String()
    expected_on = String(allow_none=True)
    total_fen = Integer()
    qty = Integer()
    received_qty = Integer()
    note = String()
    close_reason = String()
    created_by = String(allow_none=True)
    approved_by = String(allow_none=True)
    approved_at = DateTime(allow_none=True)
    created_at = DateTime()
    blind_receiving = Boolean()
    lines = List(Nested(PoLineOut))


class PoList(Schema):
    items = List(Nested(PoOut))
    total = Integer()


class InTransitQuery(Schema):
    sku = String(load_default=None, validate=Length(1, 64))
    warehouse = String(load_default=None, validate=Length(1, 32))


class InTransitRow(Schema):
    sku = String()
    warehouse = String()
    po = String()
    qty = Integer()
    expected_on = String(allow_none=True)


class InTransitList(Schema):
    items = List(Nested(InTransitRow))
    total_qty = Integer()


# --- suppliers ----------------------------------------------------------------------------------

@api.get("/suppliers")
@requires("purchasing.read")
@api.input(SupplierQuery, location="query")
@api.output(SupplierList)
@api.doc(summary="Suppliers by code or name fragment, or those that sell a SKU", security="BearerAuth")
def list_suppliers(query_data):
    return suppliers.list_suppliers(current_principal(), **query_data)


@api.get("/suppliers/<code>")
@requires("purchasing.read")
@api.output(SupplierOut)
@api.doc(summary="One supplier with what it sells us", security="BearerAuth")
def get_supplier(code):
    return suppliers.supplier_view(suppliers.supplier(code), current_principal(), with_items=True)


@api.post("/suppliers")
@requires("purchasing.write")
@api.input(SupplierIn)
@api.output(SupplierOut, status_code=201)
@api.doc(summary="Create a supplier", security="BearerAuth")
def create_supplier(json_data):
    code = json_data.pop("code")
    if suppliers.exists(code):
        raise suppliers.InvalidValue("code", f"supplier {code} exists; change it with PATCH")
    found = suppliers.save_supplier(code, json_data, _actor())
    return suppliers.supplier_view(found, current_principal(), with_items=True)


@api.patch("/suppliers/<code>")
@requires("purchasing.write")
@api.input(SupplierFields)
@api.output(SupplierOut)
@api.doc(summary="Change a supplier's fields", security="BearerAuth")
def update_supplier(code, json_data):
    suppliers.supplier(code)
    found = suppliers.save_supplier(code, json_data, _actor())
    return suppliers.supplier_view(found, current_principal(), with_items=True)


@api.put("/suppliers/<code>/items/<sku>")
@requires("purchasing.write")
@api.input(ItemIn)
@api.output(ItemOut)
@api.doc(summary="Create or change what a supplier sells us of a SKU (cost, MOQ, pack size, QC plan)",
         security="BearerAuth")
def put_supplier_item(code, sku, json_data):
    return suppliers.item_view(suppliers.save_item(code, sku, json_data, _actor()))


# --- purchase orders ----------------------------------------------------------------------------

def _po(code):
    return orders.order_view(orders.get(code))


@api.get("/purchase-orders")
@requires("purchasing.read")
@api.input(PoQuery, location="query")
@api.output(PoList)
@api.doc(summary="Purchase orders with filters (status, supplier, warehouse, SKU, code or delivery note)",
         security="BearerAuth")
def list_purchase_orders(query_data):
    return orders.list_orders(**query_data)


@api.get("/purchase-orders/<code>")
@requires("purchasing.read")
@api.output(PoOut)
@api.doc(summary="One purchase order (by code or delivery note number) with its lines and what they received",
         security="BearerAuth")
def get_purchase_order(code):
    return _po(code)


@api.post("/purchase-orders")
@requires("purchasing.write")
@api.input(PoIn)
@api.output(PoOut, status_code=201)
@api.doc(summary="Create a draft purchase order; quantities are checked against MOQ and pack size",
         security="BearerAuth")
def create_purchase_order(json_data):
    po = orders.create(json_data["supplier"], json_data["warehouse"], json_data["lines"], _actor(),
                       expected_on=json_data["expected_on"], delivery_note=json_data["delivery_note"],
                       note=json_data["note"], code=json_data["code"])
    return orders.order_view(po)


@api.patch("/purchase-orders/<code>")
@requires("purchasing.write")
@api.input(PoPatch)
@api.output(PoOut)
@api.doc(summary="Change a draft's lines, date or note; the delivery note number until it is received",
         security="BearerAuth")
def update_purchase_order(code, json_data):
    return orders.order_view(orders.update(code, json_data, _actor()))


@api.post("/purchase-orders/<code>/submit")
@requires("purchasing.write")
@api.output(PoOut)
@api.doc(summary="Submit a draft for approval", security="BearerAuth")
def submit_purchase_order(code):
    return orders.order_view(orders.submit(code, _actor()))


@api.post("/purchase-orders/<code>/approve")
@requires("purchasing.approve")
@api.output(PoOut)
@api.doc(summary="Approve a submitted order; refused (over_approval_limit) above the approver's limit",
         security="BearerAuth")
def approve_purchase_order(code):
    return orders.order_view(orders.approve(code, _actor()))


@api.post("/purchase-orders/<code>/reject")
@requires("purchasing.approve")
@api.input(ReasonIn)
@api.output(PoOut)
@api.doc(summary="Send a submitted order back to draft with a reason", security="BearerAuth")
def reject_purchase_order(code, json_data):
    return orders.order_view(orders.reject(code, _actor(), json_data["reason"]))


@api.post("/purchase-orders/<code>/cancel")
@requires("purchasing.write")
@api.input(OptionalReasonIn)
@api.output(PoOut)
@api.doc(summary="Cancel an order not yet received (an approved one needs a reason)", security="BearerAuth")
def cancel_purchase_order(code, json_data):
    return orders.order_view(orders.cancel(code, _actor(), json_data["reason"]))


@api.post("/purchase-orders/<code>/close")
@requires("purchasing.write")
@api.input(ReasonIn)
@api.output(PoOut)
@api.doc(summary="Close an approved or partly received order short (短收结案): the rest leaves 在途",
         security="BearerAuth")
def close_purchase_order(code, json_data):
    return orders.order_view(orders.close_short(code, _actor(), json_data["reason"]))


@api.get("/in-transit")
@requires("stock.read")
@api.input(InTransitQuery, location="query")
@api.output(InTransitList)
@api.doc(summary="Units in transit (在途) per SKU, warehouse, purchase order and expected date",
         security="BearerAuth")
def list_in_transit(query_data):
    product_ids = [stockdesk.product_by_code(query_data["sku"]).id] if query_data["sku"] else None
    warehouse_id = None
    if query_data["warehouse"]:
        warehouse_id = orders.warehouse_by_code(query_data["warehouse"]).id
    items = intransit.rows(product_ids, warehouse_id)
    return {"items": items, "total_qty": sum(row["qty"] for row in items)}
