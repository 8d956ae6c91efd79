"""The acceptance test of goods in on a handheld, in a real browser (Debian chromium, 360 px wide)
against a live server: a receiver logs in, receives a purchase order by wedge scans (a barcode,
a case code, a GS1 string with lot and expiry), is refused an over-receipt, prints the licence
plates' labels (at this test's own TCP 9100 listener, their GS1-128 SSCC decoded with zxing-cpp),
then puts a plate away at the suggested location. Screenshots in English and Chinese go to
tests/artifacts/receiving/. Both engines."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from server.models import Lpn, PurchaseOrder, PurchaseOrderLine, Quant, StockMove
from server.services import printing
from server.services.stock import inventory
from tests.receiving_floor import GS1_TEE, Listener, goods_in
from tests.test_handheld_browser import browser, state_of, wedge  # noqa: F401  (the fixture)
from tests.test_handheld_browser import scan_answered as answered
from tests.test_realtime import Device, pin_login

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "receiving"


def open_handheld(browser, server, user, device_code):  # noqa: F811
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server.url}/handheld/")
    page.get_by_test_id("login-user").fill(user)
    page.get_by_test_id("login-pin").fill("2468")
    page.get_by_test_id("login-device").fill(device_code)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector("[data-testid=link][data-online=true]")
    return context, page


def shoot(page, name, *, both=True):
    """A screenshot in the page's language and, with ``both``, one in the other language (the
    screen redrawn by the server's ``current``), then back."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    first = page.evaluate("document.documentElement.lang")
    page.screenshot(path=str(SHOTS / f"{name}_{'zh' if first == 'zh-CN' else 'en'}.png"))
    if not both:
        return
    page.click("#lang")
    page.wait_for_function("l => document.documentElement.lang !== l", arg=first)
    page.wait_for_timeout(300)  # the redraw of `current`
    page.screenshot(path=str(SHOTS / f"{name}_{'en' if first == 'zh-CN' else 'zh'}.png"))
    page.click("#lang")
    page.wait_for_function("l => document.documentElement.lang === l", arg=first)
    page.wait_for_timeout(300)


def decoded_ssccs(labels: list[str]) -> list[str]:
    zplkit = pytest.importorskip("zplkit")
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image
    found = []
    for zpl in labels:
        document = zplkit.render(zpl.encode("utf-8"), zplkit.Options(profile="zd621", dpi=203))
        raster = document.labels[0].rasterize()
        image = Image.frombytes("L", (raster.width, raster.height), raster.pixels)
        for result in zxingcpp.read_barcodes(image, formats=(zxingcpp.BarcodeFormat.Code128,),
                                             text_mode=zxingcpp.TextMode.Plain):
            assert result.symbology_identifier == "]C1"  # GS1-128: FNC1 in first position
            found.append(result.text)
    return found


def test_a_receiver_receives_a_po_prints_labels_and_puts_a_plate_away(live_server, browser,  # noqa: F811
                                                                      small_warehouse):
    floor = goods_in(small_warehouse)
    listener = Listener()
    printing.save_printer("ZD-DOCK1", {"url": f"tcp://127.0.0.1:{listener.port}", "station": "DOCK-1",
                                       "cjk": "raster"}, inventory.system_actor())
    wall = Device(live_server, pin_login(live_server, "u-supervisor", "WALL-1"))
    context, page = open_handheld(browser, live_server, "u-receiver", "HH-R1")
    try:
        assert page.viewport_size["width"] == 360
        # a receiver has two kinds of work: the menu
        page.wait_for_selector("[data-testid=menu-receiving]")
        assert page.locator("[data-testid=menu-picking]").count() == 0
        shoot(page, "01_menu")
        page.get_by_test_id("menu-receiving").click()
        page.wait_for_selector("main[data-state=start] [data-testid=prompt]")
        answered(page, "PO-001")
        page.wait_for_selector("main[data-state=scan_item]")
        assert page.get_by_test_id("receipt-po").inner_text() == "PO-001"
        shoot(page, "02_scan_item")

        answered(page, "6900000000014")             # the tee's barcode: 1
        page.wait_for_selector("main[data-state=qty]")
        page.reload()                               # open work wins over the menu: back to the receipt
        page.wait_for_selector("main[data-state=qty]")
        page.wait_for_selector("[data-testid=link][data-online=true]")
        assert page.get_by_test_id("count").inner_text() == "1"
        answered(page, "16900000000011")            # its case code: 12 more
        assert page.get_by_test_id("count").inner_text() == "13"
        answered(page, "16900000000011")
        assert page.get_by_test_id("count").inner_text() == "25"
        shoot(page, "03_qty")
        answered(page, "16900000000011")            # 37 > 24 + 10 %: refused
        page.wait_for_selector("#message[data-code=over_receipt]")
        assert state_of(page) == "qty" and page.get_by_test_id("count").inner_text() == "25"
        assert "1" in page.inner_text("#message")
        shoot(page, "04_over_receipt", both=False)
        page.click("#lang")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        answered(page, "16900000000011")
        page.wait_for_selector("#message[data-code=over_receipt]")
        assert "at most 1 more" in page.inner_text("#message")
        shoot(page, "04_over_receipt", both=False)
        answered(page, "NOPE-42")
        page.wait_for_selector("#message[data-code=unknown_barcode]")
        assert "NOPE-42" in page.inner_text("#message")
        page.click("#lang")
        page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")

        answered(page, GS1_TEE)                     # GS1 with lot and expiry: a plate of its own
        page.wait_for_selector("[data-testid=lot]")
        assert "L2406A" in page.get_by_test_id("lot").inner_text()
        assert "2027-06-30" in page.get_by_test_id("lot").inner_text()
        page.get_by_test_id("print_label").click()  # that plate's label
        page.wait_for_selector("#message[data-code=lpn_labelled]")
        page.wait_for_selector("main[data-state=scan_item]")
        shoot(page, "05_labelled", both=False)
        # the wall shows the open receipt's units received against ordered
        wall_page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        wall_page.goto(f"{live_server.url}/wall?token={pin_login(live_server, 'u-supervisor', 'WALL-2')}")
        wall_page.wait_for_function("() => document.getElementById('goods-in').textContent === '26'")
        assert wall_page.inner_text("#goods-in-ordered") == "/ 34"
        assert wall_page.inner_text("#goods-in-open") == "· 1 张入库单进行中"
        wall_page.screenshot(path=str(SHOTS / "wall_goods_in_zh.png"))
        wall_page.goto(f"{live_server.url}/wall?lang=en")
        wall_page.wait_for_function("() => document.getElementById('goods-in').textContent === '26'")
        assert wall_page.inner_text("#goods-in-open") == "· 1 receipt open"
        wall_page.screenshot(path=str(SHOTS / "wall_goods_in_en.png"))
        wall_page.context.close()
        page.get_by_test_id("finish").click()       # the rest of the order stays in transit
        page.get_by_test_id("finish-confirm").click()
        page.wait_for_selector("[data-testid=finished]")
        shoot(page, "06_finished")

        # both labels reach the dock's printer; their barcodes are the plates' SSCCs
        deadline = time.time() + 20
        while len(listener.labels()) < 2 and time.time() < deadline:
            time.sleep(0.1)
        labels = listener.labels()
        plates = {p.lot: p for p in Lpn.select()}
        assert sorted(decoded_ssccs(labels)) == sorted("00" + p.sscc for p in plates.values())
        assert {(p.qty, p.status) for p in plates.values()} == {(25, "ready"), (1, "ready")}
        po = PurchaseOrder.get_by_id(floor["po"].id)
        assert po.status == "partially_received"
        assert PurchaseOrderLine.get(PurchaseOrderLine.product == floor["tee"]).received_qty == 26

        # put the 25 tees away: the plate's label scanned as its barcode reads ("00" + SSCC)
        page.get_by_test_id("menu").click()
        page.get_by_test_id("menu-putaway").click()
        page.wait_for_selector("[data-testid=waiting]")
        shoot(page, "07_putaway_list")
        tees = plates[""]
        answered(page, "00" + tees.sscc)
        page.wait_for_selector("main[data-state=scan_location]")
        suggested = page.get_by_test_id("suggested").inner_text()
        assert suggested == "A-01"  # the tee's pick face, room for 40
        shoot(page, "08_scan_location")
        answered(page, suggested)
        page.wait_for_selector("main[data-state=confirm_qty]")
        shoot(page, "09_confirm_qty")
        page.get_by_test_id("confirm").click()
        page.wait_for_selector("[data-testid=stored]")
        assert "A-01" in page.get_by_test_id("stored").inner_text()
        shoot(page, "10_stored")

        with wall.arrived:
            wall.arrived.wait_for(lambda: any(e == "receipt.progress" and d["units_received"] == 26
                                              for e, d in wall.events), 10)
    finally:
        context.close()
        wall.close()
        listener.close()
    tees = Lpn.get_by_id(tees.id)
    assert (tees.status, tees.location.code) == ("stored", "A-01")
    a01 = Quant.get((Quant.location == floor["locations"]["A-01"]) & (Quant.product == floor["tee"]))
    assert (a01.qty, a01.state) == (25, "available")
    assert StockMove.get(StockMove.reason == "putaway").ref == f"lpn:{tees.sscc}"
    assert inventory.audit() == []
