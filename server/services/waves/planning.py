"""Waves (波次): allocated orders grouped under one picking strategy, batched so that pickers walk
less, and released as pick tasks whose lines are in walking order.

plan_waves   allocated orders, most urgent first, into waves per strategy (rules/waves.yaml);
             orders allocated -> waved. Each wave keeps the metres of its planned batches and
             of first-come-first-served batches of the same size (the baseline).
release_wave planned -> released: one pick task per batch and zone, lines in route order;
             wave.progress to the wall screen and task.changed to pickers, after commit.
pause_wave, resume_wave, cancel_wave (before picking starts: orders go back to allocated).

The batches of a wave are not stored: batching is a pure function of the wave's orders, their
allocations, the layout and the rules, so release and preview compute them again and get the
same batches.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from peewee import fn

from rules import Limits
from server import events
from server.db import sql_many, write_transaction
from server.models import Location, Order, PickLine, PickTask, Warehouse, Wave, WaveOrder, Zone
from server.models.base import utcnow
from server.models.waves import WAVE_STRATEGIES
from server.services.errors import InvalidTransition, NotFound
from server.services.orders import lifecycle as orders
from server.services.replenishment import demand as replenishment
from server.services.rulebook import book
from server.services.stock.layout import layout_of
from server.services.waves import batching, lifecycle
from server.services.waves.progress import totals
from server.services.waves.wave_facts import Facts, facts_of, strategy_of

#: how the orders of a wave are told apart (the rules' ``sort_at``) for each kind of wave
SORT_AT = {"single_unit": "packing", "single_sku_multi": "packing", "cluster": "cart",
           "batch_putwall": "put_wall"}
_KIND_BY_SORT_AT = {"packing": "single_sku_multi", "cart": "cluster", "put_wall": "batch_putwall"}


def kind_of(strategy) -> str:
    """The kind of wave (``WAVE_STRATEGIES``) a rules strategy makes."""
    return strategy.name if strategy.name in WAVE_STRATEGIES else _KIND_BY_SORT_AT[strategy.sort_at]


def _warehouse(warehouse) -> Warehouse:
    if isinstance(warehouse, Warehouse):
        return warehouse
    found = Warehouse.get_or_none((Warehouse.code == str(warehouse)) | (
        Warehouse.id == (warehouse if isinstance(warehouse, int) else -1)))
    if found is None:
        raise NotFound(f"no warehouse {warehouse!r}", warehouse=str(warehouse))
    return found


def _walker(warehouse: Warehouse) -> batching.Walker:
    zones = dict(Location.select(Location.code, Location.zone).where(Location.warehouse == warehouse).tuples())
    return batching.Walker(layout_of(warehouse), zones)


# --- planning -----------------------------------------------------------------------------------

def _open_orders(warehouse: Warehouse) -> list[Order]:
    return list(Order.select().where(
        (Order.warehouse == warehouse) & (Order.status == "allocated")
        & ~Order.id.in_(WaveOrder.select(WaveOrder.order))).order_by(Order.id))


def _fill_waves(facts: list[Facts]) -> list[tuple[object, list[Facts]]]:
    """In rank order, each strategy's wave filled until the next order no longer fits."""
    current: dict[str, tuple[object, list, batching.Load]] = {}
    waves = []
    for fact in facts:
        strategy = fact.strategy
        aggregate = SORT_AT[kind_of(strategy)] == "put_wall"
        pick = fact.as_pick(aggregate)
        open_wave = current.get(strategy.name)
        if open_wave is not None and not open_wave[2].fits((pick,)):
            open_wave = None
        if open_wave is None:
            open_wave = (strategy, [], batching.Load(batching.Capacity(strategy.wave, aggregate)))
            current[strategy.name] = open_wave
            waves.append(open_wave)
        open_wave[1].append(fact)
        open_wave[2].change((pick,))
    return [(strategy, members) for strategy, members, _ in waves]


#: the batches of recent waves, by wave id, with the picks they were made from
_recent: dict[int, tuple[tuple, batching.Batching]] = {}
_RECENT_MAX = 256


def _batching(kind: str, task_limits, facts: list[Facts], walker: batching.Walker,
              wave_id: int | None = None) -> tuple[tuple, batching.Batching]:
    """The batches of a wave's orders (``facts`` most urgent first). Only the order of urgency
    counts, so a wave batched again from the same orders gets the same batches; the last ones
    computed for a wave are reused while its orders and allocations are unchanged."""
    aggregate = SORT_AT[kind] == "put_wall"
    picks = tuple(f.as_pick(aggregate, rank) for rank, f in enumerate(facts))
    made_from = (kind, task_limits, picks)
    known = _recent.get(wave_id)
    if known is not None and known[0] == made_from:
        return made_from, known[1]
    return made_from, batching.plan(list(picks), batching.Capacity(task_limits, aggregate), walker)


def _remember(wave_id: int, made_from: tuple, plan: batching.Batching) -> None:
    _recent[wave_id] = (made_from, plan)
    while len(_recent) > _RECENT_MAX:
        del _recent[next(iter(_recent))]


def _drafts(warehouse: Warehouse, max_orders: int | None, kinds) -> tuple[int, list[tuple]]:
    """The open orders' count and the waves they would make now: (kind, members, made_from, plan)
    each, only of the ``kinds`` of wave asked for (all when none)."""
    facts = facts_of(_open_orders(warehouse))
    waiting = len(facts)
    if kinds:
        facts = [f for f in facts if kind_of(f.strategy) in kinds]
    if max_orders is not None:
        facts = facts[:max(0, max_orders)]
    walker = _walker(warehouse)
    drafts = []
    for strategy, members in _fill_waves(facts):
        kind = kind_of(strategy)
        drafts.append((kind, members, *_batching(kind, strategy.task, members, walker)))
    return waiting, drafts


def plan_waves(warehouse, *, max_orders: int | None = None, kinds=(), actor, now=None) -> list[Wave]:
    """Put the warehouse's allocated orders that are in no wave yet into planned waves (most
    urgent first; at most ``max_orders`` of them; only those whose kind of wave is in ``kinds``
    when given) and return the waves."""
    warehouse = _warehouse(warehouse)
    planned = []
    for kind, members, made_from, plan in _drafts(warehouse, max_orders, kinds)[1]:
        wave = _save_wave(warehouse, kind, members, (made_from, plan), actor, now or utcnow())
        if wave is not None:
            planned.append(wave)
    return planned


def plan_preview(warehouse, *, max_orders: int | None = None, kinds=()) -> dict:
    """What :func:`plan_waves` would plan now, written nowhere: each wave's orders, lines, units,
    pick tasks (a batch's zones), and the metres of its batches against first-come-first-served."""
    warehouse = _warehouse(warehouse)
    waiting, drafts = _drafts(warehouse, max_orders, kinds)
    waves = []
    for kind, members, _, plan in drafts:
        zones = {f.order.id: {p.zone for p in f.picks} for f in members}
        saving = (1 - plan.total_metres / plan.fcfs_metres) if plan.fcfs_metres else 0.0
        waves.append({"strategy": kind, "orders": len(members), "lines": sum(f.order_lines for f in members),
                      "units": sum(f.units for f in members),
                      "tasks": sum(len(set().union(*(zones[p.key] for p in batch))) for batch in plan.batches),
                      "planned_metres": round(plan.total_metres, 2), "fcfs_metres": round(plan.fcfs_metres, 2),
                      "saving_pct": round(100 * saving, 1),
                      "deadline": min((f.order.ship_by for f in members if f.order.ship_by), default=None)})
    return {"warehouse": warehouse.code, "waiting": waiting,
            "left": waiting - sum(w["orders"] for w in waves), "waves": waves}


def plannable() -> list[dict]:
    """Each warehouse with its allocated orders in no wave yet."""
    waiting = dict(Order.select(Order.warehouse, fn.COUNT(Order.id)).where(
        (Order.status == "allocated") & ~Order.id.in_(WaveOrder.select(WaveOrder.order)))
        .group_by(Order.warehouse).tuples())
    return [{"code": w.code, "name": w.name, "waiting": waiting.get(w.id, 0)}
            for w in Warehouse.select().order_by(Warehouse.code)]


def _slots(kind: str, plan: batching.Batching) -> dict[int, int]:
    """Cart slot (cluster: per cart) or put-wall slot (batch: per wave) of each order."""
    if SORT_AT[kind] == "cart":
        return {p.key: slot for batch in plan.batches for slot, p in enumerate(batch, 1)}
    if SORT_AT[kind] == "put_wall":
        return {p.key: slot for slot, p in enumerate((p for batch in plan.batches for p in batch), 1)}
    return {}


def _save_wave(warehouse, kind, members, batches, actor, now) -> Wave | None:
    made_from, plan = batches
    ids = [f.order.id for f in members]
    with write_transaction():
        still = {row[0] for row in Order.select(Order.id).where(
            Order.id.in_(ids) & (Order.status == "allocated")
            & ~Order.id.in_(WaveOrder.select(WaveOrder.order))).tuples()}
        if len(still) != len(ids):
            members = [f for f in members if f.order.id in still]
            if not members:
                return None
            rules = book().waves
            strategy = next((s for s in rules.strategies if kind_of(s) == kind), members[0].strategy)
            made_from, plan = _batching(kind, strategy.task, members, _walker(warehouse))
        wave = Wave.create(code=f"new-{uuid.uuid4().hex}"[:32], warehouse=warehouse, strategy=kind,
                           orders_count=len(members), lines_count=sum(f.order_lines for f in members),
                           units_count=sum(f.units for f in members), planned_metres=round(plan.total_metres, 2),
                           fcfs_metres=round(plan.fcfs_metres, 2),
                           deadline=min((f.order.ship_by for f in members if f.order.ship_by), default=None),
                           created_by=actor.user_id if actor else None, created_at=now)
        wave.code = f"W{wave.id}"
        Wave.update(code=wave.code).where(Wave.id == wave.id).execute()
        slots = _slots(kind, plan)
        rows = [{"wave": wave.id, "order": f.order.id, "slot": slots.get(f.order.id, 0)} for f in members]
        for start in range(0, len(rows), 500):
            WaveOrder.insert_many(rows[start:start + 500]).execute()
        orders.transition_all([fact.order for fact in members], "waved", actor, wave.code)
        _progress(wave)
    _remember(wave.id, made_from, plan)
    return wave


# --- release and the other verbs ----------------------------------------------------------------

def get(wave_id) -> Wave:
    by_id = isinstance(wave_id, int) or str(wave_id).isdecimal()
    wave = Wave.get_or_none((Wave.id == int(wave_id)) if by_id else (Wave.code == str(wave_id)))
    if wave is None:
        raise NotFound(f"no wave {wave_id}", wave=str(wave_id))
    return wave


@dataclass
class _TaskPlan:
    """One pick task to be: a batch's picks in one zone, in walking order."""
    batch: int
    zone: int | None
    sequence: list[str]
    metres: float
    lines: list[dict]
    orders: list[int]


def _wave_facts(wave: Wave) -> list[Facts]:
    members = list(Order.select().join(WaveOrder).where((WaveOrder.wave == wave.id) & (Order.status == "waved")).order_by(Order.id))
    return replenishment.to_faces(facts_of(members, strategies=False), wave.warehouse_id)  # the wave's strategy: _task_limits


def _task_limits(wave: Wave, facts: list[Facts]):
    rules = book().waves
    strategy = next((s for s in rules.strategies if kind_of(s) == wave.strategy), None)
    if strategy is None:  # the rules no longer have this kind of wave: the orders' own strategy
        strategy = strategy_of(facts[0]) if facts else None
    return strategy.task if strategy else Limits()


def _task_plans(wave: Wave, facts: list[Facts], walker: batching.Walker):
    """The wave's batches (computed again; see the module's docstring) as pick tasks."""
    _, plan = _batching(wave.strategy, _task_limits(wave, facts), facts, walker, wave.id)
    by_order = {f.order.id: f for f in facts}
    slots = _slots(wave.strategy, plan)
    aggregate = SORT_AT[wave.strategy] == "put_wall"
    zone_codes = dict(Zone.select(Zone.id, Zone.code).where(Zone.warehouse == wave.warehouse_id).tuples())
    tasks = []
    for number, batch in enumerate(plan.batches):
        picks_by_zone = defaultdict(list)
        for pick in batch:
            for p in by_order[pick.key].picks:
                picks_by_zone[p.zone].append((pick, p))
        for zone in sorted(picks_by_zone, key=lambda z: (z is None, zone_codes.get(z, ""), z or 0)):
            items = picks_by_zone[zone]
            sequence, metres = walker.tour({p.code for _, p in items})
            stop = {code: i for i, code in enumerate(sequence)}
            lines = _aggregated(items, stop) if aggregate else _per_allocation(items, stop, slots)
            tasks.append(_TaskPlan(number, zone, sequence, metres, lines, sorted({pick.key for pick, _ in items})))
    return plan, slots, tasks


def _per_allocation(items, stop, slots) -> list[dict]:
    items = sorted(items, key=lambda item: (stop[item[1].code], item[0].rank, item[1].allocation))
    return [{"order": pick.key, "order_line": p.line, "allocation": p.allocation, "product": p.product,
             "location": p.location, "lot": p.lot, "qty": p.qty, "slot": slots.get(pick.key, 0)}
            for pick, p in items]


def _aggregated(items, stop) -> list[dict]:
    """Batch picking: one line per SKU, location and lot for all the batch's orders."""
    totals: dict[tuple, int] = defaultdict(int)
    codes = {}
    for _, p in items:
        totals[(p.product, p.location, p.lot)] += p.qty
        codes[p.location] = p.code
    keys = sorted(totals, key=lambda k: (stop[codes[k[1]]], k[0], k[2]))
    return [{"order": None, "order_line": None, "allocation": None, "product": product, "location": location,
             "lot": lot, "qty": totals[(product, location, lot)], "slot": 0} for product, location, lot in keys]


def release_wave(wave_id, actor) -> Wave:
    """planned -> released: create the pick tasks and lines; tell the wall screen and pickers."""
    for _ in range(3):
        wave = get(wave_id)
        if wave.status != "planned":
            raise InvalidTransition("wave", wave.status, "released")
        facts = _wave_facts(wave)
        _, slots, tasks = _task_plans(wave, facts, _walker(wave.warehouse))
        with write_transaction():
            wave = get(wave.id)
            waved = {row[0] for row in Order.select(Order.id).join(WaveOrder).where(
                (WaveOrder.wave == wave.id) & (Order.status == "waved")).tuples()}
            if waved != {f.order.id for f in facts}:
                continue  # an order left the wave meanwhile (cancelled by the channel): batch again
            lifecycle.move_wave(wave, "released", released_at=utcnow(), planned_metres=round(sum(t.metres for t in tasks), 2))
            replenishment.for_wave(wave, facts)  # demand replenishment first, its picks after
            _create_tasks(wave, facts, slots, tasks)
            _progress(wave)
            return wave
    raise InvalidTransition("wave", "changing", "released")


_LINE_FIELDS = ("order", "order_line", "allocation", "product", "location", "lot", "qty", "slot")
# written out: a wave of 10,000 orders has about 17,000 lines, and peewee took 2 s to build their inserts
INSERT_LINE = ("INSERT INTO pick_line (task_id, seq, order_id, order_line_id, allocation_id, product_id,"
               " location_id, lot, qty, slot, picked_qty, moved_qty, short_qty, tote, status)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, '', 'open')")


def _create_tasks(wave, facts, slots, tasks) -> None:
    current = dict(WaveOrder.select(WaveOrder.order, WaveOrder.slot).where(WaveOrder.wave == wave.id).tuples())
    for fact in facts:
        slot = slots.get(fact.order.id, 0)
        if current.get(fact.order.id) != slot:
            WaveOrder.update(slot=slot).where(WaveOrder.order == fact.order.id).execute()
    for seq, task in enumerate(tasks, 1):
        row = PickTask.create(wave=wave.id, code=f"{wave.code}-T{seq}", zone=task.zone, seq=seq,
                              metres=round(task.metres, 2), lines_total=len(task.lines),
                              units_total=sum(line["qty"] for line in task.lines))
        sql_many(INSERT_LINE, [(row.id, n, *(line[name] for name in _LINE_FIELDS))
                               for n, line in enumerate(task.lines, 1)])
        _task_changed(row)


def _task_changed(task: PickTask) -> None:
    events.publish("task.changed", {"task": task.id, "code": task.code, "wave": task.wave_id,
                                    "status": task.status, "zone": task.zone_id, "seq": task.seq,
                                    "metres": task.metres, "lines_total": task.lines_total,
                                    "units_total": task.units_total}, rooms=["role:picker", "wallboard"])


def _progress(wave: Wave) -> None:
    events.publish("wave.progress", totals(wave), rooms=["wallboard"])


def _picking_started(wave: Wave) -> bool:
    return (PickTask.select().where((PickTask.wave == wave.id) & PickTask.status.in_(("in_progress", "done")))
            .exists() or PickLine.select().join(PickTask).where(
                (PickTask.wave == wave.id) & ((PickLine.picked_qty > 0) | (PickLine.short_qty > 0)
                                              | (PickLine.status != "open"))).exists())


def pause_wave(wave_id, actor) -> Wave:
    """Hold a released wave back (pickers get none of its tasks until it resumes)."""
    with write_transaction():
        wave = get(wave_id)
        lifecycle.move_wave(wave, "paused")
        _progress(wave)
    return wave


def resume_wave(wave_id, actor) -> Wave:
    with write_transaction():
        wave = get(wave_id)
        if wave.status != "paused":  # planned -> released is a release, not a resume
            raise InvalidTransition("wave", wave.status, "released")
        lifecycle.move_wave(wave, "picking" if _picking_started(wave) else "released")
        _progress(wave)
    return wave


def cancel_wave(wave_id, actor) -> Wave:
    """Take a wave apart before picking starts: its tasks are cancelled and its orders go back to
    allocated, free to be planned again."""
    with write_transaction():
        wave = get(wave_id)
        lifecycle.WAVE.check(wave.status, "cancelled")
        if _picking_started(wave):
            raise InvalidTransition("wave", "picking", "cancelled")
        lifecycle.move_wave(wave, "cancelled", finished_at=utcnow())
        for task in PickTask.select().where((PickTask.wave == wave.id) & (PickTask.status != "cancelled")):
            lifecycle.cancel_task(task)
            _task_changed(task)
        members = list(Order.select().join(WaveOrder).where(WaveOrder.wave == wave.id).order_by(Order.id))
        WaveOrder.delete().where(WaveOrder.wave == wave.id).execute()
        for order in members:
            orders.transition(order, "allocated", actor, f"{wave.code} cancelled")
        _progress(wave)
    return wave


# --- reading ------------------------------------------------------------------------------------

def may_cancel(wave: Wave) -> bool:
    """Whether :func:`cancel_wave` would take the wave apart (the control room offers it then)."""
    return lifecycle.WAVE.allows(wave.status, "cancelled") and not _picking_started(wave)


def cancellable() -> list[int]:
    """The waves that may still be cancelled, by id."""
    return [w.id for w in Wave.select().where(Wave.status.in_(("planned", "released", "paused"))).order_by(Wave.id)
            if may_cancel(w)]


def wave_summary(wave: Wave) -> dict:
    saving = (1 - wave.planned_metres / wave.fcfs_metres) if wave.fcfs_metres else 0.0
    return {"id": wave.id, "code": wave.code, "warehouse": wave.warehouse.code, "strategy": wave.strategy,
            "status": wave.status, "orders": wave.orders_count, "lines": wave.lines_count,
            "units": wave.units_count, "planned_metres": wave.planned_metres, "fcfs_metres": wave.fcfs_metres,
            "saving_pct": round(100 * saving, 1), "deadline": wave.deadline, "created_at": wave.created_at,
            "released_at": wave.released_at}


def waves(status: str | None = None, warehouse=None, limit: int = 100, offset: int = 0) -> list[Wave]:
    query = Wave.select().order_by(Wave.id.desc())
    if status:
        query = query.where(Wave.status == status)
    if warehouse is not None:
        query = query.where(Wave.warehouse == _warehouse(warehouse))
    return list(query.limit(limit).offset(offset))


def preview(wave_id) -> dict:
    """The wave, its orders (with slots) and its tasks with their metres and stops in walking order;
    for a planned wave, the tasks its release would create."""
    wave = get(wave_id)
    members = (WaveOrder.select(WaveOrder, Order).join(Order).where(WaveOrder.wave == wave.id)
               .order_by(WaveOrder.slot, Order.id))
    result = {"wave": wave_summary(wave),
              "orders": [{"id": m.order.id, "external_id": m.order.external_id, "status": m.order.status,
                          "slot": m.slot, "priority": m.order.priority, "ship_by": m.order.ship_by}
                         for m in members]}
    zones = dict(Zone.select(Zone.id, Zone.code).where(Zone.warehouse == wave.warehouse_id).tuples())
    if wave.status == "planned":
        _, _, tasks = _task_plans(wave, _wave_facts(wave), _walker(wave.warehouse))
        result["tasks"] = [{"code": f"{wave.code}-T{seq}", "seq": seq, "status": "planned",
                            "zone": zones.get(t.zone), "metres": round(t.metres, 2), "lines_total": len(t.lines),
                            "units_total": sum(line["qty"] for line in t.lines), "orders": t.orders,
                            "sequence": t.sequence} for seq, t in enumerate(tasks, 1)]
        return result
    result["tasks"] = []
    for task in PickTask.select().where(PickTask.wave == wave.id).order_by(PickTask.seq):
        rows = list(PickLine.select(PickLine.order, Location.code).join(Location)
                    .where(PickLine.task == task.id).order_by(PickLine.seq).tuples())
        sequence = list(dict.fromkeys(code for _, code in rows))
        result["tasks"].append({"code": task.code, "seq": task.seq, "status": task.status,
                                "zone": zones.get(task.zone_id), "metres": task.metres,
                                "lines_total": task.lines_total, "units_total": task.units_total,
                                "orders": sorted({o for o, _ in rows if o is not None}), "sequence": sequence})
    return result
