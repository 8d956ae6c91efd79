"""Replenishment (补货) over HTTP: pick faces' minimum and maximum (by hand or from days of
cover), the tasks, planning the minimum's tasks, and cancelling one. See docs/replenishment.md."""
from dataclasses import asdict

from apiflask.fields import Boolean, Float, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from server.api import api
from server.api.schemas import Integer, Schema
from server.guard import requires
from server.models.stockcontrol import REPLENISH_STATES
from server.services.replenishment import cover, tasks

_limit = Integer(required=True, validate=Range(0, cover.MAX_LIMIT))


class PickFaceQuery(Schema):
    warehouse = String(load_default=None, validate=Length(1, 32))


class PickFaceOut(Schema):
    location = String()
    sku = String()
    name = String()
    min_qty = Integer()
    max_qty = Integer()
    on_hand = Integer(metadata={"description": "available units at the face now"})


class PickFaceList(Schema):
    items = List(Nested(PickFaceOut))


class PickFaceIn(Schema):
    location = String(required=True, validate=Length(1, 64))
    sku = String(required=True, validate=Length(1, 64))
    min_qty = _limit
    max_qty = _limit


class CoverSuggestIn(Schema):
    warehouse = String(required=True, validate=Length(1, 32))
    min_days = Float(load_default=cover.MIN_DAYS, validate=Range(0, 365),
                     metadata={"description": "days of demand left at the face when it is refilled"})
    max_days = Float(load_default=cover.MAX_DAYS, validate=Range(0, 365),
                     metadata={"description": "days of demand a full face holds"})
    apply = Boolean(load_default=False, metadata={"description": "write the suggestions to the faces"})


class CoverSuggestionOut(Schema):
    location = String()
    sku = String()
    per_day = Float(metadata={"description": "units a day: the latest forecast, else the last 28 days' average"})
    source = String(metadata={"description": "forecast | history"})
    min_qty = Integer()
    max_qty = Integer()
    was_min = Integer()
    was_max = Integer()


class CoverSuggestionList(Schema):
    items = List(Nested(CoverSuggestionOut))


class ReplenishmentTaskQuery(Schema):
    status = String(load_default=None, validate=OneOf(REPLENISH_STATES))
    warehouse = String(load_default=None, validate=Length(1, 32))
    limit = Integer(load_default=100, validate=Range(1, 500))


class ReplenishmentTaskOut(Schema):
    id = Integer()
    code = String()
    status = String()
    trigger = String(metadata={"description": "min (the face fell below its minimum) | demand (a wave needs it)"})
    sku = String()
    name = String()
    source = String(metadata={"description": "the reserve location the units come from"})
    face = String(metadata={"description": "the pick face they go to"})
    lot = String()
    expiry = String()
    qty = Integer()
    moved = Integer()
    wave = String()
    priority = Integer()


class ReplenishmentTaskList(Schema):
    items = List(Nested(ReplenishmentTaskOut))


class ReplenishPlanIn(Schema):
    warehouse = String(load_default=None, validate=Length(1, 32))


@api.get("/replenishment/faces")
@requires("stock.read")
@api.input(PickFaceQuery, location="query")
@api.output(PickFaceList)
@api.doc(summary="Pick faces with their minimum, maximum and units on hand", security="BearerAuth")
def list_faces(query_data):
    return {"items": cover.faces(query_data["warehouse"])}


@api.put("/replenishment/faces")
@requires("stock.write")
@api.input(PickFaceIn)
@api.output(PickFaceOut)
@api.doc(summary="Set a pick face's minimum and maximum by hand (the face is made when the SKU has none there)",
         security="BearerAuth")
def put_face(json_data):
    face = cover.set_limits(json_data["location"], json_data["sku"], json_data["min_qty"], json_data["max_qty"])
    return cover.face_view(face)


@api.post("/replenishment/faces/suggest")
@requires("stock.write")
@api.input(CoverSuggestIn)
@api.output(CoverSuggestionList)
@api.doc(summary="Minimum and maximum of each face from days of cover; written with apply", security="BearerAuth")
def suggest_faces(json_data):
    found = cover.suggest(json_data["warehouse"], min_days=json_data["min_days"], max_days=json_data["max_days"],
                          apply=json_data["apply"])
    return {"items": [asdict(s) for s in found]}


@api.get("/replenishment/tasks")
@requires("stock.read")
@api.input(ReplenishmentTaskQuery, location="query")
@api.output(ReplenishmentTaskList)
@api.doc(summary="Replenishment tasks: running ones first, by priority", security="BearerAuth")
def list_tasks(query_data):
    return {"items": [tasks.task_view(t) for t in tasks.tasks(**query_data)]}


@api.post("/replenishment/plan")
@requires("stock.write")
@api.input(ReplenishPlanIn)
@api.output(ReplenishmentTaskList, status_code=201)
@api.doc(summary="A task for every face below its minimum without one (wavefloor replenish plan)",
         security="BearerAuth")
def plan_tasks(json_data):
    made = tasks.plan(json_data["warehouse"])
    return {"items": [tasks.task_view(tasks.get(t.id)) for t in made]}


@api.post("/replenishment/tasks/<code>/cancel")
@requires("floor.control")
@api.output(ReplenishmentTaskOut)
@api.doc(summary="Cancel a task nobody has started (a demand task's picks go back to its source)",
         security="BearerAuth")
def cancel_task(code):
    return tasks.task_view(tasks.get(tasks.cancel(code).id))
