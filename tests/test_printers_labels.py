"""Every label template rendered offline (zplkit) and its barcodes decoded (zxing-cpp)."""

import json
import re

import pytest
from click.testing import CliRunner

zplkit = pytest.importorskip("zplkit")
zxingcpp = pytest.importorskip("zxingcpp")
from PIL import Image  # noqa: E402

from printers.cli import labels as labels_cli  # noqa: E402
from printers.exceptions import LabelDataError, UnknownTemplate  # noqa: E402
from printers.labels import (  # noqa: E402
    TEMPLATES,
    Party,
    expected_barcodes,
    mask_phone,
    render_label,
    shipping_demo,
    sscc18,
    write_samples,
)
from printers.zpl import PrinterProfile  # noqa: E402

FORMATS = {
    "code128": zxingcpp.BarcodeFormat.Code128,
    "gs1-128": zxingcpp.BarcodeFormat.Code128,
    "qrcode": zxingcpp.BarcodeFormat.QRCode,
    "ean13": zxingcpp.BarcodeFormat.EAN13,
}


def render(zpl: str, dpi: int) -> Image.Image:
    document = zplkit.render(zpl.encode("utf-8"), zplkit.Options(profile="zd621", dpi=dpi))
    assert len(document.labels) == 1
    raster = document.labels[0].rasterize()
    return Image.frombytes("L", (raster.width, raster.height), raster.pixels)


def decoded(image: Image.Image, kinds) -> list[dict]:
    formats = tuple({FORMATS[kind] for kind in kinds})
    found = []
    for result in zxingcpp.read_barcodes(image, formats=formats, text_mode=zxingcpp.TextMode.Plain):
        kind = {"Code128": "code128", "QRCode": "qrcode", "EAN13": "ean13"}[result.format.name]
        if kind == "code128" and result.symbology_identifier == "]C1":
            kind = "gs1-128"  # FNC1 in first position
        found.append({"type": kind, "data": result.text})
    return found


def as_set(barcodes):
    return sorted((barcode["type"], barcode["data"]) for barcode in barcodes)


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_renders_and_its_barcodes_decode_to_the_data(name, dpi):
    template = TEMPLATES[name]
    data = template.demo()
    zpl = render_label(name, data, template.profile(dpi=dpi, cjk="raster"))
    expected = expected_barcodes(name, data)
    assert expected, "every template carries at least one barcode"
    image = render(zpl, dpi)
    assert image.size == (round(template.width_in * dpi), round(template.height_in * dpi))
    assert as_set(decoded(image, [b["type"] for b in expected])) == as_set(expected)


def test_shipping_label_carries_tracking_number_as_code128_and_qr():
    data = shipping_demo()
    image = render(render_label("shipping", data, TEMPLATES["shipping"].profile(cjk="raster")), 203)
    assert as_set(decoded(image, ["code128", "qrcode"])) == [
        ("code128", data["tracking_number"]),
        ("qrcode", data["tracking_number"]),
    ]


def test_sscc_label_is_gs1_128_with_fnc1_and_computed_check_digit():
    data = dict(TEMPLATES["sscc"].demo(), sscc="10614141123456789")
    zpl = render_label("sscc", data, TEMPLATES["sscc"].profile(cjk="raster"))
    assert ">;>800106141411234567897" in zpl
    assert decoded(render(zpl, 203), ["gs1-128"]) == [{"type": "gs1-128", "data": "00106141411234567897"}]


def test_sscc_check_digit_is_computed_or_verified():
    assert sscc18("10614141123456789") == "106141411234567897"
    assert sscc18("106141411234567897") == "106141411234567897"
    with pytest.raises(LabelDataError, match="should be 7"):
        sscc18("106141411234567890")
    with pytest.raises(LabelDataError):
        sscc18("12345")


def test_sku_label_without_ean_uses_code128_of_the_sku():
    data = {"sku": "BOWL-12", "name": "Bowl 12cm"}
    profile = TEMPLATES["sku"].profile(cjk="font")
    zpl = render_label("sku", data, profile)
    assert "^BE" not in zpl
    assert decoded(render(zpl, 203), ["code128"]) == [{"type": "code128", "data": "BOWL-12"}]


def test_sku_label_rejects_a_wrong_ean_check_digit():
    with pytest.raises(LabelDataError, match="check digit"):
        render_label("sku", {"sku": "X", "name": "x", "ean": "6901234567890"})


@pytest.mark.parametrize("name,data", [
    ("location", {"code": "B12-03-1", "zone": "ZONE B"}),
    ("tote", {"code": "T9001", "kind": "TOTE"}),
    ("sku", {"sku": "CUP-1", "name": "Cup", "ean": "6901234567892"}),
])
def test_font_mode_labels_without_chinese_render_and_need_no_printer_font(name, data):
    zpl = render_label(name, data, TEMPLATES[name].profile(cjk="font"))
    assert "^CW" not in zpl
    expected = expected_barcodes(name, data)
    assert as_set(decoded(render(zpl, 203), [b["type"] for b in expected])) == as_set(expected)


def test_font_mode_shipping_label_maps_the_printer_font_and_keeps_the_same_barcodes():
    data = shipping_demo()
    profile = PrinterProfile(cjk="font", font_name="E:SIMSUN.FNT", font_letter="J")
    font_zpl = render_label("shipping", data, profile)
    raster_zpl = render_label("shipping", data, profile.with_(cjk="raster"))
    assert font_zpl.startswith("^XA^CI28^PW812^LL1218^LH0,0^CWJ,E:SIMSUN.FNT")
    assert "^GF" not in font_zpl
    assert "^AJN,40,40^FH^FD张三  138****8000^FS" in font_zpl
    barcode_commands = re.compile(r"\^FO\d+,\d+(?:\^BY\d+)?\^B[CQE][^\^]*\^FH\^FD[^\^]*\^FS")
    assert barcode_commands.findall(font_zpl) == barcode_commands.findall(raster_zpl)
    assert len(barcode_commands.findall(font_zpl)) == 2


def test_shipping_label_masks_the_receiver_phone_unless_told_not_to():
    data = shipping_demo()
    assert "138****8000" in render_label("shipping", data)
    assert "13800138000" in render_label("shipping", dict(data, mask_phone=False))
    assert mask_phone("13800138000") == "138****8000"


def test_builders_accept_dataclasses():
    data = shipping_demo()
    data["receiver"] = Party(**data["receiver"])
    assert "张三" in render_label("shipping", data)


def test_unknown_template_is_a_named_error():
    with pytest.raises(UnknownTemplate):
        render_label("pallet", {})


def test_write_samples_writes_zpl_and_json_whose_barcodes_decode(tmp_path):
    written = write_samples(str(tmp_path), dpi=300, cjk="raster")
    assert sorted(p.rsplit("/", 1)[1] for p in written) == sorted(f"{name}.zpl" for name in TEMPLATES)
    for name in TEMPLATES:
        meta = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert meta["dpi"] == 300
        zpl = (tmp_path / f"{name}.zpl").read_text(encoding="utf-8")
        image = render(zpl, 300)
        assert as_set(decoded(image, [b["type"] for b in meta["barcodes"]])) == as_set(meta["barcodes"])


def test_labels_sample_command_writes_every_template(tmp_path):
    result = CliRunner().invoke(labels_cli, ["sample", "--out", str(tmp_path), "--dpi", "203"])
    assert result.exit_code == 0, result.output
    for name in TEMPLATES:
        assert (tmp_path / f"{name}.zpl").read_text(encoding="utf-8").startswith("^XA^CI28")
        assert json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))["barcodes"]
