"""The nightly jobs: each job of each day runs once, whatever the number of server processes,
only after the nightly hour in the warehouse's time zone, and a failed job is tried again once
its lease runs out. Both engines."""
from __future__ import annotations

import datetime as dt

from server import jobs
from server.models import Lease, Location, PickFace, Product, Quant, ReplenishmentTask

SETTINGS = {"TIMEZONE": "Asia/Shanghai", "NIGHTLY_HOUR": 2}
# 03:00 in Shanghai: after the nightly hour
NIGHT = dt.datetime(2026, 12, 7, 19, 0, tzinfo=dt.timezone.utc)


def test_each_job_runs_once_a_day_after_the_hour(small_warehouse, db_url):
    settings = dict(SETTINGS, DATABASE_URL=db_url)  # the forecast's own process finds the database
    wh, locs, tee = small_warehouse["warehouse"], small_warehouse["locations"], small_warehouse["tee"]
    PickFace.create(location=locs["A-01"], product=tee, min_qty=5, max_qty=20)
    reserve = Location.create(warehouse=wh, code="R-09", kind="reserve")
    Quant.create(product=tee, location=reserve, qty=50)
    locs["A-02"].needs_count = True
    locs["A-02"].save()
    assert jobs.run_due(SETTINGS, "a", now=NIGHT - dt.timedelta(hours=2)) == {}   # 01:00: not yet
    ran = jobs.run_due(settings, "a", now=NIGHT)
    assert set(ran) == set(jobs.JOBS)
    assert ran["replenishment"] == {"opened": 1}
    assert ReplenishmentTask.select().count() == 1
    assert ran["counts"]["flagged"]
    assert {"skus", "alerts", "classes"} <= set(ran["forecast"])  # the report of `wavefloor forecast run`
    assert "customers" in ran["customers"]  # the report of `wavefloor customers refresh`
    assert jobs.run_due(SETTINGS, "a", now=NIGHT) == {}   # done for the day
    assert jobs.run_due(SETTINGS, "b", now=NIGHT) == {}   # and for every process
    assert Lease.select().where(Lease.holder == jobs.DONE).count() == 4
    assert set(jobs.run_due(SETTINGS, "b", now=NIGHT + dt.timedelta(days=1))) == set(jobs.JOBS)  # the next night


def test_a_job_another_process_runs_is_left_alone_and_a_failed_one_runs_again(db, monkeypatch):
    day = jobs.due_day(SETTINGS, NIGHT).isoformat()
    from server.services.connectors import leases
    assert leases.take(f"nightly:forecast:{day}", "other", 60)
    monkeypatch.setitem(jobs.RUNNERS, "counts", lambda settings: 1 / 0)
    ran = jobs.run_due(SETTINGS, "a", now=NIGHT)
    assert ran["forecast"] == "running elsewhere"
    assert ran["counts"].startswith("failed")
    monkeypatch.setitem(jobs.RUNNERS, "counts", lambda settings: {"ok": True})
    Lease.update(until=dt.datetime(2000, 1, 1)).where(Lease.name == f"nightly:counts:{day}").execute()
    assert jobs.run_due(SETTINGS, "a", now=NIGHT)["counts"] == {"ok": True}
    assert Product.select().count() == 0
