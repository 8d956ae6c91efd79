"""The control room's goods-in panel, server side: GET /api/v1/floor/goods-in lists the open
receipts (order, supplier, receiver, units received of ordered) and counts the plates waiting for
QC and for putaway; putaway.waiting reaches the control room's socket (the wallboard room); the
page carries the panel in both languages. Both engines."""
from __future__ import annotations

import datetime as dt

from server import events
from server.models import Device, Lpn
from server.services.receiving import putaway, quality, receipts
from server.services.stock import inventory
from tests.receiving_floor import goods_in


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def read(client, token):
    response = client.get("/api/v1/floor/goods-in", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_goods_in_follows_a_receipt_through_qc_to_putaway(client, token_for, people, small_warehouse):
    token = token_for("supervisor")
    assert read(client, token) == {"receipts": [], "warehouses": [], "qc_waiting": 0, "putaway_waiting": 0}

    floor = goods_in(small_warehouse, qc_plan="sample")            # 24 tees + 10 mugs ordered
    actor = inventory.Actor(people["receiver"].id, Device.create(code="HH-R1", kind="handheld").id)
    receipt = receipts.open_receipt("PO-001", actor)
    receipts.receive(receipt, floor["tee"].id, 20, actor, lot="L1", expiry=dt.date(2027, 1, 31))
    shown = read(client, token)
    [row] = shown["receipts"]
    assert {k: row[k] for k in ("receipt", "po", "status", "supplier", "supplier_name", "receiver", "receiver_name",
                                "warehouse", "units_received", "units_ordered", "lines_ordered",
                                "lines_received")} == {
        "receipt": receipt.code, "po": "PO-001", "status": "partially_received", "supplier": "SUP-1",
        "supplier_name": "义乌杯业", "receiver": "u-receiver", "receiver_name": "User receiver", "warehouse": "WH1",
        "units_received": 20, "units_ordered": 34, "lines_ordered": 2, "lines_received": 0}
    assert row["started_at"].endswith("Z")
    assert "13900001111" not in str(shown)                           # no supplier phone here
    assert (shown["qc_waiting"], shown["putaway_waiting"]) == (0, 0)  # the plate is still open

    [plate] = receipts.finish(receipt, actor)                       # closed with its QC plan
    plate = Lpn.get_by_id(plate.id)
    shown = read(client, token)
    assert shown["receipts"] == []
    assert shown["warehouses"] == [{"warehouse": "WH1", "qc_waiting": 1, "putaway_waiting": 0}]
    assert (shown["qc_waiting"], shown["putaway_waiting"]) == (1, 0)

    heard = []
    events.subscribe(listen := lambda event, payload, rooms: heard.append((event, payload, rooms)))
    try:
        view = quality.view(plate)
        for n in range(view["sample_size"]):
            view = quality.record_check(plate.sscc, True, actor=actor)
    finally:
        events.unsubscribe(listen)
    assert view["decision"] == "pass"
    assert [(p["warehouse"], p["waiting"], "wallboard" in r) for e, p, r in heard if e == "putaway.waiting"] == [
        ("WH1", 1, True)]                                            # the control room hears it
    assert read(client, token)["warehouses"] == [{"warehouse": "WH1", "qc_waiting": 0, "putaway_waiting": 1}]

    putaway.take(plate.sscc, people["receiver"].id)                 # in a receiver's hands: no longer waiting
    assert (read(client, token)["qc_waiting"], read(client, token)["putaway_waiting"]) == (0, 0)
    assert inventory.audit() == []


def test_only_the_control_room_reads_goods_in(client, token_for, small_warehouse):
    assert client.get("/api/v1/floor/goods-in").status_code == 401
    for role in ("receiver", "picker", "office"):
        assert client.get("/api/v1/floor/goods-in", headers=bearer(token_for(role))).status_code == 403, role
    assert client.get("/api/v1/floor/goods-in", headers=bearer(token_for("admin"))).status_code == 200


def test_the_control_room_page_has_the_goods_in_panel_in_both_languages(client, people):
    response = client.post("/login", data={"user": "u-supervisor", "password": "secret-pass"})
    assert response.status_code in (302, 303)
    page = client.get("/control", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    for words in ("Goods in", "Plates waiting for QC", "Plates waiting for putaway", "Units received / ordered",
                  'id="goods-in"', "No receipt is open."):
        assert words in page, words
    page = client.get("/control", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    for words in ("<h2>收货</h2>", "待质检托盘/箱", "待上架托盘/箱", "收货员", "已收 / 订购（件）", "目前没有进行中的入库单。"):
        assert words in page, words
