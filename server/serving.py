"""The WSGI server of `wavefloor serve`: gevent's, with the limits a warehouse LAN needs (body
size, connections from one address, request heads and idle connections timed out; docs/deploy.md,
"Request and connection limits"). gunicorn's processes (deploy/) sit behind nginx, which holds
those limits there."""
from __future__ import annotations

import time


LINGER_S = 2.0  # how long the rest of a refused body is read and dropped, so the client reads the 413


def floor_server(app, address, settings):
    """gevent's WSGI server with the limits a LAN needs (docs/deploy.md, "Request and connection
    limits"): at most MAX_CONNECTIONS_PER_ADDRESS connections from one address, the excess closed
    as it is accepted, before anything is read; the rest served by :func:`_floor_handler`."""
    import logging
    from collections import Counter

    from gevent.pywsgi import WSGIServer

    log = logging.getLogger("server.cli")
    most = settings["MAX_CONNECTIONS_PER_ADDRESS"]

    class FloorServer(WSGIServer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.open_from = Counter()  # connections open, by the address they come from
            self.told = {}  # address -> when its refusals were last logged

        def do_handle(self, sock, address):
            host = address[0] if isinstance(address, tuple) else ""
            if self.open_from[host] >= most:
                sock.close()
                self._tell(host)
                return
            self.open_from[host] += 1
            super().do_handle(sock, address)

        def do_close(self, sock, address):  # the connection has ended (or its greenlet never started)
            host = address[0] if isinstance(address, tuple) else ""
            self.open_from[host] -= 1
            if self.open_from[host] <= 0:
                del self.open_from[host]
            super().do_close(sock, address)

        def _tell(self, host):
            now = time.monotonic()
            if now - self.told.get(host, -60.0) >= 60.0:  # once a minute an address, not once a connection
                self.told[host] = now
                log.warning("%s holds %d connections, the most one address may (MAX_CONNECTIONS_PER_ADDRESS); "
                            "its further connections are closed", host, most)

    return FloorServer(address, app, log=None, handler_class=_floor_handler(settings))


def _floor_handler(settings):
    """gevent's WSGI handler, for each connection:

    - Nagle's algorithm off: a scan's answer often follows an event on the same socket
      (task.changed, then the ack), and Nagle held the second small write until the device's
      delayed ACK came back, 40 ms later;
    - a request's line and headers must arrive within HEAD_TIMEOUT_S (on a new connection, the
      first byte too), a kept-alive connection may wait IDLE_TIMEOUT_S for its next request, and
      no read or write of a request waits longer than that; then the connection is closed;
    - a body over MAX_BODY_MB is answered 413 (JSON naming the limit) without being read when
      its Content-Length says so, and once it passes the limit when it comes in chunks; a chunked
      body within the limit reaches the application with its length, as any other;
    - a connection whose client went away is closed without a word in the log."""
    import socket
    from tempfile import SpooledTemporaryFile

    from gevent import Timeout
    from gevent.pywsgi import Input, WSGIHandler

    head_s, idle_s = settings["HEAD_TIMEOUT_S"], settings["IDLE_TIMEOUT_S"]
    body_limit = settings["MAX_BODY_MB"] * 1024 * 1024
    too_large = _too_large(body_limit)

    class HeadTimedOut(TimeoutError):
        """The request's head did not arrive in time (an OSError, as the server expects)."""

    class FloorHandler(WSGIHandler):
        served = 0  # requests read on this connection
        head_timer = None

        def __init__(self, sock, address, server, rfile=None):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # not TCP (a Unix socket behind the proxy)
                pass
            super().__init__(sock, address, server, rfile)

        def handle(self):
            try:
                super().handle()
            except OSError:  # the client left while it was answered (an error page to a closed socket)
                pass

        def handle_one_request(self):
            if self.rfile.closed:  # the WebSocket it carried has ended (server/realtime/websocket.py)
                return None
            self.socket.settimeout(idle_s if self.served else head_s)
            try:
                if not self.rfile.peek(1):  # the client closed the connection
                    return None
            except OSError:  # no request in time, or the connection broke
                return None
            self.served += 1
            self.socket.settimeout(idle_s)
            self.head_timer = Timeout.start_new(head_s, HeadTimedOut())
            try:
                return super().handle_one_request()
            finally:
                self.head_timer.close()

        def get_environ(self):
            self.head_timer.close()  # the head is in
            return super().get_environ()

        def _handle_client_error(self, ex):
            if isinstance(ex, OSError):  # the head timed out, or the connection broke while it was read
                return None
            return super()._handle_client_error(ex)

        def handle_one_response(self):
            if self.content_length is not None and self.content_length > body_limit:
                return self._refuse()
            if self.wsgi_input.chunked_input and not self._take_chunked_body():
                return self._refuse()
            return super().handle_one_response()

        def _take_chunked_body(self) -> bool:
            """Read a chunked body here, up to the limit (False past it), and hand it to the
            application with its length; a large one waits in a temporary file, not in memory."""
            body, size = SpooledTemporaryFile(max_size=1024 * 1024), 0
            while True:
                chunk = self.wsgi_input.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > body_limit:
                    body.close()
                    return False
                body.write(chunk)
            body.seek(0)
            self.wsgi_input = Input(body, size)
            self.environ.update({"wsgi.input": self.wsgi_input, "CONTENT_LENGTH": str(size)})
            self.environ.pop("HTTP_TRANSFER_ENCODING", None)
            return True

        def _refuse(self):
            """Answer 413 and close: the body's unread rest must not be taken for a request."""
            self.close_connection = True
            self.wsgi_input = Input(self.rfile, 0)  # nothing to read, nor to discard after the answer
            self.application = too_large
            super().handle_one_response()
            try:  # read and drop what the client still sends for a moment, so it gets the answer, not a reset
                self.socket.shutdown(socket.SHUT_WR)
                self.socket.settimeout(LINGER_S)
                deadline = time.monotonic() + LINGER_S
                while time.monotonic() < deadline and self.socket.recv(65536):
                    pass
            except OSError:
                pass

    return FloorHandler


def _too_large(body_limit: int):
    """The WSGI answer to a body over ``body_limit`` bytes: 413, JSON in the client's language."""
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    from server.jsontext import dumps
    from server.messages import text

    def answer(environ, start_response):
        lang = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept).best_match(["zh", "en"])
        body = dumps({"code": "request_too_large", "message": text("request_too_large", lang or "zh"),
                      "detail": {"limit_bytes": body_limit, "limit_mb": body_limit // (1024 * 1024)}},
                     ensure_ascii=False).encode("utf-8")
        start_response("413 Request Entity Too Large", [("Content-Type", "application/json"),
                                                        ("Content-Length", str(len(body))), ("Connection", "close")])
        return [body]

    return answer
