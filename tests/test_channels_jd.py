"""jd_json: JD POP order search responses."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from server.channels import get_adapter
from server.channels.jd_json import allocate

SEARCH = Path(__file__).parent / "fixtures" / "channels" / "jd_pop_order_search.json"


@pytest.fixture(scope="module")
def result():
    return get_adapter("jd_json").parse(str(SEARCH))


def by_id(result):
    return {order.external_id: order for order in result.orders}


def test_order_fields(result):
    order = by_id(result)["290000000001"]
    assert (order.channel, order.shop, order.channel_status, order.status) == \
        ("jd", "10086", "WAIT_SELLER_STOCK_OUT", "paid")
    assert (order.goods_fen, order.freight_fen, order.discount_fen, order.coupon_fen, order.paid_fen) == \
        (31700, 0, 1000, 0, 30700)  # paid what orderSellerPrice says: JD paid nothing of it
    assert (order.buyer_nick, order.buyer_message, order.seller_memo) == \
        ("jd_buyer01", "送货前电话联系", "VIP客户")
    assert (order.receiver_name, order.receiver_phone, order.receiver_province,
            order.receiver_city, order.receiver_district, order.receiver_address) == \
        ("张*", "138****0001", "北京", "东城区", "东华门街道", "东华门大街1号")
    assert order.created_at == datetime(2026, 11, 10, 16, 0, 5, tzinfo=timezone.utc)
    assert order.paid_at == datetime(2026, 11, 10, 16, 0, 40, tzinfo=timezone.utc)


def test_lines_share_the_payment(result):
    order = by_id(result)["290000000001"]
    assert [(l.external_line_id, l.sku_code, l.qty, l.price_fen, l.paid_fen) for l in order.lines] \
        == [("100012345601", "TS-01-L", 2, 5900, 11428), ("100012345602", "JK-01-M", 1, 19900, 19272)]
    assert sum(line.paid_fen for line in order.lines) == order.paid_fen - order.freight_fen


def test_states(result):
    assert {o.external_id: o.status for o in result.orders} == {
        "290000000001": "paid", "290000000002": "closed", "290000000003": "forbid_consign",
        "290000000004": "shipped"}


def test_same_sku_twice_keeps_both_lines(result):
    order = by_id(result)["290000000004"]
    assert [l.external_line_id for l in order.lines][-2:] == ["100012345903", "100012345903#2"]
    assert order.units == 4 and order.goods_fen == 9790


def test_bad_amount_is_reported(result):
    assert [(p.source, p.external_id, p.field, p.reason) for p in result.problems] == [
        ("jd_pop_order_search.json", "290000000005", "orderInfoList[4].orderPayment",
         "not an amount: '五十九'")]


@pytest.mark.parametrize("total,weights,parts", [
    (30700, [11800, 19900], [11428, 19272]),
    (100, [1, 1, 1], [34, 33, 33]),
    (0, [5, 5], [0, 0]),
    (7, [0, 0], [7, 0]),
])
def test_allocate(total, weights, parts):
    assert allocate(total, weights) == parts
    assert sum(parts) == total


def test_what_the_buyer_paid_below_the_sellers_price_is_jds_coupon():
    import json
    payload = json.loads(SEARCH.read_text(encoding="utf-8"))
    first = payload["jingdong_pop_order_search_responce"]["searchorderinfo_result"]["orderInfoList"][0]
    first["orderPayment"] = "297.00"   # 京券 10.00 paid by JD, below orderSellerPrice 307.00
    order = get_adapter("jd_json").parse(payload, shop="10086").orders[0]
    assert (order.discount_fen, order.coupon_fen, order.paid_fen) == (1000, 1000, 29700)
