"""Pick and pack productivity (人效) per person and hour, from the stock ledger: a pick is a
``pick`` line (units from a location into a tote, by the picker who scanned them), a pack is a
``ship`` line (units verified at a packing station leaving at scan-out, by the packer). For each
person: lines, units, the hours in which they did any (an hour of the warehouse's clock counts
once however much was done in it) and units per such hour; and units by hour of the day.

With a place, channel or shop asked for, only the lines of those orders count (a pick line of a
batch wave, for many orders at once, belongs to no one order and then does not count).
"""
from __future__ import annotations

from server.db import sql
from server.services.reports import filters as flt

KINDS = {"pick": "pick", "pack": "ship"}


def _order_refs(f: flt.Filters, kind: str) -> tuple[str, list]:
    """A condition on the ledger line ``m`` that it belongs to an order of the place, channel
    and shop asked for (any payment time)."""
    where, params = flt.where_orders(f, period=False)
    if kind == "pick":
        return (f"m.ref IN (SELECT {flt.text_id_sql('pick:', 'pl.id')} FROM pick_line pl "
                f'JOIN "order" o ON o.id = pl.order_id WHERE {where})', params)
    return f'm.ref IN (SELECT {flt.text_id_sql("ship:", "o.id")} FROM "order" o WHERE {where})', params


def _where(f: flt.Filters, kind: str) -> tuple[str, list]:
    start, end = flt.utc_bounds(f)
    parts, params = ["m.reason = ?", "m.at >= ? AND m.at < ?"], [KINDS[kind], start, end]
    if f.provinces or f.channel or f.shop:
        more, values = _order_refs(f, kind)
        parts.append(more)
        params += values
    return " AND ".join(parts), params


def productivity(f: flt.Filters) -> dict:
    names = {uid: (login, name) for uid, login, name in sql('SELECT id, code, name FROM "user"')}
    rows, by_hour = [], {}
    for kind in KINDS:
        where, params = _where(f, kind)
        hour = flt.hour_sql("m.at", f.zone)
        for uid, lines, units, hours in sql(f"SELECT m.user_id, COUNT(*), SUM(m.qty), COUNT(DISTINCT {hour}) "
                                            f"FROM stock_move m WHERE {where} GROUP BY m.user_id", *params):
            login, name = names.get(uid, ("", ""))
            units, hours = int(units or 0), int(hours or 0)
            rows.append({"kind": kind, "user": login, "name": name, "lines": int(lines), "units": units,
                         "hours": hours, "units_per_hour": round(units / hours, 1) if hours else None})
        for uid, hh, units in sql(f"SELECT m.user_id, SUBSTR({hour}, 12, 2), SUM(m.qty) FROM stock_move m "
                                  f"WHERE {where} GROUP BY m.user_id, SUBSTR({hour}, 12, 2)", *params):
            login = names.get(uid, ("", ""))[0]
            by_hour.setdefault(f"{kind}:{login}", [0] * 24)[int(hh)] += int(units or 0)
    rows.sort(key=lambda r: (r["kind"], -r["units"], r["user"]))
    totals = {kind: {"units": sum(r["units"] for r in rows if r["kind"] == kind),
                     "lines": sum(r["lines"] for r in rows if r["kind"] == kind),
                     "hours": sum(r["hours"] for r in rows if r["kind"] == kind)} for kind in KINDS}
    return {"report": "productivity", "filters": f.describe(), "rows": rows, "by_hour": by_hour, "totals": totals}
