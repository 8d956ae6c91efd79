"""The receiving scenario (入库) through ``commands.execute`` with real principals, the licence
plates and their SSCC, the receiving label (rendered, decoded, sent to a TCP listener), and two
receivers at the same order line at once. Both engines."""
from __future__ import annotations

import threading

import pytest

from server import events
from server.models import Lpn, PrintJob, PurchaseOrder, PurchaseOrderLine, Quant, Receipt, StockMove
from server.services import printing
from server.services.device import snapshot
from server.services.receiving import lpn as plates
from server.services.receiving import sampling
from server.services.scenarios import receiving  # noqa: F401  (registers the scenario)
from server.services.stock import inventory
from tests.receiving_floor import GS1_TEE, GS1_TEE_RAW, TEE_EXPIRY, Listener, another_receiver, goods_in, receiver
from tests.receiving_floor import floor, hand  # noqa: F401  (fixtures)
from tests.scenario_driver import Driver

RECEIVING = Driver("receiving")
run, step, refused = RECEIVING.run, RECEIVING.step, RECEIVING.refused


def qty_at(product, location, state="qc_pending", lot=""):
    q = Quant.get_or_none((Quant.product == product) & (Quant.location == location) & (Quant.state == state)
                          & (Quant.lot == lot))
    return q.qty if q else 0


def line(po, product) -> PurchaseOrderLine:
    return PurchaseOrderLine.get((PurchaseOrderLine.po == po) & (PurchaseOrderLine.product == product))


# --- SSCC -------------------------------------------------------------------------------------------

def test_sscc_matches_known_codes_and_checks_labels():
    from biip.sscc import Sscc
    # the GS1 General Specifications' example, then codes biip (an independent parser) accepts
    assert plates.sscc(1, "0614141", 123456789) == "106141411234567897"
    assert plates.sscc(0, "6901234", 42) == "069012340000000429"
    assert plates.sscc(3, "0614141", 1) == "306141410000000013"
    for n in (0, 7, 99, 123456, 654321):
        for extension, prefix in ((0, "6901234"), (9, "69012345"), (5, "6901234567")):
            code = plates.sscc(extension, prefix, n)
            parsed = Sscc.parse(code)
            assert (parsed.extension_digit, code[1:1 + len(prefix)]) == (extension, prefix)
    for code in ("106141411234567897", "(00)106141411234567897", "00106141411234567897",
                 "]C100106141411234567897", "(00) 1061414 1123456789 7"):
        assert plates.sscc_of(code) == "106141411234567897", code
    assert plates.sscc_of("106141411234567890") is None and plates.sscc_of("6900000000014") is None
    with pytest.raises(ValueError):
        plates.sscc(0, "6901234", 10 ** 9)


# --- the happy path ------------------------------------------------------------------------------------

def test_receive_by_each_barcode_case_code_typed_qty_and_gs1(floor, hand, heard):
    tee, mug, dock, po = floor["tee"], floor["mug"], floor["dock"], floor["po"]
    state, data, code = step(hand, "start", code="PO-001")
    assert (state, code) == ("scan_item", "receipt_opened")
    assert data["receipt"]["po"] == "PO-001" and data["receipt"]["dock"] == "DOCK-1"
    assert data["receipt"]["blind"] is False and data["receipt"]["units_ordered"] == 34
    assert data["lines"] == [{"sku": "TS-01", "name": "纯棉T恤 白 M", "received": 0, "ordered": 24},
                             {"sku": "MG-01", "name": "马克杯", "received": 0, "ordered": 10}]
    receipt = Receipt.get(Receipt.po == po)

    state, data, code = step(hand, "scan", code="6900000000014")
    assert (state, code, data["lpn"]["qty"], data["lpn"]["sku"]) == ("qty", "item_received", 1, "TS-01")
    state, data, _ = step(hand, "scan", code="16900000000011")  # the case code: 12
    assert data["lpn"]["qty"] == 13
    state, data, _ = step(hand, "qty", qty=20)  # typed: the plate holds 20
    assert (state, data["lpn"]["qty"]) == ("qty", 20)
    assert refused(hand, "qty", qty=5) == ("qty_below_received", "qty")
    assert qty_at(tee, dock) == 20 and line(po, tee).received_qty == 20
    assert PurchaseOrder.get_by_id(po.id).status == "partially_received"
    moves = list(StockMove.select().where(StockMove.ref == f"receipt:{receipt.id}"))
    assert {(m.reason, m.to_state, m.to_location_id) for m in moves} == {("receipt", "qc_pending", dock.id)}
    assert sum(m.qty for m in moves) == 20

    # GS1 with lot and expiry: a plate of its own, the lot and expiry on the quant
    state, data, _ = step(hand, "scan", code=GS1_TEE)
    assert (data["lpn"]["lot"], data["lpn"]["expiry"], data["lpn"]["qty"]) == ("L2406A", "2027-06-30", 1)
    step(hand, "scan", code=GS1_TEE_RAW)
    dated = Quant.get((Quant.product == tee) & (Quant.location == dock) & (Quant.lot == "L2406A"))
    assert (dated.qty, dated.state, dated.expiry) == (2, "qc_pending", TEE_EXPIRY)
    step(hand, "scan", code="6900000000021")  # a mug, by its barcode
    assert [(p.product_id, p.lot, p.qty, p.status) for p in Lpn.select().order_by(Lpn.id)] == [
        (tee.id, "", 20, "open"), (tee.id, "L2406A", 2, "open"), (mug.id, "", 1, "open")]
    events.settle()  # progress is coalesced: a quarter second after the last scan
    progress = [p for e, p, rooms in heard if e == "receipt.progress"]
    assert progress[-1]["po"] == "PO-001" and progress[-1]["units_received"] == 23
    assert (progress[-1]["lines_received"], progress[-1]["lines_ordered"]) == (0, 2)
    assert [rooms for e, p, rooms in heard if e == "receipt.progress"][-1] == ("wallboard", "warehouse:WH1")
    assert inventory.audit() == []


def test_start_by_delivery_note_and_refusals_of_the_order(floor, hand, people):
    assert refused(hand, "start", code="PO-404") == ("po_not_found", "start")
    result = run(hand, "start", code="PO-404")
    assert "PO-404" in result["message"]["text"]
    PurchaseOrder.update(status="draft").where(PurchaseOrder.id == floor["po"].id).execute()
    assert refused(hand, "start", code="DN-778") == ("po_not_receivable", "start")
    PurchaseOrder.update(status="approved").where(PurchaseOrder.id == floor["po"].id).execute()
    state, data, _ = step(hand, "start", code="DN-778")
    assert data["receipt"]["po"] == "PO-001"
    assert step(hand, "start", code="PO-001").data["receipt"]["code"] == data["receipt"]["code"]  # asked again


def test_unknown_barcode_not_on_po_and_over_receipt(floor, hand):
    from server.models import Barcode, Product
    step(hand, "start", code="PO-001")
    result = run(hand, "scan", code="NOPE-123")
    assert (result["ok"], result["message"]["code"], result["next_state"]) == (False, "unknown_barcode", "scan_item")
    assert "NOPE-123" in result["message"]["text"] and result["data"]["scan_item"]["refused"]["scanned"] == "NOPE-123"
    bowl = Product.create(sku="BW-01", name="碗")
    Barcode.create(code="6900000000038", product=bowl)
    assert refused(hand, "scan", code="6900000000038") == ("not_on_po", "scan_item")
    # 24 tees at 10 %: 26 at most
    step(hand, "scan", code="16900000000011")
    step(hand, "scan", code="16900000000011")
    result = run(hand, "scan", code="16900000000011")
    assert (result["ok"], result["message"]["code"]) == (False, "over_receipt")
    assert result["data"]["qty"]["refused"]["most"] == 2 and "2" in result["message"]["text"]
    assert refused(hand, "qty", qty=27) == ("over_receipt", "qty")
    step(hand, "qty", qty=26)
    assert refused(hand, "scan", code="6900000000014") == ("over_receipt", "qty")
    assert line(floor["po"], floor["tee"]).received_qty == 26 and qty_at(floor["tee"], floor["dock"]) == 26
    assert inventory.audit() == []


def test_a_replayed_key_counts_once(floor, hand):
    step(hand, "start", code="PO-001")
    first = run(hand, "scan", key="scan-key-0001", code="16900000000011")
    again = run(hand, "scan", key="scan-key-0001", code="16900000000011")
    assert first == again and line(floor["po"], floor["tee"]).received_qty == 12


def test_nothing_is_half_received(floor, hand, monkeypatch):
    """A scan that fails after its first writes (here: the plate) leaves no trace: not on the
    order line, not in the dock's stock, not in the ledger."""
    from server.services.errors import DomainError
    step(hand, "start", code="PO-001")

    def broken(*args, **kwargs):
        raise DomainError("the plate could not be written")
    monkeypatch.setattr(plates, "fill", broken)
    result = run(hand, "scan", code="16900000000011")
    assert (result["ok"], result["message"]["code"]) == (False, "error")
    assert line(floor["po"], floor["tee"]).received_qty == 0 and qty_at(floor["tee"], floor["dock"]) == 0
    assert StockMove.select().where(StockMove.reason == "receipt").count() == 0 and Lpn.select().count() == 0
    assert PurchaseOrder.get_by_id(floor["po"].id).status == "approved"
    monkeypatch.undo()
    assert step(hand, "scan", code="16900000000011").data["lpn"]["qty"] == 12


def test_blind_mode_hides_what_was_ordered(small_warehouse, hand):
    goods_in(small_warehouse, blind=True)
    state, data, _ = step(hand, "start", code="PO-001")
    assert data["receipt"]["blind"] is True and "units_ordered" not in data["receipt"]
    assert all("ordered" not in line for line in data["lines"])
    state, data, _ = step(hand, "scan", code="6900000000014")
    assert "ordered" not in data["lpn"] and all("ordered" not in line for line in data["lines"])
    step(hand, "qty", qty=26)  # 24 and 10 %
    result = run(hand, "scan", code="6900000000014")
    assert (result["message"]["code"], result["data"]["qty"]["refused"]) == ("over_receipt_blind", {"adding": 1})
    assert "26" not in result["message"]["text"] and "2" not in result["message"]["text"]


def test_label_without_qc_releases_the_units_and_queues_the_label(floor, hand, heard):
    printing.save_printer("ZD-DOCK1", {"url": "tcp://127.0.0.1:9", "station": "DOCK-1"}, inventory.system_actor())
    step(hand, "start", code="PO-001")
    step(hand, "scan", code=GS1_TEE)
    step(hand, "qty", qty=6)
    state, data, code = step(hand, "label")
    assert (state, code) == ("scan_item", "lpn_labelled")
    plate = Lpn.get()
    assert data["labelled"] == {"sscc": plate.sscc, "status": "ready", "qty": 6, "printer": "ZD-DOCK1"}
    assert plates.valid_sscc(plate.sscc) and plate.sscc.startswith("06901234")
    assert qty_at(floor["tee"], floor["dock"], "available", "L2406A") == 6
    assert qty_at(floor["tee"], floor["dock"], "qc_pending", "L2406A") == 0
    released = StockMove.get(StockMove.reason == "qc_none")
    assert (released.ref, released.from_state, released.to_state) == (f"lpn:{plate.sscc}", "qc_pending", "available")
    available = Quant.get((Quant.location == floor["dock"]) & (Quant.state == "available"))
    assert available.expiry == TEE_EXPIRY
    job = PrintJob.get()
    assert job.template == "lpn" and job.ref == f"lpn:{plate.sscc}" and f">;>800{plate.sscc}" in job.zpl
    assert [p["waiting"] for e, p, _ in heard if e == "putaway.waiting"] == [1]
    # the next scan of the same SKU and lot fills a new plate
    step(hand, "scan", code=GS1_TEE)
    assert Lpn.select().count() == 2
    assert refused(hand, "label", sscc=plate.sscc) == ("lpn_not_open", "qty")


def test_a_sampled_supplier_leaves_the_plate_for_qc(small_warehouse, hand):
    goods_in(small_warehouse, qc_plan="sample", tee_qty=600, over_pct=0)
    step(hand, "start", code="PO-001")
    step(hand, "scan", code="6900000000014")
    step(hand, "qty", qty=500)
    state, data, code = step(hand, "label")
    assert (code, data["labelled"]["status"]) == ("no_dock_printer", "qc_pending")
    plate = Lpn.get()
    assert (plate.status, plate.qc_plan, plate.aql) == ("qc_pending", "sample", "1.0")
    assert (plate.sample_size, plate.accept_number) == sampling.plan(500, "1.0") == (50, 1)
    assert qty_at(small_warehouse["tee"], plate.location_id) == 500  # still 待检


def test_finish_leaves_the_rest_in_transit_or_closes_short(floor, hand, people):
    step(hand, "start", code="PO-001")
    step(hand, "scan", code="16900000000011")
    step(hand, "scan", code="6900000000021")
    assert refused(hand, "finish", reason="supplier short") == ("forbidden", "qty")
    state, data, code = step(hand, "finish")
    assert (state, code) == ("start", "receipt_finished")
    assert [(p["status"], p["qty"]) for p in data["finished"]["plates"]] == [("ready", 12), ("ready", 1)]
    assert Receipt.get().status == "closed" and PurchaseOrder.get_by_id(floor["po"].id).status == "partially_received"
    assert refused(hand, "scan", code="6900000000014", as_warning=True) == ("no_receipt", "start")
    boss = receiver(people, "HH-S1", "supervisor")
    step(boss, "start", code="PO-001")
    step(boss, "scan", code="6900000000014")
    state, data, _ = step(boss, "finish", reason="supplier short")
    po = PurchaseOrder.get_by_id(floor["po"].id)
    assert (po.status, po.close_reason) == ("closed_short", "supplier short")
    assert refused(hand, "start", code="PO-001") == ("po_not_receivable", "start")
    # an order closed by the office while a receiver is at it takes no more units
    other = another_receiver(2)
    PurchaseOrder.update(status="partially_received").where(PurchaseOrder.id == po.id).execute()
    step(other, "start", code="PO-001")
    PurchaseOrder.update(status="closed_short").where(PurchaseOrder.id == po.id).execute()
    assert refused(other, "scan", code="6900000000021") == ("po_not_receivable", "scan_item")


def test_a_reconnecting_device_returns_to_its_receipt(floor, hand):
    step(hand, "start", code="PO-001")
    step(hand, "scan", code="6900000000021")
    shown = snapshot.build(hand)["receiving"]
    assert shown["state"] == "qty" and shown["lpn"]["sku"] == "MG-01" and shown["receipt"]["po"] == "PO-001"
    assert step(hand, "current").state == "qty"


def test_the_receiving_label_decodes_and_reaches_a_tcp_listener(floor, hand):
    zplkit = pytest.importorskip("zplkit")
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image
    listener = Listener()
    try:
        printing.save_printer("ZD-DOCK1", {"url": f"tcp://127.0.0.1:{listener.port}", "station": "DOCK-1",
                                           "cjk": "raster"}, inventory.system_actor())
        step(hand, "start", code="PO-001")
        step(hand, "scan", code=GS1_TEE)
        step(hand, "label")
        plate = Lpn.get()
        worker = printing.PrintWorker("w-test", lease_s=10,
                                      options={"connect_timeout": 1.0, "send_timeout": 2.0, "read_timeout": 0.3})
        assert worker.run_once() == 1
        for _ in range(50):
            if listener.labels():
                break
            threading.Event().wait(0.05)
        [zpl] = listener.labels()
        assert zpl == PrintJob.get().zpl
        document = zplkit.render(zpl.encode("utf-8"), zplkit.Options(profile="zd621", dpi=203))
        raster = document.labels[0].rasterize()
        image = Image.frombytes("L", (raster.width, raster.height), raster.pixels)
        found = [(r.text, r.symbology_identifier) for r in
                 zxingcpp.read_barcodes(image, formats=(zxingcpp.BarcodeFormat.Code128,),
                                        text_mode=zxingcpp.TextMode.Plain)]
        assert found == [("00" + plate.sscc, "]C1")]  # GS1-128: FNC1 first, AI 00
        assert "L2406A" in zpl and "2027-06-30" in zpl
    finally:
        listener.close()


# --- two receivers at the same line ---------------------------------------------------------------

def test_two_receivers_at_the_same_line_never_pass_the_tolerance(floor, hand):
    """Two receipts on the same order, each receiver scanning case codes (12) as fast as the
    database takes them: 24 ordered, 10 % tolerance, so at most 26 received, and the ledger says so."""
    other = another_receiver(1)
    step(hand, "start", code="PO-001")
    step(other, "start", code="PO-001")
    start, answers = threading.Barrier(2), {0: [], 1: []}

    def scans(n, principal):
        start.wait()
        for _ in range(4):
            result = RECEIVING.run(principal, "scan", code="16900000000011")
            answers[n].append(result["message"]["code"])
            result = RECEIVING.run(principal, "scan", code="6900000000014")
            answers[n].append(result["message"]["code"])
    threads = [threading.Thread(target=scans, args=(n, p)) for n, p in enumerate((hand, other))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = answers[0] + answers[1]
    assert set(codes) <= {"item_received", "over_receipt"} and "over_receipt" in codes
    received = line(floor["po"], floor["tee"]).received_qty
    assert received == 26  # the tolerance filled exactly: 2 cases and 2 single units, whoever got them
    assert qty_at(floor["tee"], floor["dock"]) == 26
    assert sum(p.qty for p in Lpn.select()) == 26
    assert inventory.audit() == []


def test_two_receipts_finishing_different_lines_at_once_leave_the_order_received(floor):
    """Each transaction counts the last units of its own line, then settles the order. On
    PostgreSQL neither would see the other's line without the order's row lock, and the order
    would stay partially received with nothing left to come."""
    from server.db import database, write_transaction
    from server.services.purchasing.lifecycle import settle, take_receipt
    po, ready = floor["po"], threading.Barrier(2, timeout=2)
    lines = [line(po, floor["tee"]), line(po, floor["mug"])]
    after = []

    def finish(order_line):
        with database.connection_context():
            with write_transaction():
                assert take_receipt(order_line.id, order_line.qty, 0)
                try:
                    ready.wait()  # both lines counted, neither committed (SQLite: the second waits for the lock)
                except threading.BrokenBarrierError:
                    pass
                after.append(settle(po.id))
    threads = [threading.Thread(target=finish, args=(order_line,)) for order_line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(after) == ["partially_received", "received"]
    assert PurchaseOrder.get_by_id(po.id).status == "received"
