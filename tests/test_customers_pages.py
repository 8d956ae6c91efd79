"""The customer pages and the customer API (SQLite and PostgreSQL): both languages, the roles that
may see them, the opt-out button, and the rule that no page, CSV or API answer shows a phone
unmasked to a role without ``pii.read``."""
from __future__ import annotations

import re

import pytest

from tests.test_customers import TODAY, shop_orders  # noqa: F401  (the fixture)
from tests.test_refresh_runs import finished

FULL_PHONE = re.compile(r"1[3-9]\d{9}")   # a mainland mobile number, unmasked


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def refreshed(shop_orders):  # noqa: F811
    """Customers derived; mum3 opted out before: mum1 is the one customer due today."""
    from server.models.customers import Customer
    from server.services.customers import derive
    Customer.create(channel="tmall", buyer="mum3", opt_out=True)
    return derive.refresh()


def login(client, role: str, lang: str):
    client.get(f"/lang/{lang}")
    response = client.post("/login", data={"user": f"u-{role}", "password": "secret-pass"})
    assert response.status_code == 302


LANGUAGES = {"en": ["Customers", "High-value VIP", "Customers per tag, by refresh day", "Due to reorder"],
             "zh_Hans_CN": ["客户", "高价值VIP", "各标签客户数（按刷新日）", "复购提醒"]}


def test_the_customers_page_in_both_languages(client, people, refreshed):
    login(client, "office", "zh_Hans_CN")
    for lang, words in LANGUAGES.items():
        client.get(f"/lang/{lang}")
        html = client.get("/customers").get_data(as_text=True)
        for word in words:
            assert word in html, (lang, word)
    assert 'id="customers-data"' in html and "vendor/echarts.min.js" in html
    assert "13800000001" in html                       # office holds pii.read
    vip = client.get("/customers?tag=vip").get_data(as_text=True)
    assert "boss" in vip and "mum1" not in vip
    due = client.get("/customers/due").get_data(as_text=True)
    assert 'data-sku="NAPPY-M"' in due and ("Download CSV" in due or "下载短信工具用 CSV" in due)
    model = client.get("/customers/repurchase").get_data(as_text=True)
    assert 'data-sku="NAPPY-M"' in model and ("30 days" in model or "30 天" in model)


def test_the_opt_out_button_takes_a_customer_off_the_list(client, people, refreshed):
    from server.models import AuditLog
    from server.models.customers import Customer
    urls = ("/customers", "/customers/due", "/customers/due.csv", "/customers/repurchase")
    for url in urls:
        assert client.get(url).status_code in (302, 401)
    login(client, "picker", "en")
    for url in urls:
        assert client.get(url).status_code == 403, url
    client.post("/logout")
    login(client, "supervisor", "en")   # customers.read, not customers.write: no button
    page = client.get("/customers/due").get_data(as_text=True)
    assert "Opt out</button>" not in page
    client.post("/logout")
    login(client, "office", "en")
    assert "Opt out</button>" in client.get("/customers/due").get_data(as_text=True)
    mum1 = Customer.get(Customer.buyer == "mum1")
    done = client.post(f"/customers/{mum1.id}/opt-out", data={"day": TODAY.isoformat()})
    assert done.status_code == 302
    assert Customer.get_by_id(mum1.id).opt_out
    assert AuditLog.select().where(AuditLog.action == "customer.opt_out").count() == 1
    assert "Nobody is due" in client.get("/customers/due").get_data(as_text=True)
    assert client.post("/customers/999999/opt-out").status_code == 302   # told on the page, nothing changed


def test_no_phone_unmasked_without_pii_read(app, client, people, refreshed, token_for, monkeypatch):
    """A site that takes pii.read away from the office role: every customer page, the CSV (page
    and API) and every customer API answer show masked phones only."""
    from server.models.customers import Customer
    from server.services import auth
    monkeypatch.setitem(auth.PERMISSIONS, "pii.read", {"admin", "supervisor"})
    mum1 = Customer.get(Customer.buyer == "mum1")
    login(client, "office", "en")
    answers = {url: client.get(url) for url in ("/customers", "/customers/due", "/customers/due.csv",
                                                "/customers?q=mum", "/customers/repurchase")}
    token = bearer(token_for("office"))
    api = app.test_client()
    for url in ("/api/v1/customers", f"/api/v1/customers/{mum1.id}", "/api/v1/customers/due",
                "/api/v1/customers/due.csv", "/api/v1/customers?q=13800000001", "/api/v1/customers?sort=recent"):
        answers[url] = api.get(url, headers=token)
    for url, response in answers.items():
        assert response.status_code == 200, (url, response.status_code)
        body = response.get_data(as_text=True)
        assert not FULL_PHONE.search(body), (url, FULL_PHONE.search(body).group())
    assert "138****0001" in answers["/customers/due.csv"].get_data(as_text=True)
    assert "138****0001" in answers["/api/v1/customers/due.csv"].get_data(as_text=True)
    assert "masked" in answers["/customers"].get_data(as_text=True)
    assert answers["/api/v1/customers?q=13800000001"].get_json()["total"] == 0   # no search by phone either
    listed = answers["/api/v1/customers"].get_json()["items"]
    assert {c["phone"] for c in listed} >= {"138****0001", "139****0009"}
    assert all("*" in c["name"] or not c["name"] for c in listed)
    # the same calls with pii.read back: the numbers are there
    monkeypatch.setitem(auth.PERMISSIONS, "pii.read", {"admin", "supervisor", "office"})
    assert "13800000001" in api.get("/api/v1/customers/due.csv", headers=token).get_data(as_text=True)


def test_the_customer_api(app, people, refreshed, token_for):
    from server.models.customers import Customer
    client = app.test_client()
    office, supervisor = bearer(token_for("office")), bearer(token_for("supervisor"))
    page = client.get("/api/v1/customers?tag=price_sensitive", headers=office).get_json()
    assert [c["nick"] for c in page["items"]] == ["mum1"] and page["total"] == 1
    mum1 = page["items"][0]
    assert mum1["rfm"] == f"{mum1['r_score']}{mum1['f_score']}{mum1['m_score']}" and mum1["spent_fen"] == 39600
    assert mum1["last_order_at"].endswith("Z") or mum1["last_order_at"].endswith("+00:00")
    one = client.get(f"/api/v1/customers/{mum1['id']}", headers=office).get_json()
    assert one["due"][0]["sku"] == "NAPPY-M"
    assert client.get("/api/v1/customers/999999", headers=office).status_code == 404
    trend = client.get("/api/v1/customers/tag-trend", headers=office).get_json()
    assert trend["dates"] == [TODAY.isoformat()] and trend["names"]["vip"]
    models = client.get("/api/v1/customers/repurchase?modelled=true", headers=office).get_json()
    assert [m["sku"] for m in models["items"]] == ["NAPPY-M"] and models["items"][0]["median_days"] == 30.0
    due = client.get(f"/api/v1/customers/due?day={TODAY.isoformat()}", headers=office).get_json()
    assert [r["sku"] for r in due["items"]] == ["NAPPY-M"]
    # writes: customers.write (office, admin), not the supervisor
    assert client.post(f"/api/v1/customers/{mum1['id']}/opt-out", json={}, headers=supervisor).status_code == 403
    done = client.post(f"/api/v1/customers/{mum1['id']}/opt-out", json={"note": "退订"}, headers=office)
    assert done.status_code == 200 and done.get_json() == {"changed": 1}
    assert client.get("/api/v1/customers/due", headers=office).get_json()["items"] == []
    back = client.post(f"/api/v1/customers/{mum1['id']}/opt-out", json={"opt_out": False}, headers=office)
    assert back.get_json() == {"changed": 1} and not Customer.get_by_id(mum1["id"]).opt_out
    refreshed_again = client.post("/api/v1/customers/refresh", headers=office)
    assert refreshed_again.status_code == 202   # in a process of its own (tests/test_refresh_runs.py)
    run = finished(client, refreshed_again.headers["Location"], office)
    assert run["state"] == "done", run  # a failed run says why: its error is the child's last words
    assert run["result"]["customers"] == 8
    # live-stream windows
    made = client.post("/api/v1/live-streams", headers=office,
                       json={"starts_at": "2026-11-10T20:00:00+08:00", "ends_at": "2026-11-10T22:00:00+08:00",
                             "title": "双11 直播", "channel": "douyin"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["starts_at"].startswith("2026-11-10T12:00:00")
    bad = client.post("/api/v1/live-streams", headers=office,
                      json={"starts_at": "2026-11-10T22:00:00+08:00", "ends_at": "2026-11-10T20:00:00+08:00"})
    assert bad.status_code == 400 and bad.get_json()["code"] == "bad_live_stream"
    listed = client.get("/api/v1/live-streams", headers=office).get_json()["items"]
    assert [s["title"] for s in listed] == ["晚间直播", "双11 直播"]   # the fixture's, then this one (latest first)
