"""What every report is filtered by: a period of the warehouse's days (both ends included), a
province or a region (大区) of provinces, a channel and a shop; and the few SQL fragments the
reports share to cut times into the warehouse's days and hours on either engine.

A day is cut at midnight of the warehouse's time zone (setting TIMEZONE, Asia/Shanghai): the
zone's offset from UTC is taken once per query, which is exact for zones without summer time
(every zone of China).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from server.db import is_sqlite
from server.services.errors import DomainError

DEFAULT_DAYS = 30
LONGEST_DAYS = 800   # a sales trend compares two years

# 大区: the regions Chinese merchants report by (provinces by their short names)
REGIONS = {
    "north": (("North China", "华北"), ("北京", "天津", "河北", "山西", "内蒙古")),
    "northeast": (("Northeast", "东北"), ("辽宁", "吉林", "黑龙江")),
    "east": (("East China", "华东"), ("上海", "江苏", "浙江", "安徽", "福建", "江西", "山东")),
    "central": (("Central China", "华中"), ("河南", "湖北", "湖南")),
    "south": (("South China", "华南"), ("广东", "广西", "海南")),
    "southwest": (("Southwest", "西南"), ("重庆", "四川", "贵州", "云南", "西藏")),
    "northwest": (("Northwest", "西北"), ("陕西", "甘肃", "青海", "宁夏", "新疆")),
    "hmt": (("Hong Kong, Macao, Taiwan", "港澳台"), ("香港", "澳门", "台湾")),
}
SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


class BadFilter(DomainError):
    code = "bad_report_period"
    http_status = 400


def short_province(name: str) -> str:
    """浙江省 -> 浙江, 广西壮族自治区 -> 广西, 上海市 -> 上海 (names as channels give them)."""
    name = (name or "").strip()
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def region_of(province: str) -> str | None:
    short = short_province(province)
    return next((code for code, (_, members) in REGIONS.items() if short in members), None)


@dataclass(frozen=True)
class Filters:
    since: dt.date
    until: dt.date
    zone: str = "Asia/Shanghai"
    province: str | None = None      # one province, as stored
    region: str | None = None        # a key of REGIONS
    channel: str | None = None
    shop: str | None = None
    provinces: tuple[str, ...] = field(default=())  # the stored names the province/region stand for

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def by_place(self) -> bool:
        return bool(self.province or self.region)

    def shifted(self, since: dt.date, until: dt.date) -> "Filters":
        return Filters(since, until, self.zone, self.province, self.region, self.channel, self.shop, self.provinces)

    def describe(self) -> dict:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "zone": self.zone,
                "province": self.province or "", "region": self.region or "", "channel": self.channel or "",
                "shop": self.shop or ""}


def make(since: dt.date | None = None, until: dt.date | None = None, *, zone: str = "Asia/Shanghai",
         province: str | None = None, region: str | None = None, channel: str | None = None,
         shop: str | None = None, known_provinces: list[str] | tuple[str, ...] = (),
         today: dt.date | None = None) -> Filters:
    """The filters asked for; the period defaults to the 30 days to today. ``known_provinces``
    are the stored province names a region is matched against."""
    until = until or today or dt.datetime.now(ZoneInfo(zone)).date()
    since = since or until - dt.timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise BadFilter("since is after until", since=since.isoformat(), until=until.isoformat())
    if (until - since).days >= LONGEST_DAYS:
        raise BadFilter(f"a period of at most {LONGEST_DAYS} days", since=since.isoformat(),
                        until=until.isoformat())
    if region and region not in REGIONS:
        raise BadFilter(f"no region {region!r}", region=region)
    names: tuple[str, ...] = ()
    if province:
        names = (province,)
    elif region:
        names = tuple(sorted(p for p in known_provinces if region_of(p) == region)) or ("\x00none",)
    return Filters(since, until, zone, province or None, region or None, channel or None, shop or None, names)


# --- SQL fragments, both engines ---------------------------------------------------------------

def offset_minutes(zone: str) -> int:
    return int(dt.datetime.now(ZoneInfo(zone)).utcoffset().total_seconds() // 60)


def utc_bounds(f: Filters) -> tuple[dt.datetime, dt.datetime]:
    """[midnight of the first day, midnight after the last day) there, as naive UTC."""
    zone = ZoneInfo(f.zone)

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)
    return midnight(f.since), midnight(f.until + dt.timedelta(days=1))


def day_sql(column: str, zone: str) -> str:
    """The warehouse's day of a naive-UTC timestamp column: 'YYYY-MM-DD' text on SQLite (its
    dates are such text), a date on PostgreSQL."""
    minutes = offset_minutes(zone)
    if is_sqlite():
        return f"date({column}, '{minutes:+d} minutes')"
    return f"CAST({column} + interval '{minutes} minutes' AS DATE)"


def hour_sql(column: str, zone: str) -> str:
    """The warehouse's hour of a timestamp column, as 'YYYY-MM-DD HH' text."""
    minutes = offset_minutes(zone)
    if is_sqlite():
        return f"strftime('%Y-%m-%d %H', {column}, '{minutes:+d} minutes')"
    return f"to_char({column} + interval '{minutes} minutes', 'YYYY-MM-DD HH24')"


def hours_sql(start: str, end: str) -> str:
    """Hours from one timestamp column to another, a float."""
    if is_sqlite():
        return f"((julianday({end}) - julianday({start})) * 24.0)"
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


def text_id_sql(prefix: str, column: str) -> str:
    """'prefix' || the id column as text (ledger refs such as ``ship:42``)."""
    return f"('{prefix}' || CAST({column} AS VARCHAR(20)))"


def where_orders(f: Filters, alias: str = "o", *, period: bool = True) -> tuple[str, list]:
    """The conditions on an order (alias ``alias``) paid in the period, not cancelled, of the
    place, channel and shop asked for, with their parameters."""
    parts, params = [f"{alias}.paid_at IS NOT NULL", f"{alias}.status <> 'cancelled'"], []
    if period:
        start, end = utc_bounds(f)
        parts.append(f"{alias}.paid_at >= ? AND {alias}.paid_at < ?")
        params += [start, end]
    more, values = where_place(f, alias, "receiver_province")
    return " AND ".join(parts + more), params + values


def where_place(f: Filters, alias: str, province_column: str = "province") -> tuple[list[str], list]:
    parts, params = [], []
    if f.provinces:
        parts.append(f"{alias}.{province_column} IN ({', '.join('?' for _ in f.provinces)})")
        params += list(f.provinces)
    if f.channel:
        parts.append(f"{alias}.channel = ?")
        params.append(f.channel)
    if f.shop:
        parts.append(f"{alias}.shop = ?")
        params.append(f.shop)
    return parts, params


def as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
