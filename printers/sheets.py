"""Label sheets: many codes at once, for a label printer (ZPL, one label per code through the
templates of printers/labels.py) and for an office printer (A4 pages of barcodes with the code in
words under each, as PNG and PDF).

An item is the template's data: ``{"code": ...}`` for totes and locations, ``{"sku", "name",
"ean"}`` for SKUs. Barcodes on the page are drawn by zxing-cpp: Code 128 of the code, or the
EAN-13 of a SKU that has one (what its ZPL label carries too).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from printers.exceptions import CjkFontNotFound
from printers.labels import expected_barcodes, get_template
from printers.raster import find_cjk_font

KINDS = {"tote": "tote", "location": "location", "sku": "sku"}  # sheet kind -> label template
DPI = 300
A4_PX = (2480, 3508)  # 210 x 297 mm at 300 dpi
MARGIN_PX = 118       # 10 mm
COLUMNS, ROWS = 3, 8
MODULE_PX = 4         # a bar module of 0.34 mm: any handheld reads it at arm's length
FORMATS = {"code128": zxingcpp.BarcodeFormat.Code128, "ean13": zxingcpp.BarcodeFormat.EAN13}


def write_zpl(kind: str, items: Iterable[Mapping], path: str, dpi: int = 203, cjk: str = "raster",
              font_path: str | None = None) -> int:
    """One label per item, in one file to send to the printer; answers the number of labels."""
    template = get_template(KINDS[kind])
    profile = template.profile(dpi=dpi, cjk=cjk, raster_font_path=font_path)
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for item in items:
            handle.write(template.build(item, profile))
            count += 1
    return count


def _font(size: int, font_path: str | None):
    try:
        return ImageFont.truetype(find_cjk_font(font_path), size)
    except (CjkFontNotFound, OSError):
        return ImageFont.load_default(size)


def _barcode(kind: str, item: Mapping) -> Image.Image:
    barcode = expected_barcodes(KINDS[kind], item)[0]
    symbol = zxingcpp.create_barcode(barcode["data"], FORMATS[barcode["type"]])
    bitmap = memoryview(symbol.to_image(scale=MODULE_PX, add_hrt=False, add_quiet_zones=True))
    height, width = bitmap.shape
    return Image.frombuffer("L", (width, height), bytes(bitmap), "raw", "L", 0, 1)


def _caption(kind: str, item: Mapping) -> tuple[str, str]:
    if kind == "sku":
        return str(item["sku"]), " ".join(part for part in (str(item.get("ean") or ""), str(item.get("name", ""))) if part)
    return str(item["code"]), str(item.get("zone") or item.get("kind") or "")


def pages(kind: str, items: list[Mapping], font_path: str | None = None) -> list[Image.Image]:
    """A4 pages, COLUMNS x ROWS barcodes each, the code in large type under each barcode."""
    width, height = A4_PX
    cell_w = (width - 2 * MARGIN_PX) // COLUMNS
    cell_h = (height - 2 * MARGIN_PX) // ROWS
    big, small = _font(44, font_path), _font(30, font_path)
    sheets = []
    for start in range(0, len(items), COLUMNS * ROWS):
        page = Image.new("L", A4_PX, 255)
        draw = ImageDraw.Draw(page)
        for index, item in enumerate(items[start:start + COLUMNS * ROWS]):
            x = MARGIN_PX + (index % COLUMNS) * cell_w
            y = MARGIN_PX + (index // COLUMNS) * cell_h
            bars = _barcode(kind, item)
            if bars.width > cell_w - 20:  # a long code: narrower bars, still whole modules
                factor = max(1, MODULE_PX * (cell_w - 20) // bars.width) / MODULE_PX
                bars = bars.resize((int(bars.width * factor), bars.height), Image.NEAREST)
            bars = bars.resize((bars.width, min(bars.height * 2, cell_h - 140)), Image.NEAREST)
            page.paste(bars, (x + (cell_w - bars.width) // 2, y + 10))
            code, note = _caption(kind, item)
            text_y = y + 20 + bars.height
            draw.text((x + cell_w // 2, text_y), code, font=big, fill=0, anchor="ma")
            if note:
                draw.text((x + cell_w // 2, text_y + 54), note[:30], font=small, fill=0, anchor="ma")
            draw.rectangle((x, y, x + cell_w - 1, y + cell_h - 1), outline=200)
        sheets.append(page)
    return sheets


def write_sheet(kind: str, items: list[Mapping], out_dir: str, *, dpi: int = 203, cjk: str = "raster",
                font_path: str | None = None) -> dict:
    """``<kind>.zpl`` (label printer), ``<kind>.pdf`` and ``<kind>-<n>.png`` (office printer)."""
    if kind not in KINDS:
        raise ValueError(f"no sheet kind {kind!r}; kinds: {', '.join(KINDS)}")
    os.makedirs(out_dir, exist_ok=True)
    zpl = os.path.join(out_dir, f"{kind}.zpl")
    labels = write_zpl(kind, items, zpl, dpi, cjk, font_path)
    sheets = pages(kind, items, font_path)
    written = {"labels": labels, "zpl": zpl, "png": [], "pdf": None}
    for number, page in enumerate(sheets, 1):
        path = os.path.join(out_dir, f"{kind}-{number}.png")
        page.save(path, dpi=(DPI, DPI))
        written["png"].append(path)
    if sheets:
        written["pdf"] = os.path.join(out_dir, f"{kind}.pdf")
        sheets[0].save(written["pdf"], "PDF", resolution=DPI, save_all=True, append_images=sheets[1:])
    return written
