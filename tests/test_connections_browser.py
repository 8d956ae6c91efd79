"""The connections page (平台对接) in a real browser (Debian chromium, headless) against a real
server process whose connector worker talks to a fake TOP gateway on 127.0.0.1, both engines and
both languages: the office connects a Tmall shop through the form and sees it listed as connected
(its secrets nowhere in the page); a ship confirmation the platform refused is retried from its
button, and the worker then sends it (the fake counts the confirmation); the control room flags
the shop to re-authorise and the failed call. Screenshots at 1920x1080 and 1280x800 under
tests/artifacts/connections/."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from server.models import ChannelCall, Shop, ShopConnection, SyncCheckpoint
from server.services.connectors import connections, outbox
from tests.conftest import ServerProcess
from tests.fakes.top import FakeTop
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_office_browser import open_page

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "connections"
WIDE = {"width": 1920, "height": 1080}
SMALL = {"width": 1280, "height": 800}
KEY = "connections-browser-test-key"   # the server and this process seal with the same key


@pytest.fixture
def top():
    fake = FakeTop("23456789", "top-secret-Kq3", "6100session-Vx7").start()
    yield fake
    fake.stop()


@pytest.fixture
def server(db, db_url, tmp_path, people, monkeypatch):
    monkeypatch.setenv("WAVEFLOOR_CREDENTIALS_KEY", KEY)
    running = ServerProcess(db_url, tmp_path / "instance", {"WAVEFLOOR_CREDENTIALS_KEY": KEY}).start()
    yield running
    running.stop()


@pytest.fixture
def shops(db, monkeypatch):
    """TM-1 (Tmall) not connected yet; JD-1 connected, its token expired (需重新授权)."""
    monkeypatch.setenv("WAVEFLOOR_CREDENTIALS_KEY", KEY)
    made = {code: Shop.create(code=code, channel=channel, name=name) for code, channel, name in (
        ("TM-1", "tmall", "天猫旗舰店"), ("JD-1", "jd", "京东自营店"), ("DY-1", "douyin", "抖店小店"))}
    connections.connect("JD-1", app_key="jd-app", secret="jd-secret", session="jd-token",
                        endpoint="http://127.0.0.1:9/routerjson")
    outbox.mark_reauthorise(made["JD-1"].id, "jos: 19: access_token 已过期")
    return made


def shot(page, name, viewport):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(viewport)
    page.screenshot(path=str(SHOTS / f"{name}_{viewport['width']}.png"), full_page=viewport is WIDE)


def wait_for(check, timeout_s=20.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("not within the time")


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_the_office_connects_a_shop_and_retries_a_failed_call(server, shops, top, browser, lang):  # noqa: F811
    zh = lang != "en"
    # a trade the platform knows, modified long ago (the shop's first pull does not reach it)
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=10)
    tid = top.add_trades(1, long_ago, long_ago + dt.timedelta(hours=1), seed=3)[0]
    page = open_page(browser, server, "/connections", lang, "u-office", screen=WIDE)
    page.on("dialog", lambda dialog: dialog.accept())
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    assert page.inner_text("h1") == ("平台对接" if zh else "Connections")
    assert page.inner_text("tr[data-shop=JD-1] .state") == ("需重新授权" if zh else "Re-authorise")
    assert page.inner_text("tr[data-shop=TM-1] .state") == ("未对接" if zh else "Not connected")

    page.click("tr[data-shop=TM-1] a.button-link")  # Connect: the form, for this shop
    page.wait_for_url("**/connections?shop=TM-1#connect")
    assert page.input_value("#connect-shop") == "TM-1"
    page.fill("input[name=app_key]", top.app_key)
    page.fill("input[name=secret]", top.secret)
    page.fill("input[name=session]", top.session)
    page.fill("input[name=seller_nick]", "示例旗舰店")
    page.fill("input[name=pull_every_s]", "30")
    page.fill("input[name=endpoint]", top.url)
    page.click("#connect-form button[type=submit]")
    page.wait_for_selector("#result.ok")
    assert page.inner_text("#result").startswith("店铺 TM-1 已对接" if zh else "Shop TM-1 is connected")
    assert page.inner_text("tr[data-shop=TM-1] .state") == ("正常" if zh else "Connected")
    stored = ShopConnection.get(ShopConnection.shop == shops["TM-1"].id)
    assert stored.endpoint == top.url and stored.pull_every_s == 30 and stored.status == "ok"
    content = page.content()
    assert top.secret not in content and top.session not in content and stored.secret not in content

    # the worker's first pull of the shop (every 5 s): its checkpoints come to the page
    wait_for(lambda: top.calls["taobao.trades.sold.increment.get"] and top.calls["taobao.refunds.receive.get"])
    wait_for(lambda: {"orders", "refunds"} <= set(next(s for s in connections.views() if s["shop"] == "TM-1")["checkpoints"]))

    # Pull now: the pull runs in the background, the page says so
    asked = top.calls["taobao.trades.sold.increment.get"]
    page.click("tr[data-shop=TM-1] button.pull")
    page.wait_for_selector("#result.ok")
    assert ("正在后台拉取" if zh else "pulling its orders and refunds") in page.inner_text("#result")
    wait_for(lambda: top.calls["taobao.trades.sold.increment.get"] > asked)

    # a ship confirmation the platform refused: waits for a person
    call = ChannelCall.create(shop=shops["TM-1"].id, kind="ship", subject=tid, key=f"ship:browser:{tid}",
                              payload='{"external_id": "%s", "carrier": "SF", "tracking": "SF1000000001", '
                                      '"online": false}' % tid,
                              state="failed", attempts=3,
                              last_error="taobao.logistics.offline.send: isv.logistics-offline-service-error:B01: "
                                         "订单不存在")
    # JD-1's pulls failed as its worker words it: one long word, which must wrap in its cell
    refused = "jingdong.pop.order.search: network: 127.0.0.1:9/routerjson: [Errno 111] Connection refused"
    for operation in ("orders", "refunds"):
        SyncCheckpoint.insert(shop=shops["JD-1"].id, operation=operation, until=long_ago, last_run_at=long_ago,
                              last_error=refused).on_conflict(
            conflict_target=[SyncCheckpoint.shop, SyncCheckpoint.operation],
            update={SyncCheckpoint.last_error: refused}).execute()
    page.goto(f"{server.url}/connections")
    row = f"#failed-calls tr[data-call='{call.id}']"
    page.wait_for_selector(row)
    assert tid in page.inner_text(row) and "B01" in page.inner_text(row)
    assert page.inner_text(f"{row} td:nth-child(3)") == ("发货回传" if zh else "Shipment")
    assert page.inner_text("tr[data-shop=TM-1] td.failed") == "1"
    tag = "zh" if zh else "en"
    shot(page, f"connections_{tag}", WIDE)
    shot(page, f"connections_{tag}", SMALL)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= SMALL["width"]
    # nothing hidden sideways: the tables fit, every button of a shop in sight
    assert page.evaluate("[...document.querySelectorAll('.connections .scroll')]"
                         ".every(el => el.scrollWidth <= el.clientWidth)")
    page.set_viewport_size(WIDE)

    page.click(f"{row} button.retry")
    page.wait_for_selector("#result.ok")
    assert f"#{call.id}" in page.inner_text("#result")
    assert page.locator(row).count() == 0
    # the worker sends it now: the platform has the shipment once, the call is done
    wait_for(lambda: ChannelCall.get_by_id(call.id).state == "done")
    assert top.consigned[tid] == 1 and top.shipments[tid] == ("SF", "SF1000000001")

    # re-authorise form for JD-1: its app key back, its secrets not
    page.click("tr[data-shop=JD-1] a.button-link.urgent")
    page.wait_for_url("**/connections?shop=JD-1#connect")
    assert page.input_value("input[name=app_key]") == "jd-app"
    assert page.input_value("input[name=secret]") == "" and page.input_value("input[name=session]") == ""
    shot(page, f"reauthorise_{tag}", SMALL)

    # the control room (an admin): the shop to re-authorise and the failed calls, linked here
    ChannelCall.create(shop=shops["TM-1"].id, kind="stock", subject="TS-01-M", key="stock:browser:1",
                       payload="{}", state="failed", attempts=1, last_error="isv.item-not-exist")
    control = open_page(browser, server, "/control", lang, "u-admin", screen=WIDE)
    flag = control.wait_for_selector("#connectors-flag:not([hidden])")
    said = flag.inner_text()
    assert "JD-1" in said and ("发货回传失败 1 个" in said if zh else "1 failed platform call" in said)
    assert control.get_attribute("#connectors-flag a", "href") == "/connections"
    SHOTS.mkdir(parents=True, exist_ok=True)
    control.screenshot(path=str(SHOTS / f"control_flag_{tag}.png"), clip={"x": 0, "y": 0, "width": 1920, "height": 400})
    assert errors == []
