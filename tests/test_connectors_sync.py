"""Shops pulled from and told back through the fake platforms, speaking TOP's protocol over HTTP:
a week of orders with orders modified during the pull and a rate-limit storm (4,000 here;
tests/bench/bench_connectors.py pulls the 20,000 of DESIGN section 11 the same way), a process
killed in the middle of a pull and of the outbox, the internet gone for a day of packing. Both
engines."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.models import ChannelCall, ChannelListing, Order, Product, Shop, ShopConnection, SyncCheckpoint
from server.models.base import utcnow
from server.services.connectors import connections, outbox, pull, worker
from tests.fakes.top import CATALOG, FakeTop
from tests.scenario_driver import Driver
from tests.test_packing import emulator, floor, picked_order, printer, station  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc


@pytest.fixture
def top():
    fake = FakeTop().start()
    yield fake
    fake.stop()


def connect(top, code="TM-1", channel="tmall"):
    if Shop.get_or_none(Shop.code == code) is None:
        Shop.create(code=code, channel=channel, name="天猫旗舰店")
    connections.connect(code, app_key=top.app_key, secret=top.secret, session=top.session, endpoint=top.url,
                        seller_nick=top.seller_nick, push_stock=True)
    return connections.client_for(connections.of_shop(code))


def catalog():
    for sku, _, _, title, _ in CATALOG:
        Product.get_or_create(sku=sku, defaults={"name": title})


def stored_ids(code="TM-1") -> list[str]:
    return [o.external_id for o in Order.select(Order.external_id).where(Order.shop == code)]


WEEK = 4_000        # orders over the week: about forty searches of a hundred
MODIFIED_AT = 8      # the search at which buyers change orders of the window being read
STORM = (16, 31)     # the searches the rate-limit storm runs over: its refused calls count too


def test_a_week_of_orders_with_changes_and_a_storm_arrives_once(db, top):
    catalog()
    client = connect(top)
    now = utcnow().replace(microsecond=0)
    start = now - dt.timedelta(days=7)
    tids = top.add_trades(WEEK, start.replace(tzinfo=UTC), (now - dt.timedelta(minutes=1)).replace(tzinfo=UTC),
                          seed=7)
    searches, modified, slept = [0], [], []

    def meanwhile(method, params):
        if method != "taobao.trades.sold.increment.get":
            return
        searches[0] += 1
        if searches[0] == MODIFIED_AT:   # buyers change orders of the window being read, on pages not read yet
            first_page = top.trades.window(params["start_modified"], params["end_modified"], 1, 100)[1]
            for trade in first_page[:25]:
                top.modify(trade["tid_str"])
                modified.append(trade["tid_str"])
        if searches[0] == STORM[0]:
            top.storm(True)
        if searches[0] == STORM[1]:   # the storm's calls count too: it lasts fifteen of them
            top.storm(False)
    top.on_call(meanwhile)

    report = pull.pull("TM-1", "orders", client, now=now, since=start, sleep=slept.append)
    assert report.stopped == "" and report.error == "", report
    assert report.rate_limited >= 10 and sum(slept) == pytest.approx(report.waited_s)
    ids = stored_ids()
    assert len(ids) == len(set(ids)), "an order stored twice"
    # every order is here but those modified during the pull to a time after its end: those come next time
    assert searches[0] > STORM[1] and len(modified) == 25
    assert set(tids) - set(ids) <= set(modified) and len(ids) >= WEEK - len(modified)
    assert SyncCheckpoint.get(SyncCheckpoint.operation == "orders").until == now
    assert ChannelListing.select().count() == len(CATALOG)

    again = pull.pull("TM-1", "orders", client, now=utcnow(), sleep=slept.append)
    ids = stored_ids()
    assert sorted(ids) == sorted(tids) and again.created <= len(modified)
    quiet = pull.pull("TM-1", "orders", client, now=utcnow(), sleep=slept.append)
    assert quiet.created == 0 and quiet.changed == 0 and Order.select().count() == WEEK


def test_a_pulled_order_and_the_same_order_from_a_file_are_one_order(db, top):
    catalog()
    client = connect(top)
    now = utcnow()
    [tid] = top.add_trades(1, (now - dt.timedelta(hours=2)).replace(tzinfo=UTC),
                           (now - dt.timedelta(hours=1)).replace(tzinfo=UTC))
    pull.pull("TM-1", "orders", client, now=now)
    from server.services.orders import intake
    from server.channels import get_adapter
    payload = {"trade_fullinfo_get_response": {"trade": top.trade(tid)}}
    parsed = get_adapter("top_json").parse(payload, shop="TM-1")
    parsed.orders[0].channel = "tmall"  # as the shop's Tmall 订单报表 names it
    report = intake.import_parsed(parsed)
    assert report.created == 0 and Order.select().count() == 1


def test_an_expired_session_stops_the_pull_and_asks_for_reauthorisation(db, top):
    client = connect(top)
    top.add_trades(10, *(m.replace(tzinfo=UTC) for m in (utcnow() - dt.timedelta(hours=3), utcnow())))
    top.expire_session()
    report = pull.pull("TM-1", "orders", client)
    assert report.stopped == "session" and Order.select().count() == 0
    assert ShopConnection.get().status == "reauthorise"
    assert connections.needing_attention()[0]["shop"] == "TM-1"
    assert SyncCheckpoint.get(SyncCheckpoint.operation == "orders").until == report.until  # the starting point


@pytest.mark.parametrize("kind", ["missing_field", "wrong_type", "gbk", "html"])
def test_an_answer_that_cannot_be_read_stops_at_the_checkpoint_with_nothing_half_stored(db, top, kind, caplog):
    catalog()
    client = connect(top)
    now = utcnow()
    top.add_trades(150, (now - dt.timedelta(hours=3)).replace(tzinfo=UTC), now.replace(tzinfo=UTC), seed=3)
    top.fail("taobao.trades.sold.increment.get", 1, kind)
    report = pull.pull("TM-1", "orders", client, now=now, since=now - dt.timedelta(hours=4), page_size=50)
    assert report.stopped and "TM-1" in caplog.text or report.error
    # the checkpoint holds the starting point, where the next pull begins again
    assert report.windows == 0 and SyncCheckpoint.get(SyncCheckpoint.operation == "orders").until == (
        now - dt.timedelta(hours=4) + pull.OVERLAP)
    assert all(len(o.lines) > 0 for o in Order.select())  # no order without its lines
    after = pull.pull("TM-1", "orders", client, now=now, page_size=50)  # not told where to start again
    assert after.error == "" and Order.select().count() == 150


# --- processes killed in the middle ---------------------------------------------------------------------

def wavefloor(db_url, tmp_path, *args) -> subprocess.Popen:
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"),
               WAVEFLOOR_SECRET_KEY="test-secret")
    return subprocess.Popen([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until(check, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_pull_killed_midway_misses_nothing_after_restart(db, db_url, tmp_path, top):
    catalog()
    client = connect(top)
    now = utcnow()
    tids = top.add_trades(1_500, (now - dt.timedelta(days=3)).replace(tzinfo=UTC),
                          (now - dt.timedelta(minutes=5)).replace(tzinfo=UTC), seed=11)
    top.slow_s = 0.02
    process = wavefloor(db_url, tmp_path, "shop", "pull", "TM-1", "--operation", "orders",
                        "--since", (now - dt.timedelta(days=3, minutes=1)).isoformat())
    wait_until(lambda: Order.select().count() >= 300)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < Order.select().count() < 1_500
    top.slow_s = 0
    report = pull.pull("TM-1", "orders", client, holder="after-restart", now=utcnow())
    assert report.stopped in ("", "leased") or report
    if report.stopped == "leased":  # the killed process's lease runs out first
        from server.models import Lease
        Lease.update(until=utcnow() - dt.timedelta(seconds=1)).execute()
        report = pull.pull("TM-1", "orders", client, holder="after-restart", now=utcnow())
    ids = stored_ids()
    assert sorted(ids) == sorted(tids) and len(ids) == len(set(ids))


def test_an_outbox_killed_midway_confirms_every_shipment_once(db, db_url, tmp_path, top):
    connect(top)
    shop = Shop.get(Shop.code == "TM-1")
    tids = top.add_trades(120, *(m.replace(tzinfo=UTC) for m in (utcnow() - dt.timedelta(hours=5), utcnow())))
    for n, tid in enumerate(tids):
        order = Order.create(channel="tmall", shop="TM-1", external_id=tid, status="shipped")
        outbox.ship_confirmations(order, f"ZT{n:010d}", "ZTO")
    assert ChannelCall.select().count() == 120
    top.slow_s = 0.03
    process = wavefloor(db_url, tmp_path, "shop", "sync")
    wait_until(lambda: sum(top.consigned.values()) >= 30)
    process.send_signal(signal.SIGKILL)
    process.wait()
    top.slow_s = 0
    from server.models import Lease
    Lease.update(until=utcnow() - dt.timedelta(seconds=1)).execute()      # the killed worker's leases run out
    ChannelCall.update(claimed_until=utcnow() - dt.timedelta(seconds=1)).where(ChannelCall.state == "sending").execute()
    while outbox.due_shops():
        worker.run_once("after-restart")
    assert ChannelCall.select().where(ChannelCall.state != "done").count() == 0
    assert set(top.consigned) == set(tids) and max(top.consigned.values()) == 1
    assert shop.id


# --- the internet gone for a day ----------------------------------------------------------------------

PACKING = Driver("packing")


def test_a_day_without_internet_never_stops_packing_and_the_outbox_drains_in_order(floor, printer, people, top):
    from server.models import Wave
    connect(top, code="tm-shop")
    wh, locs, mug = floor["warehouse"], floor["locations"], floor["mug"]
    wave = Wave.create(code="W-DAY", warehouse=wh, strategy="single_unit", status="picked")
    orders = [picked_order(f"39000000000{n:02d}", [(mug, locs["A-02"], 1)], wave=wave, tote=None, actor=floor["actor"])
              for n in range(8)]
    for order in orders:
        top.add_trade(dict(top.make_trade(__import__("random").Random(1), dt.datetime.now(UTC), "WAIT_SELLER_SEND_GOODS"),
                           tid=int(order.external_id), tid_str=order.external_id))
    bulk = floor["totes"]["T-004"]
    from server.models import PickLine, PickTask
    from server.services.stock import inventory
    task = PickTask.create(wave=wave, code="W-DAY-T1", status="done")
    line = PickLine.create(task=task, seq=1, product=mug, location=locs["A-02"], qty=8, picked_qty=8, tote=bulk.code,
                           status="done")
    inventory.move(mug, locs["A-02"], bulk, 8, actor=floor["actor"], reserved=8, reason="pick", ref=f"pick:{line.id}")
    top.stop()   # the internet is gone
    packer = station(people)
    for order in orders:
        state, data, _ = PACKING.step(packer, "scan", code="6900000000021")
        PACKING.step(packer, "weight", grams=440)
        PACKING.step(packer, "ship")
        worker.run_once("floor-server")  # the worker tries, and fails, all day long
    assert [Order.get_by_id(o.id).status for o in orders] == ["shipped"] * 8
    assert ChannelCall.select().where(ChannelCall.state == "pending").count() == 8
    assert all(c.attempts >= 1 for c in ChannelCall.select().limit(1))
    sent = []
    top.on_call(lambda method, params: sent.append(params.get("tid")) if method.endswith("offline.send") else None)
    top.start()  # back on the same port
    ChannelCall.update(next_at=utcnow()).execute()  # the backoff has run out
    while outbox.due_shops():
        worker.run_once("floor-server")
    shipped_order = [o.external_id for o in Order.select().where(Order.id.in_([o.id for o in orders]))
                     .order_by(Order.id)]
    assert sent == shipped_order and all(top.consigned[t] == 1 for t in shipped_order)
    assert ChannelCall.select().where(ChannelCall.state != "done").count() == 0
