"""Packing with carriers that give their own numbers (电子面单): a pool number taken with the last
unit, a Cainiao number fetched for the wave before, and a number not there yet: the packer is
told to scan again while the server asks the carrier, and never sees a made-up number. Both engines."""
from __future__ import annotations

import time

import pytest

from server.models import CarrierAccount, Order, Package, PrintJob, Shop, Waybill
from server.services.connectors import connections
from server.services.packages import waybills
from tests.fakes.cainiao import FakeCainiao
from tests.fakes.top import FakeTop
from tests.scenario_driver import Driver
from tests.test_packing import emulator, floor, picked_order, printer, station  # noqa: F401  (fixtures)

PACKING = Driver("packing")
TEMPLATE = "http://cloudprint.cainiao.com/template/standard/101/123"


@pytest.fixture
def fake_top():
    fake = FakeTop().start()
    yield fake
    fake.stop()


def wave_of(floor, numbers, carrier):
    from server.models import PickLine, PickTask, Wave
    from server.services.stock import inventory
    wh, locs, mug = floor["warehouse"], floor["locations"], floor["mug"]
    wh.province, wh.address = "浙江省", "余杭区文一西路 1500 号"  # the sender on the carrier's request
    wh.save()
    wave = Wave.create(code=f"W-{carrier}", warehouse=wh, strategy="single_unit", status="picked")
    orders = [picked_order(n, [(mug, locs["A-02"], 1)], wave=wave, tote=None, actor=floor["actor"], carrier=carrier)
              for n in numbers]
    bulk = floor["totes"]["T-004"]
    task = PickTask.create(wave=wave, code=f"W-{carrier}-T1", status="done")
    line = PickLine.create(task=task, seq=1, product=mug, location=locs["A-02"], qty=len(orders),
                           picked_qty=len(orders), tote=bulk.code, status="done")
    inventory.move(mug, locs["A-02"], bulk, len(orders), actor=floor["actor"], reserved=len(orders), reason="pick",
                   ref=f"pick:{line.id}")
    return wave, orders


def test_a_pool_number_is_taken_with_the_last_unit_on_the_76_by_130_label(floor, printer, people, tmp_path):
    CarrierAccount.create(carrier="YTO", source="pool")
    pool = tmp_path / "yto.txt"
    pool.write_text("YT0000000101,YT0000000102\n", encoding="utf-8")
    waybills.import_pool("YTO", pool, floor["actor"])
    _, orders = wave_of(floor, ["P1", "P2", "P3"], "YTO")
    packer = station(people)
    for expected in ("YT0000000101", "YT0000000102"):
        state, data, code = PACKING.step(packer, "scan", code="6900000000021")
        assert code == "label_queued"
        parcel = Package.get(Package.order == Order.get(Order.external_id == data["order"]["number"]).id)
        assert parcel.tracking == expected
        assert PrintJob.get_by_id(parcel.label_job_id).template == "waybill_76x130"
        PACKING.step(packer, "weight", grams=440)
        PACKING.step(packer, "ship")
    # the pool is used up: the third parcel is refused, nothing recorded, no number made up
    assert PACKING.refused(packer, "scan", code="6900000000021")[0] == "waybill_pool_empty"
    third = Order.get(Order.external_id == "P3")
    assert third.status == "picked" and Package.get_or_none(Package.order == third.id) is None


def test_a_number_fetched_for_the_wave_and_one_fetched_while_the_packer_waits(floor, printer, people, fake_top):
    Shop.get_or_create(code="tm-shop", defaults={"channel": "tmall"})
    connections.connect("tm-shop", app_key=fake_top.app_key, secret=fake_top.secret, session=fake_top.session,
                        endpoint=fake_top.url)
    CarrierAccount.create(carrier="ZTO", source="cainiao", shop=Shop.get(Shop.code == "tm-shop"),
                          template_url=TEMPLATE)
    cainiao = FakeCainiao(fake_top)
    wave, orders = wave_of(floor, ["C1", "C2"], "ZTO")
    report = waybills.fetch([orders[0]])  # 打单 for the first order only
    assert report["assigned"] == 1, report["failures"]
    first = waybills.assigned(orders[0].id).number
    packer = station(people)
    state, data, code = PACKING.step(packer, "scan", code="6900000000021")
    assert code == "label_queued" and Package.get(Package.order == orders[0].id).tracking == first
    PACKING.step(packer, "weight", grams=440)
    PACKING.step(packer, "ship")

    # the second has no number yet: the packer is told to scan again, and the server asks Cainiao
    fake_top.slow_s = 0.2
    assert PACKING.refused(packer, "scan", code="6900000000021")[0] == "waybill_pending"
    assert Package.get_or_none(Package.order == orders[1].id) is None
    deadline = time.monotonic() + 10
    while waybills.assigned(orders[1].id) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    state, data, code = PACKING.step(packer, "scan", code="6900000000021")
    second = Package.get(Package.order == orders[1].id).tracking
    assert code == "label_queued" and second == waybills.assigned(orders[1].id).number
    assert second in cainiao.issued and second != first
    assert Waybill.select().where(Waybill.state == "assigned").count() == 2


def test_a_failing_carrier_keeps_the_parcel_at_the_station_with_its_reason(floor, printer, people, fake_top):
    Shop.get_or_create(code="tm-shop", defaults={"channel": "tmall"})
    connections.connect("tm-shop", app_key=fake_top.app_key, secret=fake_top.secret, session=fake_top.session,
                        endpoint=fake_top.url)
    CarrierAccount.create(carrier="ZTO", source="cainiao", shop=Shop.get(Shop.code == "tm-shop"),
                          template_url=TEMPLATE)
    cainiao = FakeCainiao(fake_top)
    cainiao.refuse_receivers.add("张三")  # the receiver of the test floor's orders
    _, orders = wave_of(floor, ["F1"], "ZTO")
    report = waybills.fetch(orders)
    assert report["failed"] == 1 and waybills.assigned(orders[0].id) is None
    packer = station(people)
    code, _ = PACKING.refused(packer, "scan", code="6900000000021")
    assert code == "waybill_pending"
    refusal = PACKING.run(packer, "scan", code="6900000000021")
    told = refusal["data"][refusal["next_state"]]["refused"]
    assert told["carrier"] == "ZTO" and "收件地址不可达" in told["reason"]
    assert Package.get_or_none(Package.order == orders[0].id) is None
