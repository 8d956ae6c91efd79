"""Settlement bill formats without a database: the Alipay 账务明细 CSV (GBK, ="…" cells, '#'
preamble and footer lines), JD and Douyin settlement JSON; every bad row named by file, line
and field while the good rows are kept; voucher layouts validated."""
from __future__ import annotations

import json

import pytest

from server.services.finance import bills, export

HEADER = "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注"


def alipay(*rows: str, preamble=True, footer=True, encoding="gbk") -> bytes:
    lines = []
    if preamble:
        lines += ["#支付宝账务明细查询", "#账号：[20880011112222333]",
                  "#起始日期：[2026年11月17日 00:00:00]   终止日期：[2026年11月18日 00:00:00]",
                  "#-----------------------------------------账务明细列表----------------------------------------"]
    lines += [HEADER, *rows]
    if footer:
        lines += ["#-----------------------------------------账务明细列表结束------------------------------------",
                  "#收入合计：1笔，共338.00元", "#支出合计：1笔，共16.90元", "#导出时间：[2026年11月18日 09:00:00]"]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


PAY = '="2026111700001",="2026111722001",="T200P3700000000010000000",陶瓷马克杯,2026-11-17 20:00:39,buyer@x,338.00,,338.00,支付宝,在线支付,'
FEE = '="2026111700002",="2026111722002",,,2026-11-17 20:00:40,,,16.90,321.10,支付宝,软件服务费,天猫佣金（类目）{3700000000010000000}扣款'


def test_alipay_gbk_with_preamble_footer_and_armoured_cells():
    bill = bills.parse("alipay", alipay(PAY, FEE), "bill.csv")
    assert bill.problems == []
    assert bill.account == "20880011112222333"
    assert bill.period_from.isoformat() == "2026-11-16T16:00:00+00:00"   # 00:00 in Beijing
    pay, fee = bill.movements
    assert (pay.line_no, pay.serial, pay.kind, pay.amount_fen, pay.order_external_id) == \
        (6, "2026111700001", "payment", 33800, "3700000000010000000")
    assert pay.occurred_at.isoformat() == "2026-11-17T12:00:39+00:00"
    # the commission's order comes from the 备注; an expense is negative whether or not it has a minus
    assert (fee.kind, fee.amount_fen, fee.order_external_id) == ("commission", -1690, "3700000000010000000")


def test_alipay_utf8_bom_tabs_and_a_minus_sign_read_the_same():
    tabbed = PAY.replace('="2026111700001"', "2026111700001\t")
    minus = FEE.replace(",16.90,", ",-16.90,")
    bill = bills.parse("alipay", b"\xef\xbb\xbf" + alipay(tabbed, minus, encoding="utf-8"), "b.csv")
    assert [(m.serial, m.amount_fen) for m in bill.movements] == [("2026111700001", 33800), ("2026111700002", -1690)]


def test_bad_rows_are_named_by_file_line_and_field_and_the_good_ones_kept():
    rows = [PAY,
            '="2026111700003",,,,2026-11-17 21:00:00,,12.3.4,,,支付宝,在线支付,',           # line 7
            '="2026111700004",,,,not a time,,1.00,,,支付宝,在线支付,',                      # line 8
            ',,,,2026-11-17 21:00:00,,1.00,,,支付宝,在线支付,',                             # line 9
            '="2026111700006",,,,2026-11-17 21:00:00,,1.00,2.00,,支付宝,在线支付,',        # line 10
            FEE]
    bill = bills.parse("alipay", alipay(*rows), "bill.csv")
    assert [str(p) for p in bill.problems] == [
        "bill.csv:7: 收入金额: not an amount: '12.3.4'",
        "bill.csv:8: 发生时间: not a time: 'not a time'",
        "bill.csv:9: 账务流水号: is empty",
        "bill.csv:10: 支出金额: both an income and an expense on one line",
    ]
    assert [m.serial for m in bill.movements] == ["2026111700001", "2026111700002"]


def test_a_gbk_line_with_a_foreign_byte_is_one_problem():
    raw = alipay(PAY, FEE).replace("陶瓷马克杯".encode("gbk"), b"\xff\xfe")
    bill = bills.parse("alipay", raw, "bill.csv")
    assert len(bill.problems) == 1 and bill.problems[0].line == 6 and "GBK" in bill.problems[0].reason
    assert [m.serial for m in bill.movements] == ["2026111700002"]


def test_a_file_that_is_not_a_bill_is_refused_with_its_header():
    with pytest.raises(ValueError, match="missing column.*账务流水号"):
        bills.parse("alipay", "订单编号,买家会员名\r\n1,a\r\n".encode("gbk"), "orders.csv")


@pytest.mark.parametrize("biz_type, memo, kind, source", [
    ("在线支付", "", "payment", ""), ("交易退款", "", "refund", ""), ("软件服务费", "天猫佣金", "commission", ""),
    ("服务费", "花呗服务费", "payment_fee", ""), ("其他", "集分宝补贴", "subsidy", "集分宝"),
    ("其他", "天猫红包 T200P1", "subsidy", "天猫红包"), ("提现", "提现到银行卡", "transfer", ""), ("其他", "", "other", ""),
])
def test_kinds_of_movement(biz_type, memo, kind, source):
    assert bills.kind_of(biz_type, memo) == kind
    if source:
        assert bills.subsidy_source_of(biz_type, memo) == source


def test_jd_json_items_and_problems():
    body = {"jingdong_pop_settle_query_responce": {"result": {"data": [
        {"id": "J1", "orderId": "300001", "feeName": "货款", "amount": "199.00", "settleTime": "2026-11-18 10:00:00"},
        {"id": "J2", "orderId": "300001", "feeName": "佣金", "amount": "-15.92", "settleTime": "2026-11-18 10:00:00"},
        {"id": "J3", "orderId": "300001", "feeName": "京豆", "amount": "2.00", "settleTime": "2026-11-18 10:00:00"},
        {"id": "J4", "orderId": "300001", "feeName": "货款", "amount": "abc", "settleTime": "2026-11-18 10:00:00"},
        {"orderId": "300001", "feeName": "货款", "amount": "1.00"},
    ]}}}
    bill = bills.parse("jd", json.dumps(body, ensure_ascii=False).encode(), "jd.json")
    assert [(m.serial, m.kind, m.amount_fen, m.subsidy_source) for m in bill.movements] == [
        ("J1", "payment", 19900, ""), ("J2", "commission", -1592, ""), ("J3", "subsidy", 200, "京豆")]
    assert [str(p) for p in bill.problems] == ["jd.json:4: items[3].amount: not an amount: 'abc'",
                                               "jd.json:5: items[4].id: is missing"]


def test_douyin_json_splits_a_settlement_into_movements():
    body = {"data": {"data": [
        {"request_no": "R1", "shop_order_id": "690001", "settle_time": 1763431200, "real_pay_amount": 9900,
         "post_amount": 800, "platform_coupon": 500, "platform_service_fee": 495, "commission": 1000},
        {"request_no": "R2", "settle_time": 1763431200, "real_pay_amount": 100},
    ]}}
    bill = bills.parse("douyin", json.dumps(body).encode(), "dy.json")
    assert [(m.serial, m.kind, m.amount_fen) for m in bill.movements] == [
        ("R1:real_pay_amount", "payment", 9900), ("R1:post_amount", "freight", 800),
        ("R1:platform_coupon", "subsidy", 500), ("R1:platform_service_fee", "commission", -495),
        ("R1:commission", "commission", -1000)]
    assert [str(p) for p in bill.problems] == ["dy.json:2: data[1].shop_order_id: is missing"]


def test_json_that_is_not_a_bill_is_refused():
    with pytest.raises(ValueError, match="not JSON"):
        bills.parse("jd", b"\xff{", "x.json")
    with pytest.raises(ValueError, match="no list of settlement items"):
        bills.parse("douyin", b'{"data": {"total": 0}}', "x.json")


def test_layouts_are_validated():
    assert export.validate(export.PRESETS["u8"])["header_rows"] == 1
    with pytest.raises(export.BadLayout, match="field"):
        export.validate({"header_rows": 1, "columns": [{"title": "x", "field": "nope"}]})
    with pytest.raises(export.BadLayout, match="account_code"):
        export.validate({"header_rows": 1, "columns": [{"title": "日期", "field": "date"}]})
