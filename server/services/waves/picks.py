"""The picks (拣货) of a wave: a line read with its counts and its tote, units counted and
confirmed into totes, reservations used or given back, short picks re-allocated, and the
task, its orders and its wave finished when the last line is.

Called by the ``picking`` scenario (services/scenarios/picking.py) inside the command's write
transaction; status changes go through waves/lifecycle.py, and the wall screens hear of them
through waves/progress.py after commit.
"""
from __future__ import annotations

from peewee import fn

from server.db import sql, sql_row
from server.models import Allocation, Location, Order, OrderLine, PickLine, PickTask, Quant, User, Wave, WaveOrder
from server.models.layout import PICKABLE_KINDS
from server.models.waves import OPEN_LINE_SQL
from server.services.errors import DomainError, Refused
from server.services.orders import lifecycle as orders
from server.services.stock import inventory
from server.services.waves import lifecycle, wall
from server.services.waves.lifecycle import OPEN_LINE, PICKABLE_WAVES, SORTED_LATER
from server.services.waves.progress import floor_changed, publish_progress, task_assigned



# --- a line's counts ---------------------------------------------------------------------------

def moved(line: PickLine) -> int:
    """Units of the line already confirmed into a tote: the sum of its ledger lines
    (``ref = pick:<line>``), kept on the line as each is written."""
    return line.moved_qty


def pending(line: PickLine) -> int:
    """Units scanned for the line and still in the picker's hand."""
    return line.picked_qty - moved(line)


def remaining(line: PickLine) -> int:
    """Units the line still needs in a tote."""
    return line.qty - line.short_qty - moved(line)


# The updates below run on every scan, so they are written out (see server.db.sql).
LINE_COLUMNS = frozenset({"seq", "picked_qty", "moved_qty", "short_qty", "tote"})


def set_line(line: PickLine, **values) -> None:
    """Write a line's counts and tote (its status is its lifecycle's: waves/lifecycle.py)."""
    unknown = set(values) - LINE_COLUMNS
    if unknown:
        raise ValueError(f"not a pick line column: {sorted(unknown)}")
    names = sorted(values)
    sql(f"UPDATE pick_line SET {', '.join(f'{name} = ?' for name in names)} WHERE id = ?",
        *[values[name] for name in names], line.id)
    for name, value in values.items():
        setattr(line, name, value)


def count(line: PickLine, picked_qty: int) -> None:
    """Record the units scanned so far; a guarded update, so two devices of one picker cannot
    both count the same moment's units."""
    rows = sql("UPDATE pick_line SET picked_qty = ? WHERE id = ? AND picked_qty = ?",
               picked_qty, line.id, line.picked_qty).rowcount
    if rows != 1:
        raise Refused("invalid_transition")
    line.picked_qty = picked_qty


# --- totes -------------------------------------------------------------------------------------

def bound_tote(line: PickLine) -> str | None:
    """The tote already holding this cart slot's units (a slot is one order on a cluster cart;
    a task without slots fills one tote)."""
    if line.tote:
        return line.tote
    if hasattr(line, "slot_tote"):  # read with the line (picking.current_line)
        return line.slot_tote
    return (PickLine.select(PickLine.tote)
            .where((PickLine.task == line.task_id) & (PickLine.slot == line.slot) & (PickLine.tote != ""))
            .limit(1).scalar())


def check_tote(line: PickLine, code: str) -> Location:
    """The tote a scanned code names, if this line's units may go into it."""
    row = sql_row("SELECT id, warehouse_id, active FROM location WHERE code = ? AND kind = 'tote'", code)
    bound = bound_tote(line)
    # no tote is on the picker's screen yet: the refusal asks for an empty one for the slot
    empty = "empty_tote_for_slot" if line.slot else "empty_tote"
    if row is None or not row[2] or row[1] != line.location.warehouse_id:
        if bound is None:
            raise Refused(empty, scanned=code, slot=line.slot)
        raise Refused("wrong_tote", scanned=code, expected=bound)
    tote = Location(id=row[0], code=code, kind="tote", warehouse=row[1], active=True)
    if bound is not None:
        if bound != code:
            raise Refused("wrong_tote", scanned=code, expected=bound)
        return tote
    # the first tote scan of every task asks this, all of them at the start of a shift: written out
    (taken,) = sql_row("SELECT EXISTS (SELECT 1 FROM pick_line WHERE task_id = ? AND tote = ? AND slot <> ?)"
                       " OR EXISTS (SELECT 1 FROM quant WHERE location_id = ? AND qty > 0)",
                       line.task_id, code, line.slot, tote.id)
    if taken:
        raise Refused(empty, scanned=code, slot=line.slot, in_use=True)
    return tote


# --- finding work ------------------------------------------------------------------------------

def tote_example(warehouse_id: int) -> str:
    """One tote code of the warehouse, to show a picker what a tote's label reads like ("" when
    it has none). Asked when work is handed out, never on a scan."""
    totes = Location.select(Location.code).where(
        (Location.warehouse == warehouse_id) & (Location.kind == "tote") & (Location.active == True))  # noqa: E712
    return totes.order_by(Location.code).limit(1).scalar() or ""


def claim_next(picker: User, device_id: int | None) -> PickTask | None:
    """Claim the next open task of a wave pickers may work on: a guarded update whose row count
    says who won, so two devices asking at the same moment never get the same task (on SQLite
    and PostgreSQL alike)."""
    candidates = (PickTask.select(PickTask.id).join(Wave)
                  .where((PickTask.status == "open") & Wave.status.in_(PICKABLE_WAVES))
                  .order_by(Wave.released_at, Wave.id, PickTask.seq, PickTask.id).limit(20))
    for (task_id,) in candidates.tuples():
        if lifecycle.claim_task(task_id, picker.id, device_id):
            task = PickTask.get_by_id(task_id)
            task_assigned(task, picker)
            return task
    return None


# --- reservations behind a line --------------------------------------------------------------

def _allocations(line: PickLine) -> list[Allocation]:
    """The reservations a line draws on: its own, or for a batch line (many orders, one
    line) those of the wave's orders at the same location, most recently made first."""
    if line.allocation_id is not None:
        rows = sql("SELECT id, line_id, qty FROM allocation WHERE id = ?", line.allocation_id).fetchall()
    elif line.order_line_id is not None:
        return []
    else:
        rows = sql("SELECT a.id, a.line_id, a.qty FROM allocation a JOIN order_line ol ON ol.id = a.line_id"
                   " JOIN wave_order wo ON wo.order_id = ol.order_id JOIN pick_task t ON t.wave_id = wo.wave_id"
                   " WHERE t.id = ? AND ol.product_id = ? AND a.location_id = ? AND a.lot = ?"
                   " ORDER BY a.id DESC", line.task_id, line.product_id, line.location_id, line.lot).fetchall()
    return [Allocation(id=allocation_id, line=line_id, qty=qty, location=line.location_id, lot=line.lot)
            for allocation_id, line_id, qty in rows]


def _draw(line: PickLine, qty: int) -> list[tuple[Allocation, int]]:
    """Take up to ``qty`` units out of the line's reservations; returns what each gave."""
    taken = []
    for allocation in _allocations(line):
        if qty <= 0:
            break
        take = min(qty, allocation.qty)
        if take <= 0:
            continue
        if take == allocation.qty:
            sql("DELETE FROM allocation WHERE id = ?", allocation.id)
        else:
            sql("UPDATE allocation SET qty = qty - ? WHERE id = ?", take, allocation.id)
        sql("UPDATE order_line SET reserved_qty = reserved_qty - ? WHERE id = ?", take, allocation.line_id)
        taken.append((allocation, take))
        qty -= take
    return taken


# --- confirming units into a tote -------------------------------------------------------------

def confirm(task: PickTask, line: PickLine, tote: Location, qty: int, actor: inventory.Actor) -> None:
    """The units in hand go into the tote: one ledger line from the location to the tote that
    uses up their reservation; the order lines count them as picked."""
    drawn = _draw(line, qty)
    reserved = sum(take for _, take in drawn)
    inventory.move(line.product_id, line.location_id, tote.id, qty, actor=actor, lot=line.lot,
                   reserved=reserved, reason="pick", ref=f"pick:{line.id}")
    if line.order_line_id is not None:
        sql("UPDATE order_line SET picked_qty = picked_qty + ? WHERE id = ?", qty, line.order_line_id)
        _order_picking(line.order_id, actor)
    else:
        for allocation, take in drawn:
            sql("UPDATE order_line SET picked_qty = picked_qty + ? WHERE id = ?", take, allocation.line_id)
    finished = line.moved_qty + qty + line.short_qty >= line.qty
    if finished:
        lifecycle.finish_line(line, "short" if line.short_qty else "done", tote=tote.code,
                              moved_qty=line.moved_qty + qty)
    else:
        set_line(line, tote=tote.code, moved_qty=line.moved_qty + qty)
    state = sql_row("UPDATE pick_task SET units_done = units_done + ?, lines_done = lines_done + ? WHERE id = ?"
                    f" RETURNING {TASK_STATE}", qty, 1 if finished else 0, task.id, task.id)
    _after_change(task, actor, state)


def _order_picking(order_id, actor) -> None:
    status = sql_row('SELECT status FROM "order" WHERE id = ?', order_id)
    if status is not None and status[0] == "waved":
        orders.transition(Order.get_by_id(order_id), "picking", actor, "first unit picked")


# --- short picks (缺货) -------------------------------------------------------------------------

def short(task: PickTask, line: PickLine, missing: int, reason: str, actor: inventory.Actor) -> None:
    """``missing`` units are not at the location: the line is shortened, the location is to be
    counted, the reservation of the missing units is given back (and those units frozen until
    the count, so no other order is promised them), and each order line is re-allocated from
    another location as a new line at the end of this walk, or marked short."""
    in_hand = pending(line)
    location = Location.get_by_id(line.location_id)
    if missing > 0:
        set_line(line, short_qty=line.short_qty + missing)
        Location.update(needs_count=True).where(Location.id == location.id).execute()
        ref = f"short:{line.id}"
        drawn = _draw(line, missing)
        released = sum(take for _, take in drawn)
        if released:
            inventory.release(line.product_id, location.id, released, actor=actor, lot=line.lot, ref=ref)
            inventory.change_state(line.product_id, location.id, released, "available", "frozen", actor=actor,
                                   lot=line.lot, reason="short_pick", ref=ref)
        if line.order_line_id is not None:
            owed = [(line.order_line_id, missing)]
        else:
            owed = [(allocation.line_id, take) for allocation, take in drawn]
        added = 0
        for order_line_id, qty in owed:
            added += _reallocate(task, line, OrderLine.get_by_id(order_line_id), qty, reason, actor)
        PickTask.update(units_total=PickTask.units_total - missing + added).where(
            PickTask.id == task.id).execute()
        floor_changed()  # the wall's exceptions: the short pick, the location to count
    if in_hand == 0:
        lifecycle.finish_line(line, "short")
        PickTask.update(lines_done=PickTask.lines_done + 1).where(PickTask.id == task.id).execute()
    _after_change(task, actor)


def _reallocate(task: PickTask, line: PickLine, order_line: OrderLine, qty: int, reason: str,
                actor: inventory.Actor) -> int:
    """Reserve ``qty`` units for the order line elsewhere and add lines to pick them; what
    cannot be found is marked short on the order line. Returns the units re-allocated."""
    warehouse_id = Location.select(Location.warehouse).where(Location.id == line.location_id).scalar()
    candidates = (Quant.select(Quant.location, Quant.lot, (Quant.qty - Quant.reserved).alias("free"))
                  .join(Location)
                  .where((Quant.product == line.product_id) & (Quant.state == "available")
                         & (Quant.qty > Quant.reserved) & Location.kind.in_(PICKABLE_KINDS)
                         & (Location.active == True) & (Location.needs_count == False)  # noqa: E712
                         & (Location.warehouse == warehouse_id) & (Location.id != line.location_id))
                  .order_by(Location.kind != "pick", Location.pick_seq, Location.id).dicts())
    need = qty
    order = Order.get_or_none(Order.id == order_line.order_id)
    slot = line.slot
    for row in candidates:
        if need == 0:
            break
        take = min(need, row["free"])
        try:
            inventory.reserve(line.product_id, row["location"], take, actor=actor, lot=row["lot"],
                              ref=f"order:{order_line.order_id}")
        except DomainError:
            continue  # promised to someone else meanwhile; try the next location
        allocation = Allocation.create(line=order_line.id, location=row["location"], lot=row["lot"], qty=take)
        OrderLine.update(reserved_qty=OrderLine.reserved_qty + take).where(OrderLine.id == order_line.id).execute()
        last = PickLine.select(fn.MAX(PickLine.seq)).where(PickLine.task == task.id).scalar() or 0
        if line.order_line_id is None:  # a batch line's share: the order's own slot
            slot = (WaveOrder.select(WaveOrder.slot).where(WaveOrder.order == order_line.order_id).scalar()
                    or 0)
        PickLine.create(task=task.id, seq=last + 1, order=order_line.order_id, order_line=order_line.id,
                        allocation=allocation.id, product=line.product_id, location=row["location"],
                        lot=row["lot"], qty=take, slot=slot)
        PickTask.update(lines_total=PickTask.lines_total + 1).where(PickTask.id == task.id).execute()
        need -= take
    if need:
        OrderLine.update(short_qty=OrderLine.short_qty + need).where(OrderLine.id == order_line.id).execute()
    if order is not None:
        orders.record(order, "short", f"{order_line.sku_code} -{qty} ({reason}); "
                                      f"re-allocated {qty - need}, short {need}", actor)
    return qty - need


# --- finishing ---------------------------------------------------------------------------------

def _finish_task(task: PickTask, actor: inventory.Actor) -> None:
    lifecycle.finish_task(task)
    wave = Wave.get_by_id(task.wave_id)
    if wave.strategy not in SORTED_LATER:
        order_ids = {row[0] for row in PickLine.select(PickLine.order)
                     .where((PickLine.task == task.id) & PickLine.order.is_null(False)).tuples()}
        for order in Order.select().where(Order.id.in_(list(order_ids)) & Order.status.in_(("waved", "picking"))):
            if not _lines_left(order.id):
                orders.transition(order, "picked", actor, task.code)
    unfinished = (PickTask.select().where((PickTask.wave == wave.id)
                                          & PickTask.status.not_in(("done", "cancelled"))).exists())
    if not unfinished:
        lifecycle.finish_picking(wave)
    if wave.strategy in SORTED_LATER:
        # an order whose last units were shorted has nothing left to put, so no put completes it;
        # after the move above, so that a wave left with nothing to sort is done too
        wall.complete_filled(wave, actor)


def _lines_left(order_id: int) -> bool:
    return (PickLine.select().join(PickTask)
            .where((PickLine.order == order_id) & PickLine.status.in_(OPEN_LINE)
                   & (PickTask.status != "cancelled")).exists())


# what _after_change reads of a task: its status, its counts and whether a line is still open
# (the task's id is the last parameter)
TASK_STATE = ("status, lines_total, lines_done, units_total, units_done,"
              f" EXISTS (SELECT 1 FROM pick_line WHERE task_id = ? AND ({OPEN_LINE_SQL}))")


def _after_change(task: PickTask, actor: inventory.Actor, state: tuple | None = None) -> None:
    """After a confirm or a short: finish the task when no line is left, bring the in-hand task's
    status and counts up to date (the answer shows them) and tell the floor. ``state`` is the
    task's row of :data:`TASK_STATE` when the caller's update returned it already."""
    if state is None:
        state = sql_row(f"SELECT {TASK_STATE} FROM pick_task WHERE id = ?", task.id, task.id)
    (task.status, task.lines_total, task.lines_done, task.units_total, task.units_done, lines_open) = state
    if not lines_open:
        _finish_task(task, actor)  # sets task.status
    # the picker's device has all this in its answer; the wall screens hear it coalesced
    publish_progress(task.wave_id, task.id)
