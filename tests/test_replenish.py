"""Replenishment (补货): a wave whose demand exceeds its pick face gets its replenishment before its
picks, and none of them is shorted; the minimum's trigger after a pick; the source chosen first
expiry first; the ``replenishing`` scenario and its refusals; a pick that waits for a running
replenishment; days of cover; the CLI and the API's role checks. Both engines."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from server.models import (Device, Location, Order, OrderLine, Allocation, PickFace, PickLine, PickTask, Quant,
                           StockMove, Wave)
from server.models.base import utcnow
from server.models.stockcontrol import DemandForecast, ReplenishmentTask
from server.services.auth import Principal
from server.services.replenishment import cover, tasks
from server.services.scenarios import picking, replenishing  # noqa: F401  (registers the scenarios)
from server.services.stock import inventory
from server.services.waves import planning
from tests.scenario_driver import Driver
from tests.test_picking import make_order, make_task, released_wave

PICKING, REPLENISHING = Driver("picking"), Driver("replenishing")
TEE_BARCODE, TEE_CASE, MUG_BARCODE = "6900000000014", "16900000000011", "6900000000021"


@pytest.fixture
def floor(small_warehouse, people):
    """WH1 with tee's pick face A-01 (max 40) and more reserve locations, a picker and a receiver
    (who replenishes) on handhelds."""
    wh = small_warehouse["warehouse"]
    locs = dict(small_warehouse["locations"])
    for n, code in enumerate(("R-02", "R-03"), 10):
        locs[code] = Location.create(warehouse=wh, code=code, kind="reserve", pick_seq=n)
    Location.create(warehouse=wh, code="T-002", kind="tote")
    PickFace.create(location=locs["A-01"], product=small_warehouse["tee"], min_qty=0, max_qty=40)
    picker = Principal(people["picker"], ["picker"], Device.create(code="HH-P1", kind="handheld"))
    receiver = Principal(people["receiver"], ["receiver"], Device.create(code="HH-R1", kind="handheld"))
    actor = inventory.Actor(people["office"].id)
    return dict(small_warehouse, locations=locs, picker=picker, receiver=receiver, actor=actor)


def allocated(external_id: str, items, floor) -> Order:
    """An order allocated the way the allocation service does it: pick faces first, then reserve."""
    now = utcnow()
    order = Order.create(channel="tmall", shop="shop-1", external_id=external_id, status="allocated",
                         warehouse=floor["warehouse"], carrier="ZTO", receiver_province="浙江省", paid_at=now,
                         ordered_at=now, ship_by=now + dt.timedelta(hours=24))
    for n, (product, qty) in enumerate(items, 1):
        line = OrderLine.create(order=order, external_line_id=str(n), sku_code=product.sku, product=product,
                                qty=qty, reserved_qty=qty)
        for taken in inventory.reserve_any(product, qty, actor=floor["actor"], warehouse=floor["warehouse"],
                                           ref=f"order:{order.id}"):
            Allocation.create(line=line, location=taken.location_id, lot=taken.lot, qty=taken.qty)
    return order


def units(product, location, state="available") -> tuple[int, int]:
    q = Quant.get_or_none((Quant.product == product) & (Quant.location == location) & (Quant.state == state))
    return (q.qty, q.reserved) if q else (0, 0)


def replenish_all(receiver, task: ReplenishmentTask, scans=1) -> None:
    """A replenisher does ``task`` start to end through the scenario."""
    state, data, _ = REPLENISHING.step(receiver, "get_work")
    assert (state, data["task"]["code"]) == ("scan_source", task.code)
    assert REPLENISHING.step(receiver, "scan", code=data["task"]["source"]).state == "scan_item"
    for _ in range(scans):
        REPLENISHING.step(receiver, "scan", code=TEE_BARCODE)
    if task.qty > scans:
        assert REPLENISHING.step(receiver, "qty", qty=task.qty).data["task"]["moved"] == task.qty
    state, data, code = REPLENISHING.step(receiver, "scan", code=data["task"]["face"])
    assert (state, code, data["done"]["code"]) == ("start", "replenish_done", task.code)


def pick_everything(picker, floor, on_wait=None) -> int:
    """The picker works every task to its end; ``on_wait()`` runs when a face waits for a
    replenishment. Returns how many times the picker was told to wait."""
    waits, totes = 0, iter(["T-001", "T-002"])
    state, data, _ = PICKING.step(picker, "get_work")
    while True:
        if state == "task_done":
            result = PICKING.run(picker, "get_work")
            if not result["ok"]:
                return waits
            state, data = result["next_state"], result["data"][result["next_state"]]
            continue
        line = data["line"]
        if state == "scan_location":
            result = PICKING.run(picker, "scan", code=line["location"])
            if result["message"]["code"] == "replenishment_running":
                assert result["ok"] is False and result["message"]["type"] == "warning"
                waits += 1
                on_wait()
                continue
            assert result["ok"], result
        elif state == "scan_item":
            result = PICKING.run(picker, "scan", code=TEE_BARCODE if line["sku"] == "TS-01" else MUG_BARCODE)
        elif state == "qty":
            result = PICKING.run(picker, "qty", qty=line["remaining"])
        else:
            result = PICKING.run(picker, "scan", code=line["tote"] or next(totes))
        assert result["ok"], result
        state, data = result["next_state"], result["data"][result["next_state"]]


# --- the acceptance: demand replenishment before the picks -------------------------------------------

def test_a_wave_whose_demand_exceeds_its_face_is_replenished_first_and_nothing_is_shorted(floor, heard):
    tee, locs = floor["tee"], floor["locations"]
    inventory.receive(tee, locs["A-01"], 5, actor=floor["actor"])
    inventory.receive(tee, locs["R-01"], 30, actor=floor["actor"])
    first = allocated("X", [(tee, 4)], floor)
    second = allocated("Y", [(tee, 6)], floor)  # 1 left at the face, 5 promised in reserve
    assert units(tee, locs["R-01"]) == (30, 5)
    (wave,) = planning.plan_waves("WH1", actor=floor["actor"])
    heard.clear()

    planning.release_wave(wave.id, floor["actor"])

    (task,) = ReplenishmentTask.select()
    assert (task.trigger, task.wave_id, task.source.code, task.face.code, task.qty, task.status) == (
        "demand", wave.id, "R-01", "A-01", 5, "open")
    assert task.priority > tasks.MIN_PRIORITY
    names = [event for event, _, _ in heard]
    assert names.index("replenishment.waiting") < names.index("task.changed")  # the replenisher hears first
    lines = list(PickLine.select().join(PickTask).where(PickTask.wave == wave.id))
    assert {line.location.code for line in lines} == {"A-01"}  # the picks name the face, not the reserve
    assert sum(line.qty for line in lines) == 10

    waits = pick_everything(floor["picker"], floor, on_wait=lambda: replenish_all(floor["receiver"], task))

    assert waits == 1  # the line whose units were still in reserve waited for them
    assert ReplenishmentTask.get_by_id(task.id).status == "done"
    assert all(line.status == "done" and line.short_qty == 0 for line in PickLine.select())
    assert [(o.status, sum(l.short_qty for l in o.lines), sum(l.picked_qty for l in o.lines))
            for o in (Order.get_by_id(first.id), Order.get_by_id(second.id))] == [("picked", 0, 4), ("picked", 0, 6)]
    assert Wave.get_by_id(wave.id).status == "picked"
    assert units(tee, locs["R-01"]) == (25, 0) and units(tee, locs["A-01"]) == (0, 0)
    assert not Location.get_by_id(locs["A-01"].id).needs_count
    move = StockMove.get(StockMove.reason == "replenish")
    assert (move.qty, move.reserved, move.from_location_id, move.to_location_id, move.ref, move.user_id) == (
        5, -5, locs["R-01"].id, locs["A-01"].id, f"replenish:{task.code}", floor["receiver"].user.id)
    assert inventory.audit() == []


def test_a_wave_served_by_its_faces_makes_no_replenishment(floor):
    tee, locs = floor["tee"], floor["locations"]
    inventory.receive(tee, locs["A-01"], 20, actor=floor["actor"])
    inventory.receive(tee, locs["R-01"], 30, actor=floor["actor"])
    allocated("X", [(tee, 4)], floor)
    (wave,) = planning.plan_waves("WH1", actor=floor["actor"])
    planning.release_wave(wave.id, floor["actor"])
    assert ReplenishmentTask.select().count() == 0


def test_a_cancelled_demand_task_sends_its_picks_back_to_the_reserve(floor, people):
    tee, locs = floor["tee"], floor["locations"]
    inventory.receive(tee, locs["A-01"], 2, actor=floor["actor"])
    inventory.receive(tee, locs["R-01"], 30, actor=floor["actor"])
    allocated("X", [(tee, 6)], floor)
    (wave,) = planning.plan_waves("WH1", actor=floor["actor"])
    planning.release_wave(wave.id, floor["actor"])
    (task,) = ReplenishmentTask.select()
    tasks.cancel(task.code)
    assert sorted(line.location.code for line in PickLine.select()) == ["A-01", "R-01"]
    assert pick_everything(floor["picker"], floor) == 0  # nothing to wait for: picked from the reserve
    assert all(line.short_qty == 0 for line in PickLine.select())
    assert inventory.audit() == []


# --- the minimum's trigger ---------------------------------------------------------------------------

def test_a_pick_leaving_the_face_below_its_minimum_makes_one_task(floor):
    tee, locs = floor["tee"], floor["locations"]
    PickFace.update(min_qty=10, max_qty=30).execute()
    inventory.receive(tee, locs["A-01"], 12, actor=floor["actor"])
    inventory.receive(tee, locs["R-01"], 50, actor=floor["actor"])
    wave = released_wave(floor["warehouse"])
    orders = [make_order(name, [(tee, locs["A-01"], 2)], warehouse=floor["warehouse"], actor=floor["actor"])
              for name in ("A", "B")]
    make_task(wave, "W1-T1", [(orders[0], 0), (orders[1], 0)])

    pick = floor["picker"]
    PICKING.step(pick, "get_work")
    PICKING.step(pick, "scan", code="A-01")
    PICKING.step(pick, "scan", code=TEE_BARCODE)
    PICKING.step(pick, "scan", code=TEE_BARCODE)
    PICKING.step(pick, "scan", code="T-001")  # 10 left: not below 10
    assert ReplenishmentTask.select().count() == 0
    PICKING.step(pick, "scan", code="A-01")
    PICKING.step(pick, "scan", code=TEE_BARCODE)
    PICKING.step(pick, "scan", code=TEE_BARCODE)
    PICKING.step(pick, "scan", code="T-001")  # 8 left: below its minimum

    (task,) = ReplenishmentTask.select()
    assert (task.trigger, task.source.code, task.face.code, task.qty, task.wave_id) == ("min", "R-01", "A-01",
                                                                                        22, None)
    assert task.code == f"RP{task.id}"
    assert tasks.after_pick(tee.id, locs["A-01"].id) is None  # one open task for a face is enough
    assert tasks.plan("WH1") == []
    # two picks that read the face before either made its task: the second one's insert does nothing
    on_hand = Quant.get((Quant.product == tee.id) & (Quant.location == locs["A-01"])).qty
    assert tasks.create_min(locs["A-01"].id, tee.id, on_hand, 10, 30) is None
    assert ReplenishmentTask.select().count() == 1


def test_plan_makes_tasks_for_faces_below_their_minimum(floor):
    tee, mug, locs = floor["tee"], floor["mug"], floor["locations"]
    cover.set_limits("A-01", "TS-01", 5, 20)
    cover.set_limits("A-02", "MG-01", 3, 6)
    inventory.receive(tee, locs["R-01"], 50, actor=floor["actor"])
    inventory.receive(mug, locs["A-02"], 4, actor=floor["actor"])  # above its minimum
    made = tasks.plan("WH1")
    assert [(t.face.code, t.qty) for t in made] == [("A-01", 20)]
    assert PickFace.get((PickFace.product == mug.id)).max_qty == 6


# --- FEFO / FIFO --------------------------------------------------------------------------------------

def test_the_source_is_the_first_expiry_then_the_lowest_lot_then_the_oldest_receipt(floor):
    tee, locs = floor["tee"], floor["locations"]
    actor = floor["actor"]
    inventory.receive(tee, locs["R-01"], 10, actor=actor, lot="L2", expiry=dt.date(2027, 6, 1))
    inventory.receive(tee, locs["R-02"], 10, actor=actor, lot="L9", expiry=dt.date(2027, 3, 1))
    inventory.receive(tee, locs["R-03"], 10, actor=actor, lot="L1")  # no expiry: last
    source = tasks.best_source(tee.id, floor["warehouse"].id)
    assert (source["code"], source["lot"]) == ("R-02", "L9")
    cover.set_limits("A-01", "TS-01", 5, 8)
    (task,) = tasks.plan("WH1")
    assert (task.source.code, task.lot, task.qty) == ("R-02", "L9", 8)
    assert tasks.task_view(tasks.get(task.id))["expiry"] == "2027-03-01"


def test_without_expiry_the_oldest_receipt_goes_first(floor):
    tee, locs = floor["tee"], floor["locations"]
    inventory.receive(tee, locs["R-03"], 10, actor=floor["actor"])
    inventory.receive(tee, locs["R-01"], 10, actor=floor["actor"])
    StockMove.update(at=utcnow() - dt.timedelta(days=30)).where(StockMove.to_location == locs["R-03"].id).execute()
    assert tasks.best_source(tee.id, floor["warehouse"].id)["code"] == "R-03"


# --- the scenario -------------------------------------------------------------------------------------

@pytest.fixture
def min_task(floor):
    inventory.receive(floor["tee"], floor["locations"]["R-01"], 50, actor=floor["actor"])
    cover.set_limits("A-01", "TS-01", 5, 24)
    (task,) = tasks.plan("WH1")
    return task


def test_the_scenario_refuses_wrong_location_item_quantity_and_face(floor, min_task):
    me = floor["receiver"]
    assert REPLENISHING.refused(me, "scan", code="R-01") == ("no_replenish_task", "start")
    state, data, code = REPLENISHING.step(me, "get_work")
    assert (state, code) == ("scan_source", "replenish_task_taken")
    assert {k: data["task"][k] for k in ("code", "sku", "source", "face", "qty", "moved", "trigger")} == {
        "code": min_task.code, "sku": "TS-01", "source": "R-01", "face": "A-01", "qty": 24, "moved": 0,
        "trigger": "min"}
    result = REPLENISHING.run(me, "scan", code="R-02")
    assert (result["ok"], result["message"]["code"], result["next_state"]) == (False, "wrong_location", "scan_source")
    assert result["data"]["scan_source"]["refused"] == {"scanned": "R-02", "expected": "R-01"}
    assert REPLENISHING.step(me, "scan", code="R-01").state == "scan_item"
    assert ReplenishmentTask.get_by_id(min_task.id).status == "moving"
    assert REPLENISHING.refused(me, "scan", code=MUG_BARCODE) == ("wrong_item", "scan_item")
    assert REPLENISHING.refused(me, "scan", code="A-01") == ("scan_item_before_qty", "scan_item")
    assert REPLENISHING.refused(me, "release") == ("invalid_transition", "scan_item")
    state, data, _ = REPLENISHING.step(me, "scan", code=TEE_CASE)  # a case of 12
    assert (state, data["task"]["moved"]) == ("qty", 12)
    assert REPLENISHING.step(me, "scan", code=TEE_CASE).data["task"]["moved"] == 24
    assert REPLENISHING.refused(me, "scan", code=TEE_BARCODE) == ("replenish_over_qty", "qty")  # 25: one too many
    assert REPLENISHING.refused(me, "qty", qty=25) == ("replenish_over_qty", "qty")
    result = REPLENISHING.run(me, "qty", qty=25, lang="en")
    assert result["message"]["text"] == "More than the task: it moves 24. Put the extra units back."
    assert REPLENISHING.step(me, "qty", qty=20).data["task"]["moved"] == 20
    result = REPLENISHING.run(me, "scan", code="A-02")
    assert (result["message"]["code"], result["next_state"]) == ("replenish_wrong_face", "qty")
    assert result["data"]["qty"]["refused"] == {"scanned": "A-02", "expected": "A-01"}
    assert "A-01" in result["message"]["text"]
    assert StockMove.select().where(StockMove.reason == "replenish").count() == 0  # nothing moved yet

    state, data, code = REPLENISHING.step(me, "scan", code="A-01")
    assert (state, code, data["done"]["moved"]) == ("start", "replenish_done", 20)  # a minimum's task may be partial
    assert units(floor["tee"], floor["locations"]["A-01"]) == (20, 0)
    move = StockMove.get(StockMove.reason == "replenish")
    assert (move.qty, move.user_id, move.device_id) == (20, me.user.id, me.device.id)
    assert ReplenishmentTask.get_by_id(min_task.id).status == "done"
    assert REPLENISHING.refused(me, "get_work", as_warning=True) == ("no_replenish_work", "start")
    assert inventory.audit() == []


def test_a_demand_task_is_moved_whole_and_a_task_handed_back_waits_again(floor, people):
    tee, locs = floor["tee"], floor["locations"]
    inventory.receive(tee, locs["R-01"], 30, actor=floor["actor"])
    allocated("X", [(tee, 6)], floor)
    (wave,) = planning.plan_waves("WH1", actor=floor["actor"])
    planning.release_wave(wave.id, floor["actor"])
    (task,) = ReplenishmentTask.select()
    me = floor["receiver"]
    REPLENISHING.step(me, "get_work")
    state, data, code = REPLENISHING.step(me, "release")
    assert (state, code, [t["code"] for t in data["waiting"]]) == ("start", "replenish_released", [task.code])
    REPLENISHING.step(me, "get_work")
    REPLENISHING.step(me, "scan", code="R-01")
    REPLENISHING.step(me, "scan", code=TEE_BARCODE)
    REPLENISHING.step(me, "qty", qty=5)
    assert REPLENISHING.refused(me, "scan", code="A-01") == ("replenish_whole_task", "qty")
    REPLENISHING.step(me, "qty", qty=6)
    assert REPLENISHING.step(me, "scan", code="A-01").code == "replenish_done"
    allocation = Allocation.get()
    assert allocation.location_id == locs["A-01"].id  # the promise moved with the units
    assert units(tee, locs["A-01"]) == (6, 6) and units(tee, locs["R-01"]) == (24, 0)
    assert inventory.audit() == []


def test_a_reloaded_handheld_finds_its_task_in_the_snapshot(floor, min_task):
    from server.services.device import snapshot
    me = floor["receiver"]
    assert snapshot.build(me)["replenishing"] == {"state": "start"}
    REPLENISHING.step(me, "get_work")
    REPLENISHING.step(me, "scan", code="R-01")
    part = snapshot.build(me)["replenishing"]
    assert (part["state"], part["task"]["code"]) == ("scan_item", min_task.code)
    assert "replenishing" not in snapshot.build(floor["picker"])


# --- the pick that waits -------------------------------------------------------------------------------

def test_a_pick_at_a_face_emptied_for_a_running_replenishment_waits_instead_of_shorting(floor):
    tee, locs = floor["tee"], floor["locations"]
    inventory.receive(tee, locs["R-01"], 40, actor=floor["actor"])
    allocated("A", [(tee, 3)], floor)  # the face is empty: all three promised in reserve
    (wave,) = planning.plan_waves("WH1", actor=floor["actor"])
    planning.release_wave(wave.id, floor["actor"])
    (task,) = ReplenishmentTask.select()

    pick = floor["picker"]
    PICKING.step(pick, "get_work")
    for lang, sentence in (("en", "This pick face is being replenished. Wait for the units, or skip the line and "
                                  "come back."), ("zh-CN", "此拣货位正在补货，请稍候，或跳过此行稍后再拣。")):
        result = PICKING.run(pick, "scan", code="A-01", lang=lang)
        assert (result["ok"], result["next_state"], result["message"]) == (
            False, "scan_location", {"type": "warning", "code": "replenishment_running", "text": sentence})
        assert result["data"]["scan_location"]["refused"] == {"task": task.code, "location": "A-01"}
    assert PICKING.run(pick, "short", reason="empty")["message"]["code"] == "replenishment_running"
    line = PickLine.get()
    assert (line.status, line.short_qty) == ("open", 0)  # nothing was written
    assert not Location.get_by_id(locs["A-01"].id).needs_count
    assert PICKING.step(pick, "skip").code == "line_skipped"  # the picker may come back to it

    REPLENISHING.step(floor["receiver"], "get_work")
    REPLENISHING.step(floor["receiver"], "scan", code="R-01")
    REPLENISHING.step(floor["receiver"], "scan", code=TEE_BARCODE)
    REPLENISHING.step(floor["receiver"], "qty", qty=task.qty)
    REPLENISHING.step(floor["receiver"], "scan", code="A-01")

    assert PICKING.step(pick, "scan", code="A-01").state == "scan_item"


# --- days of cover --------------------------------------------------------------------------------------

def test_days_of_cover_use_the_forecast_else_the_last_28_days(floor):
    tee, mug = floor["tee"], floor["mug"]
    PickFace.create(location=floor["locations"]["A-02"], product=mug, min_qty=0, max_qty=0)
    today = dt.date(2026, 12, 6)
    DemandForecast.create(product=tee, warehouse=floor["warehouse"], made_on=today - dt.timedelta(days=1),
                          per_day=7.5, daily="[]")
    for n, qty in enumerate((10, 18)):  # 28 mugs in the last 28 days: one a day
        paid = dt.datetime(2026, 11, 20 + n, 10)
        order = Order.create(channel="tmall", shop="s", external_id=f"M{n}", status="shipped",
                             warehouse=floor["warehouse"], paid_at=paid)
        OrderLine.create(order=order, external_line_id="1", sku_code="MG-01", product=mug, qty=qty)
    cancelled = Order.create(channel="tmall", shop="s", external_id="MX", status="cancelled",
                             warehouse=floor["warehouse"], paid_at=dt.datetime(2026, 11, 25))
    OrderLine.create(order=cancelled, external_line_id="1", sku_code="MG-01", product=mug, qty=100)
    assert cover.per_day(tee.id, floor["warehouse"].id, today) == (7.5, "forecast")
    assert cover.per_day(mug.id, floor["warehouse"].id, today) == (1.0, "history")
    found = {s.sku: s for s in cover.suggest("WH1", min_days=2, max_days=5, apply=True, today=today)}
    assert (found["TS-01"].min_qty, found["TS-01"].max_qty) == (15, 38)
    assert (found["MG-01"].min_qty, found["MG-01"].max_qty, found["MG-01"].source) == (2, 5, "history")
    assert PickFace.get(PickFace.product == tee.id).min_qty == 15
    with pytest.raises(cover.BadLimits):
        cover.set_limits("A-01", "TS-01", 9, 3)


# --- the CLI and the API --------------------------------------------------------------------------------

def test_the_cli_plans_and_lists(floor, db_url, monkeypatch):
    from server.cli import cli
    inventory.receive(floor["tee"], floor["locations"]["R-01"], 50, actor=floor["actor"])
    monkeypatch.setenv("WAVEFLOOR_DATABASE_URL", db_url)
    runner = CliRunner()
    result = runner.invoke(cli, ["replenish", "set", "A-01", "TS-01", "--min", "5", "--max", "15"])
    assert result.exit_code == 0, result.output
    assert "min 5, max 15" in result.output
    result = runner.invoke(cli, ["replenish", "plan", "--warehouse", "WH1", "--json"])
    assert result.exit_code == 0, result.output
    planned = json.loads(result.output)["tasks"]
    assert [(t["face"], t["source"], t["qty"], t["trigger"]) for t in planned] == [("A-01", "R-01", 15, "min")]
    result = runner.invoke(cli, ["replenish", "list"])
    assert planned[0]["code"] in result.output
    result = runner.invoke(cli, ["replenish", "plan", "--warehouse", "NOPE"])
    assert result.exit_code != 0


def test_the_api_checks_roles_and_documents_its_routes(client, token_for, floor):
    def call(method, role, url, **kwargs):
        return getattr(client, method)(url, headers={"Authorization": f"Bearer {token_for(role)}"}, **kwargs)

    inventory.receive(floor["tee"], floor["locations"]["R-01"], 50, actor=floor["actor"])
    body = {"location": "A-01", "sku": "TS-01", "min_qty": 4, "max_qty": 12}
    for role in ("picker", "packer"):
        assert call("put", role, "/api/v1/replenishment/faces", json=body).status_code == 403
    answer = call("put", "office", "/api/v1/replenishment/faces", json=body)
    assert answer.status_code == 200 and answer.get_json() == {
        "location": "A-01", "sku": "TS-01", "name": "纯棉T恤 白 M", "min_qty": 4, "max_qty": 12, "on_hand": 0}
    bad = call("put", "office", "/api/v1/replenishment/faces", json=dict(body, min_qty=20))
    assert (bad.status_code, bad.get_json()["code"]) == (400, "replenish_bad_limits")
    assert call("post", "picker", "/api/v1/replenishment/plan", json={"warehouse": "WH1"}).status_code == 403
    planned = call("post", "receiver", "/api/v1/replenishment/plan", json={"warehouse": "WH1"})
    assert planned.status_code == 201
    (task,) = planned.get_json()["items"]
    assert (task["face"], task["qty"], task["status"]) == ("A-01", 12, "open")
    listed = call("get", "packer", "/api/v1/replenishment/tasks?status=open")
    assert [t["code"] for t in listed.get_json()["items"]] == [task["code"]]
    assert call("get", "picker", "/api/v1/replenishment/faces?warehouse=WH1").get_json()["items"][0]["max_qty"] == 12
    for role in ("office", "receiver", "picker"):
        assert call("post", role, f"/api/v1/replenishment/tasks/{task['code']}/cancel").status_code == 403
    cancelled = call("post", "supervisor", f"/api/v1/replenishment/tasks/{task['code']}/cancel")
    assert (cancelled.status_code, cancelled.get_json()["status"]) == (200, "cancelled")
    again = call("post", "supervisor", f"/api/v1/replenishment/tasks/{task['code']}/cancel")
    assert again.status_code == 409
    suggested = call("post", "office", "/api/v1/replenishment/faces/suggest", json={"warehouse": "WH1"})
    assert suggested.status_code == 200 and suggested.get_json()["items"][0]["source"] == "history"
    assert client.get("/api/v1/replenishment/tasks").status_code == 401
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/replenishment/faces", "/api/v1/replenishment/faces/suggest", "/api/v1/replenishment/tasks",
            "/api/v1/replenishment/plan", "/api/v1/replenishment/tasks/{code}/cancel"} <= set(paths)
