"""The ``replenishing`` floor scenario (补货): a receiver takes units from a reserve location to a
pick face, one task at a time.

States (the handheld mirrors them one screen each)::

    start ──get_work──> scan_source ──scan {source}──> scan_item ──scan {item}──> qty ──scan {face}──> start
      ^  (waiting tasks,   │                              (each scan counts;   │  (replenish_done)
      │   demand first)    └──release──> start             a case its pack)    └──qty {n}: the units taken

    device                                  server
      | cmd replenishing/get_work             |  guarded UPDATE replenishment_task ... WHERE status='open'
      |<--------------------------------------|  (demand first, then oldest); scan_source {task}
      | (a task waits)                        |  event replenishment.waiting -> role:receiver, wallboard
      | cmd replenishing/scan {code: source}  |  wrong_location; task assigned -> moving; scan_item
      | cmd replenishing/scan {code: item}    |  wrong_item | wrong_lot | replenish_over_qty; qty
      | cmd replenishing/qty {qty}  (optional)|  scan_item_before_qty | replenish_over_qty
      | cmd replenishing/scan {code: face}    |  replenish_wrong_face | replenish_whole_task (demand);
      |                                       |  StockMove source -> face (reason replenish, ref
      |                                       |  replenish:<code>; a demand task's promise moves too),
      |<--------------------------------------|  task done; start {done, waiting}
      |                                       |  event replenishment.done -> role:picker, wallboard

Keep this diagram (and the one in docs/protocol.md) current with the code.

The task a replenisher holds is the one assigned to them (or moving): a reloaded device finds it
in the snapshot. The units counted are kept on the task (``moved_qty``) and move in the ledger
only when the face is scanned, the way a pick's units move at the tote.
"""
from __future__ import annotations

from server.services.auth import Principal
from server.services.device import scan, snapshot
from server.services.device.commands import envelope, refusal, refused_step, scenario
from server.services.errors import Refused
from server.services.replenishment import tasks as service
from server.services.stock.desk import actor_of
from server.services.stock.inventory import MAX_QTY

# the refusals whose sentence names the code scanned
NAMES_SCANNED = ("unknown_barcode",)


def step_of(task) -> str:
    if task is None:
        return "start"
    if task.status == "assigned":
        return "scan_source"
    return "qty" if task.moved_qty else "scan_item"


def view(task) -> tuple[str, dict]:
    if task is None:
        return "start", {"waiting": [service.task_view(t) for t in service.waiting()]}
    return step_of(task), {"task": service.task_view(task)}


@snapshot.provider
def replenishing_snapshot(principal: Principal) -> dict:
    """A reloaded or reconnected handheld returns to the task it holds."""
    if not principal.can("floor.receiving"):
        return {}
    task = service.in_hand(principal.user.id)
    if task is None:
        return {"replenishing": {"state": "start"}}
    state, data = view(task)
    return {"replenishing": {"state": state, **data}}


@scenario("replenishing", permission="floor.receiving", reads_only=("current",))
def replenishing(principal: Principal, action: str, params: dict) -> dict:
    lang = principal.lang
    handler = ACTIONS.get(action)
    if handler is None:
        return refusal("unknown_action", lang)
    task = service.in_hand(principal.user.id)
    try:
        return handler(principal, params, lang, task)
    except Refused as exc:
        state, data = view(service.in_hand(principal.user.id))
        return refused_step(exc, lang, state, data, NAMES_SCANNED)


def answer(task, code: str, lang, level: str = "info", **extra) -> dict:
    state, data = view(task)
    return envelope(True, state, dict(data, **extra), code=code, lang=lang, level=level)


def do_current(principal, params, lang, task) -> dict:
    return answer(task, "ok", lang)


def do_get_work(principal, params, lang, task) -> dict:
    """The replenisher's task: the one in hand, or the first waiting (demand before minimum)."""
    if task is None:
        task = service.claim_next(principal.user.id, principal.device.id if principal.device else None)
    if task is None:
        state, data = view(None)
        return envelope(False, state, data, code="no_replenish_work", lang=lang, level="warning")
    return answer(task, "replenish_task_taken", lang)


def _task(task):
    if task is None:
        raise Refused("no_replenish_task")
    return task


def do_scan(principal, params, lang, task) -> dict:
    task = _task(task)
    code = str(params.get("code", "")).strip()[:64]
    if not code:
        raise Refused("unknown_barcode")
    state = step_of(task)
    if state == "scan_source":
        if code != task.source.code:
            raise Refused("wrong_location", scanned=code, expected=task.source.code)
        service.at_source(task)
        return answer(task, "replenish_source_ok", lang)
    item = scan.item(code)
    if item is not None:
        if item.id != task.product_id:
            raise Refused("wrong_item", scanned=code, expected=task.product.sku)
        if item.lot and task.lot and item.lot != task.lot:
            raise Refused("wrong_lot", scanned=item.lot, expected=task.lot)
        _count(task, task.moved_qty + item.per_scan)
        return answer(task, "replenish_item_counted", lang)
    if code == task.source.code:
        return answer(task, "replenish_source_ok", lang)  # the source scanned twice: no harm
    if scan.resolve(code, ("location", "tote")) is None:
        raise Refused("unknown_barcode", scanned=code)
    if code != task.face.code:
        raise Refused("replenish_wrong_face", scanned=code, expected=task.face.code)
    if state == "scan_item":
        raise Refused("scan_item_before_qty", sku=task.product.sku)
    if task.trigger == "demand" and task.moved_qty < task.qty:
        raise Refused("replenish_whole_task", expected=task.qty, counted=task.moved_qty)
    done = service.task_view(task)
    service.finish(task, actor_of(principal))
    return answer(None, "replenish_done", lang, done=dict(done, status="done"))


def _count(task, total: int) -> None:
    if total > task.qty:
        raise Refused("replenish_over_qty", qty=task.qty, counted=total)
    service.count(task, total)


def do_qty(principal, params, lang, task) -> dict:
    """Type how many units were taken instead of scanning each (after one scan of the item)."""
    task = _task(task)
    state = step_of(task)
    if state == "scan_source":
        raise Refused("invalid_transition")
    if state == "scan_item":
        raise Refused("scan_item_before_qty", sku=task.product.sku)
    qty = params.get("qty")
    if isinstance(qty, str) and qty.strip().isdecimal() and len(qty.strip()) <= len(str(MAX_QTY)):
        qty = int(qty.strip())
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 <= qty <= MAX_QTY:
        raise Refused("invalid_quantity", qty=str(qty)[:20])
    _count(task, qty)
    return answer(task, "replenish_item_counted", lang)


def do_release(principal, params, lang, task) -> dict:
    """Hand the task back before taking anything (someone else will do it)."""
    task = _task(task)
    if task.status != "assigned":
        raise Refused("invalid_transition")
    service.let_go(task)
    return answer(None, "replenish_released", lang)


ACTIONS = {"current": do_current, "get_work": do_get_work, "scan": do_scan, "qty": do_qty,
           "release": do_release}
