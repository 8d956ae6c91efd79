"""Cycle counts (盘点) through ``commands.execute`` with real principals: the blind counting
scenario (a location, units, a case code with a typed quantity, "empty", refusals), the recount by
another counter, the supervisor's approval posting one adjustment per line with a variance, a
picker picking the same location during the count, the plans (ABC from picks) and the API's role
checks. Both engines."""
from __future__ import annotations

import datetime as dt

import pytest

from server.models import AuditLog, CountLine, CountTask, Location, Product, Quant, StockMove, Zone
from server.models.base import utcnow
from server.services.auth import Principal
from server.services.counts import plans, review, tasks
from server.services.device import snapshot
from server.services.scenarios import counting, picking  # noqa: F401  (registers the scenarios)
from server.services.stock import inventory
from tests.receiving_floor import another_receiver, receiver
from tests.scenario_driver import Driver
from tests.test_picking import cluster  # noqa: F401  (a fixture)
from tests.test_picking import picker  # noqa: F401  (a fixture)

COUNTING = Driver("counting")
PICKING = Driver("picking")
run, step, refused = COUNTING.run, COUNTING.step, COUNTING.refused

TEE, TEE_CASE, MUG = "6900000000014", "16900000000011", "6900000000021"


def units(product, location) -> int:
    return sum(q.qty for q in Quant.select().where((Quant.product == product) & (Quant.location == location)))


def count_moves(code: str) -> list[StockMove]:
    return list(StockMove.select().where((StockMove.reason == "count") & (StockMove.ref == f"count:{code}")))


@pytest.fixture
def stocked(small_warehouse, people):
    """A-01: 12 tees and 2 mugs; R-01: 3 tees. Tees cost 20 yuan each."""
    locs, tee, mug = small_warehouse["locations"], small_warehouse["tee"], small_warehouse["mug"]
    Product.update(cost_fen=2000).where(Product.id == tee.id).execute()
    actor = inventory.Actor(people["receiver"].id)
    inventory.receive(tee, locs["A-01"], 12, actor=actor)
    inventory.receive(mug, locs["A-01"], 2, actor=actor)
    inventory.receive(tee, locs["R-01"], 3, actor=actor)
    return small_warehouse


@pytest.fixture
def counter(people):
    return receiver(people, "HH-C1")


@pytest.fixture
def boss(people):
    return Principal(people["supervisor"], ["supervisor"])


def plan_list(*codes) -> list[str]:
    return [row["code"] for row in plans.plan("list", locations=list(codes))["created"]]


# --- the scenario ---------------------------------------------------------------------------------

def test_a_blind_count_by_unit_case_code_and_typed_quantity(stocked, counter, heard):
    (code,) = plan_list("A-01")
    assert [e for e, _, rooms in heard if e == "count.waiting" and "role:receiver" in rooms]
    assert step(counter, "current") == ("start", {"waiting": 1}, "ok")
    state, data, message = step(counter, "get_work")
    assert (state, message) == ("scan_location", "count_assigned")
    assert data == {"task": {"code": code, "location": "A-01", "reason": "list", "blind": True, "recount": False,
                             "started": False}}
    assert refused(counter, "scan", code=TEE) == ("count_location_first", "scan_location")
    assert refused(counter, "scan", code="A-02") == ("wrong_location", "scan_location")
    assert refused(counter, "finish") == ("count_location_first", "scan_location")

    state, data, message = step(counter, "scan", code="A-01")
    assert (state, message, data["lines"], data["units"]) == ("scan_item", "count_started", [
        {"sku": "MG-01", "name": "马克杯", "lot": "", "counted": 0},
        {"sku": "TS-01", "name": "纯棉T恤 白 M", "lot": "", "counted": 0}], 0)  # blind: no expected figure
    state, data, _ = step(counter, "scan", code=TEE)
    assert data["last"] == {"code": TEE, "sku": "TS-01", "name": "纯棉T恤 白 M", "lot": "", "per_scan": 1, "counted": 1}
    state, data, _ = step(counter, "scan", code=TEE_CASE)                 # a case counts its pack
    assert data["last"]["counted"] == 13
    state, data, _ = step(counter, "qty", code=TEE_CASE, qty="1")        # one case in all: 12 tees
    assert (data["last"]["counted"], data["last"]["per_scan"]) == (12, 12)
    assert refused(counter, "qty", code=TEE, qty=-1) == ("invalid_quantity", "scan_item")
    assert refused(counter, "qty", code=TEE, qty=2.5) == ("invalid_quantity", "scan_item")
    result = run(counter, "scan", code="NOPE-1")
    assert result["message"]["code"] == "unknown_barcode" and "NOPE-1" in result["message"]["text"]
    assert refused(counter, "empty") == ("count_not_empty", "scan_item")
    step(counter, "scan", code=MUG)
    step(counter, "scan", code=MUG)
    assert "expected" not in str(snapshot.build(counter)["counting"])
    assert snapshot.build(counter)["counting"]["state"] == "scan_item"  # a reload comes back here

    state, data, message = step(counter, "finish")
    assert (state, message, data["finished"]) == ("start", "count_submitted",
                                                  {"code": code, "location": "A-01", "units": 14})
    task = tasks.by_code(code)
    assert (task.status, task.variance_units, task.approver_id) == ("approved", 0, None)
    assert count_moves(code) == []                                        # nothing to post
    assert inventory.audit() == []
    assert refused(counter, "get_work", as_warning=True) == ("no_count_work", "start")


def test_empty_refusals_release_and_key_replay(stocked, counter):
    (code,) = plan_list("A-02")                                          # A-02 holds nothing
    step(counter, "get_work")
    assert refused(counter, "finish") == ("count_location_first", "scan_location")
    step(counter, "scan", code="A-02")
    assert refused(counter, "finish") == ("count_say_empty", "scan_item")
    state, data, _ = step(counter, "release")
    assert (state, data) == ("start", {"waiting": 1}) and tasks.by_code(code).status == "open"
    assert refused(counter, "scan", as_warning=True, code="A-02") == ("no_count_task", "start")
    step(counter, "get_work")
    first = run(counter, "empty", key="empty-key-0001")                  # empty at the location's step
    assert first["message"]["code"] == "count_submitted"
    assert run(counter, "empty", key="empty-key-0001") == first          # the same key: the stored answer
    task = tasks.by_code(code)
    assert (task.status, task.variance_units, task.started_at is not None) == ("approved", 0, True)


def test_a_lot_must_be_scanned_where_several_lots_lie(stocked, counter, people):
    locs, tee = stocked["locations"], stocked["tee"]
    actor = inventory.Actor(people["receiver"].id)
    inventory.receive(tee, locs["A-02"], 4, actor=actor, lot="L1")
    inventory.receive(tee, locs["A-02"], 5, actor=actor, lot="L2")
    plan_list("A-02")
    step(counter, "get_work")
    step(counter, "scan", code="A-02")
    assert refused(counter, "scan", code=TEE) == ("count_lot_required", "scan_item")
    state, data, _ = step(counter, "scan", code="(01)06900000000014(10)L2")
    assert (data["last"]["lot"], data["last"]["counted"]) == ("L2", 1)
    step(counter, "qty", code="(01)06900000000014(10)L2", qty=5)
    step(counter, "qty", code="(01)06900000000014(10)L1", qty=4)
    assert step(counter, "finish")[2] == "count_submitted"
    assert CountTask.get().status == "approved" and CountTask.get().variance_units == 0


# --- variance, recount, approval --------------------------------------------------------------------

def test_a_variance_is_recounted_by_another_counter_and_approved_once(stocked, counter, boss, heard):
    locs, tee = stocked["locations"], stocked["tee"]
    (code,) = plan_list("R-01")
    step(counter, "get_work")
    step(counter, "scan", code="R-01")
    step(counter, "empty")                                               # 3 tees missing: 3 > 2 units
    first = tasks.by_code(code)
    assert (first.status, first.variance_units, first.variance_fen) == ("recounted", 3, 6000)
    recount = CountTask.get(CountTask.recount_of == first.id)
    assert (recount.status, recount.reason, recount.blind) == ("open", "recount", True)
    assert refused(counter, "get_work", as_warning=True) == ("no_count_work", "start")  # never the same counter

    second = another_receiver(2)
    state, data, _ = step(second, "get_work")
    assert data["task"] == {"code": recount.code, "location": "R-01", "reason": "recount", "blind": True,
                            "recount": True, "started": False}
    step(second, "scan", code="R-01")
    step(second, "scan", code=TEE)                                       # the recount finds 1 tee
    step(second, "finish")
    assert tasks.by_code(code).status == "review" and tasks.by_code(recount.code).status == "review"
    assert ("count.changed", "review") in [(e, p.get("status")) for e, p, _ in heard]
    waiting = review.waiting_review()
    assert [w["code"] for w in waiting] == [recount.code]               # the recount, beside the first count
    assert waiting[0]["lines"] == [{"sku": "TS-01", "name": "纯棉T恤 白 M", "lot": "", "counted": 1,
                                    "expected_at_start": 3, "moved": 0, "expected": 3, "variance": -2,
                                    "variance_fen": -4000}]
    assert waiting[0]["first_count"]["lines"][0]["counted"] == 0
    assert Location.get_by_id(locs["R-01"].id).needs_count is False

    decided = review.approve(recount.code, boss.user.id, "two tees found in the aisle's bin")
    assert decided["adjustments"] == [{"sku": "TS-01", "lot": "", "delta": -2, "state": "available"}]
    moves = count_moves(recount.code)
    assert [(m.qty, m.from_location_id, m.user_id) for m in moves] == [(2, locs["R-01"].id, second.user.id)]
    assert count_moves(code) == []                                       # the first count posts nothing
    assert units(tee, locs["R-01"]) == 1
    assert {t.status for t in CountTask.select()} == {"approved"}
    assert {t.approver_id for t in CountTask.select()} == {boss.user.id}
    audit = AuditLog.get(AuditLog.action == "count.approved")
    assert (audit.user_id, audit.target) == (boss.user.id, f"count:{recount.code}") and "TS-01 -2" in audit.detail
    assert inventory.audit() == []
    with pytest.raises(Exception) as refused_twice:
        review.approve(recount.code, boss.user.id)
    assert refused_twice.value.code == "invalid_transition"
    week = review.accuracy(weeks=1)["current"]
    assert (week["locations"], week["without_variance"], week["accuracy"]) == (1, 0, 0.0)


def test_a_small_variance_is_posted_at_once_and_a_rejected_one_stays_flagged(stocked, counter, boss):
    locs, mug = stocked["locations"], stocked["mug"]
    (code,) = plan_list("A-01")
    step(counter, "get_work")
    step(counter, "scan", code="A-01")
    step(counter, "qty", code=TEE_CASE, qty=1)
    step(counter, "scan", code=MUG)                                      # 1 mug of 2: 1 unit, 39 yuan
    step(counter, "finish")
    task = tasks.by_code(code)
    assert (task.status, task.variance_units, task.variance_fen) == ("approved", 1, 3900)
    (move,) = count_moves(code)
    assert (move.product_id, move.qty, move.from_location_id, move.user_id) == (mug.id, 1, locs["A-01"].id,
                                                                              counter.user.id)
    assert inventory.audit() == []

    (again,) = plan_list("R-01")
    step(counter, "get_work")
    step(counter, "scan", code="R-01")
    step(counter, "empty")
    second = another_receiver(3)
    step(second, "get_work")
    step(second, "empty", code="R-01")
    recount = CountTask.get(CountTask.recount_of == tasks.by_code(again).id)
    review.reject(recount.code, boss.user.id, "count it again tomorrow")
    assert {tasks.by_code(again).status, recount.__class__.get_by_id(recount.id).status} == {"rejected"}
    assert Location.get_by_id(locs["R-01"].id).needs_count is True
    assert count_moves(recount.code) == [] and units(stocked["tee"], locs["R-01"]) == 3


def test_a_picker_picking_the_location_during_the_count_leaves_every_unit_accounted_for(cluster, picker, counter):
    """The count holds A-01's 30 tees at its first scan; the picker then takes 2 + 12 into totes;
    the counter counts the 15 left (one tee is gone): the variance is -1, not -15."""
    locs, tee = cluster["locations"], cluster["tee"]
    (code,) = plan_list("A-01")
    step(counter, "get_work")
    step(counter, "scan", code="A-01")
    PICKING.step(picker, "get_work")
    PICKING.step(picker, "scan", code="A-01")
    for scanned in (TEE, TEE, "T-001", "A-01", TEE_CASE, "T-002"):
        PICKING.step(picker, "scan", code=scanned)
    assert units(tee, locs["A-01"]) == 16
    step(counter, "qty", code=TEE, qty=15)
    step(counter, "finish")
    task = tasks.by_code(code)
    line = CountLine.get((CountLine.task == task.id) & (CountLine.product == tee.id))
    assert (line.expected, line.moved, line.counted) == (30, -14, 15)
    assert (task.status, task.variance_units) == ("approved", 1)        # within the thresholds: posted
    assert [m.qty for m in count_moves(code)] == [1]
    totes = units(tee, locs["T-001"]) + units(tee, Location.get(Location.code == "T-002"))
    assert (units(tee, locs["A-01"]), totes) == (15, 14)
    assert units(tee, locs["A-01"]) + totes + units(tee, locs["R-01"]) == 30 + 20 - 1
    assert inventory.audit() == []


def test_units_a_short_pick_froze_are_settled_by_the_count(cluster, picker, counter, boss):
    """The picker finds no tee at A-01 for the first line and shorts: its 2 units are frozen there
    and the location flagged. The count finds 29: one of the 2 is gone (taken from the frozen ones),
    the other is found and free again."""
    locs = cluster["locations"]
    PICKING.step(picker, "get_work")
    PICKING.step(picker, "scan", code="A-01")
    PICKING.step(picker, "short", reason="empty")
    assert Location.get_by_id(locs["A-01"].id).needs_count is True
    (code,) = [row["code"] for row in plans.plan("flagged")["created"]]
    step(counter, "get_work")
    step(counter, "scan", code="A-01")
    step(counter, "qty", code=TEE, qty=29)
    step(counter, "finish")
    assert [(m.qty, m.from_state) for m in count_moves(code)] == [(1, "frozen")]
    released = StockMove.get((StockMove.reason == "count_release") & (StockMove.ref == f"count:{code}"))
    assert (released.qty, released.from_state, released.to_state) == (1, "frozen", "available")
    assert not Quant.select().where((Quant.location == locs["A-01"]) & (Quant.state == "frozen")
                                    & (Quant.qty > 0)).exists()
    assert Location.get_by_id(locs["A-01"].id).needs_count is False
    assert inventory.audit() == []


# --- plans --------------------------------------------------------------------------------------------

def test_plans_by_zone_aisle_list_stale_flagged_and_abc_from_picks(stocked, people):
    wh, locs, tee, mug = stocked["warehouse"], stocked["locations"], stocked["tee"], stocked["mug"]
    cap = Product.create(sku="CP-01", name="棒球帽")
    actor = inventory.Actor(people["receiver"].id)
    zone = Zone.create(warehouse=wh, code="Z1")
    Location.update(zone=zone).where(Location.code.in_(["A-01", "R-01"])).execute()
    assert sorted(r["location"] for r in plans.plan("zone", zone="Z1", dry_run=True)["created"]) == ["A-01", "R-01"]
    assert [r["location"] for r in plans.plan("aisle", aisle=1, dry_run=True)["created"]] == ["A-02"]
    with pytest.raises(Exception) as unknown:
        plans.plan("list", locations=["A-01", "NOPE"])
    assert unknown.value.code == "not_found"
    with pytest.raises(Exception):
        plans.plan("stale")                                              # how many days?
    assert len(plans.plan("stale", days=30, dry_run=True)["created"]) == 3  # never counted (the tote is not counted)
    Location.update(needs_count=True).where(Location.code == "A-02").execute()
    assert [r["location"] for r in plans.plan("flagged", dry_run=True)["created"]] == ["A-02"]

    # 90 days of picks: 8 tee lines, 1 mug line; the cap is never picked
    inventory.receive(mug, locs["A-02"], 5, actor=actor)
    inventory.receive(cap, locs["R-01"], 5, actor=actor)
    for _ in range(8):
        inventory.move(tee, locs["A-01"], locs["T-001"], 1, actor=actor, reason="pick")
    inventory.move(mug, locs["A-02"], locs["T-001"], 1, actor=actor, reason="pick")
    old = StockMove.create(product=mug, qty=1, from_location=locs["A-02"], from_state="available",
                           to_location=locs["T-001"], to_state="available", reason="pick",
                           at=utcnow() - dt.timedelta(days=120))        # too old to count
    assert plans.abc_classes() == {tee.id: "A", mug.id: "B"}
    classes = plans.location_classes(list(Location.select()), plans.abc_classes())
    assert (classes[locs["A-01"].id], classes[locs["A-02"].id], classes[locs["R-01"].id]) == ("A", "B", "A")
    due = {r["location"]: r["reason"] for r in plans.plan("abc", dry_run=True)["created"]}
    assert due == {"A-01": "abc_a", "A-02": "abc_b", "R-01": "abc_a"}  # R-01 holds tees too
    # counted 40 days ago: A is due again (monthly), B is not (quarterly)
    for code in ("A-01", "A-02"):
        task = tasks.create(wh.id, locs[code].id, "list")
        CountTask.update(status="approved", decided_at=utcnow() - dt.timedelta(days=40)).where(
            CountTask.id == task.id).execute()
    due = {r["location"]: r["reason"] for r in plans.plan("abc", dry_run=True)["created"]}
    assert due == {"A-01": "abc_a", "R-01": "abc_a"}
    made = plans.plan("abc")
    assert [r["location"] for r in made["created"]] == ["A-01", "R-01"]
    assert plans.plan("abc")["skipped"] == 2                             # in a count already
    assert old.id


# --- the API --------------------------------------------------------------------------------------------

def test_api_role_checks_plan_review_and_accuracy(client, token_for, stocked, counter):
    auth = {"Authorization": f"Bearer {token_for('supervisor')}"}
    receiver_auth = {"Authorization": f"Bearer {token_for('receiver')}"}
    office_auth = {"Authorization": f"Bearer {token_for('office')}"}
    assert client.post("/api/v1/counts/plan", json={"by": "list", "locations": ["R-01"]},
                       headers=office_auth).status_code == 403
    planned = client.post("/api/v1/counts/plan", json={"by": "list", "locations": ["R-01"]}, headers=auth)
    assert planned.status_code == 201, planned.get_json()
    code = planned.get_json()["created"][0]["code"]
    assert client.get("/api/v1/counts", headers=receiver_auth).status_code == 403   # blind: no expected figures
    assert client.get(f"/api/v1/counts/{code}", headers=receiver_auth).status_code == 403
    assert client.post("/api/v1/counts/plan", json={"by": "sideways"}, headers=auth).status_code == 422
    step(counter, "get_work")
    step(counter, "empty")
    recount = CountTask.get(CountTask.recount_of.is_null(False)).code
    second = another_receiver(4)
    step(second, "get_work")
    step(second, "scan", code="R-01")
    step(second, "qty", code=TEE, qty=3)
    step(second, "finish")
    listed = client.get("/api/v1/counts/review", headers=auth).get_json()["items"]
    assert [(c["code"], c["first_count"]["code"]) for c in listed] == [(recount, code)]
    assert client.post(f"/api/v1/counts/{recount}/approve", json={}, headers=receiver_auth).status_code == 403
    assert client.post(f"/api/v1/counts/{code}/approve", json={}, headers=auth).status_code == 400  # its recount
    approved = client.post(f"/api/v1/counts/{recount}/approve", json={"note": "ok"}, headers=auth)
    assert approved.status_code == 200 and approved.get_json()["adjustments"] == []
    assert client.post(f"/api/v1/counts/{recount}/reject", json={}, headers=auth).status_code == 409
    accuracy = client.get("/api/v1/counts/accuracy?weeks=2", headers=receiver_auth).get_json()
    assert len(accuracy["weeks"]) == 2
    assert (accuracy["current"]["locations"], accuracy["current"]["without_variance"],
            accuracy["current"]["accuracy"], accuracy["current"]["accuracy_by_value"]) == (1, 1, 1.0, 1.0)
    assert client.get("/api/v1/counts/NOPE", headers=auth).status_code == 404
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/counts/plan", "/api/v1/counts/{code}/approve", "/api/v1/counts/accuracy"} <= set(paths)


# --- the command line ----------------------------------------------------------------------------------

def test_cli_plans_and_lists_counts(stocked, db_url, tmp_path):
    import json

    from tests.test_cli import wavefloor
    shown = wavefloor(db_url, "counts", "plan", "--by", "list", "--location", "A-01", "--location", "R-01",
                      "--dry-run", tmp_path=tmp_path).stdout
    assert "would open 2 count task(s)" in shown and CountTask.select().count() == 0
    planned = json.loads(wavefloor(db_url, "counts", "plan", "--by", "stale", "--days", "30", "--json",
                                   tmp_path=tmp_path).stdout)
    assert sorted(r["location"] for r in planned["created"]) == ["A-01", "A-02", "R-01"]
    listed = wavefloor(db_url, "counts", "list", "--status", "open", tmp_path=tmp_path).stdout
    assert "3 count task(s)" in listed and "A-01" in listed
    failed = wavefloor(db_url, "counts", "plan", "--by", "zone", "--zone", "NOPE", tmp_path=tmp_path, check=False)
    assert failed.returncode == 1 and "unknown zone" in failed.stderr
