"""The acceptance test of cycle counts (盘点) in a real browser (Debian chromium) against a live
server: a count task is pushed to a counter's handheld (360 px wide) when the supervisor plans
it; the counter counts blind while a picker picks 12 units out of the same location, and finds a
variance; a second counter recounts; the supervisor approves in the control room (1920x1080). The
ledger shows one adjustment, every unit is accounted for and the audit is clean. Screenshots in
Chinese and English go to tests/artifacts/counts/. Both engines."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from server.models import CountTask, Location, Quant, StockMove, User
from server.services import auth
from server.services.stock import inventory
from tests.test_handheld_browser import answer_to, browser, state_of, wedge  # noqa: F401  (the fixture)
from tests.test_handheld_browser import scan_answered as answered
from tests.test_picking import make_order, make_task, released_wave
from tests.test_receiving_browser import open_handheld
from tests.test_realtime import Device, pin_login

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "counts"
TEE, TEE_CASE = "6900000000014", "16900000000011"


def shoot(page, name, *, both=True):
    """A screenshot in the page's language and, with ``both``, one in the other (the screen drawn
    again by the server's ``current``), then back."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    first = page.evaluate("document.documentElement.lang")
    page.screenshot(path=str(SHOTS / f"{name}_{'zh' if first == 'zh-CN' else 'en'}.png"))
    if not both:
        return
    page.click("#lang")
    page.wait_for_function("l => document.documentElement.lang !== l", arg=first)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}_{'en' if first == 'zh-CN' else 'zh'}.png"))
    page.click("#lang")
    page.wait_for_function("l => document.documentElement.lang === l", arg=first)
    page.wait_for_timeout(300)


def type_qty(page, qty):
    page.get_by_test_id("count-type-qty").click()
    page.get_by_test_id("count-qty-input").fill(str(qty))
    answer_to(page, page.get_by_test_id("count-qty-ok").click)


@pytest.fixture
def count_floor(small_warehouse, people, secret_hashes):
    """A-01 holds 30 tees; a released wave's task picks a case of 12 of them there. A second
    receiver (u-recv-2) counts too."""
    wh, locs, tee = small_warehouse["warehouse"], small_warehouse["locations"], small_warehouse["tee"]
    actor = inventory.Actor(people["receiver"].id)
    inventory.receive(tee, locs["A-01"], 30, actor=actor)
    order = make_order("B-1", [(tee, locs["A-01"], 12)], warehouse=wh, actor=actor)
    task = make_task(released_wave(wh), "W1-T1", [(order, 1)])
    second = auth.add_user("u-recv-2", "Receiver 2", ["receiver"])
    User.update(pin_hash=secret_hashes[1]).where(User.id == second.id).execute()
    return dict(small_warehouse, task=task)


def test_a_pushed_blind_count_is_recounted_and_approved_in_the_control_room(live_server, browser,  # noqa: F811
                                                                            count_floor):
    locs, tee = count_floor["locations"], count_floor["tee"]
    boss_token = pin_login(live_server, "u-supervisor", "PC-1")
    picker = Device(live_server, pin_login(live_server, "u-picker", "HH-P1"))
    context, page = open_handheld(browser, live_server, "u-receiver", "HH-C1")
    other, second = open_handheld(browser, live_server, "u-recv-2", "HH-C2")
    try:
        assert page.viewport_size["width"] == 360
        page.get_by_test_id("menu-counting").click()
        page.wait_for_selector("main[data-state=start] [data-testid=count-waiting]")
        shoot(page, "01_no_counts")

        # the supervisor plans a count of A-01: the idle handheld takes it at once
        planned = requests.post(f"{live_server.url}/api/v1/counts/plan", json={"by": "list", "locations": ["A-01"]},
                                headers={"Authorization": f"Bearer {boss_token}"}, timeout=10)
        assert planned.status_code == 201, planned.text
        page.wait_for_selector("main[data-state=scan_location]")
        assert page.get_by_test_id("count-location").inner_text() == "A-01"
        shoot(page, "02_pushed")

        answered(page, "A-01")                                 # the count starts: the ledger holds 30
        page.wait_for_selector("main[data-state=scan_item]")
        assert "30" not in page.inner_text("main")             # blind
        # the picker takes a case of 12 tees out of A-01 meanwhile
        assert picker.cmd(scenario="picking", action="get_work")["ok"]
        for code in ("A-01", TEE_CASE, "T-001"):
            answer = picker.cmd(scenario="picking", action="scan", code=code)
            assert answer["ok"], answer
        answered(page, TEE)
        assert page.get_by_test_id("count-units").inner_text() == "1"
        page.get_by_test_id("count-type-qty").click()
        page.get_by_test_id("count-qty-input").fill("15")
        shoot(page, "03_type_qty", both=False)
        answer_to(page, page.get_by_test_id("count-qty-ok").click)
        assert page.get_by_test_id("count-units").inner_text() == "15"   # 18 are there: 3 off
        assert "18" not in page.inner_text("main") and "30" not in page.inner_text("main")
        shoot(page, "04_counted")
        page.get_by_test_id("count-finish").click()
        page.wait_for_selector("[data-testid=count-finished]")
        page.wait_for_selector("#message[data-code=count_submitted]")
        assert page.get_by_test_id("count-waiting").inner_text() == "暂无盘点任务"  # the recount is not theirs
        shoot(page, "05_finished")
        first = CountTask.get(CountTask.recount_of.is_null(True))
        assert (first.status, first.variance_units) == ("recounted", 3)

        # the recount goes to the other counter, never back to the first
        second.get_by_test_id("menu-counting").click()
        second.wait_for_selector("main[data-state=scan_location]")
        assert second.get_by_test_id("count-location").inner_text() == "A-01"
        shoot(second, "06_recount")
        answered(second, "A-01")
        second.wait_for_selector("main[data-state=scan_item]")
        answered(second, TEE)
        type_qty(second, 17)
        second.get_by_test_id("count-finish").click()
        second.wait_for_selector("[data-testid=count-finished]")
        recount = CountTask.get(CountTask.recount_of == first.id)
        assert (recount.status, recount.user.code) == ("review", "u-recv-2")

        # the supervisor decides in the control room
        control = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
        control.goto(f"{live_server.url}/login?next=/control")
        control.fill("input[name=user]", "u-supervisor")
        control.fill("input[name=password]", "secret-pass")
        control.click("button[type=submit]")
        control.wait_for_url(f"{live_server.url}/control")
        row = control.locator(f'#counts-review-rows tr[data-count="{recount.code}"]')
        row.wait_for()
        assert [row.locator(f"td:nth-child({n})").inner_text() for n in (2, 5, 6, 7, 8)] == [
            "A-01", "15", "17", "18", "-1"]
        control.locator("#counts-card").scroll_into_view_if_needed()
        control.screenshot(path=str(SHOTS / "07_control_review_zh.png"))
        control.goto(f"{live_server.url}/lang/en?next=/control")
        control.locator(f'#counts-review-rows tr[data-count="{recount.code}"]').wait_for()
        control.locator("#counts-card").scroll_into_view_if_needed()
        control.screenshot(path=str(SHOTS / "07_control_review_en.png"))
        control.locator(f'button[data-count-verb=approve][data-code="{recount.code}"]').click()
        control.wait_for_selector("#counts-result.ok")
        assert "approved" in control.inner_text("#counts-result")
        control.wait_for_selector("#counts-review-rows tr.empty")
        assert control.inner_text("#counts-accuracy") == "0.0 %"
        control.locator("#counts-card").scroll_into_view_if_needed()
        control.screenshot(path=str(SHOTS / "08_control_approved_en.png"))
        control.goto(f"{live_server.url}/lang/zh_Hans_CN?next=/control")
        control.wait_for_selector("#counts-review-rows tr.empty")
        control.locator("#counts-card").scroll_into_view_if_needed()
        control.screenshot(path=str(SHOTS / "08_control_approved_zh.png"))

        wall = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        wall.goto(f"{live_server.url}/wall?token={pin_login(live_server, 'u-supervisor', 'WALL-1')}")
        wall.wait_for_function("() => document.querySelector('#count-accuracy b').textContent.startsWith('0.0%')")
        wall.wait_for_function("() => document.getElementById('units-today').textContent === '12'")
        wall.screenshot(path=str(SHOTS / "09_wall_zh.png"))
        wall.goto(f"{live_server.url}/wall?lang=en")
        wall.wait_for_function("() => document.querySelector('#count-accuracy b').textContent.startsWith('0.0%')")
        wall.wait_for_function("() => document.getElementById('units-today').textContent === '12'")
        wall.screenshot(path=str(SHOTS / "09_wall_en.png"))
        wall.context.close()
        control.context.close()
    finally:
        context.close()
        other.close()
        picker.close()

    adjustments = list(StockMove.select().where(StockMove.reason == "count"))
    assert [(m.qty, m.from_location_id, m.ref, m.user.code) for m in adjustments] == [
        (1, locs["A-01"].id, f"count:{recount.code}", "u-recv-2")]
    at = {q.location.code: q.qty for q in Quant.select().where((Quant.product == tee) & (Quant.qty > 0))}
    assert at == {"A-01": 17, "T-001": 12}                      # 30 - 1 counted missing, every unit accounted for
    assert {t.status for t in CountTask.select()} == {"approved"}
    assert Location.get_by_id(locs["A-01"].id).needs_count is False
    assert inventory.audit() == []
