"""Printing under trouble, on SQLite and PostgreSQL, against real TCP printer emulators:

- a label whose bytes were written to the printer is printed: it is never sent again unless a
  person asks for a reprint, whether or not the printer answers status afterwards;
- status is optional: a printer that never answers is in an unknown state, not a failed one;
- one slow printer never delays another (each printer is served by a lane of its own);
- a bad printer URL is refused when saved, and one stored before costs only its own printer;
  ``file://`` printers write only inside the spool folder; only an admin changes a URL.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from printers.emulator import PrinterEmulator
from printers.exceptions import BadPrinterUrl, OutsideSpool, UnknownTransport
from printers.transport import check_url, open_transport
from server import events
from server.models import Printer, PrintJob
from server.services import printing
from server.services.stock import inventory
from tests.conftest import ROOT
from tests.test_print_queue import QUICK, actor, emulators, label, later, printed_bytes  # noqa: F401


@pytest.fixture
def heard():
    seen = []

    def listen(event, payload, rooms):
        seen.append((event, payload))
    events.subscribe(listen)
    yield seen
    events.unsubscribe(listen)


def tcp(emulator: PrinterEmulator) -> str:
    return f"tcp://127.0.0.1:{emulator.port}"


def worker(name="w1", **options) -> printing.PrintWorker:
    return printing.PrintWorker(name, lease_s=10, options=QUICK, **options)


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def jobs_of(code: str) -> list[PrintJob]:
    return list(PrintJob.select().join(Printer).where(Printer.code == code).order_by(PrintJob.id))


# --- item 8: a printer that does not answer status ---------------------------------------------

def test_a_printer_that_never_answers_status_gets_each_label_once(db, emulators, actor):
    mute = emulators(answers_status=False)
    printing.save_printer("P1", {"url": tcp(mute)}, actor)
    queued = [printing.enqueue("P1", "shipping", label(n), f"TM{n}", actor) for n in range(14)]

    print_worker = worker()
    for minute in range(4):  # long past every backoff: a resend would have happened by now
        print_worker.run_once(now=later(61 * minute))
    print_worker.close()

    assert printed_bytes(mute) == [job.zpl.encode("utf-8") for job in queued]  # each once, in order
    assert [(job.state, job.attempts) for job in jobs_of("P1")] == [("done", 1)] * 14
    status = printing.status_of(printing.printer_by_code("P1"))
    assert (status["ok"], status["faults"]) == (None, ["no_answer"])  # unknown, not failed
    assert not printing.holds_jobs(status)


def test_a_label_taken_by_a_printer_that_then_falls_silent_is_not_sent_again(db, emulators, actor, heard):
    hung = emulators()
    printer = printing.save_printer("P1", {"url": tcp(hung)}, actor)
    assert printing.poll_status(printer, options=QUICK)["ok"] is True
    hung.set_fault("silent")  # takes the bytes, throws the label away, answers nothing
    job = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)

    print_worker = worker()
    assert print_worker.run_once() == 1
    assert hung.wait_for_discarded(1)  # it reads the bytes in a thread of its own
    for minute in range(1, 4):
        print_worker.run_once(now=later(61 * minute))
    assert hung.discarded == 1  # the printer took the bytes once: nobody sends them again
    job = PrintJob.get_by_id(job.id)
    assert (job.state, job.attempts) == ("done", 1) and job.sent_at is not None
    assert printing.status_of(printing.printer_by_code("P1"))["ok"] is None
    assert [p["ok"] for e, p in heard if e == "printer.status"] == [True, None]
    assert not [p for e, p in heard if e == "alert"]

    hung.set_fault("ok")
    again = printing.reprint(job.id, actor)  # a person decides the label must come out again
    assert print_worker.run_once(now=later(300)) == 1
    assert printed_bytes(hung) == [job.zpl.encode("utf-8")]
    assert PrintJob.get_by_id(again.id).state == "done"
    print_worker.close()


def test_a_slow_printer_does_not_delay_another(db, emulators, actor):
    mute, good = emulators("mute", answers_status=False), emulators("good")
    printing.save_printer("P1", {"url": tcp(mute)}, actor)  # served first when printers are taken in turn
    printing.save_printer("P2", {"url": tcp(good)}, actor)
    waiting = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)
    other = printing.enqueue("P2", "shipping", label(2), "TM000002", actor)

    # P1's first status poll waits 20 s for each of ~HS and ~HQES before it counts as unknown
    slow = {"connect_timeout": 1.0, "send_timeout": 2.0, "read_timeout": 20.0}
    running = printing.PrintWorker("w1", lease_s=60, options=slow, idle_s=0.05).start()
    try:
        assert good.wait_for_printed(1, timeout=15), "P2 waited for P1"
        assert printed_bytes(good) == [other.zpl.encode("utf-8")]
        # ... and P1 was still waiting for its answer: nothing of it was recorded or sent yet
        assert printing.status_of(printing.printer_by_code("P1"))["at"] is None
        assert PrintJob.get_by_id(waiting.id).state == "queued" and mute.printed == []
    finally:
        mute.stop()  # the unanswered query ends with the connection
        running.stop()


def test_a_printer_without_status_is_unknown_not_faulted(client, emulators):
    mute = emulators(answers_status=False)
    actor = inventory.system_actor()
    printing.save_printer("P1", {"url": tcp(mute)}, actor)
    printing.poll_status(printing.printer_by_code("P1"), options=QUICK)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["parts"]["printers"] == {"ok": 0, "faulted": 0, "unknown": 1}
    assert response.get_json()["degraded"] == []


# --- item 9: printer URLs ------------------------------------------------------------------------

def test_a_bad_printer_url_stops_only_its_own_printer(db, emulators, actor):
    good = emulators()
    Printer.create(code="P0", url="file:///etc/passwd")  # a row saved before URLs were checked
    printing.save_printer("P1", {"url": tcp(good)}, actor)
    blocked = printing.enqueue("P0", "shipping", label(0), "TM000000", actor)
    first = printing.enqueue("P1", "shipping", label(1), "TM000001", actor)

    print_worker = worker()
    assert print_worker.run_once() == 1
    assert printed_bytes(good) == [first.zpl.encode("utf-8")]
    blocked = PrintJob.get_by_id(blocked.id)
    assert blocked.state == "queued" and blocked.last_error.startswith("rejected")
    print_worker.close()

    second = printing.enqueue("P1", "shipping", label(2), "TM000002", actor)
    running = worker("w2", idle_s=0.05).start()
    try:
        assert good.wait_for_printed(2, timeout=15), "the worker stopped serving P1"
    finally:
        running.stop()
    assert printed_bytes(good)[1] == second.zpl.encode("utf-8")


def test_the_worker_holds_the_jobs_of_a_file_printer_outside_its_spool(db, actor, tmp_path):
    spool, elsewhere = tmp_path / "spool", tmp_path / "elsewhere"
    Printer.create(code="P0", url=f"file://{elsewhere}")
    Printer.create(code="P1", url=f"file://{spool}/PK01")
    held = printing.enqueue("P0", "location", {"code": "A01-02-3"}, "", actor)
    fine = printing.enqueue("P1", "location", {"code": "A01-02-4"}, "", actor)

    assert worker(spool_dir=str(spool)).run_once() == 1
    assert not elsewhere.exists()
    assert [p.read_bytes() for p in (spool / "PK01").iterdir()] == [fine.zpl.encode("utf-8")]
    held = PrintJob.get_by_id(held.id)
    assert (held.state, held.attempts) == ("queued", 0)  # held, not failed: a person moves it
    status = printing.status_of(printing.printer_by_code("P0"))
    assert (status["ok"], status["faults"]) == (False, ["outside_spool"])
    assert printing.poll_status(printing.printer_by_code("P0"), spool_dir=str(spool))["faults"] == ["outside_spool"]


@pytest.mark.parametrize("url,refusal", [
    ("file:///etc/passwd", OutsideSpool),
    ("file://{spool}/../escaped", OutsideSpool),
    ("file://{spool}/%2e%2e/escaped", OutsideSpool),
    ("file://otherhost{spool}/PK01", BadPrinterUrl),
    ("file://{spool}/PK01?x=1", BadPrinterUrl),
    ("tcp://", BadPrinterUrl),
    ("tcp://10.0.0.5:99999", BadPrinterUrl),
    ("tcp://10.0.0.5:9100/labels", BadPrinterUrl),
    ("tcp://user:pw@10.0.0.5:9100", BadPrinterUrl),
    ("cups://", BadPrinterUrl),
    ("cups://Zebra queue", BadPrinterUrl),
    ("lpd://10.0.0.5/queue", UnknownTransport),
])
def test_check_url_names_what_is_wrong(tmp_path, url, refusal):
    spool = str(tmp_path / "spool")
    with pytest.raises(refusal):
        check_url(url.format(spool=spool), spool)


def test_check_url_takes_good_urls(tmp_path):
    spool = str(tmp_path / "spool")
    for url in ("tcp://10.0.0.5", "tcp://10.0.0.5:6101", "tcp://zebra-pk01.lan:9100", "tcp://[fe80::1]:9100",
                "cups://Zebra_ZD421", f"file://{spool}", f"file://{spool}/PK01", f"file://localhost{spool}/PK01"):
        check_url(url, spool)
    check_url("file:///srv/labels", None)  # no spool folder given: only the URL's shape is checked
    assert not (tmp_path / "spool").exists()
    open_transport(f"file://{spool}/PK01").close()  # opening a file printer touches no folder
    assert not (tmp_path / "spool").exists()


def test_printer_urls_are_checked_when_saved(client, token_for, tmp_path):
    admin = auth(token_for("admin"))
    spool = tmp_path / "instance" / "spool"  # the default: spool/ in the instance folder

    def put(code, url):
        return client.put(f"/api/v1/printers/{code}", json={"url": url}, headers=admin)

    refused = put("P1", "file:///etc/passwd")
    assert refused.status_code == 400, refused.get_json()
    body = refused.get_json()
    assert body["code"] == "printer_url_outside_spool" and body["params"]["field"] == "url"
    assert str(spool) in body["detail"] and body["message"] != "Something went wrong."
    assert put("P1", f"file://{spool}/../etc").get_json()["code"] == "printer_url_outside_spool"
    bad_port = put("P1", "tcp://10.0.0.5:99999")
    assert bad_port.status_code == 400 and bad_port.get_json()["code"] == "printer_url_rejected"
    assert "port" in bad_port.get_json()["detail"]
    assert client.get("/api/v1/printers", headers=admin).get_json()["items"] == []

    saved = put("P1", f"file://{spool}/PK01")
    assert saved.status_code == 200 and saved.get_json()["url"] == f"file://{spool}/PK01"
    moved = put("P1", "file:///tmp")
    assert moved.status_code == 400 and Printer.get(Printer.code == "P1").url == f"file://{spool}/PK01"


def test_only_an_admin_changes_a_printers_url(client, token_for, emulators):
    first, second = emulators("p1"), emulators("p2")
    admin, supervisor, packer = (auth(token_for(role)) for role in ("admin", "supervisor", "packer"))
    assert client.put("/api/v1/printers/P1", json={"url": tcp(first), "station": "PK01"},
                      headers=admin).status_code == 200

    changed = client.put("/api/v1/printers/P1", json={"url": tcp(second)}, headers=supervisor)
    assert changed.status_code == 403 and changed.get_json()["code"] == "printer_url_admin_only"
    created = client.put("/api/v1/printers/P2", json={"url": tcp(second)}, headers=supervisor)
    assert created.status_code == 403 and created.get_json()["code"] == "printer_url_admin_only"
    assert Printer.get(Printer.code == "P1").url == tcp(first) and Printer.get_or_none(Printer.code == "P2") is None

    # the rest of a printer's settings, and the same URL sent back, stay a supervisor's
    renamed = client.put("/api/v1/printers/P1", json={"url": tcp(first), "name": "打包台1", "station": "PK02"},
                         headers=supervisor)
    assert renamed.status_code == 200 and renamed.get_json()["station"] == "PK02"
    assert client.put("/api/v1/printers/P2", json={"url": tcp(second)}, headers=admin).status_code == 200

    # ... and so do moving jobs and reprinting
    job = client.post("/api/v1/print-jobs", json={"printer": "P1", "template": "shipping", "data": label(1),
                                                  "ref": "TM000001"}, headers=packer).get_json()
    assert client.post(f"/api/v1/print-jobs/{job['id']}/reprint", headers=supervisor).status_code == 201
    moved = client.post("/api/v1/printers/P1/move-jobs", json={"to": "P2"}, headers=supervisor)
    assert moved.status_code == 200 and moved.get_json() == {"moved": 2}


@pytest.mark.parametrize("engine", ["sqlite"])
def test_the_cli_refuses_a_url_outside_the_spool(db, db_url, tmp_path):
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"),
               WAVEFLOOR_PRINT_SPOOL_DIR=str(tmp_path / "labels"))

    def wavefloor(*args):
        return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    refused = wavefloor("printers", "set", "P9", "--url", "file:///etc/passwd")
    assert refused.returncode != 0 and str(tmp_path / "labels") in refused.stderr
    assert Printer.get_or_none(Printer.code == "P9") is None
    saved = wavefloor("printers", "set", "P9", "--url", f"file://{tmp_path}/labels/PK09")
    assert saved.returncode == 0, saved.stderr
    assert Printer.get(Printer.code == "P9").url == f"file://{tmp_path}/labels/PK09"
