"""douyin_json: Douyin shop order.searchList responses (amounts in fen, unix times)."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from server.channels import get_adapter

SEARCH = Path(__file__).parent / "fixtures" / "channels" / "douyin_order_search_list.json"


@pytest.fixture(scope="module")
def result():
    return get_adapter("douyin_json").parse(str(SEARCH))


def by_id(result):
    return {order.external_id: order for order in result.orders}


def test_order_fields(result):
    order = by_id(result)["6930000000000000001"]
    assert (order.channel, order.shop, order.channel_status, order.status) == \
        ("douyin", "示例抖店", "备货中", "paid")
    assert (order.goods_fen, order.freight_fen, order.discount_fen, order.coupon_fen, order.paid_fen) == \
        (25800, 0, 1000, 500, 24300)  # of the 15.00 off, 5.00 is the platform's (promotion_platform_amount)
    assert order.receiver_name == "#Zm9vYmFy#AAAAAQ==#1##"
    assert order.receiver_phone == "$$MTM4MDAwMDAwMDE=$$AAAAAQ==$1$$"
    assert (order.receiver_province, order.receiver_city, order.receiver_district,
            order.receiver_address) == ("北京市", "北京市", "东城区", "东华门街道 东华门大街1号")
    assert (order.buyer_message, order.seller_memo, order.seller_flag) == ("请发顺丰", "已核对", 2)
    assert order.created_at == datetime(2026, 11, 10, 16, 0, 5, tzinfo=timezone.utc)
    assert order.paid_at == datetime(2026, 11, 10, 16, 0, 31, tzinfo=timezone.utc)
    assert [(l.external_line_id, l.sku_code, l.qty, l.price_fen, l.paid_fen, l.refund_status)
            for l in order.lines] == [
        ("6930000000000000101", "TS-01-L", 1, 5900, 5600, "none"),
        # out_sku_id blank: the sku's code stands in; no goods_price: origin_amount / item_num
        ("6930000000000000102", "JK-01-M", 1, 19900, 18700, "pending"),
    ]


def test_statuses_and_after_sale(result):
    orders = by_id(result)
    assert {k[-1]: o.status for k, o in orders.items()} == {
        "1": "paid", "2": "closed", "3": "waiting_payment", "4": "shipped", "5": "finished"}
    assert orders["6930000000000000002"].lines[0].refund_status == "closed"
    assert orders["6930000000000000004"].lines[0].refund_status == "refunded"
    assert orders["6930000000000000002"].paid_at is None


def test_presale(result):
    order = by_id(result)["6930000000000000005"]
    assert order.presale and order.presale_final_paid
    assert order.presale_ship_by == datetime(2026, 11, 2, 6, 13, 20, tzinfo=timezone.utc)
    assert not by_id(result)["6930000000000000001"].presale


def test_bad_sku_order_is_reported(result):
    assert [(p.external_id, p.field, p.reason) for p in result.problems] == [
        ("6930000000000000006", "shop_order_list[5].sku_order_list[0].item_num",
         "quantity must be positive: 0")]
    assert len(result.orders) == 5


def test_error_response():
    result = get_adapter("douyin_json").parse({"code": 30002, "msg": "access_token已过期"})
    assert [(p.source, p.reason) for p in result.problems] == \
        [("<payload>", "error response 30002: access_token已过期")]
