"""The control room in a real browser against a live server: one action of each kind, clicked
by a supervisor, and its effect checked through the API. Both engines."""
from __future__ import annotations

import json

import pytest
import requests

from printers.labels import tote_demo
from server.models import PrintJob, Printer, User
from server.services import auth, printing
from server.services.stock import inventory
from server.services.waves import planning as waves
from tests.conftest import ServerProcess
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_wall_browser import confirm_lines, in_process, release_wave
from tests.test_waves import floor as hz_floor, place, sku  # noqa: F401  (the WH-HZ fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def quiet_server(db, db_url, tmp_path, people):
    """A live server without a print worker, so labels stay where the test puts them."""
    server = ServerProcess(db_url, tmp_path / "instance", {"WAVEFLOOR_PRINT_WORKER": "0"}).start()
    yield server
    server.stop()


@pytest.fixture
def control_floor(hz_floor, people, secret_hashes, tmp_path):
    """A released wave whose first task u-picker holds, a planned wave, a second picker, and two
    printers: P1 out of paper with a failed and a queued label."""
    (released,) = release_wave([(f"S{n}", [(sku(n, 0), 1)]) for n in range(3)])
    in_process("u-picker", "HH-01")("get_work")
    place(("C1", [(sku(4, 1), 1), (sku(5, 2), 1)]))
    (planned,) = waves.plan_waves("WH-HZ", actor=inventory.system_actor())
    user = auth.add_user("u-picker2", "拣货员 二", ["picker"])
    User.update(pin_hash=secret_hashes[1]).where(User.id == user.id).execute()
    actor = inventory.Actor(people["supervisor"].id)
    for code in ("P1", "P2"):
        printing.save_printer(code, {"url": f"file://{tmp_path}/{code}"}, actor)
    failed = printing.enqueue("P1", "tote", tote_demo(), "T-FAILED", actor)
    PrintJob.update(state="failed", last_error="media_out").where(PrintJob.id == failed.id).execute()
    printing.enqueue("P1", "tote", tote_demo(), "T-QUEUED", actor)
    Printer.update(last_status=json.dumps({"ok": False, "faults": ["paper_out"]})).where(
        Printer.code == "P1").execute()
    return {"released": released, "planned": planned, "failed": failed}


def api(server, token, path, method="GET", body=None):
    response = requests.request(method, f"{server.url}/api/v1{path}", json=body, timeout=10,
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 300, response.text
    return response.json()


def test_each_kind_of_control_action(quiet_server, control_floor, browser):
    server = quiet_server
    token = requests.post(f"{server.url}/api/v1/auth/login", json={"user": "u-supervisor", "password": "secret-pass"},
                          timeout=10).json()["token"]
    page = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN").new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{server.url}/login?next=/control")
    page.fill("input[name=user]", "u-supervisor")
    page.fill("input[name=password]", "secret-pass")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/control")
    planned = control_floor["planned"]

    def done(near, button):
        """Press ``button`` and wait for the page to say how it went, next to it: in the form or
        section that holds ``near`` (found afresh: the floor's events redraw the lists' rows, and
        a row found before may be gone)."""
        result = page.evaluate_handle("(near) => document.querySelector(near).closest('form, section')"
                                      ".querySelector('.result')", near)
        page.evaluate("(r) => { r.className = 'result'; }", result)
        button.click()
        page.wait_for_function("(r) => /\\b(ok|error)\\b/.test(r.className)", arg=result)
        assert "ok" in result.get_attribute("class"), result.text_content()

    def click(row, label):
        done(row, page.locator(row).get_by_role("button", name=label))

    def wave_status(wave):
        return api(server, token, f"/waves/{wave.id}")["wave"]["status"]

    page.wait_for_selector(f"tr[data-wave={planned.code}] button")
    click(f"tr[data-wave={planned.code}]", "释放")
    assert wave_status(planned) == "released"
    click(f"tr[data-wave={planned.code}]", "暂停")
    assert wave_status(planned) == "paused"
    click(f"tr[data-wave={planned.code}]", "恢复")
    assert wave_status(planned) == "released"
    click(f"tr[data-wave={planned.code}]", "取消")
    assert wave_status(planned) == "cancelled"

    (task,) = [t for t in api(server, token, "/floor/control")["tasks"] if t["picker"] == "u-picker"]
    row = f"tr[data-task='{task['code']}']"
    page.locator(row).locator("select").select_option("u-picker2")
    click(row, "改派")
    (moved,) = [t for t in api(server, token, "/floor/control")["tasks"] if t["code"] == task["code"]]
    assert (moved["picker"], moved["status"]) == ("u-picker2", "assigned")

    order = api(server, token, "/orders?q=S1")["items"][0]
    page.fill("#priority-form input[name=order]", order["external_id"])
    page.fill("#priority-form input[name=priority]", "12")
    done("#priority-form", page.locator("#priority-form button"))
    assert api(server, token, f"/orders/{order['id']}")["priority"] == 12

    page.fill("#count-form input[name=location]", "HZ-2-0")
    done("#count-form", page.locator("#count-form button"))
    exceptions = api(server, token, "/floor/summary")["exceptions"]["items"]
    assert ("count", "HZ-2-0") in {(e["kind"], e["ref"]) for e in exceptions}

    failed = control_floor["failed"]
    click("#exceptions tr[data-kind=print_failed][data-ref=T-FAILED]", "补打")
    jobs = api(server, token, "/print-jobs?ref=T-FAILED")["items"]
    assert [j["reprint_of"] for j in jobs if j["reprint_of"]] == [failed.id]

    page.locator("tr[data-printer=P1] select").select_option("P2")
    click("tr[data-printer=P1]", "转移")
    assert api(server, token, "/print-jobs?printer=P1")["items"] == []
    assert len(api(server, token, "/print-jobs?printer=P2")["items"]) == 3

    confirm_lines(in_process("u-picker2", "HH-02"), 1)
    page.locator("#trail-picker").select_option("u-picker2")
    page.locator("#trail-form button").click()
    moves = api(server, token, "/floor/pickers/u-picker2/trail")["moves"]
    assert [m["reason"] for m in moves] == ["pick"]
    page.wait_for_selector("#trail tr td.n")
    assert page.locator("#trail tr").count() == len(moves)
    assert page.locator("#trail tr td").nth(1).text_content() == "拣入周转箱"
