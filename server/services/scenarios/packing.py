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
      |---------------------------------------->|  counts its pack (a unit of another order of the
      |                                         |  open order's single-unit wave selects that order
      |                                         |  instead: opened, checked, labelled). Last unit:
      |<----------------------------------------|  label enqueued on the station's printer, order
      |                                         |  picked -> packed; weigh
      | cmd packing/weight {grams}              |  weight_out_of_band (stays on weigh) | ship
      | cmd packing/scan {code: tracking}       |  label_confirmed (optional)
      | cmd packing/ship                        |  units tote -> shipped location, packed -> shipped
      |<----------------------------------------|  scan_order
      after each commit: station.queue -> station:<code>; packing.progress -> wallboard

Keep these diagrams current with the code. The scenario is one module of about 500 lines:
each step begins with the same guarded update of the order row (:func:`touch`, so of two
stations that take the same order the second is refused) and answers with the station's one
view, and splitting the steps from them would hide that every change is refused the same way.

The parcel is a ``Package`` row (models/packages.py: open, aside, labelled, weighed, shipped),
moved only by packages/lifecycle.py, which also writes each step into the order's history.
"""
from __future__ import annotations

from peewee import fn

from server import events
from server.models import Order, OrderLine, Package, PickLine, PickTask, Printer, PrintJob, Product, Wave, WaveOrder
from server.models.base import utcnow
from server.services import printing
from server.services.auth import Principal, mask_name
from server.services.device import scan, snapshot
from server.services.device.commands import at_station, envelope, scenario
from server.services.errors import Refused
from server.services.orders import lifecycle as orders
from server.services.packages import lifecycle as parcels
from server.services.packages import shipping, waybills
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
    parcel = parcels.open_at(station)
    if parcel is None:
        return "scan_order", data
    order = parcel.order
    verified = parcels.verified(parcel) if parcel.state == "open" else None
    wanted = shipping.expected_units(order)
    products = {p.id: p for p in Product.select().where(Product.id.in_(list(wanted) or [0]))}
    lines = [{"sku": products[p].sku, "name": products[p].name, "spec": products[p].spec, "unit": products[p].unit,
              "expected": qty, "verified": qty if verified is None else verified.get(p, 0)}
             for p, qty in sorted(wanted.items(), key=lambda item: products[item[0]].sku)]
    expected_g = expected_weight(wanted, products)
    band = weight_band(expected_g)
    data.update(order=order_view(order), lines=lines,
                units={"expected": sum(wanted.values()), "verified": sum(line["verified"] for line in lines)},
                weight={"expected_g": expected_g, "low_g": band[0] if band else None,
                        "high_g": band[1] if band else None, "measured_g": parcel.weight_g})
    if parcel.tracking:
        job_state = PrintJob.select(PrintJob.state).where(PrintJob.id == parcel.label_job_id).scalar()
        the_carrier = shipping.carrier(parcel.carrier)
        data["label"] = {"tracking": parcel.tracking, "carrier": the_carrier.code,
                         "carrier_name": the_carrier.name_zh, "carrier_name_en": the_carrier.name_en,
                         "job": parcel.label_job_id, "job_state": job_state, "confirmed": parcel.label_confirmed}
    return {"open": "verify", "labelled": "weigh" if WEIGHT_REQUIRED else "ship", "weighed": "ship"}[parcel.state], data


def order_view(order: Order) -> dict:
    totes = sorted({code for (code,) in PickLine.select(PickLine.tote)
                    .where((PickLine.order == order.id) & (PickLine.tote != "")).tuples()})
    the_carrier = shipping.carrier_of(order)
    return {"id": order.id, "number": order.external_id, "shop": order.shop, "channel": order.channel,
            "status": order.status, "carrier": the_carrier.code, "carrier_name": the_carrier.name_zh,
            "carrier_name_en": the_carrier.name_en,
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
    parcel = parcels.open_at(station)
    if parcel is not None and parcel.state == "open":
        return verify_scan(principal, parcel, code, lang, station)
    if parcel is not None and parcel.tracking and code == parcel.tracking:
        return confirm(principal, parcel, lang, station)
    return open_scan(principal, parcel, code, lang, station, items=True)


def do_open(principal, params, lang, station) -> dict:
    code = str(params.get("code", "")).strip()
    parcel = parcels.open_at(station)
    if parcel is not None and parcel.state == "open":
        if code and parcel.order_id in {o.id for o in orders_for_code(code)}:
            return answer(station, "already_open", lang)
        raise Refused("other_order", scanned=code)
    return open_scan(principal, parcel, code, lang, station, items=False)


def do_confirm_label(principal, params, lang, station) -> dict:
    parcel = _open_or_refuse(station)
    if not parcel.tracking:
        raise Refused("verify_first")
    if str(params.get("code", "")).strip() != parcel.tracking:
        raise Refused("wrong_label", scanned=str(params.get("code", ""))[:64])
    return confirm(principal, parcel, lang, station)


def do_weight(principal, params, lang, station) -> dict:
    parcel = _open_or_refuse(station)
    if parcel.state == "open":
        raise Refused("verify_first")
    grams = params.get("grams")
    if isinstance(grams, str) and grams.strip().isdecimal():
        grams = int(grams.strip())
    if not isinstance(grams, int) or isinstance(grams, bool) or not 0 < grams <= MAX_WEIGHT_G:
        raise Refused("invalid_weight", grams=str(grams)[:16])
    order = parcel.order
    wanted = shipping.expected_units(order)
    products = {p.id: p for p in Product.select().where(Product.id.in_(list(wanted) or [0]))}
    expected_g = expected_weight(wanted, products)
    band = weight_band(expected_g)
    if band is not None and not band[0] <= grams <= band[1]:
        raise Refused("weight_out_of_band", grams=grams, expected_g=expected_g, low_g=band[0], high_g=band[1])
    touch(order)
    parcels.weigh(parcel, grams, expected_g, actor_of(principal))
    return changed(station, order, "weight_ok", lang)


def do_ship(principal, params, lang, station) -> dict:
    """Scan-out (出库): the units leave through the shipped location; the order is shipped and
    can no longer change."""
    parcel = _open_or_refuse(station)
    if parcel.state == "open":
        raise Refused("verify_first")
    if WEIGHT_REQUIRED and parcel.state != "weighed":
        raise Refused("weigh_first")
    order = parcel.order
    try:
        plan = shipping.units_plan(order)
    except shipping.UnitsNotAtPacking as exc:
        raise Refused(exc.code, **exc.params) from None
    touch(order)
    shipping.scan_out(order, parcel, plan, actor_of(principal))
    return changed(station, order, "order_shipped", lang,
                   shipped={"order": order.external_id, "tracking": parcel.tracking})


def do_close(principal, params, lang, station) -> dict:
    """Put the open order aside (挂起): it stays picked or packed, and any station may open it."""
    parcel = _open_or_refuse(station)
    touch(parcel.order)
    parcels.put_aside(parcel, station, actor_of(principal))
    return changed(station, parcel.order, "pack_closed", lang)


def do_reprint(principal, params, lang, station) -> dict:
    parcel = _open_or_refuse(station)
    if parcel.label_job_id is None:
        raise Refused("verify_first")
    actor = actor_of(principal)
    touch(parcel.order)
    job = printing.reprint(parcel.label_job_id, actor)
    parcels.reprint(parcel, job.id, actor)
    return changed(station, parcel.order, "label_reprinted", lang)


ACTIONS = {"current": do_current, "scan": do_scan, "open": do_open, "confirm_label": do_confirm_label,
           "weight": do_weight, "ship": do_ship, "close": do_close, "reprint": do_reprint}


def _open_or_refuse(station: str) -> Package:
    parcel = parcels.open_at(station)
    if parcel is None:
        raise Refused("no_open_order")
    return parcel


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


def open_scan(principal, current: Package | None, code: str, lang, station: str, items: bool) -> dict:
    """At a free station (or one whose parcel is labelled): a code names the next order to pack
    (a tote, a put wall slot's label, a tracking number or an order number), or it is a unit
    of a single-unit wave."""
    found = scan.resolve(code, OPENING_KINDS if items else ORDER_KINDS)
    candidates = orders_named(found) if found is not None else []
    if candidates:
        order = choose(candidates, station)
        if current is not None and order.id == current.order_id:
            return answer(station, "already_open", lang)
        open_order(principal, order, current, station)
        return changed(station, order, "pack_opened" if order.status == "picked" else "parcel_ready", lang)
    if found is not None and found.kind == "tote":
        raise Refused("nothing_to_pack", scanned=code)
    if found is None or found.kind != "item":
        raise Refused("unknown_barcode", scanned=code[:64])
    if current is not None and found.id in shipping.expected_units(current.order):
        raise Refused("extra_unit", scanned=code[:64])
    return single_unit(principal, current, found.id, found.per_scan, code, lang, station)


def choose(candidates: list[Order], station: str) -> Order:
    """The first order of a code that this station may open, or the refusal that says why not."""
    busy = None
    for order in candidates:
        if order.status == "picked":
            if parcels.checking_at(order.id) in (None, station):
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


def open_order(principal, order: Order, current: Package | None, station: str) -> Package:
    """The order's parcel opens here; the parcel open here before is put aside."""
    actor = actor_of(principal)
    touch(order)
    if current is not None:
        touch(current.order)
        parcels.put_aside(current, station, actor)
    return parcels.open(order, station, actor)


def verify_scan(principal, parcel: Package, code: str, lang, station: str) -> dict:
    """One unit (or a case) of the open order goes into the parcel after its check."""
    order = parcel.order
    item = scan.item(code)
    if item is None:
        named = orders_for_code(code)
        if any(o.id == order.id for o in named):
            return answer(station, "already_open", lang)
        raise Refused("other_order" if named else "unknown_barcode", scanned=code[:64])
    product_id, per_scan = item.id, item.per_scan
    wanted = shipping.expected_units(order)
    if product_id not in wanted:
        if per_scan == 1 and single_unit_wave_of(order) is not None:
            return tote_neighbour(principal, parcel, product_id, code, lang, station)
        raise Refused("other_order" if in_other_order(order, product_id) else "wrong_item", scanned=code[:64])
    verified = parcels.verified(parcel)
    have = verified.get(product_id, 0)
    if have + per_scan > wanted[product_id]:
        raise Refused("extra_unit", scanned=code[:64], verified=have, expected=wanted[product_id])
    verified[product_id] = have + per_scan
    complete = all(verified.get(p, 0) >= qty for p, qty in wanted.items())
    printer = station_printer(station) if complete else None
    if complete and printer is None:
        raise Refused("no_printer", station=station)
    number = waybill_label(order, shipping.carrier_of(order)) if complete else None  # refused before any write
    actor = actor_of(principal)
    touch(order)
    parcels.check_unit(parcel, product_id, Product.get_by_id(product_id).sku, per_scan, actor)
    if complete:
        label(order, parcel, printer, station, actor, number)
    return changed(station, order, "label_queued" if complete else "unit_verified", lang)


def single_unit(principal, current: Package | None, product_id: int, per_scan: int, code: str, lang,
                station: str) -> dict:
    """A unit of a single-unit wave (一单一件) at a free station: the next order waiting for that
    SKU opens, is checked by this scan and its label prints at once."""
    order = waiting_for_unit(product_id, station) if per_scan == 1 else None
    if order is None:
        raise Refused("nothing_to_pack", scanned=code[:64])
    return open_and_label(principal, current, order, product_id, lang, station)


def tote_neighbour(principal, parcel: Package, product_id: int, code: str, lang, station: str) -> dict:
    """A bulk tote of a single-unit wave holds units of several orders, and opening it opened
    one of them: the unit scanned selects its own order of that wave, which opens, is checked
    and labelled, and the order the tote opened is put aside unchecked (the tote opens it again,
    or its own unit does)."""
    order = waiting_for_unit(product_id, station, wave_id=single_unit_wave_of(parcel.order))
    if order is None:
        raise Refused("other_order" if in_other_order(parcel.order, product_id) else "wrong_item",
                      scanned=code[:64])
    return open_and_label(principal, parcel, order, product_id, lang, station)


def single_unit_wave_of(order: Order) -> int | None:
    """The single-unit wave the order is in, or None."""
    return (WaveOrder.select(WaveOrder.wave).join(Wave)
            .where((WaveOrder.order == order.id) & (Wave.strategy == "single_unit")).scalar())


def waiting_for_unit(product_id: int, station: str, wave_id: int | None = None) -> Order | None:
    """The next picked order of a single-unit wave (of ``wave_id`` if given) that is one unit
    of this product and that no other station is checking."""
    in_wave = Wave.strategy == "single_unit"
    if wave_id is not None:
        in_wave &= Wave.id == wave_id
    waiting = (Order.select().join(WaveOrder, on=(WaveOrder.order == Order.id)).join(Wave)
               .where(in_wave & (Order.status == "picked")
                      & fn.EXISTS(OrderLine.select(OrderLine.id).where((OrderLine.order == Order.id)
                                                                       & (OrderLine.product == product_id))))
               .order_by(Order.priority.desc(), Order.id).limit(20))
    for order in waiting:
        if shipping.expected_units(order) == {product_id: 1} and parcels.checking_at(order.id) in (None, station):
            return order
    return None


def open_and_label(principal, current: Package | None, order: Order, product_id: int, lang, station: str) -> dict:
    """A one-unit order opens here with its unit checked and its label queued, in one scan."""
    printer = station_printer(station)
    if printer is None:
        raise Refused("no_printer", station=station)
    number = waybill_label(order, shipping.carrier_of(order))  # refused before any write
    actor = actor_of(principal)
    parcel = open_order(principal, order, current, station)
    parcels.check_unit(parcel, product_id, Product.get_by_id(product_id).sku, 1, actor)
    label(order, parcel, printer, station, actor, number)
    return changed(station, order, "label_queued", lang)


def confirm(principal, parcel: Package, lang, station: str) -> dict:
    if parcel.label_confirmed:
        return answer(station, "label_confirmed", lang)
    touch(parcel.order)
    parcels.confirm_label(parcel, actor_of(principal))
    return changed(station, parcel.order, "label_confirmed", lang)


def label(order: Order, parcel: Package, printer: Printer, station: str, actor: inventory.Actor,
          number: tuple[str, dict | None]) -> None:
    """Every unit checked: picked -> packed, a tracking number (the carrier's, as ``number``, the
    template and data :func:`waybill_label` gave before anything was written; or made here from
    the parcel's id), and the label on the station's printer, all in the command's transaction
    (the job prints once it commits)."""
    the_carrier = shipping.carrier_of(order)
    template, data = number
    orders.transition(order, "packed", actor, station)
    if not order.carrier:
        Order.update(carrier=the_carrier.code).where(Order.id == order.id).execute()
    if data is None:  # a carrier without a waybill account: the number is made here
        tracking = shipping.tracking_number(the_carrier.code, parcel.id)
        data = shipping.label_data(order, the_carrier, tracking)
    tracking = data["tracking_number"]
    job = printing.enqueue(printer.code, template, data, ref=order.external_id, actor=actor)
    parcels.label(parcel, the_carrier.code, tracking, job.id, station, actor)


def waybill_label(order: Order, the_carrier: shipping.Carrier) -> tuple[str, dict | None]:
    """The label of a carrier with a waybill account (电子面单): a number from its pool, taken in
    this transaction, or the one its service gave the order (fetched for the wave, or now in the
    background: the packer scans again in a moment). Never a number made up for such a carrier."""
    source = waybills.source_of(the_carrier.code)
    if source == "local":
        return "shipping", None
    if source == "pool" and waybills.assigned(order.id) is None:
        try:
            waybills.take_from_pool(order, the_carrier.code)
        except waybills.PoolEmpty:
            raise Refused("waybill_pool_empty", carrier=the_carrier.code) from None
    data = waybills.label_data(order)
    if data is None:
        reason = waybills.last_failure(order.id)
        waybills.fetch_soon(order.id)
        raise Refused("waybill_pending", carrier=the_carrier.code, **({"reason": reason} if reason else {}))
    return waybills.LABEL_TEMPLATE, data


# --- what a scanned code names ---------------------------------------------------------------------

#: the kinds of code that name an order at packing, and a unit
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
