"""Sales trend (销售趋势): orders, units, revenue and refunds by day, week (Monday) or month, with
last year's line. Read from the daily aggregate (facts.py), which the dashboard keeps current.

Last year's line: for days and weeks the same weekday a year before (364 days back), so a
Saturday compares with a Saturday; for months the same calendar month a year before.
"""
from __future__ import annotations

import datetime as dt

from server.db import sql
from server.services.reports import filters as flt
from server.services.reports.facts import COLUMNS

GRAINS = ("day", "week", "month")
WEEK_BACK = dt.timedelta(days=364)


def daily(f: flt.Filters) -> dict[dt.date, tuple[int, ...]]:
    """(orders, lines, units, revenue_fen, refund_fen) of each day of the period, from the aggregate."""
    parts, params = flt.where_place(f, "r")
    where = " AND ".join(["r.day >= ? AND r.day <= ?"] + parts)
    rows = sql("SELECT r.day, " + ", ".join(f"SUM(r.{c})" for c in COLUMNS) + " FROM report_sales_day r "
               f"WHERE {where} GROUP BY r.day", f.since.isoformat(), f.until.isoformat(), *params)
    return {flt.as_date(day): tuple(int(v or 0) for v in values) for day, *values in rows}


def bucket(day: dt.date, grain: str) -> dt.date:
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _year_back(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def trend(f: flt.Filters, grain: str = "day") -> dict:
    if grain not in GRAINS:
        grain = "day"
    this = daily(f)
    if grain == "month":
        back = f.shifted(_year_back(f.since), _year_back(f.until))
        moved: dict[dt.date, list[int]] = {}
        for d, values in daily(back).items():  # each day to the first of its month a year on
            acc = moved.setdefault(dt.date(d.year + 1, d.month, 1), [0] * len(COLUMNS))
            for i, v in enumerate(values):
                acc[i] += v
        last_by_bucket = {k: tuple(v) for k, v in moved.items()}
    else:
        back = f.shifted(f.since - WEEK_BACK, f.until - WEEK_BACK)
        last_by_bucket = _sum_by({d + WEEK_BACK: v for d, v in daily(back).items()}, grain)
    this_by_bucket = _sum_by(this, grain)
    buckets = sorted({bucket(f.since + dt.timedelta(days=i), grain) for i in range(f.days)})
    zero = (0,) * len(COLUMNS)
    rows = []
    for b in buckets:
        now, then = this_by_bucket.get(b, zero), last_by_bucket.get(b, zero)
        row = {"period": b.isoformat(), **dict(zip(COLUMNS, now)),
               **{f"last_year_{c}": v for c, v in zip(COLUMNS, then)}}
        row["growth_pct"] = round((now[3] - then[3]) * 100 / then[3], 1) if then[3] else None
        rows.append(row)
    totals = {c: sum(v[i] for v in this.values()) for i, c in enumerate(COLUMNS)}
    last_totals = {c: sum(r[f"last_year_{c}"] for r in rows) for c in COLUMNS}
    totals["aov_fen"] = totals["revenue_fen"] // totals["orders"] if totals["orders"] else 0
    return {"report": "sales", "grain": grain, "filters": f.describe(), "rows": rows, "totals": totals,
            "last_year_totals": last_totals}


def _sum_by(days: dict[dt.date, tuple[int, ...]], grain: str) -> dict[dt.date, tuple[int, ...]]:
    out: dict[dt.date, list[int]] = {}
    for day, values in days.items():
        acc = out.setdefault(bucket(day, grain), [0] * len(COLUMNS))
        for i, v in enumerate(values):
            acc[i] += v
    return {k: tuple(v) for k, v in out.items()}
