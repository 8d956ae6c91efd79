"""The receiving benchmark end to end on a small dock, on both engines: every scan counted once
on its order line, its plate and the ledger. It checks what the run counted, never how fast it
went (DESIGN section 11: timing belongs to ``make bench``)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PG_ADMIN_URL, ROOT

DEVICES = 3
PACED, SATURATED = 40, 60  # scans per receiver in each phase (tests/bench/bench_receiving.py)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_the_receiving_benchmark_counts_every_scan_once(engine):
    run = subprocess.run(
        [sys.executable, "tests/bench/bench_receiving.py", "--devices", str(DEVICES), "--rate", "60",
         "--database", engine],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "WAVEFLOOR_TEST_PG": PG_ADMIN_URL})
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    ours, echo = result["wavefloor"], result["baseline_echo_gevent"]
    for measured in (ours, echo):
        assert measured["paced"]["scans"] == DEVICES * PACED
        assert measured["saturated"]["scans"] == DEVICES * SATURATED
        assert measured["paced"]["refused"] == measured["saturated"]["refused"] == 0
    scans = DEVICES * (PACED + SATURATED)
    assert ours["receipt_moves"] == scans
    cases = DEVICES * ((PACED + SATURATED) // 5)  # every fifth scan a case of 12
    assert ours["units_received"] == ours["units_on_plates"] == scans - cases + 12 * cases
    assert ours["audit_differences"] == 0 and ours["wall_progress_events"] > 0
    assert result["database"] == engine and result["ratio_saturated_throughput"] > 0
