"""The purchasing pages as the office and a supervisor use them, in a real browser (Debian
chromium, 1920x1080) against a live server, in both languages: a supervisor opens the list and a
submitted purchase order, approves it and sees its status change (and an order above the limit
refused in words); the office imports a PO file with a broken row and sees the row named.
Screenshots go to tests/artifacts/purchasing/. Both engines."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from server.models import Location, PurchaseOrderLine, Receipt
from server.models.receiving import Lpn
from server.services.purchasing import orders
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_office_browser import open_page as office_page
from tests.test_purchasing import buying  # noqa: F401
from tests.test_purchasing_pages import pos  # noqa: F401  (PO-D draft, PO-S / PO-BIG submitted, PO-A approved)

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "purchasing"
SCREEN = {"width": 1920, "height": 1080}
# words that must not be left in English on a Chinese page (statuses, steps, headings)
ENGLISH_LEFT = re.compile(r"\b(draft|submitted|approved|Waiting for approval|Purchase orders?|Suppliers?|In transit|"
                          r"Approve|Reject|Cancel|Close short|Import|Lines|Ordered|Received|Created)\b")


def open_page(browser, server, path, lang, user):
    page = office_page(browser, server, path, lang, user, screen=SCREEN)
    page.asked = []  # what the page asked before a step (accepted)
    page.on("dialog", lambda dialog: (page.asked.append(dialog.message), dialog.accept()))
    return page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fits(page):
    """Nothing wider than the screen, and no cell's text cut off."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= SCREEN["width"]
    cut = page.evaluate("""() => [...document.querySelectorAll('main td, main th, main button, main a, main .state')]
        .filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible')
        .map(el => el.textContent.trim())""")
    assert cut == []


def chinese_only(page):
    words = page.locator("main").inner_text()
    assert not ENGLISH_LEFT.search(words), ENGLISH_LEFT.search(words)[0]


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_a_supervisor_approves_a_submitted_order(live_server, pos, buying, browser, lang):
    page = open_page(browser, live_server, "/stock", lang, "u-supervisor")
    page.click("header nav a:text-is('Purchasing')" if lang == "en" else "header nav a:text-is('采购')")
    page.wait_for_selector("table.po-list")
    fits(page)
    if lang != "en":
        chinese_only(page)
    shot(page, f"list_{lang}")
    page.click("a:text-is('PO-S')")
    page.wait_for_selector("#steps")
    status = page.locator("#po-status")
    assert status.inner_text() == ("Waiting for approval" if lang == "en" else "待审批")
    fits(page)
    if lang != "en":
        chinese_only(page)
    shot(page, f"po_submitted_{lang}")
    page.click(".step-approve button")
    page.wait_for_selector("#steps .result.ok")
    assert page.locator("#po-status").inner_text() == ("Approved" if lang == "en" else "已审批")
    assert page.locator("#steps .result").inner_text() == (
        "Approved: the order's open units are now in transit." if lang == "en" else "已审批通过：未收数量已计入在途。")
    assert page.locator(".step-approve").count() == 0 and page.locator(".step-close").count() == 1
    assert orders.get("PO-S").status == "approved"
    shot(page, f"po_approved_{lang}")
    # above the supervisor's ¥20,000: refused, in words, the order still waiting
    page.goto(f"{live_server.url}/purchase-orders/PO-BIG")
    page.click(".step-approve button")
    page.wait_for_selector("#steps .result.error")
    refused = page.locator("#steps .result").inner_text()
    assert "¥30,000.00" in refused and "¥20,000.00" in refused
    assert page.locator("#po-status").inner_text() == ("Waiting for approval" if lang == "en" else "待审批")
    fits(page)
    shot(page, f"po_over_limit_{lang}")
    # the list shows the change and the new units in transit
    page.goto(f"{live_server.url}/purchase-orders")
    row = page.locator("tr[data-po='PO-S']")
    assert ("Approved" if lang == "en" else "已审批") in row.inner_text()
    assert "PO-S" in page.locator("table.in-transit-summary").inner_text()
    # the order to print for the dock, and the suppliers
    page.goto(f"{live_server.url}/purchase-orders/PO-S/print?noprint=1")
    box = page.locator(".barcode-box svg").bounding_box()
    assert box["width"] >= 130 and box["height"] >= 65  # at least 35 x 18 mm
    drawn = Image.open(io.BytesIO(page.locator(".barcode-box svg").screenshot()))
    found = zxingcpp.read_barcode(drawn)  # what the browser drew reads back as the order's code
    assert found is not None and found.format == zxingcpp.BarcodeFormat.Code128 and found.text == "PO-S"
    shot(page, f"po_print_{lang}")
    page.goto(f"{live_server.url}/suppliers")
    fits(page)
    if lang != "en":
        chinese_only(page)
    shot(page, f"suppliers_{lang}")
    page.click("a:text-is('SUP-A')")
    page.wait_for_selector("table.supplier-items")
    fits(page)
    shot(page, f"supplier_{lang}")
    # an order being received: its receipt and licence plates from the dock
    dock = Location.create(warehouse=buying["warehouse"], code="DOCK-1", kind="receiving")
    po = orders.get("PO-A")
    receipt = Receipt.create(code="RC-1", po=po, warehouse=buying["warehouse"], dock=dock)
    line = po.lines.order_by(PurchaseOrderLine.seq).first()
    Lpn.create(sscc="006901234500000017", receipt=receipt, po_line=line, product=line.product, lot="L2612",
               qty=12, status="qc_pending", location=dock, qc_plan="sample", aql="1.0")
    page.goto(f"{live_server.url}/purchase-orders/PO-A")
    assert "006901234500000017" in page.locator("table.lpns").inner_text()
    fits(page)
    if lang != "en":
        chinese_only(page)
    shot(page, f"po_receiving_{lang}")
    page.context.close()


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_the_office_imports_a_po_file_and_sees_the_broken_row_named(live_server, pos, browser, lang, tmp_path):
    path = tmp_path / "po-week49.csv"
    path.write_text("采购单号,供应商编码,仓库,商家编码,数量,采购价,预计到货日期\n"
                    "PO-N1,SUP-A,WH1,TS-01,48,,2026-12-18\n"
                    "PO-N1,SUP-A,WH1,MG-01,6,20.00,\n"
                    "PO-N2,SUP-A,WH1,TS-01,30,,\n", encoding="utf-8")
    page = open_page(browser, live_server, "/purchase-orders", lang, "u-office")
    picker = page.locator(".file-pick")
    assert ("Choose a file" if lang == "en" else "选择文件") in picker.inner_text()
    page.set_input_files("input[type=file]", str(path))
    assert page.locator(".file-name").inner_text() == "po-week49.csv"
    page.click(".import-form button")
    page.wait_for_selector(".import-report")
    assert page.url.endswith("#import")
    # the report is in view: the browser scrolls to the fragment once the page is laid out, which
    # may come a moment after the report is in the document
    page.wait_for_function("window.scrollY > 0", timeout=5000)
    report = page.locator(".import-report").inner_text()
    assert "po-week49.csv:4: qty: TS-01: 30 is not a whole number of packs of 12" in report
    assert ("purchase orders created 1, unchanged 0; rows refused 1" if lang == "en"
            else "新建 1 张，未变 0 张，拒绝 1 行") in report
    assert page.locator("tr[data-po='PO-N1']").count() == 1
    assert orders.get("PO-N1").status == "draft"
    page.locator(".import-report").scroll_into_view_if_needed()
    fits(page)
    shot(page, f"import_{lang}")
    # the office may not approve: no such step on a submitted order, the rest in its words
    page.goto(f"{live_server.url}/purchase-orders/PO-S")
    assert page.locator(".step-approve").count() == 0 and page.locator(".step-cancel").count() == 1
    page.fill(".step-cancel input[name=reason]", "duplicate" if lang == "en" else "重复下单")
    assert page.locator(".step-cancel button.danger").count() == 1
    page.click(".step-cancel button")
    page.wait_for_selector("#steps .result.ok")
    assert page.asked == ["Cancel this purchase order? Its open units are no longer in transit." if lang == "en"
                          else "确定取消此采购单？其未收数量不再计入在途。"]
    assert page.locator("#po-status").inner_text() == ("Cancelled" if lang == "en" else "已取消")
    shot(page, f"po_cancelled_{lang}")
    page.context.close()
