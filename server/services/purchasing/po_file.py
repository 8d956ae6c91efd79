"""Purchase orders from a CSV file (采购单导入): UTF-8 (with or without BOM) or GBK, English or
Chinese headers, one row per line; rows with the same PO reference (采购单号) make one order,
whose code the reference becomes.

A bad row is reported as ``file:line: field: reason`` and left out; the good rows of its order
go in. An order none of whose rows is good is not created at all, and an order that already
exists is left as it is (unchanged when the file says the same, a problem when it differs).
Imported orders are drafts, submitted with ``submit=True``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from server.channels.base import BadValue as BadCell
from server.channels.values import yuan_to_fen
from server.models import Product, PurchaseOrder, PurchaseOrderLine, Supplier, Warehouse
from server.services.csvin import ImportReport, Problem, read_rows, whole_number
from server.services.errors import DomainError, InvalidQuantity
from server.services.purchasing import orders, suppliers
from server.services.stock import inventory

PO_COLUMNS = {
    "po": ("po_ref", "po_code", "reference", "采购单号", "采购单", "单号", "PO"),
    "supplier": ("supplier_code", "供应商编码", "供应商代码", "供应商"),
    "warehouse": ("warehouse_code", "仓库", "仓库编码", "收货仓"),
    "sku": ("商家编码", "商品编码", "货号", "barcode", "条码"),
    "qty": ("quantity", "数量", "采购数量"),
    "unit_cost_fen": ("cost_fen", "单价(分)", "采购价(分)"),
    "unit_cost": ("cost", "单价", "采购价", "单价(元)", "采购价(元)"),
    "expected_on": ("expected", "expected_date", "预计到货日期", "预计到货", "到货日期"),
    "delivery_note": ("delivery_note_no", "送货单号", "送货单"),
    "note": ("备注", "remark"),
}
HEADER_FIELDS = ("supplier", "warehouse", "delivery_note")


@dataclass
class _Order:
    first_line: int
    header: dict
    lines: list = field(default_factory=list)   # (file line, {sku, qty, unit_cost_fen, expected_on})
    skus: dict = field(default_factory=dict)    # product id -> file line
    note: str = ""


def import_orders(path, actor: inventory.Actor | None = None, *, submit: bool = False) -> ImportReport:
    """Counts are of purchase orders: created, unchanged (already there, the same)."""
    path = Path(path)
    report = ImportReport()
    try:
        rows = list(read_rows(path, PO_COLUMNS, required=("po", "supplier", "warehouse", "sku", "qty")))
    except ValueError as exc:
        report.problems.append(Problem(path.name, 1, None, str(exc)))
        return report
    actor = actor or inventory.system_actor()
    grouped: dict[str, _Order] = {}
    for line, row in rows:
        if isinstance(row, Problem):
            report.problems.append(row)
            continue
        try:
            _take_row(grouped, line, row)
        except (ValueError, DomainError) as exc:
            report.problems.append(_problem(path.name, line, exc))
    for ref, order in grouped.items():
        if not order.lines:
            continue
        _write_order(path.name, ref, order, actor, submit, report)
    report.problems.sort(key=lambda p: (p.line or 0))
    return report


def _problem(name: str, line: int, exc: Exception) -> Problem:
    if isinstance(exc, suppliers.InvalidValue):
        return Problem(name, line, exc.field, exc.reason)
    if isinstance(exc, (orders.BelowMoq, orders.NotPackMultiple, InvalidQuantity)):
        return Problem(name, line, "qty", exc.text)
    if isinstance(exc, orders.NotSupplied):
        return Problem(name, line, "unit_cost", exc.text)
    if isinstance(exc, DomainError):
        return Problem(name, line, "sku" if exc.code == "not_found" else None, exc.text)
    fld, _, reason = str(exc).partition(": ")
    return Problem(name, line, fld, reason)


def _take_row(grouped: dict[str, _Order], line: int, row: dict) -> None:
    ref = row["po"]
    if not ref:
        raise ValueError("po: empty")
    if len(ref) > 32:
        raise ValueError("po: longer than 32 characters")
    header = {"supplier": row["supplier"], "warehouse": row["warehouse"], "delivery_note": row.get("delivery_note", "")}
    order = grouped.get(ref)
    if order is None:
        _check_header(header)
        order = grouped[ref] = _Order(line, header, note=row.get("note", ""))
    for name in HEADER_FIELDS:
        if header[name] and header[name] != order.header[name] and (name != "delivery_note" or order.header[name]):
            raise ValueError(f"{name}: {header[name]!r} differs from {order.header[name]!r} on line "
                             f"{order.first_line} of the same purchase order")
    if header["delivery_note"] and not order.header["delivery_note"]:
        order.header["delivery_note"] = header["delivery_note"]
    the_supplier = Supplier.get(Supplier.code == order.header["supplier"])
    product = inventory.find_product(row["sku"])[0]
    if product.id in order.skus:
        raise ValueError(f"sku: {product.sku} is already on line {order.skus[product.id]} of {ref}")
    qty = whole_number(row["qty"], "qty", minimum=1, maximum=inventory.MAX_QTY)
    cost = None
    if row.get("unit_cost_fen", ""):
        cost = whole_number(row["unit_cost_fen"], "unit_cost_fen", maximum=suppliers.MAX_FEN)
    elif row.get("unit_cost", ""):
        try:
            cost = yuan_to_fen(row["unit_cost"], "unit_cost")
        except BadCell as exc:
            raise ValueError(f"unit_cost: {exc.reason}") from None
    cost = orders.check_line(the_supplier, product, qty, cost)
    expected = orders.parse_date(row.get("expected_on", ""), "expected_on")
    order.skus[product.id] = line
    order.lines.append((line, {"sku": product.sku, "qty": qty, "unit_cost_fen": cost, "expected_on": expected}))


def _check_header(header: dict) -> None:
    found = Supplier.get_or_none(Supplier.code == header["supplier"])
    if found is None:
        raise ValueError(f"supplier: unknown supplier {header['supplier']!r}")
    if not found.active:
        raise ValueError(f"supplier: {header['supplier']} is not active")
    if Warehouse.get_or_none(Warehouse.code == header["warehouse"]) is None:
        raise ValueError(f"warehouse: unknown warehouse {header['warehouse']!r}")
    if len(header["delivery_note"]) > 64:
        raise ValueError("delivery_note: longer than 64 characters")


def _write_order(name: str, ref: str, order: _Order, actor, submit: bool, report: ImportReport) -> None:
    existing = PurchaseOrder.get_or_none(PurchaseOrder.code == ref)
    wanted = sorted((l["sku"], l["qty"], l["unit_cost_fen"]) for _, l in order.lines)
    if existing is not None:
        have = sorted((sku, qty, cost) for sku, qty, cost in
                      PurchaseOrderLine.select(Product.sku, PurchaseOrderLine.qty, PurchaseOrderLine.unit_cost_fen)
                      .join(Product).where(PurchaseOrderLine.po == existing.id).tuples())
        if have == wanted and existing.supplier.code == order.header["supplier"]:
            report.unchanged += 1
        else:
            report.problems.append(Problem(name, order.lines[0][0], "po", f"purchase order {ref} exists "
                                           f"({existing.status}) with other lines; change it through the API"))
        return
    try:
        orders.create(order.header["supplier"], order.header["warehouse"], [l for _, l in order.lines], actor,
                      delivery_note=order.header["delivery_note"], note=order.note, code=ref)
        if submit:
            orders.submit(ref, actor)
    except DomainError as exc:
        report.problems.append(_problem(name, order.lines[0][0], exc))
        return
    report.created += 1
