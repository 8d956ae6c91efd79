"""The WebSocket under Engine.IO, read and written in the connection's own greenlet.

python-engineio's gevent driver runs each WebSocket through simple-websocket: a second greenlet
reads the socket, wsproto parses each frame into event objects, and an Event wakes the
connection's greenlet for every message. It also accepts the permessage-deflate every browser
offers, so each scan was inflated and its answer deflated: with clients offering it, as the
handhelds' Chrome does, a scan cost the server 0.61-0.67 ms of CPU, and 0.36-0.54 ms here
(tests/bench/bench_scans.py on the 2-core machine). :class:`FloorWebSocket` is the same
interface (``wait``, ``send``, ``close``) over the socket itself: RFC 6455 frames read where
Engine.IO waits for them, each answer written with one ``send``.

What it takes: text and binary messages, fragmented or not, masked as a client must mask them;
pings (answered) and pongs; the close handshake. What it refuses, closing with the RFC's code:
an unmasked or reserved-bit frame (1002), text that is not UTF-8 (1007), a message larger than
Engine.IO's ``max_http_buffer_size`` (1009). It offers no extension (no permessage-deflate:
on a LAN, compressing every scan costs more than it saves).
"""
from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RECEIVE_BYTES = 16384

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
PROTOCOL_ERROR, INVALID_DATA, TOO_BIG, NORMAL = 1002, 1007, 1009, 1000


class Closed(Exception):
    """The connection ended: closed by either side, or broken."""


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode("ascii")


def _valid_key(key: str) -> bool:
    """A Sec-WebSocket-Key as RFC 6455 has it: 16 bytes in base64."""
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (ValueError, UnicodeEncodeError):
        return False


def _sendable(code: int) -> bool:
    """A close code an endpoint may send (RFC 6455 section 7.4): answering a close, the server
    echoes the client's code when it is one of these."""
    return (1000 <= code <= 1014 and code not in (1004, 1005, 1006)) or 3000 <= code < 5000


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked frame (a server's), final."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


def unmask(payload, mask: bytes) -> bytes:
    n = len(payload)
    if not n:
        return b""
    key = (mask * ((n + 3) // 4))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


def _socket_of(environ):
    """The connection's socket and how the server hands it over (as simple-websocket finds it);
    under gevent's server also the connection's reader, closed when the WebSocket ends.

    The socket is the server's own, not a duplicate: one file handle a WebSocket, not two. The
    WebSocket lives inside its request, and the server closes the socket once it is over."""
    if "gunicorn.socket" in environ:
        return environ["gunicorn.socket"], "gunicorn", None
    if environ.get("SERVER_SOFTWARE", "").startswith("gevent"):
        reader = environ["wsgi.input"]
        if not hasattr(reader, "raw") and hasattr(reader, "rfile"):
            reader = reader.rfile
        if hasattr(reader, "raw"):
            return reader.raw._sock, "gevent", reader
    return None, None, None


class FloorWebSocket:
    """python-engineio's ``websocket`` class for the gevent mode (see the module's text)."""

    def __init__(self, handler, server):
        self.app = handler
        self.limit = getattr(server, "max_http_buffer_size", None) or 1_000_000
        self._sock = None
        self._reader = None
        self.mode = None
        self.connected = False
        self._buffer = bytearray()
        self._write_lock = threading.Lock()  # gevent's, where the server runs: Engine.IO's writer and our pongs

    # --- the handshake ------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "")
        upgrade = environ.get("HTTP_UPGRADE", "").lower()
        connection = environ.get("HTTP_CONNECTION", "").lower()
        if (environ.get("REQUEST_METHOD") != "GET" or upgrade != "websocket" or "upgrade" not in connection
                or not _valid_key(key)):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"a WebSocket upgrade was expected"]
        if environ.get("HTTP_SEC_WEBSOCKET_VERSION", "") != "13":
            start_response("426 Upgrade Required", [("Sec-WebSocket-Version", "13"), ("Content-Type", "text/plain")])
            return [b"WebSocket version 13 is the one spoken here"]
        sock, mode, reader = _socket_of(environ)
        if sock is None:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"this server does not hand its connections over"]
        self._sock, self.mode, self._reader = sock, mode, reader
        if mode == "gevent":
            # no timeout on its reads and writes (`wavefloor serve` gives each request one): a
            # silent peer is Engine.IO's to end (its pings), and a read with a timeout starts a
            # timer on every scan
            sock.settimeout(None)
        # open before the answer goes out: a close() from then on sends its close frame
        self.connected = True
        try:
            self._sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Accept: " + accept_key(key).encode("ascii") + b"\r\n\r\n")
            result = self.app(self)
        finally:
            with self._write_lock:  # a frame on its way out (a close() from elsewhere) goes out whole
                self._shut()
            if reader is not None:
                # nothing more is read from the connection as HTTP (the peer's late frames, its
                # close frame, were taken for a request and answered 400 on a closed socket):
                # gevent's server ends a connection whose reader is closed
                reader.close()
        if mode == "gunicorn":  # as python-engineio does: the worker then drops the connection
            raise StopIteration()
        return result

    # --- what Engine.IO calls -----------------------------------------------------------------

    def wait(self):
        """The next message (``str`` for text, ``bytes`` for binary), or None once closed."""
        try:
            return self._message()
        except (Closed, OSError):
            self._shut()
            return None

    def send(self, message) -> None:
        if not self.connected:
            raise OSError("the WebSocket is closed")
        if isinstance(message, str):
            self._sendall(frame(TEXT, message.encode("utf-8")))
        else:
            self._sendall(frame(BINARY, bytes(message)))

    def close(self) -> None:
        if self.connected:
            self._close(NORMAL)
        self._shut()

    # --- reading frames -----------------------------------------------------------------------

    def _read(self, n: int) -> bytes:
        """Exactly ``n`` bytes of the stream."""
        buffer = self._buffer
        while len(buffer) < n:
            chunk = self._sock.recv(RECEIVE_BYTES)
            if not chunk:
                raise Closed()
            buffer += chunk
        data = bytes(buffer[:n])
        del buffer[:n]
        return data

    def _frame(self) -> tuple[bool, int, bytes]:
        head = self._read(2)
        first, second = head[0], head[1]
        fin, opcode, length = first & 0x80, first & 0x0F, second & 0x7F
        if first & 0x70 or not second & 0x80:  # an extension's bit, or a client frame not masked
            self._fail(PROTOCOL_ERROR)
        if opcode & 0x8 and (not fin or length > 125):
            self._fail(PROTOCOL_ERROR)
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        if length > self.limit:
            self._fail(TOO_BIG)
        mask = self._read(4)
        return bool(fin), opcode, unmask(self._read(length), mask)

    def _message(self):
        parts, kind, size = [], None, 0
        while True:
            if not self.connected:  # close() has begun: it shuts the socket once its frame is out
                return None
            fin, opcode, payload = self._frame()
            if opcode == PING:
                self._sendall(frame(PONG, payload))
                continue
            if opcode == PONG:
                continue
            if opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else NORMAL
                self._close(code if _sendable(code) else PROTOCOL_ERROR)
                raise Closed()
            if opcode == CONTINUATION:
                if kind is None:
                    self._fail(PROTOCOL_ERROR)
            elif opcode in (TEXT, BINARY):
                if kind is not None:  # a new message before the last one's final frame
                    self._fail(PROTOCOL_ERROR)
                kind = opcode
            else:
                self._fail(PROTOCOL_ERROR)
            size += len(payload)
            if size > self.limit:
                self._fail(TOO_BIG)
            parts.append(payload)
            if fin:
                data = parts[0] if len(parts) == 1 else b"".join(parts)
                if kind == BINARY:
                    return data
                try:
                    return data.decode("utf-8")
                except UnicodeDecodeError:
                    self._fail(INVALID_DATA)

    # --- writing and closing ------------------------------------------------------------------

    def _sendall(self, data: bytes) -> None:
        """One ``send``, which takes a whole answer unless the peer's window is full: gevent's
        ``sendall`` first asks the socket for its buffer size, a system call on every answer."""
        with self._write_lock:
            sent = self._sock.send(data)
            if sent < len(data):
                self._sock.sendall(memoryview(data)[sent:])

    def _close(self, code: int) -> None:
        """Send a close frame with ``code`` (once); the connection is closed from then on."""
        with self._write_lock:  # closed and the frame sent in one step: see __call__'s last lines
            if not self.connected:
                return
            self.connected = False
            try:
                self._sock.sendall(frame(CLOSE, struct.pack("!H", code)))
            except OSError:
                pass

    def _fail(self, code: int):
        self._close(code)
        raise Closed()

    def _shut(self) -> None:
        """End the connection for both sides: a greenlet reading it wakes, and so does the peer.
        The server closes the socket itself once the request is over."""
        self.connected = False
        sock = self._sock
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
