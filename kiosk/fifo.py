"""Scans fed through a named pipe: one line, one scan.

For scanners that are neither a keyboard wedge nor a camera (a serial scanner read by a small
script, a scale or a test), e.g. ``echo 'TOTE-0042' > /run/wavefloor/scan``.
"""
from __future__ import annotations

import logging
import os
import selectors
import stat
import threading
from typing import Callable

log = logging.getLogger(__name__)

MAX_LINE = 4096


class FifoScanner:
    """Reads lines from the named pipe at ``path`` (made if missing) and calls ``on_code``."""

    def __init__(self, path: str, on_code: Callable[[str], None]):
        self.path = path
        self.on_code = on_code
        if not os.path.exists(path):
            os.mkfifo(path, 0o600)
        elif not stat.S_ISFIFO(os.stat(path).st_mode):
            raise ValueError(f"{path} exists and is not a named pipe")
        # Opened for writing too, so the pipe never reads end-of-file between two writers.
        self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="fifo-scanner", daemon=True)

    def start(self) -> "FifoScanner":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._wake_w is None:
            return
        os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout)
        for fd in (self._fd, self._wake_r, self._wake_w):
            os.close(fd)
        self._wake_w = None

    def _run(self) -> None:
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._fd, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = {key.fd for key, _ in selector.select()}
                if self._wake_r in ready:
                    return
                try:
                    chunk = os.read(self._fd, 65536)
                except BlockingIOError:
                    continue
                *lines, buffer = (buffer + chunk).split(b"\n")
                if len(buffer) > MAX_LINE:
                    log.warning("dropping an over-long line from %s", self.path)
                    buffer = b""
                for line in lines:
                    self._deliver(line)

    def _deliver(self, line: bytes) -> None:
        code = line.decode("utf-8", errors="replace").strip("\r\n")
        if not code.strip():
            return
        try:
            self.on_code(code)
        except Exception:
            log.exception("scan callback failed for %r", code)
