"""Replenishment tasks (补货任务): units of one SKU taken from a reserve location to its pick face.

Two triggers make them. ``min``: a pick leaves a face below its minimum (:func:`after_pick`, in
the pick's own transaction), or the planner finds one there (:func:`plan`); the task fills the
face up to its maximum from the best reserve location (:func:`best_source`: first expiry first,
then the lowest lot, then the oldest receipt). ``demand``: a wave's release finds its orders
promised units in reserve for a SKU that has a face (services/replenishment/demand.py); the task
carries exactly those units, and their promise moves with them.

A replenisher works one task at a time: claimed (``assigned``), the source scanned and units
counted (``moving``), the face scanned (``done``: one ledger move source -> face). Every change
of stock goes through services/stock/inventory.py with the replenisher as actor. The floor hears
of waiting tasks with ``replenishment.waiting`` (to receivers, who replenish) and pickers of a
finished one with ``replenishment.done``.
"""
from __future__ import annotations

import uuid

from peewee import JOIN

from server import events
from server.db import sql, sql_row, write_transaction
from server.models import Allocation, Location, OrderLine, PickFace, PickLine, Product, Quant, Warehouse, WaveOrder
from server.models.base import utcnow
from server.models.stockcontrol import ReplenishmentTask
from server.services.errors import NotFound, Refused
from server.services.replenishment.lifecycle import REPLENISHMENT
from server.services.stock import inventory

ACTIVE = ("open", "assigned", "moving")
IN_HAND = ("assigned", "moving")
DEMAND_PRIORITY, MIN_PRIORITY = 100, 10  # a wave's orders wait for a demand task; a minimum can wait
ROOMS = ("role:receiver", "wallboard")   # receivers replenish (they put away too); the wall counts
OPEN_LINES = ("open", "skipped", "located")
_ACTIVE_SQL = "status IN ('open', 'assigned', 'moving')"


# --- choosing where units come from --------------------------------------------------------------

def best_source(product_id: int, warehouse_id: int, exclude: int | None = None) -> dict | None:
    """The reserve quant to take from, FEFO then FIFO: the earliest expiry (none last), then the
    lowest lot, then the oldest receipt into it, then the location's pick order. None when no
    reserve location of the warehouse has free units of the SKU."""
    rows = list(Quant.select(Quant.location, Quant.lot, Quant.expiry, (Quant.qty - Quant.reserved).alias("free"),
                             Location.code, Location.pick_seq)
                .join(Location)
                .where((Quant.product == product_id) & (Quant.state == "available") & (Quant.qty > Quant.reserved)
                       & (Location.kind == "reserve") & (Location.active == True)  # noqa: E712
                       & (Location.needs_count == False) & (Location.warehouse == warehouse_id)  # noqa: E712
                       & (Quant.location != (exclude or 0)))
                .dicts())
    if not rows:
        return None
    for row in rows:
        row["received"] = sql_row("SELECT MIN(at) FROM stock_move WHERE product_id = ? AND to_location_id = ?"
                                  " AND lot = ? AND to_state = 'available'", product_id, row["location"],
                                  row["lot"])[0]
    far = "9999-12-31"
    rows.sort(key=lambda r: (r["expiry"] is None, str(r["expiry"] or far), r["lot"] == "", r["lot"],
                             str(r["received"] or far), r["pick_seq"], r["location"]))
    return rows[0]


# --- making tasks --------------------------------------------------------------------------------

def _new_code() -> str:
    return f"new-{uuid.uuid4().hex}"[:32]


def create_min(face_location_id: int, product_id: int, on_hand: int, min_qty: int, max_qty: int
               ) -> ReplenishmentTask | None:
    """A ``min`` task filling the face up to its maximum from the best source, or None when no
    reserve location has free units (the face waits for goods in)."""
    warehouse_id = Location.select(Location.warehouse).where(Location.id == face_location_id).scalar()
    source = best_source(product_id, warehouse_id, exclude=face_location_id)
    want = max(max_qty, min_qty) - on_hand
    if source is None or want <= 0:
        return None
    code = _new_code()
    # a pick at another station may have opened the face's task a moment ago: then this one is not made
    made = sql("INSERT INTO replenishment_task (code, warehouse_id, product_id, source_id, face_id, lot, qty, moved_qty,"
               " status, \"trigger\", priority, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'open', 'min', ?, ?)"
               " ON CONFLICT DO NOTHING", code, warehouse_id, product_id, source["location"], face_location_id,
               source["lot"], min(want, source["free"]), MIN_PRIORITY, utcnow()).rowcount
    if not made:
        return None
    task = ReplenishmentTask.get(ReplenishmentTask.code == code)
    task.code = f"RP{task.id}"
    ReplenishmentTask.update(code=task.code).where(ReplenishmentTask.id == task.id).execute()
    announce(warehouse_id)
    return task


# one statement on every tote scan of a pick (see server.db.sql): the face, its units, an open task
FACE_STATE = ("SELECT pf.min_qty, pf.max_qty, COALESCE((SELECT SUM(q.qty) FROM quant q"
              " WHERE q.product_id = pf.product_id AND q.location_id = pf.location_id AND q.state = 'available'), 0),"
              " EXISTS (SELECT 1 FROM replenishment_task r WHERE r.face_id = pf.location_id"
              f" AND r.product_id = pf.product_id AND r.{_ACTIVE_SQL})"
              " FROM pick_face pf WHERE pf.location_id = ? AND pf.product_id = ? AND pf.min_qty > 0")


# read with a pick line, in the same statement (scenarios/picking.py): whether a task runs for the
# line's face, and the face's units above its minimum when it has one and no task runs (else NULL)
LINE_FACE_COLUMNS = (
    "EXISTS (SELECT 1 FROM replenishment_task r WHERE r.face_id = l.location_id AND r.product_id = l.product_id"
    f" AND r.{_ACTIVE_SQL}),"
    " (SELECT COALESCE((SELECT SUM(q.qty) FROM quant q WHERE q.product_id = pf.product_id"
    " AND q.location_id = pf.location_id AND q.state = 'available'), 0) - pf.min_qty"
    " FROM pick_face pf WHERE pf.location_id = l.location_id AND pf.product_id = l.product_id AND pf.min_qty > 0"
    " AND NOT EXISTS (SELECT 1 FROM replenishment_task r WHERE r.face_id = pf.location_id"
    f" AND r.product_id = pf.product_id AND r.{_ACTIVE_SQL}) LIMIT 1)")


def goes_below_min(headroom: int | None, taken: int) -> bool:
    """Whether taking ``taken`` units leaves the face below its minimum (``headroom``: its units
    above the minimum as read with the line; None: no minimum, or a task runs already)."""
    return headroom is not None and headroom - taken < 0


def after_pick(product_id: int, location_id: int) -> ReplenishmentTask | None:
    """The minimum trigger, in the pick's transaction: the face below its minimum and no task
    open for it makes one."""
    row = sql_row(FACE_STATE, location_id, product_id)
    if row is None:
        return None
    min_qty, max_qty, on_hand, running = row
    if running or on_hand >= min_qty:
        return None
    return create_min(location_id, product_id, int(on_hand), min_qty, max_qty)


def plan(warehouse=None) -> list[ReplenishmentTask]:
    """Every face below its minimum without an open task gets one (``wavefloor replenish plan``)."""
    query = (PickFace.select(PickFace.location, PickFace.product, PickFace.min_qty, PickFace.max_qty)
             .join(Location).where(PickFace.min_qty > 0))
    if warehouse is not None:
        found = Warehouse.get_or_none(Warehouse.code == str(warehouse))
        if found is None:
            raise NotFound(f"no warehouse {warehouse!r}", warehouse=str(warehouse))
        query = query.where(Location.warehouse == found.id)
    made = []
    with write_transaction():
        for location_id, product_id, _, _ in query.order_by(Location.pick_seq, Location.id).tuples():
            task = after_pick(product_id, location_id)
            if task is not None:
                made.append(task)
    return made


def announce(warehouse_id: int) -> None:
    """Tell receivers' handhelds and the wall how many tasks wait (after commit)."""
    code = Warehouse.select(Warehouse.code).where(Warehouse.id == warehouse_id).scalar()
    waiting = ReplenishmentTask.select().where((ReplenishmentTask.warehouse == warehouse_id)
                                               & (ReplenishmentTask.status == "open")).count()
    events.publish("replenishment.waiting", {"warehouse": code, "waiting": waiting}, rooms=list(ROOMS))


# --- reading -------------------------------------------------------------------------------------

Source, Face = Location.alias(), Location.alias()


def _with_places(query):
    return (query.switch(ReplenishmentTask).join(Product).switch(ReplenishmentTask)
            .join(Source, on=(ReplenishmentTask.source == Source.id))
            .switch(ReplenishmentTask).join(Face, on=(ReplenishmentTask.face == Face.id)))


def _select():
    return _with_places(ReplenishmentTask.select(ReplenishmentTask, Product, Source, Face))


def get(code_or_id) -> ReplenishmentTask:
    text = str(code_or_id)
    task = _select().where((ReplenishmentTask.code == text) | (
        ReplenishmentTask.id == (int(text) if text.isdecimal() else -1))).first()
    if task is None:
        raise NotFound(f"no replenishment task {text}", task=text)
    return task


def in_hand(user_id: int) -> ReplenishmentTask | None:
    return (_select().where((ReplenishmentTask.user == user_id) & ReplenishmentTask.status.in_(IN_HAND))
            .order_by(ReplenishmentTask.id).first())


def waiting(warehouse_id: int | None = None, limit: int = 20) -> list[ReplenishmentTask]:
    """Open tasks in the order they should be done: demand before minimum, oldest first."""
    query = _select().where(ReplenishmentTask.status == "open")
    if warehouse_id is not None:
        query = query.where(ReplenishmentTask.warehouse == warehouse_id)
    return list(query.order_by(ReplenishmentTask.priority.desc(), ReplenishmentTask.created_at,
                               ReplenishmentTask.id).limit(limit))


def tasks(status: str | None = None, warehouse=None, limit: int = 100) -> list[ReplenishmentTask]:
    query = _select()
    if status:
        query = query.where(ReplenishmentTask.status == status)
    if warehouse is not None:
        query = query.join(Warehouse, JOIN.INNER, on=(ReplenishmentTask.warehouse == Warehouse.id)).where(
            Warehouse.code == str(warehouse))
    return list(query.order_by(ReplenishmentTask.status.in_(ACTIVE).desc(), ReplenishmentTask.priority.desc(),
                               ReplenishmentTask.id).limit(limit))


def expiry_of(task: ReplenishmentTask):
    return (Quant.select(Quant.expiry).where((Quant.product == task.product_id) & (Quant.location == task.source_id)
                                             & (Quant.lot == task.lot) & (Quant.state == "available")).scalar())


def task_view(task: ReplenishmentTask) -> dict:
    expiry = expiry_of(task)
    return {"id": task.id, "code": task.code, "status": task.status, "trigger": task.trigger,
            "sku": task.product.sku, "name": task.product.name, "source": task.source.code, "face": task.face.code,
            "lot": task.lot, "expiry": expiry.isoformat() if expiry else "", "qty": task.qty,
            "moved": task.moved_qty, "wave": task.wave.code if task.wave_id else "", "priority": task.priority}


# --- the replenisher's steps ----------------------------------------------------------------------

def claim_next(user_id: int, device_id: int | None, warehouse_id: int | None = None) -> ReplenishmentTask | None:
    """The first waiting task nobody holds, by a guarded update (two devices never get the same)."""
    for task in waiting(warehouse_id, limit=20):
        if REPLENISHMENT.move_if(task.id, "open", "assigned", user=user_id, device=device_id):
            announce(task.warehouse_id)
            return get(task.id)
    return None


def let_go(task: ReplenishmentTask) -> None:
    """assigned -> open: the task waits for anyone again."""
    REPLENISHMENT.move(task.id, "assigned", "open", user=None, device=None)
    announce(task.warehouse_id)


def at_source(task: ReplenishmentTask) -> None:
    """assigned -> moving: the replenisher stands at the source and takes units."""
    REPLENISHMENT.move(task.id, "assigned", "moving")
    task.status = "moving"


def count(task: ReplenishmentTask, moved_qty: int) -> None:
    """The units taken so far (a guarded update, like a pick line's count)."""
    rows = sql("UPDATE replenishment_task SET moved_qty = ? WHERE id = ? AND moved_qty = ? AND status = 'moving'",
               moved_qty, task.id, task.moved_qty).rowcount
    if rows != 1:
        raise Refused("invalid_transition")
    task.moved_qty = moved_qty


def _promised(task: ReplenishmentTask) -> list[tuple[int, int]]:
    """(allocation id, units) of the task's wave promised at its source, oldest first."""
    if task.wave_id is None:
        return []
    return list(Allocation.select(Allocation.id, Allocation.qty).join(OrderLine)
                .join(WaveOrder, on=(WaveOrder.order == OrderLine.order))
                .where((WaveOrder.wave == task.wave_id) & (OrderLine.product == task.product_id)
                       & (Allocation.location == task.source_id) & (Allocation.lot == task.lot))
                .order_by(Allocation.id).tuples())


def finish(task: ReplenishmentTask, actor: inventory.Actor) -> None:
    """moving -> done at the face: one ledger move source -> face of the units taken. A demand
    task's units were promised to its wave's orders at the source: the promise moves with them
    (the move uses it up, the face reserves the same units) and the allocations follow."""
    qty = task.moved_qty
    taken, reserved = [], 0
    for allocation_id, units in _promised(task):
        if reserved + units > qty:
            break
        taken.append(allocation_id)
        reserved += units
    ref = f"replenish:{task.code}"
    inventory.move(task.product_id, task.source_id, task.face_id, qty, actor=actor, lot=task.lot,
                   reserved=reserved, reason="replenish", ref=ref, expiry=expiry_of(task))
    if reserved:
        inventory.reserve(task.product_id, task.face_id, reserved, actor=actor, lot=task.lot, ref=ref)
        Allocation.update(location=task.face_id).where(Allocation.id.in_(taken)).execute()
    REPLENISHMENT.move(task.id, "moving", "done", done_at=utcnow())
    task.status = "done"
    events.publish("replenishment.done", {"task": task.code, "face": task.face.code, "sku": task.product.sku,
                                          "qty": qty, "wave": task.wave.code if task.wave_id else ""},
                   rooms=["role:picker", "wallboard"])
    announce(task.warehouse_id)


def cancel(code_or_id) -> ReplenishmentTask:
    """A supervisor's cancel (open or assigned). A demand task's picks go back to its source:
    the units are still promised there, and the pickers take them from the reserve location."""
    with write_transaction():
        task = get(code_or_id)
        _cancel(task)
    return task


def _cancel(task: ReplenishmentTask) -> None:
    REPLENISHMENT.move(task.id, task.status, "cancelled", user=None, device=None)
    task.status = "cancelled"
    promised = [allocation_id for allocation_id, _ in _promised(task)]
    if promised:
        PickLine.update(location=task.source_id).where(
            PickLine.allocation.in_(promised) & (PickLine.location == task.face_id)
            & PickLine.status.in_(OPEN_LINES)).execute()
    announce(task.warehouse_id)


# --- what a picker at an empty face is told -------------------------------------------------------

def must_wait(line, wave_id: int, remaining: int) -> str | None:
    """The code of the task a pick at ``line``'s face waits for, or None: a task is running for
    the face, and the line's units are in it (its wave's demand task, its allocation still at
    the source) or the face holds fewer than the line needs. One statement when none runs."""
    running = sql("SELECT code, \"trigger\", wave_id FROM replenishment_task WHERE face_id = ? AND product_id = ?"
                  f" AND {_ACTIVE_SQL} ORDER BY id", line.location_id, line.product_id).fetchall()
    if not running:
        return None
    for code, trigger, task_wave in running:
        if trigger == "demand" and task_wave == wave_id:
            if line.allocation_id is None:
                return code
            at = sql_row("SELECT location_id FROM allocation WHERE id = ?", line.allocation_id)
            if at is not None and at[0] != line.location_id:
                return code
    lot = " AND lot = ?" if line.lot else ""
    (on_hand,) = sql_row("SELECT COALESCE(SUM(qty), 0) FROM quant WHERE product_id = ? AND location_id = ?"
                         f" AND state = 'available'{lot}", line.product_id, line.location_id,
                         *([line.lot] if line.lot else []))
    return running[0][0] if on_hand < remaining else None
