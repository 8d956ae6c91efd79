"""tmall_csv: the shared seller-centre sample against expected.json, then each export quirk."""
import csv
import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from server.channels import ParseResult, adapter_names, get_adapter, register_adapter
from server.channels.address import split_address
from server.channels.registry import UnknownAdapter, unregister_adapter

FIXTURES = Path(__file__).parent / "fixtures" / "channels"
SAMPLE_CANDIDATES = [
    Path(os.environ.get("WAVEFLOOR_SHARED", "/nonexistent")) / "samples" / "tmall",
    Path(__file__).resolve().parents[2] / "shared" / "samples" / "tmall",
    Path("/work/shared/samples/tmall"),
]
SAMPLE = next((p for p in SAMPLE_CANDIDATES if (p / "expected.json").exists()), None)
needs_sample = pytest.mark.skipif(SAMPLE is None, reason="shared Tmall sample not present")

QUIRK_ORDERS = FIXTURES / "tmall_quirks_orders.csv"
QUIRK_ITEMS = FIXTURES / "tmall_quirks_items.csv"


def parse(*paths, **kwargs) -> ParseResult:
    return get_adapter("tmall_csv").parse([str(p) for p in paths], **kwargs)


def by_id(result):
    return {order.external_id: order for order in result.orders}


# -- the shared sample ------------------------------------------------------------------------

@needs_sample
def test_sample_matches_expected_field_by_field():
    expected = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))
    with open(SAMPLE / "products.csv", encoding="utf-8") as handle:
        catalog = {row["sku"] for row in csv.DictReader(handle)}
    # items first: which file is which comes from the header, not the order of the paths
    result = parse(SAMPLE / "items.csv", SAMPLE / "orders.csv")

    assert [(p.line, p.reason) for p in result.problems] == expected["bad_rows"]
    orders = by_id(result)
    assert set(orders) == set(expected["orders"])
    for order_id, want in expected["orders"].items():
        order = orders[order_id]
        got = {
            "province": order.receiver_province,
            "receiver": order.receiver_name,
            "paid_fen": order.paid_fen,
            "post_fen": order.freight_fen,
            "coupon_fen": order.coupon_fen,
            "closed": order.status == "closed",
            "presale": order.presale,
            "units": order.units,
            "lines": [{"oid": line.external_line_id, "sku": line.sku_code, "qty": line.qty,
                       "unknown_sku": line.sku_code not in catalog,
                       "refunded": line.refund_status == "refunded"} for line in order.lines],
        }
        assert got == want, order_id


@needs_sample
def test_sample_money_adds_up_and_times_are_utc():
    orders = by_id(parse(SAMPLE / "orders.csv", SAMPLE / "items.csv"))
    first = orders["3700000000010000000"]
    assert (first.goods_fen, first.freight_fen, first.coupon_fen, first.paid_fen) == \
        (34300, 0, 500, 33800)
    assert first.created_at == datetime(2026, 11, 10, 12, 0, 9, tzinfo=timezone.utc)
    assert first.paid_at == datetime(2026, 11, 10, 12, 0, 39, tzinfo=timezone.utc)
    assert first.shop == "示例旗舰店"
    assert first.receiver_phone == "15774747711"
    assert (first.receiver_city, first.receiver_district, first.receiver_zip) == \
        ("杭州市", "西湖区", "619501")
    for order in orders.values():
        assert order.goods_fen + order.freight_fen - order.coupon_fen - order.discount_fen \
            == order.paid_fen
        assert sum(line.paid_fen for line in order.lines) == order.goods_fen
        assert order.source == "orders.csv" and order.source_line >= 2


@needs_sample
def test_shop_argument_overrides_the_export():
    result = parse(SAMPLE / "orders.csv", SAMPLE / "items.csv", shop="天猫-主店")
    assert {order.shop for order in result.orders} == {"天猫-主店"}


# -- encodings -------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding,bom", [
    ("gbk", b""), ("gb18030", b""), ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf")])
def test_encodings_are_detected(tmp_path, encoding, bom):
    paths = []
    for source in (QUIRK_ORDERS, QUIRK_ITEMS):
        target = tmp_path / source.name
        target.write_bytes(bom + source.read_text(encoding="utf-8").encode(encoding))
        paths.append(target)
    result = parse(*paths)
    orders = by_id(result)
    assert orders["4100000000000000001"].receiver_name == "张伟"
    assert orders["4100000000000000001"].lines[0].title == "纯棉短袖T恤, 黑色"
    assert len(result.orders) == 7


def test_gb18030_only_characters_survive(tmp_path):
    # 𠮷 is outside GBK: only a GB18030 file can hold it
    text = QUIRK_ORDERS.read_text(encoding="utf-8").replace("张伟", "𠮷伟")
    (tmp_path / "orders.csv").write_bytes(text.encode("gb18030"))
    shutil.copy(QUIRK_ITEMS, tmp_path / "items.csv")
    orders = by_id(parse(tmp_path / "orders.csv", tmp_path / "items.csv"))
    assert orders["4100000000000000001"].receiver_name == "𠮷伟"


# -- the quirks fixture ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def quirks():
    return parse(QUIRK_ORDERS, QUIRK_ITEMS)


def test_spreadsheet_wrapped_numbers_are_unwrapped(quirks):
    orders = by_id(quirks)
    # ="...", a leading tab and a leading ' all wrap order numbers in the fixture
    assert {"4100000000000000001", "4100000000000000002", "4100000000000000003"} <= set(orders)
    assert orders["4100000000000000001"].lines[0].external_line_id == "4100000000000000101"
    assert orders["4100000000000000001"].receiver_phone == "13800000001"


def test_quoted_newline_keeps_physical_line_numbers(quirks):
    orders = by_id(quirks)
    first = orders["4100000000000000001"]
    assert first.buyer_message == "请发顺丰,谢谢\n周末不收货"
    assert first.source_line == 2
    # the record above spans lines 2-3, so the next order starts on line 4
    assert orders["4100000000000000002"].source_line == 4
    assert orders["4100000000000000004"].seller_memo == "已核对,加急"
    assert orders["4100000000000000004"].source_line == 6


def test_statuses_are_normalised(quirks):
    statuses = {o.external_id[-1]: (o.channel_status, o.status) for o in quirks.orders}
    assert statuses["1"] == ("买家已付款，等待卖家发货", "paid")
    assert statuses["2"] == ("等待买家付款", "waiting_payment")
    assert statuses["3"] == ("交易关闭", "closed")
    assert statuses["4"] == ("卖家已发货，等待买家确认", "shipped")
    assert statuses["5"] == ("交易成功", "finished")


def test_refund_states_on_items(quirks):
    order = by_id(quirks)["4100000000000000005"]
    assert [(line.external_line_id[-3:], line.refund_status) for line in order.lines] == \
        [("501", "refunded"), ("502", "pending"), ("503", "closed")]
    assert [line.source_line for line in order.lines] == [7, 8, 9]


def test_presale_from_stage_information(quirks):
    orders = by_id(quirks)
    deposit_only = orders["4100000000000000006"]
    assert deposit_only.presale and not deposit_only.presale_final_paid
    assert deposit_only.paid_fen == 5000
    assert deposit_only.presale_ship_by == datetime(2026, 11, 14, 16, 0, tzinfo=timezone.utc)
    fully_paid = orders["4100000000000000007"]
    assert fully_paid.presale and fully_paid.presale_final_paid
    assert not orders["4100000000000000001"].presale


def test_addresses_split_with_zip(quirks):
    orders = by_id(quirks)
    beijing = orders["4100000000000000001"]
    assert (beijing.receiver_province, beijing.receiver_city, beijing.receiver_district,
            beijing.receiver_address, beijing.receiver_zip) == \
        ("北京", "北京市", "东城区", "东华门大街1号", "100010")
    dongguan = orders["4100000000000000002"]
    assert (dongguan.receiver_city, dongguan.receiver_district, dongguan.receiver_address) == \
        ("东莞市", "", "南城街道 宏图路88号")


def test_bad_rows_are_reported_and_the_rest_comes_through(quirks):
    problems = {(p.source, p.line, p.external_id, p.field): p.reason for p in quirks.problems}
    assert problems[("tmall_quirks_orders.csv", 10, "4100000000000000008", "买家实际支付金额")] \
        == "not an amount: '3 9.00'"
    assert problems[("tmall_quirks_items.csv", 13, "4100000000000000009", "价格")] == \
        "not an amount: '39.0O'"
    assert "1 of its item lines are invalid" in \
        problems[("tmall_quirks_orders.csv", 11, "4100000000000000009", None)]
    assert problems[("tmall_quirks_items.csv", 14, "4100000000000000099", "主订单编号")] == \
        "item line without an order"
    assert len(quirks.problems) == 4
    assert "4100000000000000008" not in by_id(quirks)
    assert "4100000000000000009" not in by_id(quirks)


def test_a_stream_gives_the_orders_as_it_reads_them_and_the_same_as_parse(quirks):
    """``stream`` reads the files and the item report at once, and each order report row when the
    caller asks for the next order: its problems are complete once the orders have ended."""
    result = get_adapter("tmall_csv").stream([str(QUIRK_ORDERS), str(QUIRK_ITEMS)])
    assert not isinstance(result.orders, list)
    assert [(p.source, p.line) for p in result.problems] == [("tmall_quirks_items.csv", 13)]  # the item report's
    first = next(result.orders)
    assert first.external_id == quirks.orders[0].external_id
    rest = list(result.orders)
    assert [o.external_id for o in [first] + rest] == [o.external_id for o in quirks.orders]
    assert [str(p) for p in result.problems] == [str(p) for p in quirks.problems]  # the orphan line included


def test_order_without_items_and_unit_mismatch_are_problems(tmp_path):
    items = QUIRK_ITEMS.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [row for row in items if "4100000000000000102" not in row
            and "4100000000000000201" not in row]
    (tmp_path / "items.csv").write_text("".join(kept), encoding="utf-8")
    result = parse(QUIRK_ORDERS, tmp_path / "items.csv")
    reasons = {p.external_id: p.reason for p in result.problems}
    assert reasons["4100000000000000001"] == "order says 2 units but its item lines add up to 1"
    assert reasons["4100000000000000002"] == "order has no lines in the item report (宝贝报表)"


def test_unknown_file_and_unknown_status_are_problems(tmp_path):
    (tmp_path / "stock.csv").write_text("库位,数量\nA01,3\n", encoding="utf-8")
    text = QUIRK_ORDERS.read_text(encoding="utf-8").replace("卖家已发货，等待买家确认", "外星状态")
    (tmp_path / "orders.csv").write_text(text, encoding="utf-8")
    result = parse(tmp_path / "stock.csv", tmp_path / "orders.csv", QUIRK_ITEMS)
    reasons = [(p.source, p.external_id, p.reason) for p in result.problems]
    assert ("stock.csv", None,
            "neither a Tmall order report (订单报表) nor an item report (宝贝报表)") in reasons
    assert ("orders.csv", "4100000000000000004", "unknown order status: '外星状态'") in reasons
    assert "4100000000000000004" not in by_id(result)


def test_blank_sku_keeps_the_line_for_the_catalog_check(tmp_path):
    text = QUIRK_ITEMS.read_text(encoding="utf-8").replace(",LP-01-3.5g,", ",,")
    (tmp_path / "items.csv").write_text(text, encoding="utf-8")
    order = by_id(parse(QUIRK_ORDERS, tmp_path / "items.csv"))["4100000000000000003"]
    assert [(line.external_line_id, line.sku_code, line.qty) for line in order.lines] == \
        [("4100000000000000301", "", 1)]


# -- address splitting -----------------------------------------------------------------------

@pytest.mark.parametrize("text,parts", [
    ("浙江省 杭州市 西湖区 科技园路65号9栋583室(619501)",
     ("浙江省", "杭州市", "西湖区", "科技园路65号9栋583室", "619501")),
    ("北京 北京市 东城区 东华门大街1号（100010）", ("北京", "北京市", "东城区", "东华门大街1号", "100010")),
    ("北京 东城区 东华门大街1号", ("北京", "北京市", "东城区", "东华门大街1号", "")),
    ("广东省 东莞市 阳光小区 3栋(523000)", ("广东省", "东莞市", "", "阳光小区 3栋", "523000")),
    ("浙江省杭州市西湖区文三路90号", ("浙江省", "杭州市", "西湖区", "文三路90号", "")),
    ("重庆市重庆市渝中区解放碑1号", ("重庆市", "重庆市", "渝中区", "解放碑1号", "")),
    ("新疆维吾尔自治区 乌鲁木齐市 天山区 中山路1号 ( 830000 )",
     ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "中山路1号", "830000")),
])
def test_split_address(text, parts):
    address = split_address(text)
    assert (address.province, address.city, address.district, address.address,
            address.zip) == parts


# -- the registry ----------------------------------------------------------------------------

def test_registry_lists_builtins_and_accepts_outside_adapters():
    assert {"tmall_csv", "top_json", "jd_json", "douyin_json", "mapped_csv"} <= \
        set(adapter_names())

    @register_adapter("test_noop")
    class NoopAdapter:
        def __init__(self, marker="x"):
            self.marker = marker

        def parse(self, paths_or_payload, shop=None):
            return ParseResult()

    try:
        adapter = get_adapter("test_noop", marker="y")
        assert adapter.marker == "y" and adapter.parse([]).orders == []
    finally:
        unregister_adapter("test_noop")
    with pytest.raises(UnknownAdapter) as error:
        get_adapter("test_noop")
    assert "tmall_csv" in str(error.value)


def test_entry_point_adapters_are_loaded(tmp_path, monkeypatch):
    package = tmp_path / "wf_fake_channel.py"
    package.write_text(
        "from server.channels import ParseResult\n"
        "class FakeAdapter:\n"
        "    def parse(self, paths_or_payload, shop=None):\n"
        "        return ParseResult()\n", encoding="utf-8")
    dist = tmp_path / "wf_fake_channel-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: wf-fake-channel\n"
                                   "Version: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[wavefloor.channels]\nfake_channel = wf_fake_channel:FakeAdapter\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        adapter = get_adapter("fake_channel")
        assert type(adapter).__name__ == "FakeAdapter"
        assert "fake_channel" in adapter_names()
    finally:
        unregister_adapter("fake_channel")
