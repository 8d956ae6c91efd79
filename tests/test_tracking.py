"""Tracking (物流轨迹): parcels' steps pulled from the fake TOP gateway and pushed by carriers to
the signed endpoint, shown on the order, and counted in the delivery-time report. Both engines."""
from __future__ import annotations

import datetime as dt
import json
import statistics

import pytest

from server.models import Lease, Order, Package, Shop, ShopConnection, SyncCheckpoint, TrackingEvent
from server.models.base import utcnow
from server.services.connectors import connections, leases, tracking, worker
from tests.fakes.top import FakeTop, beijing

UTC = dt.timezone.utc
TRACE = "taobao.logistics.trace.search"
SECRET = "push-secret"


@pytest.fixture
def top():
    fake = FakeTop().start()
    yield fake
    fake.stop()


def connect(top, code="TM-1"):
    Shop.get_or_create(code=code, defaults={"channel": "tmall", "name": "天猫旗舰店"})
    connections.connect(code, app_key=top.app_key, secret=top.secret, session=top.session, endpoint=top.url,
                        seller_nick=top.seller_nick)
    return connections.client_for(connections.of_shop(code))


def shipped(tid: str, number: str, *, carrier="SF", shop="TM-1", ago=dt.timedelta(hours=20), paid_before=None,
            province="浙江省", state="shipped") -> Package:
    now = utcnow().replace(microsecond=0)
    order = Order.create(channel="tmall", shop=shop, external_id=tid, status="shipped" if state == "shipped" else "packed",
                         carrier=carrier, receiver_province=province,
                         paid_at=now - ago - (paid_before or dt.timedelta(hours=6)))
    return Package.create(order=order, state=state, carrier=carrier, tracking=number,
                          shipped_at=now - ago if state == "shipped" else None)


def step(hours_ago: float, action: str, desc: str, place: str = "") -> dict:
    moment = (dt.datetime.now(UTC) - dt.timedelta(hours=hours_ago)).replace(microsecond=0)
    found = {"status_time": beijing(moment), "status_desc": desc, "action": action}
    if place:
        found["node_description"] = place
    return found


def naive(beijing_text: str) -> dt.datetime:
    return (dt.datetime.strptime(beijing_text, "%Y-%m-%d %H:%M:%S")
            .replace(tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(UTC).replace(tzinfo=None))


# --- pulled from the platform -------------------------------------------------------------------

def test_a_trace_pulled_twice_is_stored_once(db, top):
    client = connect(top)
    package = shipped("3900000001", "SF1000000001")
    got, left = step(18, "GOT", "顺丰速运 已收取快件", "杭州"), step(12, "DEPARTURE", "快件已发车", "杭州中转场")
    top.traces["3900000001"] = [got, left]

    first = tracking.pull_traces("TM-1", client)
    second = tracking.pull_traces("TM-1", client)

    assert (first.asked, first.stored, second.asked, second.stored) == (1, 2, 1, 0)
    assert top.calls[TRACE] == 2
    steps = list(TrackingEvent.select().order_by(TrackingEvent.at))
    assert [(s.status, s.place, s.source) for s in steps] == [("collected", "杭州", "top"),
                                                                ("in_transit", "杭州中转场", "top")]
    package = Package.get_by_id(package.id)
    assert package.tracking_status == "in_transit" and package.delivered_at is None
    assert package.collected_at == naive(got["status_time"])


def test_a_delivered_parcel_is_no_longer_asked_nor_one_shipped_long_ago_or_not_shipped(db, top):
    client = connect(top)
    package = shipped("3900000002", "SF1000000002")
    shipped("3900000003", "SF1000000003", ago=dt.timedelta(days=31))
    shipped("3900000004", "SF1000000004", state="labelled")
    signed = step(1, "SIGNED", "已签收，签收人：本人")
    top.traces["3900000002"] = [step(18, "GOT", "已揽收"), step(3, "SENT_SCAN", "派件中"), signed]

    report = tracking.pull_traces("TM-1", client)
    assert (report.asked, report.stored, report.delivered) == (1, 3, 1)
    package = Package.get_by_id(package.id)
    assert package.tracking_status == "delivered" and package.delivered_at == naive(signed["status_time"])

    again = tracking.pull_traces("TM-1", client)
    assert again.asked == 0 and top.calls[TRACE] == 1
    assert top.last_params[TRACE]["tid"] == "3900000002"


def test_steps_arriving_out_of_order_give_the_same_status(db, top):
    client = connect(top)
    package = shipped("3900000005", "SF1000000005")
    late = step(2, "ARRIVAL", "到达杭州转运中心")
    top.traces["3900000005"] = [late]
    tracking.pull_traces("TM-1", client)
    top.traces["3900000005"] = [step(10, "GOT", "已揽收"), late]   # an older step the carrier sent late
    tracking.pull_traces("TM-1", client)
    package = Package.get_by_id(package.id)
    assert package.tracking_status == "in_transit" and TrackingEvent.select().count() == 2
    assert package.collected_at < naive(late["status_time"])


def test_a_round_goes_on_where_the_last_stopped_and_starts_again_when_all_were_asked(db, top):
    client = connect(top)
    for n in range(3):
        shipped(f"39000000{n}", f"SF20000000{n}", ago=dt.timedelta(hours=30 - n))
    asked = []
    top.on_call(lambda method, params: asked.append(params["tid"]) if method == TRACE else None)
    for _ in range(3):
        tracking.pull_traces("TM-1", client, limit=2)
    assert asked == ["390000000", "390000001", "390000002", "390000000", "390000001"]


def test_an_expired_session_stops_the_round_and_asks_for_reauthorisation(db, top):
    client = connect(top)
    shipped("3900000006", "SF1000000006")
    top.traces["3900000006"] = [step(5, "GOT", "已揽收")]
    top.expire_session()
    report = tracking.pull_traces("TM-1", client)
    assert report.stopped == "session" and report.asked == 0 and TrackingEvent.select().count() == 0
    assert ShopConnection.get().status == "reauthorise"


def test_an_unreachable_platform_stops_the_round_and_the_next_one_asks_again(db, top):
    client = connect(top)
    shipped("3900000007", "SF1000000007")
    shipped("3900000008", "SF1000000008", ago=dt.timedelta(hours=10))
    top.traces["3900000007"] = [step(5, "GOT", "已揽收")]
    top.stop()
    report = tracking.pull_traces("TM-1", client)
    assert report.stopped == "unreachable" and report.asked == 0
    mark = SyncCheckpoint.get(SyncCheckpoint.operation == "trace")
    assert mark.last_error and mark.last_run_at is not None
    top.start()
    report = tracking.pull_traces("TM-1", client)
    assert report.stopped == "" and report.asked == 2 and report.stored == 1


def test_an_answer_about_one_parcel_that_cannot_be_read_does_not_stop_the_others(db, top):
    client = connect(top)
    shipped("3900000009", "SF1000000009", ago=dt.timedelta(hours=20))
    shipped("3900000010", "SF1000000010", ago=dt.timedelta(hours=10))
    top.traces["3900000010"] = [step(5, "GOT", "已揽收")]
    top.fail(TRACE, 1, "html")
    report = tracking.pull_traces("TM-1", client)
    assert report.asked == 2 and report.stored == 1 and report.stopped == ""
    assert len(report.problems) == 1 and "3900000009" in report.problems[0]
    assert "3900000009" in SyncCheckpoint.get(SyncCheckpoint.operation == "trace").last_error


def test_one_process_a_shop(db, top):
    client = connect(top)
    shipped("3900000011", "SF1000000011")
    shop = Shop.get(Shop.code == "TM-1")
    assert leases.take(f"trace:{shop.id}", "another-server", 60)
    report = tracking.pull_traces("TM-1", client)
    assert report.stopped == "leased" and top.calls[TRACE] == 0
    Lease.update(until=utcnow() - dt.timedelta(seconds=1)).execute()
    assert tracking.pull_traces("TM-1", client).asked == 1


def test_the_worker_pulls_a_shops_traces_every_half_hour(db, top):
    connect(top)
    shipped("3900000012", "SF1000000012")
    top.traces["3900000012"] = [step(5, "GOT", "已揽收")]
    now = utcnow()
    done = worker.run_once("w1", now=now)
    assert [t["stored"] for t in done["traces"]] == [1]
    assert "traces" not in worker.run_once("w1", now=now + dt.timedelta(minutes=10))
    assert len(worker.run_once("w1", now=now + tracking.EVERY)["traces"]) == 1
    assert top.calls[TRACE] == 2


# --- pushed by a carrier ------------------------------------------------------------------------

@pytest.fixture
def push(app):
    app.config["WF"]["TRACKING_PUSH_SECRET"] = SECRET
    client = app.test_client()

    def send(carrier: str, body, secret: str = SECRET, signature: str | None = None):
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json",
                   "X-Wavefloor-Signature": signature if signature is not None else tracking.sign(secret, raw)}
        return client.post(f"/api/v1/carriers/{carrier}/tracking", data=raw, headers=headers)
    return send


def events(*rows) -> dict:
    return {"events": list(rows)}


def row(number, at, status, detail="", place=""):
    return {"tracking": number, "at": at, "status": status, "detail": detail, "place": place}


@pytest.mark.parametrize("how", ["wrong secret", "no signature", "body changed"])
def test_a_push_without_the_right_signature_is_refused_and_nothing_stored(db, push, how):
    shipped("3900000020", "SF3000000001")
    body = events(row("SF3000000001", "2026-11-11T08:00:00+08:00", "collected"))
    if how == "wrong secret":
        response = push("SF", body, secret="guessed")
    elif how == "no signature":
        response = push("SF", body, signature="")
    else:
        signature = tracking.sign(SECRET, json.dumps(body).encode())
        response = push("SF", events(row("SF3000000001", "2026-11-11T08:00:00+08:00", "delivered")),
                        signature=signature)
    assert response.status_code == 401 and response.get_json()["code"] == "bad_credentials"
    assert TrackingEvent.select().count() == 0 and Package.get().tracking_status == ""


def test_no_push_is_taken_while_the_secret_is_not_set(db, app, push):
    shipped("3900000021", "SF3000000002")
    app.config["WF"]["TRACKING_PUSH_SECRET"] = ""
    response = push("SF", events(row("SF3000000002", "2026-11-11T08:00:00+08:00", "collected")), secret="")
    assert response.status_code == 401 and TrackingEvent.select().count() == 0


def test_a_push_with_one_bad_row_stores_the_others_and_names_the_bad_one(db, push):
    package = shipped("3900000022", "SF3000000003")
    body = events(row("SF3000000003", "2026-11-11T08:00:00+08:00", "collected", "已揽收", "杭州"),
                  row("SF3000000003", "2026-11-11 12:00:00", "in_transit"),              # no zone
                  row("SF3000000003", "2026-11-12T01:30:00Z", "delivered", "已签收", "上海"),
                  row("SF9999999999", "2026-11-11T09:00:00+08:00", "collected"),           # not ours
                  row("SF3000000003", "2026-11-11T10:00:00+08:00", "lost"),                # no such status
                  "not a row")
    response = push("SF", body)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert (report["received"], report["stored"], report["duplicates"]) == (6, 2, 0)
    assert report["unknown"] == ["SF9999999999"]
    assert [p.split(":")[0] for p in report["problems"]] == ["events[1].at", "events[4].status", "events[5].row"]
    package = Package.get_by_id(package.id)
    assert package.tracking_status == "delivered"
    assert package.collected_at == dt.datetime(2026, 11, 11, 0, 0) and package.delivered_at == dt.datetime(2026, 11, 12, 1, 30)
    assert {e.source for e in TrackingEvent.select()} == {"push:SF"}

    again = push("SF", body).get_json()
    assert (again["stored"], again["duplicates"]) == (0, 2) and TrackingEvent.select().count() == 2


def test_a_pushed_step_and_the_same_step_pulled_are_one(db, push, top):
    client = connect(top)
    package = shipped("3900000023", "SF3000000004")
    got = step(5, "GOT", "已揽收")
    top.traces["3900000023"] = [got]
    moment = naive(got["status_time"]).replace(tzinfo=UTC).isoformat()
    assert push("SF", events(row("SF3000000004", moment, "collected"))).get_json()["stored"] == 1
    assert tracking.pull_traces("TM-1", client).stored == 0
    assert TrackingEvent.select().where(TrackingEvent.package == package.id).count() == 1


def test_a_push_for_another_carriers_parcel_is_unknown(db, push):
    shipped("3900000024", "SF3000000005")
    report = push("ZTO", events(row("SF3000000005", "2026-11-11T08:00:00+08:00", "collected"))).get_json()
    assert report["unknown"] == ["SF3000000005"] and TrackingEvent.select().count() == 0


@pytest.mark.parametrize("body", [b"<html>", b'{"events": {"tracking": "x"}}', b"[1, 2]", "\u00e9".encode("latin-1")])
def test_a_signed_body_that_is_not_a_list_of_events_is_refused(db, push, body):
    response = push("SF", body)
    assert response.status_code == 400 and response.get_json()["code"] == "tracking_push_unreadable"


# --- shown on the order --------------------------------------------------------------------------

def test_the_order_shows_its_parcels_steps_in_the_warehouses_zone(db, client, people, token_for, push):
    package = shipped("3900000030", "SF4000000001")
    push("SF", events(row("SF4000000001", "2026-11-11T00:30:00Z", "collected", "顺丰速运 已收取快件", "杭州萧山"),
                      row("SF4000000001", "2026-11-12T02:00:00Z", "delivering", "派件中", "上海")))
    detail = client.get(f"/api/v1/orders/{package.order_id}", headers={"Authorization": f"Bearer {token_for('office')}"})
    steps = detail.get_json()["tracking"]
    assert [(s["status"], s["status_zh"], s["place"]) for s in steps] == [("collected", "已揽收", "杭州萧山"),
                                                                          ("delivering", "派送中", "上海")]
    assert steps[0]["at"].startswith("2026-11-11T00:30:00")

    client.post("/login", data={"user": "u-office", "password": "secret-pass"})
    page = client.get(f"/orders/{package.order_id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "物流轨迹" in page and "2026-11-11 08:30" in page and "已揽收" in page and "杭州萧山" in page
    client.get("/lang/en")
    page = client.get(f"/orders/{package.order_id}").get_data(as_text=True)
    assert "Tracking" in page and "Out for delivery" in page and "2026-11-12 10:00" in page


# --- delivery times ------------------------------------------------------------------------------

def straight(since: dt.datetime, until: dt.datetime) -> dict:
    """The report's figures worked out directly from the tables, row by row."""
    groups = {}
    for package in Package.select().where(Package.state == "shipped"):
        if not since <= package.shipped_at < until:
            continue
        order = Order.get_by_id(package.order_id)
        groups.setdefault((package.carrier, order.receiver_province), []).append((order, package))
    found = {}
    for key, pairs in groups.items():
        legs = {}
        for leg, begin, end in (("paid_to_shipped", lambda o, p: o.paid_at, lambda o, p: p.shipped_at),
                                ("shipped_to_collected", lambda o, p: p.shipped_at, lambda o, p: p.collected_at),
                                ("shipped_to_delivered", lambda o, p: p.shipped_at, lambda o, p: p.delivered_at)):
            hours = [(end(o, p) - begin(o, p)).total_seconds() / 3600 for o, p in pairs
                     if begin(o, p) and end(o, p)]
            legs[leg] = (len(hours), statistics.median(hours) if hours else None,
                         (statistics.quantiles(hours, n=10, method="inclusive")[8] if len(hours) > 1 else
                          hours[0] if hours else None))
        found[key] = (len(pairs), legs)
    return found


def test_the_delivery_report_equals_a_straight_computation_from_the_tables(db, client, people, token_for):
    import random
    rng = random.Random(5)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    for n in range(60):
        carrier, province = rng.choice(["SF", "ZTO", "YTO"]), rng.choice(["浙江省", "广东省", "北京"])
        package = shipped(f"39100000{n:02d}", f"T{n:09d}", carrier=carrier, province=province,
                          ago=dt.timedelta(hours=rng.randint(2, 24 * 9)),
                          paid_before=dt.timedelta(minutes=rng.randint(10, 3000)))
        collected = package.shipped_at + dt.timedelta(minutes=rng.randint(5, 900)) if rng.random() < .8 else None
        delivered = collected + dt.timedelta(hours=rng.randint(10, 90)) if collected and rng.random() < .6 else None
        Package.update(collected_at=collected, delivered_at=delivered).where(Package.id == package.id).execute()
    shipped("3919999999", "T999999999", ago=dt.timedelta(days=40))  # outside the period
    since = today - dt.timedelta(days=10)
    headers = {"Authorization": f"Bearer {token_for('office')}"}
    response = client.get("/api/v1/reports/delivery", query_string={"since": since.isoformat(),
                                                                     "until": today.isoformat()}, headers=headers)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    zone = dt.timezone(dt.timedelta(hours=8))
    start = dt.datetime.combine(since, dt.time(), zone).astimezone(UTC).replace(tzinfo=None)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone).astimezone(UTC).replace(tzinfo=None)
    expected = straight(start, end)
    assert {(r["carrier"], r["province"]) for r in report["rows"]} == set(expected)
    for r in report["rows"]:
        parcels, legs = expected[(r["carrier"], r["province"])]
        assert r["parcels"] == parcels
        for leg, (count, median, p90) in legs.items():
            assert r[leg]["count"] == count
            assert r[leg]["median_h"] == (pytest.approx(median, abs=0.006) if median is not None else None)
            assert r[leg]["p90_h"] == (pytest.approx(p90, abs=0.006) if p90 is not None else None)
    assert report["all"]["parcels"] == 60 == sum(r["parcels"] for r in report["rows"])


def test_the_delivery_report_is_for_the_office_not_the_floor(db, client, people, token_for):
    url = "/api/v1/reports/delivery"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": f"Bearer {token_for('picker', device='HH-01')}"}).status_code == 403
    for role in ("office", "supervisor", "admin"):
        answer = client.get(url, headers={"Authorization": f"Bearer {token_for(role)}"})
        assert answer.status_code == 200 and answer.get_json()["all"]["parcels"] == 0
    wrong = client.get(url, query_string={"since": "2026-02-01", "until": "2026-01-01"},
                       headers={"Authorization": f"Bearer {token_for('office')}"})
    assert wrong.status_code == 400 and wrong.get_json()["code"] == "bad_period"
