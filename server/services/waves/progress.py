"""What the wall screens hear of picking: a wave's progress, the changed tasks' counts and
the floor's exceptions, coalesced to one ``wave.progress`` per wave each quarter second however fast the scans come,
and ``task.assigned`` to the picker who got a task.

Events are published inside the writer's transaction and delivered after it commits.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from server import events
from server.db import after_commit, database, sql, sql_row
from server.models import PickTask, User, Wave
from server.models.base import utcnow

log = logging.getLogger(__name__)


def totals(wave: Wave) -> dict:
    """The wave's totals for the wall screen, summed by the database in one statement (four
    times a second during picking; fetching its 200 tasks through the models took 1.5 ms)."""
    tasks, tasks_done, lines_total, lines_done, units_total, units_done = sql_row(
        "SELECT COUNT(*), SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), SUM(lines_total), SUM(lines_done),"
        " SUM(units_total), SUM(units_done) FROM pick_task WHERE wave_id = ? AND status <> 'cancelled'", wave.id)
    return {"wave": wave.id, "code": wave.code, "status": wave.status, "strategy": wave.strategy,
            "orders": wave.orders_count, "lines": wave.lines_count, "units": wave.units_count,
            "tasks": tasks, "tasks_done": int(tasks_done or 0),
            "lines_total": int(lines_total or 0), "lines_done": int(lines_done or 0),
            "units_total": int(units_total or 0), "units_done": int(units_done or 0),
            "planned_metres": wave.planned_metres, "fcfs_metres": wave.fcfs_metres}


TASK_PAYLOAD = ("task", "code", "wave", "status", "picker", "lines_total", "lines_done", "units_total", "units_done")
# the same, read for every picked task of a wave at each wall-screen flush (see flush_progress)
WAVE_TASK_ROWS = ("SELECT id, code, wave_id, status, picker_id, lines_total, lines_done, units_total, units_done"
                  " FROM pick_task WHERE wave_id = ? AND picker_id IS NOT NULL")


def task_payload(task: PickTask) -> dict:
    return dict(zip(TASK_PAYLOAD, (task.id, task.code, task.wave_id, task.status, task.picker_id, task.lines_total,
                                   task.lines_done, task.units_total, task.units_done)))


def task_assigned(task: PickTask, user: User) -> None:
    """The picker's device hears of its new task, and so do the wall screens' picker rows."""
    events.publish("task.assigned", task_payload(task), rooms=[f"user:{user.id}", "wallboard"])


def picker_rates(wave: Wave) -> list[dict]:
    """Lines and units each picker has put into totes in this wave, and units per hour since
    their first scan in it."""
    rows = sql('SELECT u.code, u.name, SUM(t.lines_done), SUM(t.units_done), MIN(t.started_at) FROM pick_task t'
               ' JOIN "user" u ON u.id = t.picker_id WHERE t.wave_id = ? GROUP BY u.code, u.name ORDER BY u.code',
               wave.id).fetchall()
    now = utcnow()
    rates = []
    for code, name, lines, units, started in rows:
        if isinstance(started, str):  # SQLite hands an aggregate back as text
            started = dt.datetime.fromisoformat(started)
        hours = max((now - started).total_seconds(), 60) / 3600 if started else None
        rates.append({"picker": code, "name": name, "lines": int(lines or 0), "units": int(units or 0),
                      "units_per_hour": round(int(units or 0) / hours, 1) if hours else 0.0})
    return rates


def progress(wave: Wave) -> dict:
    """What ``wave.progress`` carries: the wave's totals and each picker's rate."""
    return dict(totals(wave), pickers=picker_rates(wave))


_ALONGSIDE: dict[str, Callable[[], object]] = {}


def alongside(name: str):
    """Register a reader whose value a ``wave.progress`` carries under ``name`` when
    :func:`floor_changed` was called since the last flush, read once for that flush: what a short
    pick changes but is summed above this module (the wall's exceptions, scenarios/wallboard.py),
    so that it reaches the screens in the same event as the progress. A flush of confirms alone
    does not read it (it took three quarters of a flush, four times a second in each process)."""
    def register(read: Callable[[], object]) -> Callable[[], object]:
        _ALONGSIDE[name] = read
        return read
    return register


PROGRESS_EVERY_S = 0.25  # a burst of scans becomes one event per wave and per task each quarter second
_dirty_waves: set[int] = set()
_dirty_tasks: set[int] = set()
_floor_changed = False  # the next flush reads the readers of alongside()
_guard = threading.Lock()


def publish_progress(wave_id: int, task_id: int | None = None) -> None:
    """Send the wave's progress (and the task's counts, for the picker rows) to the wall screens
    after commit, coalesced: computing progress reads every task of the wave, which must not
    happen once per scan at a thousand scans a second, nor must a wall screen redraw that often."""
    after_commit(lambda: _mark_dirty(wave_id, task_id))


def floor_changed() -> None:
    """What the floor's exceptions show changed in this transaction (a short pick): the next
    ``wave.progress`` after commit carries them (:func:`alongside`)."""
    after_commit(_mark_floor_changed)


def _mark_floor_changed() -> None:
    global _floor_changed
    with _guard:
        _floor_changed = True


def _mark_dirty(wave_id: int, task_id: int | None) -> None:
    with _guard:
        scheduled = bool(_dirty_waves)
        _dirty_waves.add(wave_id)
        if task_id is not None:
            _dirty_tasks.add(task_id)
    if scheduled:
        return
    events.call_later(PROGRESS_EVERY_S, flush_progress)


def flush_progress() -> None:
    """One ``wave.progress`` per dirty wave, carrying the rows of its tasks that changed
    (``changed_tasks``, each shaped as ``task.changed``) and, after a short pick, what
    :func:`alongside` registered, read once per flush: at a thousand scans a second most of
    200 tasks change every quarter second, and an event for each held the process for more than
    15 ms per flush. The rows are read written out: 200 task models took 5 ms, the whole process
    waiting, four times a second."""
    global _floor_changed
    with _guard:
        wave_ids, task_ids = sorted(_dirty_waves), sorted(_dirty_tasks)
        _dirty_waves.clear()
        _dirty_tasks.clear()
        read_alongside = _floor_changed and bool(wave_ids)
        if read_alongside:
            _floor_changed = False
    if not wave_ids:
        return
    changed_ids = set(task_ids)
    try:
        with database.connection_context():
            alongside = {name: read() for name, read in _ALONGSIDE.items()} if read_alongside else {}
            for wave in Wave.select().where(Wave.id.in_(wave_ids)):
                changed = [dict(zip(TASK_PAYLOAD, row)) for row in sql(WAVE_TASK_ROWS, wave.id).fetchall()
                           if row[0] in changed_ids]
                events.publish("wave.progress", dict(progress(wave), changed_tasks=changed, **alongside),
                               rooms=["wallboard"])
    except Exception:  # the wall screen catches up with the next scan or its next snapshot
        log.exception("wave progress for %s failed", wave_ids)
