"""Logistics timeliness (物流时效) by carrier and by receiving province, for the parcels of the
orders paid in the period: paid → shipped (the warehouse's part: scan-out), shipped → signed
(the carrier's: 签收, from the tracking events, kept on the package as ``delivered_at``) and paid
→ signed, each an average in hours over the parcels that have both ends, and the shares shipped
within 24 and 48 hours of payment. ``tracked``: parcels with at least one tracking event.
"""
from __future__ import annotations

from server.db import sql
from server.services.reports import filters as flt

WITHIN = (24, 48)


def _select(f: flt.Filters, group: str | None) -> list[dict]:
    where, params = flt.where_orders(f)
    ship, sign, whole = (flt.hours_sql("o.paid_at", "k.shipped_at"), flt.hours_sql("k.shipped_at", "k.delivered_at"),
                         flt.hours_sql("o.paid_at", "k.delivered_at"))
    shipped = "k.shipped_at IS NOT NULL"
    signed = "k.shipped_at IS NOT NULL AND k.delivered_at IS NOT NULL"
    carrier = "COALESCE(NULLIF(k.carrier, ''), o.carrier)"
    key = {"carrier": carrier, "province": "o.receiver_province", None: "''"}[group]
    rows = sql(f"SELECT {key}, COUNT(*), SUM(CASE WHEN {shipped} THEN 1 ELSE 0 END), "
               f"SUM(CASE WHEN {shipped} THEN {ship} END), "
               + "".join(f"SUM(CASE WHEN {shipped} AND {ship} <= {h} THEN 1 ELSE 0 END), " for h in WITHIN)
               + f"SUM(CASE WHEN {signed} THEN 1 ELSE 0 END), SUM(CASE WHEN {signed} THEN {sign} END), "
               f"SUM(CASE WHEN k.delivered_at IS NOT NULL THEN {whole} END), "
               "SUM(CASE WHEN EXISTS (SELECT 1 FROM tracking_event t WHERE t.package_id = k.id) THEN 1 ELSE 0 END) "
               f'FROM package k JOIN "order" o ON o.id = k.order_id WHERE {where}'
               + (f" GROUP BY {key}" if group else ""), *params)
    out = []
    for name, parcels, n_shipped, ship_h, in24, in48, n_signed, sign_h, whole_h, tracked in rows:
        n_shipped, n_signed = int(n_shipped or 0), int(n_signed or 0)
        out.append({"key": name or "", "parcels": int(parcels), "shipped": n_shipped, "signed": n_signed,
                    "tracked": int(tracked or 0),
                    "paid_to_shipped_h": float(ship_h) / n_shipped if n_shipped else None,
                    "shipped_24h_pct": round(int(in24 or 0) * 100 / n_shipped, 1) if n_shipped else None,
                    "shipped_48h_pct": round(int(in48 or 0) * 100 / n_shipped, 1) if n_shipped else None,
                    "shipped_to_signed_h": float(sign_h) / n_signed if n_signed else None,
                    "paid_to_signed_h": float(whole_h) / n_signed if n_signed else None})
    out.sort(key=lambda r: (-r["parcels"], r["key"]))
    return out


def timeliness(f: flt.Filters) -> dict:
    total, carriers = _select(f, None), _select(f, "carrier")
    return {"report": "logistics", "filters": f.describe(), "by_carrier": carriers,
            "by_province": _select(f, "province"), "totals": total[0] if total else None, "rows": carriers}
