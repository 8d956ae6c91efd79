"""The stock ledger: every change is a move, attributable, guarded, and the audit proves it."""
import pytest

from server.models import AuditLog, Device, Quant, StockMove
from server.services.errors import InsufficientStock, InvalidQuantity, InvalidState
from server.services.stock import inventory


@pytest.fixture
def actor(people):
    device = Device.create(code="HH-07", kind="handheld")
    return inventory.Actor(people["receiver"].id, device.id)


def quant(product, location, state="available"):
    return Quant.get_or_none((Quant.product == product) & (Quant.location == location) & (Quant.state == state))


def test_receive_move_issue_leave_an_attributed_ledger(small_warehouse, actor):
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    inventory.receive(tee, locs["A-01"], 10, actor=actor, ref="PO-1")
    inventory.move(tee, locs["A-01"], locs["T-001"], 4, actor=actor, ref="pick-1")
    inventory.issue(tee, locs["T-001"], 3, actor=actor, ref="order-9")
    assert quant(tee, locs["A-01"]).qty == 6
    assert quant(tee, locs["T-001"]).qty == 1
    moves = list(StockMove.select().order_by(StockMove.id))
    assert [(m.reason, m.qty, m.from_location_id, m.to_location_id) for m in moves] == [
        ("receive", 10, None, locs["A-01"].id),
        ("move", 4, locs["A-01"].id, locs["T-001"].id),
        ("ship", 3, locs["T-001"].id, None)]
    assert {(m.user_id, m.device_id) for m in moves} == {(actor.user_id, actor.device_id)}
    assert inventory.audit() == []


def test_reserve_guards_free_units_and_a_pick_consumes_the_reservation(small_warehouse, actor):
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    inventory.receive(tee, locs["A-01"], 5, actor=actor)
    inventory.reserve(tee, locs["A-01"], 4, actor=actor, ref="order-1")
    with pytest.raises(InsufficientStock):
        inventory.reserve(tee, locs["A-01"], 2, actor=actor, ref="order-2")
    with pytest.raises(InsufficientStock):  # the free unit is 1; moving 2 unreserved would eat a promise
        inventory.move(tee, locs["A-01"], locs["A-02"], 2, actor=actor)
    inventory.move(tee, locs["A-01"], locs["T-001"], 4, actor=actor, reserved=4, reason="pick", ref="order-1")
    q = quant(tee, locs["A-01"])
    assert (q.qty, q.reserved) == (1, 0)
    inventory.reserve(tee, locs["A-01"], 1, actor=actor)
    inventory.release(tee, locs["A-01"], 1, actor=actor)
    with pytest.raises(InsufficientStock):
        inventory.release(tee, locs["A-01"], 1, actor=actor)
    assert inventory.audit() == []


def test_units_taken_cannot_use_up_more_reservation_than_they_are(small_warehouse, actor):
    # shipping 1 unit that claims 4 reserved ones would lose the other 3 units' promise
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    inventory.receive(tee, locs["A-01"], 4, actor=actor)
    inventory.reserve(tee, locs["A-01"], 4, actor=actor, ref="order-1")
    moves = StockMove.select().count()
    with pytest.raises(InvalidQuantity):
        inventory.issue(tee, locs["A-01"], 1, actor=actor, reserved=4)
    with pytest.raises(InvalidQuantity):
        inventory.move(tee, locs["A-01"], locs["T-001"], 1, actor=actor, reserved=4)
    assert (quant(tee, locs["A-01"]).qty, quant(tee, locs["A-01"]).reserved) == (4, 4)
    assert StockMove.select().count() == moves and inventory.audit() == []


def test_reserve_any_takes_pick_faces_first_and_is_all_or_nothing(small_warehouse, actor):
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    inventory.receive(tee, locs["R-01"], 24, actor=actor)
    inventory.receive(tee, locs["A-02"], 3, actor=actor)
    taken = inventory.reserve_any(tee, 5, actor=actor, ref="order-5")
    assert [(r.location_id, r.qty) for r in taken] == [(locs["A-02"].id, 3), (locs["R-01"].id, 2)]
    with pytest.raises(InsufficientStock):
        inventory.reserve_any(tee, 23, actor=actor, ref="order-6")
    assert quant(tee, locs["R-01"]).reserved == 2  # the failed attempt left nothing behind
    assert inventory.audit() == []


def test_state_changes_and_adjustments(small_warehouse, actor):
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    inventory.receive(tee, locs["QC-1"], 8, actor=actor, state="qc_pending")
    inventory.change_state(tee, locs["QC-1"], 6, "qc_pending", "available", actor=actor, reason="qc_pass")
    inventory.change_state(tee, locs["QC-1"], 2, "qc_pending", "damaged", actor=actor, reason="qc_fail")
    inventory.adjust(tee, locs["QC-1"], -1, actor=actor, reason="count", state="available")
    inventory.adjust(tee, locs["QC-1"], 3, actor=actor, reason="found", state="frozen")
    assert quant(tee, locs["QC-1"], "qc_pending").qty == 0
    assert quant(tee, locs["QC-1"], "available").qty == 5
    assert quant(tee, locs["QC-1"], "damaged").qty == 2
    assert quant(tee, locs["QC-1"], "frozen").qty == 3
    actions = [a.action for a in AuditLog.select().order_by(AuditLog.id)]
    assert actions == ["stock.state", "stock.state", "stock.adjust", "stock.adjust"]
    assert inventory.audit() == []


@pytest.mark.parametrize("qty", [0, -1, 1.5, "3", True])
def test_bad_quantities_are_refused(small_warehouse, actor, qty):
    with pytest.raises(InvalidQuantity):
        inventory.receive(small_warehouse["tee"], small_warehouse["locations"]["A-01"], qty, actor=actor)
    assert StockMove.select().count() == 0


def test_unknown_state_and_missing_reason_are_refused(small_warehouse, actor):
    tee, a01 = small_warehouse["tee"], small_warehouse["locations"]["A-01"]
    with pytest.raises(InvalidState):
        inventory.receive(tee, a01, 1, actor=actor, state="lost")
    with pytest.raises(InvalidQuantity):
        inventory.adjust(tee, a01, 1, actor=actor, reason=" ")


def test_a_failed_step_rolls_back_the_whole_move(small_warehouse, actor):
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    inventory.receive(tee, locs["A-01"], 2, actor=actor)
    with pytest.raises(InsufficientStock):
        inventory.move(tee, locs["A-01"], locs["A-02"], 3, actor=actor)
    assert quant(tee, locs["A-02"]) is None
    assert StockMove.select().count() == 1


def test_audit_names_a_tampered_quant(small_warehouse, actor):
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    inventory.receive(tee, locs["A-01"], 7, actor=actor)
    Quant.update(qty=9).where(Quant.product == tee).execute()
    (difference,) = inventory.audit()
    assert (difference.sku, difference.location, difference.quant_qty, difference.ledger_qty) == ("TS-01", "A-01", 9, 7)
    assert "TS-01 @ A-01" in str(difference)


def test_audit_finds_a_deleted_quant(small_warehouse, actor):
    tee, locs = small_warehouse["tee"], small_warehouse["locations"]
    inventory.receive(tee, locs["A-02"], 4, actor=actor)
    Quant.delete().execute()
    (difference,) = inventory.audit()
    assert (difference.location, difference.quant_qty, difference.ledger_qty) == ("A-02", 0, 4)


def test_find_product_by_sku_unit_and_case_barcode(small_warehouse):
    assert inventory.find_product("TS-01")[1] == 1
    assert inventory.find_product("6900000000014")[0].sku == "TS-01"
    assert inventory.find_product("16900000000011")[1] == 12


def test_database_refuses_negative_stock_even_without_the_service(small_warehouse, actor, db):
    """The CHECK constraints are the last line: a raw update cannot make a quant negative."""
    from peewee import IntegrityError
    tee, a01 = small_warehouse["tee"], small_warehouse["locations"]["A-01"]
    inventory.receive(tee, a01, 1, actor=actor)
    with pytest.raises(IntegrityError):
        with db.atomic():
            Quant.update(reserved=5).where(Quant.product == tee).execute()
