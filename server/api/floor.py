"""The floor for supervisors: the wall screen's summary and the control room's verbs."""
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask.validators import Length, Range

from server.api import api
from server.api.schemas import Schema
from server.guard import current_principal, requires
from peewee import JOIN, fn

from server.models import Location, Lpn, PurchaseOrder, Receipt, Supplier, User, Warehouse
from server.services import floor
from server.services.connectors import connections, outbox
from server.services.receiving import receipts
from server.services.stock import desk as stockdesk
from server.services.waves import planning as waves


class WaveProgressOut(Schema):
    wave = Integer()
    code = String()
    status = String()
    strategy = String()
    orders = Integer()
    tasks = Integer()
    tasks_done = Integer()
    lines_total = Integer()
    lines_done = Integer()
    units_total = Integer()
    units_done = Integer()
    orders_picked = Integer()
    orders_packed = Integer()
    orders_shipped = Integer()
    units_per_hour = Integer()
    eta = String(allow_none=True)
    deadline = String(allow_none=True)
    released_at = String(allow_none=True)
    late = Boolean()


class PickerOut(Schema):
    id = Integer()
    code = String()
    name = String()
    task = Dict(allow_none=True)
    lines_per_hour = Integer()
    units_per_hour = Integer()
    units_today = Integer()
    last_pick_at = String(allow_none=True)
    idle_s = Integer(allow_none=True)


class ZoneOut(Schema):
    zone = String()
    open_lines = Integer()
    open_units = Integer()


class DueOut(Schema):
    window_h = Integer()
    until = String()
    orders = Integer()
    overdue = Integer()
    by_status = Dict(keys=String(), values=Integer())
    items = List(Dict())


class ExceptionsOut(Schema):
    counts = Dict(keys=String(), values=Integer())
    items = List(Dict())


class ThroughputOut(Schema):
    hours = List(String())
    units = List(Integer())
    total = Integer()


class FloorSummary(Schema):
    version = Integer()
    at = String()
    timezone = String()
    waves = List(Nested(WaveProgressOut))
    pickers = List(Nested(PickerOut))
    zones = List(Nested(ZoneOut))
    due = Nested(DueOut)
    exceptions = Nested(ExceptionsOut)
    throughput = Nested(ThroughputOut)


class ControlOut(Schema):
    planned = List(Dict())
    tasks = List(Dict())
    pickers = List(String())
    printers = List(Dict())
    cancellable = List(Integer(), metadata={"description": "the waves that may still be cancelled, by id"})


class GoodsInReceiptOut(Schema):
    receipt = String(metadata={"description": "the receipt's code"})
    po = String(metadata={"description": "its purchase order's code"})
    status = String(metadata={"description": "the order's status"})
    supplier = String(metadata={"description": "the supplier's code"})
    supplier_name = String()
    receiver = String(allow_none=True, metadata={"description": "the receiver's user code"})
    receiver_name = String(allow_none=True)
    warehouse = String()
    units_ordered = Integer()
    units_received = Integer()
    lines_ordered = Integer()
    lines_received = Integer()
    started_at = String(allow_none=True)


class GoodsInWarehouseOut(Schema):
    warehouse = String()
    qc_waiting = Integer(metadata={"description": "plates waiting for QC (qc_pending)"})
    putaway_waiting = Integer(metadata={"description": "plates ready for putaway that nobody holds"})


class GoodsInOut(Schema):
    receipts = List(Nested(GoodsInReceiptOut), metadata={"description": "open receipts, oldest first"})
    warehouses = List(Nested(GoodsInWarehouseOut))
    qc_waiting = Integer()
    putaway_waiting = Integer()


class ConnectorShopOut(Schema):
    shop = String()
    status = String(metadata={"description": "reauthorise, or ok / paused with credentials this server cannot read"})
    last_error = String()


class ConnectorsFlagOut(Schema):
    attention = List(Nested(ConnectorShopOut), metadata={"description": "shops to re-authorise (需重新授权)"})
    failed_calls = Integer(metadata={"description": "platform calls refused, waiting for a person (发货回传失败)"})
    waiting_calls = Integer(metadata={"description": "platform calls still to be sent"})


class WaveActionOut(Schema):
    id = Integer()
    code = String()
    status = String()


class ReassignIn(Schema):
    picker = String(required=True, validate=Length(1, 32))


class ReassignedOut(Schema):
    id = Integer()
    code = String()
    status = String()
    picker = String(allow_none=True)


class PriorityIn(Schema):
    priority = Integer(required=True, validate=Range(-100, 100))


class PriorityOut(Schema):
    id = Integer()
    external_id = String()
    priority = Integer()


class CountIn(Schema):
    reason = String(load_default="", validate=Length(0, 200))


class CountOut(Schema):
    location = String()
    needs_count = Boolean()


class ReprintOut(Schema):
    id = Integer()
    reprint_of = Integer(allow_none=True)
    state = String()


class LabelReprintOut(Schema):
    id = Integer()
    reprint_of = Integer()
    state = String()
    printer = String()
    tracking = String()
    order = String(metadata={"description": "the order's number"})


class MoveJobsToIn(Schema):
    to = String(required=True, validate=Length(1, 32))


class MovedOut(Schema):
    moved = Integer()


class TrailOut(Schema):
    picker = Dict()
    moves = List(Dict())
    tasks = List(Dict())


def _actor():
    return stockdesk.actor_of(current_principal())


@api.get("/floor/summary")
@requires("wallboard.view")
@api.output(FloorSummary)
@api.doc(summary="The floor now: wave progress and ETA, pickers, zone backlogs, orders due before the "
                 "cut-off, exceptions, units picked per hour today", security="BearerAuth")
def floor_summary():
    return floor.summary()


@api.get("/floor/control")
@requires("floor.control")
@api.output(ControlOut)
@api.doc(summary="Planned waves, open tasks, pickers and printers for the control room", security="BearerAuth")
def floor_control():
    return dict(floor.control_view(), cancellable=waves.cancellable())


def goods_in_view() -> dict:
    """Open receipts with their supplier, receiver and units, and the plates waiting for QC and
    for putaway by warehouse (``receipt.progress`` and ``putaway.waiting`` keep a page current)."""
    progress = {p["receipt"]: p for p in receipts.open_progress()}
    rows = (Receipt.select(Receipt.code, Receipt.started_at, Supplier.code.alias("supplier_code"),
                           Supplier.name.alias("supplier_name"), User.code.alias("user_code"),
                           User.name.alias("user_name"))
            .join(PurchaseOrder).join(Supplier).switch(Receipt)
            .join(User, JOIN.LEFT_OUTER, on=(Receipt.user == User.id))
            .where(Receipt.status == "open").order_by(Receipt.started_at, Receipt.id).dicts())
    shown = []
    for row in rows:
        totals = progress.get(row["code"])
        if totals is None:
            continue
        shown.append({"receipt": row["code"], "po": totals["po"], "status": totals["status"],
                      "supplier": row["supplier_code"], "supplier_name": row["supplier_name"],
                      "receiver": row["user_code"], "receiver_name": row["user_name"],
                      "warehouse": totals["warehouse"], "units_ordered": totals["units_ordered"],
                      "units_received": totals["units_received"], "lines_ordered": totals["lines_ordered"],
                      "lines_received": totals["lines_received"], "started_at": floor.iso(row["started_at"])})
    waiting = (Lpn.select(Warehouse.code.alias("warehouse"), Lpn.status, fn.COUNT(Lpn.id).alias("plates"))
               .join(Location, on=(Lpn.location == Location.id)).join(Warehouse, on=(Location.warehouse == Warehouse.id))
               .where((Lpn.status == "qc_pending") | ((Lpn.status == "ready") & Lpn.stored_by.is_null()))
               .group_by(Warehouse.code, Lpn.status).dicts())
    by_warehouse: dict[str, dict] = {}
    for row in waiting:
        counts = by_warehouse.setdefault(row["warehouse"], {"warehouse": row["warehouse"], "qc_waiting": 0,
                                                            "putaway_waiting": 0})
        counts["qc_waiting" if row["status"] == "qc_pending" else "putaway_waiting"] += int(row["plates"])
    warehouses = [by_warehouse[code] for code in sorted(by_warehouse)]
    return {"receipts": shown, "warehouses": warehouses,
            "qc_waiting": sum(w["qc_waiting"] for w in warehouses),
            "putaway_waiting": sum(w["putaway_waiting"] for w in warehouses)}


@api.get("/floor/goods-in")
@requires("floor.control")
@api.output(GoodsInOut)
@api.doc(summary="Goods in for the control room: open receipts (supplier, receiver, units received of "
                 "ordered) and the plates waiting for QC and for putaway", security="BearerAuth")
def floor_goods_in():
    return goods_in_view()


@api.get("/floor/connectors")
@requires("floor.control")
@api.output(ConnectorsFlagOut)
@api.doc(summary="The control room's flag for live connectors: shops to re-authorise and the failed platform calls",
         security="BearerAuth")
def floor_connectors():
    counts = outbox.counts()
    return {"attention": connections.needing_attention(), "failed_calls": counts["failed"],
            "waiting_calls": counts["pending"] + counts["sending"]}


@api.post("/floor/waves/<wave_id>/<verb>")
@requires("floor.control")
@api.output(WaveActionOut)
@api.doc(summary="Release, pause, resume or cancel a wave", security="BearerAuth")
def floor_wave_action(wave_id, verb):
    wave = floor.wave_action(wave_id, verb, _actor())
    return {"id": wave.id, "code": wave.code, "status": wave.status}


@api.post("/floor/tasks/<task_id>/reassign")
@requires("floor.control")
@api.input(ReassignIn)
@api.output(ReassignedOut)
@api.doc(summary="Hand an unfinished pick task to another picker", security="BearerAuth")
def floor_reassign(task_id, json_data):
    task = floor.reassign_task(task_id, json_data["picker"], _actor())
    return {"id": task.id, "code": task.code, "status": task.status, "picker": task.picker.code}


@api.post("/floor/orders/<int:order_id>/priority")
@requires("floor.control")
@api.input(PriorityIn)
@api.output(PriorityOut)
@api.doc(summary="Set an order's priority (higher goes into waves first)", security="BearerAuth")
def floor_priority(order_id, json_data):
    order = floor.set_priority(order_id, json_data["priority"], _actor())
    return {"id": order.id, "external_id": order.external_id, "priority": order.priority}


@api.post("/floor/locations/<code>/count")
@requires("floor.control")
@api.input(CountIn)
@api.output(CountOut)
@api.doc(summary="Send a location to be counted", security="BearerAuth")
def floor_count(code, json_data):
    location = floor.count_location(code, _actor(), json_data["reason"])
    return {"location": location.code, "needs_count": location.needs_count}


@api.post("/floor/print-jobs/<int:job_id>/reprint")
@requires("floor.control")
@api.output(ReprintOut, status_code=201)
@api.doc(summary="Print a label again", security="BearerAuth")
def floor_reprint(job_id):
    job = floor.reprint(job_id, _actor())
    return {"id": job.id, "reprint_of": job.reprint_of_id, "state": job.state}


@api.post("/floor/labels/<tracking>/reprint")
@requires("floor.control")
@api.output(LabelReprintOut, status_code=201)
@api.doc(summary="Print a parcel's shipping label again, by its tracking number", security="BearerAuth")
def floor_label_reprint(tracking):
    job, parcel = floor.reprint_label(tracking, _actor())
    return {"id": job.id, "reprint_of": job.reprint_of_id, "state": job.state, "printer": job.printer.code,
            "tracking": parcel.tracking, "order": parcel.order.external_id}


@api.post("/floor/printers/<code>/move-jobs")
@requires("floor.control")
@api.input(MoveJobsToIn)
@api.output(MovedOut)
@api.doc(summary="Move queued and failed labels off a printer to another", security="BearerAuth")
def floor_move_jobs(code, json_data):
    return {"moved": floor.move_jobs(code, json_data["to"], _actor())}


@api.get("/floor/pickers/<code>/trail")
@requires("floor.control")
@api.output(TrailOut)
@api.doc(summary="A picker's ledger lines and tasks today", security="BearerAuth")
def floor_trail(code):
    return floor.picker_trail(code)

