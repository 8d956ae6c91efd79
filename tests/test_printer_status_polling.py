"""Printer status polling through a real TCP printer emulator, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from printers.emulator import PrinterEmulator
from server import events
from server.models import Printer
from server.services import printing
from server.services.stock import inventory
from tests.conftest import free_port

QUICK = {"connect_timeout": 1.0, "send_timeout": 2.0, "read_timeout": 0.3}


@pytest.fixture
def emulator(tmp_path):
    running = PrinterEmulator("127.0.0.1", 0, str(tmp_path / "printed")).start()
    yield running
    running.stop()


@pytest.fixture
def heard():
    seen = []

    def listen(event, payload, rooms):
        if event == "printer.status":
            seen.append((payload["printer"], payload["ok"], payload["faults"], rooms))
    events.subscribe(listen)
    yield seen
    events.unsubscribe(listen)


def printer_at(url, station="PK07"):
    return printing.save_printer("P1", {"url": url, "station": station}, inventory.system_actor())


def poll(printer):
    return printing.poll_status(printer, options=QUICK)


@pytest.mark.parametrize("fault", ["paper_out", "head_open", "ribbon_out", "paused"])
def test_a_reported_fault_is_stored_published_and_holds_jobs(db, emulator, heard, fault):
    printer = printer_at(f"tcp://127.0.0.1:{emulator.port}")
    assert poll(printer)["ok"] is True
    emulator.set_fault(fault)
    result = poll(printer)
    assert (result["ok"], result["faults"], result["source"]) == (False, [fault], "~HS+~HQES"
                                                                  if fault != "paused" else "~HS")
    stored = printing.status_of(Printer.get(Printer.code == "P1"))
    assert stored["faults"] == [fault] and stored["at"] is not None
    assert printing.holds_jobs(stored)
    assert heard == [("P1", True, [], ("wallboard", "station:PK07")),
                     ("P1", False, [fault], ("wallboard", "station:PK07"))]


def test_only_a_change_is_published(db, emulator, heard):
    printer = printer_at(f"tcp://127.0.0.1:{emulator.port}", station=None)
    first, second = poll(printer), poll(printer)
    assert first["changed"] is True and second["changed"] is False
    assert heard == [("P1", True, [], ("wallboard",))]


def test_newer_firmware_silent_to_hs_is_read_through_hqes(db, tmp_path):
    with PrinterEmulator("127.0.0.1", 0, str(tmp_path / "fw"), hs_silent_on_error=True) as quiet:
        printer = printer_at(f"tcp://127.0.0.1:{quiet.port}")
        quiet.set_fault("head_open")
        result = poll(printer)
    assert (result["ok"], result["faults"], result["source"]) == (False, ["head_open"], "~HQES")


def test_silence_is_no_answer_and_does_not_hold_jobs(db, emulator, heard):
    printer = printer_at(f"tcp://127.0.0.1:{emulator.port}")
    emulator.set_fault("silent")
    result = poll(printer)
    assert (result["ok"], result["faults"]) == (None, ["no_answer"])  # unknown: no failure
    assert not printing.holds_jobs(result)  # its labels still go: many printers never answer
    emulator.set_fault("ok")
    assert poll(printer)["ok"] is True
    assert [h[2] for h in heard] == [["no_answer"], []]


def test_a_printer_nobody_listens_for_is_offline(db):
    result = poll(printer_at(f"tcp://127.0.0.1:{free_port()}"))
    assert (result["ok"], result["faults"]) == (False, ["offline"])


def test_a_one_way_printer_counts_as_ready(db, tmp_path):
    result = poll(printer_at(f"file://{tmp_path}/spool"))
    assert (result["ok"], result["faults"], result["source"]) == (True, [], "one_way")


def test_the_worker_polls_due_printers_and_resumes_after_a_fault(db, emulator):
    printer = printer_at(f"tcp://127.0.0.1:{emulator.port}")
    emulator.set_fault("paper_out")
    job = printing.enqueue("P1", "location", {"code": "A01-02-3"}, "", inventory.system_actor())
    worker = printing.PrintWorker("w1", lease_s=10, options=QUICK, fault_poll_s=0)
    assert worker.run_once() == 0  # the first round polls: paper out
    assert printing.status_of(Printer.get_by_id(printer.id))["faults"] == ["paper_out"]
    emulator.set_fault("ok")
    assert worker.run_once() == 1  # a faulted printer is polled again before every round
    assert emulator.wait_for_printed(1) and open(emulator.printed[0], "rb").read() == job.zpl.encode()
