"""The put wall station page in a real browser (Debian chromium through Playwright) against a real
server process: log in, scan as a keyboard-wedge scanner types, see the slot, fill it. Both engines."""
from __future__ import annotations

import pytest

from server.models import Order
from tests.test_pack_browser import ARTIFACTS, browser, scan  # noqa: F401  (fixture)
from tests.test_putwall import TOTE, at, floor, sku, step, wall  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_a_packer_sorts_the_last_unit_of_an_order_into_its_slot(live_server, wall, people, browser):  # noqa: F811
    # another station sorted all of B2 but one unit and put the tote aside
    elsewhere = at("PW-09", "packer", people)
    step(elsewhere, "scan", code=TOTE)
    for code in [sku(3, 3)] * 5 + [sku(1, 0)]:
        _, data, _ = step(elsewhere, "scan", code=code)
        assert data["put"]["order"] == "B2"
        step(elsewhere, "scan", code=data["put"]["label"])
    step(elsewhere, "close")
    slot = wall["slots"]["B2"]
    label, wrong = wall["labels"][slot].code, wall["labels"][wall["slots"]["B1"]].code

    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/putwall?station=PW-01")
    page.wait_for_url("**/login?**")  # the page is behind a login
    page.fill("input[name=user]", "u-packer")
    page.fill("input[name=password]", "secret-pass")
    page.click("button[type=submit]")
    page.wait_for_url("**/putwall?station=PW-01")
    page.wait_for_selector("#login:not([hidden])")  # then the station's own login, by PIN
    assert page.input_value("#user") == "u-packer"
    page.fill("#pin", "2468")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#panel[data-state=scan_tote]")
    page.wait_for_selector("#link.on")
    assert page.inner_text("#wall") == "墙号 1"

    scan(page, TOTE)
    page.wait_for_selector("#panel[data-state=scan_item]")
    assert page.locator("#slots li").count() == 3
    assert page.inner_text(f"#slots li[data-slot='{slot}'] .count") == "6 / 7"

    scan(page, sku(1, 0))
    page.wait_for_selector("#panel[data-state=put]")
    assert page.inner_text("#slot-number") == str(slot)
    size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('slot-number')).fontSize)")
    assert size >= 200, size  # read from across the wall
    assert page.is_visible(f"#slots li.target[data-slot='{slot}']")

    page.reload()  # a reloaded kiosk comes back to the same put
    page.wait_for_selector("#panel[data-state=put]")
    assert page.inner_text("#slot-number") == str(slot)

    scan(page, wrong)
    page.wait_for_selector("#banner.error[data-code=wrong_slot]")
    assert page.inner_text("#banner") == "格口错误，请放入屏幕上的格口。"
    assert page.evaluate("document.activeElement.id") == "scan"

    scan(page, label)
    page.wait_for_selector("#banner.info[data-code=slot_complete]")
    page.wait_for_selector(f"#slots li.complete[data-slot='{slot}']")
    assert page.inner_text(f"#slots li[data-slot='{slot}'] .count") == "7 / 7"
    assert Order.get(Order.external_id == "B2").status == "picked"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "putwall_station.png"))

    page.click("#lang")
    assert page.inner_text("#prompt") == "Take an item from the tote and scan it"
    assert page.inner_text("#link.on") == "online"
    page.set_viewport_size({"width": 360, "height": 740})  # a phone-sized handheld
    scan(page, sku(5, 2))
    page.wait_for_selector("#panel[data-state=put]")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    assert page.is_visible("#slot-number")
    page.screenshot(path=str(ARTIFACTS / "putwall_phone.png"), full_page=True)
    assert errors == []


def test_with_english_chosen_the_server_speaks_english_at_the_put_wall(live_server, wall, people,  # noqa: F811
                                                                       browser):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800}).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/putwall?station=PW-01")
    page.wait_for_url("**/login?**")
    page.fill("input[name=user]", "u-packer")
    page.fill("input[name=password]", "secret-pass")
    page.click("button[type=submit]")
    page.wait_for_selector("#login:not([hidden])")
    page.click("#lang")  # English, before the station's login
    page.fill("#pin", "2468")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#link.on")

    scan(page, TOTE)
    page.wait_for_selector("#banner.info[data-code=tote_opened]")
    assert page.inner_text("#banner") == "Tote opened. Scan an item."
    scan(page, wall["labels"][wall["slots"]["B1"]].code)  # a slot's label before any item
    page.wait_for_selector("#banner.error[data-code=scan_item_first]")
    assert page.inner_text("#banner") == "Scan an item first."
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "putwall_en.png"))

    page.click("#lang")  # 中文
    scan(page, wall["labels"][wall["slots"]["B1"]].code)
    page.wait_for_selector("#banner.error[data-code=scan_item_first]")
    assert page.inner_text("#banner") == "请先扫描商品。"
    assert errors == []


def test_a_blank_station_is_asked_for_in_the_form_and_kept_like_the_address(live_server, wall, people,  # noqa: F811
                                                                           browser):  # noqa: F811
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/putwall")
    page.wait_for_url("**/login?**")
    page.fill("input[name=user]", "u-packer")
    page.fill("input[name=password]", "secret-pass")
    page.click("button[type=submit]")
    page.wait_for_url("**/putwall")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#pin", "2468")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#banner.error[data-code=no_station]")
    text = page.inner_text("#banner")
    assert "code" in text and "address" not in text and "?station=" not in text  # asked in the form
    assert page.evaluate("document.activeElement.id") == "station-code"
    page.fill("#station-code", "PW-01")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#panel[data-state=scan_tote]")
    assert page.url.endswith("/putwall?station=PW-01")
    page.reload()  # the station stays: the address names it now
    page.wait_for_selector("#panel[data-state=scan_tote]")
    assert page.inner_text("#station") == "PW-01"
    assert errors == []
