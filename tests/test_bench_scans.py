"""The scan benchmark end to end on a small floor, on both engines: it is the proof that a floor
of handhelds scanning at once loses no unit and picks none twice, so it must keep running.
It checks what the run counted, never how fast it went (DESIGN section 11: timing belongs to
``make bench``)."""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PG_ADMIN_URL, ROOT

DEVICES = 4
PACED, SATURATED = 45, 60  # scans per device in each phase (tests/bench/bench_scans.py)


def run_bench(script: str, engine: str, *args: str) -> dict:
    """Run ``tests/bench/<script>`` on ``engine`` (PostgreSQL: the tests' server); its JSON."""
    run = subprocess.run([sys.executable, f"tests/bench/{script}", *args, "--database", engine],
                         cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "WAVEFLOOR_TEST_PG": PG_ADMIN_URL})
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def assert_every_scan_answered(result: dict, devices: int, paced: int, saturated: int) -> None:
    """Wavefloor and the echo server each answered every scan of both phases, none refused."""
    for measured in (result["wavefloor"], result["baseline_echo_gevent"]):
        assert measured["paced"]["scans"] == devices * paced
        assert measured["saturated"]["scans"] == devices * saturated
        assert measured["paced"]["refused"] == measured["saturated"]["refused"] == 0


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_the_scan_benchmark_moves_every_unit_once(engine, tmp_path):
    trace_path = tmp_path / "trace.json"
    result = run_bench("bench_scans.py", engine, "--devices", str(DEVICES), "--rate", "80", "--trace", str(trace_path))
    assert_every_scan_answered(result, DEVICES, PACED, SATURATED)
    ours = result["wavefloor"]
    assert ours["pick_moves"] == DEVICES * (PACED + SATURATED) // 3  # one move per tote scan
    assert ours["audit_differences"] == 0
    assert ours["wall_progress_events"] > 0
    assert result["database"] == engine and not result["paced_devices_in_step"]
    assert result["ratio_saturated_throughput"] > 0

    trace = json.loads(trace_path.read_text())
    assert len(trace) == DEVICES * PACED
    assert [entry[0] for entry in trace] == sorted(entry[0] for entry in trace)
    totes = collections.Counter(code for _, _, code in trace if code.startswith("BT-"))
    assert totes == {f"BT-{n:03d}": PACED // 3 for n in range(DEVICES)}


def test_the_scan_function_benchmark_sends_every_scan_through_the_function():
    """tests/bench/bench_scan_function.py on a tiny floor (PostgreSQL only: it measures the
    function): every group of scans answered without a failure, both ways of planning."""
    run = subprocess.run([sys.executable, "tests/bench/bench_scan_function.py", "--devices", "4", "--lines", "4",
                          "--group", "3", "--rounds", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "WAVEFLOOR_TEST_PG": PG_ADMIN_URL})
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert result["scans_per_kind_per_round"] == 4 * (4 - 2)
    for measured in (result["wavefloor"], result["baseline_planners_choice"]):
        assert len(measured["rounds"]) == 1
        assert set(measured["mean"]) == {"location", "item", "tote", "mix"}
