"""Orders through HTTP: the office's list, review and actions; shop stock; signed webhooks."""
import json

import pytest

from server.channels.base import ParseResult
from server.models import Order, Shop
from server.services.orders import intake as order_import
from server.services.orders.webhooks import sign
from tests.test_orders import parsed, stock, two_warehouses, small_products  # noqa: F401  (fixtures)


@pytest.fixture
def some_orders(two_warehouses, small_products):  # noqa: F811
    stock("TS-01", "WH-HZ-A1", 10)
    order_import.import_parsed(ParseResult([
        parsed("H1", [("TS-01", 1, "none")], buyer_message="周末不在家"),
        parsed("H2", [("TS-01", 2, "none")]),
        parsed("H3", [("TS-01", 1, "none")], province="广东省", receiver_address=""),
    ]))
    return {o.external_id: o for o in Order.select()}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_office_lists_filters_and_approves(client, token_for, some_orders):
    office = auth(token_for("office"))
    held = client.get("/api/v1/orders?status=held", headers=office).get_json()
    assert {o["external_id"] for o in held["items"]} == {"H1", "H3"} and held["total"] == 2
    assert client.get("/api/v1/orders?hold=buyer_message", headers=office).get_json()["total"] == 1
    assert client.get("/api/v1/orders?province=广东", headers=office).get_json()["total"] == 1
    detail = client.get(f"/api/v1/orders/{some_orders['H1'].id}", headers=office).get_json()
    assert detail["receiver_phone"] == "13800000000"  # the office sees personal data
    assert [h["action"] for h in detail["history"]][:3] == ["imported", "reviewing", "held"]
    approved = client.post(f"/api/v1/orders/{some_orders['H1'].id}/approve", json={"note": "已电话确认"},
                           headers=office).get_json()
    assert approved["status"] == "allocated" and approved["history"][-2]["user"] == "u-office"


def test_edit_sends_an_order_back_through_review(client, token_for, some_orders):
    office = auth(token_for("office"))
    h3 = some_orders["H3"]
    assert "incomplete_address" in client.get(f"/api/v1/orders/{h3.id}", headers=office).get_json()["hold_reasons"]
    edited = client.patch(f"/api/v1/orders/{h3.id}", json={"changes": {"receiver_address": "科技园南区1号"}},
                          headers=office).get_json()
    # approved by the rules now; Shenzhen has none, so the second candidate ships it
    assert (edited["status"], edited["warehouse"]) == ("allocated", "WH-HZ")
    bad = client.patch(f"/api/v1/orders/{h3.id}", json={"changes": {"paid_fen": "1"}}, headers=office)
    assert bad.status_code == 422 and "changes" in json.dumps(bad.get_json()["detail"])


def test_cancel_priority_and_roles(client, token_for, some_orders):
    office, picker = auth(token_for("office")), auth(token_for("picker"))
    h2 = some_orders["H2"]
    assert client.get("/api/v1/orders", headers=picker).status_code == 403
    assert client.post(f"/api/v1/orders/{h2.id}/cancel", json={"reason": "x"}, headers=picker).status_code == 403
    assert client.post(f"/api/v1/orders/{h2.id}/priority", json={"priority": 9}, headers=office).get_json()["priority"] == 9
    cancelled = client.post(f"/api/v1/orders/{h2.id}/cancel", json={"reason": "买家要求"}, headers=office).get_json()
    assert cancelled["status"] == "cancelled" and all(l["reserved_qty"] == 0 for l in cancelled["lines"])
    again = client.post(f"/api/v1/orders/{h2.id}/cancel", json={"reason": "again"}, headers=office)
    assert again.status_code == 409 and again.get_json()["code"] == "invalid_transition"


def test_shop_stock_respects_reservations_buffer_and_ratio(client, token_for, some_orders):
    office = auth(token_for("office"))
    assert client.put("/api/v1/shops/tm1", json={"channel": "tmall", "stock_ratio_pct": 50, "safety_buffer": 2},
                      headers=office).status_code == 200
    rows = {r["sku"]: r["quantity"] for r in client.get("/api/v1/shops/tm1/stock", headers=office).get_json()["items"]}
    assert rows == {"MG-01": 0, "TS-01": (10 - 2 - 2) * 50 // 100}  # H2 holds 2 units
    csv_text = client.get("/api/v1/shops/tm1/stock?format=csv", headers=office).data.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "商家编码,条码,可售库存" and "TS-01,,3" in csv_text


TOP_TRADE = {"trades_sold_get_response": {"trades": {"trade": [{
    "tid": "900001", "status": "WAIT_SELLER_SEND_GOODS", "payment": "59.00", "post_fee": "0.00",
    "discount_fee": "0.00", "total_fee": "59.00", "created": "2026-11-11 00:00:05", "pay_time": "2026-11-11 00:00:09",
    "buyer_nick": "tb123", "receiver_name": "王芳", "receiver_mobile": "13900001111", "receiver_state": "浙江省",
    "receiver_city": "杭州市", "receiver_district": "滨江区", "receiver_address": "江南大道1号",
    "receiver_zip": "310000", "seller_flag": 0,
    "orders": {"order": [{"oid": "9000011", "outer_sku_id": "TS-01", "num": 1, "price": "59.00",
                          "payment": "59.00", "refund_status": "NO_REFUND", "title": "T恤"}]}}]}}}


def test_signed_webhook_imports_and_a_bad_signature_is_refused(client, two_warehouses, small_products):  # noqa: F811
    Shop.create(code="tb1", channel="top", webhook_secret="s3cret")
    stock("TS-01", "WH-HZ-A1", 3)
    body = json.dumps(TOP_TRADE, ensure_ascii=False).encode()
    refused = client.post("/api/v1/channels/tb1/orders", data=body, headers={"X-Wavefloor-Signature": "sha256=00"})
    assert refused.status_code == 401 and not Order.select().exists()
    ok = client.post("/api/v1/channels/tb1/orders", data=body,
                     headers={"X-Wavefloor-Signature": sign("s3cret", body), "Content-Type": "application/json"})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["created"] == 1 and ok.get_json()["allocated"] == 1
    again = client.post("/api/v1/channels/tb1/orders", data=body, headers={"X-Wavefloor-Signature": sign("s3cret", body)})
    assert again.get_json()["unchanged"] == 1
    assert Order.get().shop == "tb1"


def test_office_pages(client, people, some_orders):
    assert client.post("/login", data={"user": "u-office", "password": "secret-pass"}).status_code == 302
    page = client.get("/orders?status=held", headers={"Accept-Language": "zh-CN"}).data.decode()
    assert "H1" in page and "H3" in page and "H2" not in page and "买家留言" in page
    detail = client.get(f"/orders/{some_orders['H1'].id}").data.decode()
    assert "周末不在家" in detail and "审核通过" in detail
    done = client.post(f"/orders/{some_orders['H1'].id}/approve", data={"note": "ok"})
    assert done.status_code == 302 and Order.get_by_id(some_orders["H1"].id).status == "allocated"
    english = client.get("/orders", headers={"Accept-Language": "en"}).data.decode()
    assert "Orders" in english
