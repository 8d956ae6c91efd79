"""How long parcels take (时效): paid → shipped (the warehouse's part), shipped → collected and
shipped → delivered (the carrier's part), by carrier and receiving province, for the parcels
shipped in a period of the warehouse's days. Each leg counts the parcels that have both its
ends; the median and the 90th percentile are read between the two nearest ranks (linear, as
a spreadsheet's PERCENTILE does), in hours."""
from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from server.models import Order, Package
from server.services.errors import DomainError

LEGS = (("paid_to_shipped", "paid_at", "shipped_at"), ("shipped_to_collected", "shipped_at", "collected_at"),
        ("shipped_to_delivered", "shipped_at", "delivered_at"))
DEFAULT_DAYS = 30
LONGEST_DAYS = 366


class BadPeriod(DomainError):
    code = "bad_period"
    http_status = 400


def percentile(sorted_values: list[float], share: float) -> float:
    """The ``share`` percentile (0..1) of sorted values, between the two nearest ranks."""
    rank = (len(sorted_values) - 1) * share
    low, high = math.floor(rank), math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def period(since: dt.date | None, until: dt.date | None, zone: str, today: dt.date | None = None
           ) -> tuple[dt.date, dt.date]:
    """The days asked for: until today and the 30 days to it when not named."""
    until = until or today or dt.datetime.now(ZoneInfo(zone)).date()
    since = since or until - dt.timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise BadPeriod("since is after until", since=since.isoformat(), until=until.isoformat())
    if (until - since).days >= LONGEST_DAYS:
        raise BadPeriod(f"a period of at most {LONGEST_DAYS} days", since=since.isoformat(), until=until.isoformat())
    return since, until


def delivery_report(since: dt.date, until: dt.date, zone: str) -> dict:
    """The legs' figures by (carrier, province) and for all the parcels shipped on the days
    ``since`` to ``until`` (both included) of the warehouse's time zone ``zone``."""
    start, end = _utc_bounds(since, until, ZoneInfo(zone))
    rows = (Package.select(Package.carrier, Order.carrier.alias("order_carrier"), Order.receiver_province,
                           Order.paid_at, Package.shipped_at, Package.collected_at, Package.delivered_at)
            .join(Order)
            .where((Package.state == "shipped") & (Package.shipped_at >= start) & (Package.shipped_at < end))
            .dicts())
    groups: dict[tuple[str, str], list[dict]] = {}
    every = []
    for row in rows:
        key = (row["carrier"] or row["order_carrier"] or "", row["receiver_province"] or "")
        groups.setdefault(key, []).append(row)
        every.append(row)
    return {"since": since.isoformat(), "until": until.isoformat(), "zone": zone,
            "rows": [dict(carrier=carrier, province=province, **_figures(parcels))
                     for (carrier, province), parcels in sorted(groups.items())],
            "all": _figures(every)}


def _figures(parcels: list[dict]) -> dict:
    found = {"parcels": len(parcels)}
    for leg, begin, finish in LEGS:
        hours = sorted((row[finish] - row[begin]).total_seconds() / 3600 for row in parcels
                       if row[begin] is not None and row[finish] is not None)
        found[leg] = {"count": len(hours),
                      "median_h": round(percentile(hours, 0.5), 2) if hours else None,
                      "p90_h": round(percentile(hours, 0.9), 2) if hours else None}
    return found


def _utc_bounds(since: dt.date, until: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[the first day's midnight, the midnight after the last day) there, as naive UTC."""
    def midnight(day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        return local.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return midnight(since), midnight(until + dt.timedelta(days=1))
