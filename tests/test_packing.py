"""The packing scenario (打包/验货) and shipping (发货): commands through ``commands.execute`` with
real principals, labels printed by a PrintWorker to a TCP printer emulator, stock moved out, and
the channel's bulk-shipping file. Both engines."""
from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from printers.emulator import PrinterEmulator
from server.models import (Barcode, Device, Location, Order, OrderEvent, OrderLine, Package, PackageUnit, PickLine,
                           PickTask, PrintJob, Product, Quant, StockMove, Wave, WaveOrder)
from server.services import printing  # noqa: F401  (registers packing)
from server.services.auth import Principal
from server.services.packages import shipping
from server.services.scenarios import packing
from server.services.stock import inventory
from tests.scenario_driver import Driver

QUICK = {"connect_timeout": 1.0, "send_timeout": 2.0, "read_timeout": 0.3}
RECEIVER = {"receiver_name": "张三", "receiver_phone": "13812345678", "receiver_province": "广东省",
            "receiver_city": "深圳市", "receiver_district": "南山区", "receiver_address": "科技园南区 8 号"}


# --- picked orders waiting at packing (the way picking leaves them) -------------------------------------

def picked_order(external_id, items, *, wave, tote, actor, shop="tm-shop", channel="tmall", **fields) -> Order:
    """An order whose units were picked into ``tote``: reserved, then moved with the reservation
    used up, pick lines naming the tote, status picked. items = [(product, location, qty)]."""
    order = Order.create(channel=channel, shop=shop, external_id=external_id, status="picked",
                         warehouse=wave.warehouse_id, carrier=fields.pop("carrier", "SF"), **RECEIVER, **fields)
    WaveOrder.create(wave=wave, order=order)
    task = PickTask.create(wave=wave, code=f"{wave.code}-{external_id}", status="done")
    for n, (product, location, qty) in enumerate(items, 1):
        line = OrderLine.create(order=order, external_line_id=str(n), sku_code=product.sku, product=product,
                                qty=qty, picked_qty=qty)
        inventory.reserve(product, location, qty, actor=actor, ref=f"order:{order.id}")
        pick = PickLine.create(task=task, seq=n, order=order, order_line=line, product=product, location=location,
                               qty=qty, picked_qty=qty, tote=tote.code if tote else "", status="done")
        if tote is not None:
            inventory.move(product, location, tote, qty, actor=actor, reserved=qty, reason="pick",
                           ref=f"pick:{pick.id}")
    return order


@pytest.fixture
def floor(small_warehouse, people):
    """Order A (2 tees, 1 mug) in tote T-001 and order B (1 cap) in tote T-002, both picked in
    one cluster wave; a cap is an item of B only, a sock of no order at all."""
    wh, locs = small_warehouse["warehouse"], small_warehouse["locations"]
    tee, mug = small_warehouse["tee"], small_warehouse["mug"]
    cap = Product.create(sku="CP-01", name="棒球帽", weight_g=90)
    sock = Product.create(sku="SK-01", name="袜子", weight_g=40)
    Barcode.create(code="6900000000038", product=cap)
    Barcode.create(code="6900000000045", product=sock)
    actor = inventory.Actor(people["receiver"].id)
    for product, location, qty in ((tee, "A-01", 40), (mug, "A-02", 10), (cap, "R-01", 5), (sock, "R-01", 5)):
        inventory.receive(product, locs[location], qty, actor=actor)
    totes = {code: Location.create(warehouse=wh, code=code, kind="tote") for code in ("T-002", "T-003", "T-004")}
    totes["T-001"] = locs["T-001"]
    shipped = Location.create(warehouse=wh, code="WH1-SHIP", kind="shipped")
    wave = Wave.create(code="W1", warehouse=wh, strategy="cluster", status="picked")
    order_a = picked_order("A", [(tee, locs["A-01"], 2), (mug, locs["A-02"], 1)], wave=wave, tote=totes["T-001"],
                           actor=actor)
    order_b = picked_order("B", [(cap, locs["R-01"], 1)], wave=wave, tote=totes["T-002"], actor=actor)
    return dict(small_warehouse, cap=cap, sock=sock, totes=totes, shipped=shipped, wave=wave, order_a=order_a,
                order_b=order_b, actor=actor)


@pytest.fixture
def emulator(tmp_path):
    started = PrinterEmulator("127.0.0.1", 0, str(tmp_path / "printed")).start()
    yield started
    started.stop()


@pytest.fixture
def printer(db, emulator):
    return printing.save_printer("ZD-PK01", {"url": f"tcp://127.0.0.1:{emulator.port}", "station": "PK-01",
                                             "cjk": "raster"}, inventory.system_actor())


def station(people, code="PK-01", role="packer") -> Principal:
    device, _ = Device.get_or_create(code=code, defaults={"kind": "kiosk"})
    return Principal(people[role], [role], device)


@pytest.fixture
def packer(people):
    return station(people)


PACKING = Driver("packing")
run, step, refused = PACKING.run, PACKING.step, PACKING.refused


def qty_at(product, location):
    quant = Quant.get_or_none((Quant.product == product) & (Quant.location == location) & (Quant.state == "available"))
    return (quant.qty, quant.reserved) if quant else (0, 0)


def printed_text(emulator, expected: int = 1) -> list[str]:
    emulator.wait_for_printed(expected)  # the emulator reads the bytes in a thread of its own
    return [Path(path).read_bytes().decode("utf-8") for path in emulator.printed]


# --- the state machine --------------------------------------------------------------------------------

def test_open_by_tote_answers_the_whole_envelope(floor, packer):
    result = run(packer, "scan", code="T-001")
    assert result == {
        "ok": True, "next_state": "verify",
        "data": {"verify": {
            "station": "PK-01", "waiting": 2,
            "order": {"id": floor["order_a"].id, "number": "A", "shop": "tm-shop", "channel": "tmall",
                      "status": "picked", "carrier": "SF", "carrier_name": "顺丰速运", "carrier_name_en": "SF Express",
                      "receiver": "张*",
                      "province": "广东省", "city": "深圳市", "buyer_message": "", "seller_memo": "",
                      "totes": ["T-001"]},
            "lines": [{"sku": "MG-01", "name": "马克杯", "spec": "", "unit": "件", "expected": 1, "verified": 0},
                      {"sku": "TS-01", "name": "纯棉T恤 白 M", "spec": "", "unit": "件", "expected": 2, "verified": 0}],
            "units": {"expected": 3, "verified": 0},
            "weight": {"expected_g": 180 * 2 + 380 + packing.PACKAGING_G, "low_g": 800 - 80, "high_g": 800 + 80,
                       "measured_g": None}}},
        "message": {"type": "info", "code": "pack_opened", "text": "订单已打开，请逐件扫描商品。"}}
    assert run(packer, "current")["next_state"] == "verify"  # a reloaded kiosk resumes it


def test_a_parcel_from_tote_to_shipped(floor, packer, printer, emulator, heard):
    tee, mug, tote, order = floor["tee"], floor["mug"], floor["totes"]["T-001"], floor["order_a"]
    assert step(packer, "scan", code="T-001")[0] == "verify"

    assert refused(packer, "scan", code="6900000000045") == ("wrong_item", "verify")      # a sock: no order's
    assert refused(packer, "scan", code="6900000000038") == ("other_order", "verify")     # order B's cap
    assert refused(packer, "scan", code="T-002") == ("other_order", "verify")             # order B's tote
    assert refused(packer, "scan", code="16900000000011") == ("extra_unit", "verify")     # a case of 12 tees
    assert step(packer, "scan", code="6900000000021")[2] == "unit_verified"
    assert refused(packer, "scan", code="6900000000021") == ("extra_unit", "verify")      # a second mug
    assert refused(packer, "weight", grams=800) == ("verify_first", "verify")
    assert step(packer, "scan", code="TS-01")[2] == "unit_verified"                       # the SKU typed in
    assert PrintJob.select().count() == 0 and Order.get_by_id(order.id).status == "picked"
    assert not [e for e, _, _ in heard if e == "order.changed"]

    state, data, code = step(packer, "scan", code="6900000000014")
    assert (state, code) == ("weigh", "label_queued")
    assert data["units"] == {"expected": 3, "verified": 3} and data["order"]["status"] == "packed"
    tracking = data["label"]["tracking"]
    assert tracking.startswith("SF") and len(tracking) == 15 and data["label"]["confirmed"] is False
    job = PrintJob.get_by_id(data["label"]["job"])
    assert (job.printer.code, job.template, job.ref, job.state) == ("ZD-PK01", "shipping", "A", "queued")
    label = json.loads(job.data)
    assert label["tracking_number"] == tracking and label["mask_phone"] is True
    assert label["receiver"]["phone"] == "13812345678" and label["items"] == [{"sku": "MG-01", "qty": 1},
                                                                              {"sku": "TS-01", "qty": 2}]
    assert "13812345678" not in job.zpl  # the printed label masks the phone (隐私面单)

    assert printing.PrintWorker("w1", lease_s=10, options=QUICK).run_once() == 1
    assert emulator.wait_for_printed(1)
    [zpl] = printed_text(emulator)
    assert tracking in zpl and zpl == job.zpl

    code, state = refused(packer, "weight", grams=950)
    assert (code, state) == ("weight_out_of_band", "weigh")
    assert refused(packer, "ship") == ("weigh_first", "weigh")
    assert refused(packer, "confirm_label", code="SF000000000000") == ("wrong_label", "weigh")
    assert step(packer, "weight", grams="812")[:3:2] == ("ship", "weight_ok")
    assert step(packer, "scan", code=tracking)[1]["label"]["confirmed"] is True

    ship_key = "ship-" + uuid.uuid4().hex
    first = run(packer, "ship", key=ship_key)
    assert first["ok"] and first["next_state"] == "scan_order" and first["message"]["code"] == "order_shipped"
    assert first["data"]["scan_order"]["shipped"] == {"order": "A", "tracking": tracking}
    moves = StockMove.select().where(StockMove.reason == "ship").count()
    assert run(packer, "ship", key=ship_key) == first  # the replay is answered from the store
    assert StockMove.select().where(StockMove.reason == "ship").count() == moves == 2

    assert Order.get_by_id(order.id).status == "shipped"
    assert qty_at(tee, tote) == (0, 0) and qty_at(mug, tote) == (0, 0)
    assert qty_at(tee, floor["shipped"]) == (2, 0) and qty_at(mug, floor["shipped"]) == (1, 0)
    assert inventory.audit() == []
    history = [e.action for e in OrderEvent.select().where(OrderEvent.order == order.id).order_by(OrderEvent.id)]
    assert history == ["pack_open", "pack_unit", "pack_unit", "pack_unit", "packed", "label", "weighed",
                       "label_confirmed", "shipped"]

    # a shipped order can no longer change
    assert refused(packer, "scan", code="A") == ("already_shipped", "scan_order")
    assert refused(packer, "scan", code="T-001") == ("nothing_to_pack", "scan_order")
    assert refused(packer, "weight", grams=800) == ("no_open_order", "scan_order")
    assert refused(packer, "ship") == ("no_open_order", "scan_order")

    queue = [(p["state"], rooms) for e, p, rooms in heard if e == "station.queue"]
    assert queue[0] == ("verify", ("station:PK-01",)) and queue[-1] == ("scan_order", ("station:PK-01",))
    progress = [(p["packed"], p["shipped"], p["orders"]) for e, p, rooms in heard
                if e == "packing.progress" and rooms == ("wallboard",)]
    assert progress[-1] == (0, 1, 2)
    assert (1, 0, 2) in progress
    changes = [(p["from"], p["status"]) for e, p, _ in heard if e == "order.changed"]
    assert changes == [("picked", "packed"), ("packed", "shipped")]


def test_replayed_scans_count_once(floor, packer):
    step(packer, "scan", code="T-001")
    key = "scan-" + uuid.uuid4().hex
    first = run(packer, "scan", key=key, code="6900000000014")
    assert run(packer, "scan", key=key, code="6900000000014") == first
    assert first["data"]["verify"]["units"]["verified"] == 1
    assert run(packer, "current")["data"]["verify"]["units"]["verified"] == 1
    assert OrderEvent.select().where(OrderEvent.action == "pack_unit").count() == 1
    assert [(u.product_id, u.qty) for u in PackageUnit.select()] == [(floor["tee"].id, 1)]


def test_open_by_order_number_and_a_case_counts_its_pack(floor, packer, printer):
    locs = floor["locations"]
    picked_order("C", [(floor["tee"], locs["A-01"], 12)], wave=floor["wave"], tote=floor["totes"]["T-003"],
                 actor=floor["actor"], carrier="")
    state, data, code = step(packer, "scan", code="C")
    assert (state, code, data["order"]["number"]) == ("verify", "pack_opened", "C")
    state, data, code = step(packer, "scan", code="16900000000011")
    assert (state, code, data["units"]) == ("weigh", "label_queued", {"expected": 12, "verified": 12})
    assert data["label"]["carrier"] == "ZTO" and data["label"]["tracking"].startswith("ZT")  # the rules' default
    assert Order.get(Order.external_id == "C").carrier == "ZTO"


def test_a_labelled_parcel_can_be_weighed_and_shipped_at_another_station(floor, packer, printer, people):
    step(packer, "scan", code="T-002")
    tracking = step(packer, "scan", code="6900000000038")[1]["label"]["tracking"]
    assert step(packer, "scan", code="T-001")[0] == "verify"  # the next order; B waits to be scanned out
    scan_out = station(people, "OUT-1", role="supervisor")
    state, data, code = step(scan_out, "scan", code=tracking)
    assert (state, code, data["order"]["number"]) == ("weigh", "parcel_ready", "B")
    step(scan_out, "weight", grams=150)
    assert step(scan_out, "ship")[2] == "order_shipped"
    assert Order.get_by_id(floor["order_b"].id).status == "shipped"
    assert run(packer, "current")["data"]["verify"]["order"]["number"] == "A"


def test_one_order_is_open_at_one_station(floor, packer, people):
    step(packer, "scan", code="T-001")
    other = station(people, "PK-02")
    assert refused(other, "scan", code="T-001") == ("open_elsewhere", "scan_order")
    assert refused(other, "scan", code="A") == ("open_elsewhere", "scan_order")
    assert step(packer, "close")[:3:2] == ("scan_order", "pack_closed")
    assert step(other, "scan", code="A")[0] == "verify"


def test_the_last_unit_needs_a_printer_and_changes_nothing_without_one(floor, packer):
    step(packer, "scan", code="T-002")
    assert refused(packer, "scan", code="6900000000038") == ("no_printer", "verify")
    assert Order.get_by_id(floor["order_b"].id).status == "picked"
    assert OrderEvent.select().where(OrderEvent.action == "pack_unit").count() == 0
    assert [(p.state, p.station, p.tracking) for p in Package.select()] == [("open", "PK-01", "")]
    assert not PackageUnit.select().exists()


def test_orders_not_at_packing_are_refused(floor, packer, people):
    Order.update(status="picking").where(Order.id == floor["order_b"].id).execute()
    assert refused(packer, "scan", code="B") == ("order_not_ready", "scan_order")
    assert refused(packer, "scan", code="nope") == ("unknown_barcode", "scan_order")
    picker = Principal(people["picker"], ["picker"], Device.create(code="HH-1"))
    assert run(picker, "scan", code="A")["message"]["code"] == "forbidden"
    desk = Principal(people["packer"], ["packer"], None)
    assert run(desk, "scan", code="A")["message"]["code"] == "no_station"


def test_single_unit_wave_one_scan_opens_checks_and_labels(floor, packer, printer):
    wh, locs, mug = floor["warehouse"], floor["locations"], floor["mug"]
    wave = Wave.create(code="W2", warehouse=wh, strategy="single_unit", status="picked")
    bulk = floor["totes"]["T-004"]
    first = picked_order("S1", [(mug, locs["A-02"], 1)], wave=wave, tote=None, actor=floor["actor"])
    second = picked_order("S2", [(mug, locs["A-02"], 1)], wave=wave, tote=None, actor=floor["actor"])
    # one bulk pick of both units into one tote (a batch line has no order)
    task = PickTask.create(wave=wave, code="W2-T1", status="done")
    line = PickLine.create(task=task, seq=1, product=mug, location=locs["A-02"], qty=2, picked_qty=2,
                           tote=bulk.code, status="done")
    inventory.move(mug, locs["A-02"], bulk, 2, actor=floor["actor"], reserved=2, reason="pick", ref=f"pick:{line.id}")

    state, data, code = step(packer, "scan", code="6900000000021")
    assert (state, code, data["order"]["number"]) == ("weigh", "label_queued", "S1")
    step(packer, "weight", grams=440)
    step(packer, "ship")
    state, data, code = step(packer, "scan", code="6900000000021")
    assert (state, code, data["order"]["number"]) == ("weigh", "label_queued", "S2")
    step(packer, "weight", grams=440)
    step(packer, "ship")
    assert [Order.get_by_id(o.id).status for o in (first, second)] == ["shipped", "shipped"]
    assert qty_at(mug, bulk) == (0, 0) and qty_at(mug, floor["shipped"]) == (2, 0)
    assert refused(packer, "scan", code="6900000000021") == ("nothing_to_pack", "scan_order")
    assert inventory.audit() == []


def test_a_single_unit_tote_of_several_orders_the_scanned_item_selects_its_order(floor, packer, printer):
    """A bulk tote of a single-unit wave holds a mug for S1 and a tee for S3: the tote opens S1,
    and the tee scanned first selects S3 (checked and labelled) instead of being refused."""
    wh, locs, mug, tee = floor["warehouse"], floor["locations"], floor["mug"], floor["tee"]
    wave = Wave.create(code="W2", warehouse=wh, strategy="single_unit", status="picked")
    bulk = floor["totes"]["T-004"]
    first = picked_order("S1", [(mug, locs["A-02"], 1)], wave=wave, tote=None, actor=floor["actor"])
    third = picked_order("S3", [(tee, locs["A-01"], 1)], wave=wave, tote=None, actor=floor["actor"])
    task = PickTask.create(wave=wave, code="W2-T1", status="done")
    for seq, (product, location) in enumerate(((mug, locs["A-02"]), (tee, locs["A-01"])), 1):
        line = PickLine.create(task=task, seq=seq, product=product, location=location, qty=1, picked_qty=1,
                               tote=bulk.code, status="done")
        inventory.move(product, location, bulk, 1, actor=floor["actor"], reserved=1, reason="pick",
                       ref=f"pick:{line.id}")

    state, data, code = step(packer, "scan", code="T-004")
    assert (state, code, data["order"]["number"]) == ("verify", "pack_opened", "S1")
    state, data, code = step(packer, "scan", code="6900000000014")  # the tee: S3's unit
    assert (state, code, data["order"]["number"]) == ("weigh", "label_queued", "S3")
    assert Order.get_by_id(third.id).status == "packed" and Order.get_by_id(first.id).status == "picked"
    assert parcels_state(first) == "aside"
    step(packer, "weight", grams=240)
    step(packer, "ship")
    state, data, code = step(packer, "scan", code="6900000000021")  # the mug opens S1 again, by itself
    assert (state, code, data["order"]["number"]) == ("weigh", "label_queued", "S1")
    step(packer, "weight", grams=440)
    step(packer, "ship")
    assert inventory.audit() == []


def test_a_unit_of_another_order_is_still_refused_outside_single_unit_waves(floor, packer):
    step(packer, "scan", code="T-001")  # order A of a cluster wave; the cap is order B's
    assert refused(packer, "scan", code="6900000000038") == ("other_order", "verify")


def parcels_state(order) -> str:
    return Package.get(Package.order == order.id).state


def test_a_reprint_is_the_same_label(floor, packer, printer):
    step(packer, "scan", code="T-002")
    data = step(packer, "scan", code="6900000000038")[1]
    state, again, code = step(packer, "reprint")
    assert code == "label_reprinted" and again["label"]["job"] != data["label"]["job"]
    assert again["label"]["tracking"] == data["label"]["tracking"]
    original, reprint = PrintJob.get_by_id(data["label"]["job"]), PrintJob.get_by_id(again["label"]["job"])
    assert reprint.zpl == original.zpl and reprint.reprint_of_id == original.id


# --- the channel's bulk-shipping file -------------------------------------------------------------------

def ship(principal, tote, codes, grams):
    step(principal, "scan", code=tote)
    for code in codes:
        data = step(principal, "scan", code=code)[1]
    step(principal, "weight", grams=grams)
    step(principal, "ship")
    return data["label"]["tracking"]


def test_ship_export_for_a_tmall_shop(floor, packer, printer, people, client, token_for, tmp_path, db_url,
                                      monkeypatch):
    # order M was merged into A (合单) before the wave: it ships in A's parcel
    merged = Order.create(channel="tmall", shop="tm-shop", external_id="M", status="cancelled",
                          merged_into=floor["order_a"], **RECEIVER)
    tracking_a = ship(packer, "T-001", ["6900000000014", "6900000000014", "6900000000021"], 800)
    tracking_b = ship(packer, "T-002", ["6900000000038"], 150)
    assert tracking_a != tracking_b

    monkeypatch.setenv("WAVEFLOOR_DATABASE_URL", db_url)
    monkeypatch.setenv("WAVEFLOOR_INSTANCE_DIR", str(tmp_path / "instance"))
    from server.cli import cli
    out = tmp_path / "tm-shop.csv"
    result = CliRunner().invoke(cli, ["ship", "export", "--shop", "tm-shop", "--out", str(out)])
    assert result.exit_code == 0, result.output
    content = out.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as the channel's upload page and Excel read it
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["订单编号", "物流公司", "运单号"], ["A", "顺丰速运", tracking_a], ["M", "顺丰速运", tracking_a],
                    ["B", "顺丰速运", tracking_b]]
    assert OrderEvent.select().where(OrderEvent.action == "shipment_exported").count() == 3
    assert merged.id in {e.order_id for e in OrderEvent.select().where(OrderEvent.action == "shipment_exported")}

    again = CliRunner().invoke(cli, ["ship", "export", "--shop", "tm-shop", "--out", str(out)])
    assert again.exit_code == 0 and out.read_bytes().decode("utf-8-sig") == "订单编号,物流公司,运单号\r\n"

    headers = {"Authorization": f"Bearer {token_for('office')}"}
    response = client.get("/api/v1/shops/tm-shop/shipments?all=true", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data == content and response.headers["X-Wavefloor-Shipments"] == "3"
    assert client.get("/api/v1/shops/tm-shop/shipments", headers=headers).headers["X-Wavefloor-Shipments"] == "0"
    picker = {"Authorization": f"Bearer {token_for('picker')}"}
    assert client.get("/api/v1/shops/tm-shop/shipments", headers=picker).status_code == 403


def test_ship_export_is_json_for_other_channels(floor, packer, printer, people, client, token_for):
    jd = picked_order("JD-1", [(floor["sock"], floor["locations"]["R-01"], 2)], wave=floor["wave"],
                      tote=floor["totes"]["T-003"], actor=floor["actor"], shop="jd-shop", channel="jd", carrier="JD")
    tracking = ship(packer, "T-003", ["6900000000045", "6900000000045"], 150)
    headers = {"Authorization": f"Bearer {token_for('admin')}"}
    response = client.post("/api/v1/shops/jd-shop/shipments/export", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = json.loads(response.data)
    assert body["channel"] == "jd" and [(s["order"], s["carrier"], s["tracking_number"], s["shipped_with"])
                                        for s in body["shipments"]] == [("JD-1", "JD", tracking, None)]
    assert tracking.startswith("JD") and Order.get_by_id(jd.id).status == "shipped"
    assert json.loads(client.post("/api/v1/shops/jd-shop/shipments/export", headers=headers).data)["shipments"] == []


def test_tracking_numbers_carry_a_check_digit():
    numbers = {shipping.tracking_number("SF", n) for n in range(1, 200)}
    assert len(numbers) == 199
    number = shipping.tracking_number("YTO", 42)
    assert number == "YT0000000000422"
    typo = number[:-2] + str((int(number[-2]) + 1) % 10) + number[-1]
    assert typo not in {shipping.tracking_number("YTO", n) for n in range(1, 1000)}
