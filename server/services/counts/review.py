"""The supervisor's side of cycle counts: the counts waiting for a decision with what was counted
against what the ledger expected, approve or reject, and the inventory accuracy of each week.

A recount's result is the one decided: approving it posts its variance (postings.py) and closes
the count it checked; rejecting both leaves the ledger as it is and the location flagged, to be
counted again.
"""
from __future__ import annotations

from server.db import write_transaction
from server.models import AuditLog, CountTask, Location, User, Warehouse
from server.models.base import as_utc, utcnow
from server.services.counts import accuracy as weekly
from server.services.counts import postings, tasks
from server.services.counts.lifecycle import COUNT_TASK
from server.services.errors import DomainError, InvalidTransition


def iso(value) -> str | None:
    return as_utc(value).isoformat() if value else None


def lines_view(task, *, blind: bool = False) -> list[dict]:
    """The lines of a count; ``blind`` leaves out what the ledger expected (a counter's view)."""
    out = []
    for sku, name, lot, counted, expected_at_start, moved, _product, cost, price in tasks.line_rows(task.id):
        item = {"sku": sku, "name": name, "lot": lot, "counted": counted}
        if not blind:
            expected = expected_at_start + moved
            item.update(expected_at_start=expected_at_start, moved=moved, expected=expected,
                        variance=counted - expected, variance_fen=(counted - expected) * (cost or price or 0))
        out.append(item)
    return out


def task_view(task: CountTask, *, lines: bool = True) -> dict:
    users = {u.id: u for u in User.select().where(User.id.in_([i for i in (task.user_id, task.approver_id) if i]
                                                             or [0]))}
    location = Location.get_by_id(task.location_id)
    view = {"code": task.code, "status": task.status, "reason": task.reason, "blind": task.blind,
            "warehouse": Warehouse.get_by_id(task.warehouse_id).code, "location": location.code,
            "counter": users[task.user_id].code if task.user_id in users else None,
            "approver": users[task.approver_id].code if task.approver_id in users else None,
            "recount_of": CountTask.get_by_id(task.recount_of_id).code if task.recount_of_id else None,
            "variance_units": task.variance_units, "variance_fen": task.variance_fen,
            "created_at": iso(task.created_at), "started_at": iso(task.started_at),
            "counted_at": iso(task.counted_at), "decided_at": iso(task.decided_at), "note": task.note}
    if lines:
        view["lines"] = lines_view(task)
    return view


def listing(status: str | None = None, location: str | None = None, warehouse: str | None = None,
            limit: int = 100) -> list[dict]:
    query = CountTask.select().order_by(CountTask.id.desc()).limit(limit)
    if status:
        wanted = [s.strip() for s in status.split(",") if s.strip()]
        query = query.where(CountTask.status.in_(wanted))
    if location:
        query = query.where(CountTask.location == Location.get_or_none(Location.code == location))
    if warehouse:
        query = query.where(CountTask.warehouse == tasks.warehouse_of(warehouse))
    return [task_view(task, lines=False) for task in query]


def waiting_review() -> list[dict]:
    """The counts a supervisor decides: each recount in review beside the first count it checked."""
    out = []
    for task in CountTask.select().where(CountTask.status == "review").order_by(CountTask.counted_at, CountTask.id):
        if task.recount_of_id is None and CountTask.select().where(
                (CountTask.recount_of == task.id) & (CountTask.status == "review")).exists():
            continue  # shown with its recount
        view = task_view(task)
        if task.recount_of_id:
            view["first_count"] = task_view(CountTask.get_by_id(task.recount_of_id))
        out.append(view)
    return out


def _decidable(code: str) -> CountTask:
    task = tasks.by_code(code)
    if task.status != "review":
        raise InvalidTransition("count_task", task.status, "approved")
    if task.recount_of_id is None and CountTask.select().where(
            (CountTask.recount_of == task.id) & (CountTask.status == "review")).exists():
        raise DomainError("decide the recount of this count", code=code)
    return task


def approve(code: str, approver_id: int, note: str = "") -> dict:
    """Post the recount's variance (one adjustment a line), close both counts."""
    task = _decidable(code)
    now = utcnow()
    with write_transaction():
        COUNT_TASK.move(task.id, "review", "approved", approver=approver_id, decided_at=now, note=note[:500])
        if task.recount_of_id:
            COUNT_TASK.move(task.recount_of_id, "review", "approved", approver=approver_id, decided_at=now,
                            note=f"recounted: {task.code}")
        made = postings.post(task, approver_id, note)
        tasks.changed(task, "approved")
    return dict(task_view(CountTask.get_by_id(task.id)), adjustments=made)


def reject(code: str, approver_id: int, reason: str = "") -> dict:
    """Nothing is posted; the location stays flagged to be counted again."""
    task = _decidable(code)
    now = utcnow()
    with write_transaction():
        COUNT_TASK.move(task.id, "review", "rejected", approver=approver_id, decided_at=now, note=reason[:500])
        if task.recount_of_id:
            COUNT_TASK.move(task.recount_of_id, "review", "rejected", approver=approver_id, decided_at=now,
                            note=f"recount {task.code} rejected")
        Location.update(needs_count=True).where(Location.id == task.location_id).execute()
        AuditLog.create(user=approver_id, action="count.rejected", target=f"count:{task.code}", detail=reason[:500])
        tasks.changed(task, "rejected")
    return task_view(CountTask.get_by_id(task.id))


def cancel(code: str, actor_id: int) -> dict:
    task = tasks.by_code(code)
    with write_transaction():
        COUNT_TASK.move(task.id, task.status, "cancelled")
        AuditLog.create(user=actor_id, action="count.cancelled", target=f"count:{task.code}")
        tasks.announce(task.warehouse_id)
    return task_view(CountTask.get_by_id(task.id), lines=False)


def accuracy(weeks: int = 8, today=None, warehouse: str | None = None) -> dict:
    """Inventory accuracy per week (accuracy.py), for one warehouse by its code or for all."""
    found = tasks.warehouse_of(warehouse)
    return weekly.weekly(weeks, today, found.id if found is not None else None)
