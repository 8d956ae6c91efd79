"""The wall screen in a real browser (Debian chromium, 1920x1080) against a live server: a
picker's handheld confirms picks through the picking scenario and the wall's numbers follow,
the same numbers the API reports; the server restarts and the wall recovers by itself. Both
engines."""
from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

from server.models import Location, PickLine, PickTask, Printer
from server.services import auth
from server.services.auth import Principal
from server.services.device import commands
from server.services.stock import inventory
from server.services.waves import planning as waves
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_realtime import Device, pin_login
from tests.test_waves import floor as hz_floor, place, sku  # noqa: F401  (the WH-HZ fixture)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def release_wave(specs) -> list:
    """Import the orders, plan and release their waves; every cart slot gets a tote of its own."""
    place(*specs)
    released = []
    for wave in waves.plan_waves("WH-HZ", actor=inventory.system_actor()):
        released.append(waves.release_wave(wave.id, inventory.system_actor()))
    for task in PickTask.select():
        for (slot,) in PickLine.select(PickLine.slot).where(PickLine.task == task.id).distinct().tuples():
            Location.get_or_create(code=f"TOTE-{task.code}-{slot}",
                                   defaults={"warehouse": task.wave.warehouse_id, "kind": "tote"})
    return released


def confirm_lines(send, lines: int) -> None:
    """Walk the picker's tasks through the picking scenario with ``send(action, **params)``."""
    result = send("get_work")
    done = 0
    while done < lines:
        assert result["ok"], result
        state = result["next_state"]
        data = result["data"].get(state, {})
        if state == "task_done":
            result = send("get_work")
            continue
        line = data["line"]
        if state == "scan_location":
            result = send("scan", code=line["location"])
        elif state == "scan_item":
            result = send("scan", code=line["sku"])
        else:
            result = send("scan", code=f"TOTE-{data['task']['code']}-{line['slot']}")
            done += 1
    assert result["ok"], result


def by_socket(device: Device):
    return lambda action, **params: device.cmd(scenario="picking", action=action, **params)


def in_process(user_code: str, device_code: str):
    """The same scenario run in the test process (while the server is down)."""
    from server.models import User
    from server.models import Device as DeviceRow
    user = User.get(User.code == user_code)
    device, _ = DeviceRow.get_or_create(code=device_code, defaults={"kind": "handheld"})
    principal = Principal(user, auth.roles_of(user), device)
    return lambda action, **params: commands.execute(
        principal, {"key": uuid.uuid4().hex, "scenario": "picking", "action": action, **params})


def api_summary(server, token):
    response = requests.get(f"{server.url}/api/v1/floor/summary", headers={"Authorization": f"Bearer {token}"},
                            timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wall_numbers(page) -> dict:
    return page.evaluate("""() => {
        const waves = {};
        document.querySelectorAll('#wave-rows tr[data-wave]').forEach(tr => {
            waves[tr.dataset.wave] = [+tr.querySelector('.lines-done').textContent,
                                      +tr.querySelector('.units-done').textContent.replace(/,/g, '')];
        });
        return {waves, today: +document.getElementById('units-today').textContent.replace(/,/g, ''),
                live: document.body.classList.contains('live'),
                stale: document.body.classList.contains('stale')};
    }""")


def api_numbers(summary) -> dict:
    return {"waves": {str(w["wave"]): [w["lines_done"], w["units_done"]] for w in summary["waves"]},
            "today": summary["throughput"]["total"]}


def wait_until(check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout_s} s")
        time.sleep(0.05)


def open_wall(browser, server, device_code="WALL-1"):
    token = pin_login(server, "u-supervisor", device_code)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
    page = context.new_page()
    page.goto(f"{server.url}/wall?token={token}")
    assert page.url == f"{server.url}/wall"  # the token left the address bar for the session
    page.wait_for_selector("body.live")
    page.wait_for_function("() => document.getElementById('units-today').textContent !== '–'")
    return page, token


def test_the_wall_follows_picks_and_recovers_after_a_restart(live_server, hz_floor, people, browser):
    (wave,) = release_wave([(f"S{n}", [(sku(n % 7, n % 6), 1)]) for n in range(8)])
    page, token = open_wall(browser, live_server)
    assert "现场看板" in page.content()  # Chinese first, whatever the browser says
    start = wall_numbers(page)
    assert api_numbers(api_summary(live_server, token)) == {"waves": start["waves"], "today": start["today"]}
    assert start["waves"][str(wave.id)] == [0, 0]

    handheld = Device(live_server, pin_login(live_server, "u-picker", "HH-01"))
    try:
        confirm_lines(by_socket(handheld), 3)
        # the wall hears wave.progress; within a second its numbers are the API's
        expected = api_numbers(api_summary(live_server, token))
        assert expected["waves"][str(wave.id)] == [3, 3] and expected["today"] == 3
        seen = wait_until(lambda: (lambda n: n if {"waves": n["waves"], "today": n["today"]} == expected
                                   else None)(wall_numbers(page)), 3.0, "the wall shows the API's numbers")
        assert seen["live"] and not seen["stale"]
        # the picker's row follows the same event's changed_tasks
        row = page.locator('#picker-rows tr[data-picker="u-picker"]')
        wait_until(lambda: re.search(r"\b3/\d+", row.inner_text()), 3.0, "the picker row shows 3 lines done")
    finally:
        handheld.close()

    live_server.stop()
    wait_until(lambda: wall_numbers(page)["stale"], 20.0, "the wall says STALE")
    assert page.locator("#stale-banner").is_visible()
    confirm_lines(in_process("u-picker", "HH-01"), 2)  # picked while the wall was cut off
    live_server.start()
    wait_until(lambda: wall_numbers(page)["live"], 30.0, "the wall reconnects by itself")
    expected = api_numbers(api_summary(live_server, token))
    assert expected["waves"][str(wave.id)] == [5, 5] and expected["today"] == 5
    wait_until(lambda: {k: v for k, v in wall_numbers(page).items() if k in ("waves", "today")} == expected,
               5.0, "the wall shows the numbers after the restart")
    assert not page.locator("#stale-banner").is_visible()


def test_wall_screenshot_under_load(live_server, hz_floor, people, browser, secret_hashes):
    """Demo-like floor: several waves, three pickers working, a short pick, a held order and a
    printer out of paper; the picture is saved to tests/artifacts/wall.png."""
    specs = [(f"C{n}", [(sku(n % 8, n % 6), 1 + n % 2), (sku((n * 3) % 8, (n + 2) % 6), 1)]) for n in range(24)]
    specs += [(f"S{n}", [(sku(n % 8, (n + 1) % 6), 1)]) for n in range(30)]
    release_wave(specs)
    for code in ("u-picker2", "u-picker3"):
        from server.models import User
        user = auth.add_user(code, f"拣货员 {code[-1]}", ["picker"])
        User.update(pin_hash=secret_hashes[1]).where(User.id == user.id).execute()
    Printer.create(code="PK-02", url="tcp://127.0.0.1:9", station="PK02",
                   last_status=json.dumps({"ok": False, "faults": ["paper_out"]}))
    from server.models import Order
    Order.create(channel="tmall", shop="s1", external_id="HELD-77", status="held", hold_reasons="address")

    pickers = [Device(live_server, pin_login(live_server, code, f"HH-{n}"))
               for n, code in enumerate(("u-picker", "u-picker2", "u-picker3"))]
    try:
        for n, device in enumerate(pickers):
            confirm_lines(by_socket(device), 2 + n)
        page, token = open_wall(browser, live_server, "WALL-2")
        for n, device in enumerate(pickers):
            confirm_lines(by_socket(device), 3 + 2 * n)
        short = pickers[0].cmd(scenario="picking", action="current")
        line = short["data"].get(short["next_state"], {}).get("line")
        if line:
            pickers[0].cmd(scenario="picking", action="scan", code=line["location"])
            pickers[0].cmd(scenario="picking", action="short", reason="empty")
        expected = api_numbers(api_summary(live_server, token))
        wait_until(lambda: wall_numbers(page)["today"] == expected["today"], 5.0, "the wall caught up")
        page.evaluate("() => new Promise(r => document.querySelector('#wave-rows') ? "
                      "setTimeout(r, 600) : r())")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "wall.png"))
        assert (ARTIFACTS / "wall.png").stat().st_size > 20_000
        assert page.locator("#picker-rows tr").count() >= 3
        assert page.locator("#exception-list li").count() >= 2
    finally:
        for device in pickers:
            device.close()
