"""One driver for the tests of the floor scenarios: a command goes in through the same
``device.commands.execute`` a device's ``cmd`` reaches, and the whole envelope comes out.

    PICKING = Driver("picking")
    state, data, code = PICKING.step(picker, "scan", code="A-01")          # must be taken
    assert PICKING.refused(picker, "scan", code="A-02") == ("wrong_location", "scan_location")
    PICKING.expect(picker, "get_work", {"ok": True, "next_state": "scan_location", ...})

Every answer is checked for the envelope's shape (docs/protocol.md): ``ok``, ``next_state``,
``data`` holding exactly the next state's data, and ``message`` with ``type``, ``code`` and ``text``.
"""
from __future__ import annotations

import threading
import uuid
from typing import NamedTuple

from server.services.device import commands

ENVELOPE = {"ok", "next_state", "data", "message"}
MESSAGE = {"type", "code", "text"}


class Step(NamedTuple):
    state: str
    data: dict
    code: str


def check_envelope(result: dict) -> dict:
    assert set(result) == ENVELOPE, result
    assert list(result["data"]) == [result["next_state"]], result
    assert set(result["message"]) == MESSAGE and result["message"]["text"], result
    return result


class Driver:
    def __init__(self, scenario: str):
        self.scenario = scenario

    def run(self, principal, action: str, key: str | None = None, **params) -> dict:
        """The answer to one command, whatever it is (``key``: replay a command's key)."""
        command = {"key": key or uuid.uuid4().hex, "scenario": self.scenario, "action": action, **params}
        return check_envelope(commands.execute(principal, command))

    def step(self, principal, action: str, **params) -> Step:
        """A command that must be taken: (next_state, its data, message code)."""
        result = self.run(principal, action, **params)
        assert result["ok"], result
        return Step(result["next_state"], result["data"][result["next_state"]], result["message"]["code"])

    def refused(self, principal, action: str, *, as_warning: bool = False, **params) -> tuple[str, str]:
        """A command that must be refused, as an error (or ``as_warning``: nothing to do, no
        work): (message code, the state the device stays on)."""
        result = self.run(principal, action, **params)
        assert result["ok"] is False, result
        assert result["message"]["type"] == ("warning" if as_warning else "error"), result
        return result["message"]["code"], result["next_state"]

    def expect(self, principal, action: str, expected: dict, **params) -> dict:
        """A command whose whole answer is ``expected``."""
        result = self.run(principal, action, **params)
        assert result == expected
        return result

    def at_the_same_moment(self, principals, action: str, **params) -> list[dict]:
        """The same command from each principal at once (a thread each, released together):
        the answers, in the principals' order."""
        start, results = threading.Barrier(len(principals)), [None] * len(principals)

        def send(n):
            start.wait()
            results[n] = self.run(principals[n], action, **params)
        threads = [threading.Thread(target=send, args=(n,)) for n in range(len(principals))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results
