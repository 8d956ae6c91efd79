"""The forecast page in a real browser (Debian chromium, 1920x1080) against a live server, in both
languages: the ECharts chart draws one SKU's actual demand against its forecast from the locally
served library, the class table and the SKU list fit the screen; the alerts and purchase plan
pages too. Screenshots go to tests/artifacts/forecast/. Both engines."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_forecast_db import sales  # noqa: F401  (the fixture)
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_office_browser import open_page

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "forecast"
SCREEN = {"width": 1920, "height": 1080}


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.mark.parametrize("lang,title", [("en", "Demand forecast"), ("zh_Hans_CN", "需求预测")])
def test_the_forecast_page_draws_actual_against_forecast(live_server, sales, browser, lang, title):  # noqa: F811
    from server.services.forecast import run
    from server.services.forecast.settings import Settings
    run.run(Settings())
    page = open_page(browser, live_server, "/forecast?sku=TS-01&chart_warehouse=WH1", lang, "u-office", screen=SCREEN)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.reload()
    page.wait_for_selector("#forecast-chart[data-ready='1']")
    assert page.locator("h1").inner_text() == title
    drawn = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('forecast-chart'));
        const option = chart.getOption();
        return {series: option.series.map(s => s.data.filter(v => v !== null && v !== undefined).length),
                width: chart.getWidth(), height: chart.getHeight()};
    }""")
    # 120 days of actual demand, 28 held out, 28 ahead
    assert drawn["series"] == [120, 28, 28] and drawn["width"] > 600 and drawn["height"] >= 300
    # the canvas has ink on it, not only its background
    inked = page.evaluate("""() => {
        const canvas = document.querySelector('#forecast-chart canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let coloured = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && !(data[i] > 240 && data[i + 1] > 240 && data[i + 2] > 240)) coloured++;
        return coloured;
    }""")
    assert inked > 5000
    assert all(url.startswith(live_server.url) for url in requests), [u for u in requests if not u.startswith(live_server.url)]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= SCREEN["width"]
    assert page.locator("table.class-table tbody tr").count() == 2
    shot(page, f"forecast-{lang}")
    page.goto(f"{live_server.url}/stock-alerts")
    assert page.locator("tr[data-kind='stockout_risk']").count() >= 1
    shot(page, f"stock-alerts-{lang}")
    page.goto(f"{live_server.url}/purchase-plan")
    assert page.locator("section.supplier-group").count() == 2
    shot(page, f"purchase-plan-{lang}")
