"""The packing station page in a real browser (Debian chromium through Playwright) against a real
server process, whose print worker sends the label to a TCP printer emulator. Both engines."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.models import Order, PrintJob
from server.services import printing
from server.services.stock import inventory
from tests.test_packing import emulator, floor  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def scan(page, code):
    """A keyboard-wedge scanner: a burst of keys ending in Enter, into whatever has the focus."""
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def test_a_packer_checks_an_order_and_its_label_prints(live_server, floor, emulator, browser):  # noqa: F811
    printing.save_printer("ZD-PK01", {"url": f"tcp://127.0.0.1:{emulator.port}", "station": "PK-01",
                                      "cjk": "raster"}, inventory.system_actor())
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/pack?station=PK-01")

    page.fill("#user", "u-packer")
    page.fill("#pin", "2468")
    page.click("button[type=submit]")
    page.wait_for_selector("#panel[data-state=scan_order]")
    page.wait_for_selector("#link.on")

    scan(page, "T-001")
    page.wait_for_selector("#panel[data-state=verify]")
    assert page.inner_text(".field.number strong") == "A"
    assert page.locator("#lines tbody tr").count() == 2

    scan(page, "6900000000045")  # a sock: in no order
    page.wait_for_selector("#banner.error[data-code=wrong_item]")
    assert page.is_visible("#banner") and page.inner_text("#banner") == "商品错误，请核对商品。"

    scan(page, "6900000000014")
    page.wait_for_selector("#banner.info[data-code=unit_verified]")
    assert page.inner_text("tr[data-sku=TS-01] .count") == "1 / 2"
    page.evaluate("window.wavefloorScan('6900000000021')")  # the kiosk's camera hands a scan to the page
    page.wait_for_selector("tr[data-sku=MG-01].done")
    scan(page, "6900000000014")
    page.wait_for_selector("#panel[data-state=weigh]")
    page.wait_for_selector("#label-status[data-state=done]", timeout=15000)

    job = PrintJob.get(PrintJob.ref == "A")
    tracking = page.inner_text("#label-status").split()[-1]
    assert emulator.wait_for_printed(1, timeout=10)
    printed = Path(emulator.printed[0]).read_bytes().decode("utf-8")
    assert tracking in printed and printed == job.zpl
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pack_station.png"))

    page.fill("#grams", "812")
    page.click("#weigh button[type=submit]")
    page.wait_for_selector("#panel[data-state=ship]")
    page.click("#ship")
    page.wait_for_selector("#banner.info[data-code=order_shipped]")
    page.wait_for_selector("#panel[data-state=scan_order]")
    assert Order.get_by_id(floor["order_a"].id).status == "shipped"
    assert page.evaluate("document.activeElement.id") == "scan"  # ready for the next tote
    assert errors == []
