"""Picking scans against days of stored command results: time-ordered keys against random keys.

Every command's result is stored under its key (the unique index that makes a resent command
harmless) and kept for COMMAND_KEY_TTL_H (72 h), so at floor volume the table holds millions of
rows. A random key (UUID version 4) lands on any page of the key's index: once the index is
larger than a connection's page cache, each scan reads such a page and writes it again, and
forgetting the results past the TTL does the same for each row it deletes. The handheld and the
station pages make time-ordered keys (UUID version 7, server/web/static/keys.js), which land at
the end of the index, where its pages are in the cache already.

For each kind of key: a copy of the scan bench's floor (bench_scans.setup: 200 pickers, each
with a task of 40 lines) holding HISTORY stored results of that kind, spread over the last
73 hours; then, in a process of its own, the command path as the socket handler calls it
(``commands.execute`` from one greenlet per handheld, no sockets, so the database's share is not
lost in theirs), and one round of forgetting the hour of results past the TTL. The baseline is
the same run with random keys. Prints one JSON object.
usage: python tests/bench/bench_command_keys.py [--history 2000000] [--devices 200] [--scans 60]
"""
from __future__ import annotations

import sys

if "--measure" in sys.argv:  # the measuring process: gevent before anything opens a socket
    from gevent import monkey
    monkey.patch_all()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench.keys import key_at, random_key, time_ordered_key  # noqa: E402

TTL_H = 72
HISTORY_H = TTL_H + 1  # the oldest hour is past the TTL: the forgetting round deletes it
WARMUP_SCANS = 3
KINDS = {"random": random_key, "time_ordered": time_ordered_key}


def history_key(kind: str, at: dt.datetime) -> str:
    """A key of ``kind`` as a device made it at ``at``."""
    if kind == "random":
        return random_key()
    return key_at(int(at.replace(tzinfo=dt.timezone.utc).timestamp() * 1000), secrets.randbits(12))


def add_history(path: str, kind: str, rows: int, result: str) -> None:
    """``rows`` stored results with keys of ``kind``, oldest first, over the last HISTORY_H hours."""
    from server.models import CommandResult
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # a quick build; the measuring process has its own settings
    users = [user_id for (user_id,) in conn.execute("SELECT id FROM user")]
    start = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=HISTORY_H)
    step = HISTORY_H * 3600 / rows
    rng = random.Random(7)
    batch = 50_000
    for first in range(0, rows, batch):
        values = []
        for n in range(first, min(rows, first + batch)):
            at = start + dt.timedelta(seconds=n * step)
            values.append((history_key(kind, at), rng.choice(users), "picking", "scan", result,
                           CommandResult.at.db_value(at)))
        conn.executemany('INSERT INTO command_result ("key", user_id, scenario, action, result, at)'
                         " VALUES (?, ?, ?, ?, ?, ?)", values)
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def stored_result() -> str:
    """A picking answer as the server stores it (about 500 bytes)."""
    return json.dumps({
        "ok": True, "next_state": "scan_item",
        "data": {"task": {"id": 1234, "code": "W2611-0042-T17", "wave": "W2611-0042", "strategy": "cluster",
                          "status": "in_progress", "lines_total": 40, "lines_done": 17, "units_total": 52,
                          "units_done": 21, "metres": 412.5},
                 "line": {"id": 987654, "seq": 18, "location": "A-12-03-2", "sku": "TS-01-BLK-M",
                          "name": "纯棉短袖T恤 黑色 M", "spec": "M", "unit": "件", "lot": "", "qty": 2, "picked": 0,
                          "counted": 0, "short": 0, "remaining": 2, "slot": 3, "tote": "T-0042", "order": 55123}},
        "message": {"type": "info", "code": "location_ok", "text": "库位正确，请扫描商品"}}, ensure_ascii=False)


# --- the measuring process ---------------------------------------------------------------------

def measure(path: str, kind: str, walks_file: str, scans: int) -> dict:
    import gc

    import gevent

    from server.app import create_app
    from server.db import database
    from server.services import auth
    from server.services.device import commands

    create_app()
    database.obj.checkpoint_in_background()  # as a serving process does
    make_key = KINDS[kind]
    with open(walks_file) as f:
        walks = json.load(f)
    with database.connection_context():
        principals = [auth.authenticate(walk["token"]) for walk in walks]
    for principal in principals:
        answer = commands.execute(principal, {"key": make_key(), "scenario": "picking", "action": "get_work"})
        assert answer["ok"], answer

    def device(principal, walk, first, last):
        for code in walk["scans"][first:last]:
            answer = commands.execute(principal, {"key": make_key(), "scenario": "picking", "action": "scan",
                                                  "code": code})
            assert answer["ok"], answer
            gevent.sleep(0)  # the next scan comes from the network: let the others run

    def run(first, last):
        gevent.joinall([gevent.spawn(device, p, w, first, last) for p, w in zip(principals, walks)],
                       raise_error=True)

    run(0, WARMUP_SCANS)
    gc.freeze()
    began, before = time.perf_counter(), os.times()
    run(WARMUP_SCANS, WARMUP_SCANS + scans)
    elapsed, after = time.perf_counter() - began, os.times()
    count = len(walks) * scans
    forget_began, forget_before = time.perf_counter(), os.times()
    with database.connection_context():
        forgotten = commands.forget(TTL_H, pause_s=0)
    forget_after = os.times()
    database.obj.stop_checkpoints()
    return {
        "scans": count, "scans_per_s": round(count / elapsed, 1),
        "cpu_ms_per_scan": round(1000 * (after.user + after.system - before.user - before.system) / count, 4),
        "user_ms_per_scan": round(1000 * (after.user - before.user) / count, 4),
        "system_ms_per_scan": round(1000 * (after.system - before.system) / count, 4),
        "forgotten": forgotten,
        "forget_cpu_ms_per_1000": round(1e6 * (forget_after.user + forget_after.system - forget_before.user
                                               - forget_before.system) / max(1, forgotten), 3),
        "forget_s": round(time.perf_counter() - forget_began, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=2_000_000, help="stored results already in the table")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--scans", type=int, default=60, help="timed scans per device")
    parser.add_argument("--measure", nargs=3, metavar=("DB", "KIND", "WALKS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure, scans=args.scans)))
        return

    from tests.bench.bench_scans import note, setup
    with tempfile.TemporaryDirectory() as tmp:
        floor = f"{tmp}/floor.db"
        walks, _boss = setup(f"sqlite:///{floor}", args.devices)
        from server.db import database
        database.obj.close_all()
        conn = sqlite3.connect(floor)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        walks_file = f"{tmp}/walks.json"
        with open(walks_file, "w") as f:
            json.dump(walks, f)
        runs = {}
        for kind in KINDS:
            path = f"{tmp}/{kind}.db"
            with open(floor, "rb") as source, open(path, "wb") as copy:
                copy.write(source.read())
            note(f"adding {args.history:,} stored results with {kind} keys")
            add_history(path, kind, args.history, stored_result())
            note(f"scans with {kind} keys")
            env = dict(os.environ, WAVEFLOOR_DATABASE_URL=f"sqlite:///{path}",
                       WAVEFLOOR_INSTANCE_DIR=f"{tmp}/instance", WAVEFLOOR_SECRET_KEY="bench")
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--scans", str(args.scans),
                                  "--measure", path, kind, walks_file], cwd=ROOT, env=env, check=True,
                                 capture_output=True, text=True)
            runs[kind] = json.loads(out.stdout.strip().splitlines()[-1])
            runs[kind]["database_mb"] = round(os.path.getsize(path) / 1e6)
            os.remove(path)

    ordered, baseline = runs["time_ordered"], runs["random"]
    print(json.dumps({
        "benchmark": "picking scans against stored command results: time-ordered keys vs random keys",
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "history_results": args.history, "history_hours": HISTORY_H, "ttl_hours": TTL_H, "devices": args.devices,
        "time_ordered_keys": ordered,
        "baseline_random_keys": baseline,
        "ratio_cpu_per_scan": round(ordered["cpu_ms_per_scan"] / baseline["cpu_ms_per_scan"], 3),
        "ratio_forget_cpu": round(ordered["forget_cpu_ms_per_1000"] / baseline["forget_cpu_ms_per_1000"], 3),
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
