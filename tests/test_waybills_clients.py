"""Waybill numbers without a database: the published check digits (UPU S10), pool files line by
line, SF's signature from its published example, the SF and Cainiao clients against their fakes
on 127.0.0.1, and the 76x130 label decoded with zxing-cpp."""
import json

import pytest

from server.connectors import cainiao, sf
from server.connectors.errors import BadAnswer, RateLimited, Refused, SessionInvalid, Unreachable
from server.connectors.top import TopClient
from server.connectors.waybill_numbers import (Address, WaybillRequest, expand, parse_pool, problem, read_text,
                                               s10_check_digit, s10_number)
from tests.fakes.cainiao import FakeCainiao
from tests.fakes.sf import FakeSf, digest
from tests.fakes.top import FakeTop

SENDER = Address("杭州仓", "057188886666", "浙江省", "杭州市", "余杭区", "文一西路 1500 号")


def parcel(ref: str, name: str = "张三", trade: str | None = None) -> WaybillRequest:
    return WaybillRequest(ref=ref, trade_numbers=(trade or f"T{ref}",),
                          receiver=Address(name, "13800138000", "广东省", "深圳市", "南山区", "科技园 1 号"),
                          items=(("纯棉T恤", 2),), channel="tmall")


# --- check digits and pool files -------------------------------------------------------------

def test_s10_check_digit_matches_published_examples():
    # the UPU S10 examples quoted with the rule: EB000717595HK, EB000717618HK, EE471108151FR
    assert s10_check_digit("00071759") == "5"
    assert s10_check_digit("00071761") == "8"
    assert s10_check_digit("47110815") == "1"
    assert problem("EMS", "EB000717595HK") is None
    assert "should be 5" in problem("EMS", "EB000717594HK")
    # 10 -> 0 and 11 -> 5
    assert {s10_check_digit(f"{n:08d}") for n in range(200)} <= set("0123456789")
    assert s10_number("EA", 12345678) == "EA12345678" + s10_check_digit("12345678") + "CN"


def test_carriers_without_a_published_rule_are_checked_for_shape_only():
    assert problem("SF", "SF7444496931331") is None
    assert problem("ZTO", "78901234567890") is None
    assert problem("ZTO", "12 34") is not None
    assert problem("SF", "SF>1") is not None            # '>' would start a ZPL Code 128 invocation
    assert problem("EMS", "EA12345678CN") is not None    # letters but not S10


def test_pool_file_numbers_ranges_and_problems_by_line(tmp_path):
    path = tmp_path / "zto-2026-12.csv"
    path.write_bytes("运单号\n78900000000001\n78900000000010,78900000000012\n\n# 作废\n"
                     "78900000000001\n789 bad\n78900000000020,78900000000019\n"
                     "EA00000001,EA00000003\n".encode("gbk"))
    parsed = parse_pool(read_text(path), "ZTO", path.name)
    assert parsed.numbers == ["78900000000001", "78900000000010", "78900000000011", "78900000000012",
                              "EA00000001", "EA00000002", "EA00000003"]
    assert parsed.problems == [
        "zto-2026-12.csv:6: 78900000000001 is also on line 2",
        "zto-2026-12.csv:7: '789 bad' is not a waybill number (6 to 40 letters and digits)",
        "zto-2026-12.csv:8: the range ends (78900000000019) before it starts (78900000000020)",
    ]


def test_an_s10_range_gets_each_number_its_check_digit():
    first = s10_number("EA", 1)
    last = s10_number("EA", 4)
    numbers = expand(first, last)
    assert len(numbers) == 4 and all(problem("EMS", n) is None for n in numbers)
    with pytest.raises(ValueError, match="not of one series"):
        expand("YT0001", "ZT0009")
    with pytest.raises(ValueError, match="at most"):
        expand("1000000000", "9000000000")


# --- SF ---------------------------------------------------------------------------------------

def test_sf_digest_matches_the_published_example():
    # 丰桥's documented example: this message, timestamp and checkword sign to IIKJtuLVzoFTu4kHI8M8vA==
    msg = '{"language":"zh-CN","orderId":"QIAO-20200618-004"}'
    assert sf.msg_digest(msg, "12312334453453", "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci") == "IIKJtuLVzoFTu4kHI8M8vA=="
    assert digest(msg, "12312334453453", "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci") == "IIKJtuLVzoFTu4kHI8M8vA=="
    # Java's URLEncoder: space is '+', '*' stays, '~' is encoded; the fake computes it byte by byte
    tricky = '{"a":"x y*~+&中"}'
    assert sf.java_urlencode("a b*~") == "a+b*%7E"
    assert sf.msg_digest(tricky, "1", "k") == digest(tricky, "1", "k")


@pytest.fixture
def fake_sf():
    fake = FakeSf().start()
    yield fake
    fake.stop()


def sf_client(fake, **kwargs) -> sf.SfClient:
    return sf.SfClient(fake.url, fake.partner_id, fake.checkword, "7551234567", timeout_s=kwargs.pop("timeout_s", 2),
                       **kwargs)


def test_sf_create_order_returns_number_and_route_label_and_is_idempotent(fake_sf):
    client = sf_client(fake_sf)
    first = client.create_order(parcel("1001"), SENDER)
    assert first.number.startswith("SF") and len(first.number) == 15
    assert first.sort_code == "755W-南山-01" and first.ref == "1001"
    assert json.loads(first.print_data)["waybillNo"] == first.number
    sent = fake_sf.orders["1001"]["message"]
    assert sent["monthlyCard"] == "7551234567" and [c["contactType"] for c in sent["contactInfoList"]] == [1, 2]
    assert sent["cargoDetails"] == [{"name": "纯棉T恤", "count": 2}]
    # the same order id again: SF answers its first number
    assert client.create_order(parcel("1001"), SENDER).number == first.number
    assert fake_sf.calls["EXP_RECE_CREATE_ORDER"] == 2


def test_sf_cancel_and_cancel_again_is_done(fake_sf):
    client = sf_client(fake_sf)
    number = client.create_order(parcel("1002"), SENDER).number
    assert client.cancel("1002", number) == "sent"
    assert fake_sf.orders["1002"]["state"] == "cancelled"
    assert client.cancel("1002", number) == "already"   # 订单已取消
    with pytest.raises(Refused):
        client.cancel("never-ordered")


@pytest.mark.parametrize("kind, error", [("rate_limit", RateLimited), ("signature", SessionInvalid),
                                         ("refused", Refused), ("html", Unreachable),
                                         ("server_error", Unreachable), ("missing_field", BadAnswer)])
def test_sf_errors_are_mapped(fake_sf, kind, error):
    fake_sf.fail("EXP_RECE_CREATE_ORDER", 1, kind)
    with pytest.raises(error) as raised:
        sf_client(fake_sf).create_order(parcel("1003"), SENDER)
    assert raised.value.call == "EXP_RECE_CREATE_ORDER"
    assert fake_sf.checkword not in str(raised.value)


def test_sf_wrong_checkword_is_refused_by_the_gateway_and_not_shown(fake_sf):
    client = sf.SfClient(fake_sf.url, fake_sf.partner_id, "not-the-checkword", timeout_s=2)
    with pytest.raises(SessionInvalid, match="A1006") as raised:
        client.create_order(parcel("1004"), SENDER)
    assert "not-the-checkword" not in str(raised.value)


def test_sf_switched_off_or_slow_is_unreachable(fake_sf):
    fake_sf.stop()
    with pytest.raises(Unreachable):
        sf_client(fake_sf).create_order(parcel("1005"), SENDER)
    fake_sf.start()
    fake_sf.slow_s = 0.5
    with pytest.raises(Unreachable):
        sf_client(fake_sf, timeout_s=0.2).create_order(parcel("1005"), SENDER)
    fake_sf.slow_s = 0
    assert sf_client(fake_sf).create_order(parcel("1005"), SENDER).number


def test_sf_receiver_out_of_range_is_refused(fake_sf):
    fake_sf.refuse_receivers.add("李四")
    with pytest.raises(Refused, match="不可收派"):
        sf_client(fake_sf).create_order(parcel("1006", name="李四"), SENDER)


# --- Cainiao ----------------------------------------------------------------------------------

@pytest.fixture
def fake_top():
    fake = FakeTop().start()
    yield fake
    fake.stop()


def top_client(fake) -> TopClient:
    return TopClient(fake.url, fake.app_key, fake.secret, fake.session, timeout_s=2)


def test_cainiao_waybill_get_matches_answers_by_object_id(fake_top):
    fake = FakeCainiao(fake_top)
    requests = [parcel(str(n)) for n in range(1, 11)]
    results = cainiao.waybill_get(top_client(fake_top), requests, carrier="ZTO", sender=SENDER,
                                  template_url="http://cloudprint.cainiao.com/template/standard/101/1")
    assert [r.ref for r in results] == [str(n) for n in range(1, 11)]
    assert len({r.number for r in results}) == 10 and all(r.number.startswith("7") for r in results)
    assert results[0].sort_code == "深圳 南山"
    assert json.loads(results[0].print_data)["data"]["waybillCode"] == results[0].number
    sent = fake.requests[0]
    assert sent["cp_code"] == "ZTO" and sent["trade_order_info_dtos"][0]["order_info"] == {
        "order_channels_type": "TM", "trade_order_list": ["T1"]}
    # the same trade order again gets the same number
    again = cainiao.waybill_get(top_client(fake_top), [parcel("1")], carrier="ZTO", sender=SENDER, template_url="")
    assert again[0].number == results[0].number
    with pytest.raises(ValueError):
        cainiao.waybill_get(top_client(fake_top), [parcel(str(n)) for n in range(11)], carrier="ZTO",
                            sender=SENDER, template_url="")


def test_cainiao_refusal_session_and_cancel(fake_top):
    fake = FakeCainiao(fake_top)
    fake.refuse_receivers.add("李四")
    client = top_client(fake_top)
    with pytest.raises(Refused, match="不可达"):
        cainiao.waybill_get(client, [parcel("1", name="李四")], carrier="ZTO", sender=SENDER, template_url="")
    number = cainiao.waybill_get(client, [parcel("2")], carrier="YTO", sender=SENDER, template_url="")[0].number
    assert cainiao.waybill_cancel(client, "YTO", number) == "sent"
    assert fake.issued[number]["state"] == "cancelled"
    assert cainiao.waybill_cancel(client, "YTO", number) == "already"    # 面单已取消
    # a cancelled trade order asked again gets a new number, never the old one
    assert cainiao.waybill_get(client, [parcel("2")], carrier="YTO", sender=SENDER,
                               template_url="")[0].number != number
    fake_top.expire_session()
    with pytest.raises(SessionInvalid):
        cainiao.waybill_get(client, [parcel("3")], carrier="ZTO", sender=SENDER, template_url="")


def test_cainiao_answer_without_modules_is_a_bad_answer(fake_top):
    FakeCainiao(fake_top)
    fake_top.fail(cainiao.GET, 1, "missing_field")
    with pytest.raises(BadAnswer, match="modules"):
        cainiao.waybill_get(top_client(fake_top), [parcel("1")], carrier="ZTO", sender=SENDER, template_url="")


def test_sort_code_of_print_data():
    assert cainiao.sort_code(json.dumps({"data": {"routingInfo": {"sortation": {"name": "杭州 余杭"}}}})) == "杭州 余杭"
    assert cainiao.sort_code(json.dumps({"data": {"routingInfo": {"routeCode": "300-A01"}}})) == "300-A01"
    assert cainiao.sort_code(json.dumps({"encryptedData": "xx", "signature": "s"})) == ""
    assert cainiao.sort_code("not json") == ""


# --- the 76x130 label -------------------------------------------------------------------------

zplkit = pytest.importorskip("zplkit")
zxingcpp = pytest.importorskip("zxingcpp")


def decode(zpl: str, dpi: int) -> list[str]:
    from PIL import Image
    document = zplkit.render(zpl.encode("utf-8"), zplkit.Options(profile="zd621", dpi=dpi))
    raster = document.labels[0].rasterize()
    image = Image.frombytes("L", (raster.width, raster.height), raster.pixels)
    assert image.size == ((608, 1040) if dpi == 203 else (899, 1537))
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)]


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("number", ["SF7444496931331", "78900000000001", "EA123456785CN", "JDVA01234567890123-1"])
def test_waybill_label_carries_the_carrier_number_as_code128(number, dpi):
    from printers.labels import TEMPLATES, render_label
    template = TEMPLATES["waybill_76x130"]
    data = dict(template.demo(), tracking_number=number, sort_code="300-A01-01")
    zpl = render_label("waybill_76x130", data, template.profile(dpi=dpi, cjk="raster"))
    assert zpl.startswith(f"^XA^CI28^PW{608 if dpi == 203 else 899}^LL{1040 if dpi == 203 else 1537}")
    assert decode(zpl, dpi) == [number]


def test_waybill_label_masks_the_receiver_phone_and_prints_the_sort_code():
    from printers.labels import TEMPLATES, render_label
    data = TEMPLATES["waybill_76x130"].demo()
    zpl = render_label("waybill_76x130", data, TEMPLATES["waybill_76x130"].profile(cjk="font"))
    assert "138****8000" in zpl and "13800138000" not in zpl
    assert "^FD755W-F0-CK^FS" in zpl
