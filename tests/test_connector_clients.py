"""Platform clients (server/connectors) against the fake gateways of tests/fakes: signatures
checked against strings built by hand from each platform's published rule, pages that the file
adapters parse, errors sorted by kind, and every way an answer can go wrong."""
import hashlib
import hmac
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from server.channels import get_adapter
from server.channels.refunds import get_refund_adapter
from server.connectors import (CLIENTS, BadAnswer, DoudianClient, JosClient, RateLimited, Refused,
                               SessionInvalid, TopClient, Unreachable, doudian, jos, top)
from server.connectors.base import whole_seconds
from tests.fakes import FakeDoudian, FakeJos, FakeTop

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc
DAY_START = datetime(2026, 11, 10, 16, 0, tzinfo=UTC)       # 2026-11-11 00:00 in Beijing
DAY_END = DAY_START + timedelta(days=1)


def client_for(fake, cls, **options):
    return cls(fake.url, fake.app_key, fake.secret, fake.session, **options)


@pytest.fixture
def fake_top():
    with FakeTop() as fake:
        yield fake


@pytest.fixture
def top_client(fake_top):
    return client_for(fake_top, TopClient, timeout_s=5)


@pytest.fixture
def fake_jos():
    with FakeJos() as fake:
        yield fake


@pytest.fixture
def fake_doudian():
    with FakeDoudian() as fake:
        yield fake


def pull(client, start, end, page_size=100, kind="order_page"):
    """Every page of one window: (pages, records parsed by the client's adapter)."""
    pages, page_no = [], 1
    while True:
        page = getattr(client, kind)(start, end, page_no, page_size)
        pages.append(page)
        if page_no * page_size >= page.total:
            return pages
        page_no += 1


def parsed_orders(client, pages):
    adapter = get_adapter(client.order_adapter)
    orders, problems = [], []
    for page in pages:
        result = adapter.parse(page.payload)
        orders += result.orders
        problems += result.problems
    return orders, problems


# -- signatures -----------------------------------------------------------------------------
TOP_PARAMS = {"method": "taobao.item.quantity.update", "app_key": "12345678", "session": "sess-1",
              "timestamp": "2026-11-11 08:00:00", "format": "json", "v": "2.0", "num_iid": "600000001",
              "quantity": "5", "type": "1", "empty": ""}
# keys sorted, each key then its value, the empty one left out
TOP_JOINED = ("app_key12345678formatjsonmethodtaobao.item.quantity.updatenum_iid600000001quantity5"
              "sessionsess-1sign_method{m}timestamp2026-11-11 08:00:00type1v2.0")


@pytest.mark.parametrize("method", ["md5", "hmac", "hmac-sha256"])
def test_top_sign_follows_the_published_rule(method):
    params = dict(TOP_PARAMS, sign_method=method)
    joined = TOP_JOINED.format(m=method).encode()
    expected = {
        "md5": hashlib.md5(b"top-secret" + joined + b"top-secret").hexdigest(),
        "hmac": hmac.new(b"top-secret", joined, hashlib.md5).hexdigest(),
        "hmac-sha256": hmac.new(b"top-secret", joined, hashlib.sha256).hexdigest(),
    }[method].upper()
    assert top.sign(params, "top-secret", method) == expected
    assert len(expected) == (64 if method == "hmac-sha256" else 32)


def test_jos_sign_follows_the_published_rule():
    params = {"method": "jingdong.pop.order.search", "app_key": "jd-key", "access_token": "tok",
              "timestamp": "2026-11-11 08:00:00", "v": "2.0", "360buy_param_json": '{"page":"1"}'}
    joined = ('360buy_param_json{"page":"1"}access_tokentokapp_keyjd-keymethodjingdong.pop.order.search'
              "timestamp2026-11-11 08:00:00v2.0")
    expected = hashlib.md5(("s3" + joined + "s3").encode()).hexdigest().upper()
    assert jos.sign(params, "s3") == expected


def test_doudian_param_json_and_sign_follow_the_published_rule():
    body = doudian.param_json({"size": 10, "page": 0, "order_by": {"z": 1, "a": "抖"}})
    assert body == '{"order_by":{"a":"抖","z":1},"page":0,"size":10}'
    text = "dd-secret" + "app_key" + "k1" + "method" + "order.searchList" + "param_json" + body \
        + "timestamp" + "1794326400" + "v" + "2" + "dd-secret"
    assert doudian.sign("k1", "dd-secret", "order.searchList", body, "1794326400", "md5") == \
        hashlib.md5(text.encode()).hexdigest()
    assert doudian.sign("k1", "dd-secret", "order.searchList", body, "1794326400", "hmac-sha256") == \
        hmac.new(b"dd-secret", text.encode(), hashlib.sha256).hexdigest()


def test_windows_of_whole_seconds_meet_without_overlap():
    a = datetime(2026, 11, 11, 0, 0, 0, 500000, tzinfo=UTC)
    b = a + timedelta(seconds=10)
    c = b + timedelta(hours=1)
    first, second = whole_seconds(a, b), whole_seconds(b, c)
    assert first == (datetime(2026, 11, 11, 0, 0, 1, tzinfo=UTC), datetime(2026, 11, 11, 0, 0, 10, tzinfo=UTC))
    assert second[0] == first[1] + timedelta(seconds=1)
    assert whole_seconds(a, a + timedelta(microseconds=10)) is None


def test_every_client_speaks_of_its_adapters():
    for name, cls in CLIENTS.items():
        assert cls.platform == name
        get_adapter(cls.order_adapter)
        get_refund_adapter(cls.refund_adapter)
        assert cls.max_window <= timedelta(days=1) and cls.page_size_max == 100


# -- TOP ------------------------------------------------------------------------------------
def test_top_pages_parse_with_top_json(fake_top, top_client):
    tids = fake_top.add_trades(250, DAY_START, DAY_END, seed=3)
    pages = pull(top_client, DAY_START, DAY_END)
    assert [page.total for page in pages] == [250, 250, 250]
    orders, problems = parsed_orders(top_client, pages)
    assert problems == []
    assert sorted(order.external_id for order in orders) == sorted(tids)
    assert all(order.receiver_city and order.lines for order in orders)
    assert orders[0].modified_at <= orders[-1].modified_at
    sku, item_id, sku_id = pages[0].listings[0]
    assert sku and item_id.isdigit() and sku_id.isdigit()
    sent = fake_top.last_params["taobao.trades.sold.increment.get"]
    assert sent["start_modified"] == "2026-11-11 00:00:00" and sent["end_modified"] == "2026-11-11 23:59:59"
    assert "receiver_name" in sent["fields"] and "orders.outer_sku_id" in sent["fields"]


def test_top_fetches_the_address_a_search_left_out(fake_top, top_client):
    fake_top.add_trades(5, DAY_START, DAY_END, seed=4)
    fake_top.receivers_in_search = False
    [page] = pull(top_client, DAY_START, DAY_END)
    orders, problems = parsed_orders(top_client, [page])
    assert problems == [] and all(order.receiver_name == "张*" and order.receiver_province for order in orders)
    assert fake_top.calls["taobao.trade.fullinfo.get"] == 5


def test_top_answers_a_week_of_20000_trades_quickly(fake_top, top_client):
    start = DAY_START - timedelta(days=6)
    began = time.perf_counter()
    tids = fake_top.add_trades(20_000, start, DAY_END, seed=7)
    made = time.perf_counter() - began
    seen, moment, pages_needed = set(), start, 0
    while moment < DAY_END:
        pages = pull(top_client, moment, moment + top_client.max_window)
        pages_needed += max(1, -(-pages[0].total // 100))
        for page in pages:
            seen.update(str(trade["tid"]) for trade in
                        page.payload["trades_sold_increment_get_response"].get("trades", {}).get("trade", []))
        moment += top_client.max_window
    pulled = time.perf_counter() - began - made
    print(json.dumps({"trades": len(tids), "make_s": round(made, 2), "pull_s": round(pulled, 2),
                      "calls": fake_top.calls["taobao.trades.sold.increment.get"]}))
    assert seen == set(tids)
    assert fake_top.calls["taobao.trades.sold.increment.get"] == pages_needed
    assert pulled < 60


def test_a_trade_modified_mid_pull_moves_to_a_later_window(fake_top, top_client):
    tids = fake_top.add_trades(150, DAY_START, DAY_END, seed=5)
    moved = tids[0]
    later = DAY_END + timedelta(hours=2)

    def touch(method, params):
        if method == "taobao.trades.sold.increment.get" and params.get("page_no") == "1":
            fake_top.modify(moved, later, seller_memo="改了地址")

    fake_top.on_call(touch)
    first_window = {o.external_id for o in parsed_orders(top_client, pull(top_client, DAY_START, DAY_END))[0]}
    assert moved not in first_window
    next_window = parsed_orders(top_client, pull(top_client, DAY_END, DAY_END + timedelta(days=1)))[0]
    assert [(o.external_id, o.seller_memo) for o in next_window] == [(moved, "改了地址")]


def test_a_rate_limit_storm_and_calm(fake_top, top_client):
    fake_top.add_trades(3, DAY_START, DAY_END)
    fake_top.storm(True, wait_s=3)
    for _ in range(3):
        with pytest.raises(RateLimited) as caught:
            top_client.order_page(DAY_START, DAY_END, 1, 100)
        assert caught.value.retry and caught.value.wait_s == 3.0
    fake_top.storm(False)
    assert top_client.order_page(DAY_START, DAY_END, 1, 100).total == 3
    assert fake_top.calls["taobao.trades.sold.increment.get"] == 4


def test_an_expired_session(fake_top, top_client):
    fake_top.expire_session()
    with pytest.raises(SessionInvalid) as caught:
        top_client.order_page(DAY_START, DAY_END, 1, 100)
    assert not caught.value.retry and caught.value.call == "taobao.trades.sold.increment.get"


@pytest.mark.parametrize("kind, words", [
    ("html", "HTML page"), ("gbk", "not UTF-8"), ("missing_field", "total_results"),
    ("wrong_type", "total_results")])
def test_bad_answers_name_the_call(fake_top, top_client, kind, words):
    fake_top.add_trades(3, DAY_START, DAY_END)
    fake_top.fail("taobao.trades.sold.increment.get", 1, kind)
    with pytest.raises(BadAnswer) as caught:
        top_client.order_page(DAY_START, DAY_END, 1, 100)
    assert str(caught.value).startswith("taobao.trades.sold.increment.get: ")
    assert words in str(caught.value)
    assert top_client.order_page(DAY_START, DAY_END, 1, 100).total == 3   # only once


@pytest.mark.parametrize("kind", ["http500", "drop"])
def test_a_broken_gateway_is_unreachable(fake_top, top_client, kind):
    fake_top.fail("*", 1, kind)
    with pytest.raises(Unreachable) as caught:
        top_client.order_page(DAY_START, DAY_END, 1, 100)
    assert caught.value.retry


def test_a_slow_answer_times_out(fake_top):
    fake_top.slow_s = 1.0
    client = client_for(fake_top, TopClient, timeout_s=0.2)
    began = time.perf_counter()
    with pytest.raises(Unreachable) as caught:
        client.order_page(DAY_START, DAY_END, 1, 100)
    assert time.perf_counter() - began < 0.9
    assert caught.value.code == "timeout"


def test_the_internet_goes_down_and_comes_back(fake_top, top_client):
    fake_top.add_trades(2, DAY_START, DAY_END)
    port = fake_top.port
    fake_top.stop()
    with pytest.raises(Unreachable) as caught:
        top_client.order_page(DAY_START, DAY_END, 1, 100)
    assert f"127.0.0.1:{port}/router/rest" in str(caught.value)
    fake_top.start()
    assert fake_top.port == port
    assert top_client.order_page(DAY_START, DAY_END, 1, 100).total == 2


def test_a_wrong_secret_is_refused_and_never_shown(fake_top):
    client = TopClient(fake_top.url, fake_top.app_key, "not-the-secret", fake_top.session)
    with pytest.raises(Refused) as caught:
        client.order_page(DAY_START, DAY_END, 1, 100)
    assert caught.value.code == "25"
    for text in (str(caught.value), repr(client)):
        assert "not-the-secret" not in text and fake_top.session not in text


@pytest.mark.parametrize("online", [False, True])
def test_top_ship_once_then_already(fake_top, top_client, online):
    [tid] = fake_top.add_trades(1, DAY_START, DAY_END)
    assert top_client.ship(tid, "DEPPON", "DPK100001", online=online) == "sent"
    assert top_client.ship(tid, "DEPPON", "DPK100001", online=online) == "already"
    assert fake_top.consigned[tid] == 1 and fake_top.shipments[tid] == ("DBKD", "DPK100001")
    assert fake_top.trade(tid)["status"] == "WAIT_BUYER_CONFIRM_GOODS"
    method = "taobao.logistics.online.send" if online else "taobao.logistics.offline.send"
    assert fake_top.calls[method] == 2
    with pytest.raises(Refused) as caught:
        top_client.ship("1", "ZTO", "75300001")
    assert "B01" in caught.value.code


def test_top_stock_and_trace(fake_top, top_client):
    top_client.upload_stock("600000001", "500000011", 17)
    top_client.upload_stock("600000002", "", 4)
    assert fake_top.stock == {("600000001", "500000011"): 17, ("600000002", ""): 4}
    assert fake_top.last_params["taobao.item.quantity.update"]["type"] == "1"
    [tid] = fake_top.add_trades(1, DAY_START, DAY_END)
    fake_top.traces[tid] = [
        {"status_time": "2026-11-12 09:00:00", "status_desc": "【深圳】已签收，签收人：本人", "action": "SIGN"},
        {"status_time": "2026-11-11 18:00:00", "status_desc": "【深圳南山】快递员已揽收", "action": "GOT"},
        {"status_time": "2026-11-12 07:30:00", "status_desc": "【深圳】派件中"}]
    events = top_client.trace(tid, "SF100", "SF")
    assert [(e.at, e.status) for e in events] == [
        (datetime(2026, 11, 11, 10, 0, tzinfo=UTC), "collected"),
        (datetime(2026, 11, 11, 23, 30, tzinfo=UTC), "delivering"),
        (datetime(2026, 11, 12, 1, 0, tzinfo=UTC), "delivered")]


def test_top_refund_pages_parse_with_top_refund_json(fake_top, top_client):
    tids = fake_top.add_trades(3, DAY_START, DAY_END)
    for n, tid in enumerate(tids):
        fake_top.add_refund(tid, status="SUCCESS", modified=DAY_START + timedelta(hours=n))
    [page] = pull(top_client, DAY_START, DAY_END, kind="refund_page")
    result = get_refund_adapter(top_client.refund_adapter).parse(page.payload)
    assert page.total == 3 and result.problems == []
    assert sorted(r.order_external_id for r in result.refunds) == sorted(tids)


@pytest.mark.parametrize("body, kind", [
    ({"code": 7, "msg": "App Call Limited", "sub_code": "accesscontrol.limited-by-app-access-count",
      "sub_msg": "This ban will last for 12 more seconds"}, RateLimited),
    ({"code": 15, "msg": "Remote service error", "sub_code": "isv.trade-query-limit"}, RateLimited),
    ({"code": 27, "msg": "Invalid session"}, SessionInvalid),
    ({"code": 15, "sub_code": "isv.invalid-sessionkey"}, SessionInvalid),
    ({"code": 15, "sub_code": "isp.top-remote-connection-timeout"}, Unreachable),
    ({"code": 15, "sub_code": "isv.invalid-parameter", "sub_msg": "非法参数"}, Refused),
    ({"code": 25, "msg": "Invalid signature"}, Refused),
])
def test_top_error_mapping(body, kind):
    with pytest.raises(kind) as caught:
        top.raise_for_error("taobao.x", {"error_response": body})
    if kind is RateLimited and body["code"] == 7:
        assert caught.value.wait_s == 12.0


# -- JOS ------------------------------------------------------------------------------------
def test_jos_pages_ship_stock(fake_jos):
    client = client_for(fake_jos, JosClient, timeout_s=5)
    ids = fake_jos.add_orders(120, DAY_START, DAY_END, seed=2)
    pages = pull(client, DAY_START, DAY_END)
    orders, problems = parsed_orders(client, pages)
    assert problems == [] and sorted(o.external_id for o in orders) == sorted(ids)
    assert pages[0].listings[0][0] and pages[0].listings[0][2]
    sent = fake_jos.last_params["jingdong.pop.order.search"]
    assert (sent["dateType"], sent["start_date"], sent["page"]) == ("0", "2026-11-11 00:00:00", "2")
    assert client.ship(ids[0], "ZTO", "75300001") == "sent"
    assert client.ship(ids[0], "ZTO", "75300001") == "already"
    assert fake_jos.shipped[ids[0]] == 1
    assert fake_jos.last_params["jingdong.pop.order.shipment"]["logiCoprId"] == "1499"
    client.upload_stock("600000001", "500000011", 9)
    assert fake_jos.stock == {"500000011": 9}
    assert client.trace(ids[0], "75300001", "ZTO") == []


def test_jos_refund_pages_and_errors(fake_jos):
    client = client_for(fake_jos, JosClient, timeout_s=5)
    ids = fake_jos.add_orders(2, DAY_START, DAY_END)
    fake_jos.add_service(ids[0], status=10010, updated=DAY_START + timedelta(hours=1))
    [page] = pull(client, DAY_START, DAY_END, kind="refund_page")
    result = get_refund_adapter(client.refund_adapter).parse(page.payload)
    assert result.problems == [] and [r.order_external_id for r in result.refunds] == [ids[0]]
    for kind, error in (("rate_limit", RateLimited), ("session", SessionInvalid), ("refused", Refused),
                        ("missing_field", BadAnswer), ("wrong_type", BadAnswer), ("gbk", BadAnswer),
                        ("html", BadAnswer), ("http500", Unreachable)):
        fake_jos.fail("jingdong.pop.order.search", 1, kind)
        with pytest.raises(error) as caught:
            client.order_page(DAY_START, DAY_END, 1, 100)
        assert caught.value.call == "jingdong.pop.order.search", kind
    with pytest.raises(Refused):
        JosClient(fake_jos.url, fake_jos.app_key, "wrong", fake_jos.session).order_page(DAY_START, DAY_END, 1, 10)


# -- 抖店 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sign_method", ["md5", "hmac-sha256"])
def test_doudian_pages_ship_stock(fake_doudian, sign_method):
    client = client_for(fake_doudian, DoudianClient, sign_method=sign_method, timeout_s=5)
    ids = fake_doudian.add_orders(130, DAY_START, DAY_END, seed=6)
    pages = pull(client, DAY_START, DAY_END)
    orders, problems = parsed_orders(client, pages)
    assert problems == [] and sorted(o.external_id for o in orders) == sorted(ids)
    sent = fake_doudian.last_params["order.searchList"]
    assert (sent["page"], sent["update_time_start"], sent["update_time_end"]) == \
        (1, int(DAY_START.timestamp()), int(DAY_END.timestamp()) - 1)
    assert client.ship(ids[0], "SF", "SF1400000001") == "sent"
    assert client.ship(ids[0], "SF", "SF1400000001") == "already"
    assert fake_doudian.shipped[ids[0]] == 1
    client.upload_stock("600000001", "500000011", 3)
    assert fake_doudian.stock == {("600000001", "500000011"): 3}


def test_doudian_refund_pages_and_errors(fake_doudian):
    client = client_for(fake_doudian, DoudianClient, timeout_s=5)
    ids = fake_doudian.add_orders(2, DAY_START, DAY_END)
    fake_doudian.add_after_sale(ids[1], status=12, updated=int(DAY_START.timestamp()) + 60)
    [page] = pull(client, DAY_START, DAY_END, kind="refund_page")
    result = get_refund_adapter(client.refund_adapter).parse(page.payload)
    assert result.problems == [] and [r.order_external_id for r in result.refunds] == [ids[1]]
    for kind, error in (("rate_limit", RateLimited), ("session", SessionInvalid), ("refused", Refused),
                        ("missing_field", BadAnswer), ("wrong_type", BadAnswer), ("gbk", BadAnswer),
                        ("html", BadAnswer), ("http500", Unreachable), ("drop", Unreachable)):
        fake_doudian.fail("order.searchList", 1, kind)
        with pytest.raises(error) as caught:
            client.order_page(DAY_START, DAY_END, 1, 100)
        assert caught.value.call == "order.searchList", kind
    fake_doudian.stop()
    with pytest.raises(Unreachable) as caught:
        client.order_page(DAY_START, DAY_END, 1, 100)
    assert fake_doudian.session not in str(caught.value)   # the token rides in the query string
    with pytest.raises(Refused):
        fake_doudian.start()
        DoudianClient(fake_doudian.url, fake_doudian.app_key, "wrong", fake_doudian.session).order_page(
            DAY_START, DAY_END, 1, 10)


def test_clients_work_under_gevent_monkey_patching():
    script = """
from gevent import monkey; monkey.patch_all()
import gevent
from datetime import datetime, timedelta, timezone
from server.connectors import TopClient, Unreachable
from tests.fakes import FakeTop
start = datetime(2026, 11, 10, 16, tzinfo=timezone.utc)
fake = FakeTop().start()
fake.add_trades(300, start, start + timedelta(days=1))
client = TopClient(fake.url, fake.app_key, fake.secret, fake.session, timeout_s=5)
jobs = [gevent.spawn(client.order_page, start, start + timedelta(days=1), n, 100) for n in (1, 2, 3)]
gevent.joinall(jobs, raise_error=True)
assert sum(len(j.value.payload["trades_sold_increment_get_response"]["trades"]["trade"]) for j in jobs) == 300
fake.slow_s = 1
try:
    TopClient(fake.url, fake.app_key, fake.secret, fake.session, timeout_s=0.2).order_page(
        start, start + timedelta(days=1), 1, 100)
except Unreachable as error:
    print("ok", error.code)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok timeout")
