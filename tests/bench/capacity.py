"""A capacity model for picking on PostgreSQL: scans a second and pickers a site supports with
N server processes on M cores and one PostgreSQL, from CPU measured on this machine (docs/capacity.md).

What it measures:

  per scan kind   this process drives the picking scans of DEVICES pickers straight through
                  ``commands.execute`` (no sockets), kind by kind (every picker's location scan,
                  then every item scan, then every tote scan), and reads the CPU its own process
                  and PostgreSQL's processes spent on each kind: the command's cost in a server
                  process (``command_ms``) and in the database (``postgres_ms``).
  the whole path  tests/bench/bench_scans.py --database postgres, with 1 and with 2 server
                  processes (or the JSON of such runs, --bench FILE ...): a server process's CPU
                  per scan with Socket.IO and the WebSocket included, PostgreSQL's, Redis's (two
                  processes share events through it), the clients', and the saturated scans/s.

The model: a server process is one core (gevent), so N processes take at most N / s scans a
second, s its CPU per scan (sockets plus the command, at the floor's mix of kinds). On one
machine of M cores shared with PostgreSQL and Redis, all of them take at most
M / (s + p + r) (p, r: PostgreSQL's and Redis's CPU per scan); Redis is one thread: 1 / r.
The costs are the one-process run's, under load (a scan costs PostgreSQL about twice what it
costs alone), spread over the kinds in the proportions measured alone.
The floor's mix: a pick line is one location scan, one item scan per unit and one tote scan;
the units per line are the shared Tmall sample's (../shared/samples/tmall/expected.json).
The model is checked against the saturated runs on this machine (1 and 2 processes, clients
counted as the fourth user of the cores), then asked for 8, 16 and 32 cores.

usage: python tests/bench/capacity.py [--devices 100] [--lines 6] [--bench ONE.json TWO.json]
       [--lines-per-hour 200]  (one picker's pace at peak, for pickers supported)
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench.bench_scans import CpuOf, machine, postgres_pids, setup  # noqa: E402
from tests.bench.databases import bench_database  # noqa: E402

SAMPLE = os.path.join(os.path.dirname(ROOT), "shared", "samples", "tmall", "expected.json")
KINDS = ("location", "item", "tote")
HEADROOM = 0.7  # the share of saturation a site plans for: p99 holds well below it
CORES = (8, 16, 32)


def per_kind(devices: int, lines: int) -> dict:
    """CPU per scan of each kind, in this process and in PostgreSQL, picking ``lines`` lines for
    each of ``devices`` pickers through the command layer."""
    from server import events
    from server.db import database
    from server.models import Device, User
    from server.services import scenarios  # noqa: F401  (registers the scenarios)
    from server.services.auth import Principal
    from server.services.device import commands

    with tempfile.TemporaryDirectory() as tmp, bench_database("postgres", tmp, "capacity") as url:
        walks, _ = setup(url, devices)
        with database.connection_context():
            pickers = [Principal(User.get(User.code == f"bp-{n:03d}"), ["picker"], Device.get(Device.code == f"BH-{n:03d}"))
                       for n in range(devices)]

        def scan(principal, **command):
            answer = commands.execute(principal, {"key": uuid.uuid4().hex, "scenario": "picking", **command})
            if not answer["ok"]:
                raise RuntimeError(f"scan refused: {answer['message']}")

        for principal in pickers:
            scan(principal, action="get_work")
        spent = {kind: {"scans": 0, "command_s": 0.0, "postgres_s": 0.0} for kind in KINDS}
        for line in range(1, lines + 1):  # the first line warms each connection's prepared statement
            for k, kind in enumerate(KINDS):
                postgres, mine = CpuOf(postgres_pids), time.process_time()
                for principal, walk in zip(pickers, walks):
                    scan(principal, action="scan", code=walk["scans"][3 * (line - 1) + k])
                if line > 1:
                    spent[kind]["command_s"] += time.process_time() - mine
                    spent[kind]["postgres_s"] += postgres.seconds()
                    spent[kind]["scans"] += len(pickers)
        events.settle()  # the wall screen's last update, before its database goes
        database.obj.close_all()
    return {kind: {"command_ms": round(1000 * s["command_s"] / s["scans"], 4),
                   "postgres_ms": round(1000 * s["postgres_s"] / s["scans"], 4), "scans": s["scans"]}
            for kind, s in spent.items()}


def units_per_line() -> float:
    """Units per order line of the shared Tmall sample (one item scan each)."""
    with open(SAMPLE, encoding="utf-8") as sample:
        orders = json.load(sample)["orders"]
    lines = [line["qty"] for order in orders.values() for line in order["lines"] if not line.get("unknown_sku")]
    return sum(lines) / len(lines)


def bench(servers: int) -> dict:
    """One run of bench_scans.py on PostgreSQL with ``servers`` processes."""
    done = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "bench_scans.py"), "--database",
                           "postgres", "--servers", str(servers)], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def model(kinds: dict, runs: dict[int, dict], units: float, lines_per_hour: float) -> dict:
    """The costs per scan at the floor's mix, from the one-process run under load, each kind's
    share from ``kinds``; the two-process run checks what they predict."""
    mix = {"location": 1.0, "item": units, "tote": 1.0}
    per_line = sum(mix.values())
    weights = {kind: n / per_line for kind, n in mix.items()}
    bench_weights = {kind: 1 / 3 for kind in KINDS}  # the bench walks one unit per line

    def at(key, w):
        return sum(w[kind] * kinds[kind][key] for kind in KINDS)

    one = runs[1]["wavefloor"]["saturated"]
    # under load a scan costs more than alone (the database's other backends, locks, wakeups): the
    # saturated run's figures at its mix, spread over the kinds as measured alone
    # the kinds differ only in the command's part; alone each scan commits by itself, so only the
    # difference between the mixes is taken from the kinds, not the command's whole cost
    server_ms = one["server_cpu_ms_per_scan"] + at("command_ms", weights) - at("command_ms", bench_weights)
    postgres_ms = one["postgres_cpu_ms_per_scan"] * at("postgres_ms", weights) / at("postgres_ms", bench_weights)
    two = runs.get(2, {}).get("wavefloor", {}).get("saturated", {})
    redis_ms = two.get("redis_cpu_ms_per_scan", 0.0)

    def predict(cores: int, processes: int, server: float, postgres: float, redis: float, clients: float = 0.0,
                busy: float = 1.0) -> dict:
        limits = {"server processes": busy * processes * 1000 / server,
                  "cores": busy * cores * 1000 / (server + postgres + redis + clients)}
        if redis:
            limits["redis (one thread)"] = busy * 1000 / redis
        first = min(limits, key=limits.get)
        return {"scans_per_s": round(limits[first]), "saturates_first": first,
                "limits": {name: round(value) for name, value in limits.items()}}

    checks = {}
    cores_here = os.cpu_count() or 2
    for n, run in sorted(runs.items()):
        measured = run["wavefloor"]["saturated"]
        # the bench's mix, from the one-process costs; the clients share this machine's cores, at the
        # share of them the run kept busy
        bench_server = one["server_cpu_ms_per_scan"]
        predicted = predict(cores_here, n, bench_server, one["postgres_cpu_ms_per_scan"], redis_ms if n > 1 else 0.0,
                            measured["clients_cpu_ms_per_scan"], measured["machine_busy_pct"] / 100)
        checks[f"{n} process{'es' if n > 1 else ''}"] = {
            "predicted_scans_per_s": predicted["scans_per_s"], "measured_scans_per_s": measured["scans_per_s"],
            "predicted_over_measured": round(predicted["scans_per_s"] / measured["scans_per_s"], 2),
            "saturates_first": predicted["saturates_first"], "machine_busy_pct": measured["machine_busy_pct"],
            "measured_cpu_ms_per_scan": {"server": measured["server_cpu_ms_per_scan"],
                                         "postgres": measured["postgres_cpu_ms_per_scan"],
                                         "redis": measured.get("redis_cpu_ms_per_scan", 0.0),
                                         "clients": measured["clients_cpu_ms_per_scan"]},
            "measured_p99_ms_at_1000_per_s": run["wavefloor"]["paced"]["p99_ms"]}

    per_picker = lines_per_hour * per_line / 3600
    sites = {}
    for cores in CORES:
        processes = max(1, math.ceil(cores * server_ms / (server_ms + postgres_ms + redis_ms)))
        shared = predict(cores, processes, server_ms, postgres_ms, redis_ms)
        # PostgreSQL on a machine of its own with as many cores, the server processes on this one
        apart = {"server processes": cores * 1000 / (server_ms + redis_ms), "postgres": cores * 1000 / postgres_ms}
        if redis_ms:
            apart["redis (one thread)"] = 1000 / redis_ms
        first = min(apart, key=apart.get)
        sites[f"{cores} cores"] = {
            "server_processes": processes, "one_machine": shared,
            "pickers_one_machine": int(HEADROOM * shared["scans_per_s"] / per_picker),
            "postgres_on_a_machine_of_its_own": {"scans_per_s": round(apart[first]), "saturates_first": first,
                                                 "server_processes": cores},
            "pickers_two_machines": int(HEADROOM * apart[first] / per_picker),
            "settings": {"WAVEFLOOR_DB_POOL_SIZE": 6, "postgres_max_connections_at_least": processes * 6 + 20,
                         "postgres_commits_per_s_at_saturation": shared["scans_per_s"],
                         "redis": "one instance (WAVEFLOOR_REDIS_URL) for the processes' events"}}
    return {
        "floor_mix": {"units_per_line": round(units, 2), "scans_per_line": round(per_line, 2),
                      "share_of_scans": {kind: round(w, 3) for kind, w in weights.items()},
                      "picker_lines_per_hour": lines_per_hour, "picker_scans_per_s": round(per_picker, 3)},
        "cpu_ms_per_scan_at_floor_mix": {"server_process": round(server_ms, 3),
                                         "postgres": round(postgres_ms, 3), "redis": round(redis_ms, 4)},
        "check_on_this_machine": checks,
        "predictions": sites,
        "planning_headroom": HEADROOM,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--lines", type=int, default=6)
    parser.add_argument("--lines-per-hour", type=float, default=200.0)
    parser.add_argument("--bench", nargs=2, metavar=("ONE_PROCESS", "TWO_PROCESSES"),
                        help="bench_scans.py --database postgres JSON, --servers 1 and 2 (else run here)")
    args = parser.parse_args()
    os.environ.setdefault("WAVEFLOOR_NIGHTLY_JOBS", "false")
    kinds = per_kind(args.devices, args.lines)
    if args.bench:
        runs = {}
        for n, path in zip((1, 2), args.bench):
            with open(path) as f:
                runs[n] = json.load(f)
    else:
        runs = {1: bench(1), 2: bench(2)}
    print(json.dumps({"benchmark": "capacity model, picking on PostgreSQL", "machine": machine(),
                      "per_kind": kinds, **model(kinds, runs, units_per_line(), args.lines_per_hour)},
                     ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
