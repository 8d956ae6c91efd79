"""The floor summary after known picking, and every control-room verb through the HTTP API with
its role check and its audit row. Both engines."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from printers.labels import tote_demo
from server.models import (AuditLog, Device, Location, Order, OrderEvent, PickLine, PickTask, Printer, PrintJob,
                           StockMove, User, Wave, Zone)
from server.models.base import utcnow
from server.services import auth, printing
from server.services import floor as floor_service
from server.services.auth import Principal
from server.services.device import commands
from server.services.stock import inventory
from server.services.waves import planning as waves
from tests.test_waves import floor as hz_floor, place, sku  # noqa: F401  (the WH-HZ fixture)


# --- building a picked floor -------------------------------------------------------------------

def picker_principal(user: User, device_code: str) -> Principal:
    device, _ = Device.get_or_create(code=device_code, defaults={"kind": "handheld"})
    return Principal(user, auth.roles_of(user), device)


def run(principal, action, **params):
    return commands.execute(principal, {"key": uuid.uuid4().hex, "scenario": "picking", "action": action, **params})


def tote_for(task_id: int) -> str:
    """Every task fills its own tote."""
    task = PickTask.get_by_id(task_id)
    code = f"TOTE-{task.code}"
    if Location.get_or_none(Location.code == code) is None:
        Location.create(warehouse=task.wave.warehouse_id, code=code, kind="tote")
    return code


def pick_lines(principal, lines: int) -> dict:
    """Walk the picker's task through the picking scenario until ``lines`` lines are in totes."""
    result = run(principal, "get_work")
    assert result["ok"], result
    done = 0
    while done < lines:
        state, data = result["next_state"], result["data"].get(result["next_state"], {})
        if state == "task_done":
            result = run(principal, "get_work")
            assert result["ok"], result
            continue
        line = data["line"]
        if state == "scan_location":
            result = run(principal, "scan", code=line["location"])
        elif state == "scan_item":
            result = run(principal, "scan", code=line["sku"])
        else:  # qty or scan_tote: all units of a single-unit line are counted by one scan
            result = run(principal, "scan", code=tote_for(data["task"]["id"]))
            done += 1
        assert result["ok"], result
    return result


def new_picker(code: str, secret_hashes) -> User:
    user = auth.add_user(code, f"Picker {code}", ["picker"])
    User.update(password_hash=secret_hashes[0], pin_hash=secret_hashes[1]).where(User.id == user.id).execute()
    return User.get_by_id(user.id)


@pytest.fixture
def released(hz_floor, people):
    """A single-unit wave of five orders released into tasks: four in zone A, one in zone B."""
    place(*[(f"S{n}", [(sku(n, n % 6), 1)]) for n in range(4)], ("S7", [(sku(7, 2), 1)]))
    (wave,) = waves.plan_waves("WH-HZ", actor=inventory.system_actor())
    waves.release_wave(wave.id, inventory.system_actor())
    return Wave.get_by_id(wave.id)


def bearer(token_for, role):
    return {"Authorization": f"Bearer {token_for(role)}"}


# --- the summary -----------------------------------------------------------------------------

def test_summary_after_known_picking(released, people, client, token_for):
    wave = released
    tasks = list(PickTask.select().where(PickTask.wave == wave.id).order_by(PickTask.seq))
    assert sum(t.lines_total for t in tasks) == 5
    picker = picker_principal(people["picker"], "HH-01")
    pick_lines(picker, 2)
    # a short pick on the third line: the location is to be counted and an exception appears
    state = run(picker, "current")
    line = state["data"][state["next_state"]]["line"]
    run(picker, "scan", code=line["location"])
    short = run(picker, "short", reason="empty")
    assert short["ok"], short
    Order.create(channel="tmall", shop="s1", external_id="HELD-1", status="held", hold_reasons="address",
                 ship_by=utcnow() + dt.timedelta(hours=1))
    Order.create(channel="tmall", shop="s1", external_id="LATER-1", status="approved",
                 ship_by=utcnow() + dt.timedelta(hours=floor_service.CUTOFF_WINDOW_H + 1))
    Printer.create(code="PX", url="file:///tmp/px", last_status=json.dumps({"ok": False, "faults": ["paper_out"]}))

    response = client.get("/api/v1/floor/summary", headers=bearer(token_for, "supervisor"))
    assert response.status_code == 200, response.get_json()
    summary = response.get_json()

    (row,) = summary["waves"]
    assert (row["code"], row["strategy"], row["status"]) == (wave.code, "single_unit", "picking")
    assert (row["lines_done"], row["lines_total"], row["units_done"], row["units_total"]) == (3, 5, 2, 4)
    assert row["units_per_hour"] == 2 * 4  # two units in the last quarter of an hour
    assert row["eta"] is not None and row["deadline"] == waves.wave_summary(wave)["deadline"].isoformat() + "Z"
    assert (row["orders_picked"], row["orders_packed"], row["orders_shipped"]) == (0, 0, 0)  # the task is open

    (me,) = [p for p in summary["pickers"] if p["code"] == "u-picker"]
    assert (me["lines_per_hour"], me["units_per_hour"], me["units_today"]) == (8, 8, 2)
    assert me["idle_s"] is not None and me["idle_s"] >= 0 and me["last_pick_at"]
    assert me["task"]["wave"] == wave.code and me["task"]["status"] == "in_progress"

    open_lines = {z["zone"]: z["open_lines"] for z in summary["zones"]}
    expected = {}
    for zone_code, in (PickLine.select(PickTask.zone).join(PickTask)
                       .where(PickLine.status.in_(("open", "skipped", "located"))).tuples()):
        key = Zone.get_by_id(zone_code).code if zone_code else "-"
        expected[key] = expected.get(key, 0) + 1
    assert open_lines == expected and sum(open_lines.values()) == 2

    assert summary["throughput"]["total"] == 2 and summary["throughput"]["units"][-1] == 2
    assert len(summary["throughput"]["hours"]) == len(summary["throughput"]["units"])

    kinds = {(e["kind"], e["ref"]) for e in summary["exceptions"]["items"]}
    assert ("short_pick", line["location"]) in kinds and ("count", line["location"]) in kinds
    assert ("held", "HELD-1") in kinds and ("printer", "PX") in kinds
    assert summary["exceptions"]["counts"]["held"] == 1
    short_item = next(e for e in summary["exceptions"]["items"] if e["kind"] == "short_pick")
    assert short_item["qty"] == 1 and short_item["age_s"] is not None

    # the wave's orders were to ship 48 hours after their payment in 2026-11: late; HELD-1 is due
    # within the window, LATER-1 after it
    assert summary["due"]["orders"] == 6 and summary["due"]["overdue"] == 5
    assert summary["due"]["window_h"] == floor_service.CUTOFF_WINDOW_H

    # sorted, packed and shipped are the states of the wave's orders
    Order.update(status="packed").where(Order.external_id == "S0").execute()
    Order.update(status="shipped").where(Order.external_id == "S1").execute()
    (row,) = floor_service.summary()["waves"]
    assert (row["orders_picked"], row["orders_packed"], row["orders_shipped"]) == (2, 2, 1)


def test_the_summary_is_in_a_wall_screens_snapshot_only(released, people):
    from server.services.device import snapshot
    wall = snapshot.build(Principal(people["supervisor"], ["supervisor"]))
    assert wall["floor"]["waves"][0]["wave"] == released.id
    assert "floor" not in snapshot.build(Principal(people["picker"], ["picker"]))


def test_summary_and_control_refuse_a_picker(client, token_for, people):
    for url in ("/api/v1/floor/summary", "/api/v1/floor/control", "/api/v1/floor/pickers/u-picker/trail"):
        assert client.get(url, headers=bearer(token_for, "picker")).status_code == 403
        assert client.get(url).status_code == 401
    assert client.get("/api/v1/floor/summary", headers=bearer(token_for, "office")).status_code == 403


# --- control-room verbs ------------------------------------------------------------------------

def audited(action):
    return [(a.target, a.detail, a.user.code) for a in AuditLog.select().where(AuditLog.action == action)]


def test_wave_verbs_through_the_api(hz_floor, people, client, token_for):
    place(("S1", [(sku(0, 0), 1)]), ("S2", [(sku(1, 1), 1)]))
    (wave,) = waves.plan_waves("WH-HZ", actor=inventory.system_actor())
    url = f"/api/v1/floor/waves/{wave.id}"
    assert client.post(f"{url}/release", headers=bearer(token_for, "picker")).status_code == 403
    assert Wave.get_by_id(wave.id).status == "planned"
    control = client.get("/api/v1/floor/control", headers=bearer(token_for, "supervisor")).get_json()
    assert [w["code"] for w in control["planned"]] == [wave.code]

    for verb, status in (("release", "released"), ("pause", "paused"), ("resume", "released"),
                         ("cancel", "cancelled")):
        response = client.post(f"{url}/{verb}", headers=bearer(token_for, "supervisor"))
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {"id": wave.id, "code": wave.code, "status": status}
        assert Wave.get_by_id(wave.id).status == status
        assert audited(f"floor.wave.{verb}") == [(wave.code, status, "u-supervisor")]
    refused = client.post(f"{url}/pause", headers=bearer(token_for, "supervisor"))
    assert refused.status_code == 409 and refused.get_json()["code"] == "invalid_transition"
    assert client.post(f"{url}/dance", headers=bearer(token_for, "supervisor")).status_code == 404
    assert Order.get(Order.external_id == "S1").status == "allocated"


def test_reassigning_a_task_tells_the_old_picker(released, people, client, token_for, heard, secret_hashes):
    other = new_picker("u-picker2", secret_hashes)
    picker = picker_principal(people["picker"], "HH-01")
    task_id = run(picker, "get_work")["data"]["scan_location"]["task"]["id"]
    location = run(picker, "current")["data"]["scan_location"]["line"]["location"]
    run(picker, "scan", code=location)  # the line is located: it goes back to "scan the location"
    heard.clear()
    url = f"/api/v1/floor/tasks/{task_id}/reassign"
    assert client.post(url, json={"picker": "u-picker2"}, headers=bearer(token_for, "picker")).status_code == 403
    response = client.post(url, json={"picker": "u-picker2"}, headers=bearer(token_for, "supervisor"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["picker"] == "u-picker2" and response.get_json()["status"] == "assigned"
    task = PickTask.get_by_id(task_id)
    assert (task.picker_id, task.status, task.device_id) == (other.id, "assigned", None)
    assert {line.status for line in PickLine.select().where(PickLine.task == task_id)} == {"open"}
    changed = [(p, rooms) for e, p, rooms in heard if e == "task.changed"]
    assert changed and f"user:{people['picker'].id}" in changed[0][1] and "wallboard" in changed[0][1]
    assert changed[0][0]["picker"] == other.id and changed[0][0]["reassigned_from"] == people["picker"].id
    # the old picker's devices are told the task moved, to whom and why, in either language
    (moved,) = [(p, rooms) for e, p, rooms in heard if e == "task.reassigned"]
    assert moved[1] == (f"user:{people['picker'].id}",)
    assert {k: v for k, v in moved[0].items() if k != "version"} == {
        "code": "task_reassigned", "task": task.code, "wave": released.code, "to": "u-picker2",
        "text": {"en": "A supervisor gave your task to another picker.", "zh-CN": "主管已将您的任务转派给其他拣货员。"}}
    assert audited("floor.task.reassign") == [(task.code, "u-picker -> u-picker2", "u-supervisor")]
    # the old picker has no task now; the new one resumes it
    assert run(picker, "current")["next_state"] == "start"
    assert run(picker_principal(other, "HH-02"), "get_work")["data"]["scan_location"]["task"]["id"] == task_id
    # nobody may be handed a task that is finished, nor a task given to someone who does not pick
    refused = client.post(url, json={"picker": "u-office"}, headers=bearer(token_for, "supervisor"))
    assert refused.status_code == 400 and refused.get_json()["code"] == "not_a_picker"
    PickTask.update(status="done").where(PickTask.id == task_id).execute()
    refused = client.post(url, json={"picker": "u-picker"}, headers=bearer(token_for, "supervisor"))
    assert refused.status_code == 409 and refused.get_json()["code"] == "invalid_transition"


def test_units_in_hand_keep_a_task_with_its_picker(released, people, client, token_for, secret_hashes):
    new_picker("u-picker2", secret_hashes)
    picker = picker_principal(people["picker"], "HH-01")
    line = run(picker, "get_work")["data"]["scan_location"]["line"]
    run(picker, "scan", code=line["location"])
    assert run(picker, "scan", code=line["sku"])["next_state"] == "scan_tote"
    task_id = PickLine.get_by_id(line["id"]).task_id
    response = client.post(f"/api/v1/floor/tasks/{task_id}/reassign", json={"picker": "u-picker2"},
                           headers=bearer(token_for, "supervisor"))
    assert response.status_code == 409 and response.get_json()["code"] == "units_in_hand"
    assert PickTask.get_by_id(task_id).picker_id == people["picker"].id


def test_priority_count_and_trail_through_the_api(released, people, client, token_for):
    order = Order.get(Order.external_id == "S1")
    url = f"/api/v1/floor/orders/{order.id}/priority"
    assert client.post(url, json={"priority": 9}, headers=bearer(token_for, "picker")).status_code == 403
    response = client.post(url, json={"priority": 9}, headers=bearer(token_for, "supervisor"))
    assert response.get_json() == {"id": order.id, "external_id": "S1", "priority": 9}
    assert Order.get_by_id(order.id).priority == 9
    assert audited("floor.priority") == [(f"order:{order.id}", "9", "u-supervisor")]
    assert OrderEvent.get((OrderEvent.order == order.id) & (OrderEvent.action == "priority")).detail == "9"

    url = "/api/v1/floor/locations/HZ-3-3/count"
    assert client.post(url, json={}, headers=bearer(token_for, "picker")).status_code == 403
    response = client.post(url, json={"reason": "short pick"}, headers=bearer(token_for, "admin"))
    assert response.get_json() == {"location": "HZ-3-3", "needs_count": True}
    assert Location.get(Location.code == "HZ-3-3").needs_count is True
    assert audited("floor.count") == [("HZ-3-3", "short pick", "u-admin")]
    assert client.post("/api/v1/floor/locations/NOPE/count", json={},
                       headers=bearer(token_for, "admin")).status_code == 404
    summary = floor_service.summary()
    assert ("count", "HZ-3-3") in {(e["kind"], e["ref"]) for e in summary["exceptions"]["items"]}

    pick_lines(picker_principal(people["picker"], "HH-01"), 2)
    url = "/api/v1/floor/pickers/u-picker/trail"
    trail = client.get(url, headers=bearer(token_for, "supervisor")).get_json()
    assert [m["reason"] for m in trail["moves"]] == ["pick", "pick"]
    assert {m["target"] for m in trail["moves"]} <= {l.code for l in Location.select().where(Location.kind == "tote")}
    assert trail["moves"][0]["at"].endswith("Z") and trail["picker"]["code"] == "u-picker"
    assert trail["tasks"] and trail["tasks"][0]["wave"] == released.code
    assert len(trail["moves"]) == StockMove.select().where((StockMove.user == people["picker"].id)
                                                           & (StockMove.reason == "pick")).count()


def test_reprint_and_move_jobs_through_the_api(db, people, client, token_for, tmp_path):
    actor = inventory.Actor(people["supervisor"].id)
    for code in ("P1", "P2"):
        printing.save_printer(code, {"url": f"file://{tmp_path}/{code}"}, actor)
    failed = printing.enqueue("P1", "tote", tote_demo(), "T0042", actor)
    PrintJob.update(state="failed", last_error="media_out").where(PrintJob.id == failed.id).execute()
    queued = printing.enqueue("P1", "tote", tote_demo(), "T0043", actor)
    Printer.update(last_status=json.dumps({"ok": False, "faults": ["head_open"]})).where(
        Printer.code == "P1").execute()
    kinds = {(e["kind"], e["ref"]) for e in floor_service.summary()["exceptions"]["items"]}
    assert ("print_failed", "T0042") in kinds and ("printer", "P1") in kinds

    url = f"/api/v1/floor/print-jobs/{failed.id}/reprint"
    assert client.post(url, headers=bearer(token_for, "picker")).status_code == 403
    response = client.post(url, headers=bearer(token_for, "supervisor"))
    assert response.status_code == 201, response.get_json()
    again = PrintJob.get_by_id(response.get_json()["id"])
    assert (again.reprint_of_id, again.ref, again.state, again.printer.code) == (failed.id, "T0042", "queued", "P1")
    assert [a[0] for a in audited("print.reprint")] == [f"job:{failed.id}"]

    url = "/api/v1/floor/printers/P1/move-jobs"
    assert client.post(url, json={"to": "P2"}, headers=bearer(token_for, "picker")).status_code == 403
    response = client.post(url, json={"to": "P2"}, headers=bearer(token_for, "supervisor"))
    assert response.get_json() == {"moved": 3}
    assert {j.printer.code for j in PrintJob.select().where(PrintJob.id.in_([failed.id, queued.id, again.id]))} == {"P2"}
    assert audited("print.move") == [("P1->P2", "3 job(s)", "u-supervisor")]
