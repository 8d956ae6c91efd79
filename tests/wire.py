"""A TCP relay that counts round trips on the wire (tests of the PostgreSQL scan path).

Put it between the process and PostgreSQL (``Relay(5432)``, then a database URL on
``relay.port``). It counts the client's turns: each time the client sends after the server has
finished answering (its ReadyForQuery, the message that ends each exchange) is one round trip,
however many statements or protocol messages that send holds, so a pipeline counts once and a
BEGIN sent on its own counts once. A pipeline's error is answered at once, before its Sync: the
rest of the pipeline, still on its way then, is not a turn of its own, since the client did not
wait for that answer to send it.
"""
from __future__ import annotations

import socket
import threading


READY_FOR_QUERY = b"Z\x00\x00\x00\x05"  # type and length; then the transaction's state (I, T or E)


class Relay:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.turns = 0
        self.sent: list[bytes] = []  # the first bytes of each turn
        self._answered = True  # the server's last bytes ended an exchange (or nothing was sent yet)
        self._tail = b""  # the server's last bytes, for a ReadyForQuery split across reads
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, "client"), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, "server"), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, side: str) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                with self._lock:
                    if side == "server":
                        self._tail = (self._tail + data)[-6:]
                        self._answered = self._tail[:5] == READY_FOR_QUERY
                    else:
                        if self._answered:
                            self.turns += 1
                            self.sent.append(data[:60])
                        self._answered = False
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def count(self) -> "Counting":
        """``with relay.count() as counted: ...``; then ``counted.turns``."""
        return Counting(self)

    def close(self) -> None:
        self._stopped = True
        self._listener.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass


class Counting:
    def __init__(self, relay: Relay):
        self.relay = relay
        self.turns = 0

    def __enter__(self) -> "Counting":
        self._start = self.relay.turns
        return self

    def __exit__(self, *exc) -> None:
        self.turns = self.relay.turns - self._start
