"""Replenishment on the handheld at 360 x 640 in a real browser (Debian chromium) against a live
server, in both languages: a picker reaching a face emptied for a wave's demand is told to wait;
a receiver takes the replenishment task from the work menu, scans the reserve location, the
item, a wrong face (refused), the face; the picker's scan of the face is then taken. Screenshots
of each screen go to tests/artifacts/replenishment/. Both engines."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.models import Location, PickFace
from server.models.stockcontrol import ReplenishmentTask
from server.services.stock import inventory
from server.services.waves import planning
from tests.test_handheld_browser import browser, scan_answered as scan, state_of  # noqa: F401
from tests.test_replenish import allocated

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "replenishment"
VIEWPORT = {"width": 360, "height": 640}


def open_handheld(browser, server, user, device_code, lang):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server.url}/handheld/")
    page.wait_for_selector("[data-testid=login-user]")
    if lang == "en":
        page.click("#lang")
        page.wait_for_selector("html[lang=en]")
    page.get_by_test_id("login-user").fill(user)
    page.get_by_test_id("login-pin").fill("2468")
    page.get_by_test_id("login-device").fill(device_code)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("[data-testid=link][data-online=true]")
    return context, page


def message(page) -> tuple[str, str]:
    return page.get_attribute("#message", "data-code"), page.inner_text("#message")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
def demand_wave(small_warehouse, people):
    """A released wave of one order for 6 tees whose face A-01 holds 2: 4 promised in reserve
    R-01, so the release made a demand task for them."""
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    actor = inventory.Actor(people["office"].id)
    PickFace.create(location=locs["A-01"], product=tee, min_qty=0, max_qty=40)
    Location.create(warehouse=small_warehouse["warehouse"], code="T-002", kind="tote")
    inventory.receive(tee, locs["A-01"], 2, actor=actor)
    inventory.receive(tee, locs["R-01"], 30, actor=actor, lot="L7")
    floor = dict(small_warehouse, actor=actor)
    allocated("X", [(tee, 6)], floor)
    (wave,) = planning.plan_waves("WH1", actor=actor)
    planning.release_wave(wave.id, actor)
    return ReplenishmentTask.get()


WAIT = {"en": "This pick face is being replenished", "zh": "此拣货位正在补货"}
WRONG_FACE = {"en": "Wrong pick face. Scan A-01.", "zh": "拣货位错误，请扫描 A-01。"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_picker_waits_while_a_receiver_replenishes_the_face(live_server, browser, demand_wave, lang):
    picker_ctx, picker = open_handheld(browser, live_server, "u-picker", "HH-P1", lang)
    picker.wait_for_selector("main[data-state=start]")
    picker.get_by_test_id("get-work").click()
    picker.wait_for_selector("main[data-state=scan_location]")
    # the walk starts at A-01: the line of the 2 units at the face, then the 4 on their way
    scan(picker, "A-01")
    scan(picker, "6900000000014")
    scan(picker, "6900000000014")
    scan(picker, "T-001")
    picker.wait_for_selector("main[data-state=scan_location]")
    scan(picker, "A-01")
    code, words = message(picker)
    assert code == "replenishment_running" and WAIT[lang] in words
    assert state_of(picker) == "scan_location"
    assert "warning" in picker.get_attribute("#message", "class")
    shot(picker, f"picker-waits-{lang}")

    receiver_ctx, page = open_handheld(browser, live_server, "u-receiver", "HH-R1", lang)
    page.wait_for_selector("[data-testid=menu-replenishing]")
    page.get_by_test_id("menu-replenishing").click()
    page.wait_for_selector(f"[data-testid=waiting-{demand_wave.code}]")
    shot(page, f"start-{lang}")
    page.get_by_test_id("get_task").click()
    page.wait_for_selector("main[data-state=scan_source]")
    assert page.inner_text("[data-testid=source]") == "R-01"
    assert "L7" in page.inner_text("[data-testid=lot]")
    shot(page, f"scan-source-{lang}")
    scan(page, "R-02-nope")
    assert message(page)[0] == "wrong_location"
    scan(page, "R-01")
    page.wait_for_selector("main[data-state=scan_item]")
    shot(page, f"scan-item-{lang}")
    scan(page, "6900000000014")
    page.wait_for_selector("main[data-state=qty]")
    assert page.inner_text("[data-testid=moved]") == "1"
    page.get_by_test_id("take_all").click()
    page.wait_for_function("document.querySelector('[data-testid=moved]').textContent === '4'")
    scan(page, "A-02")
    assert message(page) == ("replenish_wrong_face", WRONG_FACE[lang])
    assert state_of(page) == "qty"
    shot(page, f"wrong-face-{lang}")
    scan(page, "A-01")
    page.wait_for_selector("[data-testid=done]")
    assert message(page)[0] == "replenish_done"
    shot(page, f"done-{lang}")
    assert ReplenishmentTask.get_by_id(demand_wave.id).status == "done"

    scan(picker, "A-01")
    picker.wait_for_selector("main[data-state=scan_item]")
    assert message(picker)[0] == "location_ok"
    picker_ctx.close()
    receiver_ctx.close()
