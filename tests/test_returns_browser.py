"""The returns bench page and the office's returns page in a real browser (Debian chromium through
Playwright) against a real server process, both engines: a receiver opens a parcel by its return
tracking number, scans units as a keyboard-wedge scanner types, chooses each unit's condition and
closes the parcel; an unknown parcel (无头件) is kept with a note; the office sees the return rate
and matches the unknown parcel to its order. Screenshots in both languages under
tests/artifacts/returns/."""
from __future__ import annotations

import pytest

from server.models import OrderLine, ReturnParcel
from server.services.stock import inventory
from tests.test_pack_browser import ARTIFACTS, browser, scan  # noqa: F401  (fixture)
from tests.test_returns import shipped  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "returns"


def log_in(page, url, user, path):
    page.goto(f"{url}{path}")
    page.wait_for_url("**/login?**")  # the page is behind a login
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", "secret-pass")
    page.click("button[type=submit]")


def test_a_receiver_opens_a_parcel_scans_units_chooses_conditions_and_closes(  # noqa: F811
        live_server, shipped, people, small_warehouse, browser):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url, "u-receiver", "/returns/bench?station=RB-01")
    page.wait_for_url("**/returns/bench?station=RB-01")
    page.wait_for_selector("#login:not([hidden])")  # then the bench's own login, by PIN
    page.fill("#pin", "2468")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#panel[data-state=scan_parcel]")
    page.wait_for_selector("#link.on")
    assert page.inner_text("#prompt") == "请扫描退货包裹的运单号或订单号"

    scan(page, "YT9001")
    page.wait_for_selector("#panel[data-state=scan_unit]")
    assert page.inner_text("#banner") == "包裹已打开，请逐件扫描商品。"
    assert page.locator("#lines tbody tr").count() == 2
    assert page.inner_text("tr[data-sku=TS-01] .count") == "0 / 2"

    scan(page, "6900000000014")
    page.wait_for_selector("#panel[data-state=condition]")
    assert page.is_visible("button.cond.restock") and "TS-01" in page.inner_text("#item")
    page.click("button.cond.restock")
    page.wait_for_selector("#banner.info[data-code=unit_returned]")
    assert page.inner_text("tr[data-sku=TS-01] .count") == "1 / 2"
    scan(page, "6900000000014")
    page.wait_for_selector("#panel[data-state=condition]")
    page.click("button.cond.damaged")
    page.wait_for_selector("tr[data-sku=TS-01].done")
    scan(page, "6900000000014")  # a third T-shirt: the order had two
    page.wait_for_selector("#banner.error[data-code=already_returned]")
    assert page.inner_text("#banner") == "该订单中此商品已全部退回。"
    assert page.evaluate("document.activeElement.id") == "scan"
    scan(page, "6900000000021")
    page.wait_for_selector("#panel[data-state=condition]")
    page.screenshot(path=str(SHOTS / "bench_condition_zh.png"))
    page.click("button.cond.scrap")
    page.wait_for_selector("tr[data-sku=MG-01].done")
    assert page.locator("#units li").count() == 3
    page.fill("#note", "外箱破损")
    page.click("#note-form button[type=submit]")
    page.wait_for_selector("#banner.info[data-code=note_saved]")
    page.screenshot(path=str(SHOTS / "bench_parcel_zh.png"))
    page.reload()  # a reloaded bench comes back to its open parcel
    page.wait_for_selector("#panel[data-state=scan_unit]")
    assert page.locator("#units li").count() == 3 and page.input_value("#note") == "外箱破损"

    page.click("#lang")  # English: the page and the server's answers
    assert page.inner_text("#prompt") == "Scan each returned unit"
    assert page.inner_text("button.cond.restock") == "Restock"
    page.screenshot(path=str(SHOTS / "bench_parcel_en.png"))
    page.click("#close")
    page.wait_for_selector("#panel[data-state=scan_parcel]")
    assert page.inner_text("#banner") == "Parcel closed."
    parcel = ReturnParcel.get()
    assert (parcel.status, parcel.note) == ("done", "外箱破损")
    assert OrderLine.get(OrderLine.external_line_id == "L1").returned_qty == 2
    assert inventory.audit() == []

    scan(page, "ZTO-0000-NEW")  # names no order
    page.wait_for_selector("#banner.error[data-code=return_not_found]")
    page.wait_for_selector("#unknown-box:not([hidden])")
    page.fill("#unknown-note", "no slip; buyer nick tb_b… on the box")
    page.click("#unknown")
    page.wait_for_selector("#panel[data-state=scan_unit]")
    assert page.inner_text("#banner") == "Unknown parcel kept: scan each unit."
    assert "Unknown parcel" in page.inner_text("#parcel")
    scan(page, "6900000000021")
    page.wait_for_selector("#panel[data-state=condition]")
    page.click("button.cond.restock")
    page.wait_for_selector("#units li")
    page.screenshot(path=str(SHOTS / "bench_unknown_en.png"))
    page.click("#close")
    page.wait_for_selector("#panel[data-state=scan_parcel]")

    page.click("#lang")  # 中文 again: a parcel with no number, found by the buyer's name
    page.fill("#search", "林娟")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#found:not([hidden]) tbody tr")
    row = page.inner_text("#found tbody tr")
    assert "3700000000000001" in row and "林*" in row and "138****5678" in row  # a receiver has no pii.read
    page.screenshot(path=str(SHOTS / "bench_search_zh.png"))
    page.click("#found tbody tr button")
    page.wait_for_selector("#panel[data-state=scan_unit]")
    assert page.inner_text("tr[data-sku=MG-01] .count") == "1 / 1"
    assert errors == []


def test_the_office_sees_return_rates_and_matches_an_unknown_parcel(live_server, shipped, people,  # noqa: F811
                                                                     small_warehouse, browser):  # noqa: F811
    from server.services.returns import bench
    actor = inventory.Actor(people["receiver"].id)
    tee, loc = small_warehouse["tee"], small_warehouse["locations"]["A-01"]
    inventory.receive(tee, loc, 5, actor=actor)
    inventory.issue(tee, loc, 4, actor=actor, reason="ship")
    parcel = bench.open_parcel("ZTO-77", actor=actor, unknown_ok=True, note="无面单")
    bench.receive_unit(parcel, tee.id, "restock", actor=actor)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url, "u-office", "/returns")
    page.wait_for_url("**/returns")
    assert page.inner_text("#rate-table tr[data-sku=TS-01] .rate") == "25.0%"
    page.screenshot(path=str(SHOTS / "office_zh.png"), full_page=True)
    page.fill(f"tr[data-parcel={parcel.code}] input[name=order]", "3700000000000001")
    page.click(f"tr[data-parcel={parcel.code}] button[type=submit]")
    page.wait_for_url("**/returns")
    assert page.locator(f"tr[data-parcel={parcel.code}]").count() == 0
    assert ReturnParcel.get_by_id(parcel.id).order_id == shipped.id
    page.fill("input[name=q]", "林娟")
    page.click("#search + form button[type=submit]")
    page.wait_for_selector("#found")
    assert "林娟" in page.inner_text("#found")  # the office holds pii.read
    page.goto(f"{live_server.url}/lang/en?next=/returns")
    page.wait_for_selector("#rates")
    assert page.inner_text("#rates") == "Return rate per SKU"
    page.screenshot(path=str(SHOTS / "office_en.png"), full_page=True)
    assert errors == []
