"""Domain events: services publish, subscribers (the realtime layer) deliver — after commit.

A service calls :func:`publish` inside its transaction; delivery waits for the outermost
write transaction to commit and is dropped if it rolls back, so no device ever hears of a
change that did not happen. A process that serves no devices (the command line) also hands each
event with rooms over, inside the same transaction, to the serving processes (:func:`hand_over`,
server/services/outbox.py).
"""
from __future__ import annotations

import logging
import threading
import time

from server.db import after_commit

_subscribers = []
_recorder = None  # where a process without devices hands its events over (None: it serves them itself)
log = logging.getLogger(__name__)


def subscribe(callback) -> None:
    """``callback(event, payload, rooms)`` is called for every delivered event."""
    if callback not in _subscribers:
        _subscribers.append(callback)


def unsubscribe(callback) -> None:
    if callback in _subscribers:
        _subscribers.remove(callback)


def hand_over(recorder) -> None:
    """For a process that serves no devices: every event with rooms is also given to
    ``recorder(event, payload, rooms)`` when it is published, inside the publishing transaction,
    so that it commits or rolls back with the change (server.services.outbox.record). None stops it."""
    global _recorder
    _recorder = recorder


_timers: list[tuple[threading.Timer, "_Once"]] = []
_timers_guard = threading.Lock()


class _Once:
    """A callback that runs at most once, whoever calls it first: its timer or :func:`settle`."""

    def __init__(self, callback):
        self.callback, self.ran, self.lock = callback, False, threading.Lock()

    def __call__(self):
        with self.lock:
            if self.ran:
                return
            self.ran = True
        self.callback()


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
    once = _Once(callback)
    timer = threading.Timer(delay_s, once)
    timer.daemon = True
    with _timers_guard:
        _timers[:] = [(t, o) for t, o in _timers if t.is_alive()]
        _timers.append((timer, once))
    timer.start()


def settle(timeout_s: float = 5.0) -> None:
    """Run at once what :func:`call_later` still holds and wait for what is running, so nothing
    reads the database after its owner closed it (a test ending, a command-line tool exiting)."""
    with _timers_guard:
        pending, _timers[:] = list(_timers), []
    for timer, once in pending:
        timer.cancel()
        once()
        timer.join(timeout_s)


def version() -> int:
    """A version stamp: microseconds since the epoch, so a client can drop stale events."""
    return time.time_ns() // 1000


def publish(event: str, payload: dict, rooms: list[str] | tuple[str, ...]) -> None:
    payload = dict(payload, version=version())
    if _recorder is not None and rooms:
        _recorder(event, payload, tuple(rooms))

    def deliver():
        for callback in list(_subscribers):
            try:
                callback(event, payload, tuple(rooms))
            except Exception:  # the change is committed; a failing listener must not undo the caller's work
                log.exception("event %s: subscriber %r failed", event, callback)

    after_commit(deliver)
