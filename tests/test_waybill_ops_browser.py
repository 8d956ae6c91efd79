"""Carrier waybills in a real browser (Debian chromium, headless) against a real server process,
both engines and both languages: from the Connections page the office opens the carriers page,
sets SF's account (its checkword nowhere in the page afterwards), uploads a pool file and sees its
bad line named; in the control room the supervisor fetches a released wave's numbers from the
fake SF service with the wave's 打单 button. Screenshots at 1280x800 under tests/artifacts/carriers/."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.models import CarrierAccount, Waybill
from server.services.connectors import credentials
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_office_browser import open_page
from tests.test_waybills import fake_sf, make_orders, make_wave, site  # noqa: F401

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "carriers"
SMALL = {"width": 1280, "height": 800}


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(SMALL)
    page.screenshot(path=str(SHOTS / f"{name}_1280.png"))


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_the_office_sets_up_carriers_and_the_supervisor_fetches_a_waves_numbers(live_server, site, fake_sf,  # noqa: F811
                                                                                browser, lang, tmp_path):  # noqa: F811
    zh = lang != "en"
    tag = "zh" if zh else "en"
    CarrierAccount.create(carrier="YTO", source="pool")
    page = open_page(browser, live_server, "/connections", lang, "u-office", screen=SMALL)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.click("#carriers-link")
    page.wait_for_url("**/carriers")
    assert page.inner_text("h1").startswith("快递面单账号" if zh else "Carriers")
    assert page.get_attribute("tr[data-carrier=SF]", "data-source") == "local"

    # SF's own API: the form shows SF's fields only once sf is chosen
    page.click("tr[data-carrier=SF] a.edit")
    page.wait_for_url("**/carriers?carrier=SF#account")
    assert not page.is_visible("input[name=endpoint]")
    page.select_option("#account-source", "sf")
    assert page.is_visible("input[name=endpoint]") and not page.is_visible("select[name=shop]")
    page.fill("input[name=endpoint]", fake_sf.url)
    page.fill("input[name=partner]", fake_sf.partner_id)
    page.fill("input[name=secret]", fake_sf.checkword)
    page.fill("input[name=account]", "7551234567")
    page.locator("#account").scroll_into_view_if_needed()
    shot(page, f"carriers_account_sf_{tag}")
    page.click("#account-form button[type=submit]")
    page.wait_for_selector("#result.ok")
    assert page.inner_text("#result").startswith("SF 的面单账号已保存" if zh else "SF's waybill account is saved")
    assert page.get_attribute("tr[data-carrier=SF]", "data-source") == "sf"
    assert fake_sf.checkword not in page.content()
    assert credentials.unseal(CarrierAccount.get(CarrierAccount.carrier == "SF").secret) == fake_sf.checkword

    # a pool file with a bad line: the good lines in, the bad one named
    pool = tmp_path / "yto-2026-12.txt"
    pool.write_text("YT0000000001,YT0000000040\nYT0000000041号\n", encoding="utf-8")
    page.click("tr[data-carrier=YTO] a.import")
    page.wait_for_url("**/carriers?carrier=YTO#pool")
    assert page.input_value("#pool-carrier") == "YTO"
    page.set_input_files("#pool-file", str(pool))
    page.click("#pool-form button[type=submit]")
    page.wait_for_selector("#result.warn")
    assert page.locator("#problems li").all_inner_texts() == [
        "yto-2026-12.txt:2: 'YT0000000041号' is not a waybill number (6 to 40 letters and digits)"]
    assert page.inner_text("tr[data-carrier=YTO] td.free") == "40"
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, f"carriers_{tag}")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= SMALL["width"]
    assert page.evaluate("[...document.querySelectorAll('.carriers .scroll')]"
                         ".every(el => el.scrollWidth <= el.clientWidth)")
    page.locator("#pool").scroll_into_view_if_needed()
    shot(page, f"carriers_forms_{tag}")

    # the control room: 打单 for the released wave whose carrier is SF
    orders = make_orders(site, 3, "SF")
    wave = make_wave(site, orders, code="W-SF1")
    control = open_page(browser, live_server, "/control", lang, "u-supervisor", screen=SMALL)
    control.on("pageerror", lambda error: errors.append(str(error)))
    button = f"#waves tr[data-id='{wave.id}'] button.waybills"
    control.wait_for_selector(button)
    assert control.inner_text(button) == ("打单（3）" if zh else "Fetch waybills (3)")
    control.locator("#waves-card").scroll_into_view_if_needed()
    shot(control, f"control_fetch_button_{tag}")
    control.click(button)
    control.wait_for_selector("#waves-result.ok")
    assert control.inner_text("#waves-result") == (
        "波次 W-SF1：3 个订单，获取电子面单号 3 个，失败 0 个。" if zh
        else "Wave W-SF1: 3 waybill numbers fetched for 3 orders, 0 failed.")
    assert {w.order_id for w in Waybill.select().where(Waybill.state == "assigned")} == {o.id for o in orders}
    control.wait_for_selector(button, state="detached")
    control.locator("#waves-card").scroll_into_view_if_needed()
    shot(control, f"control_waybills_{tag}")
    assert errors == []
