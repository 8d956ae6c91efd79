"""SKU ranking (商品排行) with ABC classes: units, orders, revenue, refunds and, from the line
money (line_money), cost and gross margin of each SKU sold in the period (margin % = the margin
of its shipped lines over their net revenue), ranked by the measure asked for (revenue, units or
margin).

ABC: the SKUs in falling order of the measure; a SKU is A while the share of the measure before
it is under 80 %, B under 95 %, C after (a SKU with nothing of the measure is C). So the SKU that
crosses 80 % is still A.
"""
from __future__ import annotations

from server.db import sql
from server.services.reports import filters as flt

MEASURES = ("revenue", "units", "margin")
A_SHARE, B_SHARE = 80, 95


def ranking(f: flt.Filters, measure: str = "revenue", limit: int = 500) -> dict:
    if measure not in MEASURES:
        measure = "revenue"
    where, params = flt.where_orders(f)
    found = {}
    for sku, name, lines, orders, units, revenue, refund in sql(
            "SELECT l.sku_code, MAX(p.name), COUNT(*), COUNT(DISTINCT o.id), SUM(l.qty), SUM(l.paid_fen), "
            'SUM(l.refund_fen) FROM order_line l JOIN "order" o ON o.id = l.order_id '
            f"LEFT JOIN product p ON p.id = l.product_id WHERE {where} GROUP BY l.sku_code", *params):
        found[sku] = {"sku": sku, "name": name or "", "lines": int(lines), "orders": int(orders),
                      "units": int(units or 0), "revenue_fen": int(revenue or 0), "refund_fen": int(refund or 0),
                      "net_revenue_fen": None, "cogs_fen": None, "margin_fen": None, "shipped_units": 0,
                      "shipped_revenue_fen": 0}
    for sku, net, cogs, margin, shipped, shipped_revenue in sql(
            "SELECT m.sku_code, SUM(m.revenue_fen), SUM(m.cogs_fen), SUM(m.margin_fen), "
            "SUM(CASE WHEN m.margin_fen IS NOT NULL THEN m.qty ELSE 0 END), "
            "SUM(CASE WHEN m.margin_fen IS NOT NULL THEN m.revenue_fen ELSE 0 END) "
            'FROM line_money m JOIN "order" o ON o.id = m.order_id '
            f"WHERE {where} GROUP BY m.sku_code", *params):
        if sku in found:
            found[sku].update(net_revenue_fen=int(net or 0), cogs_fen=None if cogs is None else int(cogs),
                              margin_fen=None if margin is None else int(margin), shipped_units=int(shipped or 0),
                              shipped_revenue_fen=int(shipped_revenue or 0))
    key = {"revenue": "revenue_fen", "units": "units", "margin": "margin_fen"}[measure]
    rows = sorted(found.values(), key=lambda r: (-(r[key] or 0), r["sku"]))
    classify(rows, key)
    for row in rows:
        row["margin_pct"] = (round(row["margin_fen"] * 100 / row["shipped_revenue_fen"], 1)
                             if row["margin_fen"] is not None and row["shipped_revenue_fen"] else None)
    total = sum(max(r[key] or 0, 0) for r in rows)
    classes = {c: {"skus": sum(1 for r in rows if r["abc"] == c),
                   "share_pct": round(sum(max(r[key] or 0, 0) for r in rows if r["abc"] == c) * 100 / total, 1)
                   if total else 0.0} for c in "ABC"}
    return {"report": "skus", "measure": measure, "filters": f.describe(), "rows": rows[:limit],
            "skus": len(rows), "classes": classes,
            "totals": {k: sum(r[k] or 0 for r in rows) for k in ("units", "revenue_fen", "refund_fen")}}


def classify(rows: list[dict], key: str) -> None:
    """Set ``abc`` and ``cum_pct`` on rows already sorted by ``key`` falling (integer arithmetic)."""
    total = sum(max(r[key] or 0, 0) for r in rows)
    before = 0
    for row in rows:
        value = max(row[key] or 0, 0)
        if value <= 0 or total <= 0:
            row["abc"] = "C"
        elif before * 100 < A_SHARE * total:
            row["abc"] = "A"
        elif before * 100 < B_SHARE * total:
            row["abc"] = "B"
        else:
            row["abc"] = "C"
        before += value
        row["cum_pct"] = round(before * 100 / total, 1) if total else 0.0
