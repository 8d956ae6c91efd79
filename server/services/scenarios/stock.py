"""The ``stock`` floor scenario: look a code up, move units between locations by scan.

    device                         server
      | cmd stock/lookup {code}      |
      |----------------------------->|  code -> location | tote | SKU, barcode, case or GS1 (device/scan.py)
      |<-----------------------------|  {next_state: "stock", data.stock: {quants}}
      | cmd stock/move {sku, from,   |
      |   to, qty}                   |  inventory.move (ledger line, user + device)
      |----------------------------->|  after commit: stock.changed -> wallboard
      |<-----------------------------|  {next_state: "moved"}

Keep this diagram current with the code.
"""
from __future__ import annotations

from server import events
from server.models import Product
from server.services.auth import Principal
from server.services.device import scan
from server.services.device.commands import envelope, refusal, scenario
from server.services.errors import NotFound
from server.services.purchasing import intransit
from server.services.stock import inventory
from server.services.stock.desk import actor_of, location_by_code, quant_rows


def lookup_code(code: str) -> dict:
    """A scanned code -> what stock it names: a location's (or tote's) contents, or a SKU's
    locations (any of its barcodes, a case code or a GS1 string)."""
    code = (code or "").strip()
    found = scan.resolve(code, ("location", "tote", "item"))
    if found is None:
        raise NotFound(f"no location or product {code!r}", code=code)
    if found.kind in ("location", "tote"):
        return {"kind": "location", "code": code, "quants": quant_rows(inventory.quants(location=found.id))}
    product = Product.get_by_id(found.id)
    return {"kind": "product", "code": code, "sku": product.sku, "name": product.name,
            "multiplier": found.per_scan, "quants": quant_rows(inventory.quants(product=product)),
            "in_transit": intransit.rows([product.id])}


@scenario("stock", permission="floor.connect", reads_only=("lookup",))
def stock(principal: Principal, action: str, params: dict) -> dict:
    lang = principal.lang
    if action == "lookup":
        try:
            return envelope(True, "stock", lookup_code(str(params.get("code", ""))), code="stock_found",
                            lang=lang)
        except NotFound:
            return refusal("unknown_barcode", lang, "scan")
    if action == "move":
        principal.require("stock.write")
        product, _ = inventory.find_product(str(params.get("sku", "")))
        src, dst = location_by_code(str(params.get("from", ""))), location_by_code(str(params.get("to", "")))
        qty = params.get("qty")
        actor = actor_of(principal)
        inventory.move(product, src, dst, qty, actor=actor, state=params.get("state", "available"),
                       ref=str(params.get("ref", ""))[:100])
        events.publish("stock.changed", {"sku": product.sku, "locations": [src.code, dst.code]},
                       rooms=["wallboard", f"warehouse:{src.warehouse_id}"])
        return envelope(True, "moved", {"sku": product.sku, "from": src.code, "to": dst.code, "qty": qty},
                        code="stock_moved", lang=lang)
    return refusal("unknown_action", lang)
