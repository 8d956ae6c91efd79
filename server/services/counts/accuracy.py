"""Inventory accuracy (库存准确率) per week: of the locations counted, the share without a
variance, and the share of the counted value (at cost, price when no cost) they hold.

Each location counts once a week, by its latest approved count; a recount stands for the count it
checked. Rejected and cancelled counts are not counts.
"""
from __future__ import annotations

import datetime as dt

from peewee import fn

from server.models import CountLine, CountTask, Product
from server.models.base import as_utc, utcnow


def final_counts(since: dt.datetime, until: dt.datetime | None = None):
    """Approved counts decided in the period, each location's count once: a recount stands for the
    count it checked. ``until`` excluded."""
    recounted = CountTask.alias()
    query = (CountTask.select().where(
        (CountTask.status == "approved") & (CountTask.decided_at >= since)
        & ~fn.EXISTS(recounted.select(recounted.id).where((recounted.recount_of == CountTask.id)
                                                          & (recounted.status == "approved")))))
    if until is not None:
        query = query.where(CountTask.decided_at < until)
    return query


def _counted_value(task_ids: list[int]) -> dict[int, int]:
    """Each count's units as the ledger had them, at cost (price when no cost), in fen."""
    value = fn.SUM((CountLine.expected + CountLine.moved)
                   * fn.COALESCE(fn.NULLIF(Product.cost_fen, 0), Product.price_fen, 0))
    rows = (CountLine.select(CountLine.task, value).join(Product).where(CountLine.task.in_(task_ids or [0]))
            .group_by(CountLine.task).tuples())
    return {task: int(total or 0) for task, total in rows}


def weekly(weeks: int = 8, today: dt.date | None = None, warehouse_id: int | None = None) -> dict:
    """Per ISO week (Monday first, UTC), the newest last: locations counted, those without a
    variance and their share; and by value, the share of the counted value (at cost) held in
    locations without a variance."""
    today = today or utcnow().date()
    monday = today - dt.timedelta(days=today.weekday())
    first = monday - dt.timedelta(weeks=max(1, weeks) - 1)
    since = dt.datetime.combine(first, dt.time())
    query = final_counts(since)
    if warehouse_id is not None:
        query = query.where(CountTask.warehouse == warehouse_id)
    counts = list(query)
    values = _counted_value([t.id for t in counts])
    by_week: dict[dt.date, dict] = {}
    for task in counts:
        day = as_utc(task.decided_at).date()
        week = day - dt.timedelta(days=day.weekday())
        latest = by_week.setdefault(week, {})
        held = latest.get(task.location_id)
        if held is None or (task.decided_at, task.id) > (held.decided_at, held.id):
            latest[task.location_id] = task
    out = []
    for n in range(max(1, weeks)):
        week = first + dt.timedelta(weeks=n)
        latest = by_week.get(week, {})
        counted = len(latest)
        clean = [t for t in latest.values() if t.variance_units == 0]
        value = sum(values.get(t.id, 0) for t in latest.values())
        clean_value = sum(values.get(t.id, 0) for t in clean)
        iso_year, iso_week, _ = week.isocalendar()
        out.append({"week": f"{iso_year}-W{iso_week:02d}", "monday": week.isoformat(), "locations": counted,
                    "without_variance": len(clean), "accuracy": round(len(clean) / counted, 4) if counted else None,
                    "value_fen": value, "value_without_variance_fen": clean_value,
                    "accuracy_by_value": round(clean_value / value, 4) if value else None})
    return {"weeks": out, "current": out[-1]}
