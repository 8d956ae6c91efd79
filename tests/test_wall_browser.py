"""The wall screen in a real browser (Debian chromium, 1920x1080) against a live server: a
picker's handheld confirms picks through the picking scenario and the wall's numbers follow,
the same numbers the API reports; the server restarts and the wall recovers by itself. Both
engines."""
from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

from server.models import Location, PickLine, PickTask, Printer
from server.models.base import utcnow
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


# --- what the wall says, in both languages ------------------------------------------------------------

WALL_ARTIFACTS = ARTIFACTS / "wall"
HELD = [f"39000000001234{n:02d}" for n in range(1, 5)]  # a Tmall order number is 16 to 19 digits
EXTRA_HELD = [f"39000000001234{n:02d}" for n in range(5, 10)]


def open_wall_in(browser, server, lang: str, device_code: str):
    page, token = open_wall(browser, server, device_code)
    page.goto(f"{server.url}/wall?lang={'en' if lang == 'en' else 'zh_Hans_CN'}")
    page.wait_for_selector("body.live")
    page.wait_for_function("() => document.getElementById('units-today').textContent !== '–'")
    page.wait_for_timeout(400)  # a redraw
    return page, token


def cut_texts(page) -> list[str]:
    """Texts on the wall that do not fit their box (cut, or ending in an ellipsis)."""
    return page.evaluate("""() => [...document.querySelectorAll('main td, main th, main li, main li span, .kpi b')]
        .filter(el => el.offsetParent && (el.scrollWidth > el.clientWidth + 1
                                          || getComputedStyle(el).textOverflow === 'ellipsis'
                                          || el.getBoundingClientRect().right
                                             > el.closest('.panel, .kpi').getBoundingClientRect().right))
        .map(el => el.textContent)""")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_empty_wall_says_none_and_cuts_no_identifier(live_server, hz_floor, people, browser, lang):
    from server.models import Order
    for n, number in enumerate(HELD):
        Order.create(channel="tmall", shop="tm-shop", external_id=number, status="held",
                     hold_reasons="buyer_message,seller_flag_or_memo" if n % 2 else "address")
    Order.create(channel="tmall", shop="tm-shop", external_id="3900000000123499", status="allocated",
                 ship_by=utcnow() - dt.timedelta(hours=1))
    page, _ = open_wall_in(browser, live_server, lang, f"WALL-{lang}")
    assert page.inner_text("#due-overdue") == ("1 order overdue" if lang == "en" else "1 单已超时")
    none = "none" if lang == "en" else "无"
    for panel in ("#wave-rows", "#picker-rows", "#zone-list"):
        assert page.inner_text(panel).strip() == none, panel
    refs = page.locator("#exception-list .ref").all_inner_texts()
    assert sorted(refs) == sorted(HELD)
    assert cut_texts(page) == []
    WALL_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(WALL_ARTIFACTS / f"empty_{lang}.png"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_wall_under_load_keeps_its_headers_on_one_line(live_server, hz_floor, people, browser, lang):
    specs = [(f"C{n}", [(sku(n % 8, n % 6), 1 + n % 2), (sku((n * 3) % 8, (n + 2) % 6), 1)]) for n in range(24)]
    specs += [(f"S{n}", [(sku(n % 8, (n + 1) % 6), 1)]) for n in range(30)]
    release_wave(specs)
    from server.models import Order
    for number in HELD + EXTRA_HELD:
        Order.create(channel="tmall", shop="tm-shop", external_id=number, status="held", hold_reasons="address")
    picker = Device(live_server, pin_login(live_server, "u-picker", f"HH-{lang}"))
    try:
        confirm_lines(by_socket(picker), 3)
        page, _ = open_wall_in(browser, live_server, lang, f"WALL-{lang}")
    finally:
        picker.close()
    heights = page.evaluate("""() => [...document.querySelectorAll('th')].filter(th => th.offsetParent)
        .map(th => [th.textContent, th.getBoundingClientRect().height])""")
    assert all(height < 40 for _, height in heights), heights  # one line each: 预计完成 is not stacked
    assert cut_texts(page) == []
    overdue = int(page.inner_text("#due-orders").replace(",", ""))  # every order is past its ship-by
    assert overdue > 1 and page.inner_text("#due-overdue") == (
        f"{overdue} orders overdue" if lang == "en" else f"{overdue} 单已超时")
    assert page.locator("#exception-list .ref").all_inner_texts() == (HELD + EXTRA_HELD)[:6]
    assert page.inner_text("#exception-list .more") == ("and 3 more exceptions" if lang == "en" else "另有 3 项异常")
    panel, last = (page.locator(selector).bounding_box() for selector in (".exceptions", "#exception-list .more"))
    assert last["y"] + last["height"] <= panel["y"] + panel["height"]  # the whole list in sight
    page.wait_for_timeout(300)
    WALL_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(WALL_ARTIFACTS / f"load_{lang}.png"))


def test_a_short_pick_reaches_the_wall_in_the_same_event_as_its_progress(live_server, hz_floor, people,
                                                                          browser):
    (wave,) = release_wave([(f"S{n}", [(sku(n % 7, n % 6), 1)]) for n in range(8)])
    page, token = open_wall(browser, live_server, "WALL-9")
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    page.reload()  # the new socket's frames are heard
    page.wait_for_selector("body.live")
    handheld = Device(live_server, pin_login(live_server, "u-picker", "HH-01"))
    try:
        confirm_lines(by_socket(handheld), 1)
        current = handheld.cmd(scenario="picking", action="current")
        line = current["data"][current["next_state"]]["line"]
        if current["next_state"] == "scan_location":
            handheld.cmd(scenario="picking", action="scan", code=line["location"])
        frames.clear()
        shorted = time.monotonic()
        answer = handheld.cmd(scenario="picking", action="short", reason="empty")
        assert answer["ok"], answer
        wait_until(lambda: page.locator("#exception-list .kind-short_pick").count(), 2.0,
                   "the short pick on the wall")
        assert time.monotonic() - shorted < 2.0
    finally:
        handheld.close()
    progress = [json.loads(frame[frame.index("["):])[1] for frame in frames
                if isinstance(frame, str) and '"wave.progress"' in frame]
    assert progress, frames
    carrying = [p for p in progress if "exceptions" in p]  # the progress after the short (confirms' do not)
    assert carrying and any(item["kind"] == "short_pick" and item["ref"] == line["location"]
                            for item in carrying[-1]["exceptions"]["items"]), progress
