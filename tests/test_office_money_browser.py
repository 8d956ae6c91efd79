"""The office's money and customer pages in a real browser (Debian chromium, 1920x1080) against a
live server, in both languages, on the shared Tmall sample with the bill made for it: the margin
page and its chart, the finance page with the reconciliation and the vouchers, the customers page
and its tag chart. Nothing loads from outside the server and nothing is wider than the screen.
Screenshots go to tests/artifacts/office_money/. Both engines."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.test_finance_db import BILL_DIR, DAY, SAMPLE
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_office_browser import open_page

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "office_money"
SCREEN = {"width": 1920, "height": 1080}


@pytest.fixture
def tmall_month(db):
    """The shared sample's orders shipped from one warehouse at the catalogue's costs, a 5 %
    commission, the bill imported and reconciled, the day's vouchers made, customers derived."""
    from server.models import Order, Warehouse
    from server.services.customers import derive
    from server.services.finance import settlement, vouchers
    from server.services.money import lines, rates
    from server.services.orders import intake
    from server.services.stock import catalog
    catalog.import_products(SAMPLE / "products.csv")
    intake.import_files("tmall", [SAMPLE / "orders.csv", SAMPLE / "items.csv"])
    rates.set_fee_rate("commission", 500)
    warehouse = Warehouse.create(code="WH1", name="杭州仓")
    shipped = dt.datetime(2026, 11, 11, 8, 0)
    ids = [o.id for o in Order.select(Order.id)]
    lines.refresh_orders(ids, shipping={order_id: (warehouse.id, shipped) for order_id in ids})
    settlement.import_bill("alipay", "示例旗舰店", (BILL_DIR / "bill.csv").read_bytes(), name="bill.csv")
    vouchers.build_days(DAY, DAY + dt.timedelta(days=1))
    derive.refresh(dt.date(2026, 12, 6))


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_margin_finance_and_customers_pages(live_server, tmall_month, browser, lang):  # noqa: F811
    page = open_page(browser, live_server, "/money?group=sku&first=2026-11-01&last=2026-11-30", lang, "u-office",
                     screen=SCREEN)
    asked = []
    page.on("request", lambda r: asked.append(r.url))
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path, chart in [("/money?group=sku&first=2026-11-01&last=2026-11-30", "#money-chart canvas"),
                        ("/finance", None), ("/customers", "#customers-chart canvas")]:
        page.goto(f"{live_server.url}{path}")
        if chart:
            page.wait_for_selector(chart)
        assert "Traceback" not in page.content()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= SCREEN["width"], path
        page.screenshot(path=str(SHOTS / f"{path.split('?')[0].strip('/')}-{lang}.png"), full_page=True)
    assert asked and all(url.startswith(live_server.url) for url in asked)
