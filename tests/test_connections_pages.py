"""The office's connections page (平台对接, /connections) over HTTP, on both engines: every shop with
its platform, status, checkpoints and calls in Chinese and English; connecting and re-authorising
through the form with the secrets sealed and never written back into a page; pause, resume,
retry of a failed call; the role check; and the control room's flag of shops to re-authorise and
failed platform calls (GET /api/v1/floor/connectors)."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from server.models import ChannelCall, Shop, ShopConnection, SyncCheckpoint
from server.services.connectors import connections, credentials, outbox
from tests.test_purchasing_pages import login

SECRET = "app-secret-7Hq2"
SESSION = "6100e2f9session-kX81"


def page(client, path="/connections", status=200):
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.status_code, answer.data.decode()[:800])
    shown = html.unescape(answer.data.decode())
    words = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", shown, flags=re.S)
    assert ">None<" not in words and "{" not in words  # no template left raw
    return shown


def row_of(shown: str, shop: str) -> str:
    found = re.search(rf'<tr data-shop="{shop}".*?</tr>', shown, flags=re.S)
    assert found, shop
    return found[0]


def failed_call(shop: Shop, subject: str = "3900000001000000001", error: str = "isv.logistics-offline-service-error:B01: 订单不存在"):
    return ChannelCall.create(shop=shop.id, kind="ship", subject=subject, key=f"ship:test:{subject}",
                              payload='{"external_id": "%s", "carrier": "SF", "tracking": "SF100", "online": false}'
                              % subject, state="failed", attempts=1, last_error=error)


@pytest.fixture
def shops(app, people):
    """TM-1 connected (orders pulled up to a moment), JD-1 to re-authorise, DY-1 paused, TB-2 not
    connected, CSV-1 a file shop with no platform. Sealed under the app's own key."""
    made = {code: Shop.create(code=code, channel=channel, name=name) for code, channel, name in (
        ("TM-1", "tmall", "天猫旗舰店"), ("JD-1", "jd", "京东自营"), ("DY-1", "douyin", "抖店"),
        ("TB-2", "taobao", "淘宝小店"), ("CSV-1", "csv", "线下"))}
    with app.app_context():
        for code in ("TM-1", "JD-1", "DY-1"):
            connections.connect(code, app_key=f"key-{code}", secret=SECRET, session=SESSION, seller_nick="旗舰店")
    outbox.mark_reauthorise(made["JD-1"].id, "jos: 19: token expired")
    connections.pause("DY-1")
    SyncCheckpoint.create(shop=made["TM-1"].id, operation="orders", until=dt.datetime(2026, 12, 6, 4, 0),
                          last_run_at=dt.datetime(2026, 12, 6, 4, 1), stored=1234)
    return made


def test_the_page_shows_every_shop_in_both_languages(client, shops):
    failed_call(shops["TM-1"])
    login(client, "office")
    shown = page(client)
    assert "平台对接" in shown and 'href="/connections"' in shown  # the header's link, here
    tm, jd, dy, tb, csv = (row_of(shown, code) for code in ("TM-1", "JD-1", "DY-1", "TB-2", "CSV-1"))
    assert "天猫旗舰店" in tm and "淘宝 / 天猫（TOP）" in tm and "正常" in tm
    assert "1234" in tm and "2026-12-06 12:00" in tm  # stored; until 04:00 UTC in Beijing time
    assert "尚未拉取" in row_of(shown, "TM-1").split('class="mark refunds')[1]
    assert re.search(r"<td class=\"n failed bad\">\s*1</td>", tm) and "立即拉取" in tm and "同步库存" in tm
    assert "需重新授权" in jd and "token expired" in jd and "京东（JOS）" in jd and "立即拉取" not in jd
    assert "已暂停" in dy and "恢复" in dy and "抖店" in dy
    assert "未对接" in tb and "对接" in tb and "?shop=TB-2#connect" in tb
    assert "未对接" in csv and "#connect" not in csv
    assert "5 家" in shown and "3 家店铺已对接" in shown and "1 家需重新授权" in shown
    failed = shown.split('id="failed-calls"')[1]
    assert "发货回传失败" in failed and "订单不存在" in failed and "发货回传" in failed and "重试" in failed

    login(client, "admin", "en")
    shown = page(client)
    assert ">Connections<" in shown and "Failed platform calls" in shown and "平台对接" not in shown
    assert "Connected" in row_of(shown, "TM-1") and "Re-authorise" in row_of(shown, "JD-1")
    assert "Paused" in row_of(shown, "DY-1") and "Not connected" in row_of(shown, "TB-2")
    assert "Pull now" in row_of(shown, "TM-1") and "Push stock" in row_of(shown, "TM-1")
    assert "Shipment" in shown.split('id="failed-calls"')[1]


def test_secrets_are_never_written_into_a_page(client, shops):
    login(client, "office")
    assert client.post("/connections", data={
        "shop": "TB-2", "app_key": "23456789", "secret": "tb-secret-Zz9", "session": "tb-session-Yy8",
        "sign_method": "hmac", "seller_nick": "淘宝小店", "pull_every_s": "120", "push_shipments": "1",
        "push_stock": "1"}).status_code == 302
    stored = ShopConnection.get(ShopConnection.shop == shops["TB-2"].id)
    assert stored.platform == "top" and stored.sign_method == "hmac" and stored.pull_every_s == 120
    assert stored.push_stock and stored.push_shipments and stored.status == "ok"
    assert "tb-secret" not in stored.secret and "tb-session" not in stored.session  # sealed at rest
    with client.application.app_context():
        assert credentials.unseal(stored.secret) == "tb-secret-Zz9"

    shown = page(client, "/connections?done=connect&shop=TB-2")
    assert "店铺 TB-2 已对接" in shown and "正常" in row_of(shown, "TB-2")
    for path in ("/connections", "/connections?shop=TB-2", "/connections?shop=TM-1"):
        shown = page(client, path)
        for secret in ("tb-secret-Zz9", "tb-session-Yy8", SECRET, SESSION, stored.secret, stored.session):
            assert secret not in shown, (path, secret)
    edit = page(client, "/connections?shop=TB-2")  # re-authorise: its settings back, the secrets empty
    form = edit.split('id="connect-form"')[1].split("</form>")[0]
    assert 'value="23456789"' in form and 'value="120"' in form and '<option value="hmac" selected' in form
    assert re.search(r'name="secret" type="password" value=""', form)
    assert re.search(r'name="session" type="password" value=""', form)

    # a refused form comes back with what was typed, but never the secret
    answer = client.post("/connections", data={"shop": "TB-2", "app_key": "23456789", "secret": "typed-secret-Q1",
                                                "session": " ", "pull_every_s": "60"})
    assert answer.status_code == 400
    shown = html.unescape(answer.data.decode())
    assert "店铺授权信息不完整" in shown and "session" in shown and "typed-secret-Q1" not in shown
    assert client.post("/connections", data={"shop": "TB-2", "app_key": "k", "secret": "s", "session": "t",
                                             "pull_every_s": "5"}).status_code == 400
    assert client.post("/connections", data={"shop": "CSV-1", "app_key": "k", "secret": "s",
                                             "session": "t"}).status_code == 400  # a file shop has no platform
    assert ShopConnection.get(ShopConnection.shop == shops["TB-2"].id).pull_every_s == 120


def test_a_shop_signs_with_hmac_sha256(client, shops):
    login(client, "office")
    answer = client.post("/connections", data={"shop": "TB-2", "app_key": "23456789", "secret": "s", "session": "t",
                                                "sign_method": "hmac-sha256", "pull_every_s": "60"})
    assert answer.status_code == 302
    assert ShopConnection.get(ShopConnection.shop == shops["TB-2"].id).sign_method == "hmac-sha256"
    assert '<option value="hmac-sha256" selected' in page(client, "/connections?shop=TB-2")


def test_reauthorising_brings_a_shop_back_and_pause_resume(client, shops):
    login(client, "office", "en")
    client.post("/connections", data={"shop": "JD-1", "app_key": "key-JD-1", "secret": "new-secret",
                                      "session": "new-token", "pull_every_s": "60", "push_shipments": "1"})
    assert ShopConnection.get(ShopConnection.shop == shops["JD-1"].id).status == "ok"
    assert "Connected" in row_of(page(client), "JD-1")

    answer = client.post("/connections/TM-1/pause", data={"paused": "1"})
    assert answer.status_code == 302 and "done=pause" in answer.headers["Location"]
    assert ShopConnection.get(ShopConnection.shop == shops["TM-1"].id).status == "paused"
    shown = page(client, answer.headers["Location"])
    assert "Shop TM-1 is paused" in shown and "Resume" in row_of(shown, "TM-1")
    client.post("/connections/TM-1/pause", data={"paused": "0"})
    assert ShopConnection.get(ShopConnection.shop == shops["TM-1"].id).status == "ok"

    answer = client.post("/connections/TB-2/pause", data={"paused": "1"})  # not connected: said in words
    assert "This shop is not connected to its platform." in page(client, answer.headers["Location"])
    answer = client.post("/connections/TB-2/pull")
    assert "error=not_connected" in answer.headers["Location"]

    answer = client.post("/connections/TM-1/stock")  # no listings yet: nothing queued
    assert "done=stock" in answer.headers["Location"]
    assert "stock figures of 0 SKUs queued" in page(client, answer.headers["Location"])


def test_a_failed_call_is_retried_from_the_page(client, shops):
    call = failed_call(shops["TM-1"])
    login(client, "office")
    answer = client.post(f"/connections/calls/{call.id}/retry")
    assert answer.status_code == 302
    again = ChannelCall.get_by_id(call.id)
    assert again.state == "pending" and again.next_at <= dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    shown = page(client, answer.headers["Location"])
    assert f"调用 #{call.id} 已重新排队发送" in shown and "没有失败的平台调用" in shown
    answer = client.post(f"/connections/calls/{call.id}/retry")  # not failed any more: refused in words
    assert "当前状态不允许此操作" in page(client, answer.headers["Location"])
    assert "未找到" in page(client, client.post("/connections/calls/999999/retry").headers["Location"])


def test_only_the_office_and_admin_may_open_or_act(client, shops):
    call = failed_call(shops["TM-1"])
    for role in ("picker", "supervisor", "packer"):
        login(client, role)
        assert client.get("/connections").status_code == 403
        assert client.post(f"/connections/calls/{call.id}/retry").status_code == 403
        assert client.post("/connections/TM-1/pause", data={"paused": "1"}).status_code == 403
        assert client.post("/connections", data={"shop": "TB-2", "app_key": "k", "secret": "s",
                                                 "session": "t"}).status_code == 403
        assert 'href="/connections"' not in page(client, "/stock")
    assert ChannelCall.get_by_id(call.id).state == "failed"
    assert ShopConnection.get(ShopConnection.shop == shops["TM-1"].id).status == "ok"
    client.post("/logout")
    assert client.get("/connections").status_code == 302  # to the login page

    # a form on another host's page carries no login here
    login(client, "office")
    answer = client.post("/connections/TM-1/pause", data={"paused": "1"},
                         headers={"Origin": "http://evil.example"})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert ShopConnection.get(ShopConnection.shop == shops["TM-1"].id).status == "ok"


def test_the_control_room_flags_shops_to_reauthorise_and_failed_calls(client, shops, token_for):
    headers = {"Authorization": f"Bearer {token_for('supervisor')}"}
    flag = client.get("/api/v1/floor/connectors", headers=headers).get_json()
    assert flag == {"attention": [{"shop": "JD-1", "status": "reauthorise", "last_error": "jos: 19: token expired"}],
                    "failed_calls": 0, "waiting_calls": 0}
    failed_call(shops["TM-1"])
    failed_call(shops["DY-1"], subject="4900000001")
    assert client.get("/api/v1/floor/connectors", headers=headers).get_json()["failed_calls"] == 2
    picker = {"Authorization": f"Bearer {token_for('picker')}"}
    assert client.get("/api/v1/floor/connectors", headers=picker).status_code == 403

    login(client, "supervisor")  # may see the flag, not open the office's page: no link
    shown = page(client, "/control")
    assert 'id="connectors-flag"' in shown and 'data-link=""' in shown
    login(client, "admin")
    assert 'data-link="/connections"' in page(client, "/control")
