"""Count plans (盘点计划): which locations to count, as open count tasks.

By zone, by aisle, a list of locations, ABC class, "not counted for N days", or every flagged
location (a short pick, a rejected count, the control room's "send to count"). Only active pick
and reserve locations are counted, and a location already in a count is skipped.

ABC (from the last 90 days' picks): SKUs ranked by pick lines (the ledger's ``pick`` moves); A
are the SKUs making the first 80 % of them, B the next 15 %, C the rest and every SKU not picked.
A location is in the best class of the SKUs it holds, and is due when its last count is older
than its class's cycle: A monthly, B quarterly, C yearly.
"""
from __future__ import annotations

import datetime as dt

from peewee import fn

from server.db import write_transaction
from server.models import CountTask, Location, Quant, StockMove, Zone
from server.models.base import utcnow
from server.models.layout import PICKABLE_KINDS
from server.services.counts import tasks
from server.services.errors import DomainError, NotFound

PLANS = ("zone", "aisle", "list", "abc", "stale", "flagged")
ABC_CUTS = (("A", 0.80), ("B", 0.95))      # cumulative share of pick lines; the rest is C
ABC_CYCLE_DAYS = {"A": 30, "B": 91, "C": 365}
ABC_WINDOW_DAYS = 90


def _countable(warehouse_id: int | None):
    query = Location.select().where(Location.kind.in_(PICKABLE_KINDS) & (Location.active == True))  # noqa: E712
    if warehouse_id is not None:
        query = query.where(Location.warehouse == warehouse_id)
    return query.order_by(Location.warehouse, Location.pick_seq, Location.code)


def in_a_count() -> set[int]:
    return {loc for (loc,) in CountTask.select(CountTask.location).where(CountTask.status.in_(tasks.ACTIVE)).tuples()}


def last_counted() -> dict[int, dt.datetime]:
    """Each location's last approved count."""
    return dict(CountTask.select(CountTask.location, fn.MAX(CountTask.decided_at))
                .where(CountTask.status == "approved").group_by(CountTask.location).tuples())


def abc_classes(now: dt.datetime | None = None, warehouse_id: int | None = None) -> dict[int, str]:
    """Product id -> A, B or C, from the pick lines of the last 90 days (products never picked: C)."""
    now = now or utcnow()
    since = now - dt.timedelta(days=ABC_WINDOW_DAYS)
    query = (StockMove.select(StockMove.product, fn.COUNT(StockMove.id).alias("picks"))
             .where((StockMove.reason == "pick") & (StockMove.at >= since)))
    if warehouse_id is not None:
        query = query.join(Location, on=(StockMove.from_location == Location.id)).where(
            Location.warehouse == warehouse_id)
    ranked = sorted(query.group_by(StockMove.product).tuples(), key=lambda row: (-row[1], row[0]))
    total = sum(picks for _, picks in ranked) or 1
    classes, running = {}, 0
    for product_id, picks in ranked:
        share_before = running / total
        running += picks
        classes[product_id] = next((name for name, cut in ABC_CUTS if share_before < cut), "C")
    return classes


def location_classes(locations: list[Location], classes: dict[int, str]) -> dict[int, str]:
    """Location id -> the best class of the SKUs it holds (locations holding nothing are left out)."""
    held: dict[int, str] = {}
    rows = (Quant.select(Quant.location, Quant.product)
            .where(Quant.location.in_([loc.id for loc in locations] or [0]) & (Quant.qty > 0)).tuples())
    for location_id, product_id in rows:
        name = classes.get(product_id, "C")
        if location_id not in held or name < held[location_id]:
            held[location_id] = name
    return held


def chosen(by: str, *, warehouse_id: int | None = None, zone: str | None = None, aisle: int | None = None,
           locations: list[str] | None = None, days: int | None = None,
           now: dt.datetime | None = None) -> list[tuple[Location, str]]:
    """The locations a plan counts, each with the reason its task will carry."""
    if by not in PLANS:
        raise DomainError(f"plan by one of {', '.join(PLANS)}, not {by!r}")
    now = now or utcnow()
    query = _countable(warehouse_id)
    if by == "zone":
        if not zone:
            raise DomainError("name a zone")
        zones = Zone.select(Zone.id).where(Zone.code == zone)
        if warehouse_id is not None:
            zones = zones.where(Zone.warehouse == warehouse_id)
        if not zones.exists():
            raise NotFound(f"unknown zone {zone!r}", code=zone)
        return [(loc, "zone") for loc in query.where(Location.zone.in_(zones))]
    if by == "aisle":
        if aisle is None:
            raise DomainError("name an aisle")
        return [(loc, "aisle") for loc in query.where(Location.aisle == aisle)]
    if by == "list":
        codes = [c.strip() for c in (locations or []) if c and c.strip()]
        if not codes:
            raise DomainError("name the locations")
        found = {loc.code: loc for loc in query.where(Location.code.in_(codes))}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise NotFound(f"not countable locations: {', '.join(unknown[:10])}", code=unknown[0])
        return [(found[c], "list") for c in dict.fromkeys(codes)]
    if by == "flagged":
        return [(loc, "flagged") for loc in query.where(Location.needs_count == True)]  # noqa: E712
    counted = last_counted()
    if by == "stale":
        if days is None or days < 1:
            raise DomainError("say how many days: not counted for N days")
        cutoff = now - dt.timedelta(days=days)
        return [(loc, "stale") for loc in query if counted.get(loc.id) is None or counted[loc.id] < cutoff]
    every = list(query)
    classes = location_classes(every, abc_classes(now, warehouse_id))
    due = []
    for loc in every:
        name = classes.get(loc.id)
        if name is None:
            continue
        last = counted.get(loc.id)
        if last is None or last < now - dt.timedelta(days=ABC_CYCLE_DAYS[name]):
            due.append((loc, f"abc_{name.lower()}"))
    return due


def plan(by: str, *, warehouse: str | None = None, zone: str | None = None, aisle: int | None = None,
         locations: list[str] | None = None, days: int | None = None, dry_run: bool = False,
         now: dt.datetime | None = None) -> dict:
    """Open a count task for each location the plan chooses that is not in a count already."""
    found = tasks.warehouse_of(warehouse)
    picked = chosen(by, warehouse_id=found.id if found else None, zone=zone, aisle=aisle, locations=locations,
                    days=days, now=now)
    busy = in_a_count()
    todo = [(loc, reason) for loc, reason in picked if loc.id not in busy]
    created = []
    if not dry_run:
        with write_transaction():
            for loc, reason in todo:
                task = tasks.create(loc.warehouse_id, loc.id, reason, tell=False)
                created.append({"code": task.code, "location": loc.code, "reason": reason})
            for warehouse_id in sorted({loc.warehouse_id for loc, _ in todo}):
                tasks.announce(warehouse_id)
    else:
        created = [{"code": None, "location": loc.code, "reason": reason} for loc, reason in todo]
    return {"by": by, "created": created, "skipped": len(picked) - len(todo), "dry_run": dry_run}
