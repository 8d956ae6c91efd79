from server.api import api
from server.api.schemas import (AdjustIn, AdjustOut, DoneOut, LedgerOut, MoveIn, MoveQuery, ProductIn,
                                ProductList, ProductOut, ProductQuery, ReceiveIn, StateIn,
                                StockOut, StockQuery)
from server.guard import current_principal, requires
from server.services.stock import catalog
from server.services.stock import desk as stockdesk


def _actor():
    return stockdesk.actor_of(current_principal())


@api.get("/products")
@requires("products.read")
@api.input(ProductQuery, location="query")
@api.output(ProductList)
@api.doc(summary="Products by SKU, name or barcode fragment", security="BearerAuth")
def list_products(query_data):
    return catalog.search(query_data["q"], query_data["limit"], query_data["offset"])


@api.get("/products/<sku>")
@requires("products.read")
@api.output(ProductOut)
@api.doc(summary="One product with its barcodes", security="BearerAuth")
def get_product(sku):
    return catalog.product_view(catalog.get(sku))


@api.put("/products/<sku>")
@requires("products.write")
@api.input(ProductIn)
@api.output(ProductOut)
@api.doc(summary="Create or update a product", security="BearerAuth")
def put_product(sku, json_data):
    product = catalog.upsert(sku, json_data, actor=_actor())
    return dict(catalog.product_view(product), held_for_approval=product.held_for_approval)


@api.get("/stock")
@requires("stock.read")
@api.input(StockQuery, location="query")
@api.output(StockOut)
@api.doc(summary="Stock by SKU, barcode or location (at least one)", security="BearerAuth")
def get_stock(query_data):
    return stockdesk.stock_view(**query_data)


@api.get("/stock/moves")
@requires("stock.read")
@api.input(MoveQuery, location="query")
@api.output(LedgerOut)
@api.doc(summary="Ledger lines, newest first", security="BearerAuth")
def get_moves(query_data):
    return {"items": stockdesk.ledger(**query_data)}


@api.post("/stock/receive")
@requires("stock.write")
@api.input(ReceiveIn)
@api.output(DoneOut, status_code=201)
@api.doc(summary="Units arrive at a location", security="BearerAuth")
def post_receive(json_data):
    stockdesk.receive(actor=_actor(), **json_data)
    return {"ok": True}


@api.post("/stock/move")
@requires("stock.write")
@api.input(MoveIn)
@api.output(DoneOut, status_code=201)
@api.doc(summary="Move units between locations", security="BearerAuth")
def post_move(json_data):
    stockdesk.move(actor=_actor(), **json_data)
    return {"ok": True}


@api.post("/stock/adjust")
@requires("stock.write")
@api.input(AdjustIn)
@api.output(AdjustOut, status_code=201)
@api.doc(summary="Correct a quantity after a count, with a reason; one over the stock_adjustment approval "
                 "flow's amount waits for its approvers", security="BearerAuth")
def post_adjust(json_data):
    request = stockdesk.adjust(actor=_actor(), **json_data)
    return {"ok": True, "approval": request.id if request is not None else None}


@api.post("/stock/state")
@requires("stock.write")
@api.input(StateIn)
@api.output(DoneOut, status_code=201)
@api.doc(summary="Change the state of units in place (QC release, freeze, damaged)",
         security="BearerAuth")
def post_state(json_data):
    stockdesk.change_state(actor=_actor(), **json_data)
    return {"ok": True}



