"""Return rate (退货率) by SKU and by reason, for the lines of the orders paid in the period:
units sold, units refunded (the channel's refunds agreed or paid: 同意/退款成功, by the reason the
buyer gave) and units back at the returns bench (order_line.returned_qty). The rate is refunded
units over units sold.
"""
from __future__ import annotations

from server.db import sql
from server.services.reports import filters as flt

COUNTED = ("agreed", "success")


def rates(f: flt.Filters, limit: int = 500) -> dict:
    where, params = flt.where_orders(f)
    sold = {}
    for sku, name, units, returned in sql(
            "SELECT l.sku_code, MAX(p.name), SUM(l.qty), SUM(l.returned_qty) FROM order_line l "
            'JOIN "order" o ON o.id = l.order_id LEFT JOIN product p ON p.id = l.product_id '
            f"WHERE {where} GROUP BY l.sku_code", *params):
        sold[sku] = {"sku": sku, "name": name or "", "sold": int(units or 0), "returned": int(returned or 0),
                     "refunds": 0, "refunded": 0, "refund_fen": 0, "reasons": {}}
    states = ", ".join(f"'{s}'" for s in COUNTED)
    by_reason: dict[str, dict] = {}
    for sku, reason, count, qty, fen in sql(
            "SELECT l.sku_code, r.reason, COUNT(*), SUM(r.qty), SUM(r.refund_fen) FROM refund r "
            'JOIN order_line l ON l.id = r.line_id JOIN "order" o ON o.id = l.order_id '
            f"WHERE r.state IN ({states}) AND {where} GROUP BY l.sku_code, r.reason", *params):
        row = sold[sku]
        count, qty, fen = int(count), int(qty or 0), int(fen or 0)
        row["refunds"] += count
        row["refunded"] += qty
        row["refund_fen"] += fen
        row["reasons"][reason or ""] = qty
        acc = by_reason.setdefault(reason or "", {"reason": reason or "", "refunds": 0, "refunded": 0, "refund_fen": 0})
        acc["refunds"] += count
        acc["refunded"] += qty
        acc["refund_fen"] += fen
    rows = list(sold.values())
    for row in rows:
        row["rate_pct"] = round(row["refunded"] * 100 / row["sold"], 2) if row["sold"] else None
    rows.sort(key=lambda r: (-(r["rate_pct"] or 0), -r["refunded"], r["sku"]))
    total_sold = sum(r["sold"] for r in rows)
    reasons = sorted(by_reason.values(), key=lambda r: (-r["refunded"], r["reason"]))
    for reason in reasons:
        reason["share_pct"] = round(reason["refunded"] * 100 / total_sold, 2) if total_sold else None
    totals = {"sold": total_sold, "refunded": sum(r["refunded"] for r in rows),
              "returned": sum(r["returned"] for r in rows), "refund_fen": sum(r["refund_fen"] for r in rows)}
    totals["rate_pct"] = round(totals["refunded"] * 100 / total_sold, 2) if total_sold else None
    return {"report": "returns", "filters": f.describe(), "rows": rows[:limit], "skus": len(rows),
            "by_reason": reasons, "totals": totals}
