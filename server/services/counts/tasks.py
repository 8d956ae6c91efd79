"""A count task on the floor (盘点任务): claimed by a counter, started at the location's scan,
counted unit by unit (or by a typed quantity), and submitted.

The concurrency rule: a count holds the ledger's figure at its first scan (``CountLine.expected``)
and, when submitted, the units moved in or out of the location since then by anyone
(``CountLine.moved``, read from the ledger: picks, putaways, moves). Picks go on meanwhile; the
variance is counted - (expected + moved), the count taken as of the moment it is submitted.

A recount (``recount_of``) is never taken by the counter of the count it checks.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from peewee import JOIN

from server import events
from server.db import is_sqlite, sql, sql_row, write_transaction
from server.models import CountLine, CountTask, StockMove, Warehouse
from server.models.base import utcnow
from server.services.counts import accuracy as weekly
from server.services.counts import postings
from server.services.counts.lifecycle import COUNT_TASK
from server.services.errors import NotFound, Refused
from server.services.stock.inventory import MAX_QTY

#: a location in a count: not to be planned again
ACTIVE = ("open", "counting", "counted", "recounted", "review")


@dataclass
class Scanned:
    """The units a scan or a typed quantity counts: the line's product and lot, and how many
    units one of the code counts (a case code its pack)."""
    product_id: int
    lot: str
    per_scan: int


# --- finding and taking work ----------------------------------------------------------------------
# Every counting scan reads the counter's task and its lines and counts one line: those statements
# are written out (see server.db.sql). Through the models a scan took about 2 ms of the server's
# CPU, written out about 0.15 ms, the echo server's figure (tests/bench/bench_counts.py).

class Held(SimpleNamespace):
    """A count task as a scan reads it, in one row: the :class:`CountTask` columns the counting
    path uses, under the same names (a foreign key as ``<name>_id``), and its location's code as
    ``location_code``. Never saved."""


HELD_SQL = ("SELECT t.id, t.code, t.status, t.reason, t.blind, t.recount_of_id, t.started_at, t.user_id,"
            " t.device_id, t.location_id, t.warehouse_id, l.code FROM count_task t"
            " JOIN location l ON l.id = t.location_id WHERE t.user_id = ? AND t.status = 'counting'"
            " ORDER BY t.id LIMIT 1")


def held_by(user_id: int) -> Held | None:
    """The task a counter is counting (a reloaded device returns to it)."""
    row = sql_row(HELD_SQL, user_id)
    if row is None:
        return None
    (task_id, code, status, reason, blind, recount_of, started_at, user, device, location, warehouse,
     location_code) = row
    return Held(id=task_id, code=code, status=status, reason=reason, blind=bool(blind), recount_of_id=recount_of,
                started_at=CountTask.started_at.python_value(started_at), user_id=user, device_id=device,
                location_id=location, warehouse_id=warehouse, location_code=location_code)


def line_rows(task_id: int) -> list[tuple]:
    """(sku, name, lot, counted, expected, moved, product id) of each line, by SKU and lot."""
    return sql("SELECT p.sku, p.name, c.lot, c.counted, c.expected, c.moved, p.id, p.cost_fen, p.price_fen"
               " FROM count_line c JOIN product p ON p.id = c.product_id WHERE c.task_id = ?"
               " ORDER BY p.sku, c.lot", task_id).fetchall()


def _takeable(user_id: int):
    """Open tasks this counter may take: never a recount of their own count."""
    first = CountTask.alias()
    return (CountTask.select(CountTask.id)
            .join(first, on=(CountTask.recount_of == first.id), join_type=JOIN.LEFT_OUTER)
            .where((CountTask.status == "open") & ((first.user.is_null(True)) | (first.user != user_id))))


def waiting_for(user_id: int) -> int:
    return _takeable(user_id).count()


def claim(user_id: int, device_id: int | None) -> CountTask | None:
    """The counter's task, or the next open one (recounts first, then flagged locations, oldest
    first): a guarded update, so two devices asking at the same moment never get the same task."""
    held = held_by(user_id)
    if held is not None:
        return held
    candidates = (_takeable(user_id)
                  .order_by(CountTask.recount_of.is_null(True), CountTask.reason != "flagged", CountTask.id)
                  .limit(20))
    for (task_id,) in candidates.tuples():
        with write_transaction():
            if COUNT_TASK.move_if(task_id, "open", "counting", user=user_id, device=device_id):
                return held_by(user_id)
    return None


def hand_back(task: CountTask) -> None:
    """The counter gives the task up: counted units are forgotten and anyone may take it again."""
    with write_transaction():
        COUNT_TASK.move(task.id, "counting", "open", guard=("user_id = ?", (task.user_id,)),
                        user=None, device=None, started_at=None)
        CountLine.delete().where(CountLine.task == task.id).execute()
        announce(task.warehouse_id)


# --- counting ---------------------------------------------------------------------------------------

def _physical(location_id: int) -> dict[tuple[int, str], int]:
    """Units at a location by (product, lot), every state together: a counter sees units, not
    their state. On PostgreSQL the location's quants are locked first, so a move in flight
    commits before the figure is read (and is then in it, not in ``moved``)."""
    if not is_sqlite():
        sql("SELECT id FROM quant WHERE location_id = ? ORDER BY id FOR UPDATE", location_id)
    rows = sql("SELECT product_id, lot, SUM(qty) FROM quant WHERE location_id = ? GROUP BY product_id, lot",
               location_id).fetchall()
    return {(product, lot): int(qty) for product, lot, qty in rows if qty}


def start(task: CountTask, code: str) -> CountTask:
    """The location's scan: the ledger's figure of every SKU and lot there is taken now."""
    if code != task.location_code:
        raise Refused("wrong_location", scanned=code[:64], location=task.location_code)
    if task.started_at is not None:
        return task
    with write_transaction():
        figures = _physical(task.location_id)
        now = utcnow()
        _stamp(task, now)
        for (product_id, lot), qty in sorted(figures.items()):
            CountLine.create(task=task.id, product=product_id, lot=lot, expected=qty)
    task.started_at = now
    return task


def _stamp(task: CountTask, now) -> None:
    """The first scan's time, set once (the status stays ``counting``)."""
    rows = sql("UPDATE count_task SET started_at = ? WHERE id = ? AND status = 'counting' AND user_id = ?"
               " AND started_at IS NULL", CountTask.started_at.db_value(now), task.id, task.user_id).rowcount
    if rows != 1:
        raise Refused("no_count_task")


def resolve(task: CountTask, code: str, scanned_item) -> Scanned:
    """What a scanned item counts at this task's location. A code without a lot names the lot
    when the location holds one lot of the SKU; with several, the lot's code must be scanned."""
    lot = scanned_item.lot
    if not lot:
        lots = [row[0] for row in sql("SELECT lot FROM count_line WHERE task_id = ? AND product_id = ?",
                                      task.id, scanned_item.id).fetchall()]
        if len(lots) > 1:
            raise Refused("count_lot_required", scanned=code[:64], lots=", ".join(sorted(lots))[:200])
        lot = lots[0] if lots else ""
    return Scanned(scanned_item.id, lot, scanned_item.per_scan)


def _count(task, item: Scanned, units: int, *, replace: bool) -> None:
    """Add ``units`` to the line (or, with ``replace``, make them its count). Nothing is refused
    once it writes, so inside the command's transaction it takes no savepoint."""
    change = "?" if replace else "counted + ?"
    with write_transaction(savepoint=False):
        rows = sql(f"UPDATE count_line SET counted = {change} WHERE task_id = ? AND product_id = ? AND lot = ?",
                   units, task.id, item.product_id, item.lot).rowcount
        if rows == 0:
            sql("INSERT INTO count_line (task_id, product_id, lot, expected, moved, counted) VALUES (?, ?, ?, 0, 0, ?)",
                task.id, item.product_id, item.lot, units)


def add(task, item: Scanned, units: int) -> None:
    """``units`` more of a SKU and lot counted (a new SKU here gets a line expecting none)."""
    _count(task, item, units, replace=False)


def set_count(task, item: Scanned, qty) -> None:
    """A typed quantity: ``qty`` of what the code names (cases for a case code) is the line's whole
    count."""
    if isinstance(qty, str) and qty.strip().isdecimal() and len(qty.strip()) <= len(str(MAX_QTY)):
        qty = int(qty.strip())
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 <= qty * item.per_scan <= MAX_QTY:
        raise Refused("invalid_quantity", qty=str(qty)[:20])
    _count(task, item, qty * item.per_scan, replace=True)


def counted_units(task) -> int:
    return int(sql_row("SELECT COALESCE(SUM(counted), 0) FROM count_line WHERE task_id = ?", task.id)[0])


# --- submitting ---------------------------------------------------------------------------------------

def moved_since(location_id: int, since) -> dict[tuple[int, str], int]:
    """Units in (+) and out (-) of a location since ``since``, by (product, lot), from the ledger.
    A change of state in place is in and out at once (nothing moved); a reservation moves nothing."""
    rows = sql("SELECT product_id, lot,"
               " SUM(CASE WHEN to_location_id = ? THEN qty ELSE 0 END)"
               " - SUM(CASE WHEN from_location_id = ? THEN qty ELSE 0 END)"
               " FROM stock_move WHERE (from_location_id = ? OR to_location_id = ?) AND at > ? AND qty <> 0"
               " GROUP BY product_id, lot", location_id, location_id, location_id, location_id,
               StockMove.at.db_value(since)).fetchall()
    return {(product, lot): int(net) for product, lot, net in rows if net}


@dataclass(frozen=True)
class Thresholds:
    """Above either, a count is recounted by another counter (settings COUNT_RECOUNT_UNITS,
    COUNT_RECOUNT_FEN)."""
    units: int = 2
    fen: int = 10000


@dataclass(frozen=True)
class Submitted:
    task: CountTask
    recount: CountTask | None   # the recount it asked for, if any
    decided: str                # approved (no variance, or within the thresholds), recount, review


def submit(task: CountTask, thresholds: Thresholds, *, empty: bool = False) -> Submitted:
    """The counter is done (``empty``: the location holds nothing). The moves since the first scan
    are read, the variance of each line fixed, and the task goes on: a recount's result to the
    supervisor; a first count with no variance, or one within both thresholds, approved (its
    variance posted); above either, a recount for another counter."""
    from_review = task.recount_of_id is not None
    with write_transaction():
        if empty:
            sql("UPDATE count_line SET counted = 0 WHERE task_id = ?", task.id)
        held = {(row[6], row[2]) for row in line_rows(task.id)}
        for (product_id, lot), net in moved_since(task.location_id, task.started_at).items():
            if (product_id, lot) in held:
                sql("UPDATE count_line SET moved = ? WHERE task_id = ? AND product_id = ? AND lot = ?",
                    net, task.id, product_id, lot)
            else:  # units of a SKU the location did not hold when the count began
                CountLine.create(task=task.id, product=product_id, lot=lot, moved=net)
        off_units = off_fen = 0
        for _sku, _name, _lot, counted, expected, moved, _product, cost, price in line_rows(task.id):
            off = abs(counted - (expected + moved))
            off_units += off
            off_fen += off * (cost or price or 0)
        now = utcnow()
        COUNT_TASK.move(task.id, "counting", "counted", guard=("user_id = ?", (task.user_id,)),
                        counted_at=now, variance_units=off_units, variance_fen=off_fen)
        recount = None
        if from_review:
            decided = "review"
            COUNT_TASK.move(task.id, "counted", "review")
            COUNT_TASK.move(task.recount_of_id, "recounted", "review")
        elif off_units == 0 or (off_units <= thresholds.units and off_fen <= thresholds.fen):
            decided = "approved"
            COUNT_TASK.move(task.id, "counted", "approved", decided_at=now)
            task.counted_at = now
            postings.post(task, None, "no variance" if off_units == 0 else "within the recount thresholds")
        else:
            decided = "recount"
            COUNT_TASK.move(task.id, "counted", "recounted")
            recount = create(task.warehouse_id, task.location_id, "recount", recount_of=task.id)
        changed(task, "review" if from_review else decided)
    task = CountTask.get_by_id(task.id)
    return Submitted(task, recount, decided)


# --- making tasks -----------------------------------------------------------------------------------

def create(warehouse_id: int, location_id: int, reason: str, *, recount_of: int | None = None,
           blind: bool = True, tell: bool = True) -> CountTask:
    """A new open count task; its code is its number (``CNT-000042``). ``tell``: announce it now
    (a plan of many tasks announces once)."""
    with write_transaction():
        task = CountTask.create(code=f"new-{location_id}-{utcnow().timestamp()}"[:32], warehouse=warehouse_id,
                                location=location_id, reason=reason[:32], blind=blind, recount_of=recount_of)
        code = f"CNT-{task.id:06d}"
        CountTask.update(code=code).where(CountTask.id == task.id).execute()
        task.code = code
        if tell:
            announce(warehouse_id)
    return task


def announce(warehouse_id: int) -> None:
    """``count.waiting`` to the counters and the control room, after commit: how many counts wait."""
    code = sql_row("SELECT code FROM warehouse WHERE id = ?", warehouse_id)[0]
    waiting = sql_row("SELECT COUNT(*) FROM count_task WHERE warehouse_id = ? AND status = 'open'", warehouse_id)[0]
    events.publish("count.waiting", {"warehouse": code, "waiting": int(waiting)},
                   rooms=["role:receiver", "wallboard", f"warehouse:{code}"])


def changed(task: CountTask, status: str) -> None:
    """``count.changed`` to the control room and the wall: a count was submitted or decided, with
    this week's inventory accuracy as it now stands."""
    location = sql_row("SELECT code FROM location WHERE id = ?", task.location_id)[0]
    events.publish("count.changed", {"task": task.code, "location": location, "status": status,
                                     "accuracy": weekly.weekly(1)["current"]}, rooms=["wallboard"])


def by_code(code: str) -> CountTask:
    task = CountTask.get_or_none(CountTask.code == code)
    if task is None:
        raise NotFound(f"no count task {code!r}", code=code)
    return task


def warehouse_of(code: str | None) -> Warehouse | None:
    if not code:
        return None
    found = Warehouse.get_or_none(Warehouse.code == code)
    if found is None:
        raise NotFound(f"unknown warehouse {code!r}", code=code)
    return found
