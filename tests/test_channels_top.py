"""top_json: Taobao TOP trades in either response wrapper or as a bare list."""
import json
from datetime import datetime, timezone
from pathlib import Path

from server.channels import get_adapter

FIXTURES = Path(__file__).parent / "fixtures" / "channels"
SOLD_GET = FIXTURES / "top_trades_sold_get.json"
FULLINFO = FIXTURES / "top_trade_fullinfo_get.json"


def parse(payload, **kwargs):
    return get_adapter("top_json").parse(payload, **kwargs)


def by_id(result):
    return {order.external_id: order for order in result.orders}


def test_sold_get_trade_fields():
    orders = by_id(parse(str(SOLD_GET)))
    trade = orders["3900000000010000001"]
    assert (trade.channel, trade.shop, trade.channel_status, trade.status) == \
        ("taobao", "示例旗舰店", "WAIT_SELLER_SEND_GOODS", "paid")
    assert (trade.goods_fen, trade.freight_fen, trade.discount_fen, trade.coupon_fen,
            trade.paid_fen) == (25800, 0, 500, 1000, 24300)
    assert (trade.receiver_province, trade.receiver_city, trade.receiver_district,
            trade.receiver_address, trade.receiver_zip, trade.receiver_phone) == \
        ("北京", "北京市", "东城区", "东华门街道 东华门大街1号", "100010", "138****0001")
    assert (trade.buyer_message, trade.seller_memo, trade.seller_flag) == ("请发顺丰", "已核对", 1)
    assert trade.created_at == datetime(2026, 11, 10, 16, 0, 5, tzinfo=timezone.utc)
    assert trade.paid_at == datetime(2026, 11, 10, 16, 0, 31, tzinfo=timezone.utc)
    assert [(l.external_line_id, l.sku_code, l.qty, l.price_fen, l.paid_fen, l.refund_status)
            for l in trade.lines] == [
        ("3900000000010000101", "TS-01-L", 1, 5900, 5600, "none"),
        # outer_sku_id is blank: the item's outer_iid stands in
        ("3900000000010000102", "JK-01-M", 1, 19900, 18700, "pending"),
    ]
    assert trade.source == "top_trades_sold_get.json"


def test_statuses_and_refunds():
    orders = by_id(parse(str(SOLD_GET)))
    assert {tid[-1]: o.status for tid, o in orders.items()} == {
        "1": "paid", "2": "closed", "3": "closed", "4": "forbid_consign",
        "5": "waiting_payment", "6": "paid"}
    assert orders["3900000000010000002"].lines[0].refund_status == "refunded"
    assert orders["3900000000010000004"].lines[0].refund_status == "closed"
    assert orders["3900000000010000004"].seller_flag == 4


def test_presale_step_status():
    orders = by_id(parse(str(SOLD_GET)))
    deposit_only = orders["3900000000010000005"]
    assert deposit_only.presale and not deposit_only.presale_final_paid
    assert deposit_only.presale_ship_by == datetime(2026, 11, 15, 15, 59, 59, tzinfo=timezone.utc)
    paid_in_full = orders["3900000000010000006"]
    assert paid_in_full.presale and paid_in_full.presale_final_paid
    assert not orders["3900000000010000001"].presale
    assert orders["3900000000010000001"].presale_ship_by is None


def test_bad_trade_is_reported_and_others_come_through():
    result = parse(str(SOLD_GET))
    assert len(result.orders) == 6
    assert [(p.source, p.line, p.external_id, p.field, p.reason) for p in result.problems] == [
        ("top_trades_sold_get.json", None, "3900000000010000007", "trades[6].orders.order[0].price",
         "not an amount: '59.0.0'")]


def test_fullinfo_wrapper_and_several_files():
    result = parse([str(SOLD_GET), str(FULLINFO)])
    trade = by_id(result)["3900000000010000010"]
    assert (trade.status, trade.freight_fen, trade.paid_fen, trade.units) == \
        ("shipped", 800, 12600, 2)
    assert trade.source == "top_trade_fullinfo_get.json"
    assert len(result.orders) == 7


def test_bare_list_payload_and_unknown_states():
    data = json.loads(SOLD_GET.read_text(encoding="utf-8"))
    trades = data["trades_sold_get_response"]["trades"]["trade"][:2]
    trades[1] = dict(trades[1], status="SOMETHING_NEW")
    trades[0]["orders"]["order"][0]["refund_status"] = "MYSTERY"
    result = parse(trades, shop="淘宝C店")
    assert result.orders == []
    assert [(p.source, p.field, p.reason) for p in result.problems] == [
        ("<payload>", "trades[0].orders.order[0].refund_status", "unknown refund status: 'MYSTERY'"),
        ("<payload>", "trades[1].status", "unknown trade status: 'SOMETHING_NEW'"),
    ]


def test_error_response_and_broken_json(tmp_path):
    error = tmp_path / "error.json"
    error.write_text(json.dumps({"error_response": {"code": 27, "msg": "Invalid session",
                                                    "sub_msg": "session过期"}}), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"trades_sold_get_response": {\n "trades": [', encoding="utf-8")
    result = parse([error, broken])
    assert sorted((p.source, p.line or 0, p.reason) for p in result.problems) == [
        ("broken.json", 2, "not valid JSON: Expecting value"),
        ("error.json", 0, "session过期"),
    ]
