"""Every stateful noun's lifecycle, walked: each declared edge moves a real row on both engines,
each undeclared one raises InvalidTransition and leaves the row as it was, and a row that
someone else moved first is refused. And nothing outside a lifecycle writes a status column.

The lifecycles are found, not listed: every ``states.Lifecycle`` that a module of services/
holds is walked, so a new noun's table is walked as soon as it has one (its model needs a row
factory below).
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import server.services
from server.services.errors import InvalidTransition
from server.services.states import Lifecycle

ROOT = Path(__file__).resolve().parent.parent


def lifecycles() -> list[tuple[str, Lifecycle]]:
    found = {}
    for module in pkgutil.walk_packages(server.services.__path__, "server.services."):
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if isinstance(value, Lifecycle) and value.model not in found.values():
                found[f"{module.name}.{name}"] = value
    return sorted(found.items(), key=lambda item: item[0])


LIFECYCLES = lifecycles()


# --- one row of each stateful model, with the rows it refers to ------------------------------------

def _warehouse():
    from server.models import Warehouse
    return Warehouse.create(code="WH-L", name="L")


def _order():
    from server.models import Order
    return Order.create(channel="csv", shop="S", external_id="L-1")


def _wave():
    from server.models import Wave
    return Wave.create(code="W-L", warehouse=_warehouse(), strategy="cluster")


def _task():
    from server.models import PickTask
    return PickTask.create(wave=_wave(), code="W-L-T1")


def _line():
    from server.models import Location, PickLine, Product
    task = _task()
    location = Location.create(code="L-01", warehouse=task.wave.warehouse_id, kind="pick")
    product = Product.create(sku="L-SKU", name="L")
    return PickLine.create(task=task, seq=1, product=product, location=location, qty=1)


def _print_job():
    from server.models import Printer, PrintJob
    printer = Printer.create(code="P-L", url="tcp://127.0.0.1:9")
    return PrintJob.create(printer=printer, template="shipping", zpl="^XA^XZ")


def _package():
    from server.models import Package
    return Package.create(order=_order())


def _supplier():
    from server.models import Supplier
    return Supplier.create(code="SUP-L", name="L")


def _purchase_order():
    from server.models import PurchaseOrder
    return PurchaseOrder.create(code="PO-L", supplier=_supplier(), warehouse=_warehouse())


def _receipt():
    from server.models import Location, Receipt
    po = _purchase_order()
    dock = Location.create(code="DOCK-L", warehouse=po.warehouse_id, kind="receiving")
    return Receipt.create(code="RCV-L", po=po, warehouse=po.warehouse_id, dock=dock)


def _lpn():
    from server.models import Lpn, Product, PurchaseOrderLine
    receipt = _receipt()
    product = Product.create(sku="L-SKU", name="L")
    line = PurchaseOrderLine.create(po=receipt.po_id, product=product, qty=1)
    return Lpn.create(sscc="000000000000000001", receipt=receipt, po_line=line, product=product,
                      location=receipt.dock_id)


def _supplier_return():
    from server.models import Product, SupplierReturn
    return SupplierReturn.create(code="RTV-L", supplier=_supplier(), product=Product.create(sku="L-SKU", name="L"),
                                 qty=1)


def _return_parcel():
    from server.models import ReturnParcel
    return ReturnParcel.create(code="RT-L", warehouse=_warehouse())


def _channel_call():
    from server.models import ChannelCall, Shop
    shop = Shop.create(code="L-SHOP", channel="tmall")
    return ChannelCall.create(shop=shop, kind="ship", key="ship:L")


def _waybill():
    from server.models import Waybill
    return Waybill.create(carrier="ZTO", number="L-1", source="pool")


def _location():
    from server.models import Location
    return Location.create(warehouse=_warehouse(), code="L-01", kind="pick")


def _count_task():
    from server.models import CountTask
    location = _location()
    return CountTask.create(code="CT-L", warehouse=location.warehouse_id, location=location)


def _replenishment():
    from server.models import Location, Product, ReplenishmentTask
    face = _location()
    source = Location.create(warehouse=face.warehouse_id, code="L-RES", kind="reserve")
    return ReplenishmentTask.create(code="RP-L", warehouse=face.warehouse_id, product=Product.create(sku="R-SKU", name="R"),
                                    source=source, face=face, qty=1)


def _stock_alert():
    import datetime
    from server.models import Product, StockAlert
    location = _location()
    return StockAlert.create(kind="overstock", product=Product.create(sku="A-SKU", name="A"),
                             warehouse=location.warehouse_id, raised_on=datetime.date(2026, 12, 6))


def _approval():
    from server.models import ApprovalRequest
    return ApprovalRequest.create(subject="price_change", ref="L-SKU", levels='[["admin"]]')


FACTORIES = {"Order": _order, "Wave": _wave, "PickTask": _task, "PickLine": _line, "PrintJob": _print_job,
             "Package": _package, "PurchaseOrder": _purchase_order, "Receipt": _receipt, "Lpn": _lpn,
             "SupplierReturn": _supplier_return, "ReturnParcel": _return_parcel, "ChannelCall": _channel_call,
             "Waybill": _waybill, "CountTask": _count_task, "ReplenishmentTask": _replenishment,
             "StockAlert": _stock_alert, "ApprovalRequest": _approval}


def status_of(lifecycle: Lifecycle, row_id: int) -> str:
    model = lifecycle.model
    return model.select(getattr(model, lifecycle.column)).where(model.id == row_id).scalar()


def put(lifecycle: Lifecycle, row_id: int, state: str) -> None:
    """Set the row's status as a test may: straight to the column, past the lifecycle."""
    model = lifecycle.model
    model.update({getattr(model, lifecycle.column): state}).where(model.id == row_id).execute()


def test_every_lifecycle_is_found():
    nouns = {lifecycle.noun for _, lifecycle in LIFECYCLES}
    assert {"order", "wave", "task", "pick_line", "print_job"} <= nouns, nouns
    missing = [name for name, lifecycle in LIFECYCLES if lifecycle.model.__name__ not in FACTORIES]
    assert missing == [], f"add a row factory for {missing}"


@pytest.mark.parametrize("name", [name for name, _ in LIFECYCLES])
def test_each_declared_edge_moves_and_each_other_raises(db, name):
    lifecycle = dict(LIFECYCLES)[name]
    row = FACTORIES[lifecycle.model.__name__]()
    states = sorted(lifecycle.states)
    for current in states:
        for target in states:
            put(lifecycle, row.id, current)
            if (current, target) in lifecycle.edges:
                lifecycle.move(row.id, current, target)
                assert status_of(lifecycle, row.id) == target, (current, target)
            else:
                with pytest.raises(InvalidTransition) as refused:
                    lifecycle.move(row.id, current, target)
                assert refused.value.code == "invalid_transition"
                assert refused.value.params == {"noun": lifecycle.noun, "current": current, "target": target}
                assert status_of(lifecycle, row.id) == current, (current, target)


@pytest.mark.parametrize("name", [name for name, _ in LIFECYCLES])
def test_a_row_moved_by_someone_else_first_is_refused(db, name):
    lifecycle = dict(LIFECYCLES)[name]
    row = FACTORIES[lifecycle.model.__name__]()
    current, target = sorted(lifecycle.edges)[0]
    elsewhere = next(state for state in sorted(lifecycle.states) if state != current)
    put(lifecycle, row.id, elsewhere)  # another writer moved it after this one read ``current``
    with pytest.raises(InvalidTransition):
        lifecycle.move(row.id, current, target)
    assert lifecycle.move_if(row.id, current, target) is False
    assert status_of(lifecycle, row.id) == elsewhere
    put(lifecycle, row.id, current)
    assert lifecycle.move_if(row.id, current, target) is True
    assert status_of(lifecycle, row.id) == target


def test_many_rows_move_together_or_not_at_all(db):
    from server.models import Order
    from server.db import write_transaction
    from server.services.orders.lifecycle import ORDER
    ids = [Order.create(channel="csv", shop="S", external_id=f"M-{n}").id for n in range(3)]
    assert ORDER.move_many(ids, "new", "reviewing") == 3
    Order.update(status="held").where(Order.id == ids[1]).execute()
    with pytest.raises(InvalidTransition):
        with write_transaction():
            ORDER.move_many(ids, "reviewing", "approved")
    assert [Order.get_by_id(i).status for i in ids] == ["reviewing", "held", "reviewing"]
    with pytest.raises(InvalidTransition):
        ORDER.move_many(ids, "new", "shipped")  # not an edge: nothing is even tried


# --- nothing else writes a status column ---------------------------------------------------------------

STATEFUL = {"Order": "status", "Wave": "status", "PickTask": "status", "PickLine": "status", "PrintJob": "state",
            "Package": "state"}
TABLES = ("order", "wave", "pick_task", "pick_line", "print_job", "package")


def status_writes(path: Path) -> list[str]:
    """Places in one file that write a stateful model's status column: ``Model.update(status=...)``,
    ``Model.update({Model.status: ...})`` and ``UPDATE <table> SET ... status`` written out."""
    import re
    set_status = re.compile(r'UPDATE\s+"?(%s)"?\s+SET\b[^;]*?"?\b(status|state)"?\s*=' % "|".join(TABLES),
                            re.IGNORECASE | re.DOTALL)
    found, where = [], path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update":
            owner = node.func.value
            column = STATEFUL.get(owner.id) if isinstance(owner, ast.Name) else None
            if column is None:
                continue
            keys = [k.arg for k in node.keywords]
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    keys += [k.attr for k in arg.keys if isinstance(k, ast.Attribute)]
            if column in keys:
                found.append(f"{where}:{node.lineno}: {owner.id}.update({column}=...)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and set_status.search(node.value):
            found.append(f"{where}:{node.lineno}: {node.value[:60]!r}")
    return found


def test_only_the_lifecycles_write_a_status_column():
    allowed = {ROOT / "server" / "services" / "states.py"}
    writes = [place for path in sorted((ROOT / "server").rglob("*.py")) if path not in allowed
              for place in status_writes(path)]
    assert writes == [], "status written outside services/states.py:\n" + "\n".join(writes)


def test_the_status_walk_sees_a_write(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('Order.update(status="x")\nsql("UPDATE pick_task SET units_done = 1, status = ?")\n'
                      'PrintJob.update({PrintJob.state: "queued"})\nOrder.update(priority=1)\n')
    assert sorted(place.split(":")[1] for place in status_writes(sample)) == ["1", "2", "3"]
