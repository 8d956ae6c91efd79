"""Refreshes the office asks for over HTTP (客户刷新, 金额刷新), run in processes of their own.

A customers refresh over 200,000 orders is ten seconds of a core, a month of money more: in the
serving process that time would hold up every scan it serves. ``start`` records a run, takes the
lease ``refresh:<kind>`` for it and starts ``wavefloor <kind> refresh --json --run <id>`` without
waiting; the command does the work, writes its report into the run (``finish``) and gives the
lease up. A watcher in the serving process only waits for the child to end, so that a command
that died without a word is marked failed at once and its lease given up (``settle``).

One run of a kind at a time, whatever the number of servers: while the lease is held, asking
again starts nothing and answers the run that is going. A serving process that dies with its
child leaves the run ``running`` until the lease expires (RUN_LEASE_S); from then on it reads
as failed and a new one may start.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from server.db import database, write_transaction
from server.models import RefreshRun
from server.models.base import utcnow
from server.services.connectors import leases
from server.services.errors import NotFound

RUN_LEASE_S = 1800      # the longest a refresh may run; the child is stopped after it
PASSED_SETTINGS = ("DATABASE_URL", "INSTANCE_DIR", "RULES_DIR", "TIMEZONE")
ROOT = Path(__file__).resolve().parents[2]
LOST = "the refresh's process ended without a report"

log = logging.getLogger(__name__)


def lease_name(kind: str) -> str:
    return f"refresh:{kind}"


def holder(run_id: int) -> str:
    return f"run:{run_id}"


def child_env(settings: dict) -> dict:
    """The environment of a ``wavefloor`` child: this process's settings that name the site."""
    env = dict(os.environ)
    for name in PASSED_SETTINGS:
        if settings.get(name):
            env[f"WAVEFLOOR_{name}"] = str(settings[name])
    return env


def command(kind: str, params: dict, run_id: int) -> list[str]:
    """The child's command line."""
    args = [sys.executable, "-m", "server.cli", kind, "refresh", "--json", "--run", str(run_id)]
    if kind == "money":
        args += ["--day", params["first"], "--to", params["last"]]
        if params.get("shop"):
            args += ["--shop", params["shop"]]
    return args


def start(kind: str, params: dict, settings: dict, user_id: int | None = None) -> tuple[dict, bool]:
    """(the run, whether it started now): a new run in its own process, or the one of this kind
    that runs already (nothing is started then)."""
    with write_transaction():
        run = RefreshRun.create(kind=kind, params=json.dumps(params, ensure_ascii=False), requested_by=user_id)
        taken = leases.take(lease_name(kind), holder(run.id), RUN_LEASE_S)
        if not taken:
            RefreshRun.delete().where(RefreshRun.id == run.id).execute()
    if not taken:
        return view(running(kind) or run), False
    try:
        child = subprocess.Popen(command(kind, params, run.id), cwd=ROOT, env=child_env(settings),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as error:
        settle(run.id, f"could not start: {error}")
        raise
    threading.Thread(target=_watch, args=(run.id, child), name=f"refresh-run-{run.id}", daemon=True).start()
    return view(RefreshRun.get_by_id(run.id)), True


def _watch(run_id: int, child: subprocess.Popen) -> None:
    """Wait for the child (under gevent a greenlet that sleeps on the pipe); a child that failed
    without writing its report (killed, out of memory, a crash at start) leaves its error here."""
    try:
        _, stderr = child.communicate(timeout=RUN_LEASE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        _, stderr = child.communicate()
        stderr = (stderr or b"") + f"\nstopped after {RUN_LEASE_S} s".encode()
    if child.returncode == 0:   # the command wrote its report before it ended
        return
    text = (stderr or b"").decode("utf-8", "replace").strip()
    try:
        with database.connection_context():
            settle(run_id, text[-500:] or f"{LOST} (exit {child.returncode})")
    except Exception:  # the database may be gone (a test's end, a shutdown): the lease runs out on its own
        log.exception("refresh run %s: could not record its end", run_id)


def wait(run_id: int, timeout_s: float = RUN_LEASE_S, every_s: float = 0.5) -> dict:
    """The run once it is no longer running (under gevent, this greenlet sleeps meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = view(RefreshRun.get_by_id(run_id))
        if found["state"] != "running" or time.monotonic() > deadline:
            return found
        time.sleep(every_s)


def running(kind: str) -> RefreshRun | None:
    """The run of this kind that holds the lease now."""
    name = leases.holder_of(lease_name(kind))
    if not name or not name.startswith("run:"):
        return None
    return RefreshRun.get_or_none(RefreshRun.id == int(name[4:]))


def finish(run_id: int, report: dict) -> None:
    """The child's report: the run is done and its lease free."""
    _end(run_id, "done", result=json.dumps(report, ensure_ascii=False, default=str))


def fail(run_id: int, error: str) -> None:
    _end(run_id, "failed", error=error[-500:] or LOST)


def settle(run_id: int, error: str) -> None:
    """After the child ended: a run it left running failed (with ``error``)."""
    _end(run_id, "failed", error=error or LOST)


def _end(run_id: int, state: str, *, result: str = "", error: str = "") -> None:
    with write_transaction():
        run = RefreshRun.get_or_none(RefreshRun.id == run_id)
        if run is None:
            return
        RefreshRun.update(state=state, result=result, error=error, finished_at=utcnow()).where(
            (RefreshRun.id == run_id) & (RefreshRun.state == "running")).execute()
        leases.release(lease_name(run.kind), holder(run_id))


def one(run_id: int, kind: str) -> dict:
    """A run of ``kind`` as the office reads it (:func:`view`); NotFound for any other id."""
    run = RefreshRun.get_or_none((RefreshRun.id == run_id) & (RefreshRun.kind == kind))
    if run is None:
        raise NotFound(f"no {kind} refresh {run_id}", id=run_id)
    return view(run)


def latest(kind: str) -> RefreshRun | None:
    return RefreshRun.select().where(RefreshRun.kind == kind).order_by(RefreshRun.id.desc()).first()


def view(run: RefreshRun) -> dict:
    """The run as the office reads it; a run whose lease went without an end reads as failed.
    The run is read again once the lease is found gone: its end and the lease's release commit
    together, and may have come between ``run`` being read and the lease."""
    state, error = run.state, run.error
    if state == "running" and leases.holder_of(lease_name(run.kind)) != holder(run.id):
        run = RefreshRun.get_or_none(RefreshRun.id == run.id) or run
        state, error = (run.state, run.error) if run.state != "running" else ("failed", LOST)
    return {"id": run.id, "kind": run.kind, "state": state, "params": json.loads(run.params or "{}"),
            "started_at": run.started_at, "finished_at": run.finished_at,
            "result": json.loads(run.result) if run.result else None, "error": error}
