"""Refund adapters (售后): the Tmall refund report sample imports exactly and links to the shared
Tmall order sample's orders; each export quirk (GBK, BOM, ="…", tabs, ¥) and each bad row; the
TOP, JD and Douyin refund JSON shapes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.channels.refunds import get_refund_adapter
from server.models import Location, OrderLine, Refund, Warehouse
from server.services.orders import intake as order_import
from server.services.returns import refunds
from server.services.stock import catalog
from tests.conftest import SHARED

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "channels"
SAMPLE = FIXTURES / "tmall_refunds.csv"
EXPECTED = json.loads((FIXTURES / "tmall_refunds_expected.json").read_text(encoding="utf-8"))
TMALL = SHARED / "samples" / "tmall"
HEADER = "订单编号,退款编号,子订单编号,商家编码,买家退款金额,是否需要退货,买家申请退款时间,退款状态,退款原因,物流公司,物流单号,修改时间"


def parse(tmp_path, text: str, encoding="utf-8", name="refunds.csv", shop="S1"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return get_refund_adapter("tmall_refund_csv").parse(path, shop=shop)


# --- the sample -----------------------------------------------------------------------------------

def test_the_sample_is_gbk_with_quoted_numbers_and_parses_exactly():
    raw = SAMPLE.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert '"=""3700000000010000000"""'.encode("gbk") in raw and "退款编号".encode("gbk") in raw
    result = get_refund_adapter("tmall_refund_csv").parse(SAMPLE, shop=EXPECTED["shop"])
    assert [str(p) for p in result.problems] == EXPECTED["bad_rows"]
    got = {r.refund_id: r for r in result.refunds}
    assert set(got) == set(EXPECTED["refunds"])
    for refund_id, want in EXPECTED["refunds"].items():
        r = got[refund_id]
        assert (r.channel, r.shop) == ("tmall", EXPECTED["shop"])
        assert {"order": r.order_external_id, "line": r.line_external_id, "sku": r.sku_code,
                "refund_fen": r.refund_fen, "state": r.state, "channel_status": r.channel_status,
                "goods_returned": r.goods_returned, "return_tracking": r.return_tracking,
                "return_carrier": r.return_carrier, "requested_at": r.requested_at.isoformat(),
                "modified_at": r.modified_at.isoformat()} == want, refund_id


def test_the_sample_links_to_the_shared_order_sample_and_sums_per_line(db):
    assert TMALL.exists(), f"the shared samples are expected at {TMALL}"
    for code in ("WH-HZ", "WH-SZ"):
        wh = Warehouse.create(code=code, name=code)
        Location.create(warehouse=wh, code=f"{code}-A1", kind="pick", aisle=0, y_m=1.0, pick_seq=1)
    catalog.import_products(TMALL / "products.csv")
    assert order_import.import_files("tmall", [TMALL / "orders.csv", TMALL / "items.csv"]).problems == []
    report = refunds.import_files("tmall", [SAMPLE], EXPECTED["shop"])
    assert report.problems == [] and report.unlinked == []
    assert (report.created, report.updated, report.unchanged) == (len(EXPECTED["refunds"]), 0, 0)
    for refund_id, line_id in EXPECTED["linked_lines"].items():
        refund = Refund.get(Refund.refund_id == refund_id)
        assert refund.line.external_line_id == line_id and refund.order.external_id == \
            EXPECTED["refunds"][refund_id]["order"]
    for line_id, want in EXPECTED["lines"].items():
        line = OrderLine.get(OrderLine.external_line_id == line_id)
        assert {"refund_fen": line.refund_fen, "refund_status": line.refund_status} == want, line_id
    untouched = OrderLine.select().where(OrderLine.external_line_id.not_in(list(EXPECTED["lines"])))
    assert {(l.refund_fen, l.refund_status) for l in untouched} == {(0, "none")}
    again = refunds.import_files("tmall", [SAMPLE], EXPECTED["shop"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(EXPECTED["refunds"]))


# --- the export's quirks ---------------------------------------------------------------------------

def test_utf8_with_bom_tabs_and_yen(tmp_path):
    cells = ['="3700000000000001"', '"\t71000000000000009"', "'3700000000000101", "SKU-1", '"¥1,234.50"', "是",
             "2026/11/11 09:00", "卖家已经同意退款，等待买家退货", "尺码不合适", "顺丰速运", '"=""SF100200300"""',
             "2026-11-12 10:00:00"]
    comma = parse(tmp_path, "\ufeff" + HEADER + "\n" + ",".join(cells) + "\n")
    tabbed = parse(tmp_path, HEADER.replace(",", "\t") + "\n" + "\t".join(
        c.replace('"\t', '"') for c in cells) + "\n", name="tabbed.csv")
    for result in (comma, tabbed):
        assert result.problems == []
        (refund,) = result.refunds
        assert (refund.order_external_id, refund.refund_id, refund.line_external_id) == \
            ("3700000000000001", "71000000000000009", "3700000000000101")
        assert (refund.refund_fen, refund.state, refund.goods_returned, refund.return_tracking) == \
            (123450, "agreed", True, "SF100200300")
        assert refund.requested_at.isoformat() == "2026-11-11T01:00:00+00:00"


def test_bad_rows_are_named_and_the_good_ones_come_in(tmp_path):
    rows = [
        "37001,71001,,SKU-1,10.00,否,2026-11-11 09:00:00,退款成功,,,,",          # good
        "37002,71002,,SKU-1,10.001,否,2026-11-11 09:00:00,退款成功,,,,",         # fractions of a fen
        "37003,71003,,SKU-1,abc,否,2026-11-11 09:00:00,退款成功,,,,",            # not an amount
        "37004,71004,,SKU-1,5.00,否,2026-11-11 09:00:00,火星状态,,,,",            # unknown status
        ",71005,,SKU-1,5.00,否,2026-11-11 09:00:00,退款成功,,,,",                 # no order
        "37006,,,SKU-1,5.00,否,2026-11-11 09:00:00,退款成功,,,,",                 # no refund number
        "37007,71007,,SKU-1,5.00,否,2026-13-45 09:00:00,退款成功,,,,",            # not a time
        "37001,71001,,SKU-1,10.00,否,2026-11-11 09:00:00,退款成功,,,,",          # twice
        "37009,71009,,SKU-9,￥9.90,否,2026-11-11 09:00:00,退款关闭,,,,",          # good
    ]
    result = parse(tmp_path, "\n".join([HEADER] + rows) + "\n", encoding="gbk")
    assert [r.refund_id for r in result.refunds] == ["71001", "71009"]
    assert [str(p) for p in result.problems] == [
        "refunds.csv:3: 买家退款金额: amount has fractions of a fen: '10.001'",
        "refunds.csv:4: 买家退款金额: not an amount: 'abc'",
        "refunds.csv:5: 退款状态: unknown refund status: '火星状态'",
        "refunds.csv:6: 订单编号: refund has no order number",
        "refunds.csv:7: 退款编号: refund has no number",
        "refunds.csv:8: 买家申请退款时间: not a time: '2026-13-45 09:00:00'",
        "refunds.csv:9: 退款编号: refund 71001 appears twice; the first is kept",
    ]
    assert result.refunds[1].refund_fen == 990


def test_a_broken_byte_loses_only_its_row_and_a_wrong_file_is_named(tmp_path):
    good = f"{HEADER}\n37001,71001,,SKU-1,10.00,否,,退款成功,,,,\n".encode("gbk")
    broken = good + b"37002,71002,,SKU-\xff\xfe,10.00,\xb7\xf1,,\xcd\xcb\xbf\xee\xb3\xc9\xb9\xa6,,,,\n"
    result = parse(tmp_path, broken)
    assert [r.refund_id for r in result.refunds] == ["71001"]
    assert len(result.problems) == 1 and str(result.problems[0]).startswith("refunds.csv:3: ")
    other = parse(tmp_path, "订单编号,收货地址\n1,杭州\n", name="orders.csv")
    assert [str(p) for p in other.problems] == [
        "orders.csv:1: not a Tmall refund report (退款报表): no 退款编号 column"]
    missing = parse(tmp_path, "订单编号,退款编号,退款状态\n1,2,退款成功\n", name="short.csv")
    assert [str(p) for p in missing.problems] == ["short.csv:1: 买家退款金额: column missing from the refund report"]


# --- the API shapes --------------------------------------------------------------------------------

TOP = {"refunds_receive_get_response": {"total_results": 3, "refunds": {"refund": [
    {"refund_id": 9001, "tid": 3700000000000001, "oid": 3700000000000101, "refund_fee": "59.00",
     "total_fee": "59.00", "status": "WAIT_SELLER_CONFIRM_GOODS", "has_good_return": True,
     "sid": "YT123", "company_name": "圆通速递", "reason": "七天无理由", "num": 1, "outer_id": "TS-01",
     "created": "2026-11-11 09:00:00", "modified": "2026-11-12 09:00:00", "seller_nick": "旗舰店"},
    {"refund_id": 9002, "tid": 3700000000000002, "oid": 3700000000000201, "refund_fee": "12.3",
     "status": "SUCCESS", "has_good_return": False, "num": 0, "created": "2026-11-11 10:00:00",
     "modified": "2026-11-11 11:00:00"},
    {"refund_id": 9003, "tid": 3700000000000003, "refund_fee": "1.00", "status": "SOMETHING_ELSE"},
]}}}


def test_top_refunds_receive_get_and_refund_get():
    result = get_refund_adapter("top_refund_json").parse(TOP)
    assert [str(p) for p in result.problems] == [
        "<payload>: refunds[2].status: unknown refund status: 'SOMETHING_ELSE'"]
    first, second = result.refunds
    assert (first.channel, first.shop, first.refund_id, first.order_external_id, first.line_external_id) == \
        ("taobao", "旗舰店", "9001", "3700000000000001", "3700000000000101")
    assert (first.refund_fen, first.state, first.goods_returned, first.return_tracking, first.return_carrier,
            first.qty, first.sku_code) == (5900, "agreed", True, "YT123", "圆通速递", 1, "TS-01")
    assert (second.refund_fen, second.state, second.goods_returned) == (1230, "success", False)
    single = get_refund_adapter("top_refund_json").parse(
        {"refund_get_response": {"refund": {"refund_id": "9004", "tid": "1", "refund_fee": "0.01",
                                            "status": "SELLER_REFUSE_BUYER"}}}, shop="S")
    assert [(r.refund_id, r.state, r.refund_fen, r.shop) for r in single.refunds] == [("9004", "refused", 1, "S")]
    error = get_refund_adapter("top_refund_json").parse({"error_response": {"code": 27, "msg": "Invalid session"}})
    assert [str(p) for p in error.problems] == ["<payload>: Invalid session"]


JD = {"jingdong_asc_query_list_responce": {"result": {"success": True, "data": [
    {"serviceId": 51001, "orderId": 2800001, "skuId": 100012, "outerSkuId": "MG-01", "serviceCount": 2,
     "refundAmount": "78.00", "serviceStatus": 10005, "serviceStatusName": "待收货", "customerExpect": 10,
     "questionDesc": "破损", "expressCode": "JDV0001", "expressCompany": "京东物流",
     "applyTime": "2026-11-11 09:00:00", "updateTime": "2026-11-11 12:00:00", "venderId": "jd-shop"},
    {"serviceId": 51002, "orderId": 2800002, "skuId": 100013, "serviceCount": 1, "applyRefundSum": 1999,
     "serviceStatus": 10010, "customerExpect": 30, "applyTime": "2026-11-11 09:00:00"},
    {"serviceId": 51003, "orderId": 2800003, "serviceCount": -1, "serviceStatus": 10010},
]}}}


def test_jd_after_sale_services():
    result = get_refund_adapter("jd_refund_json").parse(JD)
    assert [str(p) for p in result.problems] == ["<payload>: data[2].serviceCount: quantity must not be negative: -1"]
    first, second = result.refunds
    assert (first.channel, first.shop, first.refund_id, first.order_external_id, first.line_external_id,
            first.sku_code, first.qty, first.refund_fen, first.state, first.goods_returned,
            first.return_tracking, first.return_carrier) == \
        ("jd", "jd-shop", "51001", "2800001", "100012", "MG-01", 2, 7800, "agreed", True, "JDV0001", "京东物流")
    assert (second.refund_fen, second.state, second.goods_returned, second.channel_status) == \
        (1999, "success", False, "10010")


DOUYIN = {"code": 10000, "data": {"total": 2, "items": [
    {"aftersale_info": {"aftersale_id": "7001", "aftersale_type": 0, "aftersale_status": 11,
                        "refund_amount": 5900, "apply_time": 1794358800, "update_time": 1794362400,
                        "return_logistics_code": "ZTO0001", "return_logistics_company_name": "中通快递",
                        "reason": "不想要了"},
     "order_info": {"shop_order_id": "6900001", "shop_id": 1234,
                    "related_order_info": [{"sku_order_id": "6900001-1", "shop_sku_code": "TS-01",
                                            "aftersale_item_num": 1}]}},
    {"aftersale_info": {"aftersale_id": "7002", "aftersale_type": 2, "aftersale_status": 99, "refund_amount": 1}},
]}}


def test_douyin_aftersale_list():
    result = get_refund_adapter("douyin_refund_json").parse(DOUYIN)
    assert [str(p) for p in result.problems] == [
        "<payload>: items[1].order_info.shop_order_id: after-sale has no shop_order_id"]
    (refund,) = result.refunds
    assert (refund.channel, refund.shop, refund.refund_id, refund.order_external_id, refund.line_external_id,
            refund.sku_code, refund.qty, refund.refund_fen, refund.state, refund.goods_returned,
            refund.return_tracking, refund.return_carrier) == \
        ("douyin", "1234", "7001", "6900001", "6900001-1", "TS-01", 1, 5900, "agreed", True, "ZTO0001", "中通快递")
    assert refund.requested_at.isoformat() == "2026-11-11T01:00:00+00:00"  # 09:00 in Beijing
    bad = get_refund_adapter("douyin_refund_json").parse({"code": 40001, "msg": "no access", "data": None})
    assert [str(p) for p in bad.problems] == ["<payload>: error response 40001: no access"]


def test_an_older_change_does_not_overwrite_a_newer_one(db):
    newer = {"refund_get_response": {"refund": {"refund_id": "9100", "tid": "T1", "refund_fee": "10.00",
                                                "status": "SUCCESS", "modified": "2026-11-12 10:00:00"}}}
    older = {"refund_get_response": {"refund": {"refund_id": "9100", "tid": "T1", "refund_fee": "10.00",
                                                "status": "WAIT_SELLER_AGREE", "modified": "2026-11-11 10:00:00"}}}
    first = refunds.import_body("top", json.dumps(newer).encode(), "S")
    late = refunds.import_body("top", json.dumps(older).encode(), "S")
    assert (first.created, late.stale, late.updated) == (1, 1, 0)
    assert Refund.get(Refund.refund_id == "9100").state == "success"
    assert first.unlinked == ["9100 (order T1)"]


def test_the_refunds_import_command(db, db_url, tmp_path):
    from tests.test_cli import wavefloor
    bad = tmp_path / "refunds.csv"
    bad.write_bytes((HEADER + "\n37001,71001,,SKU-1,10.00,否,,退款成功,,,,\n37002,71002,,SKU-1,x,否,,退款成功,,,,\n")
                    .encode("gbk"))
    result = wavefloor(db_url, "refunds", "import", str(bad), "--shop", "S1", "--json", tmp_path=tmp_path, check=False)
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert (report["created"], report["problems"]) == (1, ["refunds.csv:3: 买家退款金额: not an amount: 'x'"])
    again = wavefloor(db_url, "refunds", "import", str(SAMPLE), "--shop", "示例旗舰店", tmp_path=tmp_path)
    assert again.stdout.startswith("created 7, updated 0, unchanged 0, stale 0, unlinked 7, problems 0")
    assert Refund.select().count() == 8


def test_a_refund_asked_for_before_picking_stops_the_order(db):
    from server.models import Order
    order = Order.create(channel="taobao", shop="S", external_id="T7", status="allocated")
    OrderLine.create(order=order, external_line_id="O7", sku_code="SKU-7", qty=1)
    shipped = Order.create(channel="taobao", shop="S", external_id="T8", status="shipped")
    OrderLine.create(order=shipped, external_line_id="O8", sku_code="SKU-8", qty=1)
    refused = Order.create(channel="taobao", shop="S", external_id="T9", status="allocated")
    OrderLine.create(order=refused, external_line_id="O9", sku_code="SKU-9", qty=1)
    body = {"refunds_receive_get_response": {"refunds": {"refund": [
        {"refund_id": f"R{n}", "tid": f"T{n}", "oid": f"O{n}", "refund_fee": "1.00", "status": status,
         "modified": "2026-11-12 10:00:00"}
        for n, status in ((7, "WAIT_SELLER_AGREE"), (8, "WAIT_SELLER_AGREE"), (9, "SELLER_REFUSE_BUYER"))]}}}
    report = refunds.import_body("top", json.dumps(body).encode(), "S")
    assert report.created == 3 and report.unlinked == []
    assert [Order.get_by_id(o.id).status for o in (order, shipped, refused)] == ["held", "shipped", "allocated"]
    assert [e.action for e in Order.get_by_id(order.id).events.order_by("id")] == ["refund", "held"]
    assert OrderLine.get(OrderLine.external_line_id == "O7").refund_status == "pending"
