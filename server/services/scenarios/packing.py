"""The ``packing`` floor scenario (打包/验货): a packer at a kiosk checks every unit of a picked
order, the label prints, the parcel is weighed and scanned out.

A station is the device code the kiosk logged in with; its label printer is the one whose
``station`` is that code. States (the pack page shows one panel each)::

    scan_order ──scan tote | order no. | tracking no.──> verify ──scan each unit──┐
        │   (a unit of a single-unit wave: that order opens, is checked and       │ last unit: label
        │    labelled in one scan)                                                 v queued, picked -> packed
        │                                                                        weigh ──weight in band──> ship
        └<──────────────── ship: units tote -> shipped, packed -> shipped ─────────────────────────┘
    close puts the open order aside (it stays picked or packed); scanning the label's tracking
    number confirms the label; reprint queues the same label again.

    device (kiosk)                            server
      | cmd packing/scan {code: tote|order}     |  the order (picked) opens at this station
      |---------------------------------------->|  open_elsewhere | order_not_ready | already_shipped
      |<----------------------------------------|  verify {order, lines[expected, verified]}
      | cmd packing/scan {code: item}           |  wrong_item | other_order | extra_unit; a case code
      |---------------------------------------->|  counts its pack. Last unit: label enqueued on the
      |<----------------------------------------|  station's printer, order picked -> packed; weigh
      | cmd packing/weight {grams}              |  weight_out_of_band (stays on weigh) | ship
      | cmd packing/scan {code: tracking}       |  label_confirmed (optional)
      | cmd packing/ship                        |  units tote -> shipped location, packed -> shipped
      |<----------------------------------------|  scan_order
      after each commit: station.queue -> station:<code>; packing.progress -> wallboard

Keep these diagrams current with the code. The scenario is one module of about 550 lines:
each step begins with the same guarded update of the order row and answers with the station's
one view, and splitting the steps from them would hide that every change is refused the same way.

Until there is a package table the parcel's facts are order events (all on the order's
history page): ``pack_open``/``pack_close`` (detail: the station), ``pack_unit`` (JSON
``{product, sku, qty}``), ``label`` (``{tracking, carrier, job, station}``), ``label_reprint``
(the new job), ``label_confirmed`` and ``weighed`` (``{grams, expected_g}``). Every change to an
order here starts with a guarded update of the order row, so two stations never both take it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from peewee import fn

from server import events
from server.models import (Order, OrderEvent, OrderLine, PickLine, PickTask, Printer, PrintJob, Product,
                           Warehouse, Wave, WaveOrder)
from server.models.base import utcnow
from server.services import printing
from server.services.auth import Principal, mask_name
from server.services.device import scan, snapshot
from server.services.device.commands import at_station, envelope, scenario
from server.services.errors import Refused
from server.services.orders import lifecycle as orders
from server.services.packages import shipping
from server.services.stock import inventory
from server.services.stock.desk import actor_of
from server.services.waves.wall import AT_PACKING, slot_orders

# The expected weight is the units' catalogue weight plus this allowance for box, filler and
# label; a parcel passes when it is within the band (whichever is wider, percent or grams).
PACKAGING_G = 60
WEIGHT_TOLERANCE_PCT = 10
WEIGHT_TOLERANCE_MIN_G = 30
MAX_WEIGHT_G = 70_000
# Scan-out needs a weight in the band (称重出库): a parcel short of a unit fails here.
WEIGHT_REQUIRED = True

PACK_EVENTS = ("pack_open", "pack_close", "pack_unit", shipping.LABEL_EVENT, "label_reprint", "label_confirmed",
               "weighed")


# --- a parcel, read from its order's events --------------------------------------------------------

@dataclass
class Package:
    order: Order
    station: str | None = None
    verified: dict[int, int] = field(default_factory=dict)
    label: dict | None = None
    job: int | None = None
    confirmed: bool = False
    weight_g: int | None = None


def package(order: Order) -> Package:
    found = Package(order)
    rows = (OrderEvent.select(OrderEvent.action, OrderEvent.detail)
            .where((OrderEvent.order == order.id) & OrderEvent.action.in_(PACK_EVENTS))
            .order_by(OrderEvent.id).tuples())
    for action, detail in rows:
        if action == "pack_open":  # a re-opened parcel is checked and weighed again
            found.station, found.verified, found.weight_g = detail, {}, None
        elif action == "pack_close":
            found.station = None
        elif action == "pack_unit":
            unit = json.loads(detail)
            found.verified[unit["product"]] = found.verified.get(unit["product"], 0) + unit["qty"]
        elif action == shipping.LABEL_EVENT and detail.startswith("{"):
            found.label = json.loads(detail)
            found.job, found.confirmed = found.label.get("job"), False
        elif action == "label_reprint":
            found.job = int(detail)
        elif action == "label_confirmed":
            found.confirmed = True
        elif action == "weighed":
            found.weight_g = json.loads(detail)["grams"]
    return found


def state_of(found: Package) -> str:
    if found.order.status == "picked":
        return "verify"
    if found.order.status == "packed":
        return "ship" if found.weight_g is not None or not WEIGHT_REQUIRED else "weigh"
    return "scan_order"


def current_order(station: str) -> Order | None:
    """The order open at the station: the latest open/close of an order at packing names it."""
    latest = (OrderEvent.select(fn.MAX(OrderEvent.id)).join(Order, on=(OrderEvent.order == Order.id))
              .where(Order.status.in_(AT_PACKING) & OrderEvent.action.in_(("pack_open", "pack_close")))
              .group_by(OrderEvent.order))
    row = (OrderEvent.select(OrderEvent.order).where(OrderEvent.id.in_(latest) & (OrderEvent.action == "pack_open")
                                                     & (OrderEvent.detail == station))
           .order_by(OrderEvent.id.desc()).first())
    return Order.get_by_id(row.order_id) if row is not None else None


def weight_band(expected_g: int | None) -> tuple[int, int] | None:
    if not expected_g:
        return None
    tolerance = max(WEIGHT_TOLERANCE_MIN_G, expected_g * WEIGHT_TOLERANCE_PCT // 100)
    return expected_g - tolerance, expected_g + tolerance


def expected_weight(wanted: dict[int, int], products: dict[int, Product]) -> int | None:
    """Catalogue weight plus packaging; None when a unit has no weight on file (not checked)."""
    if not wanted or any(products[p].weight_g <= 0 for p in wanted):
        return None
    return sum(products[p].weight_g * qty for p, qty in wanted.items()) + PACKAGING_G


def station_printer(station: str) -> Printer | None:
    return (Printer.select().where((Printer.station == station) & (Printer.active == True))  # noqa: E712
            .order_by(Printer.id).first())


# --- what the station shows --------------------------------------------------------------------------

def view(station: str) -> tuple[str, dict]:
    data = {"station": station, "waiting": Order.select().where(Order.status == "picked").count()}
    order = current_order(station)
    if order is None:
        return "scan_order", data
    found = package(order)
    wanted = shipping.expected_units(order)
    products = {p.id: p for p in Product.select().where(Product.id.in_(list(wanted) or [0]))}
    checked = order.status != "picked"
    lines = [{"sku": products[p].sku, "name": products[p].name, "spec": products[p].spec, "unit": products[p].unit,
              "expected": qty, "verified": qty if checked else found.verified.get(p, 0)}
             for p, qty in sorted(wanted.items(), key=lambda item: products[item[0]].sku)]
    expected_g = expected_weight(wanted, products)
    band = weight_band(expected_g)
    data.update(order=order_view(order), lines=lines,
                units={"expected": sum(wanted.values()), "verified": sum(line["verified"] for line in lines)},
                weight={"expected_g": expected_g, "low_g": band[0] if band else None,
                        "high_g": band[1] if band else None, "measured_g": found.weight_g})
    if found.label is not None:
        job_state = PrintJob.select(PrintJob.state).where(PrintJob.id == found.job).scalar()
        the_carrier = shipping.carrier(found.label["carrier"])
        data["label"] = {"tracking": found.label["tracking"], "carrier": the_carrier.code,
                         "carrier_name": the_carrier.name_zh, "job": found.job, "job_state": job_state,
                         "confirmed": found.confirmed}
    return state_of(found), data


def order_view(order: Order) -> dict:
    totes = sorted({code for (code,) in PickLine.select(PickLine.tote)
                    .where((PickLine.order == order.id) & (PickLine.tote != "")).tuples()})
    the_carrier = shipping.carrier_of(order)
    return {"id": order.id, "number": order.external_id, "shop": order.shop, "channel": order.channel,
            "status": order.status, "carrier": the_carrier.code, "carrier_name": the_carrier.name_zh,
            "receiver": mask_name(order.receiver_name), "province": order.receiver_province,
            "city": order.receiver_city, "buyer_message": order.buyer_message, "seller_memo": order.seller_memo,
            "totes": totes}


@snapshot.provider
def packing_snapshot(principal: Principal) -> dict:
    """A reloaded kiosk resumes the parcel open at its station."""
    if not principal.can("floor.packing") or principal.device is None:
        return {}
    state, data = view(principal.device.code)
    return {"packing": {"state": state, **data}}


# --- the scenario -----------------------------------------------------------------------------------

@scenario("packing", permission="floor.packing", reads_only=("current",))
def packing(principal: Principal, action: str, params: dict) -> dict:
    return at_station(principal, action, params, ACTIONS, view, no_station="no_station")


def answer(station: str, code: str, lang, level: str = "info", **extra) -> dict:
    state, data = view(station)
    return envelope(True, state, dict(data, **extra), code=code, lang=lang, level=level)


def do_current(principal, params, lang, station) -> dict:
    return answer(station, "ok", lang)


def do_scan(principal, params, lang, station) -> dict:
    code = str(params.get("code", "")).strip()
    if not code:
        raise Refused("unknown_barcode")
    order = current_order(station)
    if order is not None and order.status == "picked":
        return verify_scan(principal, order, code, lang, station)
    if order is not None:
        found = package(order)
        if found.label is not None and code == found.label["tracking"]:
            return confirm(principal, order, found, lang, station)
    return open_scan(principal, order, code, lang, station, items=True)


def do_open(principal, params, lang, station) -> dict:
    code = str(params.get("code", "")).strip()
    order = current_order(station)
    if order is not None and order.status == "picked":
        if code and order.id in {o.id for o in orders_for_code(code)}:
            return answer(station, "already_open", lang)
        raise Refused("other_order", scanned=code)
    return open_scan(principal, order, code, lang, station, items=False)


def do_confirm_label(principal, params, lang, station) -> dict:
    order = _open_or_refuse(station)
    found = package(order)
    if found.label is None:
        raise Refused("verify_first")
    if str(params.get("code", "")).strip() != found.label["tracking"]:
        raise Refused("wrong_label", scanned=str(params.get("code", ""))[:64])
    return confirm(principal, order, found, lang, station)


def do_weight(principal, params, lang, station) -> dict:
    order = _open_or_refuse(station)
    if order.status == "picked":
        raise Refused("verify_first")
    grams = params.get("grams")
    if isinstance(grams, str) and grams.strip().isdecimal():
        grams = int(grams.strip())
    if not isinstance(grams, int) or isinstance(grams, bool) or not 0 < grams <= MAX_WEIGHT_G:
        raise Refused("invalid_weight", grams=str(grams)[:16])
    wanted = shipping.expected_units(order)
    products = {p.id: p for p in Product.select().where(Product.id.in_(list(wanted) or [0]))}
    expected_g = expected_weight(wanted, products)
    band = weight_band(expected_g)
    if band is not None and not band[0] <= grams <= band[1]:
        raise Refused("weight_out_of_band", grams=grams, expected_g=expected_g, low_g=band[0], high_g=band[1])
    actor = actor_of(principal)
    touch(order)
    orders.record(order, "weighed", json.dumps({"grams": grams, "expected_g": expected_g}), actor)
    return changed(station, order, "weight_ok", lang)


def do_ship(principal, params, lang, station) -> dict:
    """Scan-out (出库): the units leave through the shipped location; the order is shipped and
    can no longer change."""
    order = _open_or_refuse(station)
    found = package(order)
    if order.status == "picked":
        raise Refused("verify_first")
    if WEIGHT_REQUIRED and found.weight_g is None:
        raise Refused("weigh_first")
    try:
        plan = shipping.units_plan(order)
    except shipping.UnitsNotAtPacking as exc:
        raise Refused(exc.code, **exc.params) from None
    touch(order)
    shipping.scan_out(order, plan, actor_of(principal), detail=found.label["tracking"] if found.label else "")
    return changed(station, order, "order_shipped", lang,
                  shipped={"order": order.external_id, "tracking": found.label["tracking"] if found.label else ""})


def do_close(principal, params, lang, station) -> dict:
    """Put the open order aside (挂起): it stays picked or packed, and any station may open it."""
    order = _open_or_refuse(station)
    touch(order)
    orders.record(order, "pack_close", station, actor_of(principal))
    return changed(station, order, "pack_closed", lang)


def do_reprint(principal, params, lang, station) -> dict:
    order = _open_or_refuse(station)
    found = package(order)
    if found.job is None:
        raise Refused("verify_first")
    actor = actor_of(principal)
    touch(order)
    job = printing.reprint(found.job, actor)
    orders.record(order, "label_reprint", str(job.id), actor)
    return changed(station, order, "label_reprinted", lang)


ACTIONS = {"current": do_current, "scan": do_scan, "open": do_open, "confirm_label": do_confirm_label,
           "weight": do_weight, "ship": do_ship, "close": do_close, "reprint": do_reprint}


def _open_or_refuse(station: str) -> Order:
    order = current_order(station)
    if order is None:
        raise Refused("no_open_order")
    return order


# --- steps -------------------------------------------------------------------------------------------

def touch(order: Order) -> None:
    """The first write of every change: a guarded update of the order row. Whoever changed the
    order since it was read (another station) wins, and this change is refused."""
    now = utcnow()
    seen = Order.updated_at.is_null() if order.updated_at is None else (Order.updated_at == order.updated_at)
    rows = (Order.update(updated_at=now)
            .where((Order.id == order.id) & (Order.status == order.status) & seen).execute())
    if rows != 1:
        raise Refused("open_elsewhere", order=order.external_id)
    order.updated_at = now


def open_scan(principal, current: Order | None, code: str, lang, station: str, items: bool) -> dict:
    """At a free station (or one whose parcel is labelled): a code names the next order to pack
    (a tote, a put wall slot's label, a tracking number or an order number), or it is a unit
    of a single-unit wave."""
    found = scan.resolve(code, OPENING_KINDS if items else ORDER_KINDS)
    candidates = orders_named(found) if found is not None else []
    if candidates:
        order = choose(candidates, station)
        if current is not None and order.id == current.id:
            return answer(station, "already_open", lang)
        open_order(principal, order, current, station)
        return changed(station, order, "pack_opened" if order.status == "picked" else "parcel_ready", lang)
    if found is not None and found.kind == "tote":
        raise Refused("nothing_to_pack", scanned=code)
    if found is None or found.kind != "item":
        raise Refused("unknown_barcode", scanned=code[:64])
    if current is not None and found.id in shipping.expected_units(current):
        raise Refused("extra_unit", scanned=code[:64])
    return single_unit(principal, current, found.id, found.per_scan, code, lang, station)


def choose(candidates: list[Order], station: str) -> Order:
    """The first order of a code that this station may open, or the refusal that says why not."""
    busy = None
    for order in candidates:
        if order.status == "picked":
            elsewhere = package(order).station
            if elsewhere in (None, station):
                return order
            busy = order
    for order in candidates:
        if order.status == "packed":
            return order  # labelled: any station may weigh and ship it (a separate scan-out)
    if busy is not None:
        raise Refused("open_elsewhere", order=busy.external_id)
    status = candidates[0].status
    raise Refused({"shipped": "already_shipped", "cancelled": "order_cancelled"}.get(status, "order_not_ready"),
                  order=candidates[0].external_id, status=status)


def open_order(principal, order: Order, current: Order | None, station: str) -> None:
    actor = actor_of(principal)
    touch(order)
    if current is not None:
        touch(current)
        orders.record(current, "pack_close", station, actor)
    orders.record(order, "pack_open", station, actor)


def verify_scan(principal, order: Order, code: str, lang, station: str) -> dict:
    """One unit (or a case) of the open order goes into the parcel after its check."""
    item = scan.item(code)
    if item is None:
        named = orders_for_code(code)
        if any(o.id == order.id for o in named):
            return answer(station, "already_open", lang)
        raise Refused("other_order" if named else "unknown_barcode", scanned=code[:64])
    product_id, per_scan = item.id, item.per_scan
    wanted = shipping.expected_units(order)
    if product_id not in wanted:
        raise Refused("other_order" if in_other_order(order, product_id) else "wrong_item", scanned=code[:64])
    found = package(order)
    have = found.verified.get(product_id, 0)
    if have + per_scan > wanted[product_id]:
        raise Refused("extra_unit", scanned=code[:64], verified=have, expected=wanted[product_id])
    found.verified[product_id] = have + per_scan
    complete = all(found.verified.get(p, 0) >= qty for p, qty in wanted.items())
    printer = station_printer(station) if complete else None
    if complete and printer is None:
        raise Refused("no_printer", station=station)
    actor = actor_of(principal)
    touch(order)
    orders.record(order, "pack_unit", json.dumps({"product": product_id, "sku": Product.get_by_id(product_id).sku,
                                                  "qty": per_scan}), actor)
    if complete:
        label(order, printer, station, actor)
    return changed(station, order, "label_queued" if complete else "unit_verified", lang)


def single_unit(principal, current: Order | None, product_id: int, per_scan: int, code: str, lang,
                station: str) -> dict:
    """A unit of a single-unit wave (一单一件) at a free station: the next order waiting for that
    SKU opens, is checked by this scan and its label prints at once."""
    if per_scan != 1:
        raise Refused("nothing_to_pack", scanned=code[:64])
    waiting = (Order.select().join(WaveOrder, on=(WaveOrder.order == Order.id)).join(Wave)
               .where((Wave.strategy == "single_unit") & (Order.status == "picked")
                      & fn.EXISTS(OrderLine.select(OrderLine.id).where((OrderLine.order == Order.id)
                                                                       & (OrderLine.product == product_id))))
               .order_by(Order.priority.desc(), Order.id).limit(20))
    printer = None
    for order in waiting:
        if shipping.expected_units(order) != {product_id: 1} or package(order).station not in (None, station):
            continue
        printer = printer or station_printer(station)
        if printer is None:
            raise Refused("no_printer", station=station)
        actor = actor_of(principal)
        open_order(principal, order, current, station)
        orders.record(order, "pack_unit", json.dumps({"product": product_id, "sku": Product.get_by_id(product_id).sku,
                                                      "qty": 1}), actor)
        label(order, printer, station, actor)
        return changed(station, order, "label_queued", lang)
    raise Refused("nothing_to_pack", scanned=code[:64])


def confirm(principal, order: Order, found: Package, lang, station: str) -> dict:
    if found.confirmed:
        return answer(station, "label_confirmed", lang)
    touch(order)
    orders.record(order, "label_confirmed", found.label["tracking"], actor_of(principal))
    return changed(station, order, "label_confirmed", lang)


def label(order: Order, printer: Printer, station: str, actor: inventory.Actor) -> None:
    """Every unit checked: picked -> packed, a tracking number, and the label on the station's
    printer, all in the command's transaction (the job prints once it commits)."""
    orders.transition(order, "packed", actor, station)
    the_carrier = shipping.carrier_of(order)
    if not order.carrier:
        Order.update(carrier=the_carrier.code).where(Order.id == order.id).execute()
    event = OrderEvent.create(order=order.id, action=shipping.LABEL_EVENT, detail="{}", user=actor.user_id)
    tracking = shipping.tracking_number(the_carrier.code, event.id)
    job = printing.enqueue(printer.code, "shipping", label_data(order, the_carrier, tracking),
                           ref=order.external_id, actor=actor)
    OrderEvent.update(detail=json.dumps({"tracking": tracking, "carrier": the_carrier.code, "job": job.id,
                                         "station": station})).where(OrderEvent.id == event.id).execute()


def label_data(order: Order, the_carrier: shipping.Carrier, tracking: str) -> dict:
    """The ``shipping`` template's data; the label masks the receiver's phone (隐私面单)."""
    warehouse = Warehouse.get_or_none(Warehouse.id == order.warehouse_id) if order.warehouse_id else None
    wanted = shipping.expected_units(order)
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


# --- what a scanned code names ---------------------------------------------------------------------

#: the kinds of code that name an order at packing (DESIGN section 10's order), and a unit
ORDER_KINDS = ("location", "tote", "package", "order")
OPENING_KINDS = ("location", "tote", "package", "item", "order")


def orders_for_code(code: str) -> list[Order]:
    """The orders a tote, a put wall slot, a tracking number or an order number names."""
    found = scan.resolve(code, ORDER_KINDS)
    return orders_named(found) if found is not None else []


def orders_named(found: scan.Scanned) -> list[Order]:
    """The orders a resolved code names, picked orders first: a tote's, a put wall slot's (its
    label), a packed parcel's (its tracking number) or an order number's (a merged order's
    number names the order it was merged into)."""
    if found.kind == "tote":
        return tote_orders(found.code)
    if found.kind == "location":
        return slot_orders(found.id) if found.location_kind == "pack" else []
    if found.kind == "package":
        return list(Order.select().where(Order.id == found.id))
    if found.kind != "order":
        return []
    named = list(Order.select().where(Order.external_id == found.code).order_by(Order.id))
    targets = [o.merged_into_id for o in named if o.merged_into_id]
    named = [o for o in named if not o.merged_into_id] + list(Order.select().where(Order.id.in_(targets or [0])))
    return sorted(named, key=lambda o: (o.status not in AT_PACKING, o.status != "picked", o.id))


def tote_orders(code: str) -> list[Order]:
    """Orders at packing whose units went into the tote: its own pick lines, or a batch line
    of its wave (a tote of many orders of one SKU)."""
    own = PickLine.select(PickLine.order).where((PickLine.tote == code) & PickLine.order.is_null(False))
    batch_waves = (PickTask.select(PickTask.wave).join(PickLine)
                   .where((PickLine.tote == code) & PickLine.order.is_null()))
    in_batch = WaveOrder.select(WaveOrder.order).where(WaveOrder.wave.in_(batch_waves))
    return list(Order.select().where(Order.status.in_(AT_PACKING) & (Order.id.in_(own) | Order.id.in_(in_batch)))
                .order_by(Order.priority.desc(), Order.id))


def in_other_order(order: Order, product_id: int) -> bool:
    """Whether a unit that is not this order's belongs to another order waiting at packing."""
    return (OrderLine.select().join(Order)
            .where((OrderLine.product == product_id) & (Order.status == "picked") & (Order.id != order.id))
            .exists())


# --- events ------------------------------------------------------------------------------------------

def changed(station: str, order: Order, code: str, lang, **extra) -> dict:
    """The answer to a change; after commit the station's screen(s) get its state and the wall
    screen the wave's counts."""
    state, data = view(station)
    events.publish("station.queue", {"station": station, "state": state, **data}, rooms=[f"station:{station}"])
    events.publish("packing.progress", progress(order), rooms=["wallboard"])
    return envelope(True, state, dict(data, **extra), code=code, lang=lang)


def progress(order: Order) -> dict:
    """Packed and shipped counts of the order's wave (or of the orders at packing without one)."""
    wave = (Wave.select(Wave.id, Wave.code).join(WaveOrder).where(WaveOrder.order == order.id).first())
    query = Order.select(Order.status, fn.COUNT(Order.id)).group_by(Order.status)
    if wave is not None:
        query = query.join(WaveOrder, on=(WaveOrder.order == Order.id)).where(WaveOrder.wave == wave.id)
    counts = dict(query.tuples()) if wave is not None else {}
    return {"wave": wave.id if wave else None, "code": wave.code if wave else None, "order": order.id,
            "status": Order.select(Order.status).where(Order.id == order.id).scalar(),
            "orders": sum(counts.values()), "picked": counts.get("picked", 0), "packed": counts.get("packed", 0),
            "shipped": counts.get("shipped", 0),
            "waiting": Order.select().where(Order.status == "picked").count()}
