"""Margin trend (毛利趋势): from the line money (line_money, docs/money.md), by day, week or month
of payment: net revenue (after refunds), and for the lines shipped so far their revenue, cost of
goods sold, fees, freight and gross margin. A line has a margin once it has shipped (its cost is
fixed at shipment), so the margin rate is the shipped lines' margin over their revenue.
"""
from __future__ import annotations

import datetime as dt

from server.db import sql
from server.services.reports import filters as flt
from server.services.reports.sales import GRAINS, bucket

FIGURES = ("revenue_fen", "shipped_revenue_fen", "cogs_fen", "fees_fen", "freight_fen", "margin_fen", "lines",
           "shipped_lines")


def daily(f: flt.Filters) -> dict:
    where, params = flt.where_orders(f)
    day = flt.day_sql("o.paid_at", f.zone)
    shipped = "m.margin_fen IS NOT NULL"
    rows = sql(f"SELECT {day}, SUM(m.revenue_fen), "
               f"SUM(CASE WHEN {shipped} THEN m.revenue_fen ELSE 0 END), "
               f"SUM(CASE WHEN {shipped} THEN m.cogs_fen ELSE 0 END), "
               f"SUM(CASE WHEN {shipped} THEN m.commission_fen - m.refund_commission_fen + m.payment_fee_fen "
               "- m.refund_payment_fee_fen ELSE 0 END), "
               f"SUM(CASE WHEN {shipped} THEN m.freight_paid_fen - m.freight_charged_fen ELSE 0 END), "
               f"SUM(CASE WHEN {shipped} THEN m.margin_fen ELSE 0 END), COUNT(*), "
               f"SUM(CASE WHEN {shipped} THEN 1 ELSE 0 END) "
               'FROM line_money m JOIN "order" o ON o.id = m.order_id '
               f"WHERE {where} GROUP BY {day}", *params)
    return {flt.as_date(d): tuple(int(v or 0) for v in values) for d, *values in rows}


def trend(f: flt.Filters, grain: str = "day") -> dict:
    if grain not in GRAINS:
        grain = "day"
    sums: dict = {}
    for d, values in daily(f).items():
        acc = sums.setdefault(bucket(d, grain), [0] * len(FIGURES))
        for i, v in enumerate(values):
            acc[i] += v
    buckets = sorted({bucket(f.since + dt.timedelta(days=i), grain) for i in range(f.days)})
    rows = []
    for b in buckets:
        row = {"period": b.isoformat(), **dict(zip(FIGURES, sums.get(b, [0] * len(FIGURES))))}
        row["margin_pct"] = (round(row["margin_fen"] * 100 / row["shipped_revenue_fen"], 1)
                             if row["shipped_revenue_fen"] else None)
        rows.append(row)
    totals = {k: sum(r[k] for r in rows) for k in FIGURES}
    totals["margin_pct"] = (round(totals["margin_fen"] * 100 / totals["shipped_revenue_fen"], 1)
                            if totals["shipped_revenue_fen"] else None)
    return {"report": "margin", "grain": grain, "filters": f.describe(), "rows": rows, "totals": totals}
