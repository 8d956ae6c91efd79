"""Stock file import (期初库存/盘点导入): each row states what is there; the difference to the
current quant becomes an adjustment, so importing the same file twice changes nothing."""
from __future__ import annotations

from pathlib import Path

from server.db import write_transaction
from server.models import Location, Product, Quant
from server.models.stock import STOCK_STATES
from server.services.csvin import ImportReport, Problem, read_rows, whole_number
from server.services.errors import DomainError
from server.services.stock import inventory

STOCK_COLUMNS = {
    "sku": ("商家编码", "商品编码", "货号", "barcode", "条码"),
    "location": ("库位", "货位", "库位编码"),
    "qty": ("数量", "库存", "quantity"),
    "state": ("状态", "库存状态", "status"),
    "lot": ("批次", "批号", "batch"),
}
STATE_ALIASES = {"在库": "available", "可用": "available", "待检": "qc_pending", "冻结": "frozen",
                 "次品": "damaged", "残次": "damaged"}


def import_stock(path, actor: inventory.Actor | None = None) -> ImportReport:
    path = Path(path)
    report = ImportReport()
    try:
        rows = list(read_rows(path, STOCK_COLUMNS, required=("sku", "location", "qty")))
    except ValueError as exc:
        report.problems.append(Problem(path.name, 1, None, str(exc)))
        return report
    actor = actor or inventory.system_actor()
    seen: dict[tuple, int] = {}
    for line, row in rows:
        if isinstance(row, Problem):  # a row that could not be read
            report.problems.append(row)
            continue
        try:
            product, _ = inventory.find_product(row["sku"])
            location = Location.get_or_none(Location.code == row["location"])
            if location is None:
                raise ValueError(f"location: unknown location {row['location']!r}")
            qty = whole_number(row["qty"], "qty", maximum=inventory.MAX_QTY)
            state = STATE_ALIASES.get(row.get("state", ""), row.get("state", "") or "available")
            if state not in STOCK_STATES:
                raise ValueError(f"state: {state!r} is not one of {', '.join(STOCK_STATES)}")
            if len(row.get("lot", "")) > 64:
                raise ValueError("lot: longer than 64 characters")
            key = (product.id, location.id, row.get("lot", ""), state)
            if key in seen:
                raise ValueError(f"location: the same SKU, location, lot and state is already on line {seen[key]}")
            seen[key] = line
            outcome = _set_quantity(product, location, row.get("lot", ""), state, qty, actor, path.name, line)
        except DomainError as exc:
            report.problems.append(Problem(path.name, line, "sku" if exc.code == "not_found" else None, exc.text))
            continue
        except ValueError as exc:
            fld, _, reason = str(exc).partition(": ")
            report.problems.append(Problem(path.name, line, fld, reason))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _set_quantity(product: Product, location: Location, lot: str, state: str, qty: int, actor, name, line) -> str:
    with write_transaction():
        quant = Quant.get_or_none((Quant.product == product) & (Quant.location == location)
                                  & (Quant.lot == lot) & (Quant.state == state))
        current = quant.qty if quant else 0
        if current == qty:
            return "unchanged"
        if quant is not None and qty < quant.reserved:
            raise ValueError(f"qty: {qty} is below the {quant.reserved} units reserved there")
        inventory.adjust(product, location, qty - current, actor=actor, reason="stock_import", state=state,
                         lot=lot, ref=f"{name}:{line}")
        return "created" if quant is None else "updated"
