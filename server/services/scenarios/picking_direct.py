"""Picking scans on PostgreSQL in one round trip.

On PostgreSQL every statement is a round trip, and the serving process spends about 40 us of
its CPU on each; a tote scan on the Python path (picking.py) sends about twenty. So a location,
item or tote scan is one call of ``wf_pick_scan`` (migrations/0021_pick_scan_function.py), which
runs the scan's usual steps in the database and stores the result under the command's key, in
the one transaction its statement is::

    device                         serving process                     PostgreSQL
      | cmd picking/scan {code}      |                                    |
      |----------------------------->| SELECT ... FROM wf_pick_scan(...)  |  task + line, the step's
      |                              |----------------------------------->|  writes, command_result
      |                              |<-----------------------------------|  (committed)
      |<-----------------------------| the stored form, rendered          |
      |                              | after: wave.progress, order.changed|

The call goes out with the other scans the process has waiting (``wf_pick_scans``, migration
0023): a scan that arrives while another group is in flight waits for it and goes in the next,
so one commit serves all the scans of a busy moment, and a scan on a quiet floor goes at once.
The group takes the pick faces' units at its end (migration 0024), so a face another process's
scans want is locked only while the group commits; if its stock changed meanwhile, the group
fails as a whole and each of its scans runs on the Python path.

Anything unusual (no work, a paused wave, the task's last line, a replenishment, a GS1 code, a
guard that lost a race) makes the function undo itself with SQLSTATE ``WF000``, and the scan
runs on the Python path as on SQLite: what a scan does is defined there, and the picking tests
run both paths on PostgreSQL. So does a deadlock, for the Python path runs a transaction again.
"""
from __future__ import annotations

import peewee

from server import jsontext
from server.db import RUN_AGAIN, CallGroups, in_write_transaction, is_sqlite, sqlstate
from server.services.auth import Principal
from server.services.device import commands
from server.services.orders import lifecycle as orders
from server.services.scenarios import picking
from server.services.waves.progress import publish_progress

NOT_USUAL = "WF000"  # the function's "run this scan on the Python path"
UNIQUE = "23505"  # the command's key was stored before
LOCK_WAIT = "55P03"  # a row another process's scans hold for longer than the function waits
ON_THE_PYTHON_PATH = (NOT_USUAL, LOCK_WAIT, *RUN_AGAIN)
# the scans of one moment go in one transaction: one commit for all of them (server/db.py CallGroups)
SCANS = CallGroups("SELECT n, stored, progress, order_changed, failed_state, failed_message"
                   " FROM wf_pick_scans(?::json)")


def scan(principal: Principal, key: str, action: str, params: dict) -> dict | None:
    """A picking scan in one statement on PostgreSQL; None (nothing changed) for any other
    command, on SQLite, inside a caller's transaction, or when the scan is not a usual one."""
    if action != "scan" or is_sqlite() or in_write_transaction():
        return None
    code = str(params.get("code", "")).strip()
    if not code:
        return None
    device = principal.device.id if principal.device else None
    try:
        (stored, wave_id, order_id), failed, message = SCANS.call(
            principal.user.id, device, key, code, principal.lang)
    except peewee.DatabaseError as exc:  # the group as a whole: a lock cycle, or a face's stock taken meanwhile
        if sqlstate(exc) in ON_THE_PYTHON_PATH:
            return None
        raise
    if failed is not None:
        if failed in ON_THE_PYTHON_PATH:
            return None
        if failed == UNIQUE:
            raise peewee.IntegrityError(message)  # the key was sent before: the caller answers with what it stored
        raise peewee.DatabaseError(f"wf_pick_scan: {failed} {message}")
    result = jsontext.loads(stored)
    if wave_id is not None:
        publish_progress(wave_id, result["task"][0])
    if order_id is not None:
        orders.changed(order_id, "picking", "waved")
    return picking.render(result)


commands.direct("picking", scan, picking.render)
