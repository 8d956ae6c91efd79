"""The handheld at 360 x 640 in a real browser (Debian chromium) against a live server, in both
languages: server sentences in the device's language, a quantity typed only after the item was
scanned, pause and reassignment reaching the device at once, the first tote of a cluster task,
and the screen's own details (the link pill, the scan bar, logout). Screenshots of each screen go
to tests/artifacts/handheld/. Both engines."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from server.models import Location, PickLine, PickTask, StockMove
from server.services import auth
from tests.test_handheld_browser import BARCODES, browser, planned_wave, release, state_of, wedge  # noqa: F401
from tests.test_handheld_browser import SETTLED, scan_answered as scan_and_wait
from tests.test_realtime import pin_login

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "handheld"
VIEWPORT = {"width": 360, "height": 640}
LOCALES = {"en": "en-US", "zh": "zh-CN"}


def open_handheld(browser, server, device_code, lang="zh"):  # noqa: F811
    """A handheld in ``lang``: the picker chooses it on the login screen (the EN / 中文 button)."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server.url}/handheld/")
    page.wait_for_selector("[data-testid=login-user]")
    if lang == "en":
        page.click("#lang")
        page.wait_for_selector("html[lang=en]")
    page.get_by_test_id("login-user").fill("u-picker")
    page.get_by_test_id("login-pin").fill("2468")
    page.get_by_test_id("login-device").fill(device_code)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("main[data-state=start]")
    page.wait_for_selector("[data-testid=link][data-online=true]")
    return context, page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def message(page) -> tuple[str, str]:
    return page.get_attribute("#message", "data-code"), page.inner_text("#message")


def supervisor(server) -> dict:
    return {"Authorization": f"Bearer {pin_login(server, 'u-supervisor', 'PC-1')}"}


def first_line() -> PickLine:
    return PickLine.select().order_by(PickLine.seq, PickLine.id).first()


ENGLISH = {"work_assigned": "Pick task assigned. Go to the location.",
           "wrong_location": "Wrong location. Scan the location shown.",
           "location_ok": "Location confirmed. Scan the item."}
CHINESE = {"wrong_location": "库位错误，请扫描屏幕上的库位。"}


# --- 10. server sentences in the device's language ----------------------------------------------

def test_english_on_the_handheld_brings_english_server_messages(live_server, browser, planned_wave):
    context, page = open_handheld(browser, live_server, "HH-L1", lang="en")
    try:
        release(live_server, planned_wave)
        page.wait_for_selector("main[data-state=scan_location]")
        page.wait_for_selector("#message[data-code=work_assigned]")
        assert message(page) == ("work_assigned", ENGLISH["work_assigned"])
        line = first_line()
        scan_and_wait(page, "A-99" if line.location.code != "A-99" else "A-98")
        assert message(page) == ("wrong_location", ENGLISH["wrong_location"])
        shot(page, "scan_location_wrong_en")
        scan_and_wait(page, line.location.code)
        assert message(page) == ("location_ok", ENGLISH["location_ok"])

        page.click("#lang")  # the picker switches to Chinese: the next sentence is Chinese
        page.wait_for_selector("html[lang=zh-CN]")
        assert page.inner_text("#message") == ""  # nothing stays in the language left behind
        page.wait_for_function("() => window.handheld.floor.queue.length === 0")
        scan_and_wait(page, "XX-00")
        assert message(page)[1] in ("无法识别的条码。", "商品错误，请核对商品。")
        page.click("#lang")
        page.wait_for_selector("html[lang=en]")
        page.evaluate("window.handheld.floor.drop()")  # a reconnect keeps the chosen language
        page.wait_for_selector("[data-testid=link][data-online=false]")
        page.evaluate("window.handheld.floor.restore()")
        page.wait_for_selector("[data-testid=link][data-online=true]")
        assert page.evaluate("window.handheld.floor.socket.auth.lang") == "en"
        scan_and_wait(page, "XX-00")
        assert message(page)[1] in ("This barcode is not known.", "Wrong item. Check the product.")
    finally:
        context.close()


# --- 11. a quantity only after the item was scanned --------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_quantity_is_offered_only_after_the_item_was_scanned(live_server, browser, planned_wave, lang):
    context, page = open_handheld(browser, live_server, f"HH-Q{lang}", lang=lang)
    try:
        release(live_server, planned_wave)
        page.wait_for_selector("main[data-state=scan_location]")
        line = first_line()
        scan_and_wait(page, line.location.code)
        page.wait_for_selector("main[data-state=scan_item]")
        assert page.locator("[data-testid=set_qty]").count() == 0  # no typing before a scan
        assert page.get_by_test_id("qty-hint").is_visible()
        shot(page, f"scan_item_{lang}")
        # a device sending a quantity anyway (an old client, a queued command) is refused
        page.evaluate("window.handheld.floor.send({scenario: 'picking', action: 'qty', qty: 1})")
        page.wait_for_selector("#message[data-code=scan_item_before_qty]")
        assert PickLine.get_by_id(line.id).picked_qty == 0

        sku = page.get_by_test_id("sku").inner_text()
        scan_and_wait(page, BARCODES[sku])
        page.wait_for_selector("main[data-state=qty]" if line.qty > 1 else "main[data-state=scan_tote]")
        page.get_by_test_id("set_qty").click()
        assert page.get_by_test_id("qty-sku").inner_text() == sku  # the dialog says what is counted
        shot(page, f"qty_dialog_{lang}")
        page.get_by_test_id("qty-input").fill(str(line.qty))
        page.keyboard.press("Enter")
        page.wait_for_selector("main[data-state=scan_tote]")
        assert PickLine.get_by_id(line.id).picked_qty == line.qty
    finally:
        context.close()


# --- 12. pause and reassignment reach the device at once ---------------------------------------

def test_pause_and_reassignment_reach_the_handheld_at_once(live_server, browser, planned_wave):
    auth.add_user("u-picker2", "Picker Two", ["picker"])
    context, page = open_handheld(browser, live_server, "HH-P1", lang="en")
    headers = supervisor(live_server)
    try:
        release(live_server, planned_wave)
        page.wait_for_selector("main[data-state=scan_location]")
        line = first_line()
        scan_and_wait(page, line.location.code)
        page.wait_for_selector("main[data-state=scan_item]")

        url = f"{live_server.url}/api/v1/floor/waves/{planned_wave.id}"
        assert requests.post(f"{url}/pause", headers=headers, timeout=10).status_code == 200
        page.wait_for_selector("main[data-state=paused]")  # no scan needed: the event came
        page.wait_for_selector("#message[data-code=wave_paused]")
        assert page.inner_text("#message").startswith("The wave is paused")
        shot(page, "paused_en")
        scan_and_wait(page, BARCODES[line.product.sku])  # refused: nothing counted while paused
        assert message(page)[0] == "wave_paused" and state_of(page) == "paused"
        assert PickLine.get_by_id(line.id).picked_qty == 0
        page.click("#lang")
        page.wait_for_selector("html[lang=zh-CN]")
        page.wait_for_selector("[data-testid=paused]")
        assert page.get_by_test_id("paused").inner_text() == "波次已暂停"
        shot(page, "paused_zh")
        page.click("#lang")
        page.wait_for_selector("html[lang=en]")

        assert requests.post(f"{url}/resume", headers=headers, timeout=10).status_code == 200
        page.wait_for_selector("main[data-state=scan_item]")
        page.wait_for_selector("#message[data-code=wave_resumed]")
        scan_and_wait(page, BARCODES[line.product.sku])
        assert PickLine.get_by_id(line.id).picked_qty == 1
        page.get_by_test_id("set_qty").click()
        page.get_by_test_id("qty-input").fill("0")  # the unit goes back: the task may change hands
        page.keyboard.press("Enter")
        page.wait_for_function("() => window.handheld.floor.queue.length === 0")
        page.wait_for_selector("main[data-state=scan_item]")

        task = PickTask.get()
        response = requests.post(f"{live_server.url}/api/v1/floor/tasks/{task.id}/reassign",
                                 json={"picker": "u-picker2"}, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        page.wait_for_selector("#message[data-code=task_reassigned]")
        page.wait_for_selector("main[data-state=start]")
        assert page.inner_text("#message") == (
            f"A supervisor gave your task to another picker. ({task.code} → u-picker2)")
        shot(page, "reassigned_en")
    finally:
        context.close()
    assert StockMove.select().where(StockMove.reason == "pick").count() == 0


# --- 13. the first tote of a cluster task -------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_first_tote_names_its_slot_and_what_a_tote_code_looks_like(live_server, browser, planned_wave, lang):
    context, page = open_handheld(browser, live_server, f"HH-T{lang}", lang=lang)
    try:
        release(live_server, planned_wave)
        page.wait_for_selector("main[data-state=scan_location]")
        line = first_line()
        scan_and_wait(page, line.location.code)
        for _ in range(line.qty):
            scan_and_wait(page, BARCODES[line.product.sku])
        page.wait_for_selector("main[data-state=scan_tote]")
        slot = page.get_by_test_id("slot").inner_text()
        assert slot == str(line.slot) and line.slot
        assert page.locator("[data-testid=tote]").count() == 0  # no tote on the screen yet
        prompt, hint = page.get_by_test_id("tote-prompt").inner_text(), page.get_by_test_id("tote-hint").inner_text()
        if lang == "en":
            assert (prompt, hint) == (f"Scan an empty tote for slot {slot}", "A tote code looks like T-001")
        else:
            assert (prompt, hint) == (f"请为格口 {slot} 扫描一个空周转箱", "周转箱条码形如 T-001")
        example = "document.querySelector('[data-testid=tote-hint] .code').getClientRects().length"
        assert page.evaluate(example) == 1  # the example code is never broken at its hyphen
        scan_and_wait(page, "NOT-A-TOTE")
        code, words = message(page)
        assert code == "empty_tote_for_slot"
        assert words == (f"Not an empty tote. Scan an empty tote for slot {slot}." if lang == "en"
                         else f"这不是空周转箱，请为格口 {slot} 扫描一个空周转箱。")
        assert "screen" not in words and "屏幕" not in words
        shot(page, f"first_tote_{lang}")
        scan_and_wait(page, "T-001")
        page.wait_for_selector("main[data-state=scan_location]")
    finally:
        context.close()


# --- 16. the screen's details ---------------------------------------------------------------

def contrast(page, testid: str) -> float:
    """WCAG contrast ratio of an element's text against the first opaque background behind it."""
    return page.eval_on_selector(f"[data-testid={testid}]", """e => {
        const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
        const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92
            : Math.pow((v + 0.055) / 1.055, 2.4); }).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
        let back = e, bg = "rgb(255, 255, 255)";
        while (back) {
            const c = getComputedStyle(back).backgroundColor, v = rgb(c);
            if (v.length === 3 || v[3] > 0) { bg = c; break; }
            back = back.parentElement;
        }
        const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(rgb(bg))];
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }""")


def one_line(page, testid: str) -> bool:
    return page.eval_on_selector(f"[data-testid={testid}]", """e => {
        const range = document.createRange(); range.selectNodeContents(e);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        return tops.size === 1 && e.scrollWidth <= e.clientWidth + 1; }""")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_screen_reads_well_in_a_dim_aisle(live_server, browser, planned_wave, lang):
    for code in ("A-01", "A-02"):  # long location codes, as large sites have them
        Location.update(code=f"{code[0]}{code[2:]}-12-03-B").where(Location.code == code).execute()
    context, page = open_handheld(browser, live_server, f"HH-C{lang}", lang=lang)
    try:
        release(live_server, planned_wave)
        page.wait_for_selector("main[data-state=scan_location]")
        assert page.get_by_test_id("location").inner_text() == first_line().location.code
        assert page.get_by_test_id("location").inner_text().endswith("-12-03-B")
        assert one_line(page, "location")  # never broken at a hyphen
        for testid in ("name", "slot-line", "task"):
            assert contrast(page, testid) >= 7, testid
        shot(page, f"scan_location_{lang}")
    finally:
        context.close()


def test_the_pill_the_scan_bar_and_logout(live_server, browser, planned_wave):
    context, page = open_handheld(browser, live_server, "HH-D1", lang="zh")
    try:
        link = page.get_by_test_id("link")
        assert link.inner_text() == "在线"
        page.click("#lang")
        page.wait_for_selector("html[lang=en]")
        page.wait_for_function(SETTLED)  # the "where am I" a switch sends is counted on the pill till answered
        assert link.inner_text() == "online"  # the pill follows a language switch
        page.click("#lang")

        release(live_server, planned_wave)
        page.wait_for_selector("main[data-state=scan_location]")
        line = first_line()
        scan_and_wait(page, "XX-00")
        assert message(page)[0] == "wrong_location"
        scan_and_wait(page, line.location.code)
        scan_and_wait(page, BARCODES[line.product.sku])
        assert PickLine.get_by_id(line.id).picked_qty == 1

        page.get_by_test_id("logout").click()  # a unit in hand: the picker is asked first
        page.wait_for_selector("[data-testid=logout-dialog]")
        assert "1" in page.get_by_test_id("logout-dialog").inner_text()
        assert "null" not in page.inner_text("main")
        shot(page, "logout_confirm_zh")
        page.get_by_test_id("logout-cancel").click()
        assert state_of(page) in ("qty", "scan_tote")
        page.get_by_test_id("logout").click()
        page.get_by_test_id("logout-confirm").click()
        page.wait_for_selector("main[data-state=login]")

        assert page.inner_text("#message") == ""  # nothing left of the last picker's screen
        assert not page.locator("#scan-form").is_visible()  # no scan bar on the login screen
        shot(page, "login_zh")
        page.click("#lang")
        page.wait_for_selector("html[lang=en]")
        assert not page.locator("#scan-form").is_visible()
        shot(page, "login_en")
    finally:
        context.close()
