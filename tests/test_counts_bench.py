"""The counting benchmark end to end on a few locations, on both engines: every scan counted once
on its count line, and the ledger untouched by counting. It checks what the run counted, never how
fast it went (DESIGN section 11: timing belongs to ``make bench``)."""
from __future__ import annotations

import pytest

from tests.test_bench_scans import assert_every_scan_answered, run_bench

DEVICES = 3
PACED, SATURATED = 40, 60  # scans per counter in each phase (tests/bench/bench_counts.py)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_the_counting_benchmark_counts_every_scan_once(engine):
    result = run_bench("bench_counts.py", engine, "--devices", str(DEVICES), "--rate", "60")
    assert_every_scan_answered(result, DEVICES, PACED, SATURATED)
    ours = result["wavefloor"]
    units = PACED + SATURATED - 1               # the first scan is the location's label
    cases = units // 10                         # every tenth a case of 12
    assert ours["units_counted"] == DEVICES * (units - cases + 12 * cases)
    assert ours["counts_started"] == DEVICES
    assert ours["ledger_lines"] == DEVICES      # the opening stock: counting moves nothing
    assert ours["audit_differences"] == 0
    assert result["database"] == engine and result["ratio_saturated_throughput"] > 0
