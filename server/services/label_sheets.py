"""What goes on a label sheet (`wavefloor labels sheet`): the codes of a warehouse's totes or
locations, or every SKU with its unit barcode, as the label templates take them."""
from __future__ import annotations

from peewee import JOIN

from server.models import Barcode, Location, Product, Warehouse, Zone
from server.services.errors import NotFound

#: sheet kind -> the location kinds it prints
LOCATION_KINDS = {"tote": ("tote",), "location": ("pick", "reserve", "receiving", "qc", "staging", "pack",
                                                     "returns")}


def items(kind: str, warehouse: str | None = None, prefix: str = "") -> list[dict]:
    """The template data of each label, in code order (a SKU's label carries its EAN-13); only
    the codes (SKU codes for SKUs) that begin with ``prefix`` when one is given."""
    if kind == "sku":
        return [item for item in _skus() if item["sku"].startswith(prefix)]
    query = (Location.select(Location.code, Location.kind, Zone.code.alias("zone"))
             .join(Zone, join_type=JOIN.LEFT_OUTER, on=(Location.zone == Zone.id))
             .where(Location.kind.in_(LOCATION_KINDS[kind]) & Location.active).order_by(Location.code))
    if warehouse:
        found = Warehouse.get_or_none(Warehouse.code == warehouse)
        if found is None:
            raise NotFound(f"no warehouse {warehouse!r}", warehouse=warehouse)
        query = query.where(Location.warehouse == found)
    if prefix:
        query = query.where(Location.code.startswith(prefix))
    return [{"code": code, "zone": zone or location_kind} if kind == "location" else {"code": code}
            for code, location_kind, zone in query.tuples()]


def _skus() -> list[dict]:
    unit_codes = {}
    for product, code in (Barcode.select(Barcode.product, Barcode.code)
                          .where((Barcode.kind == "unit") & (Barcode.multiplier == 1)).order_by(Barcode.id).tuples()):
        unit_codes.setdefault(product, code)
    sheet = []
    for pid, sku, name in Product.select(Product.id, Product.sku, Product.name).order_by(Product.sku).tuples():
        code = unit_codes.get(pid, "")
        ean = code if len(code) == 13 and code.isdigit() else ""
        sheet.append({"sku": sku, "name": name, "ean": ean})
    return sheet
