"""Electronic waybills on both engines: where a carrier's numbers come from (its CarrierAccount),
number pools taken by a guarded update, a wave's numbers fetched from the fake Cainiao and SF
services outside any transaction, failures left without a number and with their reason,
cancellation through the outbox, and the label carrying the number the carrier gave."""
from __future__ import annotations

import threading

import pytest

from server import jsontext
from server.connectors.errors import Unreachable
from server.db import database, write_transaction
from server.models import (AuditLog, CarrierAccount, ChannelCall, Order, OrderEvent, OrderLine, Shop, Wave,
                           WaveOrder, Waybill)
from server.services.connectors import connections, credentials
from server.services.errors import NotFound
from server.services.packages import waybills
from server.services.stock.inventory import Actor
from tests.fakes.cainiao import FakeCainiao
from tests.fakes.sf import FakeSf
from tests.fakes.top import FakeTop

TEMPLATE_URL = "http://cloudprint.cainiao.com/template/standard/101/1"


@pytest.fixture
def site(small_warehouse, people):
    warehouse = small_warehouse["warehouse"]
    warehouse.province, warehouse.address = "浙江省", "余杭区文一西路 1500 号"
    warehouse.save()
    shop = Shop.create(code="TM-1", channel="tmall", name="天猫旗舰店")
    return {"warehouse": warehouse, "shop": shop, "actor": Actor(people["packer"].id)}


@pytest.fixture
def fake_top():
    fake = FakeTop().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_sf():
    fake = FakeSf().start()
    yield fake
    fake.stop()


def cainiao_account(site, fake_top, carrier: str = "ZTO") -> FakeCainiao:
    """A Cainiao account: the carrier's numbers through the Tmall shop's TOP session (the fake)."""
    connections.connect("TM-1", app_key=fake_top.app_key, secret=fake_top.secret, session=fake_top.session,
                        endpoint=fake_top.url)
    CarrierAccount.create(carrier=carrier, source="cainiao", shop=site["shop"], template_url=TEMPLATE_URL)
    return FakeCainiao(fake_top)


def sf_account(fake_sf) -> None:
    CarrierAccount.create(carrier="SF", source="sf", endpoint=fake_sf.url, partner=fake_sf.partner_id,
                          secret=credentials.seal(fake_sf.checkword), account="7551234567")


def make_orders(site, n: int, carrier: str, names=None, status: str = "waved", start: int = 1) -> list[Order]:
    names = names or {}
    rows = [{"channel": "tmall", "shop": "TM-1", "external_id": f"TM{start + i:08d}", "status": status,
             "carrier": carrier, "warehouse": site["warehouse"].id, "receiver_name": names.get(i, f"收件人{i}"),
             "receiver_phone": "13800138000", "receiver_province": "广东省", "receiver_city": "深圳市",
             "receiver_district": "南山区", "receiver_address": f"科技园 {i} 号"} for i in range(n)]
    with write_transaction():
        Order.insert_many(rows).execute()
        orders = list(Order.select().where(Order.external_id.in_([r["external_id"] for r in rows])).order_by(Order.id))
        OrderLine.insert_many([{"order": o.id, "external_line_id": "1", "sku_code": "TS-01", "title": "纯棉T恤",
                                "qty": 2} for o in orders]).execute()
    return orders


def make_wave(site, orders, code="W-1") -> Wave:
    with write_transaction():
        wave = Wave.create(code=code, warehouse=site["warehouse"], strategy="cluster", status="released")
        WaveOrder.insert_many([{"wave": wave.id, "order": o.id} for o in orders]).execute()
    return wave


def events(order, action) -> list[str]:
    return [e.detail for e in OrderEvent.select().where((OrderEvent.order == order.id) & (OrderEvent.action == action))]


# --- where numbers come from -------------------------------------------------------------------

def test_a_carrier_without_an_account_keeps_local_numbers(site):
    orders = make_orders(site, 3, "DEPPON")
    assert waybills.source_of("DEPPON") == "local"
    report = waybills.fetch(orders)
    assert (report["asked"], report["assigned"], report["skipped"], report["failed"]) == (3, 0, 3, 0)
    assert Waybill.select().count() == 0


def test_fetch_refuses_to_run_inside_a_transaction(site):
    orders = make_orders(site, 1, "ZTO")
    with pytest.raises(RuntimeError, match="inside a transaction"):
        with write_transaction():
            waybills.fetch(orders)


# --- number pools ------------------------------------------------------------------------------

def test_pool_file_is_imported_once_and_its_numbers_taken_in_order(site, tmp_path):
    CarrierAccount.create(carrier="YTO", source="pool")
    path = tmp_path / "yto.txt"
    path.write_text("YT0000000001,YT0000000005\nYT0000000003\nbad number\n", encoding="utf-8")
    report = waybills.import_pool("yto", path, site["actor"])
    assert (report["added"], report["duplicates"]) == (5, 0)
    assert report["problems"] == ["yto.txt:2: YT0000000003 is also on line 1",
                                  "yto.txt:3: 'bad number' is not a waybill number (6 to 40 letters and digits)"]
    again = waybills.import_pool("YTO", path, site["actor"])
    assert (again["added"], again["duplicates"]) == (0, 5)
    assert AuditLog.select().where(AuditLog.action == "waybill.pool_import").count() == 2

    orders = make_orders(site, 6, "YTO")
    with write_transaction():
        first = waybills.take_from_pool(orders[0])
    assert (first.number, first.state, first.order_id) == ("YT0000000001", "assigned", orders[0].id)
    with write_transaction():
        assert waybills.take_from_pool(orders[0]).id == first.id      # the order's own, not another
    report = waybills.fetch(orders)
    assert (report["assigned"], report["skipped"], report["failed"]) == (4, 1, 1)
    assert report["failures"][0]["order_id"] == orders[5].id and report["failures"][0]["error"] == "pool_empty"
    assert waybills.assigned(orders[5].id) is None
    assert events(orders[5], "waybill_failed") == ["YTO: no free YTO waybill numbers"]
    assert waybills.pool_counts("YTO") == {"free": 0, "assigned": 5, "cancelled": 0}
    with pytest.raises(waybills.PoolEmpty):
        waybills.take_from_pool(orders[5])


def test_two_stations_never_get_the_same_pool_number(site, tmp_path):
    path = tmp_path / "zto.txt"
    path.write_text("78900000000001,78900000000040\n", encoding="utf-8")
    CarrierAccount.create(carrier="ZTO", source="pool")
    waybills.import_pool("ZTO", path, site["actor"])
    orders = make_orders(site, 40, "ZTO")
    gate = threading.Barrier(4)
    taken, errors = [], []

    def station(mine):
        try:
            with database.connection_context():
                gate.wait()
                for order in mine:
                    with write_transaction():
                        taken.append((order.id, waybills.take_from_pool(order).number))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=station, args=(orders[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(taken) == 40 and len({number for _, number in taken}) == 40
    assert dict(Waybill.select(Waybill.order, Waybill.number).where(Waybill.state == "assigned").tuples()) == dict(taken)


# --- Cainiao -------------------------------------------------------------------------------------

def test_a_wave_gets_its_numbers_from_cainiao_and_a_refused_address_gets_a_reason(site, fake_top):
    fake = cainiao_account(site, fake_top)
    orders = make_orders(site, 25, "ZTO", names={13: "李四"})
    wave = make_wave(site, orders)
    fake.refuse_receivers.add("李四")

    report = waybills.fetch_for_wave(wave.id, concurrency=4)
    assert (report["asked"], report["assigned"], report["failed"]) == (25, 24, 1)
    failure = report["failures"][0]
    assert (failure["order_id"], failure["error"]) == (orders[13].id, "Refused")
    assert "收件地址不可达" in failure["reason"]
    assert waybills.assigned(orders[13].id) is None
    assert any("收件地址不可达" in detail for detail in events(orders[13], "waybill_failed"))
    # its nine neighbours were asked again one by one and got their numbers
    stored = {w.order_id: w for w in Waybill.select().where(Waybill.state == "assigned")}
    assert sorted(stored) == sorted(o.id for o in orders if o.id != orders[13].id)
    assert {w.number for w in stored.values()} == set(fake.numbers())
    assert all(w.source == "cainiao" and w.carrier == "ZTO" and w.sort_code == "深圳 南山" for w in stored.values())
    assert {w.batch for w in stored.values()} == {"wave:W-1"}
    assert events(orders[0], "waybill_assigned") == [f"ZTO {stored[orders[0].id].number}"]
    assert fake_top.calls["cainiao.waybill.ii.get"] == 3 + 10
    # a second run asks only for the order still without a number
    fake.refuse_receivers.clear()
    again = waybills.fetch_for_wave(wave.id)
    assert (again["assigned"], again["skipped"], again["failed"]) == (1, 24, 0)
    assert fake.requests[-1]["trade_order_info_dtos"][0]["object_id"] == str(orders[13].id)


def test_a_refused_session_stops_the_asking_and_no_order_gets_a_number(site, fake_top):
    cainiao_account(site, fake_top)
    orders = make_orders(site, 30, "ZTO")
    fake_top.expire_session()
    report = waybills.fetch(orders, concurrency=1)
    assert (report["assigned"], report["failed"]) == (0, 30)
    assert {f["error"] for f in report["failures"]} == {"SessionInvalid", "not_asked"}
    assert all("invalid-sessionkey" in f["reason"] for f in report["failures"])
    assert fake_top.calls["cainiao.waybill.ii.get"] == 1
    assert Waybill.select().count() == 0


def test_cancel_queues_the_call_and_the_number_goes_back_to_cainiao(site, fake_top):
    fake = cainiao_account(site, fake_top)
    [order] = make_orders(site, 1, "ZTO")
    waybills.fetch([order])
    number = waybills.assigned(order.id).number

    voided = waybills.cancel(order, site["actor"])
    assert (voided.state, voided.number) == ("cancelled", number) and voided.cancelled_at is not None
    call = ChannelCall.get(ChannelCall.kind == "waybill_cancel")
    assert (call.shop_id, call.order_id, call.key) == (site["shop"].id, order.id, f"waybill_cancel:ZTO:{number}")
    assert fake.issued[number]["state"] == "issued"          # nothing sent inside the transaction
    payload = jsontext.loads(call.payload)
    assert payload == {"carrier": "ZTO", "number": number, "source": "cainiao", "order_ref": str(order.id)}
    assert waybills.send_cancel(payload) == "sent"
    assert fake.issued[number]["state"] == "cancelled"
    assert waybills.send_cancel(payload) == "already"
    with pytest.raises(NotFound):
        waybills.cancel(order, site["actor"])
    # the order asks again: a new number, never the cancelled one
    waybills.fetch([Order.get_by_id(order.id)])
    assert waybills.assigned(order.id).number != number


# --- SF --------------------------------------------------------------------------------------------

def test_sf_numbers_and_an_unreachable_sf_leaves_orders_without_numbers(site, fake_sf):
    sf_account(fake_sf)
    orders = make_orders(site, 6, "SF")
    fake_sf.stop()
    report = waybills.fetch(orders)
    assert (report["assigned"], report["failed"]) == (0, 6)
    assert {f["error"] for f in report["failures"]} == {"Unreachable"}
    assert fake_sf.checkword not in str(report)
    assert Waybill.select().count() == 0 and all(events(o, "waybill_failed") for o in orders)

    fake_sf.start()
    report = waybills.fetch(orders, concurrency=3)
    assert (report["assigned"], report["failed"]) == (6, 0)
    stored = waybills.assigned(orders[0].id)
    assert stored.source == "sf" and stored.number == fake_sf.orders[str(orders[0].id)]["number"]
    assert stored.sort_code == "755W-南山-01"

    waybills.cancel(orders[0], site["actor"])
    call = ChannelCall.get(ChannelCall.kind == "waybill_cancel")
    assert call.shop_id == site["shop"].id
    assert waybills.send_cancel(jsontext.loads(call.payload)) == "sent"
    assert fake_sf.orders[str(orders[0].id)]["state"] == "cancelled"
    assert waybills.send_cancel(jsontext.loads(call.payload)) == "already"
    fake_sf.stop()
    with pytest.raises(Unreachable):     # the outbox tries again later
        waybills.send_cancel(jsontext.loads(call.payload))


# --- the label -----------------------------------------------------------------------------------

def test_the_label_carries_the_number_the_carrier_gave(site, fake_top):
    zplkit = pytest.importorskip("zplkit")
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    from printers.labels import TEMPLATES, render_label
    cainiao_account(site, fake_top)
    [order] = make_orders(site, 1, "ZTO")
    assert waybills.label_data(order) is None
    waybills.fetch([order])
    data = waybills.label_data(order)
    number = waybills.assigned(order.id).number
    assert (data["tracking_number"], data["sort_code"]) == (number, "深圳 南山")
    template = TEMPLATES[waybills.LABEL_TEMPLATE]
    zpl = render_label(waybills.LABEL_TEMPLATE, data, template.profile(cjk="raster"))
    raster = zplkit.render(zpl.encode("utf-8"), zplkit.Options(profile="zd621", dpi=203)).labels[0].rasterize()
    image = Image.frombytes("L", (raster.width, raster.height), raster.pixels)
    assert [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)] == [number]


def test_requests_go_out_at_most_concurrency_at_a_time():
    lock, running, most = threading.Lock(), [0], [0]

    def work(job):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        threading.Event().wait(0.02)
        with lock:
            running[0] -= 1
        return job

    assert sorted(waybills._bounded(work, list(range(40)), 5)) == list(range(40))
    assert most[0] == 5
