"""The rules in force: one RuleSet per kind, reloaded when its file changes on disk."""

import logging
import os
import threading
import time
from pathlib import Path

from .loader import ORDER_KINDS as KINDS  # customers.yaml is not the order flow's: see loader.ORDER_KINDS
from .loader import SUFFIXES, default_rules_dir, load_rules
from .problems import Problem, RuleError

log = logging.getLogger(__name__)


class _Slot:
    """One kind's file: the last good RuleSet, the file signature it came from, current problems."""

    __slots__ = ("ruleset", "signature", "problems")

    def __init__(self):
        self.ruleset = None
        self.signature = None
        self.problems = []


class RuleBook:
    """The site's rules. `directory` holds review.yaml, routing.yaml, carriers.yaml, waves.yaml;
    a file the site does not have comes from the defaults shipped with Wavefloor.

    Each access to `.review`, `.routing`, `.carriers` or `.waves` looks at the file (at most once
    per `check_interval` seconds) and reloads it when it changed. A changed file with errors does
    not replace the rules in force: they stay, and `problems` lists what is wrong with the new
    version until it is fixed.
    """

    def __init__(self, directory=None, check_interval=1.0):
        self.directory = Path(directory) if directory is not None else default_rules_dir()
        if not self.directory.is_dir():
            raise RuleError([Problem(str(self.directory), 1, 1, "", "no such rule directory")])
        self.check_interval = check_interval
        self._slots = {kind: _Slot() for kind in KINDS}
        self._checked_at = {kind: None for kind in KINDS}
        self._lock = threading.Lock()
        problems = self.reload()
        first_load_failed = [kind for kind, slot in self._slots.items() if slot.ruleset is None]
        if first_load_failed:
            raise RuleError(problems)

    @property
    def review(self):
        return self._current("review")

    @property
    def routing(self):
        return self._current("routing")

    @property
    def carriers(self):
        return self._current("carriers")

    @property
    def waves(self):
        return self._current("waves")

    @property
    def problems(self):
        """Problems of files on disk that are not in force (empty when all loaded)."""
        return [problem for slot in self._slots.values() for problem in slot.problems]

    def path(self, kind):
        """The file a kind is read from: the site's own, else the shipped default."""
        for suffix in SUFFIXES:
            candidate = self.directory / f"{kind}{suffix}"
            if candidate.is_file():
                return candidate
        return default_rules_dir() / f"{kind}.yaml"

    def reload(self):
        """Look at every file now; returns the problems of files that did not load."""
        for kind in KINDS:
            self._refresh(kind, force=True)
        return self.problems

    def _current(self, kind):
        self._refresh(kind)
        return self._slots[kind].ruleset

    def _refresh(self, kind, force=False):
        now = time.monotonic()
        checked_at = self._checked_at[kind]
        if not force and checked_at is not None and now - checked_at < self.check_interval:
            return
        with self._lock:
            self._checked_at[kind] = now
            slot = self._slots[kind]
            path = self.path(kind)
            try:
                stat = os.stat(path)
            except OSError as error:
                slot.problems = [Problem(str(path), 1, 1, "", f"cannot read the file: {error}")]
                return
            signature = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
            if signature == slot.signature:
                return
            slot.signature = signature
            try:
                ruleset = load_rules(path)
            except RuleError as error:
                slot.problems = error.problems
                log.warning("rule file %s has errors; the rules in force stay:\n%s", path, error)
                return
            slot.ruleset = ruleset
            slot.problems = []
            log.info("rule file %s loaded (version %s)", path, ruleset.version)

