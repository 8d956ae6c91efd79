"""Putaway (上架): where a ready licence plate goes, and the move that takes it there.

A plate's suggestion is, in this order:

1. the SKU's pick face (its ``PickFace`` rows; without one, a pick location already holding the
   SKU) when it has room for the whole plate: ``PickFace.max_qty`` less the SKU's units there, or
   ``Location.capacity_units`` less every unit there (0: not limited);
2. else a free reserve location (no stock, none suggested to another plate of the same pass) in
   the SKU's zone (the zone of its pick face), nearest the dock by walking distance along the
   aisles and cross aisles of the warehouse's layout; a reserve location of any zone after that.

Plates waiting together are served first-expiry-first (FEFO): the earliest use-by date gets the
pick face. :func:`suggest_many` reads the warehouse's locations, pick faces and stock once and
answers for every plate in one pass (no query per plate).

Storing moves the plate's units from the dock to the location (state ``available``, reason
``putaway``, ref ``lpn:<sscc>``) and the plate ``ready -> stored``; a location other than the one
suggested needs a reason, which goes to the audit log.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from server import events
from server.db import sql, sql_row, write_transaction
from server.models import AuditLog, Location, Lpn, Warehouse
from server.models.base import utcnow
from server.services.errors import Refused
from server.services.receiving.lifecycle import LPN
from server.services.receiving.lpn import sscc_of
from server.services.stock import inventory

REASONS = ("location_full", "location_blocked", "closer", "other")
STORAGE_KINDS = ("pick", "reserve")
FAR = math.inf


@dataclass
class Suggestion:
    lpn_id: int
    location_id: int | None
    code: str
    why: str            # pick_face | pick | reserve | none
    distance_m: float


@dataclass
class Plate:
    """What a suggestion needs of a plate."""
    id: int
    product_id: int
    qty: int
    expiry: object
    dock_id: int


# --- the walk -----------------------------------------------------------------------------------

class Walk:
    """Walking distance in a warehouse of parallel aisles joined by cross aisles."""

    def __init__(self, warehouse: Warehouse):
        self.width = warehouse.aisle_width_m or 1.0
        length = warehouse.aisle_length_m or 0.0
        blocks = max(warehouse.blocks or 1, 1)
        self.cross = [k * length / blocks for k in range(blocks + 1)] or [0.0]
        self.depot = (warehouse.depot_aisle or 0, warehouse.depot_y_m or 0.0)

    def metres(self, one: tuple, other: tuple) -> float:
        (a1, y1), (a2, y2) = one, other
        if a1 is None or a2 is None:
            return FAR
        y1, y2 = y1 or 0.0, y2 or 0.0
        if a1 == a2:
            return abs(y1 - y2)
        return abs(a1 - a2) * self.width + min(abs(y1 - c) + abs(y2 - c) for c in self.cross)


# --- suggestions -------------------------------------------------------------------------------------

def fefo(plates: list[Plate]) -> list[Plate]:
    """Earliest use-by date first; plates without one after, oldest first."""
    return sorted(plates, key=lambda p: (p.expiry is None, p.expiry or 0, p.id))


def suggest_many(warehouse_id: int, plates: list[Plate]) -> dict[int, Suggestion]:
    """A suggestion per plate (by id), the pick faces' room and the free reserve locations shared
    among them in FEFO order."""
    warehouse = Warehouse.get_by_id(warehouse_id)
    walk = Walk(warehouse)
    spots = {}   # location id -> (code, kind, zone, aisle, y, capacity)
    for row in sql("SELECT id, code, kind, zone_id, aisle, y_m, capacity_units FROM location"
                   " WHERE warehouse_id = ? AND active = ? AND kind IN ('pick', 'reserve', 'receiving')",
                   warehouse_id, True).fetchall():
        spots[row[0]] = row[1:]
    units_at = defaultdict(int)           # location -> every unit there
    sku_at = defaultdict(int)             # (location, product) -> its units there
    holding = defaultdict(list)           # product -> pick locations holding it
    for location_id, product_id, qty in sql(
            "SELECT q.location_id, q.product_id, SUM(q.qty) FROM quant q JOIN location l ON l.id = q.location_id"
            " WHERE l.warehouse_id = ? AND q.qty > 0 GROUP BY q.location_id, q.product_id", warehouse_id).fetchall():
        units_at[location_id] += int(qty)
        sku_at[(location_id, product_id)] += int(qty)
        spot = spots.get(location_id)
        if spot is not None and spot[1] == "pick":
            holding[product_id].append(location_id)
    faces = defaultdict(list)             # product -> [(location, max_qty)]
    for location_id, product_id, max_qty in sql(
            "SELECT f.location_id, f.product_id, f.max_qty FROM pick_face f JOIN location l ON l.id = f.location_id"
            " WHERE l.warehouse_id = ? AND l.active = ? ORDER BY f.id", warehouse_id, True).fetchall():
        faces[product_id].append((location_id, max_qty))
    free_by_zone: dict = {}               # (dock, zone) -> reserve locations by distance, and a cursor
    taken: set[int] = set()
    answers = {}
    for plate in fefo(plates):
        answers[plate.id] = _suggest(plate, spots, units_at, sku_at, holding, faces, free_by_zone, taken, walk)
    return answers


def _room(location_id: int, product_id: int, limit: int, spots, units_at, sku_at) -> float:
    room = math.inf
    if limit:
        room = limit - sku_at[(location_id, product_id)]
    capacity = spots[location_id][5] if location_id in spots else 0
    if capacity:
        room = min(room, capacity - units_at[location_id])
    return room


def _suggest(plate: Plate, spots, units_at, sku_at, holding, faces, free_by_zone, taken, walk) -> Suggestion:
    dock = spots.get(plate.dock_id)
    origin = (dock[3], dock[4]) if dock is not None and dock[3] is not None else walk.depot
    candidates = [(loc, limit, "pick_face") for loc, limit in faces.get(plate.product_id, ())]
    if not candidates:
        candidates = [(loc, 0, "pick") for loc in holding.get(plate.product_id, ())]
    zone = None
    for location_id, limit, why in candidates:
        if location_id not in spots:
            continue
        zone = zone or spots[location_id][2]
        if _room(location_id, plate.product_id, limit, spots, units_at, sku_at) >= plate.qty:
            units_at[location_id] += plate.qty
            sku_at[(location_id, plate.product_id)] += plate.qty
            spot = spots[location_id]
            return Suggestion(plate.id, location_id, spot[0], why, walk.metres(origin, (spot[3], spot[4])))
    for wanted in ((zone,) if zone is not None else ()) + ("any",):
        found = _free_reserve(plate, wanted, origin, spots, units_at, free_by_zone, taken, walk)
        if found is not None:
            spot = spots[found]
            return Suggestion(plate.id, found, spot[0], "reserve", walk.metres(origin, (spot[3], spot[4])))
    return Suggestion(plate.id, None, "", "none", FAR)


def _free_reserve(plate, zone, origin, spots, units_at, free_by_zone, taken, walk) -> int | None:
    key = (origin, zone)
    entry = free_by_zone.get(key)
    if entry is None:
        ids = [loc for loc, spot in spots.items()
               if spot[1] == "reserve" and (zone == "any" or spot[2] == zone)]
        ids.sort(key=lambda loc: (walk.metres(origin, (spots[loc][3], spots[loc][4])), spots[loc][0]))
        entry = free_by_zone[key] = [ids, 0]
    ids, start = entry
    for index in range(start, len(ids)):
        loc = ids[index]
        if loc in taken or units_at[loc]:
            if index == entry[1]:
                entry[1] = index + 1  # never free again in this pass
            continue
        capacity = spots[loc][5]
        if capacity and capacity < plate.qty:
            continue
        taken.add(loc)
        units_at[loc] += plate.qty
        return loc
    return None


# --- waiting plates ----------------------------------------------------------------------------------

WAITING_SQL = ("SELECT l.id, l.sscc, l.product_id, l.lot, l.expiry, l.qty, l.location_id, l.stored_by_id,"
               " p.sku, p.name, d.code, d.warehouse_id FROM lpn l JOIN product p ON p.id = l.product_id"
               " JOIN location d ON d.id = l.location_id WHERE l.status = 'ready'")


def _as_dict(row) -> dict:
    (lpn_id, sscc, product_id, lot, expiry, qty, location_id, holder, sku, name, dock, warehouse_id) = row
    expiry = Lpn.expiry.python_value(expiry)
    return {"id": lpn_id, "sscc": sscc, "product_id": product_id, "lot": lot, "expiry": expiry, "qty": qty,
            "location_id": location_id, "holder": holder, "sku": sku, "name": name, "dock": dock,
            "warehouse_id": warehouse_id}


def waiting(warehouse_id: int | None = None, limit: int = 50) -> list[dict]:
    """Ready plates nobody holds, FEFO first, with their suggested location."""
    query, params = WAITING_SQL + " AND l.stored_by_id IS NULL", []
    if warehouse_id is not None:
        query += " AND d.warehouse_id = ?"
        params.append(warehouse_id)
    rows = [_as_dict(row) for row in sql(query, *params).fetchall()]
    rows.sort(key=lambda r: (r["expiry"] is None, r["expiry"] or 0, r["id"]))
    rows = rows[:limit]
    by_warehouse = defaultdict(list)
    for row in rows:
        by_warehouse[row["warehouse_id"]].append(row)
    for warehouse, group in by_warehouse.items():
        answers = suggest_many(warehouse, [_plate(r) for r in group])
        for row in group:
            row["suggested"] = answers[row["id"]].code
    return rows


def _plate(row: dict) -> Plate:
    return Plate(row["id"], row["product_id"], row["qty"], row["expiry"], row["location_id"])


def in_hand(user_id: int) -> dict | None:
    row = sql_row(WAITING_SQL + " AND l.stored_by_id = ? ORDER BY l.id LIMIT 1", user_id)
    return _as_dict(row) if row is not None else None


def suggestion(plate: dict) -> Suggestion:
    return suggest_many(plate["warehouse_id"], [_plate(plate)])[plate["id"]]


def take(code: str, user_id: int) -> dict:
    """The receiver takes the plate a scanned label names (its SSCC, with or without (00))."""
    sscc = sscc_of(code)
    row = sql_row("SELECT status, stored_by_id FROM lpn WHERE sscc = ?", sscc) if sscc else None
    if row is None:
        raise Refused("unknown_lpn", scanned=code)
    status, holder = row
    if status != "ready":
        raise Refused("lpn_not_ready", sscc=sscc, status=status)
    if holder not in (None, user_id):
        raise Refused("lpn_taken", sscc=sscc)
    with write_transaction():
        taken = sql("UPDATE lpn SET stored_by_id = ? WHERE sscc = ? AND status = 'ready'"
                    " AND (stored_by_id IS NULL OR stored_by_id = ?)", user_id, sscc, user_id).rowcount
    if taken != 1:
        raise Refused("lpn_taken", sscc=sscc)
    return in_hand(user_id)


def let_go(user_id: int) -> None:
    """Give the plate in hand back to the waiting list."""
    with write_transaction():
        sql("UPDATE lpn SET stored_by_id = NULL WHERE stored_by_id = ? AND status = 'ready'", user_id)


def storage_location(code: str, warehouse_id: int) -> Location:
    location = Location.get_or_none(Location.code == (code or "").strip())
    if location is None:
        raise Refused("unknown_barcode", scanned=code)
    if location.kind not in STORAGE_KINDS or not location.active or location.warehouse_id != warehouse_id:
        raise Refused("not_storage_location", scanned=code)
    return location


def store(plate: dict, location: Location, qty: int, actor: inventory.Actor, *, suggested: str,
          reason: str = "") -> None:
    """Put the plate's units away at ``location``: one ledger move, the plate stored."""
    if qty != plate["qty"]:
        raise Refused("putaway_qty_mismatch", expected=plate["qty"], counted=qty)
    if location.code != suggested and reason not in REASONS:
        raise Refused("putaway_reason_required", reasons=",".join(REASONS))
    with write_transaction():
        inventory.move(plate["product_id"], plate["location_id"], location.id, qty, actor=actor,
                       state="available", lot=plate["lot"], reason="putaway", ref=f"lpn:{plate['sscc']}",
                       expiry=plate["expiry"])
        LPN.move(plate["id"], "ready", "stored", guard=("stored_by_id = ?", (actor.user_id,)),
                 location=location.id, stored_by=actor.user_id, stored_at=utcnow())
        if location.code != suggested:
            AuditLog.create(user=actor.user_id, device=actor.device_id, action="putaway.elsewhere",
                            target=f"lpn:{plate['sscc']}",
                            detail=f"{location.code} instead of {suggested or '-'}: {reason}")
        announce(location.warehouse_id)


def announce(warehouse_id: int) -> None:
    """``putaway.waiting`` to the receivers, the control room (and the warehouse), after commit: how
    many plates wait."""
    code = sql_row("SELECT code FROM warehouse WHERE id = ?", warehouse_id)[0]
    count = sql_row("SELECT COUNT(*) FROM lpn l JOIN location d ON d.id = l.location_id"
                    " WHERE l.status = 'ready' AND l.stored_by_id IS NULL AND d.warehouse_id = ?", warehouse_id)[0]
    events.publish("putaway.waiting", {"warehouse": code, "waiting": int(count)},
                   rooms=["role:receiver", "wallboard", f"warehouse:{code}"])
