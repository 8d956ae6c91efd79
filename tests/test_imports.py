"""Product, stock and layout files: any common encoding, Chinese headers, bad rows named and
skipped, good rows in, and a second import changes nothing."""
import pytest

from server.models import Barcode, Location, Product, Quant, StockMove, Warehouse, Zone
from server.services.stock import catalog, inventory, layout, stockfile

PRODUCTS_ZH = (
    "商家编码,商品名称,条码,重量,成本(分),售价(分),箱码,箱规\n"
    "TS-01-S,纯棉短袖T恤 黑色 S,6900000000014,180,2900,5900,16900000000011,12\n"
    'MG-01,"马克杯, 350ml",="6900000000021",380,1500,3900,,\n'
    "BAD-1,坏条码,6900000000015,10,1,1,,\n"
    ",没有编码,,1,1,1,,\n"
    "LP-01,唇膏,,abc,1,1,,\n"
    "LP-02,唇膏2,'6900000000038,3,100,990,,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_products_in_any_encoding_with_bad_rows_named(db, tmp_path, encoding):
    path = tmp_path / "商品.csv"
    path.write_bytes(PRODUCTS_ZH.encode(encoding))
    report = catalog.import_products(path)
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert [str(p) for p in report.problems] == [
        "商品.csv:4: barcode: 6900000000015 has a wrong check digit",
        "商品.csv:5: sku: empty",
        "商品.csv:6: weight_g: 'abc' is not a whole number",
    ]
    assert Product.get(Product.sku == "MG-01").name == "马克杯, 350ml"
    assert inventory.find_product("16900000000011")[1] == 12
    assert inventory.find_product("6900000000038")[0].sku == "LP-02"
    again = catalog.import_products(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    path.write_bytes(PRODUCTS_ZH.replace("5900", "6900").encode(encoding))
    changed = catalog.import_products(path)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    assert Barcode.select().count() == 4


def test_a_file_without_the_required_columns_is_refused_whole(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("code,titel\nX,Y\n", encoding="utf-8")
    report = catalog.import_products(path)
    assert report.created == 0
    assert str(report.problems[0]) == "p.csv:1: missing column(s) sku, name; the header has code, titel"


def test_stock_file_sets_counted_quantities_through_the_ledger(small_warehouse, tmp_path):
    path = tmp_path / "stock.csv"
    path.write_text("商家编码,库位,数量,状态\nTS-01,A-01,12,在库\n6900000000021,A-02,5,\nTS-01,QC-1,3,待检\n"
                    "TS-01,NOWHERE,1,\nNOPE,A-01,1,\nTS-01,A-02,-2,\nTS-01,A-01,4,在库\n", encoding="gbk")
    report = stockfile.import_stock(path)
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert [(p.line, p.field) for p in report.problems] == [(5, "location"), (6, "sku"), (7, "qty"), (8, "location")]
    moves = StockMove.select().count()
    again = stockfile.import_stock(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3) and StockMove.select().count() == moves
    path.write_text("sku,location,qty\nTS-01,A-01,10\n", encoding="utf-8")
    assert stockfile.import_stock(path).updated == 1
    quant = Quant.get((Quant.location == small_warehouse["locations"]["A-01"]) & (Quant.state == "available"))
    assert quant.qty == 10
    assert StockMove.select().where(StockMove.reason == "stock_import").count() == 4
    assert inventory.audit() == []


LAYOUT = """\
warehouse: WH-T
aisles: 4
aisle_length: 20.0
aisle_width: 3.0
blocks: 1
depot: {aisle: 0, y: 0.0}
locations:
  A01-01: {aisle: 0, y: 1.0, zone: A}
  A01-02: {aisle: 0, y: 2.0, zone: A, level: 2}
  A02-01: {aisle: 1, y: 1.0, zone: A}
  B04-01: {aisle: 3, y: 19.0, zone: B, kind: reserve}
  BAD-01: {aisle: 9, y: 1.0}
"""


def test_layout_import_creates_locations_and_reports_the_bad_ones(db, tmp_path):
    path = tmp_path / "layout.yaml"
    path.write_text(LAYOUT, encoding="utf-8")
    report = layout.import_layout(path)
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)
    (problem,) = report.problems
    assert problem.line == 12 and problem.field.startswith("locations.BAD-01")
    wh = Warehouse.get(Warehouse.code == "WH-T")
    assert (wh.aisles, wh.aisle_length_m, wh.aisle_width_m) == (4, 20.0, 3.0)
    assert {z.code for z in Zone.select()} == {"A", "B"}
    assert Location.get(Location.code == "B04-01").kind == "reserve"
    assert Location.get(Location.code == "A01-02").level == 2
    again = layout.import_layout(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    spec = layout.layout_of(wh)
    assert set(spec.locations) == {"A01-01", "A01-02", "A02-01", "B04-01"} and spec.aisles == 4


def test_a_layout_whose_every_location_is_bad_is_reported_not_raised(db, tmp_path):
    path = tmp_path / "layout.yaml"
    path.write_text(LAYOUT.split("locations:")[0] + "locations:\n  BAD-01: {aisle: 9, y: 1.0}\n"
                    "  BAD-02: {aisle: 0, y: 99.0}\n", encoding="utf-8")
    report = layout.import_layout(path)
    assert report.created == 0
    assert [p.field.split(".")[1] for p in report.problems] == ["BAD-01", "BAD-02"]
    assert all(p.source == "layout.yaml" and p.line for p in report.problems)


def test_a_layout_file_that_adds_an_aisle_renumbers_the_walk_without_repeats(db, tmp_path):
    path = tmp_path / "layout.yaml"
    path.write_text(LAYOUT, encoding="utf-8")
    layout.import_layout(path)
    more = tmp_path / "more.yaml"
    more.write_text(LAYOUT.split("locations:")[0] + "locations:\n  A02-02: {aisle: 1, y: 5.0, zone: A}\n"
                    "  C03-01: {aisle: 2, y: 3.0, zone: C}\n", encoding="utf-8")
    report = layout.import_layout(more)
    assert report.created == 2 and not report.problems
    walk = [code for (code,) in Location.select(Location.code).order_by(Location.pick_seq).tuples()]
    seqs = [seq for (seq,) in Location.select(Location.pick_seq).tuples()]
    assert sorted(seqs) == list(range(1, 7))  # one number each, none repeated
    assert walk == ["A01-01", "A01-02", "A02-02", "A02-01", "C03-01", "B04-01"]  # up aisle 0, down aisle 1, ...
