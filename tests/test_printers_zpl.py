"""Field escaping, profiles, ^GFA compression and CJK raster text."""

import pytest

zplkit = pytest.importorskip("zplkit")
zxingcpp = pytest.importorskip("zxingcpp")
from PIL import Image  # noqa: E402

from printers import raster as raster_module  # noqa: E402
from printers.exceptions import CjkFontNotFound, LabelDataError  # noqa: E402
from printers.raster import compress_graphic_rows, find_cjk_font, graphic_field  # noqa: E402
from printers.zpl import PrinterProfile, ZplLabel, escape_field, gs1_check_digit, unescape_field  # noqa: E402


def render(zpl: str, dpi: int = 203) -> Image.Image:
    document = zplkit.render(zpl.encode("utf-8"), zplkit.Options(profile="zd621", dpi=dpi))
    raster = document.labels[0].rasterize()
    return Image.frombytes("L", (raster.width, raster.height), raster.pixels)


def read(image, *formats):
    return [r.text for r in zxingcpp.read_barcodes(image, formats=formats, text_mode=zxingcpp.TextMode.Plain)]


def black_dots(image, box=None) -> int:
    region = image.crop(box) if box else image
    return sum(region.histogram()[:128])


def test_escape_field_hex_escapes_caret_tilde_and_the_escape_character():
    assert escape_field("A^B~C_D") == "A_5EB_7EC_5FD"
    assert unescape_field(escape_field("x_5E^~_")) == "x_5E^~_"
    assert escape_field("收件人") == "收件人"
    assert escape_field("line\r\nbreak") == "line  break"


def test_caret_tilde_and_underscore_survive_in_barcodes_and_do_not_end_the_format():
    data = "LOC^1~2_3"
    label = ZplLabel(PrinterProfile(width_in=4, height_in=3))
    label.code128(5, 5, data, height_mm=15)
    label.qr(5, 35, "a^b~c_d", module_mm=0.75)
    label.text(60, 35, "x^XZ~JR_", height_mm=4)
    zpl = label.finish()
    assert zpl.count("^XA") == 1 and zpl.count("^XZ") == 1
    assert "~JR" not in zpl
    image = render(zpl)
    assert read(image, zxingcpp.BarcodeFormat.Code128) == [data]
    assert read(image, zxingcpp.BarcodeFormat.QRCode) == ["a^b~c_d"]


def test_code128_refuses_data_it_cannot_carry():
    label = ZplLabel(PrinterProfile())
    with pytest.raises(LabelDataError):
        label.code128(0, 0, "A>B")
    with pytest.raises(LabelDataError):
        label.code128(0, 0, "货架")


def test_gs1_check_digit_matches_published_examples():
    assert gs1_check_digit("10614141123456789") == "7"  # SSCC 106141411234567897
    assert gs1_check_digit("690123456789") == "2"  # EAN-13 6901234567892
    assert gs1_check_digit("0001234560001") == "2"  # GTIN 00012345600012


def test_profile_scales_dots_with_dpi():
    assert PrinterProfile(dpi=203).dots(25.4) == 203
    assert PrinterProfile(dpi=300).dots(25.4) == 300
    assert (PrinterProfile(dpi=203).width_dots, PrinterProfile(dpi=203).height_dots) == (812, 1218)
    assert (PrinterProfile(dpi=300).width_dots, PrinterProfile(dpi=300).height_dots) == (1200, 1800)
    with pytest.raises(ValueError):
        PrinterProfile(dpi=250)
    with pytest.raises(ValueError):
        PrinterProfile(cjk="bitmap")
    with pytest.raises(ValueError):
        PrinterProfile(font_letter="0")


def test_profile_darkness_speed_and_copies_are_only_sent_when_set():
    plain = ZplLabel(PrinterProfile()).finish()
    assert "^MD" not in plain and "^PR" not in plain and "^PQ" not in plain
    tuned = ZplLabel(PrinterProfile(darkness=10, speed=4, copies=2)).finish()
    assert "^MD10" in tuned and "^PR4" in tuned and tuned.endswith("^PQ2^XZ")


@pytest.mark.parametrize("encoding", ["ascii", "z64"])
def test_compressed_graphic_renders_exactly_like_plain_hex(encoding):
    rows = bytes([0xFF, 0x00, 0x00] * 3 + [0x0F, 0xF0, 0x81] + [0x00] * 3 + [0xAA] * 3 + [0xAA] * 3) * 4
    plain = "^XA^PW100^LL60^FO10,10" + graphic_field(rows, 3, encoding="hex") + "^FS^XZ"
    packed = "^XA^PW100^LL60^FO10,10" + graphic_field(rows, 3, encoding=encoding) + "^FS^XZ"
    assert len(packed) < len(plain)
    assert render(plain).tobytes() == render(packed).tobytes()
    assert black_dots(render(plain)) == sum(bin(byte).count("1") for byte in rows)


@pytest.mark.parametrize("encoding", ["ascii", "z64", "hex"])
def test_raster_labels_render_with_every_graphic_encoding(encoding):
    label = ZplLabel(PrinterProfile(cjk="raster", graphic_encoding=encoding, width_in=4, height_in=1))
    label.text(2, 2, "仓库 A 区", height_mm=6)
    assert black_dots(render(label.finish())) > 300


def test_compression_uses_repeat_counts_zero_fill_and_row_repeat():
    encoded = compress_graphic_rows(["FFFF00", "FFFF00", "000000", "A" * 45])
    # 4 x F then zero fill; the same row again; an empty row; 45 x A = 40 (h) + 5 (K)
    assert encoded == "JF,:,hKA"


def test_raster_mode_draws_chinese_as_a_graphic_that_renders():
    profile = PrinterProfile(cjk="raster", width_in=4, height_in=2)
    label = ZplLabel(profile)
    label.text(5, 5, "收件人 张三", height_mm=6)
    zpl = label.finish()
    assert "^GFA," in zpl and "^CW" not in zpl and "收" not in zpl
    image = render(zpl)
    assert black_dots(image, (40, 40, 400, 100)) > 300
    assert black_dots(image, (0, 200, 812, 406)) == 0


def test_raster_text_scales_with_dpi():
    def ink_height(dpi):
        label = ZplLabel(PrinterProfile(dpi=dpi, cjk="raster", width_in=4, height_in=1))
        label.text(2, 2, "国国国", height_mm=8)
        image = render(label.finish(), dpi)
        rows = [y for y in range(image.height) if black_dots(image, (0, y, image.width, y + 1))]
        return max(rows) - min(rows)

    small, large = ink_height(203), ink_height(300)
    assert 1.3 < large / small < 1.6


def test_raster_text_block_wraps_long_addresses_onto_several_lines():
    label = ZplLabel(PrinterProfile(cjk="raster", width_in=4, height_in=2))
    label.text_block(2, 2, 40, "广东省深圳市南山区科技园南区高新南一道8号", height_mm=4, max_lines=3)
    assert label.finish().count("^GFA,") == 3


def test_font_mode_uses_the_mapped_printer_font_for_chinese_only():
    label = ZplLabel(PrinterProfile(cjk="font", font_name="E:MSUNG24.FNT", font_letter="Z"))
    label.text(1, 1, "ABC", height_mm=4)
    label.text(1, 8, "仓库", height_mm=4)
    zpl = label.finish()
    assert "^CWZ,E:MSUNG24.FNT" in zpl
    assert "^A0N,32,0^FH^FDABC^FS" in zpl
    assert "^AZN,32,32^FH^FD仓库^FS" in zpl


def test_find_cjk_font_honours_configuration_and_explains_a_missing_font(monkeypatch, tmp_path):
    monkeypatch.delenv(raster_module.CJK_FONT_ENV, raising=False)
    with pytest.raises(CjkFontNotFound, match="fonts-wqy-zenhei"):
        find_cjk_font(str(tmp_path / "missing.ttf"))
    fake = tmp_path / "font.ttf"
    fake.write_bytes(b"")
    monkeypatch.setenv(raster_module.CJK_FONT_ENV, str(fake))
    assert find_cjk_font() == str(fake)
    monkeypatch.delenv(raster_module.CJK_FONT_ENV)
    monkeypatch.setattr(raster_module, "CJK_FONT_CANDIDATES", ())
    monkeypatch.setattr(raster_module, "_fontconfig_cjk_font", lambda: None)
    with pytest.raises(CjkFontNotFound, match="WAVEFLOOR_CJK_FONT"):
        find_cjk_font()
