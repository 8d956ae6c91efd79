"""Forecast runs, alerts and the purchase plan on a real database (SQLite and PostgreSQL), through
the services, the REST API with its role checks and the command line."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT

# the pages draw the chart as of today: the sales end yesterday
MADE_ON = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
DAYS = 120


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def sales(small_warehouse):
    """120 days of paid orders: TS-01 sells about 10 a day every day (smooth), MG-01 now and then
    (intermittent); a cancelled order and a refunded line that must not count; two suppliers;
    a little stock."""
    from server.db import insert_rows
    from server.models import Order, OrderLine, Supplier, SupplierItem
    from server.services.stock import desk, inventory
    wh, tee, mug = small_warehouse["warehouse"], small_warehouse["tee"], small_warehouse["mug"]
    rng = np.random.default_rng(27)
    tee_days = rng.poisson(10, DAYS)
    mug_days = np.where(rng.random(DAYS) < 0.25, 1 + rng.poisson(2, DAYS), 0)
    orders, lines = [], []
    for i in range(DAYS):
        # 04:00 UTC is noon in China: the day is the same either way
        paid = dt.datetime.combine(MADE_ON - dt.timedelta(days=DAYS - i), dt.time(4))
        for product, qty in ((tee, int(tee_days[i])), (mug, int(mug_days[i]))):
            if qty:
                orders.append({"channel": "csv", "shop": "s1", "external_id": f"{product.sku}-{i}", "status": "shipped",
                               "paid_at": paid, "warehouse": wh.id})
                lines.append((product, qty))
    ids = [row[0] for row in insert_rows(Order, orders, returning=("id",))]
    insert_rows(OrderLine, [{"order": oid, "external_line_id": "1", "sku_code": p.sku, "product": p.id, "qty": q}
                            for oid, (p, q) in zip(ids, lines)])
    yesterday = dt.datetime.combine(MADE_ON - dt.timedelta(days=1), dt.time(4))
    cancelled = Order.create(channel="csv", shop="s1", external_id="X-1", status="cancelled", paid_at=yesterday,
                             warehouse=wh)
    OrderLine.create(order=cancelled, external_line_id="1", sku_code="TS-01", product=tee, qty=500)
    refunded = Order.create(channel="csv", shop="s1", external_id="X-2", status="shipped", paid_at=yesterday,
                            warehouse=wh)
    OrderLine.create(order=refunded, external_line_id="1", sku_code="TS-01", product=tee, qty=400,
                     refund_status="refunded")
    one = Supplier.create(code="SUP-A", name="甲供应商", lead_time_days=7)
    two = Supplier.create(code="SUP-B", name="乙供应商", lead_time_days=10)
    SupplierItem.create(supplier=one, product=tee, unit_cost_fen=1200, moq=100, pack_size=24)
    SupplierItem.create(supplier=two, product=mug, unit_cost_fen=800, moq=10, pack_size=6)
    actor = inventory.system_actor()
    desk.receive(actor=actor, sku="TS-01", location="A-01", qty=30)
    desk.receive(actor=actor, sku="MG-01", location="A-02", qty=2)
    return {"tee_days": tee_days, "mug_days": mug_days, **small_warehouse}


def test_daily_demand_leaves_out_cancelled_and_refunded_and_counts_china_days(sales):
    from server.models import Order, OrderLine
    from server.services.forecast import history
    demand = history.daily_demand(MADE_ON, DAYS)
    key = (sales["tee"].id, sales["warehouse"].id)
    assert demand[key].tolist() == sales["tee_days"].astype(float).tolist()
    # paid at 17:00 UTC two days ago is 01:00 yesterday in China: yesterday's demand
    late = Order.create(channel="csv", shop="s1", external_id="L-1", status="shipped",
                        paid_at=dt.datetime.combine(MADE_ON - dt.timedelta(days=2), dt.time(17)),
                        warehouse=sales["warehouse"])
    OrderLine.create(order=late, external_line_id="1", sku_code="TS-01", product=sales["tee"], qty=1000)
    again = history.daily_demand(MADE_ON, DAYS)[key]
    assert again[-1] - demand[key][-1] == 1000 and again[-2] == demand[key][-2]


def test_promotion_days_are_marked(sales):
    from server.models import PromotionDay
    from server.services.forecast import history
    platforms = history.promotion_days(MADE_ON, DAYS)  # 618, 双11, 双12 in the window, whatever today is
    PromotionDay.create(day=MADE_ON - dt.timedelta(days=25), name="店庆")
    PromotionDay.create(day=MADE_ON + dt.timedelta(days=6), name="双12")  # after the window
    mask = history.promotion_days(MADE_ON, DAYS)
    assert mask[DAYS - 25] and (mask & ~platforms).sum() == (0 if platforms[DAYS - 25] else 1)
    assert (platforms & ~mask).sum() == 0


def test_a_run_stores_forecasts_raises_alerts_and_tells_the_office(sales, heard):
    from server.models import DemandForecast, StockAlert
    from server.services.forecast import run
    from server.services.forecast.settings import Settings
    report = run.run(Settings(), made_on=MADE_ON)
    assert report["skus"] == 2
    rows = {r.product.sku: r for r in DemandForecast.select()}
    assert rows["TS-01"].sb_class == "smooth" and rows["TS-01"].method == "AutoETS"
    assert rows["MG-01"].sb_class == "intermittent" and rows["MG-01"].method == "CrostonSBA"
    assert len(json.loads(rows["TS-01"].daily)) == 28
    assert rows["TS-01"].per_day == pytest.approx(10, rel=0.2)
    assert rows["TS-01"].mase is not None and rows["TS-01"].bias is not None
    # 30 units at about 10 a day last 3 days, the supplier needs 7: stock-out risk
    kinds = {(a.product.sku, a.kind) for a in StockAlert.select().where(StockAlert.state == "open")}
    assert ("TS-01", "stockout_risk") in kinds
    told = [(e, p, r) for e, p, r in heard if e == "stock.alerts"]
    assert len(told) == 1 and told[0][2] == ("role:office", "role:supervisor")
    assert told[0][1]["raised"] == len(kinds) and told[0][1]["open"]["stockout_risk"] >= 1
    # the same day again replaces the rows and raises nothing new
    run.run(Settings(), made_on=MADE_ON)
    assert DemandForecast.select().count() == 2
    assert StockAlert.select().where(StockAlert.state == "open").count() == len(kinds)


def test_an_alert_closes_when_it_no_longer_holds(sales):
    from server.models import StockAlert
    from server.services.forecast import run
    from server.services.forecast.settings import Settings
    from server.services.stock import desk, inventory
    run.run(Settings(), made_on=MADE_ON)
    risk = StockAlert.get((StockAlert.kind == "stockout_risk") & (StockAlert.product == sales["tee"].id))
    desk.receive(actor=inventory.system_actor(), sku="TS-01", location="R-01", qty=300)
    report = run.run(Settings(), made_on=MADE_ON + dt.timedelta(days=1), sku="TS-01")
    assert StockAlert.get_by_id(risk.id).state == "closed"
    assert report["alerts"]["closed"] >= 1


def test_bad_skus_get_a_reason_not_an_exception(sales):
    from server.models import DemandForecast, Product
    from server.services.forecast import run
    from server.services.forecast.settings import Settings
    Product.create(sku="NEW-01", name="新品")
    report = run.run(Settings(), made_on=MADE_ON, sku="NEW-01")
    row = DemandForecast.get(DemandForecast.product == Product.get(Product.sku == "NEW-01").id)
    assert row.reason == "no_history" and json.loads(row.daily) == [] and report["reasons"] == {"no_history": 1}


def test_the_purchase_plan_makes_one_draft_per_supplier(sales):
    from server.models import PurchaseOrder
    from server.services.forecast import plan, run
    from server.services.forecast.settings import Settings
    from server.services.stock import inventory
    run.run(Settings(), made_on=MADE_ON)
    rows = {r["sku"]: r for r in plan.suggestions(Settings())}
    assert set(rows) == {"TS-01", "MG-01"}
    tee = rows["TS-01"]
    assert tee["order_qty"] >= 100 and tee["order_qty"] % 24 == 0
    assert tee["position"] == 30 and tee["reorder_point"] > 30 and tee["supplier"] == "SUP-A"
    assert rows["MG-01"]["order_qty"] % 6 == 0 and rows["MG-01"]["order_qty"] >= 10
    created = plan.create_drafts(inventory.system_actor(), Settings(), made_on=MADE_ON)
    assert sorted(c["supplier"] for c in created) == ["SUP-A", "SUP-B"]
    for c in created:
        po = PurchaseOrder.get(PurchaseOrder.code == c["po"])
        assert po.status == "draft" and po.warehouse.code == "WH1" and len(po.lines) == 1
        assert po.expected_on == MADE_ON + dt.timedelta(days=po.supplier.lead_time_days)
    assert PurchaseOrder.get(PurchaseOrder.code == [c for c in created if c["supplier"] == "SUP-A"][0]["po"]
                             ).lines[0].qty == tee["order_qty"]
    # on a draft now: not suggested again
    again = plan.suggestions(Settings())
    assert {r["blocked"] for r in again} == {"on_open_order"}
    assert plan.create_drafts(inventory.system_actor(), Settings(), made_on=MADE_ON) == []


def test_api_role_checks_and_shapes(client, token_for, sales):
    picker, office = bearer(token_for("picker")), bearer(token_for("office"))
    assert client.post("/api/v1/forecasts/run", json={}, headers=picker).status_code == 403
    ran = client.post("/api/v1/forecasts/run", json={}, headers=office)
    assert ran.status_code == 200, ran.get_json()
    assert ran.get_json()["skus"] == 2 and set(ran.get_json()["classes"]) == {"smooth", "intermittent"}
    listed = client.get("/api/v1/forecasts?sku=TS-01", headers=picker)  # stock.read: every role
    assert listed.status_code == 200
    item = listed.get_json()["items"][0]
    assert item["sb_class"] == "smooth" and item["position"] == 30 and "unit_cost_fen" not in item
    chart = client.get("/api/v1/forecasts/TS-01/chart?warehouse=WH1", headers=office).get_json()
    assert len(chart["dates"]) == len(chart["actual"]) == len(chart["forecast"]) == 120 + 28
    assert client.get("/api/v1/stock-alerts", headers=picker).status_code == 200
    assert client.get("/api/v1/purchase-plan", headers=picker).status_code == 403
    plan = client.get("/api/v1/purchase-plan", headers=office).get_json()["items"]
    assert {r["sku"] for r in plan} == {"TS-01", "MG-01"}
    assert client.post("/api/v1/purchase-plan", json={}, headers=picker).status_code == 403
    made = client.post("/api/v1/purchase-plan", json={}, headers=office)
    assert made.status_code == 201 and len(made.get_json()["created"]) == 2
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/forecasts/run", "/api/v1/forecasts", "/api/v1/stock-alerts",
            "/api/v1/purchase-plan"} <= set(spec["paths"])


def test_the_command_line(db_url, tmp_path, sales):
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"))

    def wavefloor(*args):
        done = subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    ran = json.loads(wavefloor("forecast", "run", "--sku", "TS-01", "--warehouse", "WH1", "--json"))
    assert ran["skus"] == 1 and "smooth" in ran["classes"]
    assert "reorder point" in wavefloor("forecast", "show", "TS-01")
    planned = json.loads(wavefloor("purchase", "plan", "--create", "--json"))
    assert [c["supplier"] for c in planned["created"]] == ["SUP-A"]
