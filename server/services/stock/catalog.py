"""Products and barcodes: lookups, edits and the product file import (商品资料导入)."""
from __future__ import annotations

from peewee import fn

from server.channels.values import LARGEST_WHOLE
from server.db import write_transaction
from server.models import AuditLog, Barcode, Product
from server.models.base import utcnow
from server.services.approvals import requests as approval_requests
from server.services.csvin import ImportReport, Problem, read_rows, whole_number
from server.services.errors import DomainError, NotFound
from server.services.stock import inventory

#: the most a product's numbers may be, in the file import as in the API
MAX_WEIGHT_G = 10_000_000
MAX_FEN = LARGEST_WHOLE
MAX_CASE_QTY = 100_000

PRODUCT_COLUMNS = {
    "sku": ("商家编码", "商品编码", "货号", "SKU编码", "sku_code", "outer_id"),
    "name": ("商品名称", "名称", "品名", "title"),
    "barcode": ("条码", "条形码", "商品条码", "ean", "gtin"),
    "spec": ("规格", "销售属性", "specification"),
    "weight_g": ("重量", "重量(克)", "重量g", "weight"),
    "cost_fen": ("成本(分)", "成本价(分)", "cost"),
    "price_fen": ("售价(分)", "价格(分)", "price"),
    "case_barcode": ("箱码", "外箱条码"),
    "case_qty": ("箱规", "每箱数量"),
}


def ean_check_digit_ok(code: str) -> bool:
    """GTIN-8/12/13/14 check digit (mod 10, weights 3 and 1 from the right)."""
    if not (code.isascii() and code.isdigit()) or len(code) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def get(sku: str) -> Product:
    product = Product.get_or_none(Product.sku == sku)
    if product is None:
        raise NotFound(f"no product {sku!r}", sku=sku)
    return product


def product_view(product: Product) -> dict:
    return {"sku": product.sku, "name": product.name, "spec": product.spec, "unit": product.unit,
            "weight_g": product.weight_g, "cost_fen": product.cost_fen, "price_fen": product.price_fen,
            "barcodes": [{"code": b.code, "multiplier": b.multiplier, "kind": b.kind}
                         for b in product.barcodes.order_by(Barcode.multiplier, Barcode.code)]}


def search(q: str, limit: int, offset: int) -> dict:
    query = Product.select()
    if q:
        like = f"%{q}%"
        query = query.where(Product.sku.contains(q) | Product.name.contains(q)
                            | Product.id.in_(Barcode.select(Barcode.product).where(Barcode.code ** like)))
    total = query.count()
    items = [product_view(p) for p in query.order_by(Product.sku).limit(limit).offset(offset)]
    return {"items": items, "total": total}


def _apply(sku: str, values: dict, barcodes: list[tuple[str, int, str]]) -> str:
    """Create or update one product and its barcodes; return created | updated | unchanged."""
    product = Product.get_or_none(Product.sku == sku)
    outcome = "unchanged"
    if product is None:
        product = Product.create(sku=sku, **values)
        outcome = "created"
    elif any(getattr(product, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(product, k, v)
        product.updated_at = utcnow()
        product.save()
        outcome = "updated"
    for code, multiplier, kind in barcodes:
        existing = Barcode.get_or_none(Barcode.code == code)
        if existing is None:
            Barcode.create(code=code, product=product, multiplier=multiplier, kind=kind)
            outcome = "updated" if outcome == "unchanged" else outcome
        elif existing.product_id != product.id:
            raise DomainError(f"barcode {code} already belongs to another product")
        elif existing.multiplier != multiplier:
            existing.multiplier = multiplier
            existing.save()
            outcome = "updated" if outcome == "unchanged" else outcome
    return outcome


#: the approval flow (多级审批) a change of each figure passes, when one is set
CHANGE_SUBJECTS = {"price_fen": "price_change", "cost_fen": "cost_change"}


def upsert(sku: str, data: dict, *, actor, approved: bool = False) -> Product:
    """Create or change a product. A price or cost change that its approval flow covers waits
    for its approvers (``held_for_approval`` on the product answered lists the requests); the
    other fields change at once. ``approved``: the change has passed its flow."""
    values = {k: data[k] for k in ("name", "spec", "weight_g", "cost_fen", "price_fen") if k in data}
    with write_transaction():
        held = [] if approved else _hold_for_approval(sku, values, actor)
        outcome = _apply(sku, values, [(b, 1, "unit") for b in data.get("barcodes", [])])
        AuditLog.create(user=actor.user_id, device=actor.device_id, action=f"product.{outcome}",
                        target=sku)
    product = get(sku)
    product.held_for_approval = held
    return product


def _hold_for_approval(sku: str, values: dict, actor) -> list[int]:
    """Take out of ``values`` the price and cost changes their approval flows cover, each asked
    for in a request (by ``actor``, or the system user for a file): the requests' ids."""
    current = Product.get_or_none(Product.sku == sku)
    held = []
    for field, subject in CHANGE_SUBJECTS.items():
        change = values[field] - getattr(current, field) if current is not None and field in values else 0
        if change and approval_requests.needed(subject, change):
            request = approval_requests.open_request(
                subject, sku, change, {"sku": sku, field: values[field]},
                f"{sku}: {field} {getattr(current, field)} -> {values[field]}", actor or inventory.system_actor())
            if request is not None:
                held.append(request.id)
                del values[field]
    return held


def import_products(path) -> ImportReport:
    """Import a product file. Bad rows are reported and skipped; good rows go in; a second run
    of the same file changes nothing. A price or cost change that an approval flow covers waits
    for it like one made by hand (asked by the system user), and its row says so."""
    report = ImportReport()
    name = str(path).rsplit("/", 1)[-1]
    try:
        rows = list(read_rows(path, PRODUCT_COLUMNS, required=("sku", "name")))
    except ValueError as exc:
        report.problems.append(Problem(name, 1, None, str(exc)))
        return report
    seen_barcodes: dict[str, tuple[int, str]] = {}
    for line, row in rows:
        if isinstance(row, Problem):  # a row that could not be read
            report.problems.append(row)
            continue
        try:
            sku = row["sku"]
            if not sku:
                raise ValueError("sku: empty")
            if len(sku) > 64:
                raise ValueError("sku: longer than 64 characters")
            if not row["name"]:
                raise ValueError("name: empty")
            values = {"name": row["name"][:200], "spec": row.get("spec", "")[:200],
                      "weight_g": whole_number(row.get("weight_g", ""), "weight_g", maximum=MAX_WEIGHT_G,
                                               default=0),
                      "cost_fen": whole_number(row.get("cost_fen", ""), "cost_fen", maximum=MAX_FEN, default=0),
                      "price_fen": whole_number(row.get("price_fen", ""), "price_fen", maximum=MAX_FEN,
                                                default=0)}
            barcodes = []
            for column, multiplier in (("barcode", 1), ("case_barcode", None)):
                code = row.get(column, "")
                if not code:
                    continue
                if len(code) > 64:
                    raise ValueError(f"{column}: longer than 64 characters")
                if code.isascii() and code.isdigit() and not ean_check_digit_ok(code):
                    raise ValueError(f"{column}: {code} has a wrong check digit")
                if multiplier is None:
                    multiplier = whole_number(row.get("case_qty", ""), "case_qty", minimum=1,
                                              maximum=MAX_CASE_QTY)
                owner = seen_barcodes.get(code)
                if owner is not None and owner[1] != sku:
                    raise ValueError(f"{column}: {code} is also on line {owner[0]} for {owner[1]}")
                seen_barcodes[code] = (line, sku)
                barcodes.append((code, multiplier, "unit" if multiplier == 1 else "case"))
            with write_transaction():
                held = _hold_for_approval(sku, values, None)
                outcome = _apply(sku, values, barcodes)
            for request_id in held:  # a price or cost change its approval flow holds back
                report.problems.append(Problem(name, line, None, f"waits for approval #{request_id}"))
        except (ValueError, DomainError) as exc:
            message = str(exc)
            fld, _, reason = message.partition(": ")
            if fld in PRODUCT_COLUMNS:
                report.problems.append(Problem(name, line, fld, reason))
            else:
                report.problems.append(Problem(name, line, None, message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def count() -> int:
    return Product.select(fn.COUNT(Product.id)).scalar()
