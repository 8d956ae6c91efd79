"""mapped_csv: any CSV read through a YAML column mapping."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from server.channels import get_adapter

FIXTURES = Path(__file__).parent / "fixtures" / "channels"
MAPPING = FIXTURES / "other_shop_mapping.yaml"
ORDERS = FIXTURES / "other_shop_orders.csv"


@pytest.fixture(scope="module")
def result():
    return get_adapter("mapped_csv").parse([str(MAPPING), str(ORDERS)], shop="有赞店")


def by_id(result):
    return {order.external_id: order for order in result.orders}


def test_rows_group_into_orders(result):
    order = by_id(result)["E20261111000001"]
    assert (order.channel, order.shop, order.status, order.source, order.source_line) == \
        ("youzan", "有赞店", "paid", "other_shop_orders.csv", 2)
    assert [(l.external_line_id, l.sku_code, l.qty, l.price_fen, l.paid_fen, l.refund_status,
             l.source_line) for l in order.lines] == [
        ("1", "TS-01-L", 2, 5900, 11000, "none", 2),
        ("2", "JK-01-M", 1, 19900, 18900, "pending", 3)]
    assert (order.goods_fen, order.freight_fen, order.paid_fen) == (31700, 0, 29900)
    assert order.buyer_message == "下午送,谢谢"
    assert (order.receiver_province, order.receiver_city, order.receiver_district,
            order.receiver_address, order.receiver_zip) == \
        ("浙江省", "杭州市", "西湖区", "文三路90号", "310012")
    assert order.created_at == datetime(2026, 11, 10, 16, 0, tzinfo=timezone.utc)


def test_status_and_refund_maps(result):
    orders = by_id(result)
    assert orders["E20261111000002"].status == "closed"
    assert orders["E20261111000002"].lines[0].refund_status == "refunded"
    assert orders["E20261111000004"].status == "waiting_payment"
    assert orders["E20261111000004"].paid_at is None


def test_bad_rows_name_file_line_column(result):
    problems = [(p.source, p.line, p.external_id, p.field, p.reason) for p in result.problems]
    assert ("other_shop_orders.csv", 5, "E20261111000003", "商品数量", "not a quantity: '一'") \
        in problems
    assert ("other_shop_orders.csv", 7, "E20261111000005", "下单时间",
            "not a time in the form %Y/%m/%d %H:%M: '2026-11-11 00:10'") in problems
    assert set(by_id(result)) == {"E20261111000001", "E20261111000002", "E20261111000004"}


def test_mapping_given_to_the_adapter():
    result = get_adapter("mapped_csv", mapping=str(MAPPING)).parse(str(ORDERS))
    assert len(result.orders) == 3


def test_mapping_errors_name_the_yaml_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("channel: x\ncolumns:\n  order_id: 订单号\n  sku: 编码\n  qty: 数量\n"
                   "  colour: 颜色\n", encoding="utf-8")
    result = get_adapter("mapped_csv").parse([bad, ORDERS])
    assert result.orders == []
    [problem] = result.problems
    assert (problem.source, problem.line, problem.field) == ("bad.yaml", 6, "columns.colour")
    assert problem.reason.startswith("unknown field 'colour'")


def test_missing_column_in_file(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {order_id: 订单号, sku: SKU编码, qty: 商品数量}\n",
                       encoding="utf-8")
    result = get_adapter("mapped_csv").parse([mapping, ORDERS])
    assert [(p.line, p.field, p.reason) for p in result.problems] == \
        [(1, "SKU编码", "column for sku is not in the file")]


def test_fen_amounts_and_default_status(tmp_path):
    mapping = tmp_path / "m.yml"
    mapping.write_text("channel: pdd\namounts: fen\ndefault_status: paid\n"
                       "columns: {order_id: id, sku: sku, qty: n, price: p}\n", encoding="utf-8")
    data = tmp_path / "o.csv"
    data.write_text("id,sku,n,p\nA1,S1,2,1990\nA1,S2,1,500\n", encoding="utf-8")
    [order] = get_adapter("mapped_csv").parse([mapping, data]).orders
    assert (order.status, order.goods_fen, order.paid_fen, order.units) == \
        ("paid", 4480, 4480, 3)
    assert [l.external_line_id for l in order.lines] == ["A1-1", "A1-2"]
