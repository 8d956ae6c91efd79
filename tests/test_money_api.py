"""Money over HTTP (finance.read to read, finance.write to change) and the ``wavefloor money``
command line, on both engines."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys

from server.models import Location, PurchaseOrder, Supplier
from server.services.money import costing
from server.services.money import lines as line_money
from server.services.stock import inventory
from tests.conftest import ROOT
from tests.test_money import DAY, money_of, ship, tmall_order
from tests.test_money import shop  # noqa: F401  (fixture)
from tests.test_refresh_runs import finished


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_reading_needs_finance_read_and_changing_finance_write(client, token_for, shop):  # noqa: F811
    """Line money, charges, rates, margins, unit costs, stock value and inbound freight."""
    tee, mug, wh = shop["tee"], shop["mug"], shop["warehouse"]
    order = tmall_order("A1", [(tee, 2, 5900), (mug, 1, 3900)], paid_fen=15000, coupon_fen=200, warehouse=wh)
    office, supervisor, picker = (bearer(token_for(r)) for r in ("office", "supervisor", "picker"))

    assert client.post("/api/v1/money/refresh", json={"first": DAY.isoformat()}, headers=supervisor).status_code == 403
    made = client.post("/api/v1/money/refresh", json={"first": DAY.isoformat()}, headers=office)
    assert made.status_code == 202   # in a process of its own (tests/test_refresh_runs.py): poll it
    assert finished(client, made.headers["Location"], office)["result"] == {"first": "2026-11-11",
                                                                             "last": "2026-11-11",
                                                                             "orders": 1, "lines": 2}
    assert client.get(f"/api/v1/money/orders/{order.id}", headers=picker).status_code == 403
    seen = client.get(f"/api/v1/money/orders/{order.id}", headers=supervisor)
    assert seen.status_code == 200
    body = seen.get_json()
    assert [line["sku_code"] for line in body["lines"]] == ["TS-01", "MG-01"]
    assert sum(line["paid_fen"] for line in body["lines"]) == 15000
    assert sum(line["platform_subsidy_fen"] for line in body["lines"]) == 200
    assert body["lines"][0]["updated_at"].endswith("+00:00") and body["lines"][0]["cogs_fen"] is None

    charge = {"kind": "freight_paid", "fen": 650, "payer": "carrier", "name": "圆通月结"}
    assert client.post(f"/api/v1/money/orders/{order.id}/charges", json=charge, headers=supervisor).status_code == 403
    added = client.post(f"/api/v1/money/orders/{order.id}/charges", json=charge, headers=office)
    assert added.status_code == 201 and added.get_json()["fen"] == 650
    assert sum(r.freight_paid_fen for r in money_of(order)) == 650
    bad = client.post(f"/api/v1/money/orders/{order.id}/charges", json={"kind": "tip", "fen": 1}, headers=office)
    assert bad.status_code in (400, 422)
    assert client.post("/api/v1/money/orders/999999/charges", json=charge, headers=office).status_code == 404
    cleared = client.delete(f"/api/v1/money/orders/{order.id}/charges?kind=freight_paid", headers=office)
    assert cleared.get_json() == {"removed": 1}

    rate = {"kind": "commission", "shop": "tm1", "category": "家居", "rate_bp": 300}
    assert client.put("/api/v1/money/rates/fees", json=rate, headers=supervisor).status_code == 403
    put = client.put("/api/v1/money/rates/fees", json=rate, headers=office)
    assert put.status_code == 200 and put.get_json()["rate_bp"] == 300
    listed = client.get("/api/v1/money/rates", headers=supervisor).get_json()
    assert {(r["shop"], r["category"], r["rate_bp"]) for r in listed["fees"]} >= {("tm1", "家居", 300),
                                                                                   ("tm1", "服装", 500)}
    assert listed["freight"][0]["carrier"] == "yto"
    assert client.delete(f"/api/v1/money/rates/fees/{put.get_json()['id']}", headers=office).status_code == 204
    assert client.delete(f"/api/v1/money/rates/fees/{put.get_json()['id']}", headers=office).status_code == 404
    freight = client.put("/api/v1/money/rates/freight", json={"carrier": "sf", "first_fen": 1200}, headers=office)
    assert freight.status_code == 200 and freight.get_json()["step_g"] == 1000

    pack = Location.create(warehouse=wh, code="PK-1", kind="pack")
    ship(order, pack)
    by_sku = client.get("/api/v1/money/margin?group=sku&shipped=true", headers=supervisor).get_json()
    assert {row["sku"] for row in by_sku["items"]} == {"TS-01", "MG-01"}
    assert by_sku["totals"]["margin_fen"] == sum(r.margin_fen for r in money_of(order))
    assert client.get("/api/v1/money/margin?group=colour", headers=supervisor).status_code in (400, 422)
    assert client.get("/api/v1/money/margin", headers=picker).status_code == 403

    # unit costs, stock value, inbound freight
    put = client.put("/api/v1/money/unit-costs/TS-01", json={"warehouse": "WH1", "unit_cost_fen": 2345}, headers=office)
    assert put.status_code == 200 and put.get_json()["unit_cost_fen"] == 2345
    assert put.get_json()["history"][0]["reason"] == "set"
    assert client.put("/api/v1/money/unit-costs/TS-01", json={"warehouse": "WH1", "unit_cost_fen": 1},
                      headers=supervisor).status_code == 403
    assert client.get("/api/v1/money/unit-costs/NOPE?warehouse=WH1", headers=supervisor).status_code == 404
    costs = client.get("/api/v1/money/unit-costs?warehouse=WH1", headers=supervisor).get_json()["items"]
    assert [(c["sku"], c["unit_cost_fen"]) for c in costs] == [("TS-01", 2345)]
    inventory.receive(tee, shop["locations"]["A-01"], 4, actor=inventory.system_actor())
    today = dt.date.today() + dt.timedelta(days=1)
    value = client.get(f"/api/v1/money/stock-value?at={today}&warehouse=WH1&detail=true", headers=supervisor)
    assert value.status_code == 200 and value.get_json()["value_fen"] == 4 * 2345 == costing.stock_value(today, wh)
    assert value.get_json()["rows"][0]["sku"] == "TS-01"
    supplier = Supplier.create(code="S1", name="供应商")
    PurchaseOrder.create(code="PO-9", supplier=supplier, warehouse=wh, status="approved")
    freight = client.put("/api/v1/money/inbound-freight/PO-9", json={"fen": 5000}, headers=office)
    assert freight.status_code == 200 and freight.get_json() == {"po": "PO-9", "fen": 5000, "lines": 0}
    assert client.put("/api/v1/money/inbound-freight/PO-X", json={"fen": 1}, headers=office).status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/money/margin", "/api/v1/money/stock-value", "/api/v1/money/refresh"} <= set(spec["paths"])


def test_the_command_line(db_url, tmp_path, shop):  # noqa: F811
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"))

    def wavefloor(*args):
        done = subprocess.run([sys.executable, "-m", "server.cli", "money", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    tee, mug, wh = shop["tee"], shop["mug"], shop["warehouse"]
    order = tmall_order("C1", [(tee, 1, 5900), (mug, 2, 3900)], paid_fen=13000, warehouse=wh)
    assert "1 orders, 2 lines" in wavefloor("refresh", "--day", DAY.isoformat())
    ship(order, Location.create(warehouse=wh, code="PK-1", kind="pack"))
    rows = json.loads(wavefloor("margin", "--by", "order", "--json"))
    assert rows[0]["external_id"] == "C1" and rows[0]["margin_fen"] == sum(r.margin_fen for r in money_of(order))
    assert "450 bp" in wavefloor("rate", "commission", "450", "--shop", "tm1", "--category", "服装")
    cost = json.loads(wavefloor("cost", "TS-01", "--warehouse", "WH1", "--set", "2500", "--json"))
    assert cost["unit_cost_fen"] == 2500 and cost["history"][0]["reason"] == "set"
    inventory.receive(tee, shop["locations"]["A-01"], 3, actor=inventory.system_actor())
    value = json.loads(wavefloor("stock-value", "--at", "2030-01-01", "--warehouse", "WH1", "--json"))
    assert value["value_fen"] == 3 * 2500 == costing.stock_value(dt.date(2030, 1, 1))
    wavefloor("charge", "C1", "commission", "777", "--name", "技术服务费")
    assert sum(r.commission_fen for r in money_of(order)) == 777


def test_the_margin_page_in_both_languages(client, token_for, shop):  # noqa: F811
    tee, wh = shop["tee"], shop["warehouse"]
    order = tmall_order("P1", [(tee, 1, 5900)], paid_fen=5900, warehouse=wh)
    office, picker = bearer(token_for("office")), bearer(token_for("picker"))
    assert client.get("/money", headers=picker).status_code == 403
    empty = client.get("/money?first=2026-11-01&last=2026-11-30", headers=office).get_data(as_text=True)
    assert "wavefloor money refresh" in empty
    line_money.refresh_orders([order.id])
    ship(order, Location.create(warehouse=wh, code="PK-1", kind="pack"))
    margin_fen = money_of(order)[0].margin_fen
    for lang, word in (("en", "Margin %"), ("zh_Hans_CN", "毛利率")):
        client.get(f"/lang/{lang}")
        page = client.get("/money?first=2026-11-01&last=2026-11-30&group=sku", headers=office).get_data(as_text=True)
        assert word in page and "TS-01" in page and f"{margin_fen / 100:,.2f}" in page and 'id="money-data"' in page
        assert "/money/export.xlsx?first=2026-11-01&amp;last=2026-11-30&amp;group=sku" in page


def test_the_margin_page_exports_its_table_as_xlsx(client, token_for, shop):  # noqa: F811
    from openpyxl import load_workbook
    from server.services.money import margin
    tee, mug, wh = shop["tee"], shop["mug"], shop["warehouse"]
    order = tmall_order("X1", [(tee, 2, 5900), (mug, 1, 3900)], paid_fen=15700 + 800, freight_fen=800, warehouse=wh)
    other = tmall_order("X2", [(mug, 3, 3900)], paid_fen=11700, warehouse=wh)
    line_money.refresh_orders([order.id, other.id])
    ship(order, Location.create(warehouse=wh, code="PK-1", kind="pack"))
    office, picker = bearer(token_for("office")), bearer(token_for("picker"))
    url = "/money/export.xlsx?first=2026-11-01&last=2026-11-30&group=sku"
    assert client.get(url, headers=picker).status_code == 403
    client.get("/lang/en")
    answer = client.get(url, headers=office)
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    assert "margin-sku-2026-11-01-2026-11-30.xlsx" in answer.headers["Content-Disposition"]
    rows = [list(r) for r in load_workbook(io.BytesIO(answer.data)).active.iter_rows(values_only=True)]
    header = rows.index(next(r for r in rows if r and r[0] == "SKU"))
    titles, body = rows[header], rows[header + 1:]
    assert titles[:4] == ["SKU", "Lines", "Shipped", "Units"] and titles[-2:] == ["Margin", "Margin %"]
    figures = {r["sku"]: r for r in margin.margin_by("sku", {"first": DAY, "last": DAY})}
    assert [r[0] for r in body] == [r["sku"] for r in figures.values()] + ["Total"]
    col = {name: titles.index(name) for name in ("Revenue", "VAT", "Margin", "Units")}
    for row in body[:-1]:
        want = figures[row[0]]
        assert row[col["Units"]] == want["qty"]
        assert round(row[col["Revenue"]] * 100) == want["revenue_fen"]
        assert round(row[col["Margin"]] * 100) == want["margin_fen"]
        assert round(row[col["VAT"]] * 100) == want["tax_fen"] - want["refund_tax_fen"] + want["freight_tax_fen"]
    totals = margin.totals({"first": DAY, "last": DAY})
    assert round(body[-1][col["Margin"]] * 100) == totals["margin_fen"] == sum(r.margin_fen for r in money_of(order))
    assert round(body[-1][col["Revenue"]] * 100) == totals["revenue_fen"]
    # the filters are written above the table, in the user's language
    client.get("/lang/zh_Hans_CN")
    zh = [list(r) for r in load_workbook(io.BytesIO(client.get(url, headers=office).data)).active
          .iter_rows(values_only=True)]
    assert zh[0][0] == "毛利" and ["店铺", "全部店铺"] in [r[:2] for r in zh] and any(r[0] == "合计" for r in zh)
    by_order = client.get("/money/export.xlsx?first=2026-11-01&last=2026-11-30&group=order", headers=office)
    order_rows = [list(r) for r in load_workbook(io.BytesIO(by_order.data)).active.iter_rows(values_only=True)]
    assert {"X1", "X2"} <= {r[0] for r in order_rows}
