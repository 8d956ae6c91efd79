"""Beyond one process: `wavefloor serve` processes sharing one PostgreSQL and one Redis, and
what the floor sees when a part fails — a server killed in the middle of a run, PostgreSQL
stopped and started again, Redis gone, a printer that stops answering.

Every test runs real processes on 127.0.0.1 against a PostgreSQL cluster and a redis-server
of this module's own (temporary folders, free ports, stopped at the end), so stopping them
disturbs nobody else's tests.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
import socketio

from tests.conftest import ROOT, ServerProcess, free_port

PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
REDIS_SERVER = shutil.which("redis-server")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PG_BINS or not REDIS_SERVER, reason="needs PostgreSQL binaries and redis-server")]


# --- parts of our own ------------------------------------------------------------------------

class OwnPostgres:
    """A throw-away PostgreSQL cluster (trust auth) on a free port; run as ``postgres`` when we are root."""

    def __init__(self):
        self.bin = PG_BINS[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="wf-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> "OwnPostgres":
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        return self.start()

    def start(self) -> "OwnPostgres":
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return self

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


class OwnRedis:
    """A redis-server without persistence on a free port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> "OwnRedis":
        self.proc = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        import redis
        while time.time() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def own_postgres():
    cluster = OwnPostgres().init()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def own_redis():
    server = OwnRedis().start()
    yield server
    server.stop()


@pytest.fixture
def db_url(own_postgres):
    """Overrides conftest: each test here gets a fresh database on the module's own cluster."""
    name = f"wf_fault_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(own_postgres.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield own_postgres.url(name)
    from server.db import database
    if database.obj is not None:
        database.obj.close_all()
    with psycopg.connect(own_postgres.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def servers(db, db_url, tmp_path, people, own_redis):
    """``servers(n)`` starts n `wavefloor serve` processes on the test's database and the module's Redis."""
    started = []
    channel = f"wf-test-{uuid.uuid4().hex[:8]}"

    def start(count: int = 2) -> list[ServerProcess]:
        env = {"WAVEFLOOR_REDIS_URL": own_redis.url, "WAVEFLOOR_REDIS_CHANNEL": channel,
               "WAVEFLOOR_PRINT_WORKER": "0"}
        fresh = [ServerProcess(db_url, tmp_path / "instance", env) for _ in range(count)]
        started.extend(fresh)
        threads = [threading.Thread(target=server.start) for server in fresh]  # they start side by side
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert all(server.proc and server.proc.poll() is None for server in fresh), "a server did not start"
        return fresh
    yield start
    for server in started:
        server.stop()


@pytest.fixture
def stocked(small_warehouse, people):
    from server.services.stock import inventory
    inventory.receive(small_warehouse["tee"], small_warehouse["locations"]["A-01"], 1000,
                      actor=inventory.Actor(people["receiver"].id))
    return small_warehouse


# --- a handheld that fails over --------------------------------------------------------------

def pin_login(server, user, device):
    response = requests.post(f"{server.url}/api/v1/auth/pin", json={"user": user, "pin": "2468", "device": device},
                             timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def hang_up(client: socketio.Client) -> None:
    """Close the socket without waiting for the client's background tasks; the server sees
    the close either way."""
    try:
        client.eio.disconnect(abort=True)
    except Exception:  # already gone with its server
        pass


def close_all(devices) -> None:
    """Close side by side: each close waits up to 3 s for the server's closing frame."""
    threads = [threading.Thread(target=device.close) for device in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)


class Handheld:
    """A Socket.IO device that, when its server goes away, connects to the next one, takes the
    fresh ``snapshot`` and sends its unanswered command again with the same key."""

    def __init__(self, token: str, urls: list[str]):
        self.token, self.urls = token, list(urls)
        self.connections: list[tuple[str, list]] = []  # (url, events heard on that connection)
        self.arrived = threading.Condition()
        self.sio = None
        self.connect(self.urls[0])

    def connect(self, url: str) -> None:
        heard: list = []
        client = socketio.Client(reconnection=False)

        def record(event, data):
            with self.arrived:
                heard.append((event, data))
                self.arrived.notify_all()
        client.on("*", record, namespace="/floor")
        client.connect(url, namespaces=["/floor"], auth={"token": self.token}, transports=["websocket"],
                       wait_timeout=10)
        self.sio = client
        self.connections.append((url, heard))
        self.wait_for("snapshot")

    @property
    def url(self) -> str:
        return self.connections[-1][0]

    @property
    def heard(self) -> list:
        return self.connections[-1][1]

    def wait_for(self, name: str, timeout: float = 10.0, where=lambda data: True):
        heard = self.heard
        with self.arrived:
            self.arrived.wait_for(lambda: any(e == name and where(d) for e, d in heard), timeout)
        found = [d for e, d in heard if e == name and where(d)]
        assert found, f"no {name} event at {self.url}; heard {[e for e, _ in heard]}"
        return found[-1]

    def cmd(self, command: dict, timeout: float = 5.0) -> dict:
        return self.sio.call("cmd", command, namespace="/floor", timeout=timeout)

    def cmd_until_answered(self, command: dict, give_up_s: float = 60.0) -> tuple[dict, int]:
        """Send until an answer arrives, failing over to the next server when the socket dies;
        returns the answer and the number of sends."""
        deadline, sends = time.time() + give_up_s, 0
        while True:
            sends += 1
            try:
                return self.cmd(command, timeout=3.0), sends
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                    socketio.exceptions.DisconnectedError):
                if time.time() > deadline:
                    raise
                self._fail_over()

    def _fail_over(self) -> None:
        with_previous = self.url
        hang_up(self.sio)
        others = [u for u in self.urls if u != with_previous] + [with_previous]
        for url in others:
            try:
                self.connect(url)
                return
            except (socketio.exceptions.ConnectionError, AssertionError):
                time.sleep(0.2)

    def close(self) -> None:
        hang_up(self.sio)


def move_command(qty=1, src="A-01", dst="A-02") -> dict:
    key = f"mv-{uuid.uuid4().hex}"
    return {"key": key, "scenario": "stock", "action": "move", "sku": "TS-01", "from": src, "to": dst,
            "qty": qty, "ref": key}


def ledger_by_ref() -> dict[str, int]:
    """How many ledger lines each command's key (carried as the move's ref) produced."""
    from peewee import fn

    from server.db import database
    from server.models import StockMove
    _fresh_connections(database)
    rows = (StockMove.select(StockMove.ref, fn.COUNT(StockMove.id)).where(StockMove.reason == "move")
            .group_by(StockMove.ref).tuples())
    return dict(rows)


def quants() -> dict[str, int]:
    from server.models import Location, Quant
    return {q.location.code: q.qty for q in Quant.select().join(Location)}


def _fresh_connections(database) -> None:
    # the test process's pooled connections may predate a database restart
    if not database.is_closed():
        database.close()
    database.obj.close_all()


def healthz(server) -> tuple[int, dict]:
    response = requests.get(f"{server.url}/healthz", timeout=10)
    return response.status_code, response.json()


def wait_until(condition, timeout: float = 30.0, step: float = 0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


# --- the tests -------------------------------------------------------------------------------

def test_an_event_from_one_process_reaches_a_supervisor_on_the_other(servers, stocked):
    """Two processes, one database, one Redis channel: a move on A is heard by a wall screen on B."""
    a, b = servers(2)
    receiver = Handheld(pin_login(a, "u-receiver", "HH-A1"), [a.url])
    wall = Handheld(pin_login(b, "u-supervisor", "WALL-B"), [b.url])
    try:
        command = move_command(qty=2)
        result = receiver.cmd(command)
        assert result["ok"] and result["next_state"] == "moved"
        event = wall.wait_for("stock.changed")
        assert event["sku"] == "TS-01" and event["locations"] == ["A-01", "A-02"]
        assert receiver.cmd(command) == result  # the same key on A again changes nothing
        again_on_b = Handheld(receiver.token, [b.url])
        assert again_on_b.cmd(command) == result  # nor does it on B: the keys live in the database
        close_all([again_on_b])
    finally:
        close_all([receiver, wall])
    assert ledger_by_ref() == {command["key"]: 1}
    assert quants() == {"A-01": 998, "A-02": 2}
    for server in (a, b):
        assert healthz(server) == (200, {"status": "ok", "degraded": [],
                                         "parts": {"database": "up", "redis": "up",
                                                   "printers": {"ok": 0, "faulted": 0, "unknown": 0}}})


def test_killing_a_server_mid_run_loses_and_doubles_nothing(servers, stocked):
    """Devices on A fail over to B when A is killed; every command is applied exactly once."""
    from server.services.stock import inventory
    a, b = servers(2)
    devices = [Handheld(pin_login(a, "u-receiver", f"HH-{n:02d}"), [a.url, b.url]) for n in range(4)]
    devices += [Handheld(pin_login(b, "u-receiver", f"HH-{n:02d}"), [b.url, a.url]) for n in range(4, 6)]
    per_device = 15
    answered, answered_lock, killed = [], threading.Lock(), threading.Event()
    results: dict[str, tuple[dict, int]] = {}

    def work(device: Handheld):
        for _ in range(per_device):
            command = move_command()
            result, sends = device.cmd_until_answered(command)
            with answered_lock:
                results[command["key"]] = (result, sends)
                answered.append(command["key"])
                if len(answered) == 30 and not killed.is_set():
                    a.proc.kill()  # SIGKILL: no goodbye to its sockets, no finished requests
                    killed.set()

    threads = [threading.Thread(target=work, args=(d,)) for d in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert killed.is_set() and a.proc.wait(10) == -signal.SIGKILL
        assert len(results) == per_device * len(devices)
        assert all(result["ok"] and result["next_state"] == "moved" for result, _ in results.values())
        failed_over = [d for d in devices if d.connections[0][0] == a.url]
        for device in failed_over:
            assert device.url == b.url  # moved to the survivor ...
            assert any(e == "snapshot" for e, _ in device.heard)  # ... and took its state from there
        assert any(sends > 1 for _, sends in results.values())  # some commands were in flight at the kill
    finally:
        close_all(devices)
    assert ledger_by_ref() == {key: 1 for key in results}  # each key once: none lost, none doubled
    total = per_device * len(devices)
    assert quants() == {"A-01": 1000 - total, "A-02": total}
    assert inventory.audit() == []


def test_a_database_restart_gives_error_envelopes_and_retries_apply_once(servers, stocked, own_postgres):
    """PostgreSQL goes away under a run of commands: devices get the `error` envelope (the
    server stays up, /healthz says 503), retry with the same keys once it is back, and the
    ledger holds each command exactly once."""
    from server.services.stock import inventory
    a, b = servers(2)
    devices = [Handheld(pin_login(server, "u-receiver", f"HH-R{n}"), [server.url])
               for n, server in enumerate((a, b, a))]
    stopped, restarted = threading.Event(), threading.Event()
    codes: list[str] = []
    results: dict[str, dict] = {}
    lock = threading.Lock()

    def work(device: Handheld):
        for n in range(20):
            if n == 5:
                stopped.wait(30)  # every device has commands in the window when the database is down
            command = move_command()
            deadline = time.time() + 60
            while True:
                result = device.cmd(command, timeout=20)
                with lock:
                    codes.append(result["message"]["code"])
                if result["ok"] or time.time() > deadline:
                    break
                assert result["message"]["code"] == "error" and result["message"]["type"] == "error"
                time.sleep(0.1)
            with lock:
                results[command["key"]] = result

    threads = [threading.Thread(target=work, args=(d,)) for d in devices]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(results) >= 12, timeout=30, step=0.05)
    own_postgres.stop()
    stopped.set()
    try:
        wait_until(lambda: codes.count("error") >= 3, timeout=30, step=0.05)
        status, body = healthz(a)
        assert status == 503 and body == {"status": "down", "parts": {"database": "down"}, "degraded": ["database"]}
    finally:
        own_postgres.start()
        restarted.set()
    for thread in threads:
        thread.join(120)
    try:
        assert a.proc.poll() is None and b.proc.poll() is None  # no crash
        assert "error" in codes and len(results) == 60
        assert all(result["ok"] for result in results.values())
        assert wait_until(lambda: healthz(a)[0] == 200 and healthz(b)[0] == 200)
    finally:
        close_all(devices)
    assert ledger_by_ref() == {key: 1 for key in results}
    assert quants() == {"A-01": 940, "A-02": 60}
    assert inventory.audit() == []


def test_with_redis_down_each_process_serves_its_own_devices(servers, stocked, own_redis):
    a, b = servers(2)
    receiver_a = Handheld(pin_login(a, "u-receiver", "HH-A"), [a.url])
    wall_a = Handheld(pin_login(a, "u-supervisor", "WALL-A"), [a.url])
    receiver_b = Handheld(pin_login(b, "u-receiver", "HH-B"), [b.url])
    own_redis.stop()
    try:
        for server in (a, b):
            assert healthz(server) == (200, {"status": "degraded", "degraded": ["redis"],
                                             "parts": {"database": "up", "redis": "down",
                                                       "printers": {"ok": 0, "faulted": 0, "unknown": 0}}})
        moved = receiver_a.cmd(move_command(qty=3))
        assert moved["ok"] and moved["next_state"] == "moved"
        event = wall_a.wait_for("stock.changed")  # the same process still tells its own wall screen
        assert event["locations"] == ["A-01", "A-02"]
        looked_up = receiver_b.cmd({"key": uuid.uuid4().hex, "scenario": "stock", "action": "lookup",
                                    "code": "A-02"})
        assert looked_up["ok"] and [q["qty"] for q in looked_up["data"]["stock"]["quants"]] == [3]
        moved_b = receiver_b.cmd(move_command(qty=1, src="A-02", dst="A-01"))
        assert moved_b["ok"]
        late = Handheld(pin_login(b, "u-picker", "HH-LATE"), [b.url])  # a device connecting now gets its snapshot
        assert late.heard[0][0] == "snapshot"
        close_all([late])
    finally:
        own_redis.start()
        close_all([receiver_a, wall_a, receiver_b])
    assert wait_until(lambda: all(healthz(s)[1]["parts"].get("redis") == "up" for s in (a, b)))
    assert quants() == {"A-01": 998, "A-02": 2}


def test_after_a_long_redis_outage_events_cross_processes_again_within_seconds(servers, stocked, own_redis):
    """Redis down for 16 s: python-socketio's own listener would by then wait 16 s between tries
    (1, 2, 4, 8, 16 ...) and the wall screen on B would miss A's moves that long after Redis came
    back; the floor's listener tries at least every 2 s."""
    a, b = servers(2)
    receiver = Handheld(pin_login(a, "u-receiver", "HH-A2"), [a.url])
    wall = Handheld(pin_login(b, "u-supervisor", "WALL-B2"), [b.url])
    try:
        own_redis.stop()
        time.sleep(16)
        own_redis.start()
        back = time.time()
        heard = None
        while heard is None and time.time() < back + 8:
            assert receiver.cmd(move_command(qty=1))["ok"]
            try:
                heard = wall.wait_for("stock.changed", timeout=0.5)
            except AssertionError:
                pass
        assert heard is not None, "no event crossed from A to B within 8 s of Redis coming back"
        assert time.time() - back < 5
    finally:
        close_all([receiver, wall])


def test_a_printer_that_is_off_holds_its_jobs_until_it_is_back(db, db_url, tmp_path, servers):
    """The print worker (its own process, as deployed) keeps jobs queued while the printer
    cannot be reached; they print once, in order, when it is back."""
    from printers.emulator import PrinterEmulator
    from server.models import PrintJob
    from server.services import printing
    from server.services.stock import inventory
    from tests.test_print_queue import label
    (server,) = servers(1)
    emulator = PrinterEmulator("127.0.0.1", free_port(), str(tmp_path / "printed"))  # switched off
    worker = None
    try:
        actor = inventory.system_actor()
        printing.save_printer("P1", {"url": f"tcp://127.0.0.1:{emulator.port}", "station": "PK01"}, actor)
        jobs = [printing.enqueue("P1", "shipping", label(n), f"TM{n:06d}", actor) for n in (1, 2)]
        env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"),
                   WAVEFLOOR_SECRET_KEY="test-secret")
        worker = subprocess.Popen([sys.executable, "-m", "server.cli", "printers", "work", "--lease", "20"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        def tried():
            return PrintJob.get_by_id(jobs[0].id).attempts >= 1
        assert wait_until(tried, timeout=30)
        states = [PrintJob.get_by_id(job.id).state for job in jobs]
        assert states[1] == "queued" and states[0] in ("queued", "sending")  # waiting, not failed
        assert emulator.printed == []
        status, body = healthz(server)
        assert status == 200 and body["degraded"] == ["printers"] and body["parts"]["printers"]["faulted"] == 1

        emulator.start()
        assert emulator.wait_for_printed(2, timeout=60)
        printed = [Path(path).read_bytes() for path in emulator.printed]
        assert printed == [job.zpl.encode("utf-8") for job in jobs]  # each once, in order
        assert wait_until(lambda: [PrintJob.get_by_id(j.id).state for j in jobs] == ["done", "done"], 20)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        emulator.stop()


# --- picking scans on PostgreSQL, one statement each (scenarios/picking_direct.py) -----------------

@pytest.fixture
def picking_floor(stocked, people, secret_hashes):
    """Three pickers (PIN 2468), each holding no task yet, and a released wave of three tasks of
    eight one-unit lines at A-01, each task with a tote of its own: PICKER_WALKS."""
    from server.models import Location, PickLine, PickTask, User, Wave
    from server.models.base import utcnow
    from server.services import auth
    codes = ["u-picker"]
    for n in (2, 3):
        user = auth.add_user(f"u-picker{n}", f"Picker {n}", ["picker"])
        User.update(pin_hash=secret_hashes[1]).where(User.id == user.id).execute()
        codes.append(user.code)
    wave = Wave.create(code="WF", warehouse=stocked["warehouse"], strategy="single_unit", status="released",
                       released_at=utcnow())
    walks = {}
    for n, code in enumerate(codes):
        Location.create(warehouse=stocked["warehouse"], code=f"T-F{n}", kind="tote")
        task = PickTask.create(wave=wave, code=f"WF-T{n}", seq=n + 1, lines_total=8, units_total=8)
        PickLine.insert_many([{"task": task.id, "seq": i + 1, "product": stocked["tee"].id,
                               "location": stocked["locations"]["A-01"].id, "qty": 1} for i in range(8)]).execute()
        walks[code] = ["A-01", "6900000000014", f"T-F{n}"] * 8
    return walks


def test_a_database_restart_under_picking_scans_moves_each_unit_once(servers, picking_floor, own_postgres):
    """PostgreSQL goes away while three pickers scan (each scan one statement, or the Python
    path for a task's last line): scans get the `error` envelope and are sent again with their
    keys once it is back; every line's unit is moved exactly once."""
    from server.db import database
    from server.models import PickLine, PickTask, StockMove
    from server.services.stock import inventory
    a, b = servers(2)
    devices = {code: Handheld(pin_login(server, code, f"HH-P{n}"), [server.url])
               for n, (code, server) in enumerate(zip(picking_floor, (a, b, a)))}
    for device in devices.values():
        assert device.cmd({"key": f"gw-{uuid.uuid4().hex}", "scenario": "picking", "action": "get_work"})["ok"]
    stopped = threading.Event()
    codes: list[str] = []
    answered: list[str] = []
    lock = threading.Lock()

    def work(user: str, device: Handheld):
        for n, code in enumerate(picking_floor[user]):
            if n == 6:
                stopped.wait(30)  # every picker has scans in the window when the database is down
            command = {"key": f"pk-{uuid.uuid4().hex}", "scenario": "picking", "action": "scan", "code": code}
            deadline = time.time() + 60
            while True:
                result = device.cmd(command, timeout=20)
                with lock:
                    codes.append(result["message"]["code"])
                if result["ok"] or time.time() > deadline:
                    break
                assert result["message"]["code"] == "error", result
                time.sleep(0.1)
            assert result["ok"], result
            with lock:
                answered.append(command["key"])

    threads = [threading.Thread(target=work, args=item) for item in devices.items()]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(answered) >= 15, timeout=30, step=0.05)
    own_postgres.stop()
    stopped.set()
    try:
        wait_until(lambda: codes.count("error") >= 3, timeout=30, step=0.05)
    finally:
        own_postgres.start()
    for thread in threads:
        thread.join(120)
    try:
        assert a.proc.poll() is None and b.proc.poll() is None
        assert "error" in codes and len(answered) == 3 * 24
    finally:
        close_all(devices.values())
    _fresh_connections(database)
    assert {(line.status, line.moved_qty) for line in PickLine.select()} == {("done", 1)}
    assert {task.status for task in PickTask.select()} == {"done"}
    refs = [m.ref for m in StockMove.select().where(StockMove.reason == "pick")]
    assert len(refs) == len(set(refs)) == 24  # one ledger line a pick line: none lost, none doubled
    assert quants() == {"A-01": 1000 - 24, "T-F0": 8, "T-F1": 8, "T-F2": 8}
    assert inventory.audit() == []
