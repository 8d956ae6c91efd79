"""Transports by URL: file spool, raw TCP and CUPS (lpr), with their named errors."""

import os
import shutil
import socket
import stat
import threading

import pytest

from printers.exceptions import (
    PrinterNoAnswer,
    PrinterOffline,
    PrinterQueueMissing,
    PrinterRejected,
    PrinterUnavailable,
    StatusUnsupported,
    UnknownTransport,
)
from printers.status import read_status
from printers.transport import CupsTransport, FileTransport, TcpTransport, open_transport

LABEL = "^XA^CI28^FO10,10^A0N,30,0^FH^FD收件人 _5E^FS^XZ"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unknown_scheme_is_a_named_error():
    with pytest.raises(UnknownTransport, match="known schemes"):
        open_transport("lpd://printer/queue")


def test_urls_choose_their_transport(tmp_path):
    assert isinstance(open_transport(f"file://{tmp_path}"), FileTransport)
    tcp = open_transport("tcp://10.0.0.5")
    assert isinstance(tcp, TcpTransport) and (tcp.host, tcp.port) == ("10.0.0.5", 9100)
    cups = open_transport("cups://Zebra_ZD421")
    assert isinstance(cups, CupsTransport) and cups.queue == "Zebra_ZD421"


def test_file_transport_spools_each_job_as_utf8(tmp_path):
    transport = open_transport(f"file://{tmp_path}/spool")
    first = transport.send(LABEL)
    second = transport.send(LABEL.encode("utf-8"))
    assert first != second
    files = sorted(os.listdir(tmp_path / "spool"))
    assert len(files) == 2 and all(name.endswith(".zpl") for name in files)
    assert (tmp_path / "spool" / files[0]).read_bytes() == LABEL.encode("utf-8")
    with pytest.raises(StatusUnsupported):
        transport.query("~HS", frames=3)


def test_tcp_to_a_closed_port_is_offline():
    transport = TcpTransport("127.0.0.1", free_port(), connect_timeout=1)
    with pytest.raises(PrinterOffline):
        transport.send(LABEL)
    assert read_status(transport).faults == ["offline"]


def test_tcp_sends_utf8_bytes_and_reads_framed_replies():
    server = socket.create_server(("127.0.0.1", 0))
    received = []

    def printer():
        connection, _ = server.accept()
        with connection:
            data = b""
            while b"~HS" not in data:
                data += connection.recv(4096)
            received.append(data)
            # the reply arrives in pieces, as it may over a real network
            connection.sendall(b"\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,")
            connection.sendall(b"0,0,2,6,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n")
            connection.recv(10)

    thread = threading.Thread(target=printer)
    thread.start()
    with TcpTransport("127.0.0.1", server.getsockname()[1], read_timeout=5) as transport:
        transport.send(LABEL)
        frames = transport.query("~HS", frames=3)
    thread.join(5)
    server.close()
    assert received[0] == LABEL.encode("utf-8") + b"~HS"
    assert frames == ["030,0,0,1218,000,0,0,0,000,0,0,0", "001,0,0,0,0,2,6,0,00000000,1,000", "1234,0"]


def test_tcp_query_without_answer_raises_no_answer_and_status_says_so():
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
    thread.start()
    transport = TcpTransport("127.0.0.1", server.getsockname()[1], read_timeout=0.3)
    with pytest.raises(PrinterNoAnswer):
        transport.query("~HS", frames=3)
    status = read_status(transport)
    assert status.ok is False and status.faults == ["no_answer"]
    transport.close()
    thread.join(5)
    for connection in accepted:
        connection.close()
    server.close()


def fake_lpr(directory, exit_code=0, message=""):
    script = directory / "lpr"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{directory}/args"\n'
        f'cat > "{directory}/stdin"\n'
        + (f'echo "{message}" >&2\n' if message else "")
        + f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_cups_sends_raw_utf8_to_the_named_queue(tmp_path):
    transport = CupsTransport("Zebra_ZD421", lpr=fake_lpr(tmp_path))
    transport.send(LABEL)
    assert (tmp_path / "args").read_text().split() == ["-PZebra_ZD421", "-oraw"]
    assert (tmp_path / "stdin").read_bytes() == LABEL.encode("utf-8")
    with pytest.raises(StatusUnsupported):
        transport.query("~HS")


def test_cups_checks_lpr_exit_status(tmp_path):
    missing = CupsTransport("Nope", lpr=fake_lpr(tmp_path, 1, "lpr: Error - The printer or class does not exist."))
    with pytest.raises(PrinterQueueMissing, match="Nope"):
        missing.send(LABEL)
    refused = CupsTransport("Busy", lpr=fake_lpr(tmp_path, 1, "lpr: Error - job too large"))
    with pytest.raises(PrinterRejected, match="job too large"):
        refused.send(LABEL)


def test_cups_without_lpr_says_what_to_install(tmp_path):
    transport = CupsTransport("Zebra", lpr=str(tmp_path / "no-lpr"))
    with pytest.raises(PrinterUnavailable, match="cups-bsd"):
        transport.send(LABEL)


@pytest.mark.skipif(shutil.which("lpr") is None, reason="Debian cups-bsd is not installed")
def test_cups_missing_queue_with_the_real_lpr_is_a_clear_error():
    with pytest.raises((PrinterQueueMissing, PrinterOffline)) as error:
        open_transport("cups://WavefloorNoSuchQueue").send(LABEL)
    assert "WavefloorNoSuchQueue" in str(error.value)
