"""A Zebra-like TCP 9100 printer for demos and tests (stdlib only).

It reads the byte stream of each connection, cuts it into formats (``^XA`` ... ``^XZ``) and
"prints" each one by storing it as a numbered file (``000001.zpl``, ...) in its directory. It
answers ``~HS`` and ``~HQES`` in the printer's own format, reflecting its state.

Faults, set with :meth:`PrinterEmulator.set_fault`, a control line on the same port, or signals:

- ``ok``: prints.
- ``paper_out``, ``head_open``, ``ribbon_out``, ``paused``: like a real Zebra, received formats
  are kept in the receive buffer (``~HS`` reports them as formats in buffer) and print, in
  order, when the fault clears. Status is reported by ``~HS`` and ``~HQES``; with
  ``hs_silent_on_error`` the emulator copies newer firmware, which does not answer ``~HS`` in
  MEDIA OUT, HEAD OPEN or RIBBON OUT (``~HQES`` still answers).
- ``silent``: a hung or powered-down printer behind a live network card: no answer to any
  status query, and formats are discarded, never printed. The sender cannot tell this from a
  printer that prints and never answers: the labels need a reprint (补打).

A printer that prints and never answers status at all (many print servers and older or
cheaper printers) is ``answers_status=False`` (``--no-status``): formats print, ``~HS`` and
``~HQES`` get no reply, whatever the fault.

Control lines (one line, ending in ``\\n``; the reply is one STX/ETX framed string):

- ``~WF:FAULT <name>`` sets the fault and answers ``OK <name>`` (``ERR ...`` if unknown);
- ``~WF:STATE`` answers a JSON object: fault, printed, buffered, discarded.

Signals (``python -m printers.emulator`` / ``wavefloor printer-emulator`` only): SIGUSR1 moves
to the next fault in ``ok -> paper_out -> head_open -> silent -> ok``; SIGUSR2 sets ``ok``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import threading

FAULTS = ("ok", "paper_out", "head_open", "ribbon_out", "paused", "silent")
SIGNAL_CYCLE = ("ok", "paper_out", "head_open", "silent")
HOLDING_FAULTS = ("paper_out", "head_open", "ribbon_out", "paused")
CONTROL_PREFIX = b"~WF:"

_HQES_BITS = {"paper_out": 0x1, "ribbon_out": 0x2, "head_open": 0x4}
_TILDE_COMMAND = re.compile(rb"~[A-Z@0-9]{2}[^\^~]*")


class PrinterEmulator:
    """``PrinterEmulator(host, port, directory)``; ``port=0`` picks a free port (see ``.port``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9100, directory: str = "printed",
                 hs_silent_on_error: bool = False, label_length_dots: int = 1218, answers_status: bool = True):
        self.host, self.port, self.directory = host, port, directory
        self.hs_silent_on_error = hs_silent_on_error
        self.answers_status = answers_status
        self.label_length_dots = label_length_dots
        self.fault = "ok"
        self.printed: list[str] = []
        self.buffered: list[bytes] = []
        self.discarded = 0
        self._state = threading.Condition()
        self._server: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        os.makedirs(directory, exist_ok=True)
        self._sequence = self._last_sequence()

    def _last_sequence(self) -> int:
        numbers = [int(name[:-4]) for name in os.listdir(self.directory)
                   if name.endswith(".zpl") and name[:-4].isdigit()]
        return max(numbers, default=0)

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> "PrinterEmulator":
        server = socket.create_server((self.host, self.port), reuse_port=False)
        server.settimeout(0.2)
        self._server = server
        self.port = server.getsockname()[1]
        self._stopping.clear()
        thread = threading.Thread(target=self._accept_loop, name="printer-emulator", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def serve_forever(self) -> None:
        self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        finally:
            self.stop()

    # state -------------------------------------------------------------------------------

    def set_fault(self, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        with self._state:
            self.fault = fault
            if fault == "ok":
                pending, self.buffered = self.buffered, []
                for job in pending:
                    self._print(job)
            self._state.notify_all()

    def next_fault(self) -> str:
        position = SIGNAL_CYCLE.index(self.fault) if self.fault in SIGNAL_CYCLE else -1
        fault = SIGNAL_CYCLE[(position + 1) % len(SIGNAL_CYCLE)]
        self.set_fault(fault)
        return fault

    def wait_for_printed(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` jobs are printed (for tests and demos)."""
        with self._state:
            return self._state.wait_for(lambda: len(self.printed) >= count, timeout=timeout)

    def wait_for_discarded(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` jobs were thrown away (a silent printer's), for tests."""
        with self._state:
            return self._state.wait_for(lambda: self.discarded >= count, timeout=timeout)

    def _print(self, job: bytes) -> None:
        self._sequence += 1
        path = os.path.join(self.directory, f"{self._sequence:06d}.zpl")
        with open(path, "wb") as handle:
            handle.write(job)
        self.printed.append(path)

    def _receive_job(self, job: bytes) -> None:
        with self._state:
            if self.fault == "silent":
                self.discarded += 1
            elif self.fault in HOLDING_FAULTS:
                self.buffered.append(job)
            else:
                self._print(job)
            self._state.notify_all()

    # replies -----------------------------------------------------------------------------

    def host_status(self) -> bytes | None:
        with self._state:
            fault, buffered = self.fault, len(self.buffered)
        if fault == "silent" or not self.answers_status:
            return None
        if self.hs_silent_on_error and fault in ("paper_out", "head_open", "ribbon_out"):
            return None
        one = "030,{},{},{:04d},{:03d},0,0,0,000,0,0,0".format(
            int(fault == "paper_out"), int(fault == "paused"), self.label_length_dots, buffered)
        two = "001,0,{},{},0,2,6,0,00000000,1,000".format(int(fault == "head_open"), int(fault == "ribbon_out"))
        three = "1234,0"
        return "".join(f"\x02{part}\x03\r\n" for part in (one, two, three)).encode("ascii")

    def extended_status(self) -> bytes | None:
        with self._state:
            fault = self.fault
        if fault == "silent" or not self.answers_status:
            return None
        bits = _HQES_BITS.get(fault, 0)
        errors = f"{int(bool(bits))} 00000000 {bits:08X}"
        return (
            "\x02\r\n  PRINTER STATUS                            \r\n"
            f"   ERRORS:         {errors}   \r\n"
            "   WARNINGS:       0 00000000 00000000   \r\n\x03\r\n"
        ).encode("ascii")

    def _control(self, line: bytes) -> bytes:
        words = line.decode("utf-8", "replace").strip().split()
        if words[:1] == ["FAULT"] and len(words) == 2:
            try:
                self.set_fault(words[1])
            except ValueError as error:
                return f"\x02ERR {error}\x03\r\n".encode()
            return f"\x02OK {words[1]}\x03\r\n".encode()
        if words[:1] == ["STATE"]:
            with self._state:
                state = {"fault": self.fault, "printed": len(self.printed),
                         "buffered": len(self.buffered), "discarded": self.discarded}
            return f"\x02{json.dumps(state)}\x03\r\n".encode()
        return "\x02ERR unknown control command; use FAULT <name> or STATE\x03\r\n".encode()

    # stream ------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _address = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.settimeout(None)
            self._clients.add(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        buffer = b""
        try:
            while not self._stopping.is_set():
                chunk = client.recv(65536)
                if not chunk:
                    break
                buffer = self._consume(buffer + chunk, client)
        except OSError:
            pass
        finally:
            self._clients.discard(client)
            client.close()

    def _consume(self, buffer: bytes, client: socket.socket) -> bytes:
        """Handle every complete command in ``buffer``; return the incomplete rest."""
        while buffer:
            buffer = buffer.lstrip(b"\r\n\t ")
            if buffer.startswith(CONTROL_PREFIX):
                end = buffer.find(b"\n")
                if end < 0:
                    return buffer
                client.sendall(self._control(buffer[len(CONTROL_PREFIX):end]))
                buffer = buffer[end + 1:]
            elif buffer.startswith(b"~HQES"):
                self._reply(client, self.extended_status())
                buffer = buffer[5:]
            elif buffer.startswith(b"~HS"):
                self._reply(client, self.host_status())
                buffer = buffer[3:]
            elif buffer.startswith(b"~"):
                match = _TILDE_COMMAND.match(buffer)
                if match is None or match.end() == len(buffer):
                    return buffer if len(buffer) < 4096 else b""
                buffer = buffer[match.end():]
            elif buffer.startswith(b"^XA"):
                end = buffer.find(b"^XZ")
                if end < 0:
                    return buffer
                self._receive_job(buffer[:end + 3])
                buffer = buffer[end + 3:]
            else:
                # bytes outside a format: a printer ignores them up to the next command
                positions = [p for p in (buffer.find(b"^XA"), buffer.find(b"~")) if p > 0]
                if not positions:
                    return buffer[-3:] if buffer.endswith((b"^", b"^X", b"~")) else b""
                buffer = buffer[min(positions):]
        return buffer

    @staticmethod
    def _reply(client: socket.socket, payload: bytes | None) -> None:
        if payload is not None:
            client.sendall(payload)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m printers.emulator", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--dir", dest="directory", default="printed")
    parser.add_argument("--hs-silent-on-error", action="store_true",
                        help="do not answer ~HS in paper_out/head_open/ribbon_out (newer firmware)")
    parser.add_argument("--no-status", action="store_true",
                        help="print, but never answer ~HS or ~HQES (a print server, an older printer)")
    options = parser.parse_args(argv)
    run(options.host, options.port, options.directory, options.hs_silent_on_error,
        answers_status=not options.no_status)


def _echo(message: str) -> None:
    print(message, flush=True)


def run(host: str, port: int, directory: str, hs_silent_on_error: bool = False, echo=_echo,
        answers_status: bool = True) -> None:
    """Run an emulator in the foreground with signal control until SIGINT/SIGTERM."""
    emulator = PrinterEmulator(host, port, directory, hs_silent_on_error=hs_silent_on_error,
                               answers_status=answers_status).start()

    def cycle(_signum, _frame):
        echo(f"fault: {emulator.next_fault()}")

    def clear(_signum, _frame):
        emulator.set_fault("ok")
        echo("fault: ok")

    def finish(_signum, _frame):
        emulator._stopping.set()

    signal.signal(signal.SIGUSR1, cycle)
    signal.signal(signal.SIGUSR2, clear)
    signal.signal(signal.SIGTERM, finish)
    # announced once the signals are ours: a SIGUSR1 sent on the announcement would otherwise
    # find Python's default action, which ends the process
    echo(f"printer emulator on {host}:{emulator.port}, jobs in {os.path.abspath(directory)}")
    try:
        while not emulator._stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
