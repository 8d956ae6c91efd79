"""The handheld app in a real browser (Debian chromium, 360x740) against a live server: a
picker logs in with a PIN, gets a task the moment a wave is released, and completes it by
typing scans the way a keyboard-wedge scanner does. Both engines."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests
from peewee import fn

from server.models import CommandResult, Location, Order, PickLine, PickTask, StockMove
from server.services.stock import inventory
from server.services.waves import planning as waves
from tests.test_picking import make_order
from tests.test_realtime import Device, pin_login

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
BARCODES = {"TS-01": "6900000000014", "MG-01": "6900000000021"}
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make system-deps)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def planned_wave(small_warehouse, people):
    """One order (2 tees at A-01, 1 mug at A-02) planned into a cluster wave, not yet released."""
    wh, locs = small_warehouse["warehouse"], small_warehouse["locations"]
    actor = inventory.Actor(people["receiver"].id)
    inventory.receive(small_warehouse["tee"], locs["A-01"], 10, actor=actor)
    inventory.receive(small_warehouse["mug"], locs["A-02"], 5, actor=actor)
    make_order("A", [(small_warehouse["tee"], locs["A-01"], 2), (small_warehouse["mug"], locs["A-02"], 1)],
               warehouse=wh, actor=actor, status="allocated")
    (wave,) = waves.plan_waves(wh, actor=actor)
    return wave


def open_handheld(browser, server, device_code):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server.url}/handheld/")
    page.get_by_test_id("login-user").fill("u-picker")
    page.get_by_test_id("login-pin").fill("2468")
    page.get_by_test_id("login-device").fill(device_code)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("main[data-state=start]")
    page.wait_for_selector("[data-testid=link][data-online=true]")
    return context, page


def wedge(page, code):
    """A keyboard-wedge scanner: the code's keys in a burst, then Enter, into whatever has focus."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


# every command the handheld sent has its answer (commands go one at a time, in order)
SETTLED = "() => window.handheld && window.handheld.floor && window.handheld.floor.queue.length === 0"


def answer_to(page, act) -> None:
    """Do ``act`` (a scan, a tap) once every command sent before has its answer, then wait for the
    answer to what it sent. A "where am I" still on its way (sent on an event) would otherwise count
    as the answer, and its quiet redraw leave the message of the command before."""
    page.wait_for_function(SETTLED)
    answers = page.evaluate("window.handheld.answers")
    act()
    page.wait_for_function("n => window.handheld.answers > n && window.handheld.floor.queue.length === 0",
                           arg=answers)


def scan_answered(page, code: str) -> None:
    """Wedge-scan ``code`` and wait for the server's answer to it."""
    answer_to(page, lambda: wedge(page, code))


def state_of(page) -> str:
    return page.get_attribute("main", "data-state")


def release(server, wave):
    token = pin_login(server, "u-supervisor", "PC-1")
    response = requests.post(f"{server.url}/api/v1/waves/{wave.id}/release",
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text


def test_a_picker_completes_a_pushed_task_by_wedge_scans(live_server, browser, planned_wave):
    wall = Device(live_server, pin_login(live_server, "u-supervisor", "WALL-1"))
    context, page = open_handheld(browser, live_server, "HH-B1")
    try:
        assert page.viewport_size["width"] == 360
        release(live_server, planned_wave)  # the task reaches the idle handheld on its own
        page.wait_for_selector("main[data-state=scan_location]")
        first_location = page.get_by_test_id("location").inner_text()
        assert first_location in ("A-01", "A-02")
        font_px = page.eval_on_selector("[data-testid=location]", "e => parseFloat(getComputedStyle(e).fontSize)")
        assert font_px >= 40  # readable at arm's length

        wrong_item_refused = False
        for _ in range(20):
            state = state_of(page)
            if state == "task_done":
                break
            if state == "scan_location":
                code = page.get_by_test_id("location").inner_text()
            elif state in ("scan_item", "qty"):
                sku = page.get_by_test_id("sku").inner_text()
                if not wrong_item_refused:
                    other = next(c for s, c in BARCODES.items() if s != sku)
                    wedge(page, other)
                    page.wait_for_selector("#message[data-code=wrong_item]")
                    assert state_of(page) == state  # refused: the picker stays where they were
                    wrong_item_refused = True
                    page.screenshot(path=str(ARTIFACTS / "handheld_wrong_item.png"))
                code = BARCODES[sku]
            else:
                code = "T-001"
            scan_answered(page, code)
            assert "error" not in page.get_attribute("#message", "class"), page.inner_text("#message")
        page.wait_for_selector("main[data-state=task_done]")
        assert wrong_item_refused
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "handheld_task_done.png"))

        with wall.arrived:
            wall.arrived.wait_for(lambda: any(e == "wave.progress" and d["units_done"] == 3
                                              for e, d in wall.events), 10)
        progress = [d for e, d in wall.events if e == "wave.progress"][-1]
        assert (progress["units_done"], progress["units_total"], progress["status"]) == (3, 3, "picked")
        assert progress["pickers"][0]["picker"] == "u-picker"
    finally:
        context.close()
        wall.close()
    assert PickTask.get().status == "done" and Order.get().status == "picked"
    assert inventory.audit() == []


def test_scans_made_offline_are_replayed_once_on_reconnect(live_server, browser, planned_wave, small_warehouse):
    started_ms = time.time() * 1000
    context, page = open_handheld(browser, live_server, "HH-B2")
    try:
        release(live_server, planned_wave)
        page.wait_for_selector("main[data-state=scan_location]")
        walk = list(PickLine.select().order_by(PickLine.seq))
        first = walk[0]
        wedge(page, first.location.code)
        page.wait_for_selector("main[data-state=scan_item]")

        page.evaluate("window.handheld.floor.drop()")  # a dead zone between the racks
        page.wait_for_selector("[data-testid=link][data-online=false]")
        scans = [BARCODES[first.product.sku]] * first.qty + ["T-001"]
        for line in walk[1:]:
            scans += [line.location.code] + [BARCODES[line.product.sku]] * line.qty + ["T-001"]
        for code in scans:
            wedge(page, code)
        page.wait_for_selector(f"[data-testid=link][data-queued='{len(scans)}']")
        assert state_of(page) == "scan_item"  # nothing was answered while offline
        assert StockMove.select().where(StockMove.reason == "pick").count() == 0
        page.screenshot(path=str(ARTIFACTS / "handheld_offline.png"))

        page.evaluate("window.handheld.floor.restore()")
        page.wait_for_selector("main[data-state=task_done]")
        page.wait_for_selector("[data-testid=link][data-queued='0'][data-online=true]")
        scans_run = CommandResult.select().where(CommandResult.action == "scan").count()
        assert scans_run == len(scans) + 1  # the first location, then every queued scan, each once
        # the keys are time-ordered (UUID version 7, made on the device as each scan was made):
        # in the order the server stored them, and from the device's clock during this test
        keys = [key for (key,) in CommandResult.select(CommandResult.key).where(CommandResult.action == "scan")
                .order_by(CommandResult.at).tuples()]
        assert all(UUID7.match(key) for key in keys), keys
        assert keys == sorted(keys)
        made_ms = [int(key.replace("-", "")[:12], 16) for key in keys]
        assert started_ms - 1000 <= made_ms[0] <= made_ms[-1] <= time.time() * 1000 + 1000
    finally:
        context.close()
    lines = list(PickLine.select().order_by(PickLine.seq))
    assert [(l.picked_qty, l.status) for l in lines] == [(l.qty, "done") for l in lines]
    picks = StockMove.select().where(StockMove.reason == "pick")
    assert picks.count() == len(lines)
    assert picks.select(fn.SUM(StockMove.qty)).scalar() == sum(l.qty for l in lines) == 3
    tote = Location.get(Location.code == "T-001")
    assert StockMove.select().where(StockMove.to_location == tote).count() == len(lines)
    assert inventory.audit() == []
