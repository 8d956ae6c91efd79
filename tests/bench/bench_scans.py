"""Picking scans from 200 handhelds against a live ``wavefloor serve`` on SQLite (or PostgreSQL).

Each simulated handheld (a python-socketio AsyncClient over WebSocket, all on one asyncio loop)
takes a pick task and works its lines: scan the location, scan the item, scan the tote (the tote
scan moves the unit in the ledger and sends wave.progress to the wall screen). Each command
carries a time-ordered key, as the handheld makes them (tests/bench/keys.py). Two phases:

  paced      every device scans at an even rate so the floor sends RATE scans/s in total:
             round trip p50/p99 at that load (DESIGN section 11: p99 < 25 ms at 1,000 scans/s).
             The devices start at random moments within one line's three scans, so at any moment
             a third of the scans are tote scans (the heaviest: the stock move), as on a floor
             where each picker walks at their own pace. With --in-step they start within one
             scan's interval, and every device's tote scans fall in the same fifth of a second.
  saturated  every device scans again as soon as its answer arrives: scans/s the server takes

Baseline, same run, same machine, same client code: a bare python-socketio server under
gevent that acknowledges every ``cmd`` with its payload (no database), with the library's own
WebSocket (simple-websocket, which accepts the compression the clients offer; Wavefloor's own
WebSocket, server/realtime/websocket.py, does not).

The servers time each command themselves, from receipt to answer (their /metrics histogram), and
each phase reports the bucket within which half and 99 % of them were answered
(``server_p50_ms_at_most``, ``server_p99_ms_at_most``): the round trip adds the sockets, the event
loops' queues and the clients' own loop.
The clients share the server's cores, so each phase also reports the server processes' own CPU
time per scan (``server_cpu_ms_per_scan``, from /proc), their Redis's when there are several
(``redis_cpu_ms_per_scan``), PostgreSQL's, all its processes (``postgres_cpu_ms_per_scan``:
tests/bench/capacity.py builds on these), the clients' (``clients_cpu_ms_per_scan``) and how busy the machine was (``machine_busy_pct``,
``machine_steal_pct``: time a virtual machine's cores were taken by its host). For the whole
run it reports how many commands shared each commit (``commands_per_commit``; on PostgreSQL the
picking scans that went together).
Prints one JSON object.
usage: python tests/bench/bench_scans.py [--devices 200] [--rate 1000] [--database sqlite|postgres]
       [--servers 1]  (N > 1: N server processes and a Redis of the run's own; devices spread over them)
       [--no-deflate]  (clients that do not offer WebSocket compression; browsers all offer it)
       [--in-step]  (the paced phase's devices scan in step: all location scans, then all item scans, ...)
       [--trace FILE]  (each paced scan of Wavefloor's run: [seconds into the phase, round trip ms, code])
       [--pin-flood N]  (N clients sending PINs for made-up users to /api/v1/auth/pin, each its next
                         when the answer comes, for the whole of Wavefloor's run: DESIGN section 11,
                         "logins under attack"; the answers they got are reported under ``pin_flood``)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench.databases import bench_database  # noqa: E402
from tests.bench.keys import time_ordered_key  # noqa: E402
from tests.bench.ports import free_port, wait_port  # noqa: E402

# the servers started here serve the floor only: no nightly jobs or platform pulls beside the scans
os.environ.setdefault("WAVEFLOOR_NIGHTLY_JOBS", "false")
os.environ.setdefault("WAVEFLOOR_CONNECTOR_WORKER", "false")

PACED_SCANS = 45       # per device (15 lines)
SATURATED_SCANS = 60   # per device (20 lines)
LINES_PER_TASK = 40
LOCATIONS = 20
SCANS_PER_LINE = 3     # location, item, tote
PHASE_LIMIT_S = 20.0   # a phase stops sending when this is up, so the run stays short
LOG_DIR = os.path.join(ROOT, "tests", "artifacts")  # the servers' output, for a run that went wrong
os.makedirs(LOG_DIR, exist_ok=True)


# --- the floor to pick from ------------------------------------------------------------------

def session_token(user, device=None) -> str:
    """A session token for ``user`` (on ``device``), good for two hours."""
    from server.models import ApiToken
    from server.models.base import utcnow
    token = secrets.token_urlsafe(32)
    ApiToken.create(token_hash=hashlib.sha256(token.encode()).hexdigest(), user=user, device=device,
                    kind="session", expires_at=utcnow() + dt.timedelta(hours=2))
    return token


def setup(url: str, devices: int) -> tuple[list[dict], str]:
    """Locations with stock, one released wave with a task per device, a tote and a token per
    picker; returns each picker's walk and a supervisor token."""
    from server.db import init_database
    from server.models import Barcode, Device, Location, PickLine, PickTask, Product, Wave, Warehouse
    from server.models.base import utcnow
    from server.schema import create_all
    from server.services import auth
    from server.services.stock import inventory

    init_database(url)
    create_all()
    auth.ensure_roles()
    wh = Warehouse.create(code="B", name="bench", aisles=LOCATIONS, aisle_length_m=20, aisle_width_m=3)
    product = Product.create(sku="BENCH-1", name="bench item")
    Barcode.create(code="6900000009999", product=product)
    locations = [Location.create(warehouse=wh, code=f"B-{n:02d}", kind="pick", aisle=n, y_m=1.0, pick_seq=n)
                 for n in range(LOCATIONS)]
    actor = inventory.system_actor()
    for location in locations:
        inventory.receive(product, location, devices * LINES_PER_TASK, actor=actor)
    wave = Wave.create(code="WB", warehouse=wh, strategy="single_unit", status="released", released_at=utcnow())

    walks = []
    for n in range(devices):
        user = auth.add_user(f"bp-{n:03d}", f"Picker {n}", ["picker"])
        device = Device.create(code=f"BH-{n:03d}")
        tote = Location.create(warehouse=wh, code=f"BT-{n:03d}", kind="tote")
        task = PickTask.create(wave=wave, code=f"WB-T{n + 1}", seq=n + 1, lines_total=LINES_PER_TASK,
                               units_total=LINES_PER_TASK)
        stops = [locations[(n + i) % LOCATIONS] for i in range(LINES_PER_TASK)]
        PickLine.insert_many([{"task": task.id, "seq": i + 1, "product": product.id, "location": stop.id,
                               "qty": 1} for i, stop in enumerate(stops)]).execute()
        scans = []
        for stop in stops:
            scans += [stop.code, "6900000009999", tote.code]
        walks.append({"token": session_token(user, device), "scans": scans})
    boss = auth.add_user("b-boss", "Boss", ["supervisor"])
    boss_token = session_token(boss)
    if not url.startswith("sqlite"):
        # a database in service has its planner statistics (autovacuum gathers them within a
        # minute of a change this size). In a run with 20 connections on PostgreSQL, scans queued
        # up to 300 ms for the paced phase's first five seconds without them, and up to 190 ms
        # for its first one and a half seconds with them
        from server.db import database
        database.execute_sql("ANALYZE")
    return walks, boss_token


# --- servers ---------------------------------------------------------------------------------

def start(args: list[str], env: dict, port: int, log_path: str) -> subprocess.Popen:
    """Start a server whose output goes to ``log_path`` (a pipe nobody reads would fill and
    freeze it)."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            with open(log_path, errors="replace") as log:
                raise RuntimeError(log.read()[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def echo_server(port: int) -> None:
    """The baseline: python-socketio under gevent, acknowledging each cmd with its payload."""
    from gevent import monkey
    monkey.patch_all()
    import socketio
    from gevent import pywsgi

    sio = socketio.Server(async_mode="gevent", cors_allowed_origins=[])

    @sio.on("connect", namespace="/floor")
    def connect(sid, environ, auth=None):
        sio.emit("snapshot", {"version": 1}, to=sid, namespace="/floor")

    @sio.on("cmd", namespace="/floor")
    def cmd(sid, data):
        return {"ok": True, "next_state": "echo", "data": {"echo": data}, "message": {"code": "ok"}}

    pywsgi.WSGIServer(("127.0.0.1", port), socketio.WSGIApp(sio), log=None).serve_forever()


def pin_flood(urls: list[str], clients: int) -> None:
    """The flood, in a process of its own (its work is not the clients' measured loop): ``clients``
    threads, each sending a PIN login for a made-up user from a made-up device, the next as soon
    as the answer comes, to the servers in turn, until terminated; then prints the count of
    answers by HTTP status as JSON."""
    import collections
    import http.client
    import signal
    import threading
    from urllib.parse import urlsplit

    answers, guard, finished = collections.Counter(), threading.Lock(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: finished.set())

    def client(n: int) -> None:
        address = urlsplit(urls[n % len(urls)])
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        while not finished.is_set():
            body = json.dumps({"user": f"ghost-{secrets.token_hex(4)}", "pin": f"{random.randrange(10000):04d}",
                               "device": f"FLOOD-{n}-{secrets.token_hex(3)}"})
            try:
                connection.request("POST", "/api/v1/auth/pin", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException):
                status = "no_answer"
                connection.close()
                finished.wait(0.1)
            with guard:
                answers[status] += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    finished.wait()
    for thread in threads:
        thread.join(15)
    print(json.dumps(dict(answers)), flush=True)


@contextlib.contextmanager
def flooding(urls: list[str], clients: int, report: dict):
    """Run :func:`pin_flood` beside the block; its answers go into ``report["pin_flood"]``."""
    if not clients:
        yield
        return
    flood = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--flood-worker", ",".join(urls),
                              "--pin-flood", str(clients)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        yield
    finally:
        flood.terminate()
        try:
            out, _ = flood.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            flood.kill()
            out, _ = flood.communicate()
        lines = out.strip().splitlines()
        report["pin_flood"] = {"clients": clients, "answers": json.loads(lines[-1]) if lines else None}


# --- the handhelds ---------------------------------------------------------------------------
# All 200 handhelds are python-socketio AsyncClients on one asyncio loop: the threaded Client
# starts an OS thread for every message it receives, and 200 of them on the server's two cores
# measured the clients more than the server.

# Browsers (the handhelds' Chrome, the kiosks' web views) offer permessage-deflate on every
# WebSocket; a server that accepts it compresses each answer and inflates each scan. The clients
# offer it too, unless --no-deflate.
CLIENT_WEBSOCKET = {"compress": 15}


async def connect_all(url: str, tokens: list[str], on_event=None) -> list:
    """One python-socketio client per handheld, connected over WebSocket, 25 at a time."""
    import socketio

    gate = asyncio.Semaphore(25)

    async def one(token):
        client = socketio.AsyncClient(reconnection=False, websocket_extra_options=dict(CLIENT_WEBSOCKET))
        if on_event is not None:
            client.on("*", on_event, namespace="/floor")
        async with gate:
            await client.connect(url, namespaces=["/floor"], auth={"token": token}, transports=["websocket"],
                                 wait_timeout=30)
        return client

    return list(await asyncio.gather(*(one(token) for token in tokens)))


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def process_cpu(pids) -> dict[int, float]:
    """Each process's user plus system CPU time so far (a process gone meanwhile is left out)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def postgres_pids() -> list[int]:
    """Every PostgreSQL process on this machine (the server, its backends, its workers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


class CpuOf:
    """CPU used by a group of processes over a phase, processes that start meanwhile included
    (the pool's backends open as they are first needed): ``find()`` lists the group's pids."""

    def __init__(self, find: Callable[[], list[int]]):
        self.find = find
        self.before = process_cpu(find())

    def seconds(self) -> float:
        now = process_cpu(self.find())
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in now.items())


def machine_ticks() -> list[int]:
    """The machine's CPU ticks so far: user, nice, system, idle, iowait, irq, softirq, steal."""
    with open("/proc/stat") as stat:
        return [int(n) for n in stat.readline().split()[1:9]]


@dataclass(frozen=True)
class Scanning:
    """What a benchmark's devices do (bench_receiving.py's receive): their scenario, the command
    each opens its work with (from its walk, before the phases), the scans each sends in each
    phase, over how many scans' intervals the paced devices' starts spread, and the wall's event
    counted."""
    scenario: str
    opening: Callable[[dict], dict]
    paced: int
    saturated: int
    start_within: int
    wall_event: str


PICKING = Scanning("picking", lambda walk: {"action": "get_work"}, PACED_SCANS, SATURATED_SCANS, SCANS_PER_LINE,
                   "wave.progress")


async def run_phase(clients, walks, count: int, interval: float | None, server_pids: list[int],
                    in_step: bool = False, trace: list | None = None, scanning: Scanning = PICKING,
                    others: dict | None = None) -> dict:
    """Each device sends the next ``count`` scans of its walk; one every ``interval`` seconds
    when paced (starting at a random moment within a line's scans, or within one interval when
    ``in_step``), back to back otherwise, for at most PHASE_LIMIT_S. Returns throughput and
    round trips; ``trace`` gets each scan's start (s), round trip (ms) and code. ``others``
    names groups of processes whose CPU per scan is reported too ({"postgres": a function
    listing their pids}: ``postgres_cpu_ms_per_scan``)."""
    times: list[float] = []
    refused = []
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + PHASE_LIMIT_S

    async def device(client, walk):
        if interval:
            await asyncio.sleep(random.random() * interval * (1 if in_step else scanning.start_within))
        next_at = loop.time()
        start_at = walk.setdefault("position", 0)
        for code in walk["scans"][start_at:start_at + count]:
            if loop.time() > stop_at:
                break
            walk["position"] += 1
            sent = time.perf_counter()
            answer = await client.call("cmd", {"key": time_ordered_key(), "scenario": scanning.scenario, "action": "scan",
                                               "code": code}, namespace="/floor", timeout=60)
            times.append(time.perf_counter() - sent)
            if trace is not None:
                trace.append((round(sent - began, 4), round(1000 * times[-1], 2), code))
            if not answer.get("ok"):
                refused.append(answer["message"]["code"])
            if interval:
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - loop.time()))

    groups = {name: CpuOf(find) for name, find in (others or {}).items()}
    began, cpu_before, clients_before, machine_before = (time.perf_counter(), cpu_seconds(server_pids),
                                                         time.process_time(), machine_ticks())
    await asyncio.gather(*(device(c, w) for c, w in zip(clients, walks)))
    elapsed, cpu = time.perf_counter() - began, cpu_seconds(server_pids) - cpu_before
    clients_cpu = time.process_time() - clients_before
    machine = [after - before for after, before in zip(machine_ticks(), machine_before)]
    times.sort()
    return {"scans": len(times), "seconds": round(elapsed, 2), "scans_per_s": round(len(times) / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(times), 2),
            "p99_ms": round(1000 * times[int(0.99 * (len(times) - 1))], 2), "refused": len(refused),
            "refused_codes": sorted(set(refused)),
            "server_cpu_ms_per_scan": round(1000 * cpu / len(times), 3),
            "clients_cpu_ms_per_scan": round(1000 * clients_cpu / len(times), 3),
            **{f"{name}_cpu_ms_per_scan": round(1000 * group.seconds() / len(times), 3)
               for name, group in groups.items()},
            "machine_busy_pct": round(100 * (sum(machine) - machine[3] - machine[4]) / sum(machine), 1),
            "machine_steal_pct": round(100 * machine[7] / sum(machine), 1)}


async def floor(urls: list[str], walks: list[dict], boss_token: str | None, rate: float,
                server_pids: list[int], in_step: bool = False, trace: list | None = None,
                scanning: Scanning = PICKING, others: dict | None = None) -> dict:
    """Device n connects to server ``urls[n % len(urls)]``, as nginx's sticky sessions would
    spread them; the wall screen watches the first."""
    wall_events = {scanning.wall_event: 0}

    async def on_wall(event, data=None):
        if event in wall_events:
            wall_events[event] += 1

    wall = (await connect_all(urls[0], [boss_token], on_wall))[0] if boss_token else None
    clients = [None] * len(walks)
    for n, url in enumerate(urls):
        clients[n::len(urls)] = await connect_all(url, [w["token"] for w in walks[n::len(urls)]])
    try:
        if boss_token:  # the real server: every device takes its work first (a pick task, a receipt)
            for client, walk in zip(clients, walks):
                answer = await client.call("cmd", {"key": time_ordered_key(), "scenario": scanning.scenario,
                                                   **scanning.opening(walk)}, namespace="/floor", timeout=60)
                assert answer["ok"], answer
        for walk in walks:
            walk["position"] = 0
        # the clients' process holds 200 connections' objects: left to the collector, each of its
        # full passes stopped every client at once for 70-100 ms, the tail of both servers' p99
        gc.collect()
        gc.freeze()
        timed = command_buckets(urls) if boss_token else None  # the servers' own count of each command's time
        paced = await run_phase(clients, walks, scanning.paced, len(clients) / rate, server_pids, in_step, trace,
                                scanning, others)
        if timed is not None:
            timed = server_quantiles(paced, timed, command_buckets(urls))
        saturated = await run_phase(clients, walks, scanning.saturated, None, server_pids, scanning=scanning,
                                    others=others)
        if timed is not None:
            server_quantiles(saturated, timed, command_buckets(urls))
        await asyncio.sleep(0.5)
    finally:
        await asyncio.gather(*(client.disconnect() for client in clients + ([wall] if wall else [])))
    result = {"paced": dict(paced, target_scans_per_s=rate), "saturated": saturated}
    if boss_token:
        result["wall_progress_events"] = wall_events[scanning.wall_event]
    return result


@contextlib.contextmanager
def own_redis():
    """A redis-server without persistence on a free port, for the server processes' events."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        yield f"redis://127.0.0.1:{port}/0", proc.pid
    finally:
        stop(proc)


def metric_samples(urls: list[str]):
    """Each sample line of the servers' /metrics, as (name with labels, value)."""
    import urllib.request
    for url in urls:
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line and not line.startswith("#"):
                    name, _, value = line.rpartition(" ")
                    yield name, float(value)


def commands_per_commit(urls: list[str]) -> float | None:
    """How many commands shared a commit, on average, over the whole run (the servers' /metrics:
    on SQLite every write command, on PostgreSQL the picking scans the function took)."""
    totals = {"wavefloor_grouped_commits_total": 0, "wavefloor_grouped_commands_total": 0}
    for name, value in metric_samples(urls):
        if name in totals:
            totals[name] += value
    groups, commands = totals.values()
    return round(commands / groups, 1) if groups else None


def command_buckets(urls: list[str]) -> dict[str, float]:
    """The servers' histogram of command times so far: upper bound (as written) -> commands."""
    buckets: dict[str, float] = {}
    for name, value in metric_samples(urls):
        if name.startswith("wavefloor_command_seconds_bucket{"):
            bound = name.split('le="', 1)[1].split('"', 1)[0]
            buckets[bound] = buckets.get(bound, 0) + value
    return buckets


def server_quantiles(phase: dict, before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Add to ``phase`` the time within which the servers answered half and 99 % of its commands,
    from receipt to answer (their own histogram, so an upper bound: ``server_p99_ms_at_most``).
    The round trip adds the sockets, the event loop's queue and the clients' own loop.
    Returns ``after``, the next phase's ``before``."""
    total = after["+Inf"] - before.get("+Inf", 0)
    for share, key in ((0.5, "server_p50_ms_at_most"), (0.99, "server_p99_ms_at_most")):
        phase[key] = next((round(1000 * float(bound), 1) for bound in after if bound != "+Inf"
                           and after[bound] - before.get(bound, 0) >= share * total), None)
    return after


def machine() -> dict:
    """The machine a benchmark ran on."""
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}


def against_echo(wavefloor: dict, baseline: dict) -> dict:
    """Wavefloor's phases beside the echo server's, and how they compare."""
    return {
        "wavefloor": wavefloor,
        "baseline_echo_gevent": baseline,
        "ratio_saturated_throughput": round(wavefloor["saturated"]["scans_per_s"]
                                            / baseline["saturated"]["scans_per_s"], 3),
        # one core's worth of scans a second for each server, from its CPU time per scan
        "server_core_scans_per_s": {
            "wavefloor": round(1000 / wavefloor["saturated"]["server_cpu_ms_per_scan"]),
            "baseline_echo_gevent": round(1000 / baseline["saturated"]["server_cpu_ms_per_scan"])},
    }


def note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1000.0, help="paced phase: scans/s from all devices")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres: a database of its own on the server of WAVEFLOOR_TEST_PG")
    parser.add_argument("--servers", type=int, default=1,
                        help="wavefloor serve processes (more than one share events through a Redis of the run's own)")
    parser.add_argument("--no-deflate", action="store_true",
                        help="clients that do not offer permessage-deflate (browsers all do)")
    parser.add_argument("--in-step", action="store_true",
                        help="paced phase: the devices start within one scan's interval and scan in step")
    parser.add_argument("--trace", help="write each paced scan of Wavefloor's run to this JSON file")
    parser.add_argument("--pin-flood", type=int, default=0, metavar="N",
                        help="N clients sending PINs for made-up users to /api/v1/auth/pin during Wavefloor's run")
    parser.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--flood-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_deflate:
        CLIENT_WEBSOCKET.clear()
    if args.echo_server:
        return echo_server(args.echo_server)
    if args.flood_worker:
        return pin_flood(args.flood_worker.split(","), args.pin_flood)

    with tempfile.TemporaryDirectory() as tmp, bench_database(args.database, tmp) as url, \
            (own_redis() if args.servers > 1 else contextlib.nullcontext((None, None))) as (redis_url, redis_pid):
        walks, boss = setup(url, args.devices)
        note(f"floor set up; starting {args.servers} wavefloor serve")
        env = dict(os.environ, WAVEFLOOR_DATABASE_URL=url, WAVEFLOOR_INSTANCE_DIR=f"{tmp}/instance",
                   WAVEFLOOR_SECRET_KEY="bench")
        if redis_url:
            env["WAVEFLOOR_REDIS_URL"] = redis_url
        ports = [free_port() for _ in range(args.servers)]
        servers = []
        try:
            for n, port in enumerate(ports):
                servers.append(start([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env, port,
                                     os.path.join(LOG_DIR, f"bench-scans-server-{n}.log")))
            pids = [server.pid for server in servers]
            others = {}
            if redis_pid:
                others["redis"] = lambda: [redis_pid]
            if args.database == "postgres":
                others["postgres"] = postgres_pids
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            trace = [] if args.trace else None
            flood = {}
            with flooding(urls, args.pin_flood, flood):
                wavefloor = asyncio.run(floor(urls, walks, boss, args.rate, pids, args.in_step, trace, others=others))
            wavefloor.update(flood)
            if trace is not None:
                with open(args.trace, "w") as out:
                    json.dump(sorted(trace), out)
            wavefloor["commands_per_commit"] = commands_per_commit(urls)
        finally:
            for server in servers:
                stop(server)
        note("wavefloor measured")
        from server.db import database
        from server.models import StockMove
        from server.services.stock import inventory
        with database.connection_context():
            wavefloor["pick_moves"] = StockMove.select().where(StockMove.reason == "pick").count()
            wavefloor["audit_differences"] = len(inventory.audit())

    note("starting the echo baseline")
    port = free_port()
    echo = start([sys.executable, os.path.abspath(__file__), "--echo-server", str(port)], dict(os.environ), port,
                 os.path.join(LOG_DIR, "bench-scans-echo.log"))
    try:
        baseline = asyncio.run(floor([f"http://127.0.0.1:{port}"], walks, None, args.rate, [echo.pid], args.in_step))
    finally:
        stop(echo)

    print(json.dumps({
        "benchmark": "picking scans, 200 handhelds",
        "machine": machine(),
        "devices": args.devices, "database": args.database, "server_processes": args.servers,
        **({"pg_synchronous_commit": os.environ.get("WAVEFLOOR_PG_SYNCHRONOUS_COMMIT", "on")}
           if args.database == "postgres" else {}),
        "clients_offer_deflate": not args.no_deflate, "paced_devices_in_step": args.in_step,
        "pin_flood_clients": args.pin_flood,
        **against_echo(wavefloor, baseline),
        "targets": {"p99_ms_at_1000_scans_per_s": 25,
                    "throughput_ratio_min": 0.6 if args.database == "sqlite" else 0.35},
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()


# --- one floor scenario against one server and the echo baseline (the other scenarios' benches) --------

def measure_scenario(url: str, tmp: str, name: str, walks: list, boss: str, rate: float, scanning: Scanning) -> dict:
    """``scanning``'s walks against one ``wavefloor serve`` on ``url``: the floor's figures and
    its commands per commit; the server's log is bench-<name>-server.log."""
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=url, WAVEFLOOR_INSTANCE_DIR=f"{tmp}/instance",
               WAVEFLOOR_SECRET_KEY="bench")
    port = free_port()
    server = start([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env, port,
                   os.path.join(LOG_DIR, f"bench-{name}-server.log"))
    try:
        measured = asyncio.run(floor([f"http://127.0.0.1:{port}"], walks, boss, rate, [server.pid], scanning=scanning))
        measured["commands_per_commit"] = commands_per_commit([f"http://127.0.0.1:{port}"])
    finally:
        stop(server)
    return measured


def echo_scenario(name: str, walks: list, rate: float, scanning: Scanning) -> dict:
    """The same walks against the bare Socket.IO echo server: the baseline of the same run."""
    port = free_port()
    echo = start([sys.executable, os.path.abspath(__file__), "--echo-server", str(port)], dict(os.environ), port,
                 os.path.join(LOG_DIR, f"bench-{name}-echo.log"))
    try:
        return asyncio.run(floor([f"http://127.0.0.1:{port}"], walks, None, rate, [echo.pid], scanning=scanning))
    finally:
        stop(echo)
