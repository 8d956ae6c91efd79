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

Anything unusual (no work, a paused wave, the task's last line, a replenishment, a GS1 code, a
guard that lost a race) makes the function undo itself with SQLSTATE ``WF000``, and the scan
runs on the Python path as on SQLite: what a scan does is defined there, and the picking tests
run both paths on PostgreSQL. So does a deadlock, for the Python path runs a transaction again.
"""
from __future__ import annotations

import peewee

from server import jsontext
from server.db import aborted_to_run_again, database, in_write_transaction, is_sqlite, sql_row, sqlstate
from server.services.auth import Principal
from server.services.device import commands
from server.services.orders import lifecycle as orders
from server.services.scenarios import picking
from server.services.waves.progress import publish_progress

NOT_USUAL = "WF000"  # the function's "run this scan on the Python path"
SCAN = "SELECT stored, progress, order_changed FROM wf_pick_scan(?, ?, ?, ?, ?)"


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
        with database.connection_context():
            stored, wave_id, order_id = sql_row(SCAN, principal.user.id, device, key, code, principal.lang)
    except peewee.IntegrityError:
        raise  # the key was sent before: the caller answers with what it stored
    except peewee.DatabaseError as exc:
        if sqlstate(exc) == NOT_USUAL or aborted_to_run_again(exc):
            return None
        raise
    result = jsontext.loads(stored)
    if wave_id is not None:
        publish_progress(wave_id, result["task"][0])
    if order_id is not None:
        orders.changed(order_id, "picking", "waved")
    return picking.render(result)


commands.direct("picking", scan, picking.render)
