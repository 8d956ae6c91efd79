"""Label templates: shipping 4x6 (快递面单), the carriers' 76x130 mm electronic waybill (电子面单),
GS1-128 SSCC carton, location, SKU and tote.

Each template is registered by name with its media size, demo data and a function that says
which barcodes the label must carry; the print queue renders by name, tests and
``wavefloor labels sample`` use the demo data and the barcode list to check every template.
Builders take plain dicts (or dataclass instances) and return ZPL text.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from printers.exceptions import LabelDataError, UnknownTemplate
from printers.zpl import PrinterProfile, ZplLabel, gs1_check_digit


@dataclass(frozen=True)
class Party:
    """Receiver (收件人) or sender (寄件人) of a parcel."""

    name: str
    phone: str
    province: str
    city: str
    district: str
    address: str


@dataclass(frozen=True)
class LabelTemplate:
    name: str
    description: str
    width_in: float
    height_in: float
    build: Callable[[Mapping, PrinterProfile], str]
    barcodes: Callable[[Mapping], list[dict]]
    demo: Callable[[], dict]

    def profile(self, dpi: int = 203, **options) -> PrinterProfile:
        return PrinterProfile(dpi=dpi, width_in=self.width_in, height_in=self.height_in, **options)


TEMPLATES: dict[str, LabelTemplate] = {}


def register_template(template: LabelTemplate) -> LabelTemplate:
    TEMPLATES[template.name] = template
    return template


def get_template(name: str) -> LabelTemplate:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(f"no label template {name!r}; known: {', '.join(sorted(TEMPLATES))}") from None


def render_label(name: str, data, profile: PrinterProfile | None = None) -> str:
    """ZPL for template ``name``; without a profile the template's own media at 203 dpi."""
    template = get_template(name)
    return template.build(_as_mapping(data), profile or template.profile())


def expected_barcodes(name: str, data) -> list[dict]:
    """What the label's barcodes must decode to: ``[{"type": ..., "data": ...}, ...]``."""
    return get_template(name).barcodes(_as_mapping(data))


def _as_mapping(data) -> Mapping:
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return dataclasses.asdict(data)
    if isinstance(data, Mapping):
        return data
    raise LabelDataError(f"label data must be a mapping or a dataclass, not {type(data).__name__}")


def _party(value) -> Mapping:
    return _as_mapping(value) if value is not None else {}


def mask_phone(phone: str) -> str:
    """Privacy waybill (隐私面单): ``13800138000`` -> ``138****8000``."""
    digits = str(phone)
    if len(digits) >= 7:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return digits


def full_address(party: Mapping) -> str:
    return "".join(str(party.get(key, "")) for key in ("province", "city", "district")) + " " + str(
        party.get("address", "")
    )


def sku_summary(items) -> str:
    """``A1001×2 B2002×1 (共3件)`` from order lines ``[{"sku", "qty"}]`` or a ready string."""
    if isinstance(items, str):
        return items
    lines = [f"{item['sku']}×{int(item.get('qty', 1))}" for item in items or ()]
    units = sum(int(item.get("qty", 1)) for item in items or ())
    return " ".join(lines) + f" (共{units}件)" if lines else ""


# ---------------------------------------------------------------------------------------------
# shipping 4x6 (快递面单)


def build_shipping(data: Mapping, profile: PrinterProfile) -> str:
    receiver, sender = _party(data.get("receiver")), _party(data.get("sender"))
    tracking = str(data["tracking_number"])
    phone = str(receiver.get("phone", ""))
    if data.get("mask_phone", True):
        phone = mask_phone(phone)
    label = ZplLabel(profile)
    label.text(4, 3, data.get("carrier", ""), height_mm=7)
    label.text(62, 4, data.get("service", ""), height_mm=5)
    label.hline(2, 12, 97.6)
    # route / sort code (大头笔): read from a metre away by the sorting line
    label.text(4, 15, data.get("sort_code", ""), height_mm=13)
    label.hline(2, 31, 97.6)
    label.code128(8, 34, tracking, height_mm=15, module_mm=0.33)
    label.hline(2, 57, 97.6)
    label.text(3, 60, "收", height_mm=7)
    label.text(13, 60, f"{receiver.get('name', '')}  {phone}", height_mm=5)
    label.text_block(13, 67, 85, full_address(receiver), height_mm=4.5, max_lines=3)
    label.hline(2, 85, 97.6)
    label.text(3, 88, "寄", height_mm=5)
    sender_phone = mask_phone(sender.get("phone", "")) if data.get("mask_phone", True) else sender.get("phone", "")
    label.text(13, 88, f"{sender.get('name', '')}  {sender_phone}", height_mm=3.5)
    label.text_block(13, 93, 85, full_address(sender), height_mm=3.5, max_lines=2)
    label.hline(2, 103, 97.6)
    label.text(4, 106, f"订单号 {data.get('order_number', '')}", height_mm=3.5)
    label.text_block(4, 112, 68, sku_summary(data.get("items", "")), height_mm=3.5, max_lines=4)
    label.qr(76, 110, tracking, module_mm=0.75)
    label.hline(2, 138, 97.6)
    label.text(4, 141, tracking, height_mm=6)
    return label.finish()


def shipping_barcodes(data: Mapping) -> list[dict]:
    tracking = str(data["tracking_number"])
    return [{"type": "code128", "data": tracking}, {"type": "qrcode", "data": tracking}]


def shipping_demo() -> dict:
    return {
        "carrier": "顺丰速运",
        "service": "标准快递",
        "tracking_number": "SF1402375886421",
        "sort_code": "755WA-012",
        "order_number": "TM20240611000123",
        "receiver": {
            "name": "张三",
            "phone": "13800138000",
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "address": "科技园南区高新南一道 8 号创维大厦 A 座 1201",
        },
        "sender": {
            "name": "杭州仓 (Wavefloor)",
            "phone": "057188886666",
            "province": "浙江省",
            "city": "杭州市",
            "district": "余杭区",
            "address": "仓前街道文一西路 1500 号 3 号库",
        },
        "items": [{"sku": "CUP-500-WH", "qty": 2}, {"sku": "LID-500", "qty": 1}],
    }


# ---------------------------------------------------------------------------------------------
# 76 x 130 mm electronic waybill (电子面单 一联单), the roll the carriers' thermal printers take


WAYBILL_WIDTH_MM = 76.0


def build_waybill(data: Mapping, profile: PrinterProfile) -> str:
    """The carrier's number (from Cainiao, SF or a number pool) as Code 128 across the label,
    its sort code (大头笔 / 三段码) big enough for the sorting line, receiver, sender and what is
    in the parcel. Narrow bars for long numbers, so every number fits in the 76 mm."""
    receiver, sender = _party(data.get("receiver")), _party(data.get("sender"))
    number = str(data["tracking_number"])
    masked = data.get("mask_phone", True)
    phone = mask_phone(receiver.get("phone", "")) if masked else receiver.get("phone", "")
    sender_phone = mask_phone(sender.get("phone", "")) if masked else sender.get("phone", "")
    width = WAYBILL_WIDTH_MM - 4
    label = ZplLabel(profile)
    label.text(3, 2.5, data.get("carrier", ""), height_mm=6)
    label.text(50, 3.5, data.get("service", ""), height_mm=4)
    label.hline(2, 10.5, width)
    label.text(3, 12.5, data.get("sort_code", ""), height_mm=11)
    label.hline(2, 26, width)
    label.code128(5, 29, number, height_mm=17, module_mm=0.33 if len(number) <= 16 else 0.25,
                  human_readable=False)
    label.text(14, 47.5, number, height_mm=4.5)
    label.hline(2, 53.5, width)
    label.text(3, 56, "收", height_mm=6)
    label.text(11, 56, f"{receiver.get('name', '')}  {phone}", height_mm=4.5)
    label.text_block(11, 62, 62, full_address(receiver), height_mm=3.8, max_lines=3)
    label.hline(2, 77, width)
    label.text(3, 79, "寄", height_mm=4.5)
    label.text(11, 79, f"{sender.get('name', '')}  {sender_phone}", height_mm=3.2)
    label.text_block(11, 83.5, 62, full_address(sender), height_mm=3.2, max_lines=2)
    label.hline(2, 94, width)
    label.text(3, 96.5, f"订单号 {data.get('order_number', '')}", height_mm=3.2)
    label.text_block(3, 101.5, 70, sku_summary(data.get("items", "")), height_mm=3.2, max_lines=4)
    label.hline(2, 119, width)
    label.text(3, 121.5, f"{number}  {data.get('printed_at', '')}".strip(), height_mm=3.5)
    return label.finish()


def waybill_barcodes(data: Mapping) -> list[dict]:
    return [{"type": "code128", "data": str(data["tracking_number"])}]


def waybill_demo() -> dict:
    return dict(shipping_demo(), tracking_number="SF7444496931331", sort_code="755W-F0-CK",
                service="顺丰特快", printed_at="2026-12-06 10:30")


# ---------------------------------------------------------------------------------------------
# GS1-128 SSCC carton label


def sscc18(value: str) -> str:
    """The 18-digit SSCC: 17 digits get their check digit, 18 digits are checked."""
    digits = str(value).replace(" ", "")
    if not digits.isdigit() or len(digits) not in (17, 18):
        raise LabelDataError(f"an SSCC has 17 digits (+ check digit): {value!r}")
    check = gs1_check_digit(digits[:17])
    if len(digits) == 18 and digits[17] != check:
        raise LabelDataError(f"SSCC check digit of {value!r} should be {check}")
    return digits[:17] + check


def build_sscc(data: Mapping, profile: PrinterProfile) -> str:
    sscc = sscc18(data["sscc"])
    ship_from, ship_to = _party(data.get("ship_from")), _party(data.get("ship_to"))
    label = ZplLabel(profile)
    label.text(4, 4, "FROM 发货", height_mm=3)
    label.text(4, 8, ship_from.get("name", ""), height_mm=4)
    label.text_block(4, 13, 45, full_address(ship_from), height_mm=3, max_lines=3)
    label.text(53, 4, "TO 收货", height_mm=3)
    label.text(53, 8, ship_to.get("name", ""), height_mm=4)
    label.text_block(53, 13, 45, full_address(ship_to), height_mm=3, max_lines=3)
    label.hline(2, 27, 97.6)
    label.text(4, 30, f"PO {data.get('po_number', '')}", height_mm=5)
    label.text(4, 38, f"SKU {data.get('sku', '')}  x{data.get('qty', '')}", height_mm=5)
    label.text(4, 46, f"CARTON {data.get('carton', '')}", height_mm=5)
    label.text(4, 54, str(data.get("description", "")), height_mm=4.5)
    label.hline(2, 90, 97.6)
    label.text(4, 93, "SSCC", height_mm=4)
    label.text(4, 99, f"(00) {sscc}", height_mm=6)
    label.gs1_128(8, 110, "00" + sscc, height_mm=28, module_mm=0.375)
    return label.finish()


def sscc_barcodes(data: Mapping) -> list[dict]:
    return [{"type": "gs1-128", "data": "00" + sscc18(data["sscc"])}]


def sscc_demo() -> dict:
    return {
        "sscc": "10614141123456789",
        "ship_from": {"name": "杭州仓", "province": "浙江省", "city": "杭州市", "district": "余杭区",
                      "address": "文一西路 1500 号"},
        "ship_to": {"name": "天猫超市 广州仓", "province": "广东省", "city": "广州市", "district": "白云区",
                    "address": "太和镇物流园 6 号"},
        "po_number": "PO2024-06-0042",
        "sku": "CUP-500-WH",
        "qty": 24,
        "carton": "3/12",
        "description": "保温杯 500ml 白色",
    }


# ---------------------------------------------------------------------------------------------
# receiving label (入库标签): one licence plate (LPN) at the dock


def build_lpn(data: Mapping, profile: PrinterProfile) -> str:
    """SKU, name, lot, expiry and quantity of a licence plate, and its SSCC as GS1-128 (AI 00)."""
    sscc = sscc18(data["sscc"])
    label = ZplLabel(profile)
    label.text(4, 3, f"SKU {data.get('sku', '')}", height_mm=6)
    label.text(4, 11, str(data.get("name", ""))[:40], height_mm=4.5)
    label.text(4, 18, f"LOT {data.get('lot') or '-'}", height_mm=4)
    label.text(4, 24, f"EXP {data.get('expiry') or '-'}", height_mm=4)
    label.text(62, 18, f"QTY {data.get('qty', '')}", height_mm=5)
    label.text(62, 3, f"PO {data.get('po', '')}", height_mm=3.5)
    label.text(62, 8, f"{data.get('receipt', '')} {data.get('dock', '')}".strip(), height_mm=3)
    label.hline(2, 30, 97.6)
    label.text(4, 32, f"SSCC (00) {sscc}", height_mm=4)
    label.gs1_128(8, 38, "00" + sscc, height_mm=30, module_mm=0.375)
    return label.finish()


def lpn_barcodes(data: Mapping) -> list[dict]:
    return [{"type": "gs1-128", "data": "00" + sscc18(data["sscc"])}]


def lpn_demo() -> dict:
    return {"sscc": "069012340000004212", "sku": "CUP-500-WH", "name": "保温杯 500ml 白色", "lot": "L2406A",
            "expiry": "2027-06-30", "qty": 24, "po": "PO2024-06-0042", "receipt": "RC000042", "dock": "DOCK-1"}


# ---------------------------------------------------------------------------------------------
# location, SKU and tote labels


def build_location(data: Mapping, profile: PrinterProfile) -> str:
    code = str(data["code"])
    label = ZplLabel(profile)
    label.text(4, 3, code, height_mm=14)
    label.text(70, 4, str(data.get("zone", "")), height_mm=5)
    label.code128(6, 21, code, height_mm=16, module_mm=0.375, human_readable=False)
    label.text(4, 42, str(data.get("note", "")), height_mm=4)
    return label.finish()


def location_barcodes(data: Mapping) -> list[dict]:
    return [{"type": "code128", "data": str(data["code"])}]


def location_demo() -> dict:
    return {"code": "A01-02-3", "zone": "拣货区 A", "note": "↑ 第 3 层"}


def build_sku(data: Mapping, profile: PrinterProfile) -> str:
    label = ZplLabel(profile)
    label.text_block(3, 2, 70, str(data.get("name", "")), height_mm=4, max_lines=2)
    label.text(3, 12, str(data["sku"]), height_mm=4)
    if data.get("ean"):
        label.ean13(8, 19, str(data["ean"]), height_mm=20, module_mm=0.33)
    else:
        label.code128(4, 19, str(data["sku"]), height_mm=20, module_mm=0.25)
    return label.finish()


def sku_barcodes(data: Mapping) -> list[dict]:
    ean = str(data.get("ean") or "")
    if ean:
        return [{"type": "ean13", "data": ean if len(ean) == 13 else ean + gs1_check_digit(ean)}]
    return [{"type": "code128", "data": str(data["sku"])}]


def sku_demo() -> dict:
    return {"sku": "CUP-500-WH", "name": "保温杯 500ml 白色", "ean": "6901234567892"}


def build_tote(data: Mapping, profile: PrinterProfile) -> str:
    code = str(data["code"])
    label = ZplLabel(profile)
    label.text(6, 4, code, height_mm=20)
    label.text(70, 6, str(data.get("kind", "")), height_mm=6)
    label.code128(10, 30, code, height_mm=30, module_mm=0.5, human_readable=False)
    label.text(6, 64, str(data.get("note", "")), height_mm=5)
    return label.finish()


def tote_barcodes(data: Mapping) -> list[dict]:
    return [{"type": "code128", "data": str(data["code"])}]


def tote_demo() -> dict:
    return {"code": "T0042", "kind": "周转箱", "note": "拣货车 3 号位"}


register_template(LabelTemplate("shipping", "4x6 shipping label (快递面单)", 4, 6,
                                build_shipping, shipping_barcodes, shipping_demo))
# 76 x 130 mm, exactly 608 x 1040 dots at 203 dpi (8 dots a millimetre)
register_template(LabelTemplate("waybill_76x130", "76x130 mm electronic waybill (电子面单 一联单)", 608 / 203, 1040 / 203,
                                build_waybill, waybill_barcodes, waybill_demo))
register_template(LabelTemplate("sscc", "GS1-128 SSCC-18 carton label", 4, 6,
                                build_sscc, sscc_barcodes, sscc_demo))
register_template(LabelTemplate("lpn", "receiving label: licence plate with its SSCC (入库标签)", 4, 3,
                                build_lpn, lpn_barcodes, lpn_demo))
register_template(LabelTemplate("location", "location label (库位)", 4, 2,
                                build_location, location_barcodes, location_demo))
register_template(LabelTemplate("sku", "SKU label (商品条码)", 3, 2,
                                build_sku, sku_barcodes, sku_demo))
register_template(LabelTemplate("tote", "tote label (周转箱)", 4, 3,
                                build_tote, tote_barcodes, tote_demo))


def write_samples(out_dir: str, dpi: int = 203, cjk: str = "font", font_path: str | None = None) -> list[str]:
    """Write ``<template>.zpl`` and ``<template>.json`` (the barcodes it must carry) per template."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, template in sorted(TEMPLATES.items()):
        data = template.demo()
        profile = template.profile(dpi=dpi, cjk=cjk, raster_font_path=font_path)
        zpl_path = os.path.join(out_dir, f"{name}.zpl")
        with open(zpl_path, "w", encoding="utf-8") as handle:
            handle.write(template.build(data, profile))
        with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as handle:
            json.dump(
                {"template": name, "dpi": dpi, "cjk": cjk, "size_in": [template.width_in, template.height_in],
                 "barcodes": template.barcodes(data), "data": data},
                handle, ensure_ascii=False, indent=2,
            )
        written.append(zpl_path)
    return written
