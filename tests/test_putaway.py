"""Putaway (上架): the suggestion (pick face with room, else the nearest free reserve location in
the SKU's zone, FEFO), the scenario through ``commands.execute``, and a putaway beside a pick at
the same location. Both engines."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from server.models import AuditLog, Location, Lpn, PickFace, Quant, StockMove
from server.services.device import snapshot
from server.services.receiving import putaway as service
from server.services.scenarios import picking, putaway, receiving  # noqa: F401  (registers the scenarios)
from server.services.stock import inventory
from tests.receiving_floor import GS1_TEE, another_receiver, receiver
from tests.receiving_floor import floor, hand  # noqa: F401  (fixtures)
from tests.scenario_driver import Driver
from tests.test_picking import make_order, make_task, released_wave

RECEIVING, PUTAWAY, PICKING = Driver("receiving"), Driver("putaway"), Driver("picking")
step, refused, run = PUTAWAY.step, PUTAWAY.refused, PUTAWAY.run


def received(hand, *scans, qty=None) -> Lpn:
    """A plate received and labelled (plan none: ready) through the receiving scenario."""
    if RECEIVING.run(hand, "current")["next_state"] == "start":
        RECEIVING.step(hand, "start", code="PO-001")
    for code in scans:
        RECEIVING.step(hand, "scan", code=code)
    if qty is not None:
        RECEIVING.step(hand, "qty", qty=qty)
    labelled = RECEIVING.step(hand, "label").data["labelled"]
    return Lpn.get(Lpn.sscc == labelled["sscc"])


def quant(product, location, state="available", lot=""):
    q = Quant.get_or_none((Quant.product == product) & (Quant.location == location) & (Quant.state == state)
                          & (Quant.lot == lot))
    return q.qty if q else 0


def plate(lpn: Lpn, expiry=None) -> service.Plate:
    return service.Plate(lpn.id, lpn.product_id, lpn.qty, expiry, lpn.location_id)


# --- suggestions ------------------------------------------------------------------------------------

def test_pick_face_with_room_else_the_nearest_free_reserve_in_the_zone(floor, hand):
    tee, locs = floor["tee"], floor["locations"]
    inventory.receive(tee, locs["A-01"], 30, actor=inventory.system_actor())  # the face holds 40: room for 10
    small = received(hand, "6900000000014", qty=8)
    big = received(hand, "16900000000011")
    answers = service.suggest_many(floor["warehouse"].id, [plate(small), plate(big)])
    assert (answers[small.id].code, answers[small.id].why) == ("A-01", "pick_face")
    # 12 do not fit the 2 left: the free reserve nearest DOCK-1 (aisle 0, y 0) in zone Z1; R-01 has no
    # geometry, R-10 is aisle 0 at 2 m
    assert (answers[big.id].code, answers[big.id].why) == ("R-10", "reserve")
    assert answers[big.id].distance_m == pytest.approx(2.0)
    inventory.receive(tee, floor["reserves"][0], 1, actor=inventory.system_actor())  # R-10 is not free now
    answers = service.suggest_many(floor["warehouse"].id, [plate(big)])
    assert answers[big.id].code == "R-11"  # aisle 1 at 3 m: 3 m across and 3 m in
    assert answers[big.id].distance_m == pytest.approx(6.0)


def test_several_plates_share_room_and_reserves_first_expiry_first(floor):
    tee, mug = floor["tee"], floor["mug"]
    dock = floor["dock"].id
    plates = [service.Plate(1, tee.id, 30, dt.date(2027, 9, 1), dock),
              service.Plate(2, tee.id, 30, dt.date(2027, 3, 1), dock),
              service.Plate(3, tee.id, 30, None, dock),
              service.Plate(4, mug.id, 5, None, dock)]
    answers = service.suggest_many(floor["warehouse"].id, plates)
    assert answers[2].code == "A-01"  # the earliest expiry gets the pick face (40 units)
    assert answers[1].code == "R-10" and answers[3].code == "R-11"  # then the reserves, nearest first
    assert answers[4].code == "A-02" or answers[4].why == "reserve"
    assert len({a.code for a in answers.values()}) == 4


def test_a_pick_location_holding_the_sku_serves_when_it_has_no_pick_face(floor):
    mug = floor["mug"]
    inventory.receive(mug, floor["locations"]["A-02"], 3, actor=inventory.system_actor())
    Location.update(capacity_units=5).where(Location.code == "A-02").execute()
    dock = floor["dock"].id
    answers = service.suggest_many(floor["warehouse"].id, [service.Plate(1, mug.id, 2, None, dock),
                                                          service.Plate(2, mug.id, 2, None, dock)])
    assert (answers[1].code, answers[1].why) == ("A-02", "pick")
    assert answers[2].why == "reserve"  # 3 + 2 fill the capacity of 5


# --- the scenario --------------------------------------------------------------------------------------

def test_putaway_at_the_suggested_location(floor, hand):
    tee = floor["tee"]
    lpn = received(hand, GS1_TEE, qty=6)
    state, data, code = step(hand, "get_work")
    assert state == "start" and [(w["sscc"], w["suggested"], w["lot"]) for w in data["waiting"]] == [
        (lpn.sscc, "A-01", "L2406A")]
    state, data, code = step(hand, "scan", code=f"(00){lpn.sscc}")
    assert (state, code, data["suggested"]["code"], data["lpn"]["qty"]) == ("scan_location", "lpn_taken_up", "A-01", 6)
    assert snapshot.build(hand)["putaway"]["state"] == "scan_location"  # a reload returns to the plate
    state, data, code = step(hand, "scan", code="A-01")
    assert (state, code, data["location"]) == ("confirm_qty", "putaway_location_ok", "A-01")
    assert refused(hand, "qty", qty=5, location="A-01") == ("putaway_qty_mismatch", "scan_location")
    state, data, code = step(hand, "qty", qty=6, location="A-01")
    assert (state, code, data["stored"]["location"]) == ("start", "lpn_stored", "A-01")
    lpn = Lpn.get_by_id(lpn.id)
    assert (lpn.status, lpn.location.code, lpn.stored_by_id) == ("stored", "A-01", hand.user.id)
    assert quant(tee, floor["locations"]["A-01"], lot="L2406A") == 6 and quant(tee, floor["dock"], lot="L2406A") == 0
    move = StockMove.get(StockMove.reason == "putaway")
    assert (move.ref, move.qty, move.from_location_id, move.to_state) == (f"lpn:{lpn.sscc}", 6, floor["dock"].id,
                                                                          "available")
    assert Quant.get((Quant.location == floor["locations"]["A-01"]) & (Quant.lot == "L2406A")).expiry == \
        dt.date(2027, 6, 30)
    assert refused(hand, "get_work", as_warning=True) == ("no_putaway_work", "start")
    assert inventory.audit() == []


def test_another_location_needs_a_reason_which_is_recorded(floor, hand):
    lpn = received(hand, "16900000000011")
    step(hand, "scan", code=lpn.sscc)
    state, data, code = step(hand, "scan", code="R-20")
    assert (state, code, data["location"], data["suggested"]["code"]) == ("reason", "location_not_suggested",
                                                                          "R-20", "A-01")
    assert refused(hand, "qty", qty=12, location="R-20") == ("putaway_reason_required", "scan_location")
    assert refused(hand, "reason", location="R-20", reason="because") == ("putaway_reason_required", "scan_location")
    state, data, code = step(hand, "reason", location="R-20", reason="location_blocked")
    assert (state, data["reason"]) == ("confirm_qty", "location_blocked")
    step(hand, "qty", qty=12, location="R-20", reason="location_blocked")
    log = AuditLog.get(AuditLog.action == "putaway.elsewhere")
    assert (log.target, log.detail, log.user_id) == (f"lpn:{lpn.sscc}", "R-20 instead of A-01: location_blocked",
                                                     hand.user.id)
    assert quant(floor["tee"], floor["far"]) == 12


def test_refusals(floor, hand, people):
    result = run(hand, "scan", code="000000000000000000")
    assert (result["message"]["code"], "000000000000000000" in result["message"]["text"]) == ("unknown_lpn", True)
    RECEIVING.step(hand, "start", code="PO-001")
    RECEIVING.step(hand, "scan", code="6900000000021")
    open_plate = Lpn.get()
    assert refused(hand, "scan", code=open_plate.sscc) == ("lpn_not_ready", "start")
    lpn = received(hand, "6900000000014")
    other = another_receiver(1)
    step(other, "scan", code=lpn.sscc)
    assert refused(hand, "scan", code=lpn.sscc) == ("lpn_taken", "start")
    assert refused(other, "scan", code="DOCK-1") == ("not_storage_location", "scan_location")
    assert refused(other, "scan", code="T-001") == ("not_storage_location", "scan_location")
    assert refused(other, "scan", code="NOWHERE") == ("unknown_barcode", "scan_location")
    assert refused(other, "scan", code=lpn.sscc) == ("lpn_in_hand", "scan_location")
    assert step(other, "release").state == "start"
    assert step(hand, "scan", code=lpn.sscc).state == "scan_location"
    assert refused(people and receiver(people, "HH-P1", "picker"), "get_work") == ("forbidden", "error")


def test_waiting_plates_reach_the_receivers(floor, hand, heard):
    received(hand, "6900000000014")
    assert ("putaway.waiting", 1, ("role:receiver", "wallboard", "warehouse:WH1")) in [
        (e, p.get("waiting"), r) for e, p, r in heard]


# --- a putaway beside a pick -------------------------------------------------------------------------------

def test_a_putaway_and_a_pick_at_the_same_location_keep_the_ledger(floor, hand, people):
    """A picker takes tees from A-01 into a tote while a receiver puts a plate of tees away at
    A-01, at the same moment, several times over: every unit is where the ledger says."""
    from server.models import Device
    from server.services.auth import Principal
    tee, locs, wh = floor["tee"], floor["locations"], floor["warehouse"]
    PickFace.update(max_qty=0).execute()  # the face takes every plate
    actor = inventory.Actor(people["receiver"].id)
    inventory.receive(tee, locs["A-01"], 10, actor=actor)
    picker = Principal(people["picker"], ["picker"], Device.create(code="HH-P9", kind="handheld"))
    rounds = 3
    for n in range(rounds):
        lpn = received(hand, "6900000000014", qty=2)
        order = make_order(f"P{n}", [(tee, locs["A-01"], 2)], warehouse=wh, actor=actor)
        wave = released_wave(wh, code=f"W{n}")
        make_task(wave, f"W{n}-T1", [(order, 1)])
        tote = Location.create(warehouse=wh, code=f"T-10{n}", kind="tote")
        assert PICKING.step(picker, "get_work").state == "scan_location"
        PICKING.step(picker, "scan", code="A-01")
        PICKING.step(picker, "scan", code="6900000000014")
        PICKING.step(picker, "scan", code="6900000000014")
        step(hand, "scan", code=lpn.sscc)
        step(hand, "scan", code="A-01")
        gate, answers = threading.Barrier(2), []

        def pick():
            gate.wait()
            answers.append(PICKING.run(picker, "scan", code=tote.code)["message"]["code"])

        def store():
            gate.wait()
            answers.append(PUTAWAY.run(hand, "qty", qty=2, location="A-01")["message"]["code"])
        threads = [threading.Thread(target=pick), threading.Thread(target=store)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answers) == ["lpn_stored", "task_done"], answers
    assert quant(tee, locs["A-01"]) == 10 + rounds * 2 - rounds * 2
    assert sum(quant(tee, Location.get(Location.code == f"T-10{n}")) for n in range(rounds)) == rounds * 2
    assert inventory.audit() == []
