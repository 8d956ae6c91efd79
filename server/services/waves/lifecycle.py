"""The lifecycles of waves, pick tasks and pick lines: the only writers of their status columns,
but for one place: on PostgreSQL a usual picking scan is one statement, ``wf_pick_scan``
(migrations/0021_pick_scan_function.py), which moves the same declared edges with the same guards
in the database (task assigned -> in_progress, wave released -> picking, line open | skipped ->
located, located -> done | short); tests/test_picking_direct.py checks every row it writes
against the verbs below.

Each verb moves one noun along an edge its model declares (``WAVE_TRANSITIONS``,
``TASK_TRANSITIONS``, ``LINE_TRANSITIONS`` in models/waves.py) with a guarded update
(services/states.py), and keeps the caller's copy of the row current. The sets of states the
rest of the floor asks about (which waves a picker is given work from, which lines are still
open) are defined here once.
"""
from __future__ import annotations

from server import events
from server.messages import text
from server.models import PickLine, PickTask, Wave
from server.models.base import utcnow
from server.models.waves import LINE_TRANSITIONS, TASK_TRANSITIONS, WAVE_TRANSITIONS
from server.services.errors import InvalidTransition
from server.services.states import Lifecycle

WAVE = Lifecycle("wave", Wave, WAVE_TRANSITIONS)
TASK = Lifecycle("task", PickTask, TASK_TRANSITIONS)
LINE = Lifecycle("pick_line", PickLine, LINE_TRANSITIONS)

PICKABLE_WAVES = ("released", "picking")              # waves whose open tasks pickers are given
PICKING_WAVES = ("released", "picking", "paused")     # waves with picking left (a paused one too)
OPEN_WAVES = ("released", "picking", "paused", "picked")  # waves on the wall screen
ACTIVE_TASK = ("assigned", "in_progress")             # a task a picker holds
OPEN_LINE = ("open", "skipped", "located")            # a line with units still to pick
SORTED_LATER = ("batch_putwall",)  # the put wall, not the pick, finishes these waves' orders


def _keep(row, target: str, values: dict) -> None:
    row.status = target
    for name, value in values.items():
        setattr(row, name, value)


# --- waves -------------------------------------------------------------------------------------

def move_wave(wave: Wave, target: str, **values) -> None:
    """A supervisor's or the planner's step (release, pause, resume, cancel): refused unless
    declared and unless the wave is still where the caller read it. The pickers holding a task
    of the wave hear of a pause or a resume after commit."""
    before = wave.status
    WAVE.move(wave.id, before, target, **values)
    _keep(wave, target, values)
    if target == "paused":
        _tell_pickers(wave, "wave.paused", "wave_paused")
    elif before == "paused" and target in PICKABLE_WAVES:
        _tell_pickers(wave, "wave.resumed", "wave_resumed")


def sentences(code: str) -> dict:
    """A message's sentence in each language a device may speak, for an event that reaches
    every device of a user whatever its language: {"en": ..., "zh-CN": ...}."""
    return {"en": text(code, "en"), "zh-CN": text(code, "zh-CN")}


def _tell_pickers(wave: Wave, event: str, code: str) -> None:
    pickers = (PickTask.select(PickTask.picker).distinct()
               .where((PickTask.wave == wave.id) & PickTask.status.in_(ACTIVE_TASK) & PickTask.picker.is_null(False)))
    rooms = sorted(f"user:{picker_id}" for (picker_id,) in pickers.tuples())
    if rooms:
        events.publish(event, {"code": code, "wave": wave.code, "status": wave.status, "text": sentences(code)},
                       rooms=rooms)


def start_wave(wave) -> None:
    """released -> picking on the first scan of any of its tasks (the scan path's wave)."""
    if wave.status == "released" and WAVE.move_if(wave.id, "released", "picking"):
        wave.status = "picking"


def finish_picking(wave: Wave) -> bool:
    """-> picked once every task is done; False when another device's last scan did it first."""
    if wave.status not in ("released", "picking", "paused"):
        return False
    moved = WAVE.move_if(wave.id, wave.status, "picked", finished_at=utcnow())
    if moved:
        _keep(wave, "picked", {})
    return moved


def finish_sorting(wave: Wave) -> bool:
    """picked -> done: the put wall has sorted every order. A wave still picking is not picked
    yet and stays as it is; False then, or when a station finished it first."""
    if wave.status != "picked" or not WAVE.move_if(wave.id, "picked", "done"):
        return False
    wave.status = "done"
    return True


# --- pick tasks --------------------------------------------------------------------------------

def claim_task(task_id: int, picker_id: int, device_id: int | None) -> bool:
    """open -> assigned to a picker: of two devices asking for the same task at the same moment,
    one wins and the other is told False (and tries the next task)."""
    return TASK.move_if(task_id, "open", "assigned", picker=picker_id, device=device_id, assigned_at=utcnow())


def start_task(task) -> None:
    """assigned -> in_progress on the picker's first scan (the scan path's task)."""
    if task.status == "assigned" and TASK.move_if(task.id, "assigned", "in_progress", started_at=utcnow()):
        task.status = "in_progress"


def finish_task(task) -> None:
    """-> done when no line is left to pick."""
    TASK.move(task.id, task.status, "done", finished_at=utcnow())
    task.status = "done"


def reassign_task(task: PickTask, picker_id: int) -> None:
    """Hand a task that is not finished to another picker (its device is chosen when the new
    picker asks for work). An assigned task only changes hands."""
    values = {"picker": picker_id, "device": None, "assigned_at": utcnow()}
    if task.status == "assigned":
        moved = (PickTask.update(**values).where((PickTask.id == task.id) & (PickTask.status == "assigned"))
                 .execute())
        if moved != 1:  # someone else moved it first
            raise InvalidTransition("task", "assigned", "assigned")
    else:
        TASK.move(task.id, task.status, "assigned", **values)
    _keep(task, "assigned", {"picker_id": picker_id, "device_id": None, "assigned_at": values["assigned_at"]})


def cancel_task(task: PickTask) -> None:
    TASK.move(task.id, task.status, "cancelled")
    task.status = "cancelled"


# --- pick lines --------------------------------------------------------------------------------

def locate_line(line) -> None:
    """open | skipped -> located: the picker scanned the line's location."""
    LINE.move(line.id, line.status, "located")
    line.status = "located"


def skip_line(line, seq: int) -> None:
    """The line goes to the end of the walk (``seq``); a skipped line skipped again only moves."""
    if line.status == "skipped":
        moved = (PickLine.update(seq=seq).where((PickLine.id == line.id) & (PickLine.status == "skipped"))
                 .execute())
        if moved != 1:
            raise InvalidTransition("pick_line", "skipped", "skipped")
    else:
        LINE.move(line.id, line.status, "skipped", seq=seq)
    line.status, line.seq = "skipped", seq


def finish_line(line, target: str, **values) -> None:
    """-> done (every unit in a tote) or short (some were not there), with the line's last
    counts written in the same statement (``tote=``, ``moved_qty=``)."""
    LINE.move(line.id, line.status, target, **values)
    _keep(line, target, values)


def reopen_lines(line_ids: list[int]) -> None:
    """located -> open: the task changed hands, and its new picker scans the location again."""
    LINE.move_many(line_ids, "located", "open")
