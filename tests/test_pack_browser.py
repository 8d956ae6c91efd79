"""The packing station page in a real browser (Debian chromium through Playwright) against a real
server process, whose print worker sends the label to a TCP printer emulator. Both engines."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import requests

from server.models import ApiToken, Order, PrintJob
from server.models.base import utcnow
from server.services import printing
from server.services.stock import inventory
from tests.test_packing import emulator, floor  # noqa: F401  (fixtures)
from tests.test_realtime import pin_login

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


# --- the station's language, its screen and its address --------------------------------------------

PACK_ARTIFACTS = ARTIFACTS / "pack"
BUTTONS = ("#ship", "#reprint", "#close", "#weigh button[type=submit]", "#grams", "#scan",
           "#login button[type=submit]")


def open_station(browser, server, address="/pack?station=PK-01", english=False):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800}).new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{server.url}{address}")
    if english:
        page.click("#lang")
    return page


def log_in(page, station=None):
    page.fill("#user", "u-packer")
    page.fill("#pin", "2468")
    if station is not None:
        page.fill("#station-code", station)
    page.click("#login button[type=submit]")


def fits_the_screen(page, step: str) -> None:
    """No scrolling at 1280 x 800: the page is no taller than the screen and every button the
    step shows lies inside it."""
    size = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]")
    assert size[0] <= 1280 and size[1] <= 800, (step, size)
    shown = 0
    for selector in BUTTONS:
        box = page.locator(selector).bounding_box() if page.is_visible(selector) else None
        if box is None:
            continue
        shown += 1
        assert box["x"] >= 0 and box["y"] >= 0, (step, selector, box)
        assert box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 800, (step, selector, box)
    assert shown, step


def test_with_english_chosen_the_server_speaks_english_to_the_station(live_server, floor, emulator,  # noqa: F811
                                                                      browser):
    printing.save_printer("ZD-PK01", {"url": f"tcp://127.0.0.1:{emulator.port}", "station": "PK-01",
                                      "cjk": "raster"}, inventory.system_actor())
    page = open_station(browser, live_server, english=True)
    log_in(page)
    page.wait_for_selector("#link.on")
    scan(page, "T-001")
    page.wait_for_selector("#banner.info[data-code=pack_opened]")
    assert page.inner_text("#banner") == "Order opened. Scan each item."
    scan(page, "6900000000045")  # a sock: in no order
    page.wait_for_selector("#banner.error[data-code=wrong_item]")
    assert page.inner_text("#banner") == "Wrong item. Check the product."
    scan(page, "6900000000014")
    page.wait_for_selector("#banner.info[data-code=unit_verified]")
    assert page.inner_text("#banner") == "Item checked."
    PACK_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(PACK_ARTIFACTS / "verify_en.png"))

    page.click("#lang")  # 中文: the next sentence is Chinese
    scan(page, "6900000000045")
    page.wait_for_selector("#banner.error[data-code=wrong_item]")
    assert page.inner_text("#banner") == "商品错误，请核对商品。"
    page.screenshot(path=str(PACK_ARTIFACTS / "verify_zh.png"))

    page.click("#lang")  # English again: the server hears the switch at once, before any scan
    page.wait_for_function("() => document.getElementById('banner').hidden")
    page.wait_for_timeout(300)
    expire_sessions()  # what the server sends unasked (its check of the session) is in English too
    page.wait_for_selector("#banner.error[data-code=session_expired]", timeout=15000)
    assert page.inner_text("#banner") == "Your login has expired. Log in again."
    assert page.errors == []


def test_the_language_goes_with_the_connect(live_server, floor, browser):  # noqa: F811
    page = open_station(browser, live_server, english=True)
    log_in(page)
    page.wait_for_selector("#link.on")  # no command sent: the server knows the language from the connect
    expire_sessions()
    page.wait_for_selector("#banner.error[data-code=session_expired]", timeout=15000)
    assert page.inner_text("#banner") == "Your login has expired. Log in again."
    assert page.errors == []


def test_a_release_made_elsewhere_reaches_the_station_in_its_language(live_server, floor, browser):  # noqa: F811
    """A supervisor releases the station's device through the API (a request another process
    may serve, which does not know the station's language): the station says why in English."""
    page = open_station(browser, live_server, english=True)
    log_in(page)
    page.wait_for_selector("#link.on")
    supervisor = pin_login(live_server, "u-supervisor", "PC-1")
    released = requests.post(f"{live_server.url}/api/v1/devices/PK-01/release", timeout=10,
                             headers={"Authorization": f"Bearer {supervisor}"})
    assert released.status_code == 200, released.text
    page.wait_for_selector("#banner.error[data-code=device_released]", timeout=15000)
    assert page.inner_text("#banner") == "A supervisor released this device. Log in again."
    assert page.errors == []


def expire_sessions() -> None:
    past = utcnow() - dt.timedelta(minutes=1)
    ApiToken.update(expires_at=past).where(ApiToken.revoked == False).execute()  # noqa: E712


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_the_whole_flow_fits_a_1280x800_station(live_server, floor, emulator, browser, english):  # noqa: F811
    printing.save_printer("ZD-PK01", {"url": f"tcp://127.0.0.1:{emulator.port}", "station": "PK-01",
                                      "cjk": "raster"}, inventory.system_actor())
    Order.update(buyer_message="请用纸箱，不要塑料袋", seller_memo="赠品：贴纸 ×2").where(
        Order.id == floor["order_a"].id).execute()
    lang = "en" if english else "zh"
    page = open_station(browser, live_server, english=english)
    log_in(page)
    page.wait_for_selector("#panel[data-state=scan_order]")
    fits_the_screen(page, "scan_order")

    scan(page, "T-001")
    page.wait_for_selector("#panel[data-state=verify]")
    fits_the_screen(page, "verify")
    assert page.is_visible("#close")
    scan(page, "6900000000045")  # a refusal on the banner pushes nothing off the screen
    page.wait_for_selector("#banner.error")
    fits_the_screen(page, "verify, refused")
    PACK_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(PACK_ARTIFACTS / f"1_verify_{lang}.png"))
    for code in ("6900000000014", "6900000000021", "6900000000014"):
        scan(page, code)
        page.wait_for_timeout(150)
    page.wait_for_selector("#panel[data-state=weigh]")
    page.wait_for_selector("#label-status[data-state=done]", timeout=15000)
    fits_the_screen(page, "weigh")
    assert page.is_visible("#reprint") and page.is_visible("#grams")
    carrier = "SF Express" if english else "顺丰速运"  # the carrier's name in the station's language
    assert carrier in page.inner_text("#panel")
    page.screenshot(path=str(PACK_ARTIFACTS / f"2_weigh_{lang}.png"))

    page.fill("#grams", "812")
    page.click("#weigh button[type=submit]")
    page.wait_for_selector("#panel[data-state=ship]")
    fits_the_screen(page, "ship")
    assert page.is_visible("#ship") and page.is_visible("#reprint") and page.is_visible("#close")
    page.screenshot(path=str(PACK_ARTIFACTS / f"3_ship_{lang}.png"))
    page.click("#ship")
    page.wait_for_selector("#banner.info[data-code=order_shipped]")
    page.wait_for_selector("#panel[data-state=scan_order]")
    fits_the_screen(page, "shipped")
    assert page.errors == []


def test_a_reload_keeps_the_station_typed_in_the_form_and_its_open_order(live_server, floor, browser):  # noqa: F811
    page = open_station(browser, live_server, address="/pack", english=True)
    assert page.is_visible("#station-code")
    log_in(page, station="")  # a blank station is asked for in the form
    page.wait_for_selector("#banner.error[data-code=no_station]")
    assert page.inner_text("#banner") == "Type the station's code"
    assert page.evaluate("document.activeElement.id") == "station-code"
    fits_the_screen(page, "login")
    page.screenshot(path=str(PACK_ARTIFACTS / "0_no_station_en.png"))

    log_in(page, station="PK-01")
    page.wait_for_selector("#panel[data-state=scan_order]")
    assert page.url == f"{live_server.url}/pack?station=PK-01"
    scan(page, "T-001")
    page.wait_for_selector("#panel[data-state=verify]")

    page.reload()
    page.wait_for_selector("#panel[data-state=verify]")
    assert page.inner_text("#station") == "PK-01" and page.inner_text(".field.number strong") == "A"
    assert page.is_hidden("#login")

    other = page.context.new_page()  # a new tab of the same kiosk: the form offers the last station
    other.goto(f"{live_server.url}/pack")
    assert other.input_value("#station-code") == "PK-01"
    assert page.errors == []


def test_an_order_of_many_lines_keeps_the_buttons_in_sight(live_server, floor, browser):  # noqa: F811
    from server.models import Barcode, Location, Product, Wave
    from tests.test_packing import picked_order
    items = []
    for n in range(9):
        product = Product.create(sku=f"LN-{n:02d}", name=f"收纳盒 {n} 号 加厚款", weight_g=100)
        Barcode.create(code=f"69100000000{n:02d}", product=product)
        inventory.receive(product, floor["locations"]["R-01"], 3, actor=floor["actor"])
        items.append((product, floor["locations"]["R-01"], 1 + n % 3))
    tote = Location.create(warehouse=floor["warehouse"], code="T-009", kind="tote")
    picked_order("C", items, wave=Wave.get(Wave.code == "W1"), tote=tote, actor=floor["actor"])
    page = open_station(browser, live_server, english=True)
    log_in(page)
    page.wait_for_selector("#link.on")
    scan(page, "T-009")
    page.wait_for_selector("#panel[data-state=verify]")
    assert page.locator("#lines tbody tr").count() == 9
    fits_the_screen(page, "verify, nine lines")
    assert page.is_visible("#close")
    row = page.locator("tr[data-sku=LN-08]")
    assert not in_sight(page, row)  # below the list's box
    scan(page, "6910000000008")  # the last line: it scrolls into sight inside the list
    page.wait_for_selector("#banner.info[data-code=unit_verified]")
    page.wait_for_function("() => document.querySelector('tr[data-sku=\"LN-08\"]').dataset.verified === '1'")
    assert in_sight(page, row)
    fits_the_screen(page, "verify, nine lines, refused")
    page.screenshot(path=str(PACK_ARTIFACTS / "1_verify_nine_lines_en.png"))
    assert page.errors == []


def in_sight(page, row) -> bool:
    box, frame = row.bounding_box(), page.locator(".lines-box").bounding_box()
    return box["y"] >= frame["y"] - 1 and box["y"] + box["height"] <= frame["y"] + frame["height"] + 1
