"""The QC bench (质检台) in a real browser (Debian chromium, 1280x800) against a live server, in
both languages: an inspector sees the plates waiting for QC, records a sample unit by unit with
defect reasons, and sees the lot accepted or rejected (with its supplier return); the office's
pick list of that return prints. Screenshots go to tests/artifacts/qc/. Both engines."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.models import Lpn, Quant, SupplierReturn
from server.services.stock import inventory
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_office_browser import open_page as office_page
from tests.test_qc import make_lpn

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "qc"
SCREEN = {"width": 1280, "height": 800}
WORDS = {
    "en": {"pass": "Decision: ACCEPTED", "reject": "Decision: REJECTED", "link": "QC bench", "dirty": "dirty",
           "expired": "expired", "tally": "Checked 1 of 2"},
    "zh_Hans_CN": {"pass": "判定：合格", "reject": "判定：判退", "link": "质检台", "dirty": "脏污", "expired": "过期",
                   "tally": "已检 1 / 2"},
}


def open_page(browser, server, path, lang, user):
    return office_page(browser, server, path, lang, user, screen=SCREEN)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_an_inspector_records_a_sample_and_sees_the_decision(live_server, people, small_warehouse, browser, lang):
    words = WORDS[lang]
    good = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 10, lot="L-GOOD")   # B -> A: 2 units, Ac 0
    bad = make_lpn(small_warehouse["warehouse"], small_warehouse["mug"], 9, lot="L-BAD")
    page = open_page(browser, live_server, "/stock", lang, "u-receiver")
    page.click(f"header >> text={words['link']}")
    page.wait_for_selector("#lpns tbody tr[data-sscc]")
    rows = page.locator("#lpns tbody tr[data-sscc]")
    assert rows.count() == 2
    shot(page, f"{lang}-1-waiting")

    page.click(f"#lpns tbody tr[data-sscc='{good.sscc}']")
    page.wait_for_selector("#lot:not([hidden])")
    assert page.inner_text("#lot-sku") == "TS-01"
    assert "L-GOOD" in page.inner_text("#lot-facts")
    page.click("#pass")
    page.wait_for_function("(t) => document.getElementById('tally').textContent.includes(t)", arg=words["tally"])
    shot(page, f"{lang}-2-checking")
    page.click("#pass")
    page.wait_for_selector("#decision.pass:not([hidden])")
    assert words["pass"] in page.inner_text("#decision")
    assert page.locator("#record").is_hidden()
    page.wait_for_function("() => document.querySelectorAll('#lpns tbody tr[data-sscc]').length === 1")
    shot(page, f"{lang}-3-accepted")

    page.fill("#code", f"(00){bad.sscc}")
    page.press("#code", "Enter")
    page.wait_for_function("(s) => document.querySelector('#lot-facts').textContent.includes(s)", arg=bad.sscc)
    page.click("button.reason[data-reason=dirty]")
    page.wait_for_function("() => document.querySelectorAll('#checks li.bad').length === 1")
    assert words["dirty"] in page.inner_text("#checks")
    page.click("button.reason[data-reason=expired]")
    page.wait_for_selector("#decision.reject:not([hidden])")
    decision = page.inner_text("#decision")
    assert words["reject"] in decision and f"SR-{bad.sscc}" in decision
    shot(page, f"{lang}-4-rejected")

    assert Lpn.get_by_id(good.id).status == "ready" and Lpn.get_by_id(bad.id).status == "rejected"
    states = {(q.product_id, q.state): q.qty for q in Quant.select().where(Quant.qty > 0)}
    assert states == {(good.product_id, "available"): 10, (bad.product_id, "damaged"): 2,
                      (bad.product_id, "frozen"): 7}
    assert SupplierReturn.get(SupplierReturn.lpn == bad.id).status == "open"
    assert inventory.audit() == []
    page.context.close()

    office = open_page(browser, live_server, "/supplier-returns?status=open", lang, "u-office")
    assert f"SR-{bad.sscc}" in office.inner_text("main")
    shot(office, f"{lang}-5-supplier-returns")
    office.goto(f"{live_server.url}/supplier-returns/SR-{bad.sscc}/print?noprint=1")
    assert "DOCK-1" in office.inner_text("table")
    shot(office, f"{lang}-6-pick-list")
    office.context.close()
