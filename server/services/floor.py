"""The floor at a glance (现场看板) and the supervisor's control room (控制室).

summary      open waves with progress and ETA, pickers with their task, rate and idle time, zone
             backlogs, orders due before the carrier cut-off, exceptions with their age and the
             units picked per hour today. Read-only; the wall screen gets it in its ``snapshot``
             (scenarios/wallboard.py).
control      the verbs a supervisor uses on the floor (release, pause, resume, cancel a wave;
             reassign a task; raise an order's priority; count a location; reprint a label; move
             jobs off a printer). Each goes through the service that owns the noun and leaves an
             ``AuditLog`` row; the events those services publish reach the wall after commit.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from peewee import JOIN, Case, fn

from server import events
from server.db import write_transaction
from server.models import (AuditLog, Location, Order, Package, PickLine, PickTask, Printer, PrintJob,
                           Product, StockMove, User, Wave, WaveOrder, Warehouse, Zone)
from server.models.base import utcnow
from server.services import auth, printing
from server.services.errors import DomainError, InvalidTransition, NotFound
from server.services.orders import office
from server.services.packages import lifecycle as parcels
from server.services.waves import lifecycle
from server.services.waves import picks as picking_ledger
from server.services.waves import planning as waves
from server.services.waves import progress as wave_progress
from server.services.waves.lifecycle import ACTIVE_TASK, OPEN_LINE, OPEN_WAVES, PICKING_WAVES

RATE_WINDOW = dt.timedelta(minutes=15)
#: orders whose ship-by falls within this many hours count as due before the next carrier pick-up
CUTOFF_WINDOW_H = 4
LIST_LIMIT = 30
DEFAULT_TZ = "Asia/Shanghai"


class UnitsInHand(DomainError):
    """A task cannot change hands while its picker holds counted units not yet in a tote."""
    code = "units_in_hand"
    http_status = 409


class NotAPicker(DomainError):
    code = "not_a_picker"


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _age_s(since: dt.datetime | None, now: dt.datetime) -> int | None:
    return max(0, int((now - since).total_seconds())) if since else None


def _as_datetime(value):
    """SQLite hands an aggregate of a timestamp back as text."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


# --- the summary -------------------------------------------------------------------------------

def summary(now: dt.datetime | None = None, tz: str | None = None) -> dict:
    """Everything the wall screen shows, as JSON-ready values (times ISO in UTC with ``Z``)."""
    version = events.version()
    now = now or utcnow()
    zone = ZoneInfo(tz or Warehouse.select(Warehouse.timezone).order_by(Warehouse.id).scalar() or DEFAULT_TZ)
    window = _rate_window(now)
    day_start = _local_midnight(now, zone)
    return {"version": version, "at": iso(now), "timezone": zone.key,
            "waves": _waves(now, window), "pickers": _pickers(now, window, day_start),
            "zones": _zone_backlog(), "due": _due(now), "exceptions": exceptions(now),
            "throughput": _throughput(now, day_start, zone)}


def _local_midnight(now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    local = now.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _rate_window(now: dt.datetime) -> list[tuple[int, str, int]]:
    """(user, ref, qty) of every unit put into a tote in the last 15 minutes."""
    return list(StockMove.select(StockMove.user, StockMove.ref, StockMove.qty)
                .where((StockMove.reason == "pick") & (StockMove.at > now - RATE_WINDOW)
                       & (StockMove.at <= now)).tuples())


def _line_ids(refs) -> set[int]:
    return {int(ref[5:]) for ref in refs if ref.startswith("pick:") and ref[5:].isdecimal()}


def _waves(now: dt.datetime, window) -> list[dict]:
    open_waves = list(Wave.select().where(Wave.status.in_(OPEN_WAVES)).order_by(Wave.released_at, Wave.id))
    if not open_waves:
        return []
    ids = [w.id for w in open_waves]
    units_by_line = defaultdict(int)
    for _, ref, qty in window:
        for line_id in _line_ids((ref,)):
            units_by_line[line_id] += qty
    recent = defaultdict(int)
    if units_by_line:
        for line_id, wave_id in (PickLine.select(PickLine.id, PickTask.wave).join(PickTask)
                                 .where(PickLine.id.in_(list(units_by_line))).tuples()):
            recent[wave_id] += units_by_line[line_id]
    states = defaultdict(lambda: defaultdict(int))
    for wave_id, status, count in (WaveOrder.select(WaveOrder.wave, Order.status, fn.COUNT(Order.id))
                                   .join(Order).where(WaveOrder.wave.in_(ids))
                                   .group_by(WaveOrder.wave, Order.status).tuples()):
        states[wave_id][status] = count
    rows = []
    for wave in open_waves:
        progress = wave_progress.totals(wave)
        per_hour = recent[wave.id] * (dt.timedelta(hours=1) / RATE_WINDOW)
        left = progress["units_total"] - progress["units_done"]
        eta = now + dt.timedelta(hours=left / per_hour) if per_hour and left > 0 else None
        if left <= 0:
            eta = wave.finished_at or now
        by_state = states[wave.id]
        rows.append(dict(progress, deadline=iso(wave.deadline), released_at=iso(wave.released_at),
                         units_per_hour=round(per_hour), eta=iso(eta),
                         late=bool(wave.deadline and eta and eta > wave.deadline),
                         orders_picked=sum(by_state[s] for s in ("picked", "packed", "shipped")),
                         orders_packed=by_state["packed"] + by_state["shipped"],
                         orders_shipped=by_state["shipped"]))
    return rows


def _pickers(now: dt.datetime, window, day_start: dt.datetime) -> list[dict]:
    today = {user: (_as_datetime(last), int(units or 0)) for user, last, units in
             StockMove.select(StockMove.user, fn.MAX(StockMove.at), fn.SUM(StockMove.qty))
             .where((StockMove.reason == "pick") & (StockMove.at >= day_start) & StockMove.user.is_null(False))
             .group_by(StockMove.user).tuples()}
    tasks = {}
    for task in (PickTask.select(PickTask, Wave.code.alias("wave_code")).join(Wave)
                 .where(PickTask.status.in_(ACTIVE_TASK) & PickTask.picker.is_null(False))
                 .order_by(PickTask.assigned_at.desc(), PickTask.id.desc()).objects()):
        tasks[task.picker_id] = task  # the oldest assignment wins: it is the one being walked
    lines, units = defaultdict(set), defaultdict(int)
    for user, ref, qty in window:
        lines[user] |= _line_ids((ref,))
        units[user] += qty
    ids = set(today) | set(tasks)
    if not ids:
        return []
    scale = dt.timedelta(hours=1) / RATE_WINDOW
    rows = []
    for user in User.select().where(User.id.in_(list(ids))).order_by(User.code):
        task = tasks.get(user.id)
        last_pick, units_today = today.get(user.id, (None, 0))
        busy_since = max([t for t in (last_pick, task and (task.started_at or task.assigned_at)) if t],
                         default=None)
        rows.append({"id": user.id, "code": user.code, "name": user.name, "units_today": units_today,
                     "lines_per_hour": round(len(lines[user.id]) * scale),
                     "units_per_hour": round(units[user.id] * scale),
                     "last_pick_at": iso(last_pick), "idle_s": _age_s(busy_since, now),
                     "task": None if task is None else {
                         "id": task.id, "code": task.code, "wave": task.wave_code, "status": task.status,
                         "lines_done": task.lines_done, "lines_total": task.lines_total,
                         "units_done": task.units_done, "units_total": task.units_total}})
    return rows


def _zone_backlog() -> list[dict]:
    rows = (PickLine.select(Zone.code, fn.COUNT(PickLine.id),
                            fn.SUM(PickLine.qty - PickLine.picked_qty - PickLine.short_qty))
            .join(PickTask).join(Wave).switch(PickTask).join(Zone, JOIN.LEFT_OUTER)
            .where(PickLine.status.in_(OPEN_LINE) & PickTask.status.not_in(("done", "cancelled"))
                   & Wave.status.in_(PICKING_WAVES))
            .group_by(Zone.code).tuples())
    return sorted(({"zone": code or "-", "open_lines": int(lines), "open_units": max(0, int(left or 0))}
                   for code, lines, left in rows), key=lambda z: (-z["open_lines"], z["zone"]))


def _due(now: dt.datetime) -> dict:
    until = now + dt.timedelta(hours=CUTOFF_WINDOW_H)
    open_orders = Order.ship_by.is_null(False) & (Order.ship_by <= until) & Order.status.not_in(
        ("shipped", "cancelled"))
    counts = dict(Order.select(Order.status, fn.COUNT(Order.id)).where(open_orders)
                  .group_by(Order.status).tuples())
    overdue = Order.select().where(open_orders & (Order.ship_by < now)).count()
    items = [{"id": o.id, "external_id": o.external_id, "status": o.status, "carrier": o.carrier,
              "ship_by": iso(o.ship_by), "priority": o.priority}
             for o in Order.select().where(open_orders).order_by(Order.ship_by, Order.id).limit(LIST_LIMIT)]
    return {"window_h": CUTOFF_WINDOW_H, "until": iso(until), "orders": sum(counts.values()),
            "overdue": overdue, "by_status": counts, "items": items}


def exceptions(now: dt.datetime | None = None) -> dict:
    """What needs a supervisor: short picks and locations to count, held orders, backorders,
    printer faults and failed labels, each with how long it has waited."""
    now = now or utcnow()
    items = _short_picks(now) + _counts(now) + _orders_in("held", now) + _orders_in("backorder", now)
    items += _printer_faults(now) + _failed_jobs(now)
    counts = defaultdict(int)
    for item in items:
        counts[item["kind"]] += 1
    counts["held"] = Order.select().where(Order.status == "held").count()
    counts["backorder"] = Order.select().where(Order.status == "backorder").count()
    return {"counts": dict(counts), "items": sorted(items, key=lambda i: -(i["age_s"] or 0))}


def _short_picks(now) -> list[dict]:
    rows = list(PickLine.select(PickLine.id, PickLine.short_qty, Location.code, Product.sku, PickTask.code,
                                Location.needs_count)
                .join(Location).switch(PickLine).join(Product).switch(PickLine).join(PickTask).join(Wave)
                .where((PickLine.short_qty > 0) & Wave.status.in_(OPEN_WAVES))
                .order_by(PickLine.id).limit(LIST_LIMIT).tuples())
    refs = [f"short:{row[0]}" for row in rows]
    since = dict(StockMove.select(StockMove.ref, fn.MIN(StockMove.at)).where(StockMove.ref.in_(refs))
                 .group_by(StockMove.ref).tuples()) if refs else {}
    return [{"kind": "short_pick", "ref": location, "line": line_id, "sku": sku, "qty": short, "task": task,
             "needs_count": bool(needs), "since": iso(_as_datetime(since.get(f"short:{line_id}"))),
             "age_s": _age_s(_as_datetime(since.get(f"short:{line_id}")), now)}
            for line_id, short, location, sku, task, needs in rows]


def _counts(now) -> list[dict]:
    """Locations waiting for a count, since the last stock-out reported there."""
    rows = list(Location.select(Location.id, Location.code).where(Location.needs_count == True)  # noqa: E712
                .order_by(Location.code).limit(LIST_LIMIT).tuples())
    since, marked = {}, {}
    if rows:
        since = dict(StockMove.select(StockMove.from_location, fn.MAX(StockMove.at))
                     .where(StockMove.from_location.in_([r[0] for r in rows])
                            & StockMove.reason.in_(("short_pick", "count")))
                     .group_by(StockMove.from_location).tuples())
        marked = dict(AuditLog.select(AuditLog.target, fn.MAX(AuditLog.at))
                      .where((AuditLog.action == "floor.count") & AuditLog.target.in_([r[1] for r in rows]))
                      .group_by(AuditLog.target).tuples())
    return [{"kind": "count", "ref": code,
             "since": iso(_as_datetime(since.get(loc_id) or marked.get(code))),
             "age_s": _age_s(_as_datetime(since.get(loc_id) or marked.get(code)), now)} for loc_id, code in rows]


def _orders_in(status: str, now) -> list[dict]:
    return [{"kind": status, "ref": o.external_id, "order": o.id, "detail": o.hold_reasons,
             "since": iso(o.updated_at), "age_s": _age_s(o.updated_at, now)}
            for o in Order.select().where(Order.status == status).order_by(Order.updated_at).limit(LIST_LIMIT)]


def _printer_faults(now) -> list[dict]:
    items = []
    for printer in Printer.select().where(Printer.active == True).order_by(Printer.code):  # noqa: E712
        status = printing.status_of(printer)
        if status["ok"] is not False:
            continue
        waiting = _as_datetime(PrintJob.select(fn.MIN(PrintJob.created_at)).where(
            (PrintJob.printer == printer.id) & PrintJob.state.in_(("queued", "sending", "failed"))).scalar())
        since = waiting or status["at"]
        items.append({"kind": "printer", "ref": printer.code, "faults": status["faults"],
                      "station": printer.station, "since": iso(since), "age_s": _age_s(since, now)})
    return items


def _failed_jobs(now) -> list[dict]:
    return [{"kind": "print_failed", "ref": job.ref, "job": job.id, "printer": job.printer.code,
             "detail": job.last_error[:120], "since": iso(job.created_at), "age_s": _age_s(job.created_at, now)}
            for job in PrintJob.select(PrintJob, Printer).join(Printer).where(PrintJob.state == "failed")
            .order_by(PrintJob.id).limit(LIST_LIMIT)]


def _throughput(now: dt.datetime, day_start: dt.datetime, zone: ZoneInfo) -> dict:
    """Units put into totes in each hour of the warehouse's day so far (one query)."""
    hours = int((now - day_start).total_seconds() // 3600) + 1
    starts = [day_start + dt.timedelta(hours=h) for h in range(hours)]
    buckets = [fn.SUM(Case(None, [((StockMove.at >= start) & (StockMove.at < start + dt.timedelta(hours=1)),
                                   StockMove.qty)], 0)) for start in starts]
    row = (StockMove.select(*buckets).where((StockMove.reason == "pick") & (StockMove.at >= day_start)
                                            & (StockMove.at <= now)).tuples().first())
    units = [int(v or 0) for v in (row or [0] * hours)]
    labels = [s.replace(tzinfo=dt.timezone.utc).astimezone(zone).strftime("%H:00") for s in starts]
    return {"hours": labels, "units": units, "total": sum(units)}


# --- the control room --------------------------------------------------------------------------

def audit(actor, action: str, target: str, detail: str = "") -> None:
    AuditLog.create(user=actor.user_id if actor else None, device=actor.device_id if actor else None,
                    action=action, target=str(target)[:200], detail=detail)


WAVE_VERBS = {"release": waves.release_wave, "pause": waves.pause_wave, "resume": waves.resume_wave,
              "cancel": waves.cancel_wave}


def wave_action(wave_id, verb: str, actor) -> Wave:
    """Release, pause, resume or cancel a wave (the waves service checks the transition)."""
    if verb not in WAVE_VERBS:
        raise NotFound(f"no wave action {verb!r}", action=verb)
    wave = WAVE_VERBS[verb](waves.get(wave_id).id, actor)
    with write_transaction():
        audit(actor, f"floor.wave.{verb}", wave.code, wave.status)
    return wave


def reassign_task(task_id, picker_code: str, actor) -> PickTask:
    """Hand a task that is not finished to another picker. The lines the old picker had located
    go back to "scan the location"; a task with counted units still in a hand stays put."""
    picker = User.get_or_none((User.code == picker_code) & User.active)
    if picker is None:
        raise NotFound(f"no user {picker_code!r}", user=picker_code)
    if not auth.can(auth.roles_of(picker), "floor.picking"):
        raise NotAPicker(f"{picker_code} does not pick", user=picker_code)
    with write_transaction():
        task = _task(task_id)
        if task.status not in ("open",) + ACTIVE_TASK:
            raise InvalidTransition("task", task.status, "assigned")
        located = list(PickLine.select().where((PickLine.task == task.id) & (PickLine.status == "located")))
        if any(picking_ledger.pending(line) for line in located):
            raise UnitsInHand(f"{task.code}: counted units are not in a tote yet", task=task.code)
        lifecycle.reopen_lines([line.id for line in located])
        previous = task.picker_id
        lifecycle.reassign_task(task, picker.id)
        task = PickTask.get_by_id(task.id)
        audit(actor, "floor.task.reassign", task.code,
              f"{User.get_by_id(previous).code if previous else '-'} -> {picker.code}")
        payload = wave_progress.task_payload(task)
        rooms = ["wallboard", f"user:{picker.id}"] + ([f"user:{previous}"] if previous and previous != picker.id
                                                      else [])
        events.publish("task.changed", dict(payload, reassigned_from=previous), rooms=rooms)
        events.publish("task.assigned", payload, rooms=[f"user:{picker.id}"])
        if previous and previous != picker.id:  # the old picker's device leaves the task at once
            events.publish("task.reassigned", {"code": "task_reassigned", "task": task.code, "wave": task.wave.code,
                                               "to": picker.code, "text": lifecycle.sentences("task_reassigned")},
                           rooms=[f"user:{previous}"])
    return task


def _task(task_id) -> PickTask:
    by_id = isinstance(task_id, int) or str(task_id).isdecimal()
    task = PickTask.get_or_none((PickTask.id == int(task_id)) if by_id else (PickTask.code == str(task_id)))
    if task is None:
        raise NotFound(f"no task {task_id}", task=str(task_id))
    return task


def set_priority(order_id: int, priority: int, actor) -> Order:
    with write_transaction():
        order = office.set_priority(order_id, priority, actor)
        audit(actor, "floor.priority", f"order:{order.id}", str(priority))
    return order


def count_location(code: str, actor, reason: str = "") -> Location:
    """Send a location to be counted (盘点): it takes no new reservations until it is."""
    with write_transaction():
        location = Location.get_or_none(Location.code == code)
        if location is None:
            raise NotFound(f"unknown location {code!r}", code=code)
        Location.update(needs_count=True).where(Location.id == location.id).execute()
        audit(actor, "floor.count", location.code, reason)
    location.needs_count = True
    return location


def reprint(job_id: int, actor) -> PrintJob:
    return printing.reprint(job_id, actor)  # audited there (print.reprint)


def reprint_label(tracking: str, actor) -> tuple[PrintJob, Package]:
    """A parcel's shipping label again, found by the tracking number printed on it; while the
    parcel is still on the pack bench (labelled or weighed) the new print becomes its label."""
    parcel = parcels.by_tracking(tracking)
    if parcel is None or parcel.label_job_id is None:
        raise NotFound(f"no label for tracking number {tracking!r}", tracking=tracking)
    with write_transaction():
        job = printing.reprint(parcel.label_job_id, actor)
        if parcel.state in ("labelled", "weighed"):
            parcels.reprint(parcel, job.id, actor)
    return job, parcel


def move_jobs(from_printer: str, to_printer: str, actor) -> int:
    return printing.move_jobs(from_printer, to_printer, actor)  # audited there (print.move)


def picker_trail(picker_code: str, now: dt.datetime | None = None, tz: str | None = None) -> dict:
    """What a picker did today: their ledger lines (units into totes, short picks) newest first,
    and the tasks they held."""
    user = User.get_or_none(User.code == picker_code)
    if user is None:
        raise NotFound(f"no user {picker_code!r}", user=picker_code)
    now = now or utcnow()
    zone = ZoneInfo(tz or Warehouse.select(Warehouse.timezone).order_by(Warehouse.id).scalar() or DEFAULT_TZ)
    start = _local_midnight(now, zone)
    source, target = Location.alias(), Location.alias()
    moves = (StockMove.select(StockMove.at, StockMove.reason, StockMove.ref, StockMove.qty, Product.sku,
                              source.code.alias("source"), target.code.alias("target"))
             .join(Product).switch(StockMove)
             .join(source, JOIN.LEFT_OUTER, on=(StockMove.from_location == source.id)).switch(StockMove)
             .join(target, JOIN.LEFT_OUTER, on=(StockMove.to_location == target.id))
             .where((StockMove.user == user.id) & (StockMove.at >= start))
             .order_by(StockMove.at.desc(), StockMove.id.desc()).limit(500).dicts())
    tasks = (PickTask.select(PickTask, Wave.code.alias("wave_code")).join(Wave)
             .where((PickTask.picker == user.id) & ((PickTask.assigned_at >= start) | PickTask.status.in_(ACTIVE_TASK)))
             .order_by(PickTask.assigned_at.desc()).objects())
    return {"picker": {"code": user.code, "name": user.name},
            "moves": [dict(m, at=iso(m["at"])) for m in moves],
            "tasks": [{"id": t.id, "code": t.code, "wave": t.wave_code, "status": t.status,
                       "lines_done": t.lines_done, "lines_total": t.lines_total, "units_done": t.units_done,
                       "units_total": t.units_total, "assigned_at": iso(t.assigned_at),
                       "finished_at": iso(t.finished_at)} for t in tasks]}


def control_view() -> dict:
    """What the control room lists besides the summary: planned waves to release, tasks to hand
    over, the pickers to hand them to, printers and failed labels."""
    planned = [waves.wave_summary(w) for w in Wave.select().where(Wave.status == "planned").order_by(Wave.id)]
    for wave in planned:
        wave.update(deadline=iso(wave["deadline"]), created_at=iso(wave["created_at"]),
                    released_at=iso(wave["released_at"]))
    tasks = (PickTask.select(PickTask, Wave.code.alias("wave_code"), User.code.alias("picker_code"))
             .join(Wave).switch(PickTask).join(User, JOIN.LEFT_OUTER, on=(PickTask.picker == User.id))
             .where(PickTask.status.in_(("open",) + ACTIVE_TASK) & Wave.status.in_(PICKING_WAVES))
             .order_by(PickTask.wave, PickTask.seq).limit(200).objects())
    pickers = [u.code for u in User.select().where(User.active == True).order_by(User.code)  # noqa: E712
               if auth.can(auth.roles_of(u), "floor.picking") and u.code != "system"]
    printers = [{"code": p["code"], "ok": p["status"]["ok"], "faults": p["status"]["faults"],
                 "queued": p["queued"], "failed": p["failed"], "active": p["active"]}
                for p in printing.printer_list()]
    return {"planned": planned, "pickers": pickers, "printers": printers,
            "tasks": [{"id": t.id, "code": t.code, "wave": t.wave_code, "status": t.status,
                       "picker": t.picker_code, "lines_done": t.lines_done, "lines_total": t.lines_total}
                      for t in tasks]}

