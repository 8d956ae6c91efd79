"""Refreshes asked for over HTTP run in processes of their own, on both engines: ``POST
/api/v1/customers/refresh`` and ``POST /api/v1/money/refresh`` answer 202 at once with a run the
office polls; a second refresh asked while one runs starts nothing and answers the running one;
a child that dies without a report leaves its run failed and the way free."""
from __future__ import annotations

import sys
import time

from server.models import LineMoney, RefreshRun
from server.services import refresh_runs
from tests.test_customers import shop_orders  # noqa: F401  (fixture)
from tests.test_money import DAY, tmall_order
from tests.test_money import shop  # noqa: F401  (fixture)

WAIT_S = 90


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def finished(client, url: str, headers: dict) -> dict:
    """Poll the run until it is no longer running."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        run = client.get(url, headers=headers).get_json()
        if run["state"] != "running":
            return run
        time.sleep(0.2)
    raise AssertionError(f"{url} still running after {WAIT_S} s")


def test_a_customers_refresh_runs_in_its_own_process_and_is_polled(client, token_for, shop_orders):  # noqa: F811
    office, supervisor = bearer(token_for("office")), bearer(token_for("supervisor"))
    assert client.post("/api/v1/customers/refresh", headers=supervisor).status_code == 403
    asked = client.post("/api/v1/customers/refresh", headers=office)
    assert asked.status_code == 202
    run = asked.get_json()
    assert run["started"] is True and run["kind"] == "customers" and run["result"] is None
    assert asked.headers["Location"] == f"/api/v1/customers/refresh/{run['id']}"
    done = finished(client, asked.headers["Location"], supervisor)   # reading needs customers.read only
    assert done["state"] == "done", done["error"]
    assert done["result"]["customers"] == 8 and done["result"]["tags"]["vip"] >= 1
    assert done["finished_at"].endswith("+00:00")
    assert client.get("/api/v1/customers", headers=office).get_json()["total"] == 8
    assert client.get("/api/v1/customers/refresh/999999", headers=office).status_code == 404
    assert client.get(f"/api/v1/money/refresh/{run['id']}", headers=office).status_code == 404   # not a money run


def test_a_money_refresh_runs_in_its_own_process_and_is_polled(client, token_for, shop):  # noqa: F811
    tee, mug, wh = shop["tee"], shop["mug"], shop["warehouse"]
    order = tmall_order("R1", [(tee, 2, 5900), (mug, 1, 3900)], paid_fen=15000, warehouse=wh)
    office, supervisor = bearer(token_for("office")), bearer(token_for("supervisor"))
    assert client.post("/api/v1/money/refresh", json={"first": DAY.isoformat()}, headers=supervisor).status_code == 403
    backwards = {"first": DAY.isoformat(), "last": "2026-11-01"}
    assert client.post("/api/v1/money/refresh", json=backwards, headers=office).status_code == 400
    assert RefreshRun.select().count() == 0
    asked = client.post("/api/v1/money/refresh", json={"first": DAY.isoformat(), "shop": "tm1"}, headers=office)
    assert asked.status_code == 202 and asked.get_json()["started"] is True
    assert asked.get_json()["params"] == {"first": "2026-11-11", "last": "2026-11-11", "shop": "tm1"}
    done = finished(client, asked.headers["Location"], supervisor)
    assert done["state"] == "done", done["error"]
    assert done["result"] == {"first": "2026-11-11", "last": "2026-11-11", "orders": 1, "lines": 2}
    assert sum(m.paid_fen for m in LineMoney.select().where(LineMoney.order == order.id)) == 15000
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "202" in spec["paths"]["/api/v1/money/refresh"]["post"]["responses"]
    assert "/api/v1/money/refresh/{run_id}" in spec["paths"]


# a stand-in for the command: it runs until the test lets it go, then ends without a report
WAITER = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.05)\nsys.exit(3)\n"


def test_a_run_that_ends_while_it_is_read_reads_as_ended_not_lost(db):
    """The poll read the run (running), then the child's end and the lease's release committed,
    then the poll read the lease (free): the run is done, not lost."""
    run = RefreshRun.create(kind="money", params="{}")
    seen = RefreshRun.get_by_id(run.id)  # read while running; no lease held now
    RefreshRun.update(state="done", result='{"orders": 1}').where(RefreshRun.id == run.id).execute()
    assert refresh_runs.view(seen)["state"] == "done" and refresh_runs.view(seen)["result"] == {"orders": 1}
    gone = RefreshRun.create(kind="customers", params="{}")  # running, and its lease gone: lost
    assert (refresh_runs.view(gone)["state"], refresh_runs.view(gone)["error"]) == ("failed", refresh_runs.LOST)


def test_a_second_refresh_asked_while_one_runs_is_not_started_twice(client, token_for, db, tmp_path,
                                                                    monkeypatch):
    go = tmp_path / "go"
    monkeypatch.setattr(refresh_runs, "command", lambda kind, params, run_id: [sys.executable, "-c", WAITER, str(go)])
    office = bearer(token_for("office"))
    first = client.post("/api/v1/customers/refresh", headers=office).get_json()
    assert first["started"] is True and first["state"] == "running"
    again = client.post("/api/v1/customers/refresh", headers=office)
    assert again.status_code == 202
    assert again.get_json()["started"] is False and again.get_json()["id"] == first["id"]
    assert again.headers["Location"] == f"/api/v1/customers/refresh/{first['id']}"
    assert RefreshRun.select().where(RefreshRun.kind == "customers").count() == 1
    # another kind is not held up by it
    money = client.post("/api/v1/money/refresh", json={"first": DAY.isoformat()}, headers=office).get_json()
    assert money["started"] is True and money["id"] != first["id"]

    go.write_text("")   # the stand-ins end without writing a report: their runs failed, the way is free
    url = f"/api/v1/customers/refresh/{first['id']}"
    failed = finished(client, url, office)
    assert failed["state"] == "failed" and "exit 3" in failed["error"]
    assert finished(client, f"/api/v1/money/refresh/{money['id']}", office)["state"] == "failed"
    go.unlink()
    third = client.post("/api/v1/customers/refresh", headers=office).get_json()
    assert third["started"] is True and third["id"] not in (first["id"], money["id"])
    go.write_text("")
    assert finished(client, f"/api/v1/customers/refresh/{third['id']}", office)["state"] == "failed"


def test_a_real_server_answers_at_once_and_the_refresh_ends_on_its_own(live_server, shop_orders):  # noqa: F811
    """``wavefloor serve`` (gevent): the refresh's process is watched by a greenlet; the server
    answers the floor meanwhile, and the run ends done with its summary."""
    import requests
    login = requests.post(f"{live_server.url}/api/v1/auth/login", json={"user": "u-office", "password": "secret-pass"},
                          timeout=10)
    office = bearer(login.json()["token"])
    asked = requests.post(f"{live_server.url}/api/v1/customers/refresh", headers=office, timeout=10)
    assert asked.status_code == 202 and asked.json()["started"] is True
    assert requests.get(f"{live_server.url}/healthz", timeout=5).status_code == 200
    deadline = time.monotonic() + WAIT_S
    while True:
        run = requests.get(f"{live_server.url}{asked.headers['Location']}", headers=office, timeout=10).json()
        if run["state"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert run["state"] == "done", run["error"]
    assert run["result"]["customers"] == 8
