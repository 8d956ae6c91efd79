"""Events of the processes that serve no devices, handed to those that do through a table.

The command line, the print worker and the importers have no sockets: an event they publish
reaches no device by itself. Such a process hands its events to :func:`record` (the command
line does, :func:`server.events.hand_over`), which writes each one as a row of ``floor_event``
inside the transaction that makes the change: a change rolled back tells nothing, a committed
one is never lost. Every serving process reads the rows after the last one it has seen, five
times a second (:func:`tail_forever`), and tells the devices connected to it, and to it only:
with several processes behind Redis each device hears a row once, from its own process, and
none of it goes through Redis. The serving processes' own events keep their direct path; the
table costs a scan nothing. Rows are kept ten minutes.

Order. A serving process reads by id, so no row may become visible after a row with a larger
id has been read. SQLite runs one write transaction at a time, whichever the process. PostgreSQL
hands an id out when a row is inserted, not when it commits; so a writer first takes one
advisory lock, held until its transaction ends, and the rows of two transactions commit in the
order of their ids. Only the processes that serve no devices take it.
"""
from __future__ import annotations

import datetime as dt
import logging
import time

from server import jsontext
from server.db import database, is_sqlite, sql, write_transaction
from server.models.base import utcnow
from server.models.floor_events import FloorEvent

POLL_S = 0.2
KEEP_S = 600
PRUNE_EVERY_S = 60
BATCH = 500  # rows read at a time
ORDER_LOCK = 0x5746_4C4F_4F52  # PostgreSQL advisory lock of the writers

log = logging.getLogger(__name__)


def record(event: str, payload: dict, rooms: tuple[str, ...]) -> None:
    """Write ``event`` for the serving processes, in the caller's write transaction (or in one
    of its own when none is open)."""
    with write_transaction(savepoint=False):
        if not is_sqlite():
            sql("SELECT pg_advisory_xact_lock(?)", ORDER_LOCK)
        FloorEvent.insert(event=event, payload=jsontext.dumps(payload), rooms=jsontext.dumps(list(rooms)),
                          at=utcnow()).execute()


def last_id() -> int:
    """The newest row's id (0 when there is none): where a serving process starts reading."""
    with database.connection_context():
        return sql("SELECT MAX(id) FROM floor_event").fetchone()[0] or 0


def read_after(row_id: int, limit: int = BATCH) -> list[tuple[int, str, dict, tuple[str, ...]]]:
    """The rows after ``row_id``, oldest first: (id, event, payload, rooms)."""
    with database.connection_context():
        rows = sql("SELECT id, event, payload, rooms FROM floor_event WHERE id > ? ORDER BY id LIMIT ?",
                   row_id, limit).fetchall()
    return [(found, event, jsontext.loads(payload), tuple(jsontext.loads(rooms)))
            for found, event, payload, rooms in rows]


def prune(keep_s: float = KEEP_S) -> int:
    """Delete rows older than ``keep_s`` seconds, but never the newest one: SQLite gives a new
    row the largest id plus one, and an emptied table would hand out ids already read."""
    cutoff = utcnow() - dt.timedelta(seconds=keep_s)
    with write_transaction():
        return sql("DELETE FROM floor_event WHERE at < ? AND id < (SELECT MAX(id) FROM floor_event)",
                   cutoff).rowcount


def tail_forever(deliver, poll_s: float = POLL_S) -> None:
    """A serving process's reader (a background task): ``deliver(event, payload, rooms)`` for
    every row written from now on, in the order of their ids; old rows pruned once a minute."""
    after, pruned_at, failing = None, time.monotonic(), False
    while True:
        try:
            if after is None:
                after = last_id()
            rows = read_after(after)
            for row_id, event, payload, rooms in rows:
                after = row_id
                try:
                    deliver(event, payload, rooms)
                except Exception:  # one event that cannot be sent must not hold back the others
                    log.exception("floor event %s (%s) could not be delivered", row_id, event)
            if time.monotonic() - pruned_at > PRUNE_EVERY_S:
                pruned_at = time.monotonic()
                prune()
            if failing:
                log.warning("floor events are read again")
                failing = False
            if len(rows) == BATCH:
                continue  # more are waiting
        except Exception:  # the database is away: the next round reads from the same row
            if not failing:
                log.exception("reading floor events failed; trying again every %.1f s", poll_s)
                failing = True
        time.sleep(poll_s)
