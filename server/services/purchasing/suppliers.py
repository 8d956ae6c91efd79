"""Suppliers (供应商) and what each sells us (供货清单): per SKU its unit cost in fen, minimum
order quantity (起订量), pack size (箱规) and an optional QC plan of its own.

A supplier's contact phone is personal data: :func:`supplier_view` masks it, like a buyer's,
for a caller without ``pii.read``. Every change is an ``AuditLog`` row. Suppliers and their
items also come from a CSV file (:func:`import_suppliers`), one row per supplier item, the
supplier's columns repeated or left empty after its first row.
"""
from __future__ import annotations

from pathlib import Path

from peewee import JOIN, fn

from server.channels.base import BadValue as BadCell
from server.channels.values import yuan_to_fen
from server.db import write_transaction
from server.models import AuditLog, Product, Supplier, SupplierItem
from server.models.purchasing import QC_PLANS
from server.services.auth import personal
from server.services.csvin import ImportReport, Problem, read_rows, whole_number
from server.services.errors import DomainError, NotFound
from server.services.stock import inventory

#: AQL values of ISO 2859-1 a sampling plan may name
AQLS = ("0.065", "0.10", "0.15", "0.25", "0.40", "0.65", "1.0", "1.5", "2.5", "4.0", "6.5")
MAX_FEN = 2**31 - 1
MAX_PCT = 1000
MAX_LEAD_DAYS = 365
MAX_PACK = 100_000

SUPPLIER_FIELDS = ("name", "contact_name", "contact_phone", "lead_time_days", "over_receipt_pct",
                   "blind_receiving", "qc_plan", "aql", "active")
ITEM_FIELDS = ("unit_cost_fen", "moq", "pack_size", "qc_plan", "aql")

SUPPLIER_COLUMNS = {
    "supplier": ("supplier_code", "供应商编码", "供应商代码", "供应商"),
    "name": ("supplier_name", "供应商名称", "名称"),
    "contact_name": ("contact", "联系人"),
    "contact_phone": ("phone", "联系电话", "电话", "手机"),
    "lead_time_days": ("lead_time", "交期", "交期(天)", "采购周期"),
    "over_receipt_pct": ("tolerance_pct", "tolerance", "超收比例", "超收比例(%)", "允差(%)"),
    "blind_receiving": ("blind", "盲收"),
    "qc_plan": ("质检方案", "质检"),
    "aql": ("AQL",),
    "sku": ("商家编码", "商品编码", "货号", "barcode", "条码"),
    "unit_cost_fen": ("cost_fen", "单价(分)", "采购价(分)"),
    "unit_cost": ("cost", "单价", "采购价", "单价(元)", "采购价(元)"),
    "moq": ("min_qty", "起订量", "最小起订量"),
    "pack_size": ("pack", "箱规", "包装数", "整箱数量"),
    "item_qc_plan": ("商品质检方案",),
    "item_aql": ("商品AQL",),
}
_YES = {"1", "true", "yes", "y", "是", "盲收", "on"}
_NO = {"", "0", "false", "no", "n", "否", "off"}
QC_ALIASES = {"免检": "none", "不检": "none", "全检": "full", "抽检": "sample"}


class InvalidValue(DomainError):
    """A supplier's or item's value out of its range, named by its field."""
    code = "bad_request"

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}", field=field)
        self.field = field
        self.reason = reason


def supplier(code: str) -> Supplier:
    found = Supplier.get_or_none(Supplier.code == code)
    if found is None:
        raise NotFound(f"no supplier {code!r}", code=code)
    return found


def exists(code: str) -> bool:
    return Supplier.select().where(Supplier.code == code).exists()


def item_of(supplier_id: int, product_id: int) -> SupplierItem | None:
    return SupplierItem.get_or_none((SupplierItem.supplier == supplier_id) & (SupplierItem.product == product_id))


# --- checking values ----------------------------------------------------------------------------

def _whole(values: dict, name: str, low: int, high: int) -> None:
    value = values[name]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidValue(name, f"{value!r} is not a whole number from {low} to {high}")


def _plan(values: dict, plan: str, aql: str, allow_blank: bool) -> None:
    if plan in values:
        values[plan] = QC_ALIASES.get(values[plan], values[plan])
        if values[plan] not in QC_PLANS + (("",) if allow_blank else ()):
            raise InvalidValue(plan, f"{values[plan]!r} is not one of {', '.join(QC_PLANS)}")
    if aql in values and values[aql] not in AQLS + (("",) if allow_blank else ()):
        raise InvalidValue(aql, f"{values[aql]!r} is not an AQL of ISO 2859-1 ({', '.join(AQLS)})")


def check_supplier_values(values: dict, *, creating: bool) -> dict:
    """The supplier's fields of ``values``, checked; raises :class:`InvalidValue`."""
    unknown = sorted(set(values) - set(SUPPLIER_FIELDS))
    if unknown:
        raise InvalidValue(unknown[0], "not a supplier field")
    values = dict(values)
    if creating and not str(values.get("name", "")).strip():
        raise InvalidValue("name", "a new supplier needs a name")
    for name, most in (("name", 100), ("contact_name", 100), ("contact_phone", 64)):
        if name in values:
            values[name] = str(values[name]).strip()
            if len(values[name]) > most:
                raise InvalidValue(name, f"longer than {most} characters")
    if "name" in values and not values["name"]:
        raise InvalidValue("name", "empty")
    for name, high in (("lead_time_days", MAX_LEAD_DAYS), ("over_receipt_pct", MAX_PCT)):
        if name in values:
            _whole(values, name, 0, high)
    for name in ("blind_receiving", "active"):
        if name in values and not isinstance(values[name], bool):
            raise InvalidValue(name, f"{values[name]!r} is not true or false")
    _plan(values, "qc_plan", "aql", allow_blank=False)
    return values


def check_item_values(values: dict) -> dict:
    unknown = sorted(set(values) - set(ITEM_FIELDS))
    if unknown:
        raise InvalidValue(unknown[0], "not a supplier item field")
    values = dict(values)
    for name, low, high in (("unit_cost_fen", 0, MAX_FEN), ("moq", 1, inventory.MAX_QTY), ("pack_size", 1, MAX_PACK)):
        if name in values:
            _whole(values, name, low, high)
    _plan(values, "qc_plan", "aql", allow_blank=True)
    return values


# --- writing ------------------------------------------------------------------------------------

def _check_code(code: str) -> str:
    code = (code or "").strip()
    if not code or len(code) > 32:
        raise InvalidValue("code", "a supplier code has 1 to 32 characters")
    return code


def save_supplier(code: str, values: dict, actor: inventory.Actor) -> Supplier:
    """Create the supplier ``code`` or change the fields named in ``values``."""
    code = _check_code(code)
    with write_transaction():
        found = Supplier.get_or_none(Supplier.code == code)
        values = check_supplier_values(values, creating=found is None)
        if found is None:
            found = Supplier.create(code=code, **values)
            outcome = "created"
        else:
            changed = {k: v for k, v in values.items() if getattr(found, k) != v}
            if not changed:
                return found
            Supplier.update(**changed).where(Supplier.id == found.id).execute()
            values, outcome = changed, "updated"
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="supplier.save", target=code,
                        detail=f"{outcome}: " + ", ".join(f"{k}={'***' if k == 'contact_phone' else v}"
                                                          for k, v in sorted(values.items())))
    return Supplier.get(Supplier.code == code)


def save_item(supplier_code: str, sku: str, values: dict, actor: inventory.Actor) -> SupplierItem:
    """Create or change what ``supplier_code`` sells us of ``sku`` (a SKU or any of its barcodes)."""
    the_supplier = supplier(supplier_code)
    product = inventory.find_product(sku)[0]
    values = check_item_values(values)
    with write_transaction():
        found = item_of(the_supplier.id, product.id)
        if found is None:
            found = SupplierItem.create(supplier=the_supplier, product=product, **values)
            outcome = "created"
        else:
            values = {k: v for k, v in values.items() if getattr(found, k) != v}
            if not values:
                return found
            SupplierItem.update(**values).where(SupplierItem.id == found.id).execute()
            outcome = "updated"
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="supplier_item.save",
                        target=f"{the_supplier.code}:{product.sku}",
                        detail=f"{outcome}: " + ", ".join(f"{k}={v}" for k, v in sorted(values.items())))
    return SupplierItem.get_by_id(found.id)


# --- reading ------------------------------------------------------------------------------------

def item_view(item: SupplierItem, product: Product | None = None) -> dict:
    product = product or item.product
    return {"sku": product.sku, "name": product.name, "unit_cost_fen": item.unit_cost_fen, "moq": item.moq,
            "pack_size": item.pack_size, "qc_plan": item.qc_plan, "aql": item.aql}


def supplier_view(found: Supplier, principal, with_items: bool = False) -> dict:
    """The supplier as ``principal`` may see it: the phone masked without ``pii.read``."""
    view = {"code": found.code, "name": found.name, "contact_name": found.contact_name,
            "contact_phone": personal(principal, found.contact_phone, "phone"),
            "lead_time_days": found.lead_time_days, "over_receipt_pct": found.over_receipt_pct,
            "blind_receiving": found.blind_receiving, "qc_plan": found.qc_plan, "aql": found.aql,
            "active": found.active}
    if with_items:
        view["items"] = [item_view(item, item.product) for item in
                         SupplierItem.select(SupplierItem, Product).join(Product)
                         .where(SupplierItem.supplier == found.id).order_by(Product.sku)]
    return view


def list_suppliers(principal, q: str = "", active: bool | None = None, sku: str = "", limit: int = 50,
                   offset: int = 0) -> dict:
    """Suppliers by code or name fragment, or those that sell ``sku``."""
    query = Supplier.select()
    if q:
        query = query.where(Supplier.code.contains(q) | Supplier.name.contains(q))
    if active is not None:
        query = query.where(Supplier.active == active)
    if sku:
        product = inventory.find_product(sku)[0]
        query = query.where(Supplier.id.in_(SupplierItem.select(SupplierItem.supplier)
                                            .where(SupplierItem.product == product.id)))
    total = query.count()
    counts = dict(SupplierItem.select(SupplierItem.supplier, fn.COUNT(SupplierItem.id))
                  .group_by(SupplierItem.supplier).tuples())
    rows = query.order_by(Supplier.code).limit(limit).offset(offset)
    return {"items": [dict(supplier_view(s, principal), item_count=counts.get(s.id, 0)) for s in rows],
            "total": total}


def items_by_product(supplier_id: int) -> dict[int, SupplierItem]:
    return {item.product_id: item for item in
            SupplierItem.select().join(Product, JOIN.INNER).where(SupplierItem.supplier == supplier_id)}


# --- the CSV file -------------------------------------------------------------------------------

def _flag(value: str, name: str) -> bool:
    if value.lower() in _YES:
        return True
    if value.lower() in _NO:
        return False
    raise ValueError(f"{name}: {value!r} is not yes or no (是/否)")


def _supplier_row(row: dict) -> dict:
    values = {}
    for name in ("name", "contact_name", "contact_phone", "qc_plan", "aql"):
        if row.get(name, ""):
            values[name] = row[name]
    for name, high in (("lead_time_days", MAX_LEAD_DAYS), ("over_receipt_pct", MAX_PCT)):
        if row.get(name, ""):
            values[name] = whole_number(row[name].rstrip("%"), name, maximum=high)
    if row.get("blind_receiving", ""):
        values["blind_receiving"] = _flag(row["blind_receiving"], "blind_receiving")
    return values


def _item_row(row: dict) -> dict:
    values = {}
    if row.get("unit_cost_fen", ""):
        values["unit_cost_fen"] = whole_number(row["unit_cost_fen"], "unit_cost_fen", maximum=MAX_FEN)
    elif row.get("unit_cost", ""):
        try:
            values["unit_cost_fen"] = yuan_to_fen(row["unit_cost"], "unit_cost")
        except BadCell as exc:
            raise ValueError(f"unit_cost: {exc.reason}") from None
    for name, high in (("moq", inventory.MAX_QTY), ("pack_size", MAX_PACK)):
        if row.get(name, ""):
            values[name] = whole_number(row[name], name, minimum=1, maximum=high)
    for name in ("qc_plan", "aql"):
        if row.get(f"item_{name}", ""):
            values[name] = row[f"item_{name}"]
    return values


def import_suppliers(path, actor: inventory.Actor | None = None) -> ImportReport:
    """Suppliers and their items from a CSV file (UTF-8 or GBK, English or Chinese headers).
    Counts are of supplier items (a row without a SKU counts its supplier); a bad row is
    reported as ``file:line: field: reason`` and the good rows go in."""
    path = Path(path)
    report = ImportReport()
    try:
        rows = list(read_rows(path, SUPPLIER_COLUMNS, required=("supplier",)))
    except ValueError as exc:
        report.problems.append(Problem(path.name, 1, None, str(exc)))
        return report
    actor = actor or inventory.system_actor()
    for line, row in rows:
        if isinstance(row, Problem):
            report.problems.append(row)
            continue
        try:
            with write_transaction():
                outcome = _import_row(row, actor)
        except InvalidValue as exc:
            report.problems.append(Problem(path.name, line, exc.field, exc.reason))
            continue
        except DomainError as exc:
            report.problems.append(Problem(path.name, line, "sku" if exc.code == "not_found" else None, exc.text))
            continue
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            report.problems.append(Problem(path.name, line, field, reason))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _import_row(row: dict, actor) -> str:
    code = _check_code(row["supplier"])
    supplier_values = _supplier_row(row)
    item_values = _item_row(row) if row.get("sku", "") else {}
    existed = Supplier.get_or_none(Supplier.code == code)
    before = (existed.__data__.copy() if existed else None)
    if supplier_values or existed is None:
        save_supplier(code, supplier_values, actor)
    if not row.get("sku", ""):
        if existed is None:
            return "created"
        return "unchanged" if Supplier.get(Supplier.code == code).__data__ == before else "updated"
    product = inventory.find_product(row["sku"])[0]
    item = item_of(Supplier.get(Supplier.code == code).id, product.id)
    item_before = item.__data__.copy() if item else None
    saved = save_item(code, row["sku"], item_values, actor)
    if item is None:
        return "created"
    supplier_same = existed is not None and Supplier.get(Supplier.code == code).__data__ == before
    return "unchanged" if saved.__data__ == item_before and supplier_same else "updated"
