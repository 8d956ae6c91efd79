"""Domain events: services publish, subscribers (the realtime layer) deliver — after commit.

A service calls :func:`publish` inside its transaction; delivery waits for the outermost
write transaction to commit and is dropped if it rolls back, so no device ever hears of a
change that did not happen.
"""
from __future__ import annotations

import logging
import threading
import time

from server.db import after_commit

_subscribers = []
log = logging.getLogger(__name__)


def subscribe(callback) -> None:
    """``callback(event, payload, rooms)`` is called for every delivered event."""
    if callback not in _subscribers:
        _subscribers.append(callback)


def unsubscribe(callback) -> None:
    if callback in _subscribers:
        _subscribers.remove(callback)


def call_later(delay_s: float, callback) -> None:
    """Run ``callback()`` in ``delay_s`` seconds without making the caller wait. Under gevent it
    is a greenlet: starting a patched ``threading.Timer`` waits for the new thread to start,
    which puts the caller (a scan) behind every other greenlet ready to run; at a thousand
    scans a second that was a 100-160 ms stall four times a second."""
    try:
        from gevent import monkey, spawn_later
        if monkey.is_module_patched("threading"):
            spawn_later(delay_s, callback)
            return
    except ImportError:  # pragma: no cover - gevent is a dependency
        pass
    timer = threading.Timer(delay_s, callback)
    timer.daemon = True
    timer.start()


def version() -> int:
    """A version stamp: microseconds since the epoch, so a client can drop stale events."""
    return time.time_ns() // 1000


def publish(event: str, payload: dict, rooms: list[str] | tuple[str, ...]) -> None:
    payload = dict(payload, version=version())

    def deliver():
        for callback in list(_subscribers):
            try:
                callback(event, payload, tuple(rooms))
            except Exception:  # the change is committed; a failing listener must not undo the caller's work
                log.exception("event %s: subscriber %r failed", event, callback)

    after_commit(deliver)
