"""The ``counting`` floor scenario (盘点): a counter counts one location, blind.

States (the handheld mirrors them one screen each)::

    start ──get_work──> scan_location ──scan {the location}──> scan_item ──scan {item}──> scan_item
      ^  (no_count_work)     │  (wrong_location)                  │  (a case code counts its pack;
      │                      │                                    │   qty {code, qty}: that many of the code;
      │                      │                                    │   count_lot_required)
      │                      └──empty──┐                          │
      └── finish | empty ──────────────┴──────────────────────────┘  submitted: start {finished}
      └── release: the task waits for anyone again

    device                                  server
      | (a plan or a recount opens counts)    |  event count.waiting -> role:receiver, wallboard, warehouse:<code>
      | cmd counting/get_work                 |  guarded UPDATE count_task ... WHERE status = 'open';
      |<--------------------------------------|  never a recount of one's own count: scan_location {task}
      | cmd counting/scan {code: location}    |  the ledger's units there by SKU and lot (every state),
      |<--------------------------------------|  taken now (CountLine.expected): scan_item {task, lines}
      | cmd counting/scan {code: item | GS1}  |  the line's count += the code's units
      | cmd counting/qty {code, qty}          |  the line's count = qty x the code's units
      |<--------------------------------------|  scan_item {task, lines (no expected figure: blind), last}
      | cmd counting/finish  | counting/empty |  moves since the first scan read from the ledger
      |                                       |  (CountLine.moved); no variance or within the thresholds:
      |                                       |  approved and posted; above: a recount task for another
      |                                       |  counter (count.waiting); a recount: review (count.changed
      |<--------------------------------------|  -> wallboard); start {finished}

Keep this diagram (and the one in docs/protocol.md) current with the code.

Counters are receivers (and supervisors, admins): the permission is ``floor.receiving``. Pickers do
not count; a count checks the picks.
"""
from __future__ import annotations

from flask import current_app, has_app_context

from server.config import load_settings
from server.services.auth import Principal
from server.services.counts import accuracy as weekly
from server.services.counts import tasks
from server.services.device import scan, snapshot
from server.services.device.commands import envelope, refusal, refused_step, scenario
from server.services.errors import Refused

# the refusals whose sentence names the code scanned
NAMES_SCANNED = ("unknown_barcode", "wrong_location", "count_lot_required")


def thresholds() -> tasks.Thresholds:
    """COUNT_RECOUNT_UNITS and COUNT_RECOUNT_FEN of the serving app (or of the settings' sources)."""
    wf = current_app.config.get("WF", {}) if has_app_context() else load_settings(
        {"SECRET_KEY": "unused", "CREDENTIALS_KEY": "unused"})
    return tasks.Thresholds(int(wf.get("COUNT_RECOUNT_UNITS", 2)), int(wf.get("COUNT_RECOUNT_FEN", 10000)))


def task_view(task: tasks.Held) -> dict:
    """What the counter sees of the task: never the ledger's figure when it is blind."""
    return {"code": task.code, "location": task.location_code, "reason": task.reason, "blind": task.blind,
            "recount": task.recount_of_id is not None, "started": task.started_at is not None}


def view(principal: Principal, task: tasks.Held | None, rows: list | None = None) -> tuple[str, dict]:
    """The counter's screen; ``rows``: the task's lines as :func:`tasks.line_rows` read them."""
    if task is None:
        return "start", {"waiting": tasks.waiting_for(principal.user.id)}
    data = {"task": task_view(task)}
    if task.started_at is None:
        return "scan_location", data
    rows = tasks.line_rows(task.id) if rows is None else rows
    data["lines"] = [dict({"sku": sku, "name": name, "lot": lot, "counted": counted},
                          **({} if task.blind else {"expected": expected + moved}))
                     for sku, name, lot, counted, expected, moved, *_ in rows]
    data["units"] = sum(row[3] for row in rows)
    return "scan_item", data


@snapshot.provider
def counting_snapshot(principal: Principal) -> dict:
    """A reloaded or reconnected handheld returns to the count it holds."""
    if not principal.can("floor.receiving"):
        return {}
    state, data = view(principal, tasks.held_by(principal.user.id))
    return {"counting": {"state": state, **data}}


@snapshot.provider
def accuracy_snapshot(principal: Principal) -> dict:
    """The wall screen's inventory accuracy this week (kept current by ``count.changed``)."""
    if not principal.can("wallboard.view"):
        return {}
    return {"count_accuracy": weekly.weekly(1)["current"]}


@scenario("counting", permission="floor.receiving", reads_only=("current",))
def counting(principal: Principal, action: str, params: dict) -> dict:
    lang = principal.lang
    handler = ACTIONS.get(action)
    if handler is None:
        return refusal("unknown_action", lang)
    task = tasks.held_by(principal.user.id)
    try:
        if task is None and action not in ("current", "get_work"):
            state, data = view(principal, None)
            return envelope(False, state, data, code="no_count_task", lang=lang, level="warning")
        return handler(principal, params, lang, task)
    except Refused as exc:
        state, data = view(principal, tasks.held_by(principal.user.id))
        return refused_step(exc, lang, state, data, NAMES_SCANNED)


def answer(principal, task, code: str, lang, level: str = "info", **extra) -> dict:
    state, data = view(principal, task)
    return envelope(True, state, dict(data, **extra), code=code, lang=lang, level=level)


def do_current(principal, params, lang, task) -> dict:
    return answer(principal, task, "ok", lang)


def do_get_work(principal, params, lang, task) -> dict:
    """The counter's count, or the next open one."""
    device = principal.device.id if principal.device else None
    task = task or tasks.claim(principal.user.id, device)
    if task is None:
        state, data = view(principal, None)
        return envelope(False, state, data, code="no_count_work", lang=lang, level="warning")
    return answer(principal, task, "count_assigned", lang)


def _item(task: tasks.Held, code: str) -> tasks.Scanned:
    found = scan.item(code)
    if found is None:
        location = scan.resolve(code, ("location", "tote"))
        if location is not None:
            raise Refused("wrong_location", scanned=code[:64], location=task_view(task)["location"])
        raise Refused("unknown_barcode", scanned=code[:64])
    return tasks.resolve(task, code, found)


def do_scan(principal, params, lang, task) -> dict:
    """The location first (the count starts), then every unit (a case code counts its pack)."""
    code = str(params.get("code", "")).strip()
    if not code:
        raise Refused("unknown_barcode", scanned=code)
    if task.started_at is None:
        if scan.resolve(code, ("location",)) is None:
            raise Refused("count_location_first", scanned=code[:64], location=task_view(task)["location"])
        task = tasks.start(task, code[:64])
        return answer(principal, task, "count_started", lang)
    if code == task_view(task)["location"]:
        return answer(principal, task, "ok", lang)
    item = _item(task, code)
    tasks.add(task, item, item.per_scan)
    return _counted(principal, task, lang, code, item)


def _counted(principal, task, lang, code: str, item: tasks.Scanned) -> dict:
    """The answer to a scan or a typed quantity: the screen, and ``last``: the line counted and the
    code that counted it (a typed quantity names it)."""
    rows = tasks.line_rows(task.id)
    state, data = view(principal, task, rows)
    sku, name, lot, counted = next(r[:4] for r in rows if r[6] == item.product_id and r[2] == item.lot)
    data["last"] = {"code": code[:64], "sku": sku, "name": name, "lot": lot, "per_scan": item.per_scan,
                    "counted": counted}
    return envelope(True, state, data, code="item_counted", lang=lang)


def do_qty(principal, params, lang, task) -> dict:
    """Type how many of what a code names (cases for a case code) instead of scanning each: the
    line's whole count."""
    if task.started_at is None:
        raise Refused("count_location_first", location=task_view(task)["location"])
    code = str(params.get("code", "") or "").strip()
    if not code:
        raise Refused("scan_item_before_qty", sku="")
    item = _item(task, code)
    tasks.set_count(task, item, params.get("qty"))
    return _counted(principal, task, lang, code, item)


def do_finish(principal, params, lang, task) -> dict:
    """The count is done: nothing counted is refused (say ``empty`` for an empty location)."""
    if task.started_at is None:
        raise Refused("count_location_first", location=task_view(task)["location"])
    if tasks.counted_units(task) == 0:
        raise Refused("count_say_empty")
    return _submitted(principal, lang, task, empty=False)


def do_empty(principal, params, lang, task) -> dict:
    """The location holds nothing: at the location's step (scanned or not), or before anything
    is counted."""
    if task.started_at is None:
        location = task_view(task)["location"]
        code = str(params.get("code", "") or location).strip()
        task = tasks.start(task, code[:64])
    elif tasks.counted_units(task):
        raise Refused("count_not_empty", units=tasks.counted_units(task))
    return _submitted(principal, lang, task, empty=True)


def _submitted(principal, lang, task, *, empty: bool) -> dict:
    tasks.submit(task, thresholds(), empty=empty)
    finished = {"code": task.code, "location": task.location_code, "units": tasks.counted_units(task)}
    state, data = view(principal, None)
    return envelope(True, state, dict(data, finished=finished), code="count_submitted", lang=lang)


def do_release(principal, params, lang, task) -> dict:
    """Hand the count back: what was counted is forgotten; anyone may take it."""
    tasks.hand_back(task)
    return answer(principal, None, "count_released", lang)


ACTIONS = {"current": do_current, "get_work": do_get_work, "scan": do_scan, "qty": do_qty, "finish": do_finish,
           "empty": do_empty, "release": do_release}
