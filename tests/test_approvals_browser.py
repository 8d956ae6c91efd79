"""The approvals page in a real browser (Debian chromium, 1920x1080) against a live server, in
both languages: what waits for the supervisor, approving one with a comment, the request list
with its decisions and the flow table. Screenshots go to tests/artifacts/approvals/. Both engines."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.models import ApprovalRequest, Product
from server.services.approvals import flows
from server.services.purchasing import orders
from server.services.stock import catalog, desk
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_office_browser import open_page
from tests.test_purchasing import _po, buying  # noqa: F401  (two suppliers, WH1, TS-01 and MG-01)

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "approvals"


@pytest.mark.parametrize("lang,waiting,approved", [("en", "Waiting for you", "approved"),
                                                   ("zh_Hans_CN", "待我审批", "已通过")])
def test_a_supervisor_approves_from_the_page(live_server, buying, browser, lang, waiting, approved):  # noqa: F811
    flows.set_flow("purchase_order", [["supervisor"], ["admin"]], 1_000_000, buying["admin"])
    flows.set_flow("stock_adjustment", [["supervisor"]], 5_000, buying["admin"])
    flows.set_flow("price_change", [["supervisor", "admin"]], 0, buying["admin"])
    Product.update(cost_fen=2500).where(Product.sku == "TS-01").execute()
    po = _po(buying, [{"sku": "TS-01", "qty": 1200, "unit_cost_fen": 2000}])
    orders.submit(po.code, buying["office"])
    adjustment = desk.adjust(actor=buying["office"], sku="TS-01", location="A-01", delta=12, reason="found")
    catalog.upsert("MG-01", {"price_fen": 4500}, actor=buying["office"])

    page = open_page(browser, live_server, "/approvals", lang, "u-supervisor")
    assert waiting in page.locator("h2").first.inner_text()
    assert page.locator("table.waiting tr[data-request]").count() == 3
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"approvals-{lang}.png"), full_page=True)
    row = page.locator(f"table.waiting tr[data-request='{adjustment.id}']")
    row.locator("input[name=comment]").fill("复盘确认")
    row.locator("button[value=approve]").click()
    page.wait_for_selector(f"[data-done='{adjustment.id}']")
    assert approved in page.locator(f"[data-done='{adjustment.id}']").inner_text()
    assert ApprovalRequest.get_by_id(adjustment.id).status == "approved"
    assert page.locator("table.waiting tr[data-request]").count() == 2
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1920
    page.screenshot(path=str(SHOTS / f"approvals-after-{lang}.png"), full_page=True)
