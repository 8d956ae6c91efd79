"""The daily sales aggregate (``report_sales_day``) the sales dashboard reads, and how it stays
equal to the order lines.

A row sums the lines of the orders paid on one day (the warehouse's time zone) to one
(shop, channel, receiving province): orders, lines, units, revenue (Σ line paid_fen) and refunds
(Σ line refund_fen). Sales are the lines of orders with a payment time that are not cancelled
(an order merged into another is cancelled and its lines belong to the one it went into).

Staying exact: a refresh recomputes *whole days*, never adds deltas. The days it recomputes are
the payment days of every order whose ``updated_at`` is newer than the start of the last refresh
(its watermark), and of every order with a refund imported (``refund.imported_at``) after it: every change to an
order or its lines (import, edit, merge, split, cancel, any status change) bumps
``order.updated_at`` in the same transaction, and a line's ``refund_fen`` changes only with a
refund row's import. The watermark is read back by REREAD (10 minutes), so a transaction that
stamped its rows before the last refresh started but committed after it read is still seen
(no write transaction of the server lasts that long). A day is
deleted and inserted again from the lines in one transaction, so a reader sees the old or the
new day, never half. ``verify`` compares every day with the lines (``wavefloor reports verify``);
``refresh(full=True)`` rebuilds everything. The pages call :func:`refresh_if_stale` first.
"""
from __future__ import annotations

import datetime as dt

from peewee import IntegrityError

from server.db import is_sqlite, sql, sql_many, write_transaction
from server.models import ReportRefresh
from server.models.base import utcnow
from server.services.reports import filters as flt

NAME = "sales_day"
REREAD = dt.timedelta(minutes=10)
CHUNK_DAYS = 31
READ_DAYS = 400
MAX_RUNS = 16
COLUMNS = ("orders", "lines", "units", "revenue_fen", "refund_fen")


def _grouped_sql(zone: str, where: str) -> str:
    day = flt.day_sql("o.paid_at", zone)
    return (f"SELECT {day} AS day, o.shop, o.channel, o.receiver_province, COUNT(DISTINCT o.id), COUNT(*), "
            "COALESCE(SUM(l.qty), 0), COALESCE(SUM(l.paid_fen), 0), COALESCE(SUM(l.refund_fen), 0) "
            'FROM order_line l JOIN "order" o ON o.id = l.order_id '
            f"WHERE o.paid_at IS NOT NULL AND o.status <> 'cancelled' {where} "
            f"GROUP BY {day}, o.shop, o.channel, o.receiver_province")


def _insert(zone: str, where: str = "", params: tuple = ()) -> int:
    cursor = sql("INSERT INTO report_sales_day (day, shop, channel, province, orders, lines, units, revenue_fen, "
                 "refund_fen) " + _grouped_sql(zone, where), *params)
    return cursor.rowcount or 0


def dirty_days(state: ReportRefresh, zone: str) -> list[str]:
    """The days to recompute since ``state``'s watermarks (read back by REREAD)."""
    day = flt.day_sql("o.paid_at", zone)
    found: set[str] = set()
    if state.orders_seen is not None:
        found |= {str(d)[:10] for (d,) in sql(f'SELECT DISTINCT {day} FROM "order" o '
                                               "WHERE o.updated_at > ? AND o.paid_at IS NOT NULL",
                                               state.orders_seen - REREAD).fetchall()}
    if state.refunds_seen is not None:
        found |= {str(d)[:10] for (d,) in sql(f'SELECT DISTINCT {day} FROM refund r JOIN "order" o '
                                               "ON o.id = r.order_id WHERE r.imported_at > ? AND o.paid_at IS NOT NULL",
                                               state.refunds_seen - REREAD).fetchall()}
    return sorted(found)


def _locked_state() -> ReportRefresh:
    """The refresh's row, locked until the transaction ends (PostgreSQL; SQLite's writes are one at
    a time already), so that two processes never rewrite the same day at once."""
    if not is_sqlite():
        sql("SELECT name FROM report_refresh WHERE name = ? FOR UPDATE", NAME)
    return ReportRefresh.get(ReportRefresh.name == NAME)


def _ensure_state() -> None:
    if ReportRefresh.get_or_none(ReportRefresh.name == NAME) is None:
        try:
            with write_transaction():
                ReportRefresh.create(name=NAME, zone="")  # no zone yet: the first refresh builds everything
        except IntegrityError:  # made at the same moment by another process
            pass


def _days_where(days: list[str], zone: str) -> tuple[str, list]:
    """A condition on ``o.paid_at`` for the given days: one UTC range per run of following days
    (cheaper to test than the day of every order), or the day's test for days scattered wide."""
    runs: list[list[dt.date]] = []
    for day in sorted(dt.date.fromisoformat(d) for d in days):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    if len(runs) > MAX_RUNS:  # scattered days: one test of each order's day beats many ranges
        return f"AND {flt.day_sql('o.paid_at', zone)} IN ({', '.join('?' for _ in days)})", list(days)
    params: list = []
    for first, last in runs:
        params += list(flt.utc_bounds(flt.Filters(first, last, zone)))
    return "AND (" + " OR ".join("(o.paid_at >= ? AND o.paid_at < ?)" for _ in runs) + ")", params


def refresh(zone: str = "Asia/Shanghai", *, full: bool = False) -> dict:
    """Bring the aggregate up to date: every day changed since the last refresh (or all of it)
    recomputed from the lines. Returns what it did.

    An incremental refresh finds the changed days and sums their lines without writing (one
    read of the tables), then rewrites them a month at a time, each month in a short transaction
    of its own (a SQLite server's other writers wait for one month's rewrite, not for the whole
    refresh). Sums read before another refresh ended are read again under the lock before they
    are written. The watermark moves only once every day is done, so a refresh that dies
    half-way is simply done again by the next."""
    started = utcnow()
    _ensure_state()
    state = ReportRefresh.get(ReportRefresh.name == NAME)
    full = full or state.zone != zone or state.orders_seen is None
    days: list[str] = []
    rows = 0
    if full:
        with write_transaction():
            _locked_state()
            sql("DELETE FROM report_sales_day")
            rows = _insert(zone)
    else:
        days = dirty_days(state, zone)
        fresh: dict[str, list[tuple]] = {day: [] for day in days}
        for start in range(0, len(days), READ_DAYS):  # the new rows, read without writing
            where, params = _days_where(days[start:start + READ_DAYS], zone)
            for row in sql(_grouped_sql(zone, where), *params):
                fresh[str(row[0])[:10]].append((str(row[0])[:10],) + tuple(row[1:]))
        for start in range(0, len(days), CHUNK_DAYS):  # written a month of days at a time
            chunk = days[start:start + CHUNK_DAYS]
            marks = ", ".join("?" for _ in chunk)
            values = [row for day in chunk for row in fresh[day]]
            with write_transaction():
                if (_locked_state().refreshed_at or started) > started:
                    # another refresh ended since these sums were read: read them again, under the lock
                    where, params = _days_where(chunk, zone)
                    values = [(str(r[0])[:10],) + tuple(r[1:]) for r in sql(_grouped_sql(zone, where), *params)]
                sql(f"DELETE FROM report_sales_day WHERE day IN ({marks})", *chunk)
                if values:
                    sql_many("INSERT INTO report_sales_day (day, shop, channel, province, orders, lines, units, "
                             "revenue_fen, refund_fen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            rows += len(values)
    with write_transaction():
        current = _locked_state()
        if full or current.orders_seen is None or current.orders_seen < started:
            ReportRefresh.update(orders_seen=started, refunds_seen=started, refreshed_at=utcnow(), zone=zone).where(
                ReportRefresh.name == NAME).execute()
    return {"full": full, "days": len(days), "rows": rows,
            "seconds": round((utcnow() - started).total_seconds(), 3)}


def refresh_if_stale(zone: str, max_age_s: float) -> dict | None:
    """:func:`refresh` when the last one is older than ``max_age_s`` seconds (0: always)."""
    state = ReportRefresh.get_or_none(ReportRefresh.name == NAME)
    if (state is not None and state.refreshed_at is not None and state.zone == zone and max_age_s > 0
            and (utcnow() - state.refreshed_at).total_seconds() < max_age_s):
        return None
    return refresh(zone)


def refreshed_at() -> dt.datetime | None:
    state = ReportRefresh.get_or_none(ReportRefresh.name == NAME)
    return state.refreshed_at if state else None


def verify(zone: str = "Asia/Shanghai") -> dict:
    """Every (day, shop, channel, province) of the aggregate against the same sums straight from
    the lines: the keys that differ (empty when the aggregate is exact)."""
    raw = {tuple(str(v) for v in row[:4]): tuple(int(v) for v in row[4:]) for row in sql(_grouped_sql(zone, ""))}
    kept = {(str(row[0])[:10],) + tuple(str(v) for v in row[1:4]): tuple(int(v) for v in row[4:])
            for row in sql("SELECT day, shop, channel, province, orders, lines, units, revenue_fen, refund_fen "
                           "FROM report_sales_day")}
    differ = sorted(key for key in set(raw) | set(kept) if raw.get(key) != kept.get(key))
    return {"keys": len(raw), "differ": [{"key": list(k), "lines": raw.get(k), "aggregate": kept.get(k)}
                                         for k in differ[:50]], "exact": not differ}


def choices() -> dict:
    """The shops (with their channel), channels and provinces the filters offer: those with sales."""
    shops = sorted({(shop, channel) for shop, channel in sql("SELECT DISTINCT shop, channel FROM report_sales_day")}
                   | {(code, channel) for code, channel in sql("SELECT code, channel FROM shop")})
    provinces = sorted({p for (p,) in sql("SELECT DISTINCT province FROM report_sales_day") if p})
    return {"shops": [s for s, _ in shops], "channels": sorted({c for _, c in shops}), "provinces": provinces}
