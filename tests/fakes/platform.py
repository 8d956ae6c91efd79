"""A sales platform's gateway on 127.0.0.1, for tests: a real HTTP server in a thread that
checks every request's signature the way the platform does and answers in its shape.

    fake = FakeTop("key", "secret", "session").start()
    ...                     # fake.url is the gateway; fake.calls counts calls by method
    fake.stop(); fake.start()   # the same port again: the internet went away and came back

What can go wrong is asked for, not scripted: ``fail(method, times, kind)`` answers the next
``times`` calls of ``method`` ("*" for any) with ``kind``; ``storm(True)`` answers every call
with the platform's rate-limit error until ``storm(False)``; ``slow_s`` sleeps before each
answer; ``expire_session()`` makes the current session invalid; ``on_call(callback)`` runs
``callback(method, params)`` before a call is answered (to change the store mid-pull).

Kinds: rate_limit, session, refused, html (an HTML page with 200), http500 (a 502 page),
gbk (the answer encoded in GBK), missing_field and wrong_type (the platform subclass breaks
the field its client relies on), drop (the connection is closed without an answer).
"""
from __future__ import annotations

import bisect
import json
import socket
import sys
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

KINDS = ("rate_limit", "session", "refused", "html", "http500", "gbk", "missing_field", "wrong_type", "drop")
HTML_PAGE = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
             "<body><h1>系统繁忙，请稍后再试</h1></body></html>")


class Answer:
    """What the handler sends: a JSON body, or raw bytes with a status and content type."""

    def __init__(self, body: dict | None = None, *, raw: bytes | None = None, status: int = 200,
                 content_type: str = "application/json;charset=UTF-8", drop: bool = False):
        self.body, self.raw, self.status, self.content_type, self.drop = body, raw, status, content_type, drop

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


class SortedStore:
    """Records by id, and their ids in order of (modified text, id) for window searches."""

    def __init__(self, field: str = "modified"):
        self.field = field
        self.records: dict[str, dict] = {}
        self._order: list[tuple[str, str]] = []

    def put(self, key: str, record: dict) -> None:
        old = self.records.get(key)
        if old is not None:
            del self._order[bisect.bisect_left(self._order, (old[self.field], key))]
        self.records[key] = record
        bisect.insort(self._order, (record[self.field], key))

    def window(self, start, end, page_no: int, page_size: int) -> tuple[int, list[dict]]:
        """(records in [start, end], both ends included; the page's records in modified order)"""
        low = bisect.bisect_left(self._order, (start, ""))
        high = bisect.bisect_right(self._order, (end, "\uffff"))
        first = low + (page_no - 1) * page_size
        keys = self._order[first:min(first + page_size, high)]
        return high - low, [self.records[key] for _, key in keys]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that gave up waiting (a timeout test) is expected, not a fault of the fake
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            super().handle_error(request, client_address)


class FakePlatform:
    """The platform-neutral part; subclasses read a request (``read_call``), check its sign,
    answer their methods (``handlers``) and say how errors look (``error_body``)."""

    name = "platform"

    def __init__(self, app_key: str, secret: str, session: str):
        self.app_key, self.secret, self.session = app_key, secret, session
        self.calls: Counter = Counter()
        self.last_params: dict[str, dict] = {}
        self.handlers: dict[str, Callable[[dict], dict]] = {}
        self.slow_s = 0.0
        self.storm_wait_s = 1
        self.lock = threading.RLock()
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._failures: dict[str, deque] = {}
        self._storm = False
        self._hooks: list[Callable[[str, dict], None]] = []
        self._sockets: set = set()

    # -- life ----------------------------------------------------------------------------
    def start(self):
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            platform = fake

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self.lock:
            open_sockets, self._sockets = self._sockets, set()
        for sock in open_sockets:  # keep-alive connections go down with the "internet"
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    path = "/"

    # -- trouble -------------------------------------------------------------------------
    def fail(self, method: str, times: int, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown failure kind {kind!r}: one of {KINDS}")
        with self.lock:
            self._failures.setdefault(method, deque()).extend([kind] * times)

    def storm(self, on: bool = True, wait_s: int = 1) -> None:
        """Every call answers the platform's rate-limit error while ``on``."""
        self._storm, self.storm_wait_s = on, wait_s

    def expire_session(self) -> None:
        self.session = f"expired-{self.session}"

    def on_call(self, callback: Callable[[str, dict], None]) -> Callable[[str, dict], None]:
        self._hooks.append(callback)
        return callback

    def off_call(self, callback: Callable[[str, dict], None]) -> None:
        self._hooks.remove(callback)

    def _failure_for(self, method: str) -> str | None:
        if self._storm:
            return "rate_limit"
        with self.lock:
            for key in (method, "*"):
                queue = self._failures.get(key)
                if queue:
                    return queue.popleft()
        return None

    # -- answering -----------------------------------------------------------------------
    def answer(self, path: str, query: dict, body: bytes, content_type: str) -> Answer:
        try:
            method, params, credentials = self.read_call(path, query, body, content_type)
        except ValueError as error:
            return Answer(self.error_body("bad_request", "", str(error)))
        with self.lock:
            self.calls[method] += 1
            self.last_params[method] = params
        for hook in list(self._hooks):
            hook(method, params)
        if self.slow_s:
            time.sleep(self.slow_s)
        if not self.sign_ok(credentials):
            return Answer(self.error_body("sign", method, "invalid signature"))
        if credentials.get("app_key") != self.app_key:
            return Answer(self.error_body("app_key", method, "invalid app key"))
        kind = self._failure_for(method)
        if kind in ("rate_limit", "session", "refused"):
            return Answer(self.error_body(kind, method, ""))
        if kind == "html":
            return Answer(raw=HTML_PAGE.encode("utf-8"), content_type="text/html;charset=UTF-8")
        if kind == "http500":
            return Answer(raw=HTML_PAGE.encode("utf-8"), status=502, content_type="text/html")
        if kind == "drop":
            return Answer(drop=True)
        if credentials.get("session") != self.session:
            return Answer(self.error_body("session", method, ""))
        handler = self.handlers.get(method)
        if handler is None:
            return Answer(self.error_body("no_method", method, f"unknown method {method}"))
        with self.lock:
            body_out = handler(params)
        if kind in ("missing_field", "wrong_type"):
            body_out = self.break_answer(method, json.loads(json.dumps(body_out)), kind)
        if kind == "gbk":
            text = json.dumps(body_out, ensure_ascii=False)
            if text.isascii():
                text = text[:-1] + ', "note": "平台繁忙"}'
            return Answer(raw=text.encode("gbk"))
        return Answer(body_out)

    # -- what a subclass says ------------------------------------------------------------
    def read_call(self, path: str, query: dict, body: bytes, content_type: str) -> tuple[str, dict, dict]:
        """(method, the method's params, {"app_key", "session", ...} for the checks)."""
        raise NotImplementedError

    def sign_ok(self, credentials: dict) -> bool:
        raise NotImplementedError

    def error_body(self, kind: str, method: str, text: str) -> dict:
        raise NotImplementedError

    def break_answer(self, method: str, body: dict, kind: str) -> dict:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    platform: FakePlatform

    def setup(self):
        super().setup()
        with self.platform.lock:
            self.platform._sockets.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.platform.lock:
                self.platform._sockets.discard(self.connection)

    def do_POST(self):
        self._serve()

    def do_GET(self):
        self._serve()

    def _serve(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.platform.answer(parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), body,
                                      self.headers.get("Content-Type", ""))
        if answer.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = answer.encoded()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # quiet: the tests read calls, not logs
        pass
