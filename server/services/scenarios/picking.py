"""The ``picking`` floor scenario (拣货): a picker walks a pick task line by line.

States (the handheld mirrors them one screen each)::

    start ──get_work──> scan_location ──scan──> scan_item ──scan──> qty ──scan──> scan_tote
      ^  (no_work)           ^   │                  │  (case = pack)  │ (more scans,   │
      │                      │   └─skip (to end)────┘                 │  typed qty)    │ scan the tote:
      │                      │                                                         │ units move
      │                      └─────────── next line <──────────────────────────────────┘ location -> tote
      └──── task_done <──── last line confirmed or short

    device                                  server
      | cmd picking/get_work                  |  guarded UPDATE pick_task ... WHERE status='open'
      |-------------------------------------->|  after commit: task.assigned -> user:<id>
      |<--------------------------------------|  scan_location {task, line}
      | cmd picking/scan {code: location}     |  wrong_location | replenishment_running (the face waits for
      |                                       |  a replenishment: nothing written) | first scan: wave -> picking
      |<--------------------------------------|  scan_item
      | cmd picking/scan {code: item | GS1}   |  wrong_item | over_pick; a case code counts its pack
      |<--------------------------------------|  qty (more to count) | scan_tote (all counted)
      | cmd picking/qty {qty}  (optional)     |  scan_item_before_qty until the item was scanned once
      | cmd picking/scan {code: tote}         |  wrong_tote (the slot's tote is shown) | empty_tote_for_slot,
      |                                       |  empty_tote (the slot's first tote) | StockMove location -> tote
      |-------------------------------------->|  after commit, coalesced: wave.progress with the changed tasks
      |<--------------------------------------|  -> wallboard; scan_location (next line)
      | cmd picking/short {reason}            |  replenishment_running as above; else line shortened,
      |                                       |  location needs_count, reservation
      |                                       |  released, order re-allocated elsewhere or marked short
      | cmd picking/skip                      |  the line goes to the end of the walk
      |<--------------------------------------|  ... task_done: orders picked, wave picked when all done

      | (wave paused)                         |  event wave.paused -> user:<id> of each picker holding a task
      | any cmd but current, get_work         |  paused, wave_paused: nothing is counted or confirmed; units
      |<--------------------------------------|  counted before stay in hand (counted) until the wave resumes
      | (wave resumed)                        |  event wave.resumed; the device asks ``current``
      | (task reassigned)                     |  event task.reassigned -> the old picker: start

Keep this diagram (and the one in docs/protocol.md) current with the code.

The step a line is at is kept on the line: ``status`` is ``open`` or ``skipped`` (scan the
location), ``located`` (the location was scanned), ``done`` or ``short``. ``picked_qty`` counts
the units scanned for the line; the units confirmed into a tote are the line's ledger moves
(``ref = pick:<line>``), so the units counted but not yet in a tote are the difference.
Totes are locations of kind ``tote`` that exist before they are scanned (their labels are
printed from that list); a code that is not one is refused with ``wrong_tote``.
"""
from __future__ import annotations

from types import SimpleNamespace

from server.db import sql_row
from server.models import PickLine, PickTask
from server.models.waves import ACTIVE_TASK_SQL, OPEN_LINE_SQL
from server.services.auth import Principal
from server.services.device import scan, snapshot
from server.services.device.commands import envelope, refusal, refusal_sentence, scenario
from server.services.errors import Refused
from server.services.replenishment import tasks as replenishment
from server.services.stock.desk import actor_of
from server.services.stock.inventory import MAX_QTY
from server.services.waves import lifecycle
from server.services.waves import picks as ledger
from server.services.waves.lifecycle import ACTIVE_TASK

_READ = object()  # "not read yet"

SHORT_REASONS = ("empty", "damaged", "not_found", "other")


# --- reading the state ----------------------------------------------------------------------------
# Every scan reads the picker's task and line, in one statement written out (see server.db.sql).

TASK_COLUMNS = ("t.id, t.code, t.status, t.picker_id, t.device_id, t.seq, t.metres, t.lines_total,"
                " t.lines_done, t.units_total, t.units_done, w.id, w.code, w.strategy, w.status, w.warehouse_id")
LINE_COLUMNS = ("l.id, l.seq, l.order_id, l.order_line_id, l.allocation_id, l.lot, l.qty, l.picked_qty,"
                " l.moved_qty, l.short_qty, l.slot, l.tote, l.status, p.id, p.sku, p.name, p.spec, p.unit,"
                " loc.id, loc.code, loc.warehouse_id,"
                " (SELECT b.tote FROM pick_line b WHERE b.task_id = l.task_id AND b.slot = l.slot"
                f" AND b.tote <> '' LIMIT 1), {replenishment.LINE_FACE_COLUMNS}")
LINE_JOINS = " JOIN product p ON p.id = l.product_id JOIN location loc ON loc.id = l.location_id"
NEXT_LINE = (f"SELECT c.id FROM pick_line c WHERE c.task_id = {{task}} AND ({OPEN_LINE_SQL})"
             " ORDER BY c.seq, c.id LIMIT 1")


# the task's condition names its table: status alone is the wave's and the line's too
CURRENT_TASK = (f"SELECT {TASK_COLUMNS}, {LINE_COLUMNS} FROM pick_task t JOIN wave w ON w.id = t.wave_id"
                f" LEFT JOIN pick_line l ON l.id = ({NEXT_LINE.format(task='t.id')})"
                " LEFT JOIN product p ON p.id = l.product_id LEFT JOIN location loc ON loc.id = l.location_id"
                f" WHERE t.picker_id = ? AND ({ACTIVE_TASK_SQL.replace('status', 't.status')})"
                " ORDER BY t.assigned_at, t.id LIMIT 1")


class TaskInHand(SimpleNamespace):
    """A pick task as a scan reads it, in one row: the columns of :class:`PickTask` the scan
    path uses, under the same names (a foreign key as ``<name>_id``), and its wave as ``wave``
    (id, code, strategy, status, warehouse_id). It stands in for the model where the ledger
    reads and updates a task: building and reading model instances cost a scan more than
    their SQL did. Never saved; the ledger writes through its own statements."""


class LineInHand(SimpleNamespace):
    """A pick line as a scan reads it, the same way: the :class:`PickLine` columns, ``product``
    (id, sku, name, spec, unit), ``location`` (id, code, warehouse_id), ``slot_tote``, the
    tote its cart slot already fills (:func:`ledger.bound_tote`), and what replenishment needs
    to know of the face (``replenishing``, ``face_headroom``: replenishment.LINE_FACE_COLUMNS)."""


def _task_of(row) -> TaskInHand:
    (task_id, code, status, picker, device, seq, metres, lines_total, lines_done, units_total, units_done,
     wave_id, wave_code, strategy, wave_status, warehouse_id) = row
    wave = SimpleNamespace(id=wave_id, code=wave_code, strategy=strategy, status=wave_status,
                           warehouse_id=warehouse_id)
    return TaskInHand(id=task_id, wave_id=wave_id, wave=wave, code=code, status=status, picker_id=picker,
                      device_id=device, seq=seq, metres=metres, lines_total=lines_total, lines_done=lines_done,
                      units_total=units_total, units_done=units_done)


def _line_of(row, task_id: int) -> LineInHand | None:
    (line_id, seq, order_id, order_line_id, allocation_id, lot, qty, picked_qty, moved_qty, short_qty, slot,
     tote, status, product_id, sku, name, spec, unit, location_id, location_code, warehouse_id, slot_tote,
     replenishing, face_headroom) = row
    if line_id is None:
        return None
    return LineInHand(id=line_id, task_id=task_id, seq=seq, order_id=order_id, order_line_id=order_line_id,
                      allocation_id=allocation_id, lot=lot, qty=qty, picked_qty=picked_qty, moved_qty=moved_qty,
                      short_qty=short_qty, slot=slot, tote=tote, status=status, product_id=product_id,
                      product=SimpleNamespace(id=product_id, sku=sku, name=name, spec=spec, unit=unit),
                      location_id=location_id,
                      location=SimpleNamespace(id=location_id, code=location_code, warehouse_id=warehouse_id),
                      slot_tote=slot_tote, replenishing=bool(replenishing), face_headroom=face_headroom)


def current_task(user_id: int) -> TaskInHand | None:
    """The picker's task, holding its current line until the first :func:`current_line` asks
    for it (a handler asks before it writes anything)."""
    row = sql_row(CURRENT_TASK, user_id)
    if row is None:
        return None
    task = _task_of(row[:16])
    task.line_in_hand = _line_of(row[16:], task.id)
    return task


def current_line(task: TaskInHand | PickTask) -> LineInHand | None:
    """The line the picker is on, with its SKU, its location and the tote its cart slot fills."""
    line = task.__dict__.pop("line_in_hand", _READ)
    if line is not _READ:
        return line
    row = sql_row(f"SELECT {LINE_COLUMNS} FROM pick_line l{LINE_JOINS} WHERE l.id = ({NEXT_LINE.format(task='?')})",
                  task.id)
    return _line_of(row, task.id) if row is not None else None


def step_of(line: LineInHand | None, pending: int) -> str:
    if line is None:
        return "task_done"
    if line.status in ("open", "skipped"):
        return "scan_location"
    if pending == 0:
        return "scan_item"
    return "scan_tote" if pending >= ledger.remaining(line) else "qty"


def task_view(task: TaskInHand | PickTask) -> dict:
    wave = task.wave
    return {"id": task.id, "code": task.code, "wave": wave.code, "strategy": wave.strategy,
            "status": task.status, "lines_total": task.lines_total, "lines_done": task.lines_done,
            "units_total": task.units_total, "units_done": task.units_done, "metres": task.metres}


def line_view(line: LineInHand, pending: int) -> dict:
    product = line.product
    return {"id": line.id, "seq": line.seq, "location": line.location.code, "sku": product.sku,
            "name": product.name, "spec": product.spec, "unit": product.unit, "lot": line.lot,
            "qty": line.qty, "picked": line.picked_qty - pending, "counted": pending,
            "short": line.short_qty, "remaining": ledger.remaining(line), "slot": line.slot,
            "tote": ledger.bound_tote(line) or "", "order": line.order_id}


def view(task: TaskInHand | PickTask | None, line=_READ) -> tuple[str, dict]:
    """The state a picker's device should show, and its data; ``line`` is the task's current
    line when the caller holds it already."""
    if task is None:
        return "start", {}
    if line is _READ:
        line = current_line(task)
    pending = ledger.pending(line) if line is not None else 0
    state = step_of(line, pending)
    if task.wave.status == "paused" and state != "task_done":
        state = "paused"  # the device shows the line, and nothing is confirmed until the wave resumes
    data = {"task": task_view(task)}
    if line is not None:
        data["line"] = line_view(line, pending)
    return state, data


def with_tote_example(task, data: dict) -> dict:
    """``task.tote_example``: what a tote code looks like, for a device about to fill its first
    tote. Sent when work is handed out, resumed or asked for, not with every scan."""
    if "task" in data:
        data["task"]["tote_example"] = ledger.tote_example(task.wave.warehouse_id)
    return data


@snapshot.provider
def picking_snapshot(principal: Principal) -> dict:
    """A reloaded or reconnected handheld resumes the task and line it was on."""
    if not principal.can("floor.picking"):
        return {}
    task = current_task(principal.user.id)
    state, data = view(task)
    return {"picking": {"state": state, **(with_tote_example(task, data) if task else data)}}


# --- the scenario -----------------------------------------------------------------------------------

@scenario("picking", permission="floor.picking", reads_only=("current",))
def picking(principal: Principal, action: str, params: dict) -> dict:
    lang = principal.lang
    handler = ACTIONS.get(action)
    if handler is None:
        return refusal("unknown_action", lang)
    if action in ("current", "get_work"):
        return handler(principal, params, lang)
    task = current_task(principal.user.id)
    if task is None:
        return envelope(False, "start", {}, code="no_work", lang=lang, level="warning")
    if task.wave.status == "paused":  # read with the task: a paused wave costs the scan nothing
        state, data = view(task)
        return envelope(False, state, data, code="wave_paused", lang=lang, level="warning")
    try:
        return handler(principal, params, lang, task)
    except Refused as exc:
        state, data = view(task)
        return envelope(False, state, dict(data, refused=exc.params), code=exc.code, lang=lang,
                        message=refusal_sentence(exc.code, lang, exc.params))


def answer(task: TaskInHand | PickTask, code: str, lang, level: str = "info", line=_READ) -> dict:
    """The device's next screen: ``task`` as the handler left it (the ledger keeps its status and
    counts current) and its current line (``line``, when the handler holds it)."""
    if task.status == "done":
        return envelope(True, "task_done", {"task": task_view(task)}, code=code, lang=lang, level=level)
    state, data = view(task if task.status in ACTIVE_TASK else None, line)
    return envelope(True, state, data, code=code, lang=lang, level=level)


def render(stored: dict) -> dict:
    """The envelope of a scan stored in its ``render`` form (``wf_pick_scan``, see
    picking_direct.py): its message code, the refusal's values and the task and line after the
    scan as :data:`CURRENT_TASK` reads them, shown as :func:`answer` and :func:`picking` show them."""
    task = _task_of(stored["task"])
    task.metres = float(task.metres)
    line = _line_of(stored["line"], task.id)
    code, lang, refused = stored["code"], stored["lang"], stored.get("refused")
    state, data = view(task, line)
    if refused is not None:
        return envelope(False, state, dict(data, refused=refused), code=code, lang=lang,
                        message=refusal_sentence(code, lang, refused))
    return envelope(True, state, data, code=code, lang=lang, level=stored["level"])


def do_current(principal, params, lang) -> dict:
    task = current_task(principal.user.id)
    state, data = view(task)
    return envelope(True, state, with_tote_example(task, data) if task else data, code="ok", lang=lang)


def do_get_work(principal, params, lang) -> dict:
    """The picker's task: the one already assigned, or the next open task of a released wave."""
    task = current_task(principal.user.id)
    if task is None:
        task = assign_next(principal)
    if task is None:
        return envelope(False, "start", {}, code="no_work", lang=lang, level="warning")
    paused = task.wave.status == "paused"  # the picker's own task, in a wave paused since
    result = answer(task, "wave_paused" if paused else "work_assigned", lang, level="warning" if paused else "info")
    with_tote_example(task, result["data"][result["next_state"]])
    return result


def assign_next(principal: Principal) -> PickTask | None:
    return ledger.claim_next(principal.user, principal.device.id if principal.device else None)


def do_scan(principal, params, lang, task) -> dict:
    code = str(params.get("code", "")).strip()
    if not code:
        raise Refused("unknown_barcode")
    line = current_line(task)
    if line is None:
        return answer(task, "task_done", lang)
    pending = ledger.pending(line)
    state = step_of(line, pending)
    if state == "scan_location":
        if code != line.location.code:
            raise Refused("wrong_location", scanned=code, expected=line.location.code)
        waiting = _replenishment_running(task, line, lang) if line.replenishing else None
        if waiting is not None:
            return waiting
        _started(task, line)
        lifecycle.locate_line(line)
        return answer(task, "location_ok", lang, line=line)
    if pending and code == ledger.bound_tote(line):
        return _into_tote(principal, task, line, code, pending, lang)  # the tote: no barcode to look up
    item = scan.item(code)
    if item is None and code == line.location.code:
        return answer(task, "location_ok", lang, line=line)  # the location scanned twice: no harm
    if item is not None:
        if item.id != line.product_id:
            raise Refused("wrong_item", scanned=code, expected=line.product.sku)
        if item.lot and line.lot and item.lot != line.lot:
            raise Refused("wrong_lot", scanned=item.lot, expected=line.lot)
        if pending + item.per_scan > ledger.remaining(line):
            raise Refused("over_pick", counted=pending, adding=item.per_scan, remaining=ledger.remaining(line))
        ledger.count(line, line.picked_qty + item.per_scan)
        return answer(task, "item_counted", lang, line=line)
    if state == "scan_item":
        known = scan.resolve(code, ("location", "tote")) is not None
        raise Refused("wrong_item", scanned=code, expected=line.product.sku) if known else \
            Refused("unknown_barcode", scanned=code)
    return _into_tote(principal, task, line, code, pending, lang)


def _into_tote(principal, task, line, code: str, pending: int, lang) -> dict:
    tote = ledger.check_tote(line, code)
    ledger.confirm(task, line, tote, pending, actor_of(principal))
    if replenishment.goes_below_min(line.face_headroom, pending):  # a task for the face
        replenishment.after_pick(line.product_id, line.location_id)
    return answer(task, "task_done" if task.status == "done" else "line_picked", lang)


def do_qty(principal, params, lang, task) -> dict:
    """Type how many units are in hand instead of scanning each one."""
    line = current_line(task)
    if line is None:
        return answer(task, "task_done", lang)
    pending = ledger.pending(line)
    if step_of(line, pending) == "scan_location":
        raise Refused("invalid_transition")
    if pending == 0:  # a typed quantity counts units of the item scanned, never of an unscanned one
        raise Refused("scan_item_before_qty", sku=line.product.sku)
    qty = params.get("qty")
    if isinstance(qty, str) and qty.strip().isdecimal() and len(qty.strip()) <= len(str(MAX_QTY)):
        qty = int(qty.strip())
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 <= qty <= MAX_QTY:
        raise Refused("invalid_quantity", qty=str(qty)[:20])
    if qty > ledger.remaining(line):
        raise Refused("over_pick", counted=qty, remaining=ledger.remaining(line))
    ledger.count(line, line.picked_qty - pending + qty)
    return answer(task, "item_counted", lang, line=line)


def do_short(principal, params, lang, task) -> dict:
    """缺货: the location has fewer units than the line asks for; the units counted so far
    still go into the tote."""
    reason = str(params.get("reason", "")).strip()
    if reason not in SHORT_REASONS:
        raise Refused("reason_required", reasons=",".join(SHORT_REASONS))
    line = current_line(task)
    if line is None:
        return answer(task, "task_done", lang)
    pending = ledger.pending(line)
    waiting = _replenishment_running(task, line, lang) if line.replenishing else None
    if waiting is not None:
        return waiting
    _started(task, line)
    ledger.short(task, line, ledger.remaining(line) - pending, reason, actor_of(principal))
    if line.face_headroom is not None:
        replenishment.after_pick(line.product_id, line.location_id)
    code = "task_done" if task.status == "done" else "short_recorded"
    return answer(task, code, lang, level="warning")


def do_skip(principal, params, lang, task) -> dict:
    """Come back to this line last (someone is in the aisle, the location is blocked)."""
    line = current_line(task)
    if line is None:
        return answer(task, "task_done", lang)
    if ledger.pending(line):
        raise Refused("scan_tote_first")
    last = (PickLine.select(PickLine.seq).where(PickLine.task == task.id)
            .order_by(PickLine.seq.desc()).limit(1).scalar())
    lifecycle.skip_line(line, last + 1)
    return answer(task, "line_skipped", lang)


ACTIONS = {"current": do_current, "get_work": do_get_work, "scan": do_scan, "qty": do_qty,
           "short": do_short, "skip": do_skip}


def _replenishment_running(task: TaskInHand, line: LineInHand, lang) -> dict | None:
    """A face emptied for a replenishment still on its way is not short: the picker waits (or
    skips the line), and nothing is written."""
    running = replenishment.must_wait(line, task.wave_id, ledger.remaining(line))
    if running is None:
        return None
    state, data = view(task, line)
    return envelope(False, state, dict(data, refused={"task": running, "location": line.location.code}),
                    code="replenishment_running", lang=lang, level="warning")


def _started(task: TaskInHand, line: LineInHand) -> None:
    """The first scan of a task starts it, and the first scan of a wave starts the wave."""
    if task.status == "assigned":
        lifecycle.start_task(task)
        lifecycle.start_wave(task.wave)
