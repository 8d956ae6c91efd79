"""Shipping (发货): carriers and their tracking numbers, the label a parcel carries, the scan-out
that sends a parcel's units out of the building, and the channel's bulk-shipping upload file
(批量发货).

A parcel's facts (carrier, tracking number, label, weight, when it left and when its tracking
number went back to the channel) are its ``Package`` row, written by packages/lifecycle.py.
Orders merged into another (合单) ship with the tracking number of the order that absorbed
them, so every channel order gets one.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from server.db import write_transaction
from server.models import (Location, Order, OrderEvent, OrderLine, Package, PickLine, PickTask, Product, Quant, Shop,
                           StockMove, Warehouse, WaveOrder)
from server.services.connectors import outbox as channel_calls
from server.services.errors import DomainError, NotFound
from server.services.money import lines as line_money
from server.services.orders import lifecycle as orders
from server.services.packages import lifecycle as parcels
from server.services.rulebook import book
from server.services.stock import inventory

EXPORTED_EVENT = "shipment_exported"
SHIPPED_KIND = "shipped"
# where a picked order's units wait for packing: its totes first, then pack benches (put wall)
PACKING_KINDS = ("tote", "pack")


@dataclass(frozen=True)
class Carrier:
    code: str
    name_zh: str
    name_en: str
    prefix: str  # of the tracking numbers made here


CARRIERS: dict[str, Carrier] = {}


def register_carrier(carrier: Carrier) -> Carrier:
    CARRIERS[carrier.code] = carrier
    return carrier


for _carrier in (Carrier("SF", "顺丰速运", "SF Express", "SF"), Carrier("ZTO", "中通快递", "ZTO Express", "ZT"),
                 Carrier("YTO", "圆通速递", "YTO Express", "YT"), Carrier("STO", "申通快递", "STO Express", "ST"),
                 Carrier("YUNDA", "韵达快递", "Yunda Express", "YD"), Carrier("EMS", "中国邮政 EMS", "China Post EMS", "EM"),
                 Carrier("JD", "京东物流", "JD Logistics", "JD"), Carrier("DEPPON", "德邦快递", "Deppon", "DP")):
    register_carrier(_carrier)

DEFAULT_CARRIER = "ZTO"


def carrier(code: str) -> Carrier:
    """A known carrier, or one named by its code (its prefix: the code's first two letters)."""
    code = (code or DEFAULT_CARRIER).strip().upper()
    return CARRIERS.get(code) or Carrier(code, code, code, (code[:2] or "WF").upper())


def carrier_of(order: Order) -> Carrier:
    if order.carrier:
        return carrier(order.carrier)
    try:
        return carrier(book().carriers.default)
    except Exception:  # rules that do not load must not stop a parcel at the bench
        return carrier(DEFAULT_CARRIER)


def tracking_number(carrier_code: str, sequence: int) -> str:
    """The carrier's prefix, a 12-digit sequence and a Luhn check digit (so a mistyped number
    is caught at the scan-out). The sequence must be unique: packing passes the parcel's id,
    which the database hands out once (parcels carried over from before there was a package
    table kept their numbers, and ids above them: migration 0010)."""
    digits = f"{sequence:012d}"
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return f"{carrier(carrier_code).prefix}{digits}{(10 - total % 10) % 10}"


def order_of_tracking(tracking: str) -> int | None:
    """The order whose parcel carries this tracking number, or None."""
    parcel = parcels.by_tracking(tracking)
    return parcel.order_id if parcel is not None else None


def label_data(order: Order, the_carrier: Carrier, tracking: str) -> dict:
    """The ``shipping`` template's data; the label masks the receiver's phone (隐私面单)."""
    warehouse = Warehouse.get_or_none(Warehouse.id == order.warehouse_id) if order.warehouse_id else None
    wanted = expected_units(order)
    skus = dict(Product.select(Product.id, Product.sku).where(Product.id.in_(list(wanted) or [0])).tuples())
    return {
        "carrier": the_carrier.name_zh, "service": "标准快递", "tracking_number": tracking,
        "sort_code": order.receiver_city or order.receiver_province, "order_number": order.external_id,
        "receiver": {"name": order.receiver_name, "phone": order.receiver_phone,
                     "province": order.receiver_province, "city": order.receiver_city,
                     "district": order.receiver_district, "address": order.receiver_address},
        "sender": {"name": warehouse.name if warehouse else "", "phone": "",
                   "province": warehouse.province if warehouse else "", "city": "", "district": "",
                   "address": warehouse.address if warehouse else ""},
        "items": [{"sku": skus[p], "qty": qty} for p, qty in sorted(wanted.items(), key=lambda i: skus[i[0]])],
        "mask_phone": True,
    }


# --- scan-out: units leave through the shipped location -------------------------------------------

class UnitsNotAtPacking(DomainError):
    code = "units_not_at_packing"
    http_status = 409


def expected_units(order: Order) -> dict[int, int]:
    """product id -> units the parcel must hold (ordered, less what was short at picking)."""
    wanted: dict[int, int] = {}
    for product_id, qty, short in (OrderLine.select(OrderLine.product, OrderLine.qty, OrderLine.short_qty)
                                   .where((OrderLine.order == order.id) & OrderLine.product.is_null(False))
                                   .tuples()):
        if qty - short > 0:
            wanted[product_id] = wanted.get(product_id, 0) + qty - short
    return wanted


def packing_locations(order: Order) -> list[int]:
    """Where the order's units may be, most specific first: the put wall slot it was sorted into,
    the totes its own pick lines filled,
    the totes of its wave's batch lines, then the warehouse's pack benches."""
    found: list[int] = []

    def add(codes):
        for (location_id,) in (Location.select(Location.id)
                               .where(Location.code.in_(codes) & Location.kind.in_(PACKING_KINDS))
                               .order_by(Location.code).tuples()):
            if location_id not in found:
                found.append(location_id)
    sorted_into = {code for (code,) in Location.select(Location.code).join(
        StockMove, on=(StockMove.to_location == Location.id))
        .where((StockMove.ref == f"putwall:{order.id}") & (StockMove.reason == "put")).tuples()}
    add(sorted_into)  # its own put wall slot, before the batch tote and the other slots
    own = {code for (code,) in PickLine.select(PickLine.tote)
           .where((PickLine.order == order.id) & (PickLine.tote != "")).tuples()}
    add(own - sorted_into)
    wave = WaveOrder.select(WaveOrder.wave).where(WaveOrder.order == order.id).scalar()
    if wave is not None:
        batch = {code for (code,) in PickLine.select(PickLine.tote).join(PickTask)
                 .where((PickTask.wave == wave) & PickLine.order.is_null() & (PickLine.tote != "")).tuples()}
        add(batch - own)
    if order.warehouse_id is not None:
        for (location_id,) in (Location.select(Location.id)
                               .where((Location.warehouse == order.warehouse_id) & (Location.kind == "pack"))
                               .order_by(Location.code).tuples()):
            if location_id not in found:
                found.append(location_id)
    return found


def units_plan(order: Order) -> list[tuple[int, int, str, int]]:
    """``[(product, location, lot, qty)]`` that takes every unit of the parcel from where it
    waits; raises :class:`UnitsNotAtPacking` when some are not there."""
    wanted = expected_units(order)
    places = packing_locations(order)
    rank = {location_id: n for n, location_id in enumerate(places)}
    plan = []
    rows = (Quant.select(Quant.product, Quant.location, Quant.lot, Quant.qty - Quant.reserved)
            .where(Quant.product.in_(list(wanted) or [0]) & Quant.location.in_(places or [0])
                   & (Quant.state == "available") & (Quant.qty > Quant.reserved)).tuples())
    for product_id, location_id, lot, free in sorted(rows, key=lambda r: (rank[r[1]], r[2])):
        need = wanted.get(product_id, 0)
        take = min(need, free)
        if take > 0:
            plan.append((product_id, location_id, lot, take))
            wanted[product_id] = need - take
    missing = {product_id: qty for product_id, qty in wanted.items() if qty}
    if missing:
        raise UnitsNotAtPacking("some units of the parcel are not at packing", order=order.id,
                                missing=",".join(f"{p}x{q}" for p, q in missing.items()))
    return plan


def shipped_location(warehouse_id: int) -> Location:
    """The warehouse's shipped sink (a location of kind ``shipped``); made once if missing."""
    found = (Location.select().where((Location.warehouse == warehouse_id) & (Location.kind == SHIPPED_KIND))
             .order_by(Location.id).first())
    if found is None:
        code = Warehouse.get_by_id(warehouse_id).code
        found, _ = Location.get_or_create(code=f"{code}-SHIPPED",
                                          defaults={"warehouse": warehouse_id, "kind": SHIPPED_KIND})
    return found


def scan_out(order: Order, parcel: Package, plan, actor: inventory.Actor) -> None:
    """packed -> shipped: the units go from their tote or bench to the shipped location. Their
    reservation was used up when they were picked, so nothing is reserved here."""
    sink = shipped_location(order.warehouse_id or Location.get_by_id(plan[0][1]).warehouse_id)
    for product_id, location_id, lot, qty in plan:
        inventory.move(product_id, location_id, sink.id, qty, actor=actor, lot=lot, reason="ship",
                       ref=f"ship:{order.id}")
    parcels.ship(parcel, actor)
    orders.transition(order, "shipped", actor, parcel.tracking)
    line_money.ship(order.id, sink.warehouse_id)  # the cost of goods sold is fixed at shipment
    # the platform hears of it from the outbox, after this commits (发货回传)
    merged = list(Order.select().where(Order.merged_into == order.id))
    channel_calls.ship_confirmations(order, parcel.tracking, parcel.carrier, merged)


# --- the channel's bulk-shipping file --------------------------------------------------------------

def shipments(shop_code: str, include_exported: bool = False) -> list[dict]:
    """One row per channel order that left the building in a labelled parcel: merged orders
    carry the tracking number of the parcel they went in. Oldest first."""
    shipped = list(Order.select().where((Order.shop == shop_code) & (Order.status == "shipped")).order_by(Order.id))
    if not shipped:
        return []
    ids = [o.id for o in shipped]
    absorbed = list(Order.select().where(Order.merged_into.in_(ids)).order_by(Order.id))
    parcel_of = {p.order_id: p for p in Package.select().where(Package.order.in_(ids) & (Package.tracking != ""))}
    by_id = {o.id: o for o in shipped}
    rows = []
    for order in shipped + absorbed:
        sent = by_id[order.merged_into_id] if order.merged_into_id in by_id else order
        parcel = parcel_of.get(sent.id)
        if parcel is None or (parcel.exported_at is not None and not include_exported):
            continue
        found = carrier(parcel.carrier)
        rows.append({"order_id": order.id, "package_id": parcel.id, "order": order.external_id,
                     "channel": order.channel, "carrier": found.code, "carrier_name": found.name_zh,
                     "tracking_number": parcel.tracking,
                     "shipped_with": sent.external_id if sent.id != order.id else None,
                     "shipped_at": parcel.shipped_at.isoformat() + "Z" if parcel.shipped_at else None})
    return sorted(rows, key=lambda row: (row["shipped_at"] or "", row["order_id"]))


def channel_of(shop_code: str) -> str:
    shop = Shop.get_or_none(Shop.code == shop_code)
    if shop is not None:
        return shop.channel
    channel = Order.select(Order.channel).where(Order.shop == shop_code).limit(1).scalar()
    if channel is None:
        raise NotFound(f"no shop {shop_code!r}", shop=shop_code)
    return channel


def upload_file(shop_code: str, rows: list[dict]) -> tuple[str, str, bytes]:
    """``(file name, media type, bytes)``: Tmall's 批量发货 CSV (订单编号,物流公司,运单号), JSON
    for the other channels."""
    channel = channel_of(shop_code)
    if channel == "tmall":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["订单编号", "物流公司", "运单号"])
        for row in rows:
            writer.writerow([row["order"], row["carrier_name"], row["tracking_number"]])
        return f"{shop_code}-shipments.csv", "text/csv", out.getvalue().encode("utf-8-sig")
    body = {"shop": shop_code, "channel": channel,
            "shipments": [{k: row[k] for k in ("order", "carrier", "carrier_name", "tracking_number",
                                                "shipped_with", "shipped_at")} for row in rows]}
    return f"{shop_code}-shipments.json", "application/json", json.dumps(body, ensure_ascii=False,
                                                                       indent=1).encode("utf-8")


def export(shop_code: str, actor: inventory.Actor, include_exported: bool = False,
           mark: bool = True) -> tuple[str, str, bytes, int]:
    """The upload file for the shop's shipments not yet exported (or all); ``mark`` records
    them as exported so the next file holds only newer ones."""
    with write_transaction():
        rows = shipments(shop_code, include_exported)
        name, media, content = upload_file(shop_code, rows)
        if mark:
            for row in rows:
                OrderEvent.create(order=row["order_id"], action=EXPORTED_EVENT, detail=row["tracking_number"],
                                  user=actor.user_id)
            parcels.mark_exported(sorted({row["package_id"] for row in rows}))
    return name, media, content, len(rows)
