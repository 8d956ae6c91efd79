"""The control room and the office pages as a supervisor uses them, in a real browser (Debian
chromium, 1920x1080) against a live server, in both languages: planning waves with a preview,
numbers that follow the floor live, forms that take what people see and answer in words,
translated statuses and local times, only the buttons that may be pressed, and links and empty
states that say where to go next. Screenshots go to tests/artifacts/control/. Both engines."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from printers.labels import tote_demo
from server.models import Order, Package, Wave
from server.services import printing
from server.services.orders import lifecycle as orders
from server.services.stock import inventory
from server.services.waves import planning as waves
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_realtime import Device, pin_login
from tests.test_wall_browser import by_socket, confirm_lines, in_process, release_wave
from tests.test_waves import floor as hz_floor, place, sku  # noqa: F401  (the WH-HZ fixture)

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "control"
SCREEN = {"width": 1920, "height": 1080}
LOCALES = {"en": "en-US", "zh_Hans_CN": "zh-CN"}


def token_of(server, user="u-supervisor"):
    response = requests.post(f"{server.url}/api/v1/auth/login", json={"user": user, "password": "secret-pass"},
                             timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def api(server, path, method="GET", body=None, user="u-supervisor"):
    response = requests.request(method, f"{server.url}/api/v1{path}", json=body, timeout=10,
                                headers={"Authorization": f"Bearer {token_of(server, user)}"})
    assert response.status_code < 300, response.text
    return response.json()


def open_page(browser, server, path, lang="en", user="u-supervisor", screen=SCREEN):
    """A logged-in page at 1920x1080 (or ``screen``) in ``lang``; dialogs are accepted unless a test
    says otherwise."""
    page = browser.new_context(viewport=screen, locale=LOCALES[lang]).new_page()
    page.goto(f"{server.url}/lang/{lang}?next=/login")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", "secret-pass")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/stock$"))
    page.goto(f"{server.url}{path}")
    return page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def result_after(page, form_or_section, press):
    """Press and wait for the result next to what was pressed; its text."""
    result = page.locator(f"{form_or_section} .result")
    page.evaluate("(el) => { el.className = 'result'; el.textContent = ''; }", result.element_handle())
    press()
    page.wait_for_function("(el) => /\\b(ok|error)\\b/.test(el.className)", arg=result.element_handle())
    return result.inner_text(), result.get_attribute("class")


def assert_words(text):
    assert text and "{" not in text and "}" not in text and "Done." not in text, text


# --- 4: plan waves in the control room -----------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_plan_preview_then_plan_and_release(live_server, hz_floor, people, browser, lang):
    place(*[(f"P{n}", [(sku(n % 7, n % 6), 1)]) for n in range(6)],
          ("P-MULTI", [(sku(1, 1), 1), (sku(5, 3), 2), (sku(2, 4), 1)]))
    page = open_page(browser, live_server, "/control", lang)
    page.wait_for_selector("#plan-form select[name=warehouse] option[value=WH-HZ]", state="attached")
    page.locator("#plan-form button[type=submit]").click()
    page.wait_for_selector("#plan-waves tr[data-strategy]")

    # the preview is the planner's own answer, and it planned nothing
    expected = api(live_server, "/waves/plan/preview", "POST", {"warehouse": "WH-HZ"})
    assert Wave.select().count() == 0 and expected["waiting"] == 7 and expected["left"] == 0
    rows = page.locator("#plan-waves tr[data-strategy]")
    assert rows.count() == len(expected["waves"])
    for n, wave in enumerate(expected["waves"]):
        cells = rows.nth(n).locator("td").all_inner_texts()
        assert cells[1:5] == [str(wave["orders"]), str(wave["lines"]), str(wave["units"]), str(wave["tasks"])]
        assert cells[5].split()[0] == f"{wave['planned_metres']:.0f}"
        assert cells[6].split()[0] == f"{wave['fcfs_metres']:.0f}"
        assert wave["strategy"] not in cells[0]  # named, not coded
    shot(page, f"plan-preview-{lang}")

    # fewer orders, one kind of wave: the preview follows the limits
    page.fill("#plan-form input[name=max_orders]", "2")
    assert page.locator("#plan-go").is_hidden()  # the preview on screen no longer matches the form
    page.locator("#plan-form button[type=submit]").click()
    page.wait_for_function("() => !document.getElementById('plan-go').hidden")
    limited = api(live_server, "/waves/plan/preview", "POST", {"warehouse": "WH-HZ", "max_orders": 2})
    assert sum(w["orders"] for w in limited["waves"]) == 2 and limited["left"] == 5
    assert page.locator("#plan-waves tr[data-strategy]").count() == len(limited["waves"])

    text, look = result_after(page, "#plan", lambda: page.locator("#plan-go").click())
    assert "ok" in look, text
    planned = list(Wave.select().order_by(Wave.id))
    assert sum(w.orders_count for w in planned) == 2 and {w.status for w in planned} == {"planned"}
    assert_words(text)
    assert all(w.code in text for w in planned)

    code = planned[0].code
    text, look = result_after(page, "#waves-card",
                              lambda: page.locator(f"tr[data-wave={code}] button[data-verb=release]").click())
    assert "ok" in look and code in text, text
    assert api(live_server, f"/waves/{planned[0].id}")["wave"]["status"] == "released"
    shot(page, f"plan-released-{lang}")


# --- 5: live from the floor's events --------------------------------------------------------------

def test_control_room_follows_the_floor_live(live_server, hz_floor, people, browser):
    (wave,) = release_wave([(f"S{n}", [(sku(n % 7, n % 6), 1)]) for n in range(8)])
    page = open_page(browser, live_server, "/control")
    lines = f"tr[data-wave={wave.code}] td:nth-child(5)"  # the wave's lines, done/total
    page.wait_for_selector(lines)
    # connected before the first scan (a page with no socket at all goes on at once, and waits)
    page.wait_for_function("() => !window.controlState || window.controlState().live")
    row = page.locator(lines)
    total = api(live_server, "/floor/summary")["waves"][0]["lines_total"]
    assert row.inner_text() == f"0/{total}"

    handheld = Device(live_server, pin_login(live_server, "u-picker", "HH-01"))
    try:
        confirm_lines(by_socket(handheld), 3)
        # far sooner than the old 30-second poll: the same event the wall hears
        page.wait_for_function(f"() => document.querySelector('{lines}').textContent === '3/{total}'",
                               timeout=4000)
        page.wait_for_function("() => /u-picker\\s+3\\/\\d+/.test(document.getElementById('tasks').innerText)",
                               timeout=4000)
        assert api(live_server, "/floor/summary")["waves"][0]["lines_done"] == 3
        # a picker chosen to hand the task to stays chosen while the floor redraws the list
        choice = page.locator("#tasks tr[data-task] select").first
        options = choice.locator("option").all_inner_texts()
        assert len(options) >= 2, options
        choice.select_option(options[-1])
        confirm_lines(by_socket(handheld), 1)
        page.wait_for_function("() => /u-picker\\s+4\\/\\d+/.test(document.getElementById('tasks').innerText)",
                               timeout=4000)
        page.wait_for_timeout(600)  # the re-read after the event has redrawn the rows
        assert page.locator("#tasks tr[data-task] select").first.input_value() == options[-1]
    finally:
        handheld.close()
    shot(page, "live-en")


# --- 6: forms take what people see and answer in words -------------------------------------------

@pytest.fixture
def labelled(hz_floor, people, tmp_path):
    """Order L1 packed with a labelled parcel (tracking SF1000000001) whose label went to P1."""
    found = place(("L1", [(sku(1, 1), 1)]), ("L2", [(sku(2, 2), 1)]))
    actor = inventory.Actor(people["supervisor"].id)
    printing.save_printer("P1", {"url": f"file://{tmp_path}/P1"}, actor)
    job = printing.enqueue("P1", "tote", tote_demo(), "L1", actor)
    Package.create(order=found["L1"].id, state="labelled", carrier="SF", tracking="SF1000000001", label_job=job.id)
    return found


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_forms_take_order_numbers_tracking_numbers_and_location_codes(live_server, labelled, browser, lang):
    page = open_page(browser, live_server, "/control", lang)
    page.wait_for_selector("#waves tr")

    page.fill("#priority-form input[name=order]", "L2")
    page.fill("#priority-form input[name=priority]", "12")
    text, look = result_after(page, "#priority-form", lambda: page.locator("#priority-form button").click())
    assert "ok" in look and "L2" in text and "12" in text, text
    assert_words(text)
    assert Order.get(Order.external_id == "L2").priority == 12

    page.fill("#priority-form input[name=order]", str(labelled["L2"].id))  # an internal id is no order number
    text, look = result_after(page, "#priority-form", lambda: page.locator("#priority-form button").click())
    assert "error" in look and str(labelled["L2"].id) in text, text

    page.fill("#reprint-form input[name=tracking]", "SF1000000001")
    text, look = result_after(page, "#reprint-form", lambda: page.locator("#reprint-form button").click())
    assert "ok" in look and "L1" in text and "SF1000000001" in text and "P1" in text, text
    assert_words(text)
    jobs = api(live_server, "/print-jobs?ref=L1")["items"]
    assert len([j for j in jobs if j["reprint_of"]]) == 1
    assert Package.get(Package.tracking == "SF1000000001").label_job_id == max(j["id"] for j in jobs)

    page.fill("#reprint-form input[name=tracking]", "SF-NOPE")
    text, look = result_after(page, "#reprint-form", lambda: page.locator("#reprint-form button").click())
    assert "error" in look and "SF-NOPE" in text, text

    page.fill("#count-form input[name=location]", "HZ-2-0")
    text, look = result_after(page, "#count-form", lambda: page.locator("#count-form button").click())
    assert "ok" in look and "HZ-2-0" in text, text
    assert_words(text)
    assert ("count", "HZ-2-0") in {(e["kind"], e["ref"]) for e in api(live_server, "/floor/summary")
                                   ["exceptions"]["items"]}
    # no form asks for an id
    labels = " ".join(page.locator("form label").all_inner_texts())
    assert not re.search(r"\bid\b|print job|打印任务", labels, re.I), labels
    shot(page, f"forms-{lang}")


# --- 7: statuses, strategies, hold reasons, history and times in words ---------------------------

@pytest.fixture
def worded_floor(hz_floor, people):
    """A released wave with one line picked, a planned wave, an order held for two reasons and an
    order with a packing history."""
    (released,) = release_wave([(f"S{n}", [(sku(n, 0), 1)]) for n in range(3)])
    place(("C1", [(sku(4, 1), 1), (sku(5, 2), 1)]))
    waves.plan_waves("WH-HZ", actor=inventory.system_actor())
    held = place(("H1", [(sku(6, 1), 1)]))["H1"]
    Order.update(status="held", hold_reasons="buyer_message,seller_flag_or_memo").where(Order.id == held.id).execute()
    packed = Order.get(Order.external_id == "S1")
    orders.record(packed, "pack_unit", json.dumps({"product": 289, "sku": sku(1, 0), "qty": 1}))
    orders.record(packed, "held", "buyer_message,seller_flag_or_memo")
    return {"released": released, "held": held, "packed": packed}


RAW = re.compile(r"\b(planned|released|single_unit|single_sku_multi|batch_putwall|cluster|buyer_message|"
                 r"seller_flag_or_memo|pack_unit|in_progress|short_pick)\b")


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_statuses_reasons_and_history_are_words_and_times_local(live_server, worded_floor, browser, lang):
    confirm_lines(in_process("u-picker", "HH-01"), 1)
    page = open_page(browser, live_server, "/control", lang)
    page.wait_for_selector("#waves tr[data-wave]")
    page.wait_for_selector("#exceptions tr[data-kind=held]")
    for table in ("#waves", "#tasks", "#exceptions"):
        text = page.locator(table).inner_text()
        assert not RAW.search(text), (table, text)
    held_row = page.locator("#exceptions tr[data-kind=held]").inner_text()
    assert ("Buyer message" in held_row) if lang == "en" else ("买家留言" in held_row and "卖家旗帜或备注" in held_row)
    assert ("Planned" if lang == "en" else "已规划") in page.locator("#waves").inner_text()

    page.locator("#trail-picker").select_option("u-picker")
    page.locator("#trail-form button").click()
    page.wait_for_selector("#trail tr td.n")
    cells = page.locator("#trail tr").first.locator("td").all_inner_texts()
    moved_at = api(live_server, "/floor/pickers/u-picker/trail")["moves"][0]["at"]
    assert "T" in moved_at and re.fullmatch(r"\d\d:\d\d:\d\d", cells[0]), cells
    utc_hour = int(moved_at[11:13])
    assert int(cells[0][:2]) == (utc_hour + 8) % 24  # Asia/Shanghai, the warehouse's zone
    assert cells[1] == ("Picked into tote" if lang == "en" else "拣入周转箱")
    shot(page, f"control-{lang}")

    page.goto(f"{live_server.url}/orders")
    body = page.locator("table").inner_text()
    assert not RAW.search(body), body
    shot(page, f"orders-{lang}")
    page.goto(f"{live_server.url}/orders/{worded_floor['packed'].id}")
    history = page.locator(".history").inner_text()
    assert not RAW.search(history) and "{" not in history and "289" not in history, history
    assert sku(1, 0) in history
    assert ("Unit checked" if lang == "en" else "验货一件") in history
    assert "rules approved" not in history and ("passed the review rules" if lang == "en" else "审单规则通过") in history
    shot(page, f"order-{lang}")
    page.goto(f"{live_server.url}/stock?q=HZ-1-0")
    assert not RAW.search(page.locator("main").inner_text())


# --- 8: only the buttons that may be pressed; destructive ones look so and ask --------------------

def test_buttons_only_when_allowed_and_cancel_looks_destructive(live_server, worded_floor, browser):
    released = worded_floor["released"]
    confirm_lines(in_process("u-picker", "HH-01"), 1)  # picking has started: the wave can no longer be cancelled
    api(live_server, f"/floor/waves/{released.id}/pause", "POST")
    planned = Wave.get(Wave.status == "planned")
    page = open_page(browser, live_server, "/control")
    page.wait_for_selector(f"tr[data-wave={planned.code}] button")

    paused_row = page.locator(f"tr[data-wave={released.code}]")
    assert paused_row.locator("button").all_inner_texts() == ["Resume"]
    planned_row = page.locator(f"tr[data-wave={planned.code}]")
    assert planned_row.locator("button").all_inner_texts() == ["Release", "Cancel"]
    release_look = planned_row.locator("button[data-verb=release]").evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
    cancel_look = planned_row.locator("button[data-verb=cancel]").evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color, b.className]")
    assert cancel_look[:2] != release_look and "danger" in cancel_look[2]

    shot(page, "buttons-en")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    planned_row.locator("button[data-verb=cancel]").click()
    page.wait_for_timeout(300)
    assert asked and planned.code in asked[0]
    assert Wave.get_by_id(planned.id).status == "planned"  # dismissed: nothing happened

    page.once("dialog", lambda dialog: dialog.accept())
    text, look = result_after(page, "#waves-card", lambda: planned_row.locator("button[data-verb=cancel]").click())
    assert "ok" in look and planned.code in text, text
    assert Wave.get_by_id(planned.id).status == "cancelled"


# --- 9: the header, links to orders, empty states that say what to do -----------------------------

@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_header_links_and_empty_states(live_server, people, browser, lang):
    page = open_page(browser, live_server, "/control", lang)
    header = page.locator("header.bar")
    header.locator("a[href='/control']").wait_for()
    assert header.locator("a[href='/wall']").count() == 1
    page.wait_for_selector("#waves tr.empty")
    assert ("plan one above" if lang == "en" else "请在上方规划") in page.locator("#waves").inner_text()
    assert page.locator("#tasks tr.empty").count() == 1
    assert ("wavefloor printers set") in page.locator("#printers").inner_text()
    shot(page, f"empty-control-{lang}")
    page.goto(f"{live_server.url}/orders")
    assert "wavefloor import orders" in page.locator("table").inner_text()
    shot(page, f"empty-orders-{lang}")

    office = open_page(browser, live_server, "/orders", lang, user="u-office")
    assert office.locator("header.bar a[href='/control']").count() == 0


def test_exceptions_link_to_their_order(live_server, worded_floor, browser):
    page = open_page(browser, live_server, "/control")
    link = page.locator("#exceptions tr[data-kind=held] a").first
    link.wait_for()
    link.click()
    page.wait_for_url(f"{live_server.url}/orders/{worded_floor['held'].id}")
    assert "H1" in page.locator("h1").inner_text()
