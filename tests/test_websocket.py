"""The WebSocket under Engine.IO (server.realtime.websocket), frame by frame over a real socket
pair: the handshake, messages of each length encoding, fragments, control frames and every
refusal with its RFC 6455 close code. A Socket.IO client through it is tested in
tests/test_realtime.py, and Chromium through it in the browser tests."""
from __future__ import annotations

import os
import socket
import struct
import threading
from types import SimpleNamespace

import pytest

from server.realtime import websocket as ws_module
from server.realtime.websocket import FloorWebSocket, accept_key


def test_accept_key_is_the_rfc_example():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 section 1.3


def client_frame(opcode: int, payload: bytes, fin: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | rsv | opcode
    if n < 126:
        head = bytes((first, (0x80 if masked else 0) | n))
    elif n < 65536:
        head = struct.pack("!BBH", first, (0x80 if masked else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", first, (0x80 if masked else 0) | 127, n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Peer:
    """The client's end: writes frames, reads the server's."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(5)
        self.buffer = b""

    def read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"closed with {self.buffer!r} read")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def frame(self) -> tuple[int, bytes]:
        first, second = self.read(2)
        assert first & 0x80 and not second & 0x80  # final, and a server's frames are not masked
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self.read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self.read(8))
        return first & 0x0F, self.read(length)

    def closed_with(self) -> int:
        opcode, payload = self.frame()
        assert opcode == 0x8
        return struct.unpack("!H", payload)[0]

    def at_eof(self) -> bool:
        return self.sock.recv(1) == b""


@pytest.fixture
def echo():
    """A FloorWebSocket over one end of a socket pair, serving an echo handler in a thread
    (as Engine.IO's handler waits and sends); yields a function that starts it."""
    started = []

    def start(limit: int = 1_000_000, environ: dict | None = None):
        server_end, client_end = socket.socketpair()
        received = []

        def handler(ws):
            while True:
                message = ws.wait()
                received.append(message)
                if message is None:
                    return []
                ws.send(message)

        ws = FloorWebSocket(handler, SimpleNamespace(max_http_buffer_size=limit))
        env = {"REQUEST_METHOD": "GET", "HTTP_UPGRADE": "websocket", "HTTP_CONNECTION": "keep-alive, Upgrade",
               "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==", "HTTP_SEC_WEBSOCKET_VERSION": "13",
               "gunicorn.socket": server_end}
        env.update(environ or {})
        answer = {}

        def run():
            try:
                answer["body"] = ws(env, lambda status, headers: answer.update(status=status, headers=headers))
            except StopIteration:  # what gunicorn's mode ends with
                answer["body"] = "stopped"

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        started.append((thread, server_end, client_end))
        return SimpleNamespace(peer=Peer(client_end), received=received, answer=answer, thread=thread, ws=ws)

    yield start
    for thread, server_end, client_end in started:
        client_end.close()
        thread.join(5)
        server_end.close()


def handshake(peer: Peer) -> str:
    head = b""
    while b"\r\n\r\n" not in head:
        head += peer.read(1)
    return head.decode()


def test_the_handshake_then_messages_of_every_length_come_back(echo):
    run = echo()
    head = handshake(run.peer)
    assert head.startswith("HTTP/1.1 101 ") and "Upgrade: websocket" in head
    assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert "Sec-WebSocket-Extensions" not in head  # no compression offered back
    for text in ("2", "42/floor,7[\"cmd\",{\"code\":\"库位-A01\"}]", "x" * 125, "y" * 126, "z" * 70_000):
        run.peer.sock.sendall(client_frame(0x1, text.encode()))
        assert run.peer.frame() == (0x1, text.encode())
    run.peer.sock.sendall(client_frame(0x2, b"\x00\xffbinary"))
    assert run.peer.frame() == (0x2, b"\x00\xffbinary")
    assert run.received == ["2", "42/floor,7[\"cmd\",{\"code\":\"库位-A01\"}]", "x" * 125, "y" * 126, "z" * 70_000,
                            b"\x00\xffbinary"]


class CountingSocket:
    """A socket that counts what each ``send`` took; with a timeout, as a server's sockets
    are not blocking, one send takes no more than the socket's buffer holds."""

    def __init__(self, sock):
        self.sock, self.sent = sock, []
        sock.settimeout(10)

    def send(self, data):
        self.sent.append(self.sock.send(data))
        return self.sent[-1]

    def __getattr__(self, name):
        return getattr(self.sock, name)


def test_an_answer_larger_than_the_socket_buffer_goes_out_whole(echo, monkeypatch):
    """One send takes what the socket's buffer holds; the rest follows as the peer reads."""
    counted = []
    real = ws_module.FloorWebSocket.__call__

    def counting(self, environ, start_response):
        counted.append(CountingSocket(environ["gunicorn.socket"]))
        return real(self, dict(environ, **{"gunicorn.socket": counted[-1]}), start_response)

    monkeypatch.setattr(ws_module.FloorWebSocket, "__call__", counting)
    run = echo(limit=5_000_000)
    handshake(run.peer)
    text = "".join(f"{n:07d}" for n in range(500_000))  # 3.5 MB, no two stretches alike
    run.peer.sock.sendall(client_frame(0x1, text.encode()))
    assert run.peer.frame() == (0x1, text.encode())
    (sock,) = counted
    assert 0 < sock.sent[-1] < len(text)  # the first send took part of the answer, sendall the rest


def test_a_message_in_fragments_with_a_ping_between_is_one_message(echo):
    run = echo()
    handshake(run.peer)
    text = "拣货 scan 6900000009999".encode()
    run.peer.sock.sendall(client_frame(0x1, text[:5], fin=False) + client_frame(0x9, b"are you there")
                          + client_frame(0x0, text[5:9], fin=False) + client_frame(0xA, b"unasked pong")
                          + client_frame(0x0, text[9:]))
    assert run.peer.frame() == (0xA, b"are you there")
    assert run.peer.frame() == (0x1, text)
    assert run.received == [text.decode()]


@pytest.mark.parametrize("sent, answered", [(1001, 1001), (4000, 4000), (1005, 1002), (1006, 1002), (999, 1002)])
def test_the_client_closing_is_answered_and_ends_the_handler(echo, sent, answered):
    run = echo()
    handshake(run.peer)
    run.peer.sock.sendall(client_frame(0x8, struct.pack("!H", sent) + b"going away"))
    assert run.peer.closed_with() == answered  # its own code, unless no endpoint may send that one
    run.thread.join(5)
    assert run.received == [None] and run.answer["body"] == "stopped"
    assert run.peer.at_eof()


def test_the_server_closing_sends_a_close_frame_and_wakes_the_waiting_reader(echo):
    run = echo()
    handshake(run.peer)
    run.ws.close()  # Engine.IO's writer does this when the session ends
    assert run.peer.closed_with() == 1000
    run.thread.join(5)
    assert not run.thread.is_alive() and run.received == [None]
    run.ws.close()  # twice changes nothing
    with pytest.raises(OSError):
        run.ws.send("too late")


@pytest.mark.parametrize("frames, code", [
    ([client_frame(0x1, b"hello", masked=False)], 1002),          # a client must mask
    ([client_frame(0x1, b"hello", rsv=0x40)], 1002),             # no extension was agreed
    ([client_frame(0x0, b"orphan")], 1002),                      # a continuation of nothing
    ([client_frame(0x1, b"a", fin=False), client_frame(0x1, b"b")], 1002),  # a new message inside one
    ([client_frame(0x9, b"p", fin=False)], 1002),                # a control frame in fragments
    ([client_frame(0x9, b"p" * 126)], 1002),                     # a control frame too long
    ([client_frame(0x3, b"?")], 1002),                           # an opcode RFC 6455 reserves
    ([client_frame(0x1, b"\xff\xfe not utf-8")], 1007),
    ([client_frame(0x1, b"x" * 101)], 1009),                     # one frame over the limit
    ([client_frame(0x1, b"x" * 60, fin=False), client_frame(0x0, b"x" * 60)], 1009),  # fragments over it
])
def test_a_frame_breaking_the_protocol_closes_with_its_code(echo, frames, code):
    run = echo(limit=100)
    handshake(run.peer)
    run.peer.sock.sendall(b"".join(frames))
    assert run.peer.closed_with() == code
    run.thread.join(5)
    assert run.received == [None]
    assert run.peer.at_eof()


def test_a_peer_that_vanishes_mid_frame_ends_the_handler(echo):
    run = echo()
    handshake(run.peer)
    run.peer.sock.sendall(client_frame(0x1, b"half of this")[:6])
    run.peer.sock.shutdown(socket.SHUT_WR)
    run.thread.join(5)
    assert run.received == [None]


@pytest.mark.parametrize("environ, status", [
    ({"HTTP_SEC_WEBSOCKET_KEY": ""}, "400 Bad Request"),
    ({"HTTP_SEC_WEBSOCKET_KEY": "not base64 at all"}, "400 Bad Request"),
    ({"HTTP_SEC_WEBSOCKET_KEY": "c2hvcnQ="}, "400 Bad Request"),          # 5 bytes, not 16
    ({"HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==\u6731"}, "400 Bad Request"),
    ({"HTTP_UPGRADE": "h2c"}, "400 Bad Request"),
    ({"REQUEST_METHOD": "POST"}, "400 Bad Request"),
    ({"HTTP_SEC_WEBSOCKET_VERSION": "8"}, "426 Upgrade Required"),
])
def test_a_request_that_is_not_a_websocket_upgrade_gets_an_http_answer(echo, environ, status):
    run = echo(environ=environ)
    run.thread.join(5)
    assert run.answer["status"] == status and run.received == []
    assert b"".join(run.answer["body"])
    assert run.ws._sock is None  # the connection was not taken: the server answers on it as usual


def test_a_server_that_does_not_hand_its_socket_over_gets_a_500(echo):
    run = echo(environ={"gunicorn.socket": None, "SERVER_SOFTWARE": "werkzeug"})
    run.thread.join(5)
    assert run.answer["status"].startswith("500") and run.received == []


def test_unmask_matches_the_byte_by_byte_definition():
    mask = b"\x12\x34\x56\x78"
    for n in (0, 1, 3, 4, 5, 125, 1000):
        payload = os.urandom(n)
        assert ws_module.unmask(payload, mask) == bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
