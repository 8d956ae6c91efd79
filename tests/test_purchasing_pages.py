"""The office's purchasing pages, on both engines: the purchase orders with the stock in transit,
one order with its lines, history, receipts and the steps its state and the user's role allow,
the printable order with its code as a Code 128 barcode that reads back, the suppliers with the
phone masked for a role without pii.read, and the PO CSV upload naming each bad row."""
from __future__ import annotations

import datetime as dt
import html
import io
import re
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from server.models import Location, PurchaseOrderLine, Receipt
from server.models.receiving import Lpn
from server.services import auth
from server.services.purchasing import orders
from server.services.stock import inventory
from tests.test_purchasing import buying  # noqa: F401  (two suppliers, WH1, TS-01 and MG-01)


def login(client, role, lang="zh_Hans_CN"):
    client.post("/logout")
    client.get(f"/lang/{lang}")
    answer = client.post("/login", data={"user": f"u-{role}", "password": "secret-pass"})
    assert answer.status_code == 302, answer.data.decode()[:500]


def page(client, path, status=200):
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.status_code, answer.data.decode()[:800])
    shown = html.unescape(answer.data.decode())
    words = re.sub(r"<(style|script)>.*?</\1>", "", shown, flags=re.S)
    assert "built-in method" not in words and ">None<" not in words and "{" not in words  # no template left raw
    return shown


@pytest.fixture
def pos(buying):
    """PO-D draft, PO-S submitted, PO-A approved (in transit), PO-BIG submitted above ¥20,000."""
    office = buying["office"]
    made = {}
    for code, lines in (("PO-D", [{"sku": "MG-01", "qty": 5}]), ("PO-S", [{"sku": "TS-01", "qty": 48}]),
                        ("PO-A", [{"sku": "TS-01", "qty": 24, "expected_on": "2026-12-20"},
                                  {"sku": "MG-01", "qty": 6}]),
                        ("PO-BIG", [{"sku": "TS-01", "qty": 1200}])):
        made[code] = orders.create("SUP-A", "WH1", lines, office, code=code)
    for code in ("PO-S", "PO-A", "PO-BIG"):
        orders.submit(code, office)
    orders.approve("PO-A", buying["admin"])
    return made


def test_each_page_renders_for_office_and_supervisor_and_is_refused_for_a_picker(client, pos):
    paths = ["/purchase-orders", "/purchase-orders/PO-A", "/purchase-orders/PO-A/print?noprint=1", "/suppliers",
             "/suppliers/SUP-A"]
    for role in ("office", "supervisor"):
        login(client, role)
        listing = page(client, "/purchase-orders")
        assert all(code in listing for code in ("PO-D", "PO-S", "PO-A", "PO-BIG"))
        assert "待审批" in listing and "已审批" in listing and "草稿" in listing and ">submitted<" not in listing
        assert "¥708.00" in listing and "¥30,000.00" in listing  # 24 × ¥25 + 6 × ¥18; 1200 × ¥25
        assert 'href="/purchase-orders"' in listing  # the header link 采购
        one = page(client, "/purchase-orders/PO-A")
        assert "TS-01" in one and "纯棉T恤 白 M" in one and "¥25.00" in one and "¥708.00" in one
        assert "审批通过" in one and "创建" in one  # the history, in words
        assert "fen" not in one and "->" not in one
        for path in paths[2:]:
            page(client, path)
    login(client, "picker")
    for path in paths:
        assert client.get(path).status_code == 403, path
    assert client.post("/purchase-orders/PO-S/approve").status_code == 403
    assert orders.get("PO-S").status == "submitted"
    assert 'href="/purchase-orders"' not in page(client, "/stock")


def test_both_languages_and_local_times(app, client, pos):
    login(client, "office", "en")
    listing = page(client, "/purchase-orders")
    assert "Waiting for approval" in listing and "Purchasing" in listing and "In transit" in listing
    assert "待审批" not in listing
    created = orders.get("PO-A").created_at.replace(tzinfo=dt.timezone.utc)
    zone = ZoneInfo(app.config["WF"]["TIMEZONE"])  # the warehouse's (Asia/Shanghai), not UTC
    assert zone.utcoffset(created.replace(tzinfo=None)) != dt.timedelta(0)
    assert created.astimezone(zone).strftime("%Y-%m-%d %H:%M") in listing
    assert created.strftime("%Y-%m-%d %H:%M") not in listing


def test_in_transit_summary_and_the_stock_page_links_to_it(client, pos):
    login(client, "office")
    listing = page(client, "/purchase-orders")
    summary = listing[listing.index('class="in-transit-summary"'):]
    rows = re.findall(r"<tr><td class=\"nowrap\"><a [^>]*>([^<]+)</a></td><td>[^<]*</td>\s*<td>(\w+)</td>"
                      r"<td class=\"n\">(\d+)</td><td class=\"nowrap\">([^<]+)</td>", summary)
    assert rows == [("MG-01", "WH1", "6", "未定"), ("TS-01", "WH1", "24", "2026-12-20")]
    stock = page(client, "/stock?q=TS-01")
    assert 'href="/purchase-orders#in-transit"' in stock and 'href="/purchase-orders/PO-A"' in stock


def test_filters_by_status_and_supplier(client, pos):
    login(client, "office")
    submitted = page(client, "/purchase-orders?status=submitted")
    assert 'data-po="PO-S"' in submitted and 'data-po="PO-D"' not in submitted
    assert 'data-po="PO-A"' not in page(client, "/purchase-orders?supplier=SUP-B")
    assert 'data-po="PO-A"' in page(client, "/purchase-orders?supplier=SUP-A&status=approved")
    assert "没有符合条件的采购单" in page(client, "/purchase-orders?supplier=SUP-B")


def forms(html):
    return set(re.findall(r'class="step step-(\w+)"', html))


def test_only_the_steps_the_role_and_state_allow_are_shown(client, pos):
    login(client, "office")
    assert forms(page(client, "/purchase-orders/PO-D")) == {"submit", "cancel"}
    assert forms(page(client, "/purchase-orders/PO-S")) == {"cancel"}  # the office may not approve
    assert forms(page(client, "/purchase-orders/PO-A")) == {"close", "cancel"}
    login(client, "supervisor")
    assert forms(page(client, "/purchase-orders/PO-S")) == {"approve", "reject", "cancel"}
    approved = page(client, "/purchase-orders/PO-A")
    assert 'name="reason" maxlength="200" required' in approved  # cancelling an approved order needs a reason
    assert 'class="danger"' in approved and "data-confirm" in approved
    orders.cancel("PO-D", inventory.system_actor())
    assert forms(page(client, "/purchase-orders/PO-D")) == set()


def test_steps_answer_in_words_and_over_limit_is_refused(client, pos):
    login(client, "office")
    answer = client.post("/purchase-orders/PO-S/approve")  # not the office's to do
    assert "error=forbidden" in answer.headers["Location"]
    assert "无权" in page(client, answer.headers["Location"])
    answer = client.post("/purchase-orders/PO-D/submit")
    assert orders.get("PO-D").status == "submitted"
    assert "已提交审批" in page(client, answer.headers["Location"])
    login(client, "supervisor", "en")
    shown = page(client, client.post("/purchase-orders/PO-BIG/approve").headers["Location"])
    assert ("Not approved: the order's total ¥30,000.00 is above your approval limit of ¥20,000.00" in shown)
    assert orders.get("PO-BIG").status == "submitted" and "Approval refused" in shown
    assert "You may approve up to ¥20,000.00." in shown
    shown = page(client, client.post("/purchase-orders/PO-S/approve").headers["Location"])
    assert "Approved: the order's open units are now in transit." in shown and orders.get("PO-S").status == "approved"
    assert "as supervisor" in shown
    shown = page(client, client.post("/purchase-orders/PO-D/reject", data={"reason": ""}).headers["Location"])
    assert "Give a reason." in shown and orders.get("PO-D").status == "submitted"
    shown = page(client, client.post("/purchase-orders/PO-D/reject", data={"reason": "wrong mugs"}).headers["Location"])
    assert "Rejected" in shown and "wrong mugs" in shown and orders.get("PO-D").status == "draft"
    shown = page(client, client.post("/purchase-orders/PO-A/close", data={"reason": "supplier out of stock"})
                 .headers["Location"])
    assert "Closed short." in shown and "30 units short: supplier out of stock" in shown
    assert orders.get("PO-A").status == "closed_short"
    shown = page(client, client.post("/purchase-orders/PO-A/cancel").headers["Location"])
    assert "This step is not allowed now." in shown
    shown = page(client, client.post("/purchase-orders/PO-S/cancel", data={"reason": "double order"})
                 .headers["Location"])
    assert "Cancelled." in shown and orders.get("PO-S").status == "cancelled"
    assert client.post("/purchase-orders/PO-S/explode").status_code == 404
    assert page(client, "/purchase-orders/NOPE", 404)


def test_receipts_and_licence_plates_of_an_order_are_shown(client, pos, buying):
    dock = Location.create(warehouse=buying["warehouse"], code="DOCK-1", kind="receiving")
    po = orders.get("PO-A")
    receipt = Receipt.create(code="RC-1", po=po, warehouse=buying["warehouse"], dock=dock, user=buying["admin"].user_id)
    line = po.lines.order_by(PurchaseOrderLine.seq).first()
    Lpn.create(sscc="006901234500000017", receipt=receipt, po_line=line, product=line.product, lot="L1", qty=12,
               status="qc_pending", location=dock, qc_plan="sample", aql="1.0")
    login(client, "office")
    shown = page(client, "/purchase-orders/PO-A")
    assert "RC-1" in shown and "DOCK-1" in shown and "收货中" in shown
    assert "006901234500000017" in shown and "待质检" in shown and "抽检" in shown


def test_suppliers_with_the_phone_masked_without_pii_read(client, pos, monkeypatch):
    login(client, "office")
    listing = page(client, "/suppliers")
    assert "13912345678" in listing and "杭州织造" in listing and "5 天" in listing and "10%" in listing
    assert "抽检 · AQL 1.0" in listing
    one = page(client, "/suppliers/SUP-A")
    assert "¥25.00" in one and ">24<" in one and ">12<" in one and "PO-A" in one
    monkeypatch.setitem(auth.PERMISSIONS, "pii.read", {"admin", "supervisor"})
    listing = page(client, "/suppliers")
    assert "13912345678" not in listing and "139****5678" in listing
    assert "139****5678" in page(client, "/suppliers/SUP-A")
    assert "13912345678" not in page(client, "/suppliers/SUP-A")
    login(client, "supervisor")
    assert "13912345678" in page(client, "/suppliers")
    assert page(client, "/suppliers/NOPE", 404)


def upload(client, name, text, submit=False):
    data = {"file": (io.BytesIO(text.encode("utf-8")), name)}
    if submit:
        data["submit"] = "1"
    return client.post("/purchase-orders/import", data=data, content_type="multipart/form-data")


def test_the_csv_upload_names_each_bad_row_and_takes_the_good_ones(client, pos):
    login(client, "office")
    answer = upload(client, "po-week49.csv",
                    "采购单号,供应商编码,仓库,商家编码,数量,采购价,预计到货日期\n"
                    "PO-N1,SUP-A,WH1,TS-01,48,,2026-12-18\n"
                    "PO-N1,SUP-A,WH1,MG-01,6,20.00,\n"
                    "PO-N2,SUP-A,WH1,TS-01,30,,\n", submit=True)
    assert answer.status_code == 422
    shown = answer.data.decode()
    assert "po-week49.csv：新建 1 张，未变 0 张，拒绝 1 行" in shown
    assert "po-week49.csv:4: qty: TS-01: 30 is not a whole number of packs of 12" in shown
    assert orders.get("PO-N1").status == "submitted" and 'data-po="PO-N1"' in shown
    good = upload(client, "more.csv", "po,supplier,warehouse,sku,qty\nPO-N3,SUP-B,WH1,MG-01,10\n")
    assert good.status_code == 200 and "more.csv：新建 1 张，未变 0 张，拒绝 0 行" in good.data.decode()
    assert orders.get("PO-N3").status == "draft"
    broken = upload(client, "../../etc/passwd", "po,supplier\nX,SUP-A\n")
    assert "passwd:1: missing column(s)" in broken.data.decode()
    assert client.post("/purchase-orders/import", data={}, content_type="multipart/form-data").status_code == 400
    # the language links of the report's page lead back to the list
    assert 'href="/lang/en?next=/purchase-orders/import?"' in broken.data.decode()
    assert client.get("/purchase-orders/import").headers["Location"] == "/purchase-orders#import"
    login(client, "supervisor")
    login(client, "picker")
    assert upload(client, "x.csv", "po\n").status_code == 403


def decode_svg(svg: str) -> str:
    """Draw the SVG's bars (its path of rectangles) and read them back as a scanner would."""
    width, height = map(int, re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    scale = 4
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, bar, h in re.findall(r"M(\d+) 0h(\d+)v(\d+)h-\d+Z", svg):
        draw.rectangle([int(x) * scale, 0, (int(x) + int(bar)) * scale - 1, int(h) * scale], fill=0)
    found = zxingcpp.read_barcode(image)
    assert found is not None and found.format == zxingcpp.BarcodeFormat.Code128
    return found.text


def test_the_printable_order_carries_its_code_as_a_code_128_barcode(client, pos, buying):
    login(client, "office")
    shown = page(client, "/purchase-orders/PO-A/print")
    svg = shown[shown.index("<svg"):shown.index("</svg>") + 6]
    assert decode_svg(svg) == "PO-A"
    assert not re.search(r'(src|href)="(https?:)?//', shown) and "http://www.w3.org/2000/svg" in svg
    assert "¥708.00" in shown
    orders.create("SUP-B", "WH1", [{"sku": "MG-01", "qty": 10}], buying["office"], code="PO-BLIND")
    blind = page(client, "/purchase-orders/PO-BLIND/print")
    assert "盲收" in blind and "实收数量" in blind and ">10<" not in blind
