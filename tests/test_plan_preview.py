"""The planner's preview over HTTP: what /waves/plan would plan, the same numbers, planned
nowhere; the kinds of wave and the order limit it is given; and the control room's list of the
waves that may still be cancelled. Both engines."""
from __future__ import annotations

from server.models import Order, Wave, WaveOrder
from server.services.stock import inventory
from server.services.waves import planning as waves
from tests.test_wall_browser import confirm_lines, in_process, release_wave
from tests.test_waves import floor, place, spread_orders  # noqa: F401  (the WH-HZ fixture)

FIELDS = ("strategy", "orders", "lines", "units", "planned_metres", "fcfs_metres", "saving_pct")


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_the_preview_is_what_planning_then_plans(client, token_for, floor):
    place(*spread_orders(12))
    supervisor, office, picker = (auth(token_for(role)) for role in ("supervisor", "office", "picker"))
    assert client.post("/api/v1/waves/plan/preview", json={"warehouse": "WH-HZ"}, headers=picker).status_code == 403
    assert client.post("/api/v1/waves/plan/preview", json={"warehouse": "WH-XX"}, headers=office).status_code == 404
    assert client.get("/api/v1/waves/plannable", headers=office).get_json() == {
        "items": [{"code": "WH-HZ", "name": floor.name, "waiting": 12}]}

    preview = client.post("/api/v1/waves/plan/preview", json={"warehouse": "WH-HZ", "max_orders": 9},
                          headers=office)
    assert preview.status_code == 200, preview.get_json()
    preview = preview.get_json()
    assert (preview["waiting"], preview["left"]) == (12, 3)
    assert Wave.select().count() == 0 and WaveOrder.select().count() == 0  # the preview planned nothing
    assert {o.status for o in Order.select()} == {"allocated"}

    planned = client.post("/api/v1/waves/plan", json={"warehouse": "WH-HZ", "max_orders": 9}, headers=supervisor)
    assert planned.status_code == 201
    items = planned.get_json()["items"]
    assert [{k: w[k] for k in FIELDS} for w in items] == [{k: w[k] for k in FIELDS} for w in preview["waves"]]
    for draft, wave in zip(preview["waves"], items):
        assert draft["tasks"] == len(client.get(f"/api/v1/waves/{wave['id']}", headers=office).get_json()["tasks"])


def test_kinds_of_wave_limit_the_preview_and_the_plan(client, token_for, floor):
    place(("ONE", [("SKU-00", 1)]), ("TWO", [("SKU-11", 1), ("SKU-52", 1)]))
    supervisor = auth(token_for("supervisor"))
    everything = client.post("/api/v1/waves/plan/preview", json={"warehouse": "WH-HZ"}, headers=supervisor).get_json()
    kinds = {w["strategy"] for w in everything["waves"]}
    assert len(kinds) == 2
    single = client.post("/api/v1/waves/plan/preview", json={"warehouse": "WH-HZ", "strategies": ["single_unit"]},
                         headers=supervisor).get_json()
    assert [w["strategy"] for w in single["waves"]] == ["single_unit"] and single["left"] == 1
    bad = client.post("/api/v1/waves/plan/preview", json={"warehouse": "WH-HZ", "strategies": ["walking"]},
                      headers=supervisor)
    assert bad.status_code == 422
    planned = client.post("/api/v1/waves/plan", json={"warehouse": "WH-HZ", "strategies": ["single_unit"]},
                          headers=supervisor).get_json()["items"]
    assert [w["strategy"] for w in planned] == ["single_unit"]
    assert Order.get(Order.external_id == "TWO").status == "allocated"


def test_control_lists_only_the_waves_that_may_be_cancelled(client, token_for, floor, people):
    (started,) = release_wave([(f"S{n}", [(f"SKU-{n}0", 1)]) for n in range(3)])
    confirm_lines(in_process("u-picker", "HH-01"), 1)
    place(("C1", [("SKU-41", 1), ("SKU-52", 1)]))
    (planned,) = waves.plan_waves("WH-HZ", actor=inventory.system_actor())
    supervisor = auth(token_for("supervisor"))
    assert client.get("/api/v1/floor/control", headers=supervisor).get_json()["cancellable"] == [planned.id]
    client.post(f"/api/v1/floor/waves/{started.id}/pause", headers=supervisor)
    assert client.get("/api/v1/floor/control", headers=supervisor).get_json()["cancellable"] == [planned.id]
    refused = client.post(f"/api/v1/floor/waves/{started.id}/cancel", headers=supervisor)
    assert refused.status_code == 409  # what the list says is what cancel does
