"""The TCP 9100 printer emulator driven over real sockets by the real transport."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from printers.emulator import PrinterEmulator
from printers.labels import TEMPLATES, render_label
from printers.status import read_status
from printers.transport import TcpTransport, open_transport

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def label(name="location"):
    return render_label(name, TEMPLATES[name].demo())


@pytest.fixture
def printer(tmp_path):
    emulator = PrinterEmulator("127.0.0.1", 0, str(tmp_path / "printed")).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def client(printer):
    transport = open_transport(f"tcp://127.0.0.1:{printer.port}", read_timeout=0.5)
    yield transport
    transport.close()


def control(port, line):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(line.encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\x03\r\n"):
            reply += sock.recv(4096)
    return reply.strip(b"\x02\x03\r\n").decode()


def emulator_state(port):
    return json.loads(control(port, "~WF:STATE"))


def test_a_sent_label_is_printed_and_stored(printer, client):
    zpl = label("shipping")
    client.send(zpl)
    assert printer.wait_for_printed(1)
    assert os.path.basename(printer.printed[0]) == "000001.zpl"
    with open(printer.printed[0], "rb") as handle:
        assert handle.read() == zpl.encode("utf-8")
    status = read_status(client)
    assert status.ok and status.faults == []
    assert read_status(client, "~HQES").ok


def test_jobs_split_across_packets_and_joined_in_one_packet_are_separated(printer):
    first, second, third = label("location"), label("tote"), label("sku")
    stream = ("~SD15\r\n" + first + "\r\n" + second + third).encode("utf-8")
    with socket.create_connection(("127.0.0.1", printer.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(stream), 97):
            sock.sendall(stream[start : start + 97])
        assert printer.wait_for_printed(3)
    stored = []
    for path in printer.printed:
        with open(path, encoding="utf-8") as handle:
            stored.append(handle.read())
    assert stored == [first, second, third]


def test_paper_out_is_reported_and_jobs_wait_in_the_buffer_until_it_clears(printer, client):
    printer.set_fault("paper_out")
    hs = read_status(client)
    assert hs.ok is False and hs.faults == ["paper_out"]
    assert read_status(client, "~HQES").faults == ["paper_out"]
    client.send(label("tote"))
    client.send(label("location"))
    state = {}
    for _ in range(100):
        state = emulator_state(printer.port)
        if state["buffered"] == 2:
            break
        time.sleep(0.02)
    assert state == {"fault": "paper_out", "printed": 0, "buffered": 2, "discarded": 0}
    assert read_status(client).host.formats_in_buffer == 2
    assert control(printer.port, "~WF:FAULT ok") == "OK ok"
    assert printer.wait_for_printed(2)
    with open(printer.printed[0], encoding="utf-8") as handle:
        assert handle.read() == label("tote")
    assert read_status(client).ok


def test_head_open_is_reported_by_both_status_commands(printer, client):
    control(printer.port, "~WF:FAULT head_open")
    assert read_status(client).faults == ["head_open"]
    assert read_status(client, "~HQES").faults == ["head_open"]


def test_newer_firmware_mode_stays_silent_on_hs_but_answers_hqes(tmp_path):
    with PrinterEmulator("127.0.0.1", 0, str(tmp_path), hs_silent_on_error=True) as emulator:
        emulator.set_fault("paper_out")
        with TcpTransport("127.0.0.1", emulator.port, read_timeout=0.3) as transport:
            assert read_status(transport).faults == ["no_answer"]
            assert read_status(transport, "~HQES").faults == ["paper_out"]


def test_a_silent_printer_gives_no_answer_and_loses_jobs_until_retried(printer, client):
    printer.set_fault("silent")
    status = read_status(client)
    assert status.ok is False and status.faults == ["no_answer"]
    assert read_status(client, "~HQES").faults == ["no_answer"]
    zpl = label("tote")
    client.send(zpl)
    state = {}
    for _ in range(100):
        state = emulator_state(printer.port)
        if state["discarded"] == 1:
            break
        time.sleep(0.02)
    assert state["discarded"] == 1 and state["printed"] == 0
    printer.set_fault("ok")
    assert printer.printed == []
    client.send(zpl)  # the sender's retry
    assert printer.wait_for_printed(1)
    assert read_status(client).ok


def test_unknown_fault_on_the_control_line_is_refused(printer):
    assert control(printer.port, "~WF:FAULT on_fire").startswith("ERR unknown fault")
    assert emulator_state(printer.port)["fault"] == "ok"


def test_numbering_continues_after_a_restart(tmp_path):
    directory = str(tmp_path / "jobs")
    for expected in ("000001.zpl", "000002.zpl"):
        with PrinterEmulator("127.0.0.1", 0, directory) as emulator:
            with TcpTransport("127.0.0.1", emulator.port) as transport:
                transport.send(label())
            assert emulator.wait_for_printed(1)
            assert os.path.basename(emulator.printed[0]) == expected


def test_module_entry_point_serves_and_cycles_faults_on_sigusr1(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "printers.emulator", "--port", str(port), "--dir", str(tmp_path / "out")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert "printer emulator on" in process.stdout.readline().decode()
        with TcpTransport("127.0.0.1", port, read_timeout=2) as transport:
            transport.send(label())
            assert read_status(transport).ok
            process.send_signal(signal.SIGUSR1)
            faults = []
            for _ in range(100):
                faults = read_status(transport).faults
                if faults:
                    break
                time.sleep(0.02)
            assert faults == ["paper_out"]
        assert os.listdir(tmp_path / "out") == ["000001.zpl"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert process.returncode == 0


def test_labels_send_and_status_commands_talk_to_the_printer(printer):
    from click.testing import CliRunner

    from printers.cli import labels as labels_cli

    url = f"tcp://127.0.0.1:{printer.port}"
    sent = CliRunner().invoke(labels_cli, ["send", url, "tote", "--cjk", "raster"])
    assert sent.exit_code == 0, sent.output
    assert printer.wait_for_printed(1)
    healthy = CliRunner().invoke(labels_cli, ["status", url])
    assert healthy.exit_code == 0 and json.loads(healthy.output)["ok"] is True
    printer.set_fault("head_open")
    broken = CliRunner().invoke(labels_cli, ["status", url, "--command", "~HQES"])
    assert broken.exit_code == 1
    assert json.loads(broken.output)["faults"] == ["head_open"]
