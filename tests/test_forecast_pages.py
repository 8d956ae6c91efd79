"""The forecast, stock alert and purchase plan pages render in both languages, for the roles that
may see them, and the plan's button writes draft purchase orders (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from tests.test_forecast_db import sales  # noqa: F401  (the fixture)


@pytest.fixture
def forecast_run(sales):  # noqa: F811
    from server.services.forecast import run
    from server.services.forecast.settings import Settings
    run.run(Settings())
    return sales


def login(client, role: str, lang: str):
    client.get(f"/lang/{lang}")
    response = client.post("/login", data={"user": f"u-{role}", "password": "secret-pass"})
    assert response.status_code == 302


@pytest.mark.parametrize("lang,words", [("en", ["Demand forecast", "Accuracy by class", "smooth", "Reorder point"]),
                                        ("zh_Hans_CN", ["需求预测", "各类型预测准确度", "平稳型", "再订货点"])])
def test_the_forecast_page_in_both_languages(client, people, forecast_run, lang, words):
    login(client, "picker", lang)  # stock.read: every role
    page = client.get("/forecast")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for word in words:
        assert word in html, word
    assert 'id="forecast-data"' in html and "vendor/echarts.min.js" in html
    assert 'data-sku="TS-01"' in html and 'data-sku="MG-01"' in html
    chosen = client.get("/forecast?sku=MG-01&chart_warehouse=WH1").get_data(as_text=True)
    assert "CrostonSBA" in chosen


@pytest.mark.parametrize("lang,word", [("en", "Stock-out risk"), ("zh_Hans_CN", "断货风险")])
def test_the_alerts_page_in_both_languages(client, people, forecast_run, lang, word):
    login(client, "office", lang)
    html = client.get("/stock-alerts").get_data(as_text=True)
    assert word in html and 'data-kind="stockout_risk"' in html
    assert ("supplier needs 7 days" if lang == "en" else "供应商交期 7 天") in html


@pytest.mark.parametrize("lang,words", [("en", ["Purchase plan", "Create draft purchase orders"]),
                                        ("zh_Hans_CN", ["采购计划", "生成采购单草稿"])])
def test_the_purchase_plan_page_and_its_button(client, people, forecast_run, lang, words):
    from server.models import PurchaseOrder
    login(client, "picker", lang)
    assert client.get("/purchase-plan").status_code == 403   # purchasing.read: office, supervisor, admin
    client.post("/logout")
    login(client, "office", lang)
    html = client.get("/purchase-plan").get_data(as_text=True)
    for word in words:
        assert word in html
    assert 'data-supplier="SUP-A"' in html and 'data-supplier="SUP-B"' in html
    made = client.post("/purchase-plan")
    assert made.status_code == 200
    assert PurchaseOrder.select().where(PurchaseOrder.status == "draft").count() == 2
    assert "PO-" in made.get_data(as_text=True)


def test_the_pages_need_a_login(client, db):
    for url in ("/forecast", "/stock-alerts", "/purchase-plan"):
        assert client.get(url).status_code in (302, 401)
