"""The control room's goods-in panel in a real browser (1920x1080) against a live server: a
supervisor watches a receiver's scans, a plate closed for QC and a lot passed by QC reach the
panel live (receipt.progress, putaway.waiting), without a reload. Screenshots in English and
Chinese go to tests/artifacts/control/. Both engines."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.models import Device as DeviceRow
from server.services.receiving import receipts
from server.services.stock import inventory
from tests.receiving_floor import goods_in
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_realtime import Device, pin_login

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "control"


def control_page(browser, server, locale):  # noqa: F811
    page = browser.new_context(viewport={"width": 1920, "height": 1080}, locale=locale).new_page()
    page.goto(f"{server.url}/login?next=/control")
    page.fill("input[name=user]", "u-supervisor")
    page.fill("input[name=password]", "secret-pass")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/control")
    page.wait_for_selector("#link[data-live='1']")
    return page


def text(page, selector):
    return page.inner_text(selector).strip()


def wait_text(page, selector, expected):
    page.wait_for_function("([s, t]) => document.querySelector(s)?.textContent.trim() === t",
                           arg=[selector, expected], timeout=10000)


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#goods-in-card").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.locator("#goods-in-card").screenshot(path=str(SHOTS / f"{name}_panel.png"))


def test_the_goods_in_panel_follows_receiving_and_qc_live(live_server, browser, small_warehouse, people):  # noqa: F811
    floor = goods_in(small_warehouse, qc_plan="sample")
    # an earlier delivery: 4 mugs, their plate closed and waiting for QC
    actor = inventory.Actor(people["receiver"].id, DeviceRow.create(code="HH-R0", kind="handheld").id)
    earlier = receipts.open_receipt("PO-001", actor)
    receipts.receive(earlier, floor["mug"].id, 4, actor)
    [mugs] = receipts.finish(earlier, actor)

    page = control_page(browser, live_server, "en-US")
    receiver = Device(live_server, pin_login(live_server, "u-receiver", "HH-R1"))
    try:
        wait_text(page, "#gi-qc", "1")
        assert (text(page, "#gi-receipts"), text(page, "#gi-putaway")) == ("0", "0")
        assert text(page, "#goods-in") == "No receipt is open."
        page.evaluate("window.__notReloaded = true")

        answer = receiver.cmd(scenario="receiving", action="start", code="PO-001")
        assert answer["ok"], answer
        page.wait_for_selector("#goods-in tr[data-receipt]", timeout=10000)
        row = "#goods-in tr[data-receipt]"
        assert "PO-001" in text(page, row) and "义乌杯业" in text(page, row) and "User receiver" in text(page, row)
        wait_text(page, f"{row} .units", "4 / 34")
        wait_text(page, "#gi-receipts", "1")

        for _ in range(3):                                      # three tees, scanned
            assert receiver.cmd(scenario="receiving", action="scan", code="6900000000014")["ok"]
        wait_text(page, f"{row} .units", "7 / 34")
        shoot(page, "goods_in_receiving_en")

        answer = receiver.cmd(scenario="receiving", action="finish")   # the tees' plate goes to QC
        assert answer["ok"], answer
        wait_text(page, "#goods-in", "No receipt is open.")
        wait_text(page, "#gi-qc", "2")
        wait_text(page, "#gi-receipts", "0")

        assert receiver.cmd(scenario="qc", action="scan", code=mugs.sscc)["next_state"] == "check"
        answer = None
        for _ in range(4):                                      # the mugs' whole lot passes
            answer = receiver.cmd(scenario="qc", action="pass", sscc=mugs.sscc)
        assert answer["next_state"] == "decided", answer
        wait_text(page, "#gi-putaway", "1")
        wait_text(page, "#gi-qc", "1")
        assert page.evaluate("window.__notReloaded") is True    # all of it live, no reload
        shoot(page, "goods_in_en")

        zh = control_page(browser, live_server, "zh-CN")
        wait_text(zh, "#gi-putaway", "1")
        assert text(zh, "#goods-in-card h2") == "收货"
        assert text(zh, "#goods-in") == "目前没有进行中的入库单。"
        assert receiver.cmd(scenario="receiving", action="start", code="PO-001")["ok"]
        zh.wait_for_selector("#goods-in tr[data-receipt]", timeout=10000)
        wait_text(zh, "#goods-in tr[data-receipt] .units", "7 / 34")
        shoot(zh, "goods_in_zh")
        zh.context.close()
    finally:
        receiver.close()
        page.context.close()
    assert inventory.audit() == []
