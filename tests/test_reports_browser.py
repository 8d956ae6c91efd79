"""The report pages in a real browser (Debian chromium, 1920x1080) against a live server, in both
languages: each report's ECharts chart draws from the locally served library (nothing from the
internet), has ink on its canvas, and the page fits the screen's width. Screenshots go to
tests/artifacts/reports/. Both engines."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_office_browser import open_page
from tests.test_reports import SINCE, UNTIL, _make

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "reports"
SCREEN = {"width": 1920, "height": 1080}
PERIOD = f"since={SINCE.isoformat()}&until={UNTIL.isoformat()}"
INKED = """() => {
    const canvas = document.querySelector('#report-chart canvas');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let coloured = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && !(data[i] > 240 && data[i + 1] > 240 && data[i + 2] > 240)) coloured++;
    return coloured;
}"""


@pytest.fixture
def report_data(db, people):
    with db.atomic():
        return _make(random.Random(28))


@pytest.mark.parametrize("lang,title", [("en", "Sales trend"), ("zh_Hans_CN", "销售趋势")])
def test_every_report_page_draws_its_chart(live_server, report_data, browser, lang, title):  # noqa: F811
    from server.services import reports
    page = open_page(browser, live_server, f"/reports/sales?{PERIOD}", lang, "u-office", screen=SCREEN)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    for name in reports.REPORTS:
        page.goto(f"{live_server.url}/reports/{name}?{PERIOD}" + ("&grain=week" if name == "margin" else ""))
        page.wait_for_selector("#report-chart[data-ready='1']")
        if name == "sales":
            assert page.locator("h1").inner_text() == title
        assert page.evaluate(INKED) > 2000, name
        size = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert size[0] <= size[1], f"{name} is wider than the screen: {size}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{'en' if lang == 'en' else 'zh'}.png"), full_page=False)
    assert all(url.startswith(live_server.url) for url in requests), [u for u in requests
                                                                       if not u.startswith(live_server.url)]
