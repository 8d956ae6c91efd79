"""Waves (波次) for supervisors: plan, look before releasing, release, pause, resume, cancel."""
from apiflask.fields import DateTime, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from server.api import api
from server.api.schemas import Schema
from server.guard import current_principal, requires
from server.services.stock import desk as stockdesk
from server.models.waves import WAVE_STRATEGIES
from server.services.waves import planning as waves

WAVE_STATES = ("planned", "released", "picking", "paused", "picked", "done", "cancelled")


class WaveQuery(Schema):
    status = String(load_default=None, validate=OneOf(WAVE_STATES))
    warehouse = String(load_default=None, validate=Length(1, 32))
    limit = Integer(load_default=100, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class WaveOut(Schema):
    id = Integer()
    code = String()
    warehouse = String()
    strategy = String()
    status = String()
    orders = Integer()
    lines = Integer()
    units = Integer()
    planned_metres = Float()
    fcfs_metres = Float()
    saving_pct = Float()
    deadline = DateTime(allow_none=True)
    created_at = DateTime()
    released_at = DateTime(allow_none=True)


class WaveList(Schema):
    items = List(Nested(WaveOut))


class WaveOrderOut(Schema):
    id = Integer()
    external_id = String()
    status = String()
    slot = Integer()
    priority = Integer()
    ship_by = DateTime(allow_none=True)


class TaskOut(Schema):
    code = String()
    seq = Integer()
    status = String()
    zone = String(allow_none=True)
    metres = Float()
    lines_total = Integer()
    units_total = Integer()
    orders = List(Integer())
    sequence = List(String())


class WavePreview(Schema):
    wave = Nested(WaveOut)
    orders = List(Nested(WaveOrderOut))
    tasks = List(Nested(TaskOut))


class PlanIn(Schema):
    warehouse = String(required=True, validate=Length(1, 32))
    max_orders = Integer(load_default=None, validate=Range(1, 1_000_000))
    strategies = List(String(validate=OneOf(WAVE_STRATEGIES)), load_default=list,
                      metadata={"description": "only orders whose kind of wave is one of these (all when empty)"})


class DraftWaveOut(Schema):
    strategy = String()
    orders = Integer()
    lines = Integer()
    units = Integer()
    tasks = Integer()
    planned_metres = Float()
    fcfs_metres = Float()
    saving_pct = Float()
    deadline = DateTime(allow_none=True)


class PlanPreviewOut(Schema):
    warehouse = String()
    waiting = Integer(metadata={"description": "allocated orders in no wave yet"})
    left = Integer(metadata={"description": "of those, the orders these waves would leave out"})
    waves = List(Nested(DraftWaveOut))


class PlannableOut(Schema):
    code = String()
    name = String()
    waiting = Integer()


class PlannableList(Schema):
    items = List(Nested(PlannableOut))


def _actor():
    return stockdesk.actor_of(current_principal())


@api.get("/waves")
@requires("waves.read")
@api.input(WaveQuery, location="query")
@api.output(WaveList)
@api.doc(summary="Waves, newest first (filter by status, warehouse)", security="BearerAuth")
def list_waves(query_data):
    return {"items": [waves.wave_summary(w) for w in waves.waves(**query_data)]}


@api.get("/waves/<wave_id>")
@requires("waves.read")
@api.output(WavePreview)
@api.doc(summary="One wave: its orders and tasks (planned or released) with metres and stops in walking "
                 "order, against first-come-first-served batches", security="BearerAuth")
def get_wave(wave_id):
    return waves.preview(wave_id)


@api.post("/waves/plan")
@requires("waves.manage")
@api.input(PlanIn)
@api.output(WaveList, status_code=201)
@api.doc(summary="Put the warehouse's allocated orders into planned waves, most urgent first",
         security="BearerAuth")
def plan_waves(json_data):
    planned = waves.plan_waves(json_data["warehouse"], max_orders=json_data["max_orders"],
                               kinds=tuple(json_data["strategies"]), actor=_actor())
    return {"items": [waves.wave_summary(w) for w in planned]}


@api.post("/waves/plan/preview")
@requires("waves.read")
@api.input(PlanIn)
@api.output(PlanPreviewOut)
@api.doc(summary="The waves /waves/plan would plan now with the same body, planning nothing: orders, lines, "
                 "units, pick tasks, metres walked against first-come-first-served", security="BearerAuth")
def preview_plan(json_data):
    return waves.plan_preview(json_data["warehouse"], max_orders=json_data["max_orders"],
                              kinds=tuple(json_data["strategies"]))


@api.get("/waves/plannable")
@requires("waves.read")
@api.output(PlannableList)
@api.doc(summary="Each warehouse with its allocated orders in no wave yet", security="BearerAuth")
def plannable_warehouses():
    return {"items": waves.plannable()}


def _verb(verb, wave_id):
    wave = verb(waves.get(wave_id).id, _actor())
    return waves.preview(wave.id)


@api.post("/waves/<wave_id>/release")
@requires("waves.manage")
@api.output(WavePreview)
@api.doc(summary="Release a planned wave: its pick tasks go to the pickers", security="BearerAuth")
def release_wave(wave_id):
    return _verb(waves.release_wave, wave_id)


@api.post("/waves/<wave_id>/pause")
@requires("waves.manage")
@api.output(WavePreview)
@api.doc(summary="Pause a released wave", security="BearerAuth")
def pause_wave(wave_id):
    return _verb(waves.pause_wave, wave_id)


@api.post("/waves/<wave_id>/resume")
@requires("waves.manage")
@api.output(WavePreview)
@api.doc(summary="Resume a paused wave", security="BearerAuth")
def resume_wave(wave_id):
    return _verb(waves.resume_wave, wave_id)


@api.post("/waves/<wave_id>/cancel")
@requires("waves.manage")
@api.output(WavePreview)
@api.doc(summary="Cancel a wave before picking starts; its orders go back to allocated", security="BearerAuth")
def cancel_wave(wave_id):
    return _verb(waves.cancel_wave, wave_id)
