"""The platform outbox (发货回传, 库存同步) and the pieces under it: sealed credentials, leases.

The outbox's own rules are tested here against a client that records what it is asked and
answers from a script; the same worker against the fake platforms speaking their protocols is
in test_connectors_sync.py."""
from __future__ import annotations

import datetime as dt

import pytest

from server.connectors.errors import RateLimited, Refused, SessionInvalid, Unreachable
from server.models import ChannelCall, Order, OrderEvent, Shop, ShopConnection
from server.models.base import utcnow
from server.services.connectors import connections, credentials, leases, outbox


class Platform:
    """A client that records the calls it is given and answers from ``script`` (by subject)."""
    platform = "top"

    def __init__(self, script=None):
        self.script = dict(script or {})
        self.sent = []

    def _answer(self, subject):
        outcome = self.script.get(subject)
        if isinstance(outcome, list):
            outcome = outcome.pop(0) if outcome else None
        if isinstance(outcome, Exception):
            raise outcome
        self.sent.append(subject)
        return outcome or "sent"

    def ship(self, external_id, carrier, tracking, online=False):
        return self._answer(external_id)

    def upload_stock(self, item_id, sku_id, qty):
        self._answer(f"{item_id}:{qty}")


@pytest.fixture
def shop(db):
    shop = Shop.create(code="TM-1", channel="tmall", name="Tmall flagship")
    connections.connect("TM-1", app_key="12345678", secret="s3cret-app", session="6100-session",
                        endpoint="http://127.0.0.1:9/router/rest")
    return shop


def order(shop, number: str) -> Order:
    return Order.create(channel="tmall", shop=shop.code, external_id=number, status="shipped")


def ship_call(shop, the_order, tracking="ZT1"):
    return outbox.enqueue(shop.id, "ship", the_order.id, {"external_id": the_order.external_id, "carrier": "ZTO",
                                                          "tracking": tracking, "online": False},
                          f"ship:{the_order.id}:{tracking}", subject=the_order.external_id)


def test_credentials_are_sealed_and_open_only_under_their_key(shop, monkeypatch):
    row = ShopConnection.get(ShopConnection.shop == shop.id)
    assert "s3cret-app" not in row.secret and "6100-session" not in row.session
    assert row.secret.startswith("v1:")
    assert credentials.unseal(row.secret) == "s3cret-app"
    assert credentials.seal("same") != credentials.seal("same")  # a fresh nonce each time
    monkeypatch.setenv("WAVEFLOOR_CREDENTIALS_KEY", "another site's key")
    with pytest.raises(credentials.SealedElsewhere):
        credentials.unseal(row.session)
    assert connections.needing_attention() == [{"shop": "TM-1", "status": "ok", "last_error": ""}]
    assert all("s3cret" not in repr(v) for v in connections.views()[0].values())


def test_a_connection_names_the_field_it_lacks(shop):
    with pytest.raises(connections.BadConnection) as refused:
        connections.connect("TM-1", app_key="k", secret="", session="x")
    assert refused.value.params["field"] == "secret"


def test_a_lease_has_one_holder_until_it_expires(db):
    assert leases.take("pull:1:orders", "a", 30)
    assert not leases.take("pull:1:orders", "b", 30)
    assert leases.take("pull:1:orders", "a", 30)  # renewed by its holder
    assert leases.holder_of("pull:1:orders") == "a"
    leases.release("pull:1:orders", "a")
    assert leases.take("pull:1:orders", "b", 0.01)
    later = utcnow() + dt.timedelta(seconds=1)
    from server.models import Lease
    Lease.update(until=utcnow() - dt.timedelta(seconds=1)).execute()  # b died: its lease ran out
    assert leases.take("pull:1:orders", "a", 30) and later


def test_a_call_written_twice_is_one_call(shop):
    first = order(shop, "T-1")
    assert ship_call(shop, first) is not None
    assert ship_call(shop, first) is None
    assert ChannelCall.select().count() == 1


def test_calls_go_in_order_and_a_refused_one_waits_for_a_person(shop):
    a, b = order(shop, "T-A"), order(shop, "T-B")
    ship_call(shop, a, "ZT-A1")
    ship_call(shop, b, "ZT-B1")
    ship_call(shop, a, "ZT-A2")  # a second confirmation of A must not pass the first
    platform = Platform({"T-A": Refused("taobao.logistics.offline.send", "isv.logistics-invalid", "bad number")})
    counts = outbox.send_shop(shop.id, platform, "w1")
    assert platform.sent == ["T-B"]
    assert counts["done"] == 1 and counts["failed"] == 1
    states = [c.state for c in ChannelCall.select().order_by(ChannelCall.id)]
    assert states == ["failed", "done", "pending"]
    failed = outbox.listing("failed")
    assert failed[0]["subject"] == "T-A" and "bad number" in failed[0]["last_error"]
    outbox.retry(failed[0]["id"])
    platform.script.clear()
    outbox.send_shop(shop.id, platform, "w1")
    assert platform.sent == ["T-B", "T-A", "T-A"]
    assert OrderEvent.select().where(OrderEvent.action == outbox.CONFIRMED_EVENT).count() == 3


def test_an_unreachable_platform_stops_the_round_and_the_calls_wait(shop):
    calls = [ship_call(shop, order(shop, f"T-{n}")) for n in range(3)]
    platform = Platform({"T-0": Unreachable("taobao.logistics.offline.send", "connect", "refused")})
    counts = outbox.send_shop(shop.id, platform, "w1")
    assert platform.sent == [] and counts["stopped"] == "Unreachable"
    first = ChannelCall.get_by_id(calls[0].id)
    assert first.state == "pending" and first.attempts == 1 and first.next_at > utcnow()
    assert outbox.due_shops() == []  # nothing is due before the backoff
    ChannelCall.update(next_at=utcnow()).execute()  # the platform is back
    platform.script.clear()
    outbox.send_shop(shop.id, platform, "w1")
    assert platform.sent == ["T-0", "T-1", "T-2"]


def test_rate_limit_waits_as_long_as_the_platform_says(shop):
    call = ship_call(shop, order(shop, "T-R"))
    platform = Platform({"T-R": RateLimited("x", "7", "limited", wait_s=120)})
    outbox.send_shop(shop.id, platform, "w1")
    waiting = ChannelCall.get_by_id(call.id)
    assert waiting.state == "pending" and 100 < (waiting.next_at - utcnow()).total_seconds() <= 120


def test_an_expired_session_asks_the_office_to_reauthorise(shop):
    call = ship_call(shop, order(shop, "T-S"))
    platform = Platform({"T-S": SessionInvalid("x", "27", "Invalid session")})
    counts = outbox.send_shop(shop.id, platform, "w1")
    assert counts["stopped"] == "session"
    assert ShopConnection.get(ShopConnection.shop == shop.id).status == "reauthorise"
    assert ChannelCall.get_by_id(call.id).state == "pending"
    assert connections.needing_attention()[0]["status"] == "reauthorise"


def test_already_confirmed_on_the_platform_is_done(shop):
    call = ship_call(shop, order(shop, "T-D"))
    outbox.send_shop(shop.id, Platform({"T-D": "already"}), "w1")
    assert ChannelCall.get_by_id(call.id).state == "done"


def test_a_call_left_sending_by_a_dead_worker_goes_out_once_its_claim_runs_out(shop):
    call = ship_call(shop, order(shop, "T-K"))
    ChannelCall.update(state="sending", claimed_by="dead", claimed_until=utcnow() + dt.timedelta(seconds=60)).execute()
    platform = Platform()
    outbox.send_shop(shop.id, platform, "w2")
    assert platform.sent == []  # its claim still runs
    ChannelCall.update(claimed_until=utcnow() - dt.timedelta(seconds=1)).execute()
    assert outbox.due_shops() == [shop.id]
    outbox.send_shop(shop.id, platform, "w2")
    assert platform.sent == ["T-K"] and ChannelCall.get_by_id(call.id).state == "done"


def test_a_newer_stock_figure_supersedes_one_still_waiting(shop):
    outbox.stock_figures(shop.id, [("SKU-1", "5001", "7001", 10)], "t1")
    outbox.stock_figures(shop.id, [("SKU-1", "5001", "7001", 8), ("SKU-2", "5002", "", 3)], "t2")
    platform = Platform()
    outbox.send_shop(shop.id, platform, "w1")
    assert platform.sent == ["5001:8", "5002:3"]
    assert ChannelCall.select().where(ChannelCall.state == "done").count() == 3


def test_another_worker_holding_the_shop_leaves_it_alone(shop):
    ship_call(shop, order(shop, "T-L"))
    assert leases.take(f"outbox:{shop.id}", "other", 30)
    platform = Platform()
    assert outbox.send_shop(shop.id, platform, "w1")["stopped"] == "leased"
    assert platform.sent == []
