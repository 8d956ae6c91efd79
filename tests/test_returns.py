"""The returns bench (退货入库) on both engines: a parcel opened by its return tracking number,
our own tracking number or the order number; units scanned and given a condition; the ledger
lines with their reasons and actors; a unit scanned twice (or at two benches at once) restocks
once; an unknown parcel (无头件) received and matched later; return rates per SKU."""
from __future__ import annotations

import datetime as dt

import pytest

from server.models import (Device, Location, Order, OrderLine, Package, Quant, Refund, ReturnParcel, ReturnUnit,
                           StockMove)
from server.services.auth import Principal
from server.services.errors import Refused
import server.services.scenarios  # noqa: F401  (registers the returns scenario)
from server.services.returns import bench, report
from server.services.stock import inventory
from tests.scenario_driver import Driver

RETURNS = Driver("returns")


@pytest.fixture
def shipped(small_warehouse, people):
    """An order shipped to a buyer: 2 T-shirts and 1 mug, our parcel SF0001, and the buyer's refund
    with the return parcel's tracking number YT9001."""
    wh, tee, mug = small_warehouse["warehouse"], small_warehouse["tee"], small_warehouse["mug"]
    order = Order.create(channel="tmall", shop="S1", external_id="3700000000000001", status="shipped",
                         warehouse=wh, buyer_nick="tb_buyer", receiver_name="林娟", receiver_phone="13812345678")
    OrderLine.create(order=order, external_line_id="L1", sku_code="TS-01", product=tee, qty=2)
    OrderLine.create(order=order, external_line_id="L2", sku_code="MG-01", product=mug, qty=1)
    Package.create(order=order, state="shipped", tracking="SF0001")
    Refund.create(channel="tmall", shop="S1", refund_id="R1", order_external_id=order.external_id, order=order,
                  sku_code="TS-01", refund_fen=5900, state="agreed", goods_returned=True, return_tracking="YT9001")
    return order


def bench_of(people, code="RB-01", role="receiver") -> Principal:
    device, _ = Device.get_or_create(code=code, defaults={"kind": "kiosk"})
    return Principal(people[role], [role], device)


def line_of(order, sku) -> OrderLine:
    """The order's line of a SKU (an order's lines come back in no set order without ORDER BY)."""
    return OrderLine.get((OrderLine.order == order.id) & (OrderLine.sku_code == sku))


def returned(order, sku) -> int:
    return line_of(order, sku).returned_qty


def units_at_returns(state="available") -> int:
    quants = Quant.select().join(Location).where((Location.kind == "returns") & (Quant.state == state))
    return sum(q.qty for q in quants)


def test_a_parcel_by_its_return_tracking_number_units_conditions_and_close(shipped, people, small_warehouse):
    receiver = bench_of(people)
    state, data, code = RETURNS.step(receiver, "scan", code="YT9001")
    assert (state, code) == ("scan_unit", "return_opened")
    parcel = data["parcel"]
    assert parcel["order"]["external_id"] == "3700000000000001" and parcel["tracking"] == "YT9001"
    assert [(l["sku"], l["qty"], l["returned"]) for l in parcel["lines"]] == [("TS-01", 2, 0), ("MG-01", 1, 0)]

    state, data, code = RETURNS.step(receiver, "scan", code="6900000000014")
    assert (state, code, data["item"]["sku"]) == ("condition", "choose_condition", "TS-01")
    assert returned(shipped, "TS-01") == 0  # nothing is written before the condition is chosen
    state, data, code = RETURNS.step(receiver, "condition", code="6900000000014", condition="restock")
    assert (state, code) == ("scan_unit", "unit_returned")
    RETURNS.step(receiver, "scan", code="6900000000014")
    RETURNS.step(receiver, "condition", code="6900000000014", condition="damaged")
    RETURNS.step(receiver, "scan", code="MG-01")
    state, data, _ = RETURNS.step(receiver, "condition", code="MG-01", condition="scrap")
    assert [(l["sku"], l["returned"]) for l in data["parcel"]["lines"]] == [("TS-01", 2), ("MG-01", 1)]
    assert [(u["sku"], u["condition"]) for u in data["parcel"]["units"]] == \
        [("TS-01", "restock"), ("TS-01", "damaged"), ("MG-01", "scrap")]

    assert RETURNS.refused(receiver, "scan", code="6900000000014") == ("already_returned", "scan_unit")
    assert RETURNS.refused(receiver, "scan", code="NOPE-123") == ("unknown_barcode", "scan_unit")
    assert RETURNS.refused(receiver, "condition", code="MG-01", condition="melted") == ("bad_condition", "scan_unit")

    state, data, code = RETURNS.step(receiver, "close")
    assert (state, code) == ("scan_parcel", "parcel_done")
    assert ReturnParcel.get().status == "done" and ReturnParcel.get().closed_at is not None
    assert (units_at_returns("available"), units_at_returns("damaged")) == (1, 1)  # the scrapped mug left

    code_ = ReturnParcel.get().code
    moves = [(m.product.sku, m.reason, m.to_state, m.from_state, m.qty, m.user_id, m.device_id)
             for m in StockMove.select().where(StockMove.ref == f"return:{code_}").order_by(StockMove.id)]
    device = receiver.device.id
    user = people["receiver"].id
    assert moves == [("TS-01", "return", "available", None, 1, user, device),
                     ("TS-01", "return", "damaged", None, 1, user, device),
                     ("MG-01", "return", "damaged", None, 1, user, device),
                     ("MG-01", "scrap", None, "damaged", 1, user, device)]
    assert inventory.audit() == []
    history = [e.action for e in shipped.events.order_by("id")]
    assert history == ["return_opened", "return_closed"]


def test_opened_by_our_tracking_number_or_the_order_number_and_resumed(shipped, people):
    receiver = bench_of(people)
    state, data, _ = RETURNS.step(receiver, "scan", code="SF0001")
    assert data["parcel"]["order"]["external_id"] == "3700000000000001"
    RETURNS.step(receiver, "close")
    state, data, _ = RETURNS.step(receiver, "scan", code="3700000000000001")
    assert state == "scan_unit" and data["parcel"]["tracking"] == ""
    again = RETURNS.step(bench_of(people), "current")
    assert again.data["parcel"]["code"] == data["parcel"]["code"]
    assert ReturnParcel.select().count() == 2


def test_a_unit_not_on_the_order_is_refused_and_nothing_is_written(shipped, people, small_warehouse):
    from server.models import Product, Barcode
    sock = Product.create(sku="SK-01", name="袜子")
    Barcode.create(code="6900000000045", product=sock)
    receiver = bench_of(people)
    RETURNS.step(receiver, "scan", code="YT9001")
    assert RETURNS.refused(receiver, "scan", code="6900000000045") == ("not_on_order", "scan_unit")
    assert RETURNS.refused(receiver, "condition", code="6900000000045", condition="restock") == \
        ("not_on_order", "scan_unit")
    assert ReturnUnit.select().count() == 0 and StockMove.select().count() == 0


def test_nothing_open_and_unknown_codes(shipped, people):
    receiver = bench_of(people)
    assert RETURNS.refused(receiver, "condition", code="MG-01", condition="restock") == \
        ("no_open_parcel", "scan_parcel")
    assert RETURNS.refused(receiver, "close") == ("no_open_parcel", "scan_parcel")
    assert RETURNS.refused(receiver, "scan", code="ZZ-NOTHING") == ("return_not_found", "scan_parcel")
    desk = Principal(people["receiver"], ["receiver"], None)
    assert RETURNS.refused(desk, "scan", code="YT9001") == ("no_bench", "error")
    picker = Principal(people["picker"], ["picker"], Device.create(code="HH-9"))
    assert RETURNS.refused(picker, "scan", code="YT9001") == ("forbidden", "error")


def test_a_return_scanned_twice_restocks_once(shipped, people):
    receiver = bench_of(people)
    RETURNS.step(receiver, "scan", code="YT9001")
    RETURNS.step(receiver, "scan", code="MG-01")
    first = RETURNS.run(receiver, "condition", key="return-mug-0001", code="MG-01", condition="restock")
    replay = RETURNS.run(receiver, "condition", key="return-mug-0001", code="MG-01", condition="restock")
    assert first == replay and first["ok"]
    assert RETURNS.refused(receiver, "condition", code="MG-01", condition="restock") == \
        ("already_returned", "scan_unit")
    assert returned(shipped, "MG-01") == 1 and units_at_returns() == 1
    assert StockMove.select().where(StockMove.reason == "return").count() == 1
    assert inventory.audit() == []


def test_two_benches_scan_the_last_unit_at_once(shipped, people):
    benches = [bench_of(people, "RB-01"), bench_of(people, "RB-02", role="supervisor")]
    for principal in benches:
        RETURNS.step(principal, "scan", code="YT9001")  # each bench its own parcel of the order
    assert ReturnParcel.select().count() == 2
    results = RETURNS.at_the_same_moment(benches, "condition", code="MG-01", condition="restock")
    codes = sorted(r["message"]["code"] for r in results)
    assert codes == ["already_returned", "unit_returned"], results
    assert returned(shipped, "MG-01") == 1 and units_at_returns() == 1
    assert ReturnUnit.select().count() == 1
    assert inventory.audit() == []


def test_restock_goes_to_qc_when_the_setting_asks(shipped, people):
    receiver = bench_of(people)
    parcel = bench.open_parcel("YT9001", actor=inventory.Actor(people["receiver"].id, receiver.device.id))
    bench.receive_unit(parcel, line_of(shipped, "TS-01").product_id, "restock", qc=True,
                       actor=inventory.Actor(people["receiver"].id, receiver.device.id))
    assert (units_at_returns("qc_pending"), units_at_returns("available")) == (1, 0)
    assert inventory.audit() == []


def test_an_unknown_parcel_is_kept_received_and_matched_later(shipped, people):
    receiver = bench_of(people)
    assert RETURNS.refused(receiver, "scan", code="ZTO5550001") == ("return_not_found", "scan_parcel")
    state, data, code = RETURNS.step(receiver, "open_unknown", code="ZTO5550001", note="无单号，买家昵称 tb_b…")
    assert (state, code) == ("scan_unit", "unknown_parcel_opened")
    assert data["parcel"]["unknown"] and data["parcel"]["note"].startswith("无单号")
    RETURNS.step(receiver, "scan", code="6900000000014")
    RETURNS.step(receiver, "condition", code="6900000000014", condition="restock")
    RETURNS.step(receiver, "scan", code="6900000000014")
    RETURNS.step(receiver, "condition", code="6900000000014", condition="restock")
    RETURNS.step(receiver, "close")
    parcel = ReturnParcel.get()
    assert parcel.order_id is None and units_at_returns() == 2
    assert [p["code"] for p in bench.unknown_parcels()] == [parcel.code]

    actor = inventory.Actor(people["office"].id)
    other = Order.create(channel="tmall", shop="S1", external_id="3700000000000002", status="shipped")
    OrderLine.create(order=other, external_line_id="X1", sku_code="TS-01",
                     product=line_of(shipped, "TS-01").product_id, qty=1)
    with pytest.raises(Refused) as refused:  # two T-shirts do not fit an order of one: nothing moves
        bench.match(parcel, other, actor=actor)
    assert refused.value.code == "already_returned"
    assert ReturnParcel.get().order_id is None and OrderLine.get(OrderLine.external_line_id == "X1").returned_qty == 0

    bench.match(parcel, shipped, actor=actor)
    assert ReturnParcel.get().order_id == shipped.id and returned(shipped, "TS-01") == 2
    assert {u.line_id for u in ReturnUnit.select()} == {OrderLine.get(OrderLine.external_line_id == "L1").id}
    with pytest.raises(Refused):
        bench.match(ReturnParcel.get(), shipped, actor=actor)
    assert units_at_returns() == 2 and inventory.audit() == []


def test_the_order_search_masks_the_buyer_without_pii(shipped, people):
    masked = bench.search_orders("林娟", pii=False)
    assert [(o["external_id"], o["receiver_name"], o["receiver_phone"]) for o in masked] == \
        [("3700000000000001", "林*", "138****5678")]
    assert bench.search_orders("tb_buyer", pii=True)[0]["receiver_name"] == "林娟"
    receiver = bench_of(people)
    result = RETURNS.run(receiver, "search", text="林娟")
    assert result["message"]["code"] == "orders_found"
    assert result["data"]["scan_parcel"]["found"][0]["receiver_phone"] == "138****5678"  # a receiver has no pii.read
    nobody = RETURNS.run(receiver, "search", text="nobody")
    assert (nobody["message"]["type"], nobody["message"]["code"], nobody["data"]["scan_parcel"]["found"]) == \
        ("warning", "no_orders_found", [])


def test_return_rate_per_sku(shipped, people, small_warehouse):
    tee, mug, loc = small_warehouse["tee"], small_warehouse["mug"], small_warehouse["locations"]["A-01"]
    actor = inventory.Actor(people["packer"].id)
    inventory.receive(tee, loc, 10, actor=actor)
    inventory.receive(mug, loc, 4, actor=actor)
    inventory.issue(tee, loc, 8, actor=actor, reason="ship")
    inventory.issue(mug, loc, 4, actor=actor, reason="ship")
    receiver = bench_of(people)
    RETURNS.step(receiver, "scan", code="YT9001")
    RETURNS.step(receiver, "condition", code="6900000000014", condition="restock")
    RETURNS.step(receiver, "condition", code="6900000000021", condition="damaged")
    today = dt.datetime.now(dt.timezone.utc).date()
    rows = {r["sku"]: r for r in report.return_rates(today, today)}
    assert (rows["TS-01"]["shipped"], rows["TS-01"]["returned"], rows["TS-01"]["rate_per_mille"]) == (8, 1, 125)
    assert (rows["MG-01"]["returned"], rows["MG-01"]["rate"], rows["MG-01"]["by_condition"]) == \
        (1, "25.0%", {"damaged": 1})
    assert report.return_rates(today - dt.timedelta(days=9), today - dt.timedelta(days=1)) == []


def test_the_api(client, token_for, shipped, people):
    office = {"Authorization": f"Bearer {token_for('office')}"}
    picker = {"Authorization": f"Bearer {token_for('picker')}"}
    body = ('{"refund_get_response": {"refund": {"refund_id": "R9", "tid": "3700000000000001", "oid": "L2",'
            ' "refund_fee": "39.00", "status": "SUCCESS", "modified": "2026-11-12 10:00:00"}}}').encode()
    assert client.post("/api/v1/refunds?channel=top&shop=S1", data=body, headers=picker).status_code == 403
    answer = client.post("/api/v1/refunds?channel=top&shop=S1", data=body, headers=office)
    assert answer.status_code == 200 and answer.get_json()["created"] == 1, answer.get_json()
    assert OrderLine.get(OrderLine.external_line_id == "L2").refund_fen == 3900
    listed = client.get("/api/v1/refunds?shop=S1", headers=office).get_json()
    assert {r["refund_id"] for r in listed["items"]} == {"R1", "R9"}
    bad = client.post("/api/v1/refunds?channel=top&shop=S1", data=b"{not json", headers=office).get_json()
    assert bad["problems"] and bad["problems"][0].startswith("upload:1: not valid JSON")
    assert client.get("/api/v1/returns/rates", headers=picker).status_code == 403
    assert client.get("/api/v1/returns/rates", headers=office).status_code == 200
    masked = client.get("/api/v1/returns/orders?q=林娟", headers={
        "Authorization": f"Bearer {token_for('receiver')}"}).get_json()["items"]
    assert masked[0]["receiver_name"] == "林*"
    parcel = bench.open_parcel("UNKNOWN-1", actor=inventory.Actor(people["receiver"].id), unknown_ok=True)
    matched = client.post(f"/api/v1/returns/parcels/{parcel.code}/match", json={"order_id": shipped.id},
                          headers=office)
    assert matched.status_code == 200 and matched.get_json()["order"]["id"] == shipped.id
