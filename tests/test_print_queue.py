"""The print queue against a real TCP printer emulator, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from printers.emulator import PrinterEmulator
from printers.labels import render_label, shipping_demo
from server.models import PrintJob
from server.models.base import utcnow
from server.models.printing import TRANSITIONS
from server.services import printing
from server.services.errors import InvalidTransition
from server.services.stock import inventory
from tests.conftest import free_port

QUICK = {"connect_timeout": 1.0, "send_timeout": 2.0, "read_timeout": 0.3}


@pytest.fixture
def emulators(tmp_path):
    started = []

    def start(name: str = "p1", **options) -> PrinterEmulator:
        emulator = PrinterEmulator("127.0.0.1", 0, str(tmp_path / name), **options).start()
        started.append(emulator)
        return emulator
    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def actor(db):
    return inventory.system_actor()


def add_printer(code, emulator_or_url, actor, **values):
    url = emulator_or_url if isinstance(emulator_or_url, str) else f"tcp://127.0.0.1:{emulator_or_url.port}"
    return printing.save_printer(code, {"url": url, "station": "PK01", **values}, actor)


def label(n: int) -> dict:
    return dict(shipping_demo(), tracking_number=f"SF{1400000000000 + n}", order_number=f"TM{n:06d}")


def worker(name="w1", **options) -> printing.PrintWorker:
    return printing.PrintWorker(name, lease_s=10, options=QUICK, **options)


def printed_bytes(emulator: PrinterEmulator, expected: int = 0) -> list[bytes]:
    """What the emulator printed, once it has read ``expected`` labels: it reads the bytes in a
    thread of its own, so a job recorded as sent may not be on its list yet."""
    emulator.wait_for_printed(expected)
    return [Path(path).read_bytes() for path in emulator.printed]


def later(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


def test_transitions_are_data_and_verbs_refuse_others(db, emulators, actor):
    assert ("sending", "cancelled") not in TRANSITIONS and ("done", "queued") not in TRANSITIONS
    add_printer("P1", emulators(), actor)
    job = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)
    assert printing.claim_next(job.printer, "w1").id == job.id
    with pytest.raises(InvalidTransition) as refused:
        printing.cancel(job.id, actor)
    assert refused.value.params == {"noun": "print_job", "current": "sending", "target": "cancelled"}
    with pytest.raises(InvalidTransition):
        printing.retry(job.id, actor)


def test_a_job_prints_the_bytes_it_carries(db, emulators, actor, heard):
    emulator = emulators()
    add_printer("P1", emulator, actor, dpi=300)
    job = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)
    assert job.zpl == render_label("shipping", label(1), printing.profile_of(job.printer))
    assert job.state == "queued" and "^XA" in job.zpl

    assert worker().run_once() == 1
    assert printed_bytes(emulator, 1) == [job.zpl.encode("utf-8")]
    job = PrintJob.get_by_id(job.id)
    assert (job.state, job.attempts, job.claimed_by) == ("done", 1, None) and job.sent_at is not None
    statuses = [(p["printer"], p["ok"], p["faults"], rooms) for e, p, rooms in heard if e == "printer.status"]
    assert statuses == [("P1", True, [], ("wallboard", "station:PK01"))]


def test_paper_out_holds_jobs_until_the_fault_clears(db, emulators, actor, heard):
    emulator = emulators()
    printer = add_printer("P1", emulator, actor)
    emulator.set_fault("paper_out")
    assert printing.poll_status(printer)["faults"] == ["paper_out"]
    job = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)

    print_worker = worker()
    assert print_worker.run_once() == 0
    assert PrintJob.get_by_id(job.id).state == "queued"
    assert emulator.printed == [] and emulator.buffered == []  # not even sent into the buffer

    emulator.set_fault("ok")
    assert printing.poll_status(printer)["ok"] is True
    assert print_worker.run_once() == 1
    assert printed_bytes(emulator, 1) == [job.zpl.encode("utf-8")]
    assert [p["faults"] for e, p, _ in heard if e == "printer.status"] == [["paper_out"], []]


def test_a_silent_printer_takes_the_label_once_and_its_status_is_unknown(db, emulators, actor):
    emulator = emulators()
    add_printer("P1", emulator, actor)
    emulator.set_fault("silent")
    job = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)

    print_worker = worker()
    assert print_worker.run_once() == 1  # every byte went to the printer: printed, as far as anyone can tell
    job = PrintJob.get_by_id(job.id)
    assert (job.state, job.attempts, job.claimed_by) == ("done", 1, None)
    status = printing.status_of(printing.printer_by_code("P1"))
    assert (status["ok"], status["faults"]) == (None, ["no_answer"])
    assert emulator.wait_for_discarded(1) and emulator.printed == []  # it reads the bytes in a thread of its own

    assert print_worker.run_once(now=later(printing.backoff_s(1) + 1)) == 0
    assert emulator.discarded == 1  # never sent again unless a person asks for a reprint

    emulator.set_fault("ok")
    assert print_worker.run_once(now=later(61)) == 0  # a silent printer is asked again, now and then
    assert printing.status_of(printing.printer_by_code("P1"))["ok"] is True


def test_backoff_doubles_up_to_a_cap():
    assert [printing.backoff_s(n) for n in (1, 2, 3, 4, 5, 6, 7, 20)] == [2, 4, 8, 16, 32, 60, 60, 60]


def test_an_unreachable_printer_fails_the_job_after_max_attempts(db, actor, heard):
    add_printer("P1", f"tcp://127.0.0.1:{free_port()}", actor)
    job = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)
    print_worker = worker(max_attempts=2)
    assert print_worker.run_once() == 0
    assert PrintJob.get_by_id(job.id).state == "queued"
    assert print_worker.run_once(now=later(5)) == 0
    job = PrintJob.get_by_id(job.id)
    assert (job.state, job.attempts) == ("failed", 2) and job.last_error.startswith("offline")
    alerts = [(p["code"], p["job"], p["ref"]) for e, p, _ in heard if e == "alert"]
    assert alerts == [("print_job_failed", job.id, "TM000001")]

    assert printing.retry(job.id, actor).state == "queued"
    assert PrintJob.get_by_id(job.id).attempts == 0
    assert printing.cancel(job.id, actor).state == "cancelled"


def test_a_restart_mid_job_sends_it_exactly_once(db, emulators, actor):
    emulator = emulators()
    printer = add_printer("P1", emulator, actor)
    job = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)
    crashed = printing.claim_next(printer, "crashed-worker", lease_s=10)
    assert crashed.id == job.id  # ... and that worker dies before it sends

    fresh = worker("after-restart")
    assert fresh.run_once() == 0  # the lease is still running: nobody else touches the job
    assert PrintJob.get_by_id(job.id).state == "sending" and emulator.printed == []
    assert fresh.run_once(now=later(11)) == 1
    assert printed_bytes(emulator, 1) == [job.zpl.encode("utf-8")]

    # the old worker wakes up and tries to finish its job: it no longer holds it
    assert printing.send_job(crashed, "crashed-worker", options=QUICK) == "lost"
    assert len(emulator.printed) == 1
    assert PrintJob.get_by_id(job.id).state == "done"


def test_two_workers_racing_never_send_a_job_twice(db, emulators, actor, monkeypatch):
    sends, real_send = [], printing.send_job

    def counted(job, worker_id, *args, **kwargs):
        outcome = real_send(job, worker_id, *args, **kwargs)
        sends.append((worker_id, job.id, outcome))
        return outcome
    monkeypatch.setattr(printing, "send_job", counted)
    first, second = emulators("p1"), emulators("p2")
    add_printer("P1", first, actor)
    add_printer("P2", second, actor)
    jobs = {"P1": [], "P2": []}
    for n in range(30):
        for code in ("P1", "P2"):
            jobs[code].append(printing.enqueue(code, "shipping", label(n + (1000 if code == "P2" else 0)),
                                               f"TM{n}", actor))
    racing = [worker(f"w{i}", idle_s=0.05, batch=3).start() for i in range(2)]
    try:
        deadline = time.monotonic() + 60
        while (PrintJob.select().where(PrintJob.state == "done").count() < 60
               and time.monotonic() < deadline):
            time.sleep(0.05)
    finally:
        for running in racing:
            running.stop()
    assert PrintJob.select().where(PrintJob.state == "done").count() == 60
    done = sorted(job_id for _worker, job_id, outcome in sends if outcome == "done")
    assert done == sorted(job.id for job in jobs["P1"] + jobs["P2"])
    # each label exactly once. Not necessarily in the order queued: each worker keeps a connection
    # of its own to the printer, and the emulator reads each connection in a thread of its own, so
    # two labels sent one after the other on the two connections may be read in either order
    assert sorted(printed_bytes(first, 30)) == sorted(job.zpl.encode("utf-8") for job in jobs["P1"])
    assert sorted(printed_bytes(second, 30)) == sorted(job.zpl.encode("utf-8") for job in jobs["P2"])


def test_claims_race_on_one_job(db, emulators, actor):
    printer = add_printer("P1", emulators(), actor)
    printing.enqueue("P1", "shipping", label(1), "TM000001", actor)
    barrier, claims = threading.Barrier(8), []

    def claim(name):
        barrier.wait()
        claims.append(printing.claim_next(printer, name))
        from server.db import database
        database.close()
    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([c for c in claims if c is not None]) == 1


def test_order_per_printer_is_kept_when_the_oldest_job_waits_for_a_retry(db, actor, tmp_path):
    port = free_port()
    add_printer("P1", f"tcp://127.0.0.1:{port}", actor)  # switched off: nothing listens yet
    queued = [printing.enqueue("P1", "shipping", label(n), f"TM{n}", actor) for n in range(3)]
    print_worker = worker()
    assert print_worker.run_once() == 0
    # only the oldest was tried; the others did not overtake it
    assert [(job.state, job.attempts) for job in map(PrintJob.get_by_id, (j.id for j in queued))] == [
        ("queued", 1), ("queued", 0), ("queued", 0)]

    emulator = PrinterEmulator("127.0.0.1", port, str(tmp_path / "p1")).start()  # switched on
    try:
        assert print_worker.run_once(now=later(3)) == 3
        assert printed_bytes(emulator, len(queued)) == [j.zpl.encode("utf-8") for j in queued]
    finally:
        print_worker.close()
        emulator.stop()


def test_jobs_move_from_a_faulted_printer_to_a_good_one(db, emulators, actor):
    jammed, good = emulators("jammed"), emulators("good")
    add_printer("P1", jammed, actor)
    add_printer("P2", good, actor, dpi=300)
    jammed.set_fault("head_open")
    printing.poll_status(printing.printer_by_code("P1"))
    queued = [printing.enqueue("P1", "shipping", label(n), f"TM{n}", actor) for n in range(2)]
    assert worker().run_once() == 0

    assert printing.move_jobs("P1", "P2", actor) == 2
    moved = [PrintJob.get_by_id(j.id) for j in queued]
    assert {j.printer.code for j in moved} == {"P2"}
    assert moved[0].zpl == render_label("shipping", label(0), printing.profile_of(printing.printer_by_code("P2")))
    assert moved[0].zpl != queued[0].zpl  # rendered again for 300 dpi
    assert worker().run_once() == 2
    assert printed_bytes(good, len(moved)) == [j.zpl.encode("utf-8") for j in moved]
    assert jammed.printed == [] and jammed.buffered == []


def test_reprint_makes_a_second_identical_job(db, emulators, actor):
    emulator = emulators()
    add_printer("P1", emulator, actor)
    job = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)
    worker().run_once()
    again = printing.reprint(job.id, actor)
    assert again.id != job.id and again.reprint_of_id == job.id and again.state == "queued"
    assert (again.zpl, again.ref, again.template) == (job.zpl, job.ref, job.template)
    assert worker().run_once() == 1
    assert printed_bytes(emulator, 2) == [job.zpl.encode("utf-8")] * 2


def test_the_job_list_is_two_queries_whatever_its_length(db, actor, tmp_path):
    add_printer("P1", f"file://{tmp_path}/spool", actor)
    for n in range(5):
        printing.enqueue("P1", "shipping", label(n), f"TM{n}", actor)
    executed, real = [], db.obj.execute_sql

    def counted(sql, *args, **kwargs):
        executed.append(sql)
        return real(sql, *args, **kwargs)
    db.obj.execute_sql = counted
    try:
        listed = printing.job_list(printer="P1")
    finally:
        db.obj.execute_sql = real
    assert listed["total"] == 5 and {j["created_by"] for j in listed["items"]} == {"system"}
    assert len(executed) == 2


# --- HTTP -------------------------------------------------------------------------------------

def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_api_routes_with_role_checks(client, token_for, emulators):
    emulator, spare = emulators("p1"), emulators("p2")
    supervisor, packer, picker = (auth(token_for(role)) for role in ("supervisor", "packer", "picker"))
    admin = auth(token_for("admin"))  # a new printer sets a URL: an admin's right
    body = {"url": f"tcp://127.0.0.1:{emulator.port}", "name": "打包台1", "station": "PK01"}

    denied = client.put("/api/v1/printers/P1", json=body, headers=picker)
    assert denied.status_code == 403 and denied.get_json()["code"] == "forbidden"
    assert client.put("/api/v1/printers/P1", json=body, headers=packer).status_code == 403
    created = client.put("/api/v1/printers/P1", json=body, headers=admin)
    assert created.status_code == 200, created.get_json()
    assert created.get_json()["station"] == "PK01" and created.get_json()["status"]["ok"] is None
    bad = client.put("/api/v1/printers/P9", json={"url": "ftp://x"}, headers=admin)
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_printer"
    assert client.put("/api/v1/printers/P2", json={"url": f"tcp://127.0.0.1:{spare.port}"},
                      headers=admin).status_code == 200

    queued = client.post("/api/v1/print-jobs", json={"printer": "P1", "template": "shipping",
                                                     "data": label(1), "ref": "TM000001"}, headers=packer)
    assert queued.status_code == 201, queued.get_json()
    job_id = queued.get_json()["id"]
    assert queued.get_json()["state"] == "queued" and queued.get_json()["created_by"] == "u-packer"
    assert client.post("/api/v1/print-jobs", json={"printer": "P1", "template": "nope", "data": {}},
                       headers=packer).get_json()["code"] == "label_rejected"

    polled = client.post("/api/v1/printers/P1/poll", headers=packer)
    assert polled.status_code == 200 and polled.get_json()["ok"] is True
    listed = client.get("/api/v1/printers", headers=picker).get_json()["items"]
    assert [(p["code"], p["status"]["ok"], p["queued"]) for p in listed] == [("P1", True, 1), ("P2", None, 0)]

    assert client.post(f"/api/v1/print-jobs/{job_id}/reprint", headers=picker).status_code == 403
    reprinted = client.post(f"/api/v1/print-jobs/{job_id}/reprint", headers=packer)
    assert reprinted.status_code == 201 and reprinted.get_json()["reprint_of"] == job_id
    by_ref = client.get("/api/v1/print-jobs?ref=TM000001&state=queued", headers=picker).get_json()
    assert by_ref["total"] == 2 and {(j["printer"], j["created_by"]) for j in by_ref["items"]} == {("P1", "u-packer")}
    assert "zpl" not in client.get(f"/api/v1/print-jobs/{job_id}", headers=picker).get_json()
    assert "^XA" in client.get(f"/api/v1/print-jobs/{job_id}", headers=supervisor).get_json()["zpl"]

    moved = client.post("/api/v1/printers/P1/move-jobs", json={"to": "P2"}, headers=packer)
    assert moved.status_code == 200 and moved.get_json() == {"moved": 2}
    assert client.get("/api/v1/print-jobs?printer=P2", headers=picker).get_json()["total"] == 2

    cancelled = client.post(f"/api/v1/print-jobs/{job_id}/cancel", headers=packer)
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    again = client.post(f"/api/v1/print-jobs/{job_id}/cancel", headers=packer)
    assert again.status_code == 409 and again.get_json()["code"] == "invalid_transition"
    assert client.post("/api/v1/print-jobs/999999/cancel", headers=packer).status_code == 404
