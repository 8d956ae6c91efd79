"""How ZPL reaches a printer, chosen by URL scheme.

- ``tcp://host:9100``: raw socket to the printer (port 9100 by default), with connect, send
  and read timeouts; ``query`` reads STX/ETX framed replies (``~HS`` sends three).
- ``cups://QueueName``: a CUPS raw queue through the ``zebra`` package (UTF-8, not its cp437
  default), with lpr's exit status checked: ``zebra`` itself ignores it.
- ``file:///var/spool/wavefloor``: each job written to a numbered file (demos, archives).

Third parties register more schemes with :func:`register_transport` the same way, with a
check of their URLs if they like. :func:`check_url` refuses a URL its transport cannot use,
naming what is wrong, and keeps ``file://`` printers inside a spool folder when given one.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from urllib.parse import SplitResult, unquote, urlsplit

from printers.exceptions import (
    BadPrinterUrl,
    OutsideSpool,
    PrinterNoAnswer,
    PrinterOffline,
    PrinterQueueMissing,
    PrinterRejected,
    PrinterTimeout,
    PrinterUnavailable,
    StatusUnsupported,
    UnknownTransport,
)

STX, ETX = b"\x02", b"\x03"

TRANSPORTS: dict[str, Callable[..., "Transport"]] = {}
URL_CHECKS: dict[str, Callable[[str, SplitResult, "str | None"], None]] = {}


def register_transport(scheme: str, factory: Callable[..., "Transport"],
                       check: Callable[[str, SplitResult, "str | None"], None] | None = None) -> None:
    """``factory(url, **options)`` returns an object with ``send``, ``query`` and ``close``;
    ``check(url, parts, spool_dir)`` raises :class:`BadPrinterUrl` for a URL it cannot use."""
    TRANSPORTS[scheme] = factory
    if check is not None:
        URL_CHECKS[scheme] = check


def check_url(url: str, spool_dir: str | None = None) -> None:
    """Raise :class:`UnknownTransport` or :class:`BadPrinterUrl` (:class:`OutsideSpool`) for a
    printer URL that cannot be used as written; with ``spool_dir``, a ``file://`` URL must name a
    folder inside it. Touches nothing: no connection, no folder made."""
    if not url or any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        raise BadPrinterUrl(f"printer URL {url!r} is empty or holds control characters")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise BadPrinterUrl(f"printer URL {url!r}: {error}") from None
    if parts.scheme not in TRANSPORTS:
        raise UnknownTransport(
            f"no printer transport for {url!r}; known schemes: {', '.join(sorted(TRANSPORTS))}"
        )
    check = URL_CHECKS.get(parts.scheme)
    if check is not None:
        check(url, parts, spool_dir)


def open_transport(url: str, **options) -> "Transport":
    check_url(url)
    return TRANSPORTS[urlsplit(url).scheme](url, **options)


_HOST = re.compile(r"[A-Za-z0-9._:-]+")
_CUPS_QUEUE = re.compile(r"[^\s/#\\'\"\x00-\x1f\x7f]{1,127}")  # CUPS: printable, no space, '/' or '#'


def _check_tcp(url: str, parts: SplitResult, spool_dir: str | None) -> None:
    if parts.username is not None or parts.password is not None:
        raise BadPrinterUrl(f"{url!r}: a tcp:// printer URL carries no user or password")
    if not parts.hostname or not _HOST.fullmatch(parts.hostname):
        raise BadPrinterUrl(f"{url!r}: needs the printer's host name or address, e.g. tcp://10.0.0.5:9100")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise BadPrinterUrl(f"{url!r}: the port must be a number from 1 to 65535 (a printer listens on 9100)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise BadPrinterUrl(f"{url!r}: a tcp:// printer URL is a host and a port only, e.g. tcp://10.0.0.5:9100")


def _check_cups(url: str, parts: SplitResult, spool_dir: str | None) -> None:
    queue = unquote(parts.netloc + parts.path).strip("/")
    if parts.query or parts.fragment or not queue or not _CUPS_QUEUE.fullmatch(queue):
        raise BadPrinterUrl(f"{url!r}: needs the name of a CUPS queue (no spaces, '/' or '#'), "
                            "e.g. cups://Zebra_ZD421")


def _check_file(url: str, parts: SplitResult, spool_dir: str | None) -> None:
    folder = unquote(parts.path)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment or not folder.startswith("/") \
            or "\x00" in folder:
        raise BadPrinterUrl(f"{url!r}: a file:// printer URL names a folder of this server, "
                            "e.g. file:///var/lib/wavefloor/spool/PK01")
    if spool_dir is None:
        return
    spool = os.path.realpath(spool_dir)
    if os.path.commonpath([os.path.realpath(folder), spool]) != spool:
        raise OutsideSpool(f"{url!r}: a file:// printer writes only inside the spool folder {spool}")


def _as_bytes(zpl: str | bytes) -> bytes:
    return zpl if isinstance(zpl, bytes) else zpl.encode("utf-8")


class Transport:
    url = ""

    def send(self, zpl: str | bytes) -> None:
        raise NotImplementedError

    def query(self, command: str, frames: int = 1, timeout: float | None = None) -> list[str]:
        raise StatusUnsupported(f"{self.url} is one-way; it cannot report printer status")

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TcpTransport(Transport):
    """Raw TCP (port 9100) with one kept-open connection, reopened once after a reset."""

    def __init__(self, host: str, port: int = 9100, connect_timeout: float = 3.0,
                 send_timeout: float = 10.0, read_timeout: float = 2.0):
        self.host, self.port = host, port
        self.url = f"tcp://{host}:{port}"
        self.connect_timeout = connect_timeout
        self.send_timeout = send_timeout
        self.read_timeout = read_timeout
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options) -> "TcpTransport":
        parts = urlsplit(url)
        if not parts.hostname:
            raise UnknownTransport(f"printer URL {url!r} has no host")
        return cls(parts.hostname, parts.port or 9100, **options)

    def _connect(self) -> socket.socket:
        if self._sock is None:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
            except socket.timeout as error:
                raise PrinterOffline(f"{self.url}: no connection within {self.connect_timeout}s") from error
            except OSError as error:
                raise PrinterOffline(f"{self.url}: {error.strerror or error}") from error
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
        return self._sock

    def _drop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _sendall(self, payload: bytes) -> None:
        for attempt in (1, 2):
            sock = self._connect()
            sock.settimeout(self.send_timeout)
            try:
                sock.sendall(payload)
                return
            except socket.timeout as error:
                self._drop()
                raise PrinterTimeout(f"{self.url}: send did not finish within {self.send_timeout}s") from error
            except OSError as error:
                # a kept connection the printer closed while idle: reopen once
                self._drop()
                if attempt == 2:
                    raise PrinterOffline(f"{self.url}: {error.strerror or error}") from error

    def send(self, zpl: str | bytes) -> None:
        with self._lock:
            self._sendall(_as_bytes(zpl))

    def _discard_pending(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        try:
            while sock.recv(65536):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._drop()
        finally:
            if self._sock is not None:
                sock.setblocking(True)

    def query(self, command: str, frames: int = 1, timeout: float | None = None) -> list[str]:
        """Send a status command and return ``frames`` STX/ETX framed strings.

        Raises :class:`PrinterNoAnswer` when they do not all arrive within the read timeout.
        """
        timeout = self.read_timeout if timeout is None else timeout
        with self._lock:
            if self._sock is not None:
                self._discard_pending(self._sock)
            self._sendall(_as_bytes(command))
            sock = self._sock
            deadline = time.monotonic() + timeout
            buffer = b""
            while buffer.count(ETX) < frames:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PrinterNoAnswer(
                        f"{self.url}: no answer to {command} within {timeout}s ({buffer.count(ETX)}/{frames} strings)"
                    )
                sock.settimeout(remaining)
                try:
                    chunk = sock.recv(4096)
                except socket.timeout:
                    continue
                except OSError as error:
                    self._drop()
                    raise PrinterOffline(f"{self.url}: {error.strerror or error}") from error
                if not chunk:
                    self._drop()
                    raise PrinterNoAnswer(f"{self.url}: connection closed before answering {command}")
                buffer += chunk
        replies = []
        for piece in buffer.split(ETX)[:frames]:
            start = piece.find(STX)
            replies.append(piece[start + 1 :].decode("utf-8", "replace") if start >= 0 else "")
        return replies

    def close(self) -> None:
        with self._lock:
            self._drop()


class FileTransport(Transport):
    """Spool directory: each job becomes ``job-<time>-<pid>-<n>.zpl``, written then renamed.
    The folder is made at the first send, not when the transport is opened (a status poll)."""

    _counter = itertools.count(1)

    def __init__(self, directory: str):
        self.directory = directory
        self.url = f"file://{directory}"

    @classmethod
    def from_url(cls, url: str, **options) -> "FileTransport":
        parts = urlsplit(url)
        return cls(unquote(parts.path) or ".", **options)

    def send(self, zpl: str | bytes) -> str:
        name = f"job-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{next(self._counter):06d}.zpl"
        final = os.path.join(self.directory, name)
        partial = final + ".part"
        try:
            os.makedirs(self.directory, exist_ok=True)
            with open(partial, "wb") as handle:
                handle.write(_as_bytes(zpl))
            os.replace(partial, final)
        except OSError as error:
            raise PrinterRejected(f"{self.url}: {error}") from error
        return final


class CupsTransport(Transport):
    """A CUPS raw queue (``lpr -P queue -o raw``) through the ``zebra`` package."""

    def __init__(self, queue: str, lpr: str = "lpr", timeout: float = 30.0):
        if not queue:
            raise UnknownTransport("cups:// URL needs a queue name, e.g. cups://Zebra_GK420d")
        self.queue = queue
        self.url = f"cups://{queue}"
        self.lpr = lpr
        self.timeout = timeout

    @classmethod
    def from_url(cls, url: str, **options) -> "CupsTransport":
        parts = urlsplit(url)
        return cls(unquote(parts.netloc + parts.path).strip("/"), **options)

    def _zebra(self):
        try:
            import zebra
        except ImportError as error:
            raise PrinterUnavailable("cups:// printing needs the Python package 'zebra'") from error

        transport = self

        class CheckedZebra(zebra.Zebra):
            def _output_unix(self, commands: bytes) -> None:
                transport._lpr(commands)

        return CheckedZebra(self.queue)

    def _lpr(self, payload: bytes) -> None:
        try:
            result = subprocess.run(
                [self.lpr, f"-P{self.queue}", "-oraw"], input=payload,
                capture_output=True, timeout=self.timeout, check=False,
            )
        except FileNotFoundError as error:
            raise PrinterUnavailable(
                f"{self.lpr!r} not found: install the Debian package cups-bsd to print to CUPS queues"
            ) from error
        except subprocess.TimeoutExpired as error:
            raise PrinterTimeout(f"{self.url}: lpr did not finish within {self.timeout}s") from error
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip() or f"exit status {result.returncode}"
            lowered = message.lower()
            if "does not exist" in lowered or "unknown destination" in lowered or "not found" in lowered:
                raise PrinterQueueMissing(f"{self.url}: CUPS has no queue {self.queue!r} ({message})")
            if "scheduler not responding" in lowered or "connection refused" in lowered:
                raise PrinterOffline(f"{self.url}: CUPS is not running ({message})")
            raise PrinterRejected(f"{self.url}: lpr failed: {message}")

    def send(self, zpl: str | bytes) -> None:
        self._zebra().output(zpl, encoding="utf-8")


register_transport("tcp", TcpTransport.from_url, _check_tcp)
register_transport("file", FileTransport.from_url, _check_file)
register_transport("cups", CupsTransport.from_url, _check_cups)
