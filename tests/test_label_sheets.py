"""`wavefloor labels sheet`: a label per demo tote, location or SKU, as ZPL for a label printer
and as A4 pages for an office printer whose barcodes read back as the codes."""
import re

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from tests.test_cli import wavefloor


def _decoded(paths) -> list[str]:
    return [symbol.data.decode() for path in paths for symbol in decode(Image.open(path))]


@pytest.fixture
def demo_db(db_url, tmp_path):
    wavefloor(db_url, "demo", tmp_path=tmp_path)
    return db_url


@pytest.mark.slow
def test_sheets_carry_every_code_and_read_back(demo_db, tmp_path):
    from server.db import database, init_database
    from server.models import Barcode, Location, Product, Warehouse
    from server.services import label_sheets

    init_database(demo_db)
    hz, sz = (Warehouse.get(Warehouse.code == code) for code in ("WH-HZ", "WH-SZ"))
    totes = sorted(l.code for l in Location.select().where((Location.kind == "tote") & (Location.warehouse == hz)))
    docks = sorted(l.code for l in Location.select().where(Location.kind.in_(["staging", "pack"])
                                                           & (Location.warehouse == sz)))
    eans = {p.sku: b.code for p, b in ((b.product, b) for b in Barcode.select().join(Product)
                                       .where((Barcode.kind == "unit") & (Barcode.multiplier == 1)))}
    database.obj.close_all()
    out = tmp_path / "sheets"

    said = wavefloor(demo_db, "labels", "sheet", "--kind", "tote", "--warehouse", "WH-HZ", "--out", str(out),
                     tmp_path=tmp_path).stdout
    assert f"{len(totes)} tote labels" in said
    zpl = (out / "tote.zpl").read_text()
    assert zpl.count("^XA") == zpl.count("^XZ") == len(totes)
    assert sorted(re.findall(r"\^BC[^\^]*\^FH\^FD([^\^]+)\^FS", zpl)) == totes  # each label's Code 128 is its code
    pages = sorted(out.glob("tote-*.png"))
    assert len(pages) == 3 and sorted(_decoded(pages)) == totes  # 60 totes, 24 a page
    pdf = (out / "tote.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 3
    with Image.open(pages[0]) as page:
        assert page.size == (2480, 3508)  # A4 at 300 dpi

    init_database(demo_db)
    every = [item["code"] for item in label_sheets.items("location", "WH-SZ")]
    assert set(docks) <= set(every) and not any(code.startswith("HZ-") for code in every)
    database.obj.close_all()
    wavefloor(demo_db, "labels", "sheet", "--kind", "location", "--warehouse", "WH-SZ", "--prefix", "SZ-A01-0",
              "--out", str(out), tmp_path=tmp_path)
    locations = _decoded(sorted(out.glob("location-*.png")))
    assert sorted(locations) == sorted(code for code in every if code.startswith("SZ-A01-0"))  # one aisle's first slots
    assert "SZ-A01-01A-1" in locations  # location barcodes are the location codes

    wavefloor(demo_db, "labels", "sheet", "--kind", "sku", "--out", str(out), tmp_path=tmp_path)
    skus = sorted(out.glob("sku-*.png"))
    assert sorted(_decoded(skus)) == sorted(eans.values())  # the EAN-13 each unit carries, one per SKU
    sku_zpl = (out / "sku.zpl").read_text()
    assert sku_zpl.count("^XA") == len(eans) and "^BE" in sku_zpl


def test_unknown_warehouse_is_refused(db_url, tmp_path):
    wavefloor(db_url, "migrate", tmp_path=tmp_path)
    result = wavefloor(db_url, "labels", "sheet", "--kind", "tote", "--warehouse", "WH-XX", "--out",
                       str(tmp_path / "x"), tmp_path=tmp_path, check=False)
    assert result.returncode != 0 and "WH-XX" in result.stderr
    assert not (tmp_path / "x").exists()
