"""The same pull and outbox for a JD shop (JOS) and a Douyin shop (抖店), against their fake
gateways: orders and after-sales pulled by window, a ship confirmation and a stock figure sent
through the outbox, a confirmation the platform already has taken as done. Both engines."""
from __future__ import annotations

import datetime as dt

import pytest

from server.models import ChannelCall, ChannelListing, Order, Product, Refund, Shop
from server.models.base import utcnow
from server.services.connectors import connections, outbox, pull
from tests.fakes.doudian import FakeDoudian
from tests.fakes.jos import FakeJos
from tests.fakes.top import CATALOG

UTC = dt.timezone.utc
PLATFORMS = {"jd": (FakeJos, "add_service"), "douyin": (FakeDoudian, "add_after_sale")}


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request, db):
    fake_class, _ = PLATFORMS[request.param]
    fake = fake_class().start()
    yield request.param, fake
    fake.stop()


def test_orders_refunds_shipments_and_stock(platform):
    channel, fake = platform
    for sku, _, _, title, _ in CATALOG:
        Product.get_or_create(sku=sku, defaults={"name": title})
    Shop.create(code="S-1", channel=channel, name=channel)
    connections.connect("S-1", app_key=fake.app_key, secret=fake.secret, session=fake.session, endpoint=fake.url,
                        seller_nick=getattr(fake, "seller_nick", ""))
    client = connections.client_for(connections.of_shop("S-1"))
    now = utcnow()
    ids = fake.add_orders(230, (now - dt.timedelta(days=2)).replace(tzinfo=UTC),
                          (now - dt.timedelta(minutes=5)).replace(tzinfo=UTC), seed=5)
    report = pull.pull("S-1", "orders", client, now=now, since=now - dt.timedelta(days=2, minutes=1), page_size=50)
    assert report.error == "" and report.created == 230
    stored = [o.external_id for o in Order.select().where(Order.shop == "S-1")]
    assert sorted(stored) == sorted(ids)
    assert {o.channel for o in Order.select()} == {channel}

    getattr(fake, PLATFORMS[channel][1])(ids[0])
    refunds = pull.pull("S-1", "refunds", client, now=utcnow() + dt.timedelta(seconds=2),
                        since=now - dt.timedelta(hours=1))
    assert refunds.error == "" and Refund.select().where(Refund.order_external_id == ids[0]).count() == 1

    first = Order.get(Order.external_id == ids[0])
    outbox.ship_confirmations(first, "ZT0000000001", "ZTO")
    outbox.ship_confirmations(first, "ZT0000000002", "ZTO")  # a second parcel number: the platform has one already
    listings = list(ChannelListing.select())
    assert listings, "the pulled orders name the platform's SKUs"
    outbox.stock_figures(listings[0].shop_id, [(listings[0].sku_code, listings[0].item_id, listings[0].sku_id, 7)],
                         "t1")
    counts = outbox.send_shop(listings[0].shop_id, client, "w1")
    assert counts["failed"] == 0 and counts["done"] == 3, counts
    assert fake.consigned[ids[0]] == 1
    assert 7 in fake.stock.values()
    assert ChannelCall.select().where(ChannelCall.state != "done").count() == 0
