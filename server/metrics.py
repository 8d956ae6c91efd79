"""Counters of this process for ``/metrics``: floor commands (scans) and how long they took.

Each server process counts its own commands; Prometheus scrapes every process and adds them
up. Labels are bounded: a scenario or action that is not registered counts as ``other``, so
a device sending junk cannot grow the label set without end.

``commands.execute`` reports through :func:`metered`, which wraps it and is told which
scenario names are registered (so this module needs nothing from the commands' layer)::

    @metrics.metered(registered)
    def execute(principal, command) -> dict: ...
"""
from __future__ import annotations

import bisect
import functools
import re
import time
from typing import Callable

from server.db import unpatched

# seconds; a scan should answer well inside 25 ms, a slow one is seen up to 5 s
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
OUTCOMES = ("ok", "refused", "error")
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
UNNAMED = ("bad_command", "unknown_scenario", "unknown_action")

# the operating system's lock even where gevent patched threading: nothing yields while holding
# it, and gevent's lock cost a scan more than the counting it guards
_lock = unpatched("_thread", "allocate_lock")()
_commands: dict[tuple[str, str, str], int] = {}
_latency_counts = [0] * (len(BUCKETS) + 1)  # the last slot is +Inf
_latency_sum = 0.0


def _names(command, action_known: bool, registered: Callable[[str], bool]) -> tuple[str, str]:
    if not isinstance(command, dict):
        return "other", "other"
    scenario, action = command.get("scenario"), command.get("action")
    if not isinstance(scenario, str) or not registered(scenario):
        return "other", "other"
    if not action_known or not isinstance(action, str) or not ACTION_RE.match(action):
        action = "other"
    return scenario, action


def observe_command(command, outcome: str, seconds: float, action_known: bool = True,
                    registered: Callable[[str], bool] = lambda name: False) -> None:
    """Count one command and the time it took from receipt to answer; ``action_known`` is
    false when the scenario refused the action as unknown (its name then counts as ``other``),
    and a scenario that ``registered`` does not know counts as ``other`` too."""
    global _latency_sum
    scenario, action = _names(command, action_known, registered)
    outcome = outcome if outcome in OUTCOMES else "error"
    slot = bisect.bisect_left(BUCKETS, seconds)
    with _lock:
        key = (scenario, action, outcome)
        _commands[key] = _commands.get(key, 0) + 1
        _latency_counts[slot] += 1
        _latency_sum += seconds


def metered(registered: Callable[[str], bool]):
    """Wrap a command executor: every call is counted with its outcome and latency, under its
    scenario's name when ``registered(name)`` says it is one."""
    def wrap(execute):
        @functools.wraps(execute)
        def timed(principal, command):
            started = time.perf_counter()
            try:
                result = execute(principal, command)
            except BaseException:
                observe_command(command, "error", time.perf_counter() - started, registered=registered)
                raise
            ok = isinstance(result, dict) and result.get("ok")
            code = (result.get("message") or {}).get("code") if isinstance(result, dict) else None
            observe_command(command, "ok" if ok else ("error" if code == "error" else "refused"),
                            time.perf_counter() - started, action_known=code not in UNNAMED,
                            registered=registered)
            return result

        timed.wf_metered = True
        return timed
    return wrap


def command_counts() -> dict[tuple[str, str, str], int]:
    with _lock:
        return dict(_commands)


def latency() -> tuple[list[tuple[float, int]], int, float]:
    """Cumulative ``[(upper bound, count)]`` as Prometheus wants them, the total and the sum."""
    with _lock:
        counts, total_sum = list(_latency_counts), _latency_sum
    cumulative, running = [], 0
    for bound, count in zip(BUCKETS, counts):
        running += count
        cumulative.append((bound, running))
    return cumulative, running + counts[-1], total_sum


def reset() -> None:
    """Forget every count (tests)."""
    global _latency_sum
    with _lock:
        _commands.clear()
        _latency_counts[:] = [0] * (len(BUCKETS) + 1)
        _latency_sum = 0.0
