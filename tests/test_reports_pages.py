"""The report pages render every report in both languages with its chart data and table, their
xlsx exports open with the same rows, the API answers the same figures as the services, and each
page, export and API call checks its permission (margin and cost need finance.read too). Both
engines."""
from __future__ import annotations

import io
import random

import pytest

from tests.test_reports import SINCE, UNTIL, _make

PERIOD = f"since={SINCE.isoformat()}&until={UNTIL.isoformat()}"


@pytest.fixture
def data(db, people):
    with db.atomic():
        return _make(random.Random(28))


def login(client, role: str, lang: str):
    client.get(f"/lang/{lang}")
    response = client.post("/login", data={"user": f"u-{role}", "password": "secret-pass"})
    assert response.status_code == 302


TITLES = {"en": ("Sales trend", "SKU ranking", "Margin trend", "Logistics timeliness", "Return rate",
                 "Pick/pack productivity", "Inventory turnover"),
          "zh_Hans_CN": ("销售趋势", "商品排行", "毛利趋势", "物流时效", "退货率", "拣货/打包人效", "库存周转")}


def test_every_report_page_and_export_in_both_languages(client, data, token_for, monkeypatch):
    from openpyxl import load_workbook

    from server.services import reports
    for lang, titles in TITLES.items():
        login(client, "office", lang)
        for name, title in zip(reports.REPORTS, titles):
            page = client.get(f"/reports/{name}?{PERIOD}&grain=week")
            assert page.status_code == 200, name
            html = page.get_data(as_text=True)
            assert f"<h1>{title}</h1>" in html and 'id="report-data"' in html and "vendor/echarts.min.js" in html
            assert "{" + "{" not in html and "None" not in html.split('id="report-data"')[0], name
            export = client.get(f"/reports/{name}/export.xlsx?{PERIOD}")
            assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
            sheet = load_workbook(io.BytesIO(export.data)).worksheets[0]
            assert sheet["A1"].value == title
    # a period the wrong way round is refused in the page's language
    wrong = client.get("/reports/sales?since=2026-12-01&until=2026-11-01")
    assert wrong.status_code == 400 and ("800 天" if lang != "en" else "800 days") in wrong.get_data(as_text=True)
    # a region and a shop narrow the page
    html = client.get(f"/reports/sales?{PERIOD}&region=east&shop=tm-1").get_data(as_text=True)
    assert 'value="east" selected' in html and 'value="tm-1" selected' in html
    # the API gives the services' figures
    token = token_for("office")
    body = client.get(f"/api/v1/reports/skus?{PERIOD}&measure=units",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["report"] == "skus" and body["measure"] == "units" and body["rows"][0]["abc"] == "A"
    from server.services.reports import filters as flt
    direct = reports.run("skus", flt.make(SINCE, UNTIL), {"measure": "units"})
    assert [(r["sku"], r["units"], r["margin_fen"]) for r in body["rows"]] == [
        (r["sku"], r["units"], r["margin_fen"]) for r in direct["rows"]]
    assert client.get("/api/v1/reports/nothing", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    bad = client.get("/api/v1/reports/sales?since=2026-02-01&until=2026-01-01", headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400
    done = client.post("/api/v1/reports/refresh", json={"full": True}, headers={"Authorization": f"Bearer {token}"})
    assert done.status_code == 200 and done.get_json()["exact"] is True
    check_permissions(client, token_for, monkeypatch)


def test_the_reports_commands(db_url, data, tmp_path):
    import json

    from openpyxl import load_workbook

    from tests.test_cli import wavefloor
    done = json.loads(wavefloor(db_url, "reports", "refresh", "--full", tmp_path=tmp_path).stdout)
    assert done["full"] is True and done["rows"] > 0
    assert json.loads(wavefloor(db_url, "reports", "verify", tmp_path=tmp_path).stdout)["exact"] is True
    out = tmp_path / "skus.xlsx"
    shown = json.loads(wavefloor(db_url, "reports", "show", "skus", "--since", SINCE.isoformat(), "--until",
                                 UNTIL.isoformat(), "--region", "east", "--xlsx", str(out), "--lang", "en",
                                 tmp_path=tmp_path).stdout)
    assert shown["filters"]["region"] == "east" and shown["rows"]
    assert load_workbook(out).worksheets[0]["A1"].value == "SKU ranking"
    assert wavefloor(db_url, "reports", "show", "nothing", tmp_path=tmp_path, check=False).returncode != 0


def check_permissions(client, token_for, monkeypatch):
    """Each page, export and API call checks its permission; margin and cost need finance.read."""
    from server.services import auth
    login(client, "picker", "en")
    assert client.get("/reports/sales").status_code == 403
    assert client.get("/reports/sales/export.xlsx").status_code == 403
    assert client.get("/api/v1/reports/sales", headers={"Authorization": f"Bearer {token_for('picker')}"}
                      ).status_code == 403
    # a role with reports.read but not finance.read sees no margin or cost
    monkeypatch.setitem(auth.PERMISSIONS, "finance.read", {"admin"})
    token = token_for("office")
    assert client.get("/api/v1/reports/margin", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    rows = client.get(f"/api/v1/reports/skus?{PERIOD}", headers={"Authorization": f"Bearer {token}"}).get_json()["rows"]
    assert rows and all("margin_fen" not in r and "cogs_fen" not in r for r in rows)
    login(client, "office", "en")
    assert client.get("/reports/margin").status_code == 403
    html = client.get(f"/reports/skus?{PERIOD}").get_data(as_text=True)
    assert "Gross margin" not in html and "Margin trend" not in html
