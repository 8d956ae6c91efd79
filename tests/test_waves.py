"""Waves: strategies, limits and priority from the rules; batches that walk less than first come
first served; release into tasks whose lines follow the exact route; events after commit;
cancel, pause and resume; the HTTP surface and its roles. Every test runs on both engines."""
import datetime as dt
import json

import pytest

from rules import RuleBook, default_rules_dir
from server import events
from server.channels.base import ParseResult
from server.db import in_write_transaction, write_transaction
from server.layoutspec import parse_layout
from server.models import Order, OrderEvent, PickLine, PickTask, Product, Warehouse, Wave, WaveOrder
from server.services import rulebook
from server.services.errors import InvalidTransition
from server.services.orders import office
from server.services.orders import intake as order_import
from server.services.orders import lifecycle as orders
from server.services.stock import catalog, inventory
from server.services.stock.layout import apply_layout, layout_of
from server.services.waves import routing
from server.services.waves import planning as waves
from server.services.waves import wave_facts as order_facts
from tests.test_orders import parsed, stock

AISLES, SPOTS = 8, (2.0, 5.0, 8.0, 11.0, 14.0, 17.0)
T0 = dt.datetime(2026, 11, 11, 0, 0)


def sku(aisle, spot):
    return f"SKU-{aisle}{spot}"


@pytest.fixture
def floor(db):
    """WH-HZ (where the routing rules send Zhejiang): 8 aisles of 20 m, six pick faces in each,
    one SKU per face with 50 units; aisle 7 is zone B, the rest zone A."""
    spec = parse_layout({
        "warehouse": "WH-HZ", "aisles": AISLES, "aisle_length": 20.0, "aisle_width": 3.0,
        "depot": {"aisle": 0, "y": 0.0},
        "locations": {f"HZ-{a}-{i}": {"aisle": a, "y": y, "zone": "B" if a == 7 else "A"}
                      for a in range(AISLES) for i, y in enumerate(SPOTS)}})
    assert not apply_layout(spec).problems
    actor = inventory.system_actor()
    for a in range(AISLES):
        for i in range(len(SPOTS)):
            catalog.upsert(sku(a, i), {"name": f"商品 {a}-{i}", "weight_g": 100}, actor=actor)
            stock(sku(a, i), f"HZ-{a}-{i}", 50)
    return Warehouse.get(Warehouse.code == "WH-HZ")


def place(*specs):
    """Import orders: each spec is (external_id, [(sku, qty), ...]) or with a third item, the
    minutes after T0 at which it was paid (its ship-by is 48 hours later)."""
    result = []
    for n, spec in enumerate(specs):
        external_id, lines = spec[0], spec[1]
        minutes = spec[2] if len(spec) > 2 else n
        paid_at = T0 + dt.timedelta(minutes=minutes)
        result.append(parsed(external_id, [(s, q, "none") for s, q in lines], paid_at=paid_at))
    report = order_import.import_parsed(ParseResult(result))
    assert report.allocated == len(specs), report
    return {o.external_id: o for o in Order.select()}


def status(external_id):
    return Order.get(Order.external_id == external_id).status


def wave_of(external_id):
    return WaveOrder.select().join(Order).where(Order.external_id == external_id).get().wave


@pytest.fixture
def small_waves(tmp_path, monkeypatch):
    """The shipped wave rules with small carts: 2 orders and 5 units per cart, 4 orders per wave."""
    text = (default_rules_dir() / "waves.yaml").read_text(encoding="utf-8")
    text = text.replace("wave: {orders: 240}", "wave: {orders: 4}")
    text = text.replace("task: {orders: 12, cart_slots: 12, units: 72,", "task: {orders: 2, cart_slots: 2, units: 5,")
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "waves.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(rulebook, "_book", RuleBook(folder))
    limits = rulebook.book().waves.limits("cluster")
    assert (limits[0].orders, limits[1].orders, limits[1].units) == (4, 2, 5)


@pytest.fixture
def heard():
    """Events as subscribers receive them, with whether a write transaction was still open."""
    received = []

    def listen(event, payload, rooms):
        received.append((event, payload, rooms, in_write_transaction()))
    events.subscribe(listen)
    yield received
    events.unsubscribe(listen)


def actor():
    return inventory.system_actor()


def test_each_order_gets_its_strategy_and_waves_are_planned(floor):
    place(("S1", [(sku(0, 0), 1)]), ("S2", [(sku(1, 1), 1)]), ("M1", [(sku(2, 0), 3)]),
          ("C1", [(sku(0, 1), 1), (sku(3, 2), 2)]), ("B1", [(sku(4, 0), 4), (sku(5, 5), 4)]))
    planned = waves.plan_waves("WH-HZ", actor=actor())
    assert sorted(w.strategy for w in planned) == ["batch_putwall", "cluster", "single_sku_multi", "single_unit"]
    assert wave_of("S1").id == wave_of("S2").id and wave_of("S1").strategy == "single_unit"
    assert (wave_of("M1").strategy, wave_of("C1").strategy, wave_of("B1").strategy) == (
        "single_sku_multi", "cluster", "batch_putwall")
    assert all(status(e) == "waved" for e in ("S1", "S2", "M1", "C1", "B1"))
    single = wave_of("S1")
    assert (single.status, single.orders_count, single.lines_count, single.units_count) == ("planned", 2, 2, 2)
    assert single.code == f"W{single.id}" and single.deadline == T0 + dt.timedelta(hours=48)
    assert [e["action"] for e in orders.history(Order.get(Order.external_id == "C1"))][-2:] == ["allocated", "waved"]
    assert OrderEvent.get((OrderEvent.action == "waved") & (OrderEvent.order == Order.get(
        Order.external_id == "C1"))).detail == wave_of("C1").code
    # a cluster order has its cart slot, a batch order its put-wall slot, single units none
    slots = {wo.order.external_id: wo.slot for wo in WaveOrder.select().join(Order)}
    assert slots == {"S1": 0, "S2": 0, "M1": 0, "C1": 1, "B1": 1}
    assert waves.plan_waves("WH-HZ", actor=actor()) == []  # nothing left to plan


def test_wave_and_cart_limits_are_respected(floor, small_waves):
    place(*[(f"C{n}", [(sku(n % AISLES, 0), 1), (sku((n * 3) % AISLES, 3), 2 if n % 3 == 0 else 1)])
            for n in range(11)])
    planned = waves.plan_waves("WH-HZ", actor=actor())
    assert [w.orders_count for w in planned] == [4, 4, 3]
    shared = 0
    for wave in planned:
        waves.release_wave(wave.id, actor())
        carts = {}
        for line in PickLine.select().join(PickTask).where(PickTask.wave == wave.id):
            carts.setdefault(line.task.code, []).append(line)
        for lines in carts.values():
            assert len({l.order_id for l in lines}) <= 2 and sum(l.qty for l in lines) <= 5
            assert {l.slot for l in lines} <= {1, 2}
            shared += len({l.order_id for l in lines}) == 2
    assert shared > 0


def test_max_orders_takes_the_most_urgent(floor):
    place(*[(f"S{n}", [(sku(n, 0), 1)]) for n in range(5)])
    office.set_priority(Order.get(Order.external_id == "S4").id, 5, actor())
    (wave,) = waves.plan_waves("WH-HZ", max_orders=2, actor=actor())
    assert {o.order.external_id for o in wave.wave_orders} == {"S4", "S0"}
    assert status("S1") == "allocated"


def test_an_urgent_order_goes_in_the_first_wave(floor, small_waves):
    specs = [(f"C{n}", [(sku(n % AISLES, 1), 1), (sku((n + 2) % AISLES, 4), 1)], 600 + n) for n in range(9)]
    specs.append(("URGENT", [(sku(6, 0), 1), (sku(7, 5), 1)], -600))  # paid 10 hours before the rest
    place(*specs)
    planned = waves.plan_waves("WH-HZ", actor=actor())
    assert wave_of("URGENT").id == planned[0].id == min(w.id for w in planned)
    assert planned[0].deadline == T0 + dt.timedelta(hours=38)
    # the next most urgent (paid first) fill the first wave; the last paid wait for the last wave
    assert {"C0", "C1", "C2"} == {wo.order.external_id for wo in planned[0].wave_orders} - {"URGENT"}
    assert wave_of("C8").id == planned[-1].id


def spread_orders(n=24):
    """Orders at both ends of the floor, in alternation: first come first served mixes the ends
    in every cart; batching by place does not."""
    specs = []
    for i in range(n):
        left, right = i % 3, 4 + (i % 3)
        aisles = (left, (left + 1) % 3) if i % 2 == 0 else (right, right + 1)
        specs.append((f"O{i}", [(sku(aisles[0], i % 6), 1), (sku(aisles[1], (i + 2) % 6), 1)]))
    return specs


def test_planned_batches_walk_less_than_first_come_first_served(floor):
    place(*spread_orders())
    (wave,) = waves.plan_waves("WH-HZ", actor=actor())
    assert wave.strategy == "cluster" and wave.orders_count == 24
    assert 0 < wave.planned_metres < 0.9 * wave.fcfs_metres
    preview = waves.preview(wave.id)
    assert preview["wave"]["saving_pct"] > 10
    assert [t["code"] for t in preview["tasks"]] == [f"{wave.code}-T{n}" for n in range(1, len(preview["tasks"]) + 1)]
    assert sum(t["metres"] for t in preview["tasks"]) == pytest.approx(wave.planned_metres, abs=0.05)
    waves._recent.clear()  # another process batches the wave again from the database: same batches
    assert waves.preview(wave.id)["tasks"] == preview["tasks"]
    released = waves.release_wave(wave.id, actor())
    assert released.planned_metres == pytest.approx(wave.planned_metres, abs=0.05)
    assert [(t["code"], t["sequence"]) for t in waves.preview(wave.id)["tasks"]] == [
        (t["code"], t["sequence"]) for t in preview["tasks"]]  # release made what the preview showed


def test_release_makes_tasks_in_route_order_with_correct_totals(floor, heard):
    specs = spread_orders(10)
    specs += [("EDGE", [(sku(6, 0), 1), (sku(7, 2), 2)]),  # spans zones A and B: one task per zone
              ("SAME", [(sku(0, 0), 1), (sku(2, 1), 1)])]  # shares a pick face with O0
    place(*specs)
    (wave,) = waves.plan_waves("WH-HZ", actor=actor())
    heard.clear()
    waves.release_wave(wave.id, actor())
    wave = Wave.get_by_id(wave.id)
    tasks = list(PickTask.select().where(PickTask.wave == wave.id).order_by(PickTask.seq))
    layout = layout_of(floor)
    for task in tasks:
        lines = list(PickLine.select().where(PickLine.task == task.id).order_by(PickLine.seq))
        codes = list(dict.fromkeys(line.location.code for line in lines))
        expected = routing.route(layout, sorted(codes))
        assert codes == expected.sequence
        assert task.metres == pytest.approx(expected.distance_m, abs=0.01)
        assert (task.lines_total, task.units_total) == (len(lines), sum(l.qty for l in lines))
        assert [l.seq for l in lines] == list(range(1, len(lines) + 1))
        assert len({l.location.zone_id for l in lines}) == 1 and task.zone_id == lines[0].location.zone_id
        for line in lines:
            assert line.order_id == line.order_line.order_id == line.allocation.line.order_id
            assert (line.product_id, line.location_id, line.qty) == (
                line.allocation.line.product_id, line.allocation.location_id, line.allocation.qty)
    assert sum(t.units_total for t in tasks) == wave.units_count == 25
    assert PickLine.select().count() == sum(len(s[1]) for s in specs)
    edge = [t for t in tasks if any(l.order.external_id == "EDGE" for l in t.lines if l.order_id)]
    assert len(edge) == 2 and {t.zone.code for t in edge} == {"A", "B"}
    assert wave.planned_metres == pytest.approx(sum(t.metres for t in tasks), abs=0.05)
    # announced after the commit: every task to pickers, the totals to the wall screen
    assert [e[0] for e in heard if e[0] == "task.changed"] == ["task.changed"] * len(tasks)
    assert all(rooms == ("role:picker", "wallboard") for event, _, rooms, _ in heard if event == "task.changed")
    (progress,) = [e for e in heard if e[0] == "wave.progress"]
    assert progress[2] == ("wallboard",) and progress[1]["tasks"] == len(tasks)
    assert progress[1]["units_total"] == wave.units_count and progress[1]["status"] == "released"
    assert not any(open_transaction for *_, open_transaction in heard)


def test_nothing_is_announced_when_the_release_rolls_back(floor, heard):
    place(*spread_orders(6))
    (wave,) = waves.plan_waves("WH-HZ", actor=actor())
    heard.clear()
    with pytest.raises(RuntimeError):
        with write_transaction():
            waves.release_wave(wave.id, actor())
            assert PickTask.select().count() > 0 and heard == []
            raise RuntimeError("power cut")
    assert heard == [] and PickTask.select().count() == 0 and Wave.get_by_id(wave.id).status == "planned"


def test_batch_wave_aggregates_lines_and_fills_the_put_wall(floor):
    place(("B1", [(sku(1, 0), 4), (sku(5, 2), 3)]), ("B2", [(sku(1, 0), 2), (sku(3, 3), 5)]),
          ("B3", [(sku(5, 2), 6), (sku(2, 4), 1)]))
    (wave,) = waves.plan_waves("WH-HZ", actor=actor())
    assert wave.strategy == "batch_putwall"
    assert sorted(wo.slot for wo in wave.wave_orders) == [1, 2, 3]
    waves.release_wave(wave.id, actor())
    lines = list(PickLine.select().join(PickTask).where(PickTask.wave == wave.id))
    assert all(l.order_id is None and l.allocation_id is None and l.slot == 0 for l in lines)
    by_sku = {l.product.sku: l.qty for l in lines}
    assert by_sku == {sku(1, 0): 6, sku(5, 2): 9, sku(3, 3): 5, sku(2, 4): 1}


def test_cancel_gives_the_orders_back(floor, heard):
    place(*spread_orders(6))
    (wave,) = waves.plan_waves("WH-HZ", actor=actor())
    waves.release_wave(wave.id, actor())
    heard.clear()
    waves.cancel_wave(wave.id, actor())
    assert Wave.get_by_id(wave.id).status == "cancelled"
    assert {o.status for o in Order.select()} == {"allocated"}
    assert not WaveOrder.select().exists()
    assert {t.status for t in PickTask.select()} == {"cancelled"}
    assert [e["action"] for e in orders.history(Order.get(Order.external_id == "O0"))][-2:] == ["waved", "allocated"]
    assert {e[1]["status"] for e in heard if e[0] == "task.changed"} == {"cancelled"}
    (again,) = waves.plan_waves("WH-HZ", actor=actor())  # free to be planned again
    assert again.orders_count == 6 and again.id != wave.id


def test_refused_transitions(floor):
    place(*spread_orders(6))
    (wave,) = waves.plan_waves("WH-HZ", actor=actor())
    for verb in (waves.pause_wave, waves.resume_wave):
        with pytest.raises(InvalidTransition):
            verb(wave.id, actor())
    waves.release_wave(wave.id, actor())
    with pytest.raises(InvalidTransition):
        waves.release_wave(wave.id, actor())
    assert waves.pause_wave(wave.id, actor()).status == "paused"
    assert waves.resume_wave(wave.id, actor()).status == "released"
    # a picker has taken the first unit: the wave can no longer be taken apart
    first = PickLine.select().join(PickTask).where(PickTask.wave == wave.id).order_by(PickLine.id).get()
    PickLine.update(picked_qty=1).where(PickLine.id == first.id).execute()
    with pytest.raises(InvalidTransition):
        waves.cancel_wave(wave.id, actor())
    assert {o.status for o in Order.select()} == {"waved"}
    waves.pause_wave(wave.id, actor())
    assert waves.resume_wave(wave.id, actor()).status == "picking"


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_http_surface_and_roles(client, token_for, floor):
    place(*spread_orders(8))
    supervisor, office, picker = (auth(token_for(role)) for role in ("supervisor", "office", "picker"))
    assert client.get("/api/v1/waves", headers=picker).status_code == 403
    assert client.post("/api/v1/waves/plan", json={"warehouse": "WH-HZ"}, headers=office).status_code == 403
    assert client.post("/api/v1/waves/plan", json={"warehouse": "WH-XX"}, headers=supervisor).status_code == 404
    planned = client.post("/api/v1/waves/plan", json={"warehouse": "WH-HZ", "max_orders": 6}, headers=supervisor)
    assert planned.status_code == 201, planned.get_json()
    (item,) = planned.get_json()["items"]
    assert item["orders"] == 6 and item["status"] == "planned" and item["planned_metres"] <= item["fcfs_metres"]
    shown = client.get(f"/api/v1/waves/{item['id']}", headers=office).get_json()
    assert len(shown["orders"]) == 6 and all(t["status"] == "planned" and t["sequence"] for t in shown["tasks"])
    assert client.post(f"/api/v1/waves/{item['id']}/release", headers=office).status_code == 403
    released = client.post(f"/api/v1/waves/{item['code']}/release", headers=supervisor)
    assert released.status_code == 200 and released.get_json()["wave"]["status"] == "released"
    assert [t["sequence"] for t in released.get_json()["tasks"]] == [t["sequence"] for t in shown["tasks"]]
    again = client.post(f"/api/v1/waves/{item['id']}/release", headers=supervisor)
    assert again.status_code == 409 and again.get_json()["code"] == "invalid_transition"
    listed = client.get("/api/v1/waves?status=released", headers=office).get_json()["items"]
    assert [w["code"] for w in listed] == [item["code"]]
    assert client.get("/api/v1/waves?status=planned", headers=office).get_json()["items"] == []
    for verb, after in (("pause", "paused"), ("resume", "released")):
        answer = client.post(f"/api/v1/waves/{item['id']}/{verb}", headers=supervisor)
        assert answer.get_json()["wave"]["status"] == after
    cancelled = client.post(f"/api/v1/waves/{item['id']}/cancel", headers=supervisor).get_json()
    assert cancelled["wave"]["status"] == "cancelled" and cancelled["orders"] == []
    assert client.get("/api/v1/waves/999999", headers=office).status_code == 404
    assert json.dumps(client.get("/api/v1/openapi.json").get_json()).count("/api/v1/waves") >= 4


def test_planning_sees_each_order_as_review_does(floor):
    from server.models import OrderLine
    from server.services.orders.facts import active_lines, context
    place(("S1", [(sku(0, 0), 1)]), ("C1", [(sku(0, 1), 1), (sku(3, 2), 2)]))
    products = {p.id: p for p in Product.select()}
    for order in Order.select():
        lines = active_lines(order)
        assert order_facts.context(order, lines, products) == context(order, lines)
    assert OrderLine.select().count() == 3


def test_command_line_plans_shows_and_releases(floor, db_url, tmp_path):
    from tests.test_cli import wavefloor
    place(*spread_orders(6))
    (planned,) = json.loads(wavefloor(db_url, "waves", "plan", "--warehouse", "WH-HZ", "--json",
                                      tmp_path=tmp_path).stdout)
    assert planned["orders"] == 6 and planned["status"] == "planned"
    shown = json.loads(wavefloor(db_url, "waves", "show", planned["code"], tmp_path=tmp_path).stdout)
    assert len(shown["orders"]) == 6 and shown["tasks"][0]["sequence"]
    assert f"{planned['code']} released" in wavefloor(db_url, "waves", "release", planned["code"],
                                                      tmp_path=tmp_path).stdout
    assert Wave.get(Wave.code == planned["code"]).status == "released"
    refused = wavefloor(db_url, "waves", "release", planned["code"], tmp_path=tmp_path, check=False)
    assert refused.returncode != 0 and "released" in refused.stderr


def test_a_wave_named_by_digits_int_cannot_read_is_not_found(client, token_for, floor):
    # "²" and "¹²" pass str.isdigit() but int() refuses them: they name no wave, not a server error
    supervisor = auth(token_for("supervisor"))
    for name in ("²", "¹²"):
        assert client.get(f"/api/v1/waves/{name}", headers=supervisor).status_code == 404
        assert client.post(f"/api/v1/waves/{name}/cancel", headers=supervisor).status_code == 404
        assert client.post(f"/api/v1/floor/tasks/{name}/reassign", json={"picker": "u-picker"},
                           headers=supervisor).status_code == 404
