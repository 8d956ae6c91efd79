"""/healthz and /metrics through the HTTP surface, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import socket
import uuid

import pytest
import socketio

from server import metrics
from server.services import printing
from server.services.device import commands
from server.services.stock import inventory
from tests.conftest import free_port
from tests.test_faults import hang_up

SHARED_REDIS = "redis://127.0.0.1:6379/0"
SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def parse(text: str) -> dict[str, float]:
    """Prometheus text -> {'name{labels}': value}; every sample line must be well formed."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return samples


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3):
            return True
    except OSError:
        return False


def app_with(db_url, tmp_path, **settings):
    from server.app import create_app
    app = create_app({"DATABASE_URL": db_url, "INSTANCE_DIR": str(tmp_path / "instance"),
                      "SECRET_KEY": "test-secret", **settings})
    app.config["TESTING"] = True
    return app


def test_healthz_is_ok_when_every_part_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "degraded": [],
                                   "parts": {"database": "up", "redis": "off",
                                             "printers": {"ok": 0, "faulted": 0, "unknown": 0}}}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_lists_redis_and_printers_that_are_down(db, db_url, tmp_path):
    actor = inventory.system_actor()
    for code, status in (("P1", '{"ok": true, "faults": []}'), ("P2", '{"ok": false, "faults": ["paper_out"]}'),
                         ("P3", "")):
        printer = printing.save_printer(code, {"url": "file:///tmp/wf-never-written"}, actor)
        type(printer).update(last_status=status).where(type(printer).id == printer.id).execute()
    client = app_with(db_url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    response = client.get("/healthz")
    assert response.status_code == 200  # the database answers: still serving
    assert response.get_json() == {"status": "degraded", "degraded": ["redis", "printers"],
                                   "parts": {"database": "up", "redis": "down",
                                             "printers": {"ok": 1, "faulted": 1, "unknown": 1}}}
    assert "paper_out" not in response.get_data(as_text=True)  # up or down only, never details


@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379")
@pytest.mark.parametrize("engine", ["sqlite"])
def test_healthz_pings_redis(db, db_url, tmp_path):
    client = app_with(db_url, tmp_path, REDIS_URL=SHARED_REDIS).test_client()
    assert client.get("/healthz").get_json()["parts"]["redis"] == "up"


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    client = app_with(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere", tmp_path).test_client()
    for _ in range(2):  # the failure must not leave the process unable to answer the next probe
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json() == {"status": "down", "parts": {"database": "down"}, "degraded": ["database"]}
    metrics_response = client.get("/metrics")
    assert metrics_response.status_code == 503 and 'wavefloor_up{part="database"} 0' in metrics_response.get_data(
        as_text=True)


def test_metrics_exposes_queues_printers_and_devices(db, db_url, tmp_path, client):
    actor = inventory.system_actor()
    printing.save_printer("P1", {"url": f"file://{tmp_path}/labels"}, actor)
    from tests.test_print_queue import label
    job = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)
    printing.cancel(printing.enqueue("P1", "shipping", label(2), "TM000002", actor).id, actor)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = parse(response.get_data(as_text=True))
    assert samples['wavefloor_print_jobs{state="queued"}'] == 1 and job.state == "queued"
    assert samples['wavefloor_print_jobs{state="cancelled"}'] == 1
    assert samples['wavefloor_print_jobs{state="done"}'] == 0
    assert samples['wavefloor_printers{status="unknown"}'] == 1
    assert samples['wavefloor_pick_tasks_open{status="open"}'] == 0
    assert samples["wavefloor_connected_devices"] == 0
    assert samples['wavefloor_up{part="database"}'] == 1
    assert samples['wavefloor_command_seconds_bucket{le="+Inf"}'] == samples["wavefloor_command_seconds_count"]
    assert samples["wavefloor_grouped_commands_total"] >= samples["wavefloor_grouped_commits_total"] >= 0
    assert samples["wavefloor_transactions_retried_total"] >= 0


@pytest.mark.parametrize("engine", ["sqlite"])
def test_metrics_token_is_required_when_set(db, db_url, tmp_path):
    client = app_with(db_url, tmp_path, METRICS_TOKEN="scrape-me").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200 and "wavefloor_commands_total" in response.get_data(as_text=True)


@pytest.mark.parametrize("engine", ["sqlite"])
def test_commands_are_counted_with_outcome_and_latency(app, client, token_for, small_warehouse):
    from server.services import auth
    inventory.receive(small_warehouse["tee"], small_warehouse["locations"]["A-01"], 5,
                      actor=inventory.system_actor())
    principal = auth.authenticate(token_for("receiver", device="HH-01"))
    execute = commands.execute if getattr(commands.execute, "wf_metered", False) else metrics.metered(
        commands.registered)(commands.execute)
    metrics.reset()
    execute(principal, {"key": uuid.uuid4().hex, "scenario": "stock", "action": "lookup", "code": "A-01"})
    execute(principal, {"key": uuid.uuid4().hex, "scenario": "stock", "action": "move", "sku": "TS-01",
                        "from": "A-01", "to": "A-02", "qty": 99})
    execute(principal, {"key": uuid.uuid4().hex, "scenario": "stock", "action": "x" * 40})
    execute(principal, {"key": uuid.uuid4().hex, "scenario": "no-such-scenario", "action": "scan"})
    samples = parse(client.get("/metrics").get_data(as_text=True))
    assert samples['wavefloor_commands_total{scenario="stock",action="lookup",outcome="ok"}'] == 1
    assert samples['wavefloor_commands_total{scenario="stock",action="move",outcome="refused"}'] == 1
    assert samples['wavefloor_commands_total{scenario="stock",action="other",outcome="refused"}'] == 1
    assert samples['wavefloor_commands_total{scenario="other",action="other",outcome="refused"}'] == 1
    assert samples["wavefloor_command_seconds_count"] == 4
    assert samples['wavefloor_command_seconds_bucket{le="5.0"}'] == 4
    assert samples["wavefloor_command_seconds_sum"] > 0


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_live_server_counts_its_sockets_and_scans(live_server, small_warehouse):
    import requests
    token = requests.post(f"{live_server.url}/api/v1/auth/pin", timeout=10,
                          json={"user": "u-picker", "pin": "2468", "device": "HH-09"}).json()["token"]
    device = socketio.Client(reconnection=False)
    device.connect(live_server.url, namespaces=["/floor"], auth={"token": token}, transports=["websocket"],
                   wait_timeout=10)
    try:
        answer = device.call("cmd", {"key": uuid.uuid4().hex, "scenario": "stock", "action": "lookup",
                                     "code": "A-01"}, namespace="/floor", timeout=10)
        assert answer["ok"]
        samples = parse(requests.get(f"{live_server.url}/metrics", timeout=10).text)
        assert samples["wavefloor_connected_devices"] == 1
        if getattr(commands.execute, "wf_metered", False):
            assert samples['wavefloor_commands_total{scenario="stock",action="lookup",outcome="ok"}'] == 1
    finally:
        hang_up(device)
