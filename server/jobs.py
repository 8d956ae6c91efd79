"""The nightly jobs (夜间任务) of a serving process (setting NIGHTLY_JOBS): once a day, after
NIGHTLY_HOUR in the warehouse's time zone, the day's demand forecasts and stock alerts, the cycle
counts of flagged locations and of the ABC classes that are due, a replenishment task for
every pick face below its minimum, and the customers (scores, tags, the due-to-reorder list).

Each job of each day runs once whatever the number of servers: a lease in the database names
the job and the day; the process that takes it runs the job and then marks the lease done for
the day. A process that dies in the middle holds it no longer than JOB_LEASE_S, and another
runs the job again. The forecast and the customers run in processes of their own (the customers
as a refresh run, shared with the office's ``POST /api/v1/customers/refresh``); the other jobs
are a few queries.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

from server.db import database, write_transaction
from server.models import Lease
from server.services import refresh_runs
from server.services.connectors import leases
from server.services.connectors.worker import holder_name

JOBS = ("forecast", "counts", "replenishment", "customers")
JOB_LEASE_S = 1800
FORECAST_TIMEOUT_S = 1500     # within the job's lease
DONE = "done"
EVERY_S = 60.0

log = logging.getLogger(__name__)


def _own_process(settings: dict, *command: str) -> dict:
    """``wavefloor COMMAND --json`` in a process of its own; its JSON report."""
    env = dict(os.environ, **({"WAVEFLOOR_DATABASE_URL": settings["DATABASE_URL"]} if settings.get("DATABASE_URL")
                              else {}))
    done = subprocess.run([sys.executable, "-m", "server.cli", *command, "--json"], env=env,
                          capture_output=True, text=True, timeout=FORECAST_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"wavefloor {' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def forecast_job(settings: dict) -> dict:
    """In a process of its own (`wavefloor forecast run`): ten thousand SKUs keep a core busy for
    half a minute, which in this process would hold up every scan it serves. Its events reach the
    devices through the database, as the command line's do."""
    return _own_process(settings, "forecast", "run")


def customers_job(settings: dict) -> dict:
    """In a process of its own too (`wavefloor customers refresh`): two hundred thousand orders
    are ten seconds of a core. It is a refresh run like the office's (services/refresh_runs.py):
    one the office started a moment ago is waited for, not run a second time beside it."""
    run, _ = refresh_runs.start("customers", {}, settings)
    done = refresh_runs.wait(run["id"], FORECAST_TIMEOUT_S)
    if done["state"] != "done":
        raise RuntimeError(f"wavefloor customers refresh {done['state']}: {done['error']}")
    return done["result"]


def counts_job(settings: dict) -> dict:
    from server.services.counts import plans
    return {"flagged": plans.plan("flagged"), "abc": plans.plan("abc")}


def replenishment_job(settings: dict) -> dict:
    from server.services.replenishment import tasks
    return {"opened": len(tasks.plan())}


RUNNERS = {"forecast": forecast_job, "counts": counts_job, "replenishment": replenishment_job,
           "customers": customers_job}


def due_day(settings: dict, now: dt.datetime | None = None) -> dt.date | None:
    """The warehouse's date when its nightly hour has passed today, else None."""
    local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(settings.get("TIMEZONE") or "Asia/Shanghai"))
    return local.date() if local.hour >= int(settings.get("NIGHTLY_HOUR", 2)) else None


def run_due(settings: dict, holder: str | None = None, now: dt.datetime | None = None) -> dict:
    """Run each job not yet done today by any process: {job: its result, or why it did not run}."""
    day = due_day(settings, now)
    if day is None:
        return {}
    holder = holder or holder_name()
    done = {}
    for job in JOBS:
        name = f"nightly:{job}:{day.isoformat()}"
        row = Lease.get_or_none(Lease.name == name)
        if row is not None and row.holder == DONE:
            continue
        if not leases.take(name, holder, JOB_LEASE_S):
            done[job] = "running elsewhere"
            continue
        try:
            done[job] = RUNNERS[job](settings)
        except Exception as error:  # the other jobs still run; this one is tried again once its lease runs out
            log.exception("nightly job %s failed", job)
            done[job] = f"failed: {error}"
            continue
        with write_transaction():
            Lease.update(holder=DONE).where((Lease.name == name) & (Lease.holder == holder)).execute()
        log.info("nightly job %s of %s done", job, day)
    return done


def run_forever(settings: dict, every_s: float = EVERY_S) -> None:
    """The serving process's loop (a background task); a failed round is logged and the loop goes on."""
    holder = holder_name()
    while True:
        try:
            with database.connection_context():
                run_due(settings, holder)
        except Exception:
            log.exception("nightly jobs round failed")
        time.sleep(every_s)
