"""The ``putwall`` floor scenario (播种墙分拣): the batch tote of a ``batch_putwall`` wave is sorted
unit by unit into the slots of the wave's orders; a slot whose order has all its units makes
that order picked, ready for packing. A slot left needing nothing by short picks completes its
order when the pick task finishes, and a picked wave is done once the wall has sorted it all.

A station is the device code the kiosk logged in with. It sorts into one wall: the wall
number at the end of its code (``HZ-PW2`` and ``PW2`` sort wall 2), wall 1 for any other
code. A wall is the warehouse's locations of kind ``pack`` whose codes end in ``-PW<wall>-<NN>``
(``HZ-PW1-07`` is slot 7 of wall 1); slot N holds the order whose ``WaveOrder.slot`` is N.
States (the put wall page shows one panel each)::

    scan_tote ──scan tote──> scan_item ──scan item──> put ──scan the slot's label──> scan_item
        ^  (a batch tote,        ^  (the slot to put it   │   (unit tote -> slot; the slot's
        │   picked, not sorted)  │   in is shown large;   │    order complete: picked)
        │                        │   nothing moves yet)   │
        │                        └──── another item: that unit's slot is shown instead
        └───────────── the tote empty: tote_done; every order sorted: wave_sorted; close ─────┘

    device (kiosk)                            server
      | cmd putwall/scan {code: tote}         |  guarded UPDATE tote_sort SET station=... WHERE station IS NULL
      |-------------------------------------->|  nothing_to_sort | tote_not_ready | tote_open_elsewhere
      |<--------------------------------------|  scan_item {tote, slots[slot, order, expected, put, complete]}
      | cmd putwall/scan {code: item}         |  not_in_tote | not_needed | split_case; a case code counts its pack
      |<--------------------------------------|  put {slot, order, sku, qty, label}
      | cmd putwall/scan {code: slot label}   |  wrong_slot | StockMove tote -> slot (ref putwall:<order>);
      |-------------------------------------->|  slot complete: order waved|picking -> picked
      |<--------------------------------------|  scan_item | scan_tote (tote_done)
      | cmd putwall/close                     |  the tote is put aside: any station may open it
      after each commit: putwall.progress -> station:<code>, wallboard
      every order sorted and the wave picked: wave picked -> done; wave.progress -> wallboard

    picker (handheld)                         server
      | cmd picking/short ... task_done       |  a slot left needing nothing (its units shorted, the rest
      |-------------------------------------->|  put already): order waved|picking -> picked
      |                                       |  every order sorted and the wave picked: wave -> done
      after commit: putwall.progress (event nothing_left_to_put) -> wallboard, station:<code> of each
      station sorting a tote of the wave; wave.progress -> wallboard

An order with a re-allocated line of its own still to pick (its units go to a tote of its own,
past the wall) is not picked until that line is, at the wall and at the task's end alike.

Keep these diagrams (and the one in docs/protocol.md) current with the code.

Where the state lives: one ``ToteSort`` row per tote (server/models/putwall.py) says which
station sorts it and which put waits for its slot scan; the units put are ledger lines
(``reason = put``, ``ref = putwall:<order id>``), so what a slot holds is read from the ledger
(server/services/waves/wall.py).
"""
from __future__ import annotations


from server import events
from server.models import Location, Order, PickLine, PickTask, Product, Quant, ToteSort, Wave
from server.models.base import utcnow
from server.services.auth import Principal
from server.services.device import scan, snapshot
from server.services.device.commands import at_station, envelope, scenario
from server.services.errors import Refused
from server.services.orders import lifecycle as orders
from server.services.stock import inventory
from server.services.stock.desk import actor_of
from server.services.waves import wall as put_wall
from server.services.waves.lifecycle import SORTED_LATER
from server.services.waves.wall import PUT_REASON, Slot, picking_own_lines, put_ref, slot_labels, wall_of, wall_slots

NO_PUT = {"put_order": None, "put_product": None, "put_lot": "", "put_qty": 0, "put_slot": 0}


# --- totes ----------------------------------------------------------------------------------------------

def current_sort(station: str) -> ToteSort | None:
    return (ToteSort.select().where(ToteSort.station == station)
            .order_by(ToteSort.opened_at.desc(), ToteSort.id.desc()).first())


def tote_lot(tote_id: int, product_id: int, qty: int, lot: str = "") -> str | None:
    """The lot of the tote's units to take ``qty`` from (the scanned lot if one was), or None."""
    query = (Quant.select(Quant.lot).where((Quant.location == tote_id) & (Quant.product == product_id)
                                           & (Quant.state == "available") & (Quant.qty - Quant.reserved >= qty))
             .order_by(Quant.lot))
    if lot:
        query = query.where(Quant.lot == lot)
    found = query.first()
    return found.lot if found is not None else None


def sortable_wave(tote: Location) -> Wave:
    """The batch wave whose units this tote holds and whose slots still want units."""
    waves = (Wave.select().join(PickTask).join(PickLine)
             .where((PickLine.tote == tote.code) & PickLine.order.is_null() & Wave.strategy.in_(SORTED_LATER))
             .distinct().order_by(Wave.id.desc()))
    for wave in waves:
        if not any(slot.wanting for slot in wall_slots(wave.id)):
            continue  # every order sorted, or left with nothing to put by short picks
        if put_wall.tote_units(tote.id) == 0:
            break
        picking = (PickTask.select().join(PickLine)
                   .where((PickTask.wave == wave.id) & (PickLine.tote == tote.code)
                          & PickTask.status.not_in(("done", "cancelled"))).exists())
        if picking:
            raise Refused("tote_not_ready", tote=tote.code)
        return wave
    raise Refused("nothing_to_sort", tote=tote.code)


# --- what the station shows ----------------------------------------------------------------------------

def view(station: str) -> tuple[str, dict]:
    wall = wall_of(station)
    data = {"station": station, "wall": wall}
    sort = current_sort(station)
    if sort is None:
        return "scan_tote", data
    wave = Wave.get_by_id(sort.wave_id)
    slots = wall_slots(wave.id)
    labels = slot_labels(wave.warehouse_id, wall)
    data.update(tote={"code": sort.tote.code, "wave": wave.code, "units": put_wall.tote_units(sort.tote_id)},
                slots=[slot_view(slot, labels) for slot in slots],
                orders={"total": len(slots), "complete": sum(1 for slot in slots if slot.complete)})
    if not sort.put_qty:
        return "scan_item", data
    product = Product.get_by_id(sort.put_product_id)
    label = labels.get(sort.put_slot)
    data["put"] = {"slot": sort.put_slot, "order": sort.put_order.external_id, "sku": product.sku,
                   "name": product.name, "spec": product.spec, "unit": product.unit, "qty": sort.put_qty,
                   "lot": sort.put_lot, "label": label.code if label else ""}
    return "put", data


def slot_view(slot: Slot, labels: dict[int, Location]) -> dict:
    label = labels.get(slot.number)
    return {"slot": slot.number, "order": slot.order.external_id, "status": slot.order.status,
            "expected": sum(slot.needed.values()), "put": slot.units_put, "complete": slot.complete,
            "label": label.code if label else ""}


@snapshot.provider
def putwall_snapshot(principal: Principal) -> dict:
    """A reloaded kiosk resumes the tote open at its station and the put it was showing."""
    if not principal.can("floor.putwall") or principal.device is None:
        return {}
    state, data = view(principal.device.code)
    return {"putwall": {"state": state, **data}}


# --- the scenario ---------------------------------------------------------------------------------------

@scenario("putwall", permission="floor.putwall", reads_only=("current",))
def putwall(principal: Principal, action: str, params: dict) -> dict:
    return at_station(principal, action, params, ACTIONS, view, no_station="no_wall_station")


def answer(station: str, code: str, lang, level: str = "info") -> dict:
    state, data = view(station)
    return envelope(True, state, data, code=code, lang=lang, level=level)


def do_current(principal, params, lang, station) -> dict:
    return answer(station, "ok", lang)


def do_scan(principal, params, lang, station) -> dict:
    code = str(params.get("code", "")).strip()[:64]
    if not code:
        raise Refused("unknown_barcode")
    sort = current_sort(station)
    if sort is not None and sort.put_qty:
        label = slot_labels(sort.wave.warehouse_id, wall_of(station)).get(sort.put_slot)
        if label is not None and code == label.code:
            return confirm_put(principal, sort, label, lang, station)
    found = scan.resolve(code, ("location", "tote", "item"))
    if found is not None and found.kind == "tote":
        return open_tote(principal, sort, code, lang, station)
    if found is not None and found.location_kind == "pack" and sort is not None:
        raise Refused("wrong_slot" if sort.put_qty else "scan_item_first", scanned=code)
    if found is None or found.kind != "item":
        raise Refused("unknown_barcode", scanned=code)
    if sort is None:
        raise Refused("no_open_tote", scanned=code)
    return show_put(sort, found, lang, station)


def do_close(principal, params, lang, station) -> dict:
    """Put the open tote aside (挂起): its units stay in it, and any station may open it."""
    sort = current_sort(station)
    if sort is None:
        raise Refused("no_open_tote")
    set_aside(sort, station)
    return changed(station, sort, None, "tote_put_aside", lang)


ACTIONS = {"current": do_current, "scan": do_scan, "close": do_close}


# --- steps ----------------------------------------------------------------------------------------------

def open_tote(principal, current: ToteSort | None, code: str, lang, station: str) -> dict:
    """A batch tote comes to the wall: a guarded update claims it for this station, so two
    stations never sort the same tote."""
    tote = Location.get(Location.code == code)
    if current is not None and current.tote_id == tote.id:
        return answer(station, "tote_opened", lang)
    wave = sortable_wave(tote)
    labels = slot_labels(wave.warehouse_id, wall_of(station))
    unlabelled = [slot.number for slot in wall_slots(wave.id) if slot.wanting and slot.number not in labels]
    if unlabelled:
        raise Refused("slot_missing", slot=unlabelled[0], wall=wall_of(station))
    ToteSort.insert(tote=tote.id).on_conflict_ignore().execute()
    rows = (ToteSort.update(station=station, wave=wave.id, user=principal.user.id, opened_at=utcnow(), **NO_PUT)
            .where((ToteSort.tote == tote.id) & ToteSort.station.is_null()).execute())
    if rows != 1:
        raise Refused("tote_open_elsewhere", tote=code)
    if current is not None:
        set_aside(current, station)
    return changed(station, current_sort(station), None, "tote_opened", lang)


def show_put(sort: ToteSort, item: scan.Scanned, lang, station: str) -> dict:
    """An item from the tote: the slot it goes to is shown; nothing moves until that slot's
    label is scanned. A slot already started is filled first, then the lowest slot."""
    product_id, per_scan = item.id, item.per_scan
    lot = tote_lot(sort.tote_id, product_id, per_scan, item.lot)
    if lot is None:
        raise Refused("not_in_tote", sku=Product.get_by_id(product_id).sku)
    slot = choose_slot(wall_slots(sort.wave_id), product_id, per_scan)
    rows = (ToteSort.update(put_order=slot.order.id, put_product=product_id, put_lot=lot, put_qty=per_scan,
                            put_slot=slot.number)
            .where((ToteSort.id == sort.id) & (ToteSort.station == station)).execute())
    if rows != 1:
        raise Refused("no_open_tote")
    return answer(station, "put_to_slot", lang)


def choose_slot(slots: list[Slot], product_id: int, per_scan: int) -> Slot:
    wanting = [slot for slot in slots if slot.open and slot.remaining(product_id) > 0]
    if not wanting:
        raise Refused("not_needed")
    fitting = [slot for slot in wanting if slot.remaining(product_id) >= per_scan]
    if not fitting:
        raise Refused("split_case", qty=per_scan)
    return min(fitting, key=lambda slot: (slot.units_put == 0, slot.number))


def confirm_put(principal, sort: ToteSort, label: Location, lang, station: str) -> dict:
    """The slot's label confirms the put: the units move from the tote to the slot in the
    ledger; a slot with all its units makes its order picked."""
    order = Order.get_by_id(sort.put_order_id)
    found = wall_slots(sort.wave_id, order.id)
    slot = found[0] if found else None
    if slot is None or not slot.open or slot.remaining(sort.put_product_id) < sort.put_qty:
        raise Refused("put_again", slot=sort.put_slot)  # another station filled it meanwhile
    if tote_lot(sort.tote_id, sort.put_product_id, sort.put_qty, sort.put_lot) is None:
        raise Refused("not_in_tote")
    actor = actor_of(principal)
    touch(order)
    inventory.move(sort.put_product_id, sort.tote_id, label.id, sort.put_qty, actor=actor, lot=sort.put_lot,
                   reason=PUT_REASON, ref=put_ref(order.id))
    ToteSort.update(**NO_PUT).where(ToteSort.id == sort.id).execute()
    slot.put[sort.put_product_id] = slot.put.get(sort.put_product_id, 0) + sort.put_qty
    if slot.filled and not picking_own_lines([order.id]):
        orders.transition(order, "picked", actor, f"put wall {label.code}")
    wave_sorted = slot.filled and put_wall.finish_if_sorted(sort.wave_id)  # a slot still wanting leaves it unsorted
    code = "slot_complete" if slot.filled else "unit_put"
    if put_wall.tote_units(sort.tote_id) == 0:
        set_aside(sort, station)
        code = "tote_done"
    elif wave_sorted:
        set_aside(sort, station)
        code = "wave_sorted"
    return changed(station, sort, slot, code, lang, level="warning" if code == "wave_sorted" else "info")


def touch(order: Order) -> None:
    """A guarded update of the order row: of two stations putting its last unit at the same
    moment, the second is refused instead of putting one too many."""
    now = utcnow()
    seen = Order.updated_at.is_null() if order.updated_at is None else (Order.updated_at == order.updated_at)
    rows = (Order.update(updated_at=now).where((Order.id == order.id) & (Order.status == order.status) & seen)
            .execute())
    if rows != 1:
        raise Refused("put_again")
    order.updated_at = now


def set_aside(sort: ToteSort, station: str) -> None:
    ToteSort.update(station=None, **NO_PUT).where((ToteSort.id == sort.id) & (ToteSort.station == station)).execute()


# --- events ---------------------------------------------------------------------------------------------

def changed(station: str, sort: ToteSort, slot: Slot | None, code: str, lang, level: str = "info") -> dict:
    """The answer to a change; after commit the station and the wall screens hear of it."""
    wave = Wave.get_by_id(sort.wave_id)
    payload = dict(put_wall.wall_progress(wave, wall_slots(wave.id), code, slot),
                   **put_wall.station_progress(station, sort))
    events.publish("putwall.progress", payload, rooms=[f"station:{station}", "wallboard"])
    return answer(station, code, lang, level)
