"""`wavefloor serve` under what a LAN can send it: bodies larger than the site takes, connections
held open half-sent or idle, one address opening many, devices coming and going; and changes
made by processes that serve no devices (the command line) reaching the devices.

Every test runs real server processes and talks to them over real sockets on 127.0.0.1 (a
second client comes from 127.0.0.2, another address of the loopback)."""
from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import threading
import time

import pytest
import requests
import socketio

from server import events
from server.config import SETTINGS
from server.db import write_transaction
from server.models import PickTask
from server.services import outbox
from server.services.stock import inventory
from server.services.waves import planning as waves
from tests.conftest import ROOT, ServerProcess
from tests.test_cli import wavefloor
from tests.test_faults import REDIS_SERVER, OwnRedis, wait_until
from tests.test_realtime import Device, pin_login
from tests.test_waves import floor, place, spread_orders  # noqa: F401  (floor is a fixture)

MB = 1024 * 1024


@contextlib.contextmanager
def serving(db_url, tmp_path, name="server", **settings):
    """A `wavefloor serve` process with these settings (WAVEFLOOR_<NAME>), stopped at the end."""
    server = ServerProcess(db_url, tmp_path / name, {f"WAVEFLOOR_{k}": str(v) for k, v in settings.items()})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def connect(server, data=b"", source="127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))
    if data:
        sock.sendall(data)
    return sock


def closed_by_server(sock, wait_s: float) -> bool:
    """Whether the server ends the connection within ``wait_s`` (it sends nothing before)."""
    sock.settimeout(wait_s)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def response(sock) -> tuple[int, dict, bytes]:
    """One HTTP response read from ``sock``: status, headers (lower-case names), body."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a whole head: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        assert chunk, "closed before the whole body"
        body += chunk
    return int(status_line.split()[1]), headers, body


def connection_handles(pid: int, port: int) -> int:
    """File handles of process ``pid`` on connections to its ``port`` (the listening one aside)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            next(fh)
            for line in fh:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] != "0A":  # 0A: listening
                    inodes.add(fields[9])
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed meanwhile
            continue
        count += link.startswith("socket:[") and link[8:-1] in inodes
    return count


# --- bodies --------------------------------------------------------------------------------------

def test_the_body_limit_matches_the_nginx_site():
    (limit,) = [s.default for s in SETTINGS if s.name == "MAX_BODY_MB"]
    site = (ROOT / "deploy" / "nginx" / "wavefloor.conf").read_text()
    assert f"client_max_body_size {limit}m;" in site


def test_a_body_over_the_limit_is_refused_by_its_length_before_it_is_read(db, db_url, tmp_path, people):
    with serving(db_url, tmp_path, MAX_BODY_MB=1) as server:
        # 300 MB announced, none of it sent: the answer comes without the server waiting for it
        sock = connect(server, b"POST /api/v1/channels/TM-1/orders HTTP/1.1\r\nHost: wavefloor.lan\r\n"
                               b"Content-Type: application/json\r\nAccept-Language: en\r\n"
                               b"Content-Length: 314572800\r\n\r\n")
        status, headers, body = response(sock)
        assert status == 413 and headers["content-type"] == "application/json"
        assert json.loads(body) == {"code": "request_too_large",
                                    "message": "The request is larger than the server accepts.",
                                    "detail": {"limit_bytes": MB, "limit_mb": 1}}
        assert headers["connection"] == "close" and closed_by_server(sock, 10)
        sock.close()
        # a client that sends its whole body at once reads the answer too, in Chinese by default
        refused = requests.post(f"{server.url}/api/v1/auth/login", data=b"x" * (2 * MB),
                                headers={"Content-Type": "application/json"}, timeout=10)
        assert refused.status_code == 413 and refused.json()["message"] == "请求内容过大，超出服务器允许的大小。"
        # within the limit, nothing changes
        answer = requests.post(f"{server.url}/api/v1/auth/login", json={"user": "u-office", "password": "secret-pass"},
                               timeout=10)
        assert answer.status_code == 200 and answer.json()["token"]


def test_a_chunked_body_is_cut_at_the_limit_and_one_within_it_is_served(db, db_url, tmp_path, people):
    head = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: wavefloor.lan\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    with serving(db_url, tmp_path, MAX_BODY_MB=1) as server:
        sock = connect(server, head)

        def send_chunks():  # 4 MB, stopped by the server's end
            try:
                for _ in range(64):
                    sock.sendall(b"10000\r\n" + b" " * 65536 + b"\r\n")
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass
        sender = threading.Thread(target=send_chunks, daemon=True)
        sender.start()
        status, _, body = response(sock)
        assert status == 413 and json.loads(body)["detail"]["limit_bytes"] == MB
        assert closed_by_server(sock, 10)
        sender.join(10)
        sock.close()

        login = json.dumps({"user": "u-office", "password": "secret-pass"}).encode()
        sock = connect(server, head + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, login[:10], len(login) - 10,
                                                                          login[10:]))
        status, _, body = response(sock)
        assert status == 200 and json.loads(body)["token"]
        sock.close()


# --- connections ---------------------------------------------------------------------------------

def test_connections_over_the_cap_of_one_address_are_closed_and_another_address_is_served(
        db, db_url, tmp_path, people):
    """300 half-sent requests from one address, on a server with 256 file handles: the 100 the
    cap allows are held, the others closed as they come, and /healthz answers another address."""
    with serving(db_url, tmp_path, MAX_CONNECTIONS_PER_ADDRESS=100, HEAD_TIMEOUT_S=120) as server:
        resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (256, 256))
        held = [connect(server, b"GET /healthz HT") for _ in range(300)]
        try:
            gone = set()

            def refused():
                gone.update(sock for sock in held if sock not in gone and closed_by_server(sock, 0.01))
                return len(gone) >= 200
            assert wait_until(refused, timeout=30), len(gone)
            kept = [sock for sock in held if sock not in gone]
            assert len(kept) == 100 and not any(closed_by_server(sock, 0.01) for sock in kept)
            from_elsewhere = connect(server, b"GET /healthz HTTP/1.1\r\nHost: wavefloor.lan\r\n\r\n",
                                     source="127.0.0.2")
            assert response(from_elsewhere)[0] == 200
            from_elsewhere.close()
            with pytest.raises(requests.ConnectionError):  # the 101st from 127.0.0.1 is closed at once
                requests.get(f"{server.url}/healthz", timeout=10)
        finally:
            for sock in held:
                sock.close()

        def served_again():  # once the server has seen the held ones end
            try:
                return requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
            except requests.ConnectionError:
                return False
        assert wait_until(served_again, timeout=30)
    assert "127.0.0.1 holds 100 connections" in server.log.read_text()


def test_half_sent_silent_and_idle_connections_are_closed(db, db_url, tmp_path, people):
    with serving(db_url, tmp_path, HEAD_TIMEOUT_S=1, IDLE_TIMEOUT_S=2) as server:
        half_line = connect(server, b"GET /healthz HT")
        half_head = connect(server, b"GET /healthz HTTP/1.1\r\nHost: wavefloor.lan\r\n")
        silent = connect(server)
        kept = connect(server, b"GET /healthz HTTP/1.1\r\nHost: wavefloor.lan\r\n\r\n")
        assert response(kept)[0] == 200  # then it waits, kept alive, for a next request that never comes
        for sock in (half_line, half_head, silent, kept):
            assert closed_by_server(sock, 30)
            sock.close()
        # a head sent a byte at a time, each in time for a read's timeout, is cut at the head's
        drip = connect(server)
        request = b"GET /healthz HTTP/1.1\r\n" + b"X-Slow: " + b"y" * 200
        for byte in request:
            try:
                drip.sendall(bytes([byte]))
            except OSError:
                break
            if closed_by_server(drip, 0.3):
                break
        else:
            pytest.fail("a head dripped for a minute was never cut")
        drip.close()
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]


def test_each_websocket_holds_one_file_handle(live_server):
    token = pin_login(live_server, "u-picker", "HH-FD")
    before = connection_handles(live_server.proc.pid, live_server.port)
    devices = [Device(live_server, token) for _ in range(20)]
    try:
        for device in devices:
            device.wait_for("snapshot")
        held = connection_handles(live_server.proc.pid, live_server.port)
        assert held >= 20 and held - before <= 20, (before, held)
    finally:
        for device in devices:
            device.close()


def test_a_hundred_connects_and_disconnects_leave_the_log_clean(live_server):
    """Frames a device sends after the server ended its WebSocket (its close frame) are not
    read as a new HTTP request, so no 400 is written to a closed socket and nothing is logged."""
    token = pin_login(live_server, "u-picker", "HH-LOOP")
    for _ in range(100):
        device = socketio.Client(reconnection=False)
        device.connect(live_server.url, namespaces=["/floor"], auth={"token": token}, transports=["websocket"],
                       wait_timeout=10)
        device.disconnect()
    time.sleep(1.0)  # what the server does with the last connections' ends is in the log too
    log = live_server.log.read_text(errors="replace")
    assert "Traceback" not in log and "Invalid HTTP method" not in log and "Error" not in log, log[-3000:]


# --- changes made outside the serving processes --------------------------------------------------

@pytest.fixture
def planned(floor, people):
    """A planned wave of six orders in WH-HZ."""
    place(*spread_orders(6))
    (wave,) = waves.plan_waves("WH-HZ", actor=inventory.system_actor())
    return wave


def heard(device, name, wave):
    return [data for event, data in device.events if event == name and data.get("wave") == wave.id]


def release_from_the_command_line_reaches(devices, wave, db_url, tmp_path):
    """Release ``wave`` with `wavefloor waves release`; each device (handheld, wall screen) gets
    each task once, and the wall screen the wave's progress once."""
    handheld, wall = devices
    out = wavefloor(db_url, "waves", "release", wave.code, tmp_path=tmp_path).stdout
    assert f"{wave.code} released" in out
    tasks = PickTask.select().where(PickTask.wave == wave.id).count()
    assert tasks >= 1

    def arrived():
        return (len(heard(handheld, "task.changed", wave)) >= tasks
                and len(heard(wall, "task.changed", wave)) >= tasks
                and [e for e, d in wall.events if e == "wave.progress" and d.get("status") == "released"])
    assert wait_until(arrived, timeout=15), (handheld.events, wall.events)
    time.sleep(1.0)  # anything sent twice would be here by now
    for device in devices:
        changed = heard(device, "task.changed", wave)
        assert len(changed) == tasks and len({t["task"] for t in changed}) == tasks
    (progress,) = [d for e, d in wall.events if e == "wave.progress"]
    assert progress["status"] == "released" and progress["tasks"] == tasks
    assert not [e for e, _ in handheld.events if e == "wave.progress"]  # the wall screen's only


def test_a_wave_released_from_the_command_line_reaches_the_handheld_and_the_wall(
        planned, db_url, tmp_path, live_server):
    handheld = Device(live_server, pin_login(live_server, "u-picker", "HH-CLI"))
    wall = Device(live_server, pin_login(live_server, "u-supervisor", "WALL-CLI"))
    try:
        wall.wait_for("snapshot")
        handheld.wait_for("snapshot")
        release_from_the_command_line_reaches((handheld, wall), planned, db_url, tmp_path)
    finally:
        handheld.close()
        wall.close()
    assert "Traceback" not in live_server.log.read_text()


@pytest.mark.skipif(not REDIS_SERVER, reason="needs redis-server")
def test_with_redis_each_device_hears_a_command_line_change_once(planned, db_url, tmp_path):
    """Two serving processes sharing Redis both read the row; each tells only its own devices."""
    redis = OwnRedis().start()
    try:
        with (serving(db_url, tmp_path, "a", REDIS_URL=redis.url, PRINT_WORKER="false") as a,
              serving(db_url, tmp_path, "b", REDIS_URL=redis.url, PRINT_WORKER="false") as b):
            handheld = Device(a, pin_login(a, "u-picker", "HH-A"))
            wall = Device(b, pin_login(b, "u-supervisor", "WALL-B"))
            try:
                wall.wait_for("snapshot")
                handheld.wait_for("snapshot")
                release_from_the_command_line_reaches((handheld, wall), planned, db_url, tmp_path)
            finally:
                handheld.close()
                wall.close()
    finally:
        redis.stop()


def test_a_process_without_devices_writes_its_events_with_its_changes(db):
    """What the command line hands over: a row per event with rooms, committed with the change
    or rolled back with it; read in order after a row; old rows pruned, the newest kept."""
    events.hand_over(outbox.record)
    try:
        start = outbox.last_id()
        with write_transaction():
            events.publish("task.changed", {"task": 1}, rooms=["role:picker", "wallboard"])
            events.publish("stock.arrived", {"products": [1]}, rooms=())  # for this process's listeners only
        with pytest.raises(RuntimeError):
            with write_transaction():
                events.publish("task.changed", {"task": 2}, rooms=["role:picker"])
                raise RuntimeError("rolled back")
        events.publish("wave.progress", {"wave": 3}, rooms=["wallboard"])  # no transaction open: one of its own
    finally:
        events.hand_over(None)
    rows = outbox.read_after(start)
    assert [(event, payload["task"] if "task" in payload else payload["wave"], rooms)
            for _, event, payload, rooms in rows] == [("task.changed", 1, ("role:picker", "wallboard")),
                                                     ("wave.progress", 3, ("wallboard",))]
    assert all(payload["version"] > 0 for _, _, payload, _ in rows)
    assert outbox.read_after(rows[0][0]) == rows[1:]
    assert outbox.prune(keep_s=-1) == 1  # both are older than a second from now; the newest stays
    assert [row[0] for row in outbox.read_after(0)] == [rows[1][0]]
    events.publish("task.changed", {"task": 4}, rooms=["role:picker"])  # handed over no longer
    assert outbox.last_id() == rows[1][0]
