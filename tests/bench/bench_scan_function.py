"""PostgreSQL's CPU for a picking scan inside the group function ``wf_pick_scans``, read from the
backend that runs it, with the functions as the migrations install them (every row read by
index, migrations/0026_pick_scans_by_index.py).

Baseline, same run, same floor: the same functions with the planner's own choice of plans
(``enable_seqscan`` reset on them), which reads the floor's small tables from end to end.
Each round builds a fresh floor of DEVICES pickers (tests/bench/bench_scans.py's ``setup``: a
wave, its tasks of 40 lines, 20 locations, a tote each, the statistics gathered), gives every
picker their task, then sends their location, item and tote scans, kind by kind, in groups of
GROUP on one connection, as a serving process does under load. The backend's CPU
(``/proc/PID/stat``; PostgreSQL on this machine) is read for each kind after the first two lines,
which warm the connection. The rounds alternate between the two, so a slow moment of the
machine falls on both.
Prints one JSON object: each kind's ms a scan and the mix (a third each), for both, and the ratio
(none when a run too short to be read spent no measurable CPU). A scan that fails stops the run.
usage: python tests/bench/bench_scan_function.py [--devices 200] [--lines 20] [--group 12] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

os.environ.setdefault("WAVEFLOOR_NIGHTLY_JOBS", "false")

import psycopg  # noqa: E402

from tests.bench.bench_scans import cpu_seconds, machine, setup  # noqa: E402
from tests.bench.databases import bench_database  # noqa: E402

KINDS = ("location", "item", "tote")
WARM_LINES = 2
PLANNERS_CHOICE = ("ALTER FUNCTION wf_pick_scans(json) RESET enable_seqscan;"
                   " ALTER FUNCTION wf_pick_scan(integer, integer, text, text, text) RESET enable_seqscan")


def one_round(devices: int, lines: int, group: int, by_index: bool) -> dict:
    """ms of the backend's CPU a scan of each kind, on a fresh floor."""
    from server.db import database
    from server.models import Device, User
    from server.services import scenarios  # noqa: F401  (registers the scenarios)
    from server.services.auth import Principal
    from server.services.device import commands

    with tempfile.TemporaryDirectory() as tmp, bench_database("postgres", tmp, "scanfn") as url:
        walks, _ = setup(url, devices)
        with database.connection_context():
            pickers = [(User.get(User.code == f"bp-{n:03d}"), Device.get(Device.code == f"BH-{n:03d}"))
                       for n in range(devices)]
        for user, device in pickers:
            answer = commands.execute(Principal(user, ["picker"], device),
                                      {"key": uuid.uuid4().hex, "scenario": "picking", "action": "get_work"})
            assert answer["ok"], answer
        database.obj.close_all()
        spent = {kind: 0.0 for kind in KINDS}
        scans = {kind: 0 for kind in KINDS}
        with psycopg.connect(url, autocommit=True) as conn:
            if not by_index:
                conn.execute(PLANNERS_CHOICE)
            (pid,) = conn.execute("SELECT pg_backend_pid()").fetchone()
            for line in range(lines):
                for k, kind in enumerate(KINDS):
                    before = cpu_seconds([pid])
                    for start in range(0, devices, group):
                        calls = [[user.id, device.id, uuid.uuid4().hex, walk["scans"][3 * line + k], "en"]
                                 for (user, device), walk in zip(pickers[start:start + group],
                                                                 walks[start:start + group])]
                        rows = conn.execute("SELECT failed_state, failed_message FROM wf_pick_scans(%s::json)",
                                            [json.dumps(calls)]).fetchall()
                        failed = [row for row in rows if row[0]]
                        if failed:
                            raise RuntimeError(f"{kind} scans failed: {failed[:3]}")
                    if line >= WARM_LINES:
                        spent[kind] += cpu_seconds([pid]) - before
                        scans[kind] += devices
    result = {kind: round(1000 * spent[kind] / scans[kind], 4) for kind in KINDS}
    result["mix"] = round(1000 * sum(spent.values()) / sum(scans.values()), 4)
    return result


def mean(rounds: list[dict]) -> dict:
    return {key: round(sum(r[key] for r in rounds) / len(rounds), 4) for key in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--group", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.lines <= WARM_LINES or args.lines > 40:
        parser.error(f"--lines: between {WARM_LINES + 1} and 40 (a task's lines)")
    runs = {"by_index": [], "planners_choice": []}
    for _ in range(args.rounds):
        runs["planners_choice"].append(one_round(args.devices, args.lines, args.group, by_index=False))
        runs["by_index"].append(one_round(args.devices, args.lines, args.group, by_index=True))
    ours, baseline = mean(runs["by_index"]), mean(runs["planners_choice"])
    print(json.dumps({
        "benchmark": "PostgreSQL CPU a picking scan in wf_pick_scans (ms, the backend's)",
        "machine": machine(), "devices": args.devices, "group": args.group, "rounds": args.rounds,
        "scans_per_kind_per_round": args.devices * (args.lines - WARM_LINES),
        "wavefloor": {"functions": "as migrated (enable_seqscan off)", "mean": ours, "rounds": runs["by_index"]},
        "baseline_planners_choice": {"functions": "enable_seqscan reset", "mean": baseline,
                                     "rounds": runs["planners_choice"]},
        "ratio_cpu_mix": round(ours["mix"] / baseline["mix"], 3) if baseline["mix"] else None,
    }, indent=2))


if __name__ == "__main__":
    main()
