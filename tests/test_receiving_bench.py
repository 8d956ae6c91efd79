"""The receiving benchmark end to end on a small dock, on both engines: every scan counted once
on its order line, its plate and the ledger. It checks what the run counted, never how fast it
went (DESIGN section 11: timing belongs to ``make bench``)."""
from __future__ import annotations

import pytest

from tests.test_bench_scans import assert_every_scan_answered, run_bench

DEVICES = 3
PACED, SATURATED = 40, 60  # scans per receiver in each phase (tests/bench/bench_receiving.py)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_the_receiving_benchmark_counts_every_scan_once(engine):
    result = run_bench("bench_receiving.py", engine, "--devices", str(DEVICES), "--rate", "60")
    assert_every_scan_answered(result, DEVICES, PACED, SATURATED)
    ours = result["wavefloor"]
    scans = DEVICES * (PACED + SATURATED)
    assert ours["receipt_moves"] == scans
    cases = DEVICES * ((PACED + SATURATED) // 5)  # every fifth scan a case of 12
    assert ours["units_received"] == ours["units_on_plates"] == scans - cases + 12 * cases
    assert ours["audit_differences"] == 0 and ours["wall_progress_events"] > 0
    assert result["database"] == engine and result["ratio_saturated_throughput"] > 0
