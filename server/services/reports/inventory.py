"""Inventory turnover (库存周转) and days of cover (可售天数) per SKU, from the stock ledger.

On hand at a moment is every unit moved into the warehouse's locations before it less every unit
moved out of them (the ``shipped`` sink is not a location of the warehouse; every stock state
counts). Out is the units shipped in the period (the ledger's ``ship`` lines; with a place,
channel or shop asked for, only those orders' shipments). Turnover = out / the average of on hand
at the period's start and end; days of cover = on hand at the end / (out per day of the period).
"""
from __future__ import annotations

from server.db import sql
from server.services.reports import filters as flt
from server.services.reports.productivity import _order_refs


def turnover(f: flt.Filters, limit: int = 500) -> dict:
    start, end = flt.utc_bounds(f)
    stock = {}
    inside = "<> 'shipped'"
    for pid, before, after in sql(
            f"SELECT m.product_id, "
            f"SUM(CASE WHEN tl.kind {inside} AND m.at < ? THEN m.qty ELSE 0 END) "
            f"- SUM(CASE WHEN fl.kind {inside} AND m.at < ? THEN m.qty ELSE 0 END), "
            f"SUM(CASE WHEN tl.kind {inside} AND m.at < ? THEN m.qty ELSE 0 END) "
            f"- SUM(CASE WHEN fl.kind {inside} AND m.at < ? THEN m.qty ELSE 0 END) "
            "FROM stock_move m LEFT JOIN location tl ON tl.id = m.to_location_id "
            "LEFT JOIN location fl ON fl.id = m.from_location_id GROUP BY m.product_id", start, start, end, end):
        stock[pid] = (int(before or 0), int(after or 0))
    parts, params = ["m.reason = 'ship'", "m.at >= ? AND m.at < ?"], [start, end]
    if f.provinces or f.channel or f.shop:
        more, values = _order_refs(f, "pack")
        parts.append(more)
        params += values
    out = {pid: int(q or 0) for pid, q in sql(f"SELECT m.product_id, SUM(m.qty) FROM stock_move m "
                                             f"WHERE {' AND '.join(parts)} GROUP BY m.product_id", *params)}
    products = {pid: (sku, name) for pid, sku, name in sql("SELECT id, sku, name FROM product")}
    rows = []
    for pid in set(stock) | set(out):
        opening, closing = stock.get(pid, (0, 0))
        shipped = out.get(pid, 0)
        if not (opening or closing or shipped):
            continue
        average = (opening + closing) / 2
        per_day = shipped / f.days
        sku, name = products.get(pid, ("", ""))
        rows.append({"sku": sku, "name": name, "opening": opening, "closing": closing, "shipped": shipped,
                     "turnover": round(shipped / average, 2) if average > 0 else None,
                     "days_of_cover": round(closing / per_day, 1) if per_day > 0 else None})
    rows.sort(key=lambda r: (r["days_of_cover"] is None, -(r["days_of_cover"] or 0), r["sku"]))
    totals = {k: sum(r[k] for r in rows) for k in ("opening", "closing", "shipped")}
    average = (totals["opening"] + totals["closing"]) / 2
    totals["turnover"] = round(totals["shipped"] / average, 2) if average > 0 else None
    totals["days_of_cover"] = (round(totals["closing"] / (totals["shipped"] / f.days), 1)
                               if totals["shipped"] else None)
    return {"report": "inventory", "filters": f.describe(), "rows": rows[:limit], "skus": len(rows),
            "totals": totals}
