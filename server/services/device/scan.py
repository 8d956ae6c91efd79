"""What a scanned code is, in one place for every scenario.

A code resolves, in this order, to a location, a tote, a package (its tracking number), an item
(a SKU code or any of its barcodes, a case code counting its pack), a GS1 element string (the
item's GTIN with its lot and expiry) or an order (its number on the channel). The first
resolver that knows the code answers. A scenario asks only for the kinds its step expects::

    found = scan.resolve(code, ("tote", "item"))   # None when the code is none of them
    if found is not None and found.kind == "item": ...

Each resolver is registered the way an outside module would register one (a site with its own
carton labels adds a kind of its own)::

    @scan.resolver("carton")
    def carton(code: str) -> scan.Scanned | None: ...

The item resolver is on the picking scan path: it is one written-out statement
(``inventory.scanned_product``), and a GS1 string is parsed only when the code looks like one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from server.db import sql_row
from server.services.packages import shipping
from server.services.stock import inventory

#: the order codes are tried in; kinds registered later are tried after these, in their order
KINDS = ("location", "tote", "package", "item", "order")


@dataclass(frozen=True)
class Scanned:
    """A code and what it names: ``id`` is the location's (location, tote), the order's
    (package, order) or the product's (item)."""
    kind: str
    code: str
    id: int
    per_scan: int = 1            # units one scan of an item counts (a case code: its pack)
    lot: str = ""                # GS1 (10)
    expiry: dt.date | None = None  # GS1 (17)
    location_kind: str = ""      # a location's kind (pick, reserve, pack: a put wall slot's label ...)


Resolver = Callable[[str], "Scanned | None"]
_resolvers: dict[str, Resolver] = {}
_order: list[str] = list(KINDS)


def resolver(kind: str):
    """Register the resolver of ``kind``: ``fn(code) -> Scanned | None``."""
    def register(fn: Resolver) -> Resolver:
        _resolvers[kind] = fn
        if kind not in _order:
            _order.append(kind)
        return fn
    return register


def kinds() -> tuple[str, ...]:
    return tuple(kind for kind in _order if kind in _resolvers)


def resolve(code: str, kinds: tuple[str, ...] | None = None) -> Scanned | None:
    """What ``code`` names among ``kinds`` (every registered kind when None), tried in the
    order of :data:`KINDS`; None when it names none of them."""
    code = (code or "").strip()
    if not code:
        return None
    for kind in _order:
        if kinds is not None and kind not in kinds:
            continue
        fn = _resolvers.get(kind)
        found = fn(code) if fn is not None else None
        if found is not None:
            return found
    return None


def item(code: str) -> Scanned | None:
    """The item a code names (a SKU, a barcode, a case code or a GS1 string), or None."""
    return resolve(code, ("item",))


# --- the resolvers, in that order -----------------------------------------------------------

def _location_row(code: str):
    return sql_row("SELECT id, kind FROM location WHERE code = ?", code)


@resolver("location")
def location(code: str) -> Scanned | None:
    row = _location_row(code)
    if row is None or row[1] == "tote":
        return None
    return Scanned("location", code, row[0], location_kind=row[1])


@resolver("tote")
def tote(code: str) -> Scanned | None:
    """A tote or cart is a location of kind ``tote`` that exists before it is scanned."""
    row = _location_row(code)
    if row is None or row[1] != "tote":
        return None
    return Scanned("tote", code, row[0], location_kind="tote")


@resolver("package")
def package(code: str) -> Scanned | None:
    """A tracking number on a label printed here names the order it ships."""
    order_id = shipping.order_of_tracking(code)
    return Scanned("package", code, order_id) if order_id is not None else None


@resolver("item")
def sku_item(code: str) -> Scanned | None:
    found = inventory.scanned_product(code)
    if found is not None:
        return Scanned("item", code, found[0], per_scan=found[1])
    gs1 = parse_gs1(code)
    if gs1 is None:
        return None
    gtin, lot, expiry = gs1
    for candidate in gtin_forms(gtin):
        found = inventory.scanned_product(candidate)
        if found is not None:
            return Scanned("item", code, found[0], per_scan=found[1], lot=lot, expiry=expiry)
    return None


@resolver("order")
def order(code: str) -> Scanned | None:
    """An order's number on its channel (the buyer's or the office's paper names it)."""
    row = sql_row('SELECT id FROM "order" WHERE external_id = ? ORDER BY id LIMIT 1', code)
    return Scanned("order", code, row[0]) if row is not None else None


# --- GS1 ----------------------------------------------------------------------------------------------

def parse_gs1(code: str) -> tuple[str, str, dt.date | None] | None:
    """(GTIN, lot, expiry) from a GS1 element string (raw with FNC1/GS, with a symbology
    identifier, or in human-readable form with parentheses); None when the code is not one."""
    raw_ai = code[:2] == "01" and len(code) >= 16 and code[:16].isascii() and code[:16].isdigit()
    if not (code.startswith(("(", "]")) or "\x1d" in code or raw_ai):
        return None
    from biip import ParseError, parse  # only for codes that look like GS1: the import is slow
    from biip.gs1_messages import GS1Message
    try:
        message = GS1Message.parse_hri(code) if code.startswith("(") else parse(code).gs1_message
    except ParseError:
        return None
    if message is None:
        return None
    elements = {element.ai.ai: element for element in message.element_strings}
    if "01" not in elements:
        return None
    expiry = elements.get("17")
    return (elements["01"].value, elements["10"].value if "10" in elements else "",
            getattr(expiry, "date", None) if expiry is not None else None)


def gtin_forms(gtin: str) -> list[str]:
    """A GTIN-14 as the barcode table may hold it: 14, 13 (EAN), 12 (UPC) or 8 digits."""
    forms = [gtin]
    for length in (13, 12, 8):
        if len(gtin) > length and set(gtin[:len(gtin) - length]) == {"0"}:
            forms.append(gtin[len(gtin) - length:])
    return forms
