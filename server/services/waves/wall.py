"""The put wall's slots (播种墙): which wall a station sorts, the labels of its slots, and what
each slot's order needs and has been put, read from order lines, pick lines and the ledger.
The ``putwall`` scenario sorts into them; packing finds the orders a slot label names.

A wall is the warehouse's locations of kind ``pack`` whose codes end in ``-PW<wall>-<NN>``
(``HZ-PW1-07`` is slot 7 of wall 1); slot N holds the order whose ``WaveOrder.slot`` is N.
The units put are ledger lines (``reason = put``, ``ref = putwall:<order id>``).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import fn

from server import events
from server.models import (Location, Order, OrderLine, PickLine, PickTask, Quant, StockMove, ToteSort, Wave,
                           WaveOrder)
from server.services.errors import InvalidTransition
from server.services.orders import lifecycle as orders
from server.services.stock import inventory
from server.services.waves import lifecycle
from server.services.waves.lifecycle import OPEN_LINE, SORTED_LATER
from server.services.waves.progress import publish_progress

SORTING = ("waved", "picking")            # orders whose units may still go into their slot
SORTED = ("picked", "packed", "shipped")  # orders whose slot is complete
AT_PACKING = ("picked", "packed")
PUT_REASON = "put"
WALL_OF_STATION = re.compile(r"(?:^|-)PW(\d+)$", re.IGNORECASE)
DEFAULT_WALL = 1


def put_ref(order_id: int) -> str:
    return f"putwall:{order_id}"


# --- the wall and its slot labels ------------------------------------------------------------------

def wall_of(station: str) -> int:
    found = WALL_OF_STATION.search(station or "")
    return int(found.group(1)) if found else DEFAULT_WALL


def slot_labels(warehouse_id: int, wall: int) -> dict[int, Location]:
    """Slot number -> its label (a location of kind ``pack`` named ``...-PW<wall>-<NN>``)."""
    marker = re.compile(rf"-PW{wall}-(\d+)$")
    labels = {}
    for location in (Location.select().where((Location.warehouse == warehouse_id) & (Location.kind == "pack")
                                             & Location.code.contains(f"-PW{wall}-"))):
        found = marker.search(location.code)
        if found and location.active:
            labels.setdefault(int(found.group(1)), location)
    return labels


# --- what each slot needs and holds ------------------------------------------------------------------

@dataclass
class Slot:
    number: int
    order: Order
    needed: dict[int, int] = field(default_factory=dict)  # product -> units the slot must receive
    put: dict[int, int] = field(default_factory=dict)     # product -> units put so far

    def remaining(self, product_id: int) -> int:
        return self.needed.get(product_id, 0) - self.put.get(product_id, 0)

    @property
    def open(self) -> bool:
        return self.order.status in SORTING

    @property
    def units_put(self) -> int:
        return sum(self.put.values())

    @property
    def filled(self) -> bool:
        return all(self.remaining(p) <= 0 for p in self.needed)

    @property
    def wanting(self) -> bool:
        """Still sorting and short of units: the wall has something left to put here."""
        return self.open and not self.filled

    @property
    def complete(self) -> bool:
        return self.order.status in SORTED


def wall_slots(wave_id: int, order_id: int | None = None) -> list[Slot]:
    """The wave's orders in slot order, with what each still needs (or just one order's)."""
    query = (WaveOrder.select(WaveOrder.slot, Order).join(Order)
             .where((WaveOrder.wave == wave_id) & (WaveOrder.slot > 0)).order_by(WaveOrder.slot))
    if order_id is not None:
        query = query.where(Order.id == order_id)
    slots = [Slot(row.slot, row.order) for row in query]
    ids = [slot.order.id for slot in slots] or [0]
    needed, put = units_needed(ids), units_put(ids)
    for slot in slots:
        slot.needed, slot.put = needed.get(slot.order.id, {}), put.get(slot.order.id, {})
    return slots


def units_needed(order_ids: list[int]) -> dict[int, dict[int, int]]:
    """Units of each order that come through the put wall: ordered, less short, less what a
    re-allocated line of the order's own picked into a tote of its own."""
    needed: dict[int, dict[int, int]] = defaultdict(dict)
    for order_id, product_id, qty in (OrderLine.select(OrderLine.order, OrderLine.product,
                                                       fn.SUM(OrderLine.qty - OrderLine.short_qty))
                                      .where(OrderLine.order.in_(order_ids) & OrderLine.product.is_null(False))
                                      .group_by(OrderLine.order, OrderLine.product).tuples()):
        needed[order_id][product_id] = int(qty or 0)
    own = (PickLine.select(PickLine.order, PickLine.product, fn.SUM(PickLine.qty - PickLine.short_qty))
           .join(PickTask).where(PickLine.order.in_(order_ids) & (PickTask.status != "cancelled"))
           .group_by(PickLine.order, PickLine.product))
    for order_id, product_id, qty in own.tuples():
        needed[order_id][product_id] = needed[order_id].get(product_id, 0) - int(qty or 0)
    return {order_id: {p: q for p, q in units.items() if q > 0} for order_id, units in needed.items()}


def units_put(order_ids: list[int]) -> dict[int, dict[int, int]]:
    refs = {put_ref(order_id): order_id for order_id in order_ids}
    put: dict[int, dict[int, int]] = defaultdict(dict)
    for ref, product_id, qty in (StockMove.select(StockMove.ref, StockMove.product, fn.SUM(StockMove.qty))
                                 .where(StockMove.ref.in_(list(refs)) & (StockMove.reason == PUT_REASON))
                                 .group_by(StockMove.ref, StockMove.product).tuples()):
        put[refs[ref]][product_id] = int(qty or 0)
    return put


# --- orders the wall waits for ------------------------------------------------------------------------

def picking_own_lines(order_ids: list[int]) -> set[int]:
    """Orders with a line of their own still to pick: a batch line's shortage re-allocated to
    another location is picked into a tote of the order's own, past the wall, and the order is
    not complete without those units."""
    if not order_ids:
        return set()
    return {order_id for (order_id,) in (PickLine.select(PickLine.order).join(PickTask)
                                         .where(PickLine.order.in_(order_ids) & PickLine.status.in_(OPEN_LINE)
                                                & (PickTask.status != "cancelled"))
                                         .distinct().tuples())}


def all_sorted(slots: list[Slot]) -> bool:
    """No order of the wave is still sorting (a cancelled order is not waiting for anything)."""
    return not any(slot.open for slot in slots)


# --- packing: the orders a slot label names ------------------------------------------------------------

def slot_orders(label_id: int) -> list[Order]:
    """Orders waiting at packing whose units were put into the slot with this label (a
    location of kind ``pack``)."""
    slot = Location.get_or_none((Location.id == label_id) & (Location.kind == "pack"))
    if slot is None:
        return []
    waiting = (Order.select(Order.id).join(WaveOrder, on=(WaveOrder.order == Order.id)).join(Wave)
               .where(Order.status.in_(AT_PACKING) & Wave.strategy.in_(SORTED_LATER)
                      & (Wave.warehouse == slot.warehouse_id)))
    refs = {put_ref(order_id): order_id for (order_id,) in waiting.tuples()}
    if not refs:
        return []
    here = {refs[ref] for (ref,) in StockMove.select(StockMove.ref)
            .where(StockMove.ref.in_(list(refs)) & (StockMove.to_location == slot.id)
                   & (StockMove.reason == PUT_REASON)).distinct().tuples()}
    return list(Order.select().where(Order.id.in_(list(here) or [0]))
                .order_by(Order.status != "picked", Order.priority.desc(), Order.id))


# --- totes at the wall ---------------------------------------------------------------------------------

def tote_units(tote_id: int) -> int:
    return int(Quant.select(fn.SUM(Quant.qty)).where(Quant.location == tote_id).scalar() or 0)


# --- slots short picks left with nothing to put; the end of the wave ----------------------------------

NOTHING_LEFT = "put wall: nothing left to put"


def complete_filled(wave: Wave, actor: inventory.Actor) -> list[Slot]:
    """When a pick task of a batch wave finishes: orders still sorting whose slot needs nothing
    more become picked. Short picks took their missing units off what they need, so no put will
    ever complete them. The wave is then done if the wall has nothing left to sort."""
    slots = wall_slots(wave.id)
    filled = [slot for slot in slots if slot.open and slot.filled]
    waiting = picking_own_lines([slot.order.id for slot in filled])
    completed = [slot for slot in filled if slot.order.id not in waiting and complete_order(slot, actor)]
    if completed:
        publish_completed(wave, slots, completed)
    if all_sorted(slots):
        finish_wave(wave)
    return completed


def complete_order(slot: Slot, actor: inventory.Actor) -> bool:
    try:
        orders.transition(slot.order, "picked", actor, NOTHING_LEFT)
    except InvalidTransition:  # a station put its last unit meanwhile: it is picked already
        return False
    return True


def finish_if_sorted(wave_id: int) -> bool:
    """Whether the wall has sorted every order of the wave; if so, a picked wave is done."""
    if not all_sorted(wall_slots(wave_id)):
        return False
    finish_wave(Wave.get_by_id(wave_id))
    return True


def finish_wave(wave: Wave) -> None:
    """picked -> done: the wall has sorted every order. A guarded move, and only from picked: a
    wave with a pick task still open is not picked yet and stays as it is."""
    if lifecycle.finish_sorting(wave):
        publish_progress(wave.id)


# --- events ---------------------------------------------------------------------------------------------

def publish_completed(wave: Wave, slots: list[Slot], completed: list[Slot]) -> None:
    """Slots completed away from the wall: the wall screens hear of each, and so does every
    station sorting a tote of the wave, to redraw the slot."""
    sorting = list(ToteSort.select().where((ToteSort.wave == wave.id) & ToteSort.station.is_null(False)))
    for slot in completed:
        payload = wall_progress(wave, slots, "nothing_left_to_put", slot)
        events.publish("putwall.progress", payload, rooms=["wallboard"])
        for sort in sorting:
            events.publish("putwall.progress", dict(payload, **station_progress(sort.station, sort)),
                           rooms=[f"station:{sort.station}"])


def wall_progress(wave: Wave, slots: list[Slot], code: str, slot: Slot | None) -> dict:
    payload = {"wave": wave.id, "code": wave.code, "event": code, "orders": len(slots),
               "complete": sum(1 for s in slots if s.complete)}
    if slot is not None:
        payload["slot"] = {"slot": slot.number, "order": slot.order.external_id, "put": slot.units_put,
                           "expected": sum(slot.needed.values()), "complete": slot.filled}
    return payload


def station_progress(station: str, sort: ToteSort) -> dict:
    return {"station": station, "wall": wall_of(station), "tote": sort.tote.code,
            "units_left": tote_units(sort.tote_id)}
