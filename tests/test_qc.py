"""Quality control of received lots (入库质检), on SQLite and PostgreSQL: a sample checked unit by
unit decides its lot, the units leave qc_pending through the ledger with reasons and actors, a
rejected lot becomes a supplier return (退供) the office ships, and two devices checking the last
unit of a lot at the same moment never decide it twice."""
from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest

from server import events
from server.db import database
from server.models import AuditLog, Device, Location, Lpn, PurchaseOrder, PurchaseOrderLine, QcCheck, Quant
from server.models import Receipt, StockMove, Supplier, SupplierReturn
from server.services.auth import Principal
from server.services.device import commands
from server.services.errors import InvalidTransition, Refused
from server.services.receiving import putaway, quality, receipts, sampling
from server.services.receiving import supplier_returns as returns
from server.services.receiving.lpn import sscc
from server.services.scenarios import qc as qc_scenario  # noqa: F401 (registers the qc scenario)
from server.services.stock import inventory

SSCCS = iter(sscc(3, "6901234", n) for n in range(1, 100000))


def make_lpn(warehouse, product, qty: int, *, aql="6.5", lot="L2026", plan="sample") -> Lpn:
    """A received plate waiting for QC, built as receiving leaves one: supplier, approved PO with a
    line, a receipt at a receiving dock, the plate and its units received qc_pending."""
    supplier, _ = Supplier.get_or_create(code="SUP-HN", defaults={"name": "华南日用品厂", "qc_plan": plan, "aql": aql})
    po, _ = PurchaseOrder.get_or_create(code="PO-QC-1", defaults={"supplier": supplier, "warehouse": warehouse,
                                                                   "status": "approved"})
    line, _ = PurchaseOrderLine.get_or_create(po=po, product=product, defaults={"qty": 100000})
    dock, _ = Location.get_or_create(code="DOCK-1", defaults={"warehouse": warehouse, "kind": "receiving"})
    receipt, _ = Receipt.get_or_create(code="RC-QC-1", defaults={"po": po, "warehouse": warehouse, "dock": dock})
    sample_size, accept = sampling.plan(qty, aql) if plan == "sample" else (qty, 0)
    lpn = Lpn.create(sscc=next(SSCCS), receipt=receipt, po_line=line, product=product, lot=lot, qty=qty,
                     status="qc_pending", location=dock, qc_plan=plan, aql=aql, sample_size=sample_size,
                     accept_number=accept)
    inventory.receive(product, dock, qty, actor=inventory.system_actor(), state="qc_pending", lot=lot,
                      reason="receipt", ref=f"receipt:{receipt.id}")
    return lpn


@pytest.fixture
def inspector(people):
    return inventory.Actor(people["receiver"].id, Device.create(code="QC-BENCH-1").id)


def stock(lpn: Lpn) -> dict:
    return {q.state: q.qty for q in Quant.select().where((Quant.location == lpn.location_id)
                                                           & (Quant.product == lpn.product_id)
                                                           & (Quant.lot == lpn.lot) & (Quant.qty > 0))}


def ledger(lpn: Lpn) -> list[tuple]:
    return [(m.reason, m.from_state, m.to_state, m.qty, m.user_id, m.device_id)
            for m in StockMove.select().where(StockMove.ref == f"lpn:{lpn.sscc}").order_by(StockMove.id)]


def check(lpn, results, actor, reason="damaged"):
    view = None
    for passed in results:
        view = quality.record_check(lpn.sscc, passed, "" if passed else reason, actor=actor)
    return view


def test_a_lot_within_its_acceptance_number_passes(db, small_warehouse, inspector):
    tee = small_warehouse["tee"]
    lpn = make_lpn(small_warehouse["warehouse"], tee, 20)   # letter C, AQL 6.5: arrow down to 8 units, Ac 1
    assert (lpn.sample_size, lpn.accept_number) == (8, 1)
    view = check(lpn, [True] * 3 + [False], inspector)
    assert (view["checked"], view["failed"], view["remaining"], view["decision"]) == (4, 1, 4, None)
    assert stock(lpn) == {"qc_pending": 20}  # nothing moves before the sample is complete
    heard = []
    events.subscribe(listen := lambda event, payload, rooms: heard.append((event, payload, rooms)))
    try:
        view = check(lpn, [True] * 4, inspector)
    finally:
        events.unsubscribe(listen)
    assert view["decision"] == "pass" and view["status"] == "ready"
    assert [(e, p["waiting"], r) for e, p, r in heard if e == "putaway.waiting"] == [
        ("putaway.waiting", 1, ("role:receiver", "wallboard", "warehouse:WH1"))]  # putaway hears of the plate
    lpn = Lpn.get_by_id(lpn.id)
    assert lpn.decided_by_id == inspector.user_id and lpn.decided_at is not None
    assert stock(lpn) == {"damaged": 1, "available": 19}
    assert ledger(lpn) == [("qc_fail", "qc_pending", "damaged", 1, inspector.user_id, inspector.device_id),
                           ("qc_pass", "qc_pending", "available", 19, inspector.user_id, inspector.device_id)]
    checks = list(QcCheck.select().where(QcCheck.lpn == lpn.id))
    assert len(checks) == 8 and {(c.user_id, c.device_id) for c in checks} == {(inspector.user_id,
                                                                                 inspector.device_id)}
    assert [c.reason for c in checks if not c.passed] == ["damaged"]
    assert SupplierReturn.select().count() == 0
    assert AuditLog.get(AuditLog.action == "qc.decided").target == lpn.sscc
    assert inventory.audit() == []


def test_a_rejected_lot_is_held_and_goes_back_to_its_supplier(db, small_warehouse, inspector, people):
    tee = small_warehouse["tee"]
    lpn = make_lpn(small_warehouse["warehouse"], tee, 20)
    view = check(lpn, [False, True, True, True, True, True, True], inspector, reason="dirty")
    view = quality.record_check(lpn.sscc, False, "expired", actor=inspector)  # the 8th: 2 failed > Ac 1
    assert view["decision"] == "reject" and view["status"] == "rejected"
    assert view["supplier_return"] == f"SR-{lpn.sscc}"
    assert stock(lpn) == {"damaged": 2, "frozen": 18}
    assert [r[:4] for r in ledger(lpn)] == [("qc_fail", "qc_pending", "damaged", 2),
                                           ("qc_reject", "qc_pending", "frozen", 18)]
    sr = SupplierReturn.get(SupplierReturn.lpn == lpn.id)
    assert (sr.status, sr.qty, sr.lot, sr.supplier.code, sr.po.code) == ("open", 20, "L2026", "SUP-HN", "PO-QC-1")
    listed = returns.listing(status="open")
    assert [(line["state"], line["qty"], line["location"]) for line in listed[0]["lines"]] == [
        ("damaged", 2, "DOCK-1"), ("frozen", 18, "DOCK-1")]

    office = inventory.Actor(people["office"].id)
    shipped = returns.ship(sr.code, actor=office)
    assert shipped["status"] == "shipped" and shipped["shipped_at"]
    assert stock(lpn) == {}
    out = list(StockMove.select().where(StockMove.ref == f"supplier_return:{sr.code}").order_by(StockMove.id))
    assert [(m.reason, m.from_state, m.qty, m.to_location_id, m.user_id) for m in out] == [
        ("supplier_return", "damaged", 2, None, office.user_id), ("supplier_return", "frozen", 18, None, office.user_id)]
    with pytest.raises(InvalidTransition):
        returns.ship(sr.code, actor=office)  # shipped once; nothing leaves twice
    assert inventory.audit() == []


def test_a_cancelled_supplier_return_leaves_its_units_frozen(db, small_warehouse, inspector, people):
    lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["mug"], 3, aql="1.0")  # letter A: 13 > 3, all of it, Ac 0
    assert (lpn.sample_size, lpn.accept_number) == (3, 0)
    check(lpn, [True, False, True], inspector, reason="wrong_item")
    office = inventory.Actor(people["office"].id)
    with pytest.raises(Refused) as refused:
        returns.cancel(f"SR-{lpn.sscc}", "  ", actor=office)
    assert refused.value.code == "supplier_return_reason_required"
    view = returns.cancel(f"SR-{lpn.sscc}", "supplier grants a 20% concession", actor=office)
    assert view["status"] == "cancelled"
    assert stock(lpn) == {"damaged": 1, "frozen": 2}
    with pytest.raises(InvalidTransition):
        returns.ship(view["code"], actor=office)
    assert AuditLog.get(AuditLog.action == "supplier_return.cancelled").detail == "supplier grants a 20% concession"
    assert inventory.audit() == []


def test_failures_beyond_the_acceptance_number_let_a_supervisor_reject_early(db, small_warehouse, inspector, people):
    lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 500, aql="1.0")  # H: 50 units, Ac 1
    assert (lpn.sample_size, lpn.accept_number) == (50, 1)
    supervisor = inventory.Actor(people["supervisor"].id)
    check(lpn, [True, False], inspector)
    with pytest.raises(Refused) as refused:
        quality.reject_early(lpn.sscc, actor=supervisor)
    assert refused.value.code == "qc_not_exceeded"
    view = check(lpn, [False], inspector)
    assert view["can_reject_early"] and view["decision"] is None
    view = quality.reject_early(lpn.sscc, actor=supervisor)
    assert view["decision"] == "reject" and view["checked"] == 3
    assert Lpn.get_by_id(lpn.id).decided_by_id == supervisor.user_id
    assert stock(lpn) == {"damaged": 2, "frozen": 498}
    assert SupplierReturn.get(SupplierReturn.lpn == lpn.id).qty == 500
    assert inventory.audit() == []


def test_checks_beyond_the_sample_and_bad_reasons_are_refused(db, small_warehouse, inspector):
    lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 2, plan="full")
    with pytest.raises(Refused) as refused:
        quality.record_check(lpn.sscc, False, "ugly", actor=inspector)
    assert refused.value.code == "qc_bad_reason"
    with pytest.raises(Refused) as refused:
        quality.record_check(lpn.sscc, "yes", actor=inspector)
    assert refused.value.code == "qc_bad_result"
    check(lpn, [True, True], inspector)
    with pytest.raises(Refused) as refused:
        quality.record_check(lpn.sscc, True, actor=inspector)
    assert refused.value.code == "qc_not_pending"
    assert QcCheck.select().count() == 2 and Lpn.get_by_id(lpn.id).checked == 2
    assert stock(lpn) == {"available": 2}


def test_the_sample_count_itself_refuses_a_check_beyond_it(db, small_warehouse, inspector):
    """The guard is in the UPDATE: a plate still qc_pending whose sample is already counted (a
    decision that failed half way, a plate edited by hand) takes no further check."""
    lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 20)
    Lpn.update(checked=8).where(Lpn.id == lpn.id).execute()
    with pytest.raises(Refused) as refused:
        quality.record_check(lpn.sscc, True, actor=inspector)
    assert refused.value.code == "qc_sample_done"
    assert QcCheck.select().count() == 0


def test_lpn_codes_scan_with_or_without_their_application_identifier(db, small_warehouse):
    lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 20)
    for code in (lpn.sscc, f"00{lpn.sscc}", f"(00){lpn.sscc}", f"]C100{lpn.sscc}", f" (00) {lpn.sscc} "):
        assert quality.find_lpn(code).id == lpn.id
    wrong_check_digit = lpn.sscc[:-1] + str((int(lpn.sscc[-1]) + 1) % 10)
    for code in ("", "00", lpn.sscc[:-1], f"01{lpn.sscc}", "(00)ABC", wrong_check_digit):
        with pytest.raises(quality.LpnNotFound):
            quality.find_lpn(code)


def command(principal, action, **params):
    return commands.execute(principal, {"key": uuid.uuid4().hex, "scenario": "qc", "action": action, **params})


def test_the_handheld_scenario_walks_a_sample_to_its_decision(db, small_warehouse, people):
    lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 10)   # letter B, AQL 6.5: arrow up to A, 2 units
    inspector = Principal(people["receiver"], ["receiver"], Device.create(code="HH-QC-1"), language="en")
    answer = command(inspector, "scan", code=f"(00){lpn.sscc}")
    assert answer["ok"] and answer["next_state"] == "check"
    shown = answer["data"]["check"]
    assert (shown["sku"], shown["lot"], shown["sample_size"], shown["accept_number"], shown["checked"]) == (
        "TS-01", "L2026", 2, 0, 0)
    answer = command(inspector, "fail", sscc=lpn.sscc, reason="nope")
    assert (answer["ok"], answer["next_state"], answer["message"]["code"]) == (False, "check", "qc_bad_reason")
    assert "short_dated" in answer["data"]["check"]["reasons"]
    answer = command(inspector, "pass", sscc=lpn.sscc)
    assert (answer["next_state"], answer["message"]["code"], answer["data"]["check"]["remaining"]) == (
        "check", "qc_checked", 1)
    answer = command(inspector, "fail", sscc=lpn.sscc, reason="short_dated")
    assert (answer["ok"], answer["next_state"], answer["message"]["code"]) == (True, "decided", "qc_rejected")
    assert answer["message"]["text"] == "Lot rejected: its units are held for the supplier."
    assert answer["data"]["decided"]["supplier_return"] == f"SR-{lpn.sscc}"
    answer = command(inspector, "scan", code=lpn.sscc)
    assert (answer["ok"], answer["next_state"], answer["message"]["code"]) == (False, "scan_lpn", "qc_not_pending")
    assert command(inspector, "scan", code="(00)000000000000000000")["message"]["code"] == "qc_unknown_lpn"
    picker = Principal(people["picker"], ["picker"], Device.create(code="HH-P-1"))
    assert command(picker, "scan", code=lpn.sscc)["message"]["code"] == "forbidden"
    assert command(inspector, "reject", sscc=lpn.sscc)["message"]["code"] == "forbidden"  # a supervisor's step
    assert inventory.audit() == []


def test_two_devices_checking_the_last_unit_decide_the_lot_once(db, small_warehouse, people):
    rounds = 4
    plates = [make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 20, lot=f"L{n}") for n in range(rounds)]
    first = Principal(people["receiver"], ["receiver"], Device.create(code="QC-A"))
    second = Principal(people["supervisor"], ["supervisor"], Device.create(code="QC-B"))
    for lpn in plates:
        for _ in range(lpn.sample_size - 1):
            assert command(first, "pass", sscc=lpn.sscc)["ok"]
    database.close()
    for lpn in plates:
        answers, start = [], threading.Barrier(2)

        def last_check(principal, passed):
            start.wait()
            answers.append(command(principal, "pass" if passed else "fail", sscc=lpn.sscc, reason="damaged"))
            database.close()

        threads = [threading.Thread(target=last_check, args=(first, True)),
                   threading.Thread(target=last_check, args=(second, False))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(a["ok"] for a in answers) == [False, True]
        won = next(a for a in answers if a["ok"])
        lost = next(a for a in answers if not a["ok"])
        assert won["next_state"] == "decided"
        assert lost["message"]["code"] in ("qc_sample_done", "qc_not_pending")
        lpn = Lpn.get_by_id(lpn.id)
        assert (lpn.checked, lpn.status) == (8, "ready")  # 0 or 1 failed: within Ac 1 either way
        assert QcCheck.select().where(QcCheck.lpn == lpn.id).count() == 8
        assert [r[0] for r in ledger(lpn)] in (["qc_pass"], ["qc_fail", "qc_pass"])
        assert sum(stock(lpn).values()) == 20 and "qc_pending" not in stock(lpn)
    assert AuditLog.select().where(AuditLog.action == "qc.decided").count() == rounds
    assert inventory.audit() == []


# --- over HTTP -----------------------------------------------------------------------------------

def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_the_qc_api_records_checks_and_the_office_ships_the_return(client, token_for, small_warehouse):
    lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 10)   # 2 units, Ac 0
    receiver = bearer(token_for("receiver", device="HH-QC-9"))
    waiting = client.get("/api/v1/qc/lpns", headers=receiver)
    assert waiting.status_code == 200
    assert [v["sscc"] for v in waiting.get_json()["items"]] == [lpn.sscc]
    assert waiting.get_json()["reasons"] == list(quality.DEFECT_REASONS)
    answer = client.post(f"/api/v1/qc/lpns/(00){lpn.sscc}/checks", headers=receiver, json={"passed": False,
                                                                                          "reason": "ugly"})
    assert answer.status_code == 422  # not a reason of the list
    answer = client.post(f"/api/v1/qc/lpns/{lpn.sscc}/checks", headers=receiver,
                         json={"passed": False, "reason": "dirty"})
    assert answer.status_code == 201 and answer.get_json()["failed"] == 1
    assert answer.get_json()["checks"][0]["reason"] == "dirty"
    answer = client.post(f"/api/v1/qc/lpns/{lpn.sscc}/checks", headers=receiver, json={"passed": True})
    assert answer.get_json()["decision"] == "reject"
    again = client.post(f"/api/v1/qc/lpns/{lpn.sscc}/checks", headers=receiver, json={"passed": True})
    assert again.status_code == 400 and again.get_json()["code"] == "qc_not_pending"
    assert client.get("/api/v1/qc/lpns", headers=receiver).get_json()["items"] == []
    move = StockMove.get(StockMove.reason == "qc_reject")
    assert move.device_id == Device.get(Device.code == "HH-QC-9").id

    office = bearer(token_for("office"))
    assert client.get("/api/v1/qc/lpns", headers=office).status_code == 403
    listed = client.get("/api/v1/supplier-returns?status=open", headers=office).get_json()["items"]
    assert [(r["code"], r["qty"], [line["state"] for line in r["lines"]]) for r in listed] == [
        (f"SR-{lpn.sscc}", 10, ["damaged", "frozen"])]
    assert client.get("/api/v1/supplier-returns", headers=receiver).status_code == 403
    assert client.post(f"/api/v1/supplier-returns/SR-{lpn.sscc}/ship", headers=receiver).status_code == 403
    shipped = client.post(f"/api/v1/supplier-returns/SR-{lpn.sscc}/ship", headers=office)
    assert shipped.status_code == 201 and shipped.get_json()["status"] == "shipped"
    twice = client.post(f"/api/v1/supplier-returns/SR-{lpn.sscc}/ship", headers=office)
    assert twice.status_code == 409
    cancel = client.post(f"/api/v1/supplier-returns/SR-{lpn.sscc}/cancel", headers=office, json={"reason": "x"})
    assert cancel.status_code == 409
    assert client.get("/api/v1/supplier-returns/SR-nope", headers=office).status_code == 404
    assert inventory.audit() == []


def test_only_a_supervisor_rejects_early_over_http(client, token_for, small_warehouse):
    lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 500, aql="1.0")
    receiver = bearer(token_for("receiver"))
    for _ in range(2):
        client.post(f"/api/v1/qc/lpns/{lpn.sscc}/checks", headers=receiver, json={"passed": False,
                                                                                 "reason": "expired"})
    assert client.post(f"/api/v1/qc/lpns/{lpn.sscc}/reject", headers=receiver).status_code == 403
    answer = client.post(f"/api/v1/qc/lpns/{lpn.sscc}/reject", headers=bearer(token_for("supervisor")))
    assert answer.status_code == 201 and answer.get_json()["decision"] == "reject"
    assert client.get("/api/v1/qc/lpns", headers=bearer(token_for("picker"))).status_code == 403


def test_the_office_pages_list_print_and_ship(client, people, small_warehouse, inspector):
    lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 10)
    check(lpn, [False, False], inspector)
    assert client.post("/login", data={"user": "u-office", "password": "secret-pass"}).status_code == 302
    page = client.get("/supplier-returns?status=open").get_data(as_text=True)
    assert f"SR-{lpn.sscc}" in page and "/qc" not in page.split("<main>")[0]  # no QC bench link for the office
    printed = client.get(f"/supplier-returns/SR-{lpn.sscc}/print?noprint=1").get_data(as_text=True)
    assert "DOCK-1" in printed and "L2026" in printed and "退供拣货单" in printed
    assert client.get("/qc").status_code == 403
    done = client.post(f"/supplier-returns/SR-{lpn.sscc}/ship")
    assert done.status_code == 302 and "done=ship" in done.headers["Location"]
    assert SupplierReturn.get(SupplierReturn.code == f"SR-{lpn.sscc}").status == "shipped"
    again = client.post(f"/supplier-returns/SR-{lpn.sscc}/cancel", data={"reason": "late"})
    assert "error=invalid_transition" in again.headers["Location"]
    assert inventory.audit() == []


def test_a_plate_received_at_the_dock_is_sampled_decided_and_waits_for_putaway(db, small_warehouse, people):
    """Receiving closes the plate with its ISO 2859-1 plan; QC decides it; putaway sees it; the
    lot's expiry stays on the units QC released."""
    wh, tee = small_warehouse["warehouse"], small_warehouse["tee"]
    supplier = Supplier.create(code="SUP-E2E", name="义乌纺织", qc_plan="sample", aql="1.0")
    po = PurchaseOrder.create(code="PO-E2E", supplier=supplier, warehouse=wh, status="approved")
    PurchaseOrderLine.create(po=po, product=tee, qty=500)
    Location.create(warehouse=wh, code="DOCK-9", kind="receiving")
    receiver = inventory.Actor(people["receiver"].id, Device.create(code="HH-RCV").id)
    receipt = receipts.open_receipt("PO-E2E", receiver)
    receipts.receive(receipt, tee.id, 500, receiver, lot="B0601", expiry=dt.date(2027, 6, 1))
    [plate] = receipts.finish(receipt, receiver)
    plate = Lpn.get_by_id(plate.id)
    assert (plate.status, plate.qc_plan, plate.aql, plate.sample_size, plate.accept_number) == (
        "qc_pending", "sample", "1.0", 50, 1)
    inspector = inventory.Actor(people["receiver"].id, Device.create(code="QC-E2E").id)
    view = check(plate, [False] + [True] * 49, inspector, reason="short_dated")
    assert view["decision"] == "pass"
    quants = {q.state: (q.qty, q.expiry) for q in Quant.select().where((Quant.product == tee) & (Quant.qty > 0))}
    assert quants == {"available": (499, dt.date(2027, 6, 1)), "damaged": (1, dt.date(2027, 6, 1))}
    assert [p["sscc"] for p in putaway.waiting(wh.id)] == [plate.sscc]
    assert inventory.audit() == []


def test_an_early_reject_and_the_last_check_at_the_same_moment_decide_once(db, small_warehouse, people, inspector):
    supervisor = inventory.Actor(people["supervisor"].id, Device.create(code="QC-SUP").id)
    for n in range(3):
        lpn = make_lpn(small_warehouse["warehouse"], small_warehouse["tee"], 20, lot=f"R{n}")  # 8 units, Ac 1
        check(lpn, [False, False] + [True] * 5, inspector)
        database.close()
        outcomes, start = [], threading.Barrier(2)

        def attempt(work):
            start.wait()
            try:
                work()
                outcomes.append("decided")
            except Refused as refused:
                outcomes.append(refused.code)
            finally:
                database.close()

        last_check = lambda: quality.record_check(lpn.sscc, True, actor=inspector)  # noqa: E731
        early_reject = lambda: quality.reject_early(lpn.sscc, actor=supervisor)  # noqa: E731
        threads = [threading.Thread(target=attempt, args=(work,)) for work in (last_check, early_reject)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        # the loser read the plate before (qc_already_decided: its guarded move found it decided)
        # or after the winner committed (qc_not_pending)
        assert outcomes.count("decided") == 1, outcomes
        assert set(outcomes) - {"decided"} <= {"qc_not_pending", "qc_already_decided"}, outcomes
        assert Lpn.get_by_id(lpn.id).status == "rejected"
        assert SupplierReturn.select().where(SupplierReturn.lpn == lpn.id).count() == 1
        assert [r[:4] for r in ledger(lpn)] == [("qc_fail", "qc_pending", "damaged", 2),
                                               ("qc_reject", "qc_pending", "frozen", 18)]
    assert inventory.audit() == []
