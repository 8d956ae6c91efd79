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

from server.models import Location, Order, OrderLine, PickLine, PickTask, StockMove, Wave, WaveOrder
from server.services.waves.picks import OPEN_LINE, SORTED_LATER

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

def slot_orders(code: str) -> list[Order]:
    """Orders waiting at packing whose units were put into the slot with this label."""
    slot = Location.get_or_none((Location.code == code) & (Location.kind == "pack"))
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
