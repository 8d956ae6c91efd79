"""The put wall scenario (播种墙): a batch wave planned and released by the wave planner, picked
into one tote through the picking scenario, then sorted into its orders' slots through
``commands.execute`` with real principals; packing opens a sorted order by its slot label.
Both engines."""
from __future__ import annotations

import re
import uuid

import pytest

from server import events
from server.models import (Barcode, Device, Location, Order, OrderEvent, PickTask, Product, Quant, StockMove,
                           ToteSort, Wave, WaveOrder, Warehouse)
from server.services.auth import Principal
from tests.scenario_driver import Driver
from server.services.device import commands, snapshot  # noqa: F401
from server.services.orders import office
from server.services.orders import lifecycle as orders  # noqa: F401
from server.services.packages import shipping  # noqa: F401
from server.services.scenarios import packing, picking, putwall  # noqa: F401
from server.services.stock import inventory  # noqa: F401
from server.services.waves import picks as picking_ledger  # noqa: F401
from server.services.waves import progress as wave_progress
from server.services.waves import planning as waves  # noqa: F401
from tests.test_cli import wavefloor
from tests.test_orders import stock
from tests.test_waves import floor, heard, place, sku, status  # noqa: F401  (fixtures)

TOTE = "HZ-T001"
ORDERS = {  # each order has a SKU of its own, so a test can start any slot first
    "B1": [(sku(1, 0), 4), (sku(5, 2), 3), (sku(6, 0), 1)],
    "B2": [(sku(1, 0), 2), (sku(3, 3), 5)],
    "B3": [(sku(5, 2), 6), (sku(2, 4), 1)],
}


# --- a batch wave, planned, released and picked into one tote ------------------------------------

PICKING, PUTWALL, PACKING = Driver("picking"), Driver("putwall"), Driver("packing")
step, refused = PUTWALL.step, PUTWALL.refused


def at(code: str, role: str, people) -> Principal:
    device, _ = Device.get_or_create(code=code, defaults={"kind": "kiosk"})
    return Principal(people[role], [role], device)


def pick_everything(picker: Principal, tote: str, short: set[str] = frozenset()) -> None:
    """Walk the picker's task: each location, one scan of the item, the rest typed, the tote;
    the location of a SKU in ``short`` is found empty (缺货)."""
    result = PICKING.run(picker, "get_work")
    while result["next_state"] != "task_done":
        assert result["ok"], result
        state, data = result["next_state"], result["data"][result["next_state"]]
        line = data["line"]
        if state == "scan_location":
            result = PICKING.run(picker, "scan", code=line["location"])
        elif state == "scan_item" and line["sku"] in short:
            result = PICKING.run(picker, "short", reason="empty")
        elif state == "scan_item":
            result = PICKING.run(picker, "scan", code=line["sku"])
        elif state == "qty":
            result = PICKING.run(picker, "qty", qty=line["remaining"])
        else:
            result = PICKING.run(picker, "scan", code=tote)


def batch_wave(orders: dict) -> tuple[Wave, dict[int, Location]]:
    """WH-HZ with two totes and put wall 1 of 6 slots; a batch wave of ``orders``, released.
    Returns the wave and the slot labels by slot number."""
    wh = Warehouse.get(Warehouse.code == "WH-HZ")
    Location.create(warehouse=wh, code=TOTE, kind="tote")
    Location.create(warehouse=wh, code="HZ-T002", kind="tote")
    labels = {n: Location.create(warehouse=wh, code=f"HZ-PW1-{n:02d}", kind="pack") for n in range(1, 7)}
    Barcode.create(code="CASE-52", product=Product.get(Product.sku == sku(5, 2)), multiplier=4, kind="case")
    place(*orders.items())
    (wave,) = waves.plan_waves("WH-HZ", actor=inventory.system_actor())
    assert wave.strategy == "batch_putwall"
    waves.release_wave(wave.id, inventory.system_actor())
    return wave, labels


def slots_of(wave: Wave) -> dict[str, int]:
    return {o.external_id: wo.slot for wo in WaveOrder.select().where(WaveOrder.wave == wave.id) for o in [wo.order]}


@pytest.fixture
def wall(floor, people):  # noqa: F811
    """WH-HZ with a tote, put wall 1 of 6 slots and a batch wave of B1, B2, B3 picked into the tote."""
    wave, labels = batch_wave(ORDERS)
    assert PickTask.select().where(PickTask.wave == wave.id).count() == 1
    pick_everything(at("HH-01", "picker", people), TOTE)
    slots = slots_of(wave)
    assert sorted(slots.values()) == [1, 2, 3]
    assert {Order.get(Order.external_id == o).status for o in ORDERS} == {"waved"}  # sorted later
    return {"wave": Wave.get_by_id(wave.id), "tote": Location.get(Location.code == TOTE), "labels": labels,
            "slots": slots, "warehouse": Warehouse.get(Warehouse.code == "WH-HZ")}


@pytest.fixture
def station(people):
    return at("PW-01", "packer", people)


def in_tote(product_sku: str | None = None) -> int:
    query = Quant.select().join(Location).where(Location.code == TOTE)
    if product_sku is not None:
        query = query.switch(Quant).join(Product).where(Product.sku == product_sku)
    return sum(q.qty for q in query)


def at_slot(label: Location) -> dict:
    return {q.product.sku: q.qty for q in Quant.select().where((Quant.location == label.id) & (Quant.qty > 0))}


def sort_rest(principal) -> list[str]:
    """Sort every unit left in the tote (the SKU with the fewest units first); the answer codes."""
    codes = []
    state, data, _ = step(principal, "current")
    while state == "scan_item":
        left = sorted((q.qty, q.product.sku) for q in Quant.select().join(Location)
                      .where((Location.code == TOTE) & (Quant.qty > 0)))
        state, data, _ = step(principal, "scan", code=left[0][1])
        assert state == "put"
        state, data, code = step(principal, "scan", code=data["put"]["label"])
        codes.append(code)
    return codes


# --- the state machine ---------------------------------------------------------------------------

def test_opening_a_tote_answers_the_whole_wall(wall, station):
    result = PUTWALL.run(station, "scan", code=TOTE)
    by_slot = {n: o for o, n in wall["slots"].items()}
    units = {o: sum(q for _, q in lines) for o, lines in ORDERS.items()}
    assert result == {
        "ok": True, "next_state": "scan_item",
        "data": {"scan_item": {
            "station": "PW-01", "wall": 1,
            "tote": {"code": TOTE, "wave": wall["wave"].code, "units": 22},
            "slots": [{"slot": n, "order": by_slot[n], "status": "waved", "expected": units[by_slot[n]], "put": 0,
                       "complete": False, "label": f"HZ-PW1-{n:02d}"} for n in (1, 2, 3)],
            "orders": {"total": 3, "complete": 0}}},
        "message": {"type": "info", "code": "tote_opened", "text": "周转箱已打开，请扫描商品。"}}
    row = ToteSort.get(ToteSort.tote == wall["tote"].id)
    assert (row.station, row.wave_id, row.user_id) == ("PW-01", wall["wave"].id, station.user.id)
    assert PUTWALL.run(station, "current")["next_state"] == "scan_item"


def test_sort_a_tote_slot_by_slot_into_picked_orders(wall, station, db_url, tmp_path):
    heard = []
    events.subscribe(listen := lambda event, payload, rooms: heard.append((event, payload, rooms)))
    slots, labels = wall["slots"], wall["labels"]
    assert refused(station, "scan", code=sku(1, 0)) == ("no_open_tote", "scan_tote")
    step(station, "scan", code=TOTE)

    # B2's own SKU first, so B2 is started: SKU-10, wanted by B1 and B2, then goes to B2
    state, data, code = step(station, "scan", code=sku(3, 3))
    assert (state, code, data["put"]["slot"], data["put"]["order"]) == ("put", "put_to_slot", slots["B2"], "B2")
    assert data["put"]["label"] == labels[slots["B2"]].code and data["put"]["qty"] == 1
    assert in_tote() == 22 and not StockMove.select().where(StockMove.reason == "put").exists()  # nothing moved
    wrong = labels[slots["B1"]].code
    assert refused(station, "scan", code=wrong) == ("wrong_slot", "put")
    assert refused(station, "scan", code="HZ-PW1-06") == ("wrong_slot", "put")
    assert in_tote() == 22 and at_slot(labels[slots["B1"]]) == {}

    state, data, code = step(station, "scan", code=labels[slots["B2"]].code)
    assert (state, code) == ("scan_item", "unit_put")
    move = StockMove.get(StockMove.reason == "put")
    assert (move.from_location.code, move.to_location.code, move.qty, move.ref) == (
        TOTE, labels[slots["B2"]].code, 1, f"putwall:{Order.get(Order.external_id == 'B2').id}")
    assert (move.user_id, move.device.code) == (station.user.id, "PW-01")
    assert in_tote(sku(3, 3)) == 4 and at_slot(labels[slots["B2"]]) == {sku(3, 3): 1}
    b2 = next(s for s in data["slots"] if s["order"] == "B2")
    assert (b2["put"], b2["expected"], b2["complete"]) == (1, 7, False)

    assert step(station, "scan", code=sku(1, 0))[1]["put"]["slot"] == slots["B2"]  # the started slot first
    step(station, "scan", code=labels[slots["B2"]].code)
    # a case of 4: only B3 (6 wanted) takes a whole case; then 5 are left, B1 wants 3 and B3 2
    state, data, _ = step(station, "scan", code="CASE-52")
    assert (data["put"]["order"], data["put"]["qty"]) == ("B3", 4)
    step(station, "scan", code=data["put"]["label"])
    assert in_tote(sku(5, 2)) == 5 and at_slot(labels[slots["B3"]]) == {sku(5, 2): 4}
    assert refused(station, "scan", code="CASE-52") == ("split_case", "scan_item")

    codes = sort_rest(station)
    assert codes.count("slot_complete") == 2 and codes[-1] == "tote_done"  # the last put completes the third
    assert step(station, "current")[0] == "scan_tote"
    for external_id, lines in ORDERS.items():
        order = Order.get(Order.external_id == external_id)
        assert order.status == "picked"
        assert at_slot(labels[slots[external_id]]) == dict(lines)
    assert in_tote() == 0 and inventory.audit() == []
    assert ToteSort.get(ToteSort.tote == wall["tote"].id).station is None
    progress = [(payload, rooms) for event, payload, rooms in heard if event == "putwall.progress"]
    assert progress and all(rooms == ("station:PW-01", "wallboard") for _, rooms in progress)
    assert progress[-1][0]["event"] == "tote_done" and progress[-1][0]["complete"] == 3
    events.unsubscribe(listen)
    from server.db import database
    database.obj.close_all()
    assert "every quant equals the ledger" in wavefloor(db_url, "stock", "audit", tmp_path=tmp_path).stdout


def test_refusals_have_stable_codes_and_change_nothing(wall, station, people):
    step(station, "scan", code=TOTE)
    moves = StockMove.select().count()
    assert refused(station, "scan", code="NOPE-404") == ("unknown_barcode", "scan_item")
    assert refused(station, "scan", code=sku(0, 0)) == ("not_in_tote", "scan_item")  # in stock, not in this wave
    assert refused(station, "scan", code="HZ-PW1-01") == ("scan_item_first", "scan_item")
    assert refused(station, "scan", code="") == ("unknown_barcode", "scan_item")
    assert refused(station, "fly") == ("unknown_action", "error")
    assert refused(station, "scan", code="HZ-T002") == ("nothing_to_sort", "scan_item")  # an empty tote
    assert StockMove.select().count() == moves and in_tote() == 22
    assert ToteSort.get(ToteSort.tote == wall["tote"].id).station == "PW-01"  # still open here

    _, data, _ = step(station, "scan", code=sku(2, 4))  # B3 wants one; it gets it
    assert step(station, "scan", code=data["put"]["label"])[2] == "unit_put"
    inventory.receive(Product.get(Product.sku == sku(2, 4)), wall["tote"], 1, actor=inventory.system_actor())
    assert refused(station, "scan", code=sku(2, 4)) == ("not_needed", "scan_item")  # a unit no order wants

    for role in ("office", "receiver"):
        result = PUTWALL.run(at("PW-01", role, people), "scan", code=TOTE)
        assert (result["ok"], result["message"]["code"]) == (False, "forbidden")
    no_station = Principal(people["packer"], ["packer"], None)
    assert PUTWALL.run(no_station, "current")["message"]["code"] == "no_wall_station"


def sort_rest_but(principal, held_back: str) -> list[str]:
    """Sort every unit but one of ``held_back`` (the extra one)."""
    codes = []
    while True:
        left = sorted((q.qty, q.product.sku) for q in Quant.select().join(Location)
                      .where((Location.code == TOTE) & (Quant.qty > 0)))
        left = [(qty, code) for qty, code in left if code != held_back or qty > 1]
        if not left:
            return codes
        state, data, _ = step(principal, "scan", code=left[0][1])
        codes.append(step(principal, "scan", code=data["put"]["label"])[2])


def test_the_last_put_of_a_wave_with_units_left_over_says_so(wall, station):
    step(station, "scan", code=TOTE)
    inventory.receive(Product.get(Product.sku == sku(2, 4)), wall["tote"], 1, actor=inventory.system_actor())
    codes = sort_rest_but(station, sku(2, 4))
    result = PUTWALL.run(station, "current")
    assert codes[-1] == "wave_sorted" and result["next_state"] == "scan_tote"  # the tote went aside
    assert refused(station, "scan", code=TOTE) == ("nothing_to_sort", "scan_tote")
    assert in_tote(sku(2, 4)) == 1 and inventory.audit() == []


def test_replaying_a_key_changes_nothing(wall, station):
    step(station, "scan", code=TOTE)
    state, data, _ = step(station, "scan", code=sku(6, 0))
    key = "put-" + uuid.uuid4().hex
    first = PUTWALL.run(station, "scan", key=key, code=data["put"]["label"])
    assert (first["ok"], first["message"]["code"]) == (True, "unit_put")
    moves = StockMove.select().where(StockMove.reason == "put").count()
    assert PUTWALL.run(station, "scan", key=key, code=data["put"]["label"]) == first
    assert StockMove.select().where(StockMove.reason == "put").count() == moves == 1
    assert in_tote(sku(6, 0)) == 0


def test_two_stations_never_sort_one_tote(wall, station, people):
    other = at("PW-02", "picker", people)
    step(station, "scan", code=TOTE)
    assert refused(other, "scan", code=TOTE) == ("tote_open_elsewhere", "scan_tote")
    assert step(station, "close")[0::2] == ("scan_tote", "tote_put_aside")
    assert step(other, "scan", code=TOTE)[0] == "scan_item"
    assert refused(station, "scan", code=TOTE) == ("tote_open_elsewhere", "scan_tote")


def test_two_stations_scanning_one_tote_at_the_same_moment(wall, people):
    stations = [at(f"PW-1{n}", "packer", people) for n in range(2)]
    results = PUTWALL.at_the_same_moment(stations, "scan", code=TOTE)
    codes = sorted(result["message"]["code"] for result in results)
    assert codes == ["tote_open_elsewhere", "tote_opened"]
    assert ToteSort.select().where(ToteSort.station.is_null(False)).count() == 1


def test_a_reloaded_kiosk_resumes_its_tote_and_put(wall, station, people):
    step(station, "scan", code=TOTE)
    _, shown, _ = step(station, "scan", code=sku(2, 4))
    resumed = snapshot.build(station)["putwall"]
    assert resumed["state"] == "put" and resumed["put"] == shown["put"]
    assert resumed["put"]["slot"] == wall["slots"]["B3"]
    assert snapshot.build(at("PW-02", "picker", people))["putwall"]["state"] == "scan_tote"
    assert "putwall" not in snapshot.build(at("PW-03", "office", people))


def test_packing_opens_a_sorted_order_by_its_slot_label(wall, station, people):
    step(station, "scan", code=TOTE)
    assert sort_rest(station)[-1] == "tote_done"
    packer = at("PK-01", "packer", people)
    for external_id, n in sorted(wall["slots"].items(), key=lambda item: item[1]):
        order = Order.get(Order.external_id == external_id)
        assert [o.id for o in packing.orders_for_code(wall["labels"][n].code)] == [order.id]
        plan = shipping.units_plan(order)
        assert sum(qty for *_, qty in plan) == sum(q for _, q in ORDERS[external_id])
        assert {location for _, location, _, _ in plan} == {wall["labels"][n].id}  # its own slot only
    result = PACKING.run(packer, "scan", code=wall["labels"][wall["slots"]["B2"]].code)
    assert (result["ok"], result["next_state"]) == (True, "verify")
    assert result["data"]["verify"]["order"]["number"] == "B2"
    assert result["data"]["verify"]["units"] == {"expected": 7, "verified": 0}
    assert PACKING.run(packer, "scan", code=sku(3, 3))["message"]["code"] == "unit_verified"


# --- short picks, and the end of the wave ----------------------------------------------------------

NOTHING_LEFT = ("picked", "put wall: nothing left to put")


def last_event(external_id: str) -> tuple[str, str]:
    event = (OrderEvent.select().join(Order).where(Order.external_id == external_id)
             .order_by(OrderEvent.id.desc()).first())
    return event.action, event.detail


def wave_status(wave: Wave) -> str:
    return Wave.get_by_id(wave.id).status


def test_an_order_shorted_to_nothing_is_picked_when_its_task_finishes(floor, people, station, heard):  # noqa: F811
    wave, labels = batch_wave({**ORDERS, "B4": [(sku(4, 0), 4), (sku(4, 1), 3)]})  # no other face holds them
    pick_everything(at("HH-01", "picker", people), TOTE, short={sku(4, 0), sku(4, 1)})
    assert (status("B4"), last_event("B4")) == ("picked", NOTHING_LEFT)  # no put would ever complete it
    assert {status(o) for o in ORDERS} == {"waved"} and wave_status(wave) == "picked"
    slots = slots_of(wave)
    told = [(payload["event"], payload["slot"], rooms, in_transaction)
            for event, payload, rooms, in_transaction in heard if event == "putwall.progress"]
    assert told == [("nothing_left_to_put", {"slot": slots["B4"], "order": "B4", "put": 0, "expected": 0,
                                             "complete": True}, ("wallboard",), False)]

    Location.update(active=False).where(Location.id == labels[slots["B4"]].id).execute()  # needs no label
    _, data, _ = step(station, "scan", code=TOTE)
    assert data["orders"] == {"total": 4, "complete": 1}
    assert {"slot": slots["B4"], "order": "B4", "status": "picked", "expected": 0, "put": 0, "complete": True,
            "label": ""} in data["slots"]
    assert sort_rest(station)[-1] == "tote_done"  # the others complete at the wall as ever
    assert {status(o) for o in ORDERS} == {"picked"} and wave_status(wave) == "done"
    assert at_slot(labels[slots["B4"]]) == {} and in_tote() == 0 and inventory.audit() == []


def test_an_order_whose_last_units_are_shorted_after_the_rest_were_put(floor, people, station):  # noqa: F811
    wave, labels = batch_wave({**ORDERS, "B5": [(sku(4, 0), 5), (sku(7, 1), 2)]})  # SKU-71: zone B only
    tasks = PickTask.select().where(PickTask.wave == wave.id).order_by(PickTask.seq)
    assert [task.zone.code for task in tasks] == ["A", "B"]
    picker = at("HH-01", "picker", people)
    pick_everything(picker, TOTE)  # zone A
    step(station, "scan", code=TOTE)
    assert sort_rest(station)[-1] == "tote_done"
    b5 = labels[slots_of(wave)["B5"]]
    assert (at_slot(b5), status("B5"), wave_status(wave)) == ({sku(4, 0): 5}, "waved", "picking")

    pick_everything(picker, "HZ-T002", short={sku(7, 1)})  # zone B: B5's two units are not there
    assert (status("B5"), last_event("B5")) == ("picked", NOTHING_LEFT)
    assert wave_status(wave) == "done"  # the task made the wave picked, and the wall had nothing left
    assert refused(station, "scan", code="HZ-T002") == ("nothing_to_sort", "scan_tote")


def test_an_order_with_a_line_of_its_own_still_to_pick_waits_for_it(floor, people, station):  # noqa: F811
    wave, labels = batch_wave({**ORDERS, "B5": [(sku(4, 0), 5), (sku(7, 1), 2)]})
    stock(sku(7, 1), "HZ-7-5", 10)  # after the orders were promised their units: free to re-allocate
    first, second = at("HH-01", "picker", people), at("HH-02", "supervisor", people)
    zone_a = PICKING.run(first, "get_work")["data"]["scan_location"]["line"]
    zone_b = PICKING.run(second, "get_work")["data"]["scan_location"]["line"]
    assert not zone_a["location"].startswith("HZ-7-") and (zone_b["location"], zone_b["sku"]) == ("HZ-7-1", sku(7, 1))
    assert PICKING.run(second, "scan", code="HZ-7-1")["next_state"] == "scan_item"
    result = PICKING.run(second, "short", reason="empty")  # re-allocated to HZ-7-5, for B5 alone
    assert result["data"]["scan_location"]["line"]["location"] == "HZ-7-5"

    pick_everything(first, TOTE)  # zone A
    step(station, "scan", code=TOTE)
    assert sort_rest(station)[-1] == "tote_done"
    assert status("B5") == "waved"  # its slot has all the wall brings it, but two units are still on a shelf
    assert {status(o) for o in ORDERS} == {"picked"} and wave_status(wave) == "picking"

    pick_everything(second, "HZ-T002")  # into a tote of B5's own
    assert (status("B5"), last_event("B5")) == ("picked", NOTHING_LEFT)
    assert wave_status(wave) == "done"
    assert at_slot(labels[slots_of(wave)["B5"]]) == {sku(4, 0): 5} and inventory.audit() == []


def test_sorting_the_last_slot_makes_the_wave_done(wall, station, heard):  # noqa: F811
    step(station, "scan", code=TOTE)
    sort_rest_but(station, sku(6, 0))  # B1's only unit of it is the last
    assert (status("B1"), wave_status(wall["wave"])) == ("waved", "picked")
    _, data, _ = step(station, "scan", code=sku(6, 0))
    assert step(station, "scan", code=data["put"]["label"])[2] == "tote_done"
    assert (status("B1"), wave_status(wall["wave"])) == ("picked", "done")
    wave_progress.flush_progress()  # the wall screen hears of it a moment after the commit
    assert [payload["status"] for event, payload, *_ in heard if event == "wave.progress"][-1] == "done"


def test_a_wave_with_a_pick_task_still_open_is_not_done(floor, people, station):  # noqa: F811
    wave, _ = batch_wave({**ORDERS, "B6": [(sku(7, 1), 4), (sku(7, 2), 3)]})  # B6 is picked in zone B only
    picker = at("HH-01", "picker", people)
    pick_everything(picker, TOTE)  # zone A
    office.cancel(Order.get(Order.external_id == "B6"), inventory.system_actor(), "channel: refunded")
    step(station, "scan", code=TOTE)
    assert sort_rest(station)[-1] == "tote_done"
    assert {status(o) for o in ORDERS} == {"picked"}
    assert wave_status(wave) == "picking"  # nothing left to sort, but zone B is not picked
    pick_everything(picker, "HZ-T002")
    assert wave_status(wave) == "done"
    assert refused(station, "scan", code="HZ-T002") == ("nothing_to_sort", "scan_tote")


# --- the page -------------------------------------------------------------------------------------

def test_the_page_is_behind_a_login_and_a_kiosk_brings_its_token(client, token_for):
    assert client.get("/putwall?station=PW-05").headers["Location"].startswith("/login")
    token = token_for("packer", device="PW-05")
    moved = client.get(f"/putwall?token={token}")
    assert (moved.status_code, moved.headers["Location"]) == (302, "/putwall?station=PW-05")  # off the address bar
    page = client.get("/putwall?station=PW-05", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'data-station="PW-05"' in page and 'data-session-station="PW-05"' in page
    assert "播种墙" in page and "Put wall" in page  # both languages for the page's script
    assert "/static/putwall.js" in page and not re.search(r'(src|href)="(https?:)?//', page)  # nothing from outside
    socket = client.get("/putwall/socket-token").get_json()
    assert (socket["token"], socket["station"]) == (token, "PW-05")
    office = client.get("/putwall", headers={"Authorization": f"Bearer {token_for('office')}"})
    assert office.status_code == 403
