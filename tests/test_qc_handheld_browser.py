"""QC on a handheld, in a real browser (Debian chromium, 360 px wide) against a live server: a
receiver whose plate waits for QC (a sample plan, ISO 2859-1) chooses QC from the work menu,
scans the plate's label, records passes and one failure by taps, and reads the lot's decision.
Screenshots in English and Chinese go to tests/artifacts/qc-handheld/. Both engines."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from server.models import Device, Lpn, QcCheck, Quant, Supplier
from server.services.receiving import receipts
from server.services.stock import inventory
from tests.receiving_floor import goods_in
from tests.test_handheld_browser import browser, state_of, wedge  # noqa: F401  (the fixture)
from tests.test_receiving_browser import answered, open_handheld

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "qc-handheld"


def shoot(page, name):
    """The screen in the page's language, then in the other one (the device redraws its own
    screen: the plate in hand is the device's), then back."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    first = page.evaluate("document.documentElement.lang")
    page.screenshot(path=str(SHOTS / f"{name}_{'zh' if first == 'zh-CN' else 'en'}.png"), full_page=True)
    page.click("#lang")
    page.wait_for_function("l => document.documentElement.lang !== l", arg=first)
    page.wait_for_timeout(200)
    page.screenshot(path=str(SHOTS / f"{name}_{'en' if first == 'zh-CN' else 'zh'}.png"), full_page=True)
    page.click("#lang")
    page.wait_for_function("l => document.documentElement.lang === l", arg=first)
    page.wait_for_timeout(200)


def no_overflow(page):
    """Nothing on the screen is wider than the 360 px it has (no cut text, no sideways scroll)."""
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
        .map((el) => el.outerHTML.slice(0, 80))""")
    assert wide == []


def plate_waiting_for_qc(floor, people) -> Lpn:
    """24 tees of lot L2406A received at the dock under a sample plan at AQL 6.5: sample 8, Ac 1."""
    Supplier.update(aql="6.5").where(Supplier.id == floor["supplier"].id).execute()
    actor = inventory.Actor(people["receiver"].id, Device.create(code="HH-R9", kind="handheld").id)
    receipt = receipts.open_receipt("PO-001", actor)
    receipts.receive(receipt, floor["tee"].id, 24, actor, lot="L2406A", expiry=dt.date(2027, 6, 30))
    [plate] = receipts.finish(receipt, actor)
    return Lpn.get_by_id(plate.id)


def test_a_receiver_checks_a_sample_on_the_handheld_and_reads_the_decision(live_server, browser,  # noqa: F811
                                                                           small_warehouse, people):
    floor = goods_in(small_warehouse, qc_plan="sample")
    plate = plate_waiting_for_qc(floor, people)
    assert (plate.status, plate.sample_size, plate.accept_number) == ("qc_pending", 8, 1)
    context, page = open_handheld(browser, live_server, "u-receiver", "HH-Q1")
    try:
        assert page.viewport_size["width"] == 360
        page.wait_for_selector("[data-testid=menu-qc]")
        assert page.get_by_test_id("menu-qc").inner_text() == "质检"
        page.click("#lang")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert page.get_by_test_id("menu-qc").inner_text() == "QC"
        page.click("#lang")
        page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
        shoot(page, "01_menu")
        page.get_by_test_id("menu-qc").click()
        page.wait_for_selector("main[data-state=start] [data-testid=prompt]")
        assert page.get_by_test_id("waiting").inner_text() == "1 个托/箱待检"
        shoot(page, "02_scan_lpn")

        answered(page, "00" + plate.sscc)        # the label's barcode as it reads: (00) + SSCC
        page.wait_for_selector("main[data-state=check]")
        assert page.get_by_test_id("sku").inner_text() == "TS-01"
        assert "L2406A" in page.get_by_test_id("lot").inner_text()
        assert "2027-06-30" in page.get_by_test_id("lot").inner_text()
        assert page.get_by_test_id("sample-size").inner_text() == "8"
        assert (page.get_by_test_id("checked").inner_text(), page.get_by_test_id("failed").inner_text()) == ("0", "0")
        assert page.locator("[data-testid^=qc-fail-]").count() == 6
        assert page.locator("[data-testid=qc-reject]").count() == 0   # a receiver does not reject early
        no_overflow(page)
        shoot(page, "03_check")

        for n in range(1, 5):
            page.get_by_test_id("qc-pass").click()
            page.wait_for_function(f"() => document.querySelector('[data-testid=checked]')?.textContent === '{n}'")
        page.get_by_test_id("qc-fail-short_dated").click()
        page.wait_for_function("() => document.querySelector('[data-testid=failed]')?.textContent === '1'")
        assert page.get_by_test_id("checked").inner_text() == "5"
        assert page.get_by_test_id("remaining").inner_text() == "还需检验 3 件"
        page.wait_for_selector("#message[data-code=qc_checked]")
        no_overflow(page)
        shoot(page, "04_one_failed")

        page.reload()                            # the plate in hand is the device's: scan it again
        page.wait_for_selector("[data-testid=link][data-online=true]")
        page.get_by_test_id("menu-qc").click()
        answered(page, plate.sscc)               # the bare SSCC, typed
        page.wait_for_selector("main[data-state=check]")
        assert (page.get_by_test_id("checked").inner_text(), page.get_by_test_id("failed").inner_text()) == ("5", "1")
        for n in range(6, 9):
            page.get_by_test_id("qc-pass").click()
            if n < 8:
                page.wait_for_function(f"() => document.querySelector('[data-testid=checked]')?.textContent === '{n}'")
        page.wait_for_selector("main[data-state=decided]")
        page.wait_for_selector("#message[data-code=qc_passed]")
        assert page.get_by_test_id("decision").get_attribute("data-decision") == "pass"
        assert page.get_by_test_id("decision-words").inner_text() == "本批合格"
        no_overflow(page)
        shoot(page, "05_decided")
        page.click("#lang")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert page.get_by_test_id("decision-words").inner_text() == "Lot passed"
        assert page.get_by_test_id("decision-counts").inner_text() == "8 checked, 1 failed, accept up to 1"

        answered(page, plate.sscc)               # decided already: shown, not checked again
        page.wait_for_selector("#message[data-code=qc_not_pending]")
        assert state_of(page) == "scan_lpn"
        assert page.get_by_test_id("decision-words").inner_text() == "Lot passed"
        shoot(page, "06_not_pending")
    finally:
        context.close()
    plate = Lpn.get_by_id(plate.id)
    assert (plate.status, plate.checked, plate.failed) == ("ready", 8, 1)
    assert [c.reason for c in QcCheck.select().where(QcCheck.lpn == plate.id, QcCheck.passed == False)] == [  # noqa: E712
        "short_dated"]
    quants = {q.state: q.qty for q in Quant.select().where((Quant.product == floor["tee"]) & (Quant.qty > 0)
                                                           & (Quant.location == floor["dock"]))}
    assert quants == {"available": 23, "damaged": 1}
    assert inventory.audit() == []
