"""The site's rules, loaded once per process and reloaded when a file changes."""
from __future__ import annotations

import threading

from rules import RuleBook
from server.config import load_settings

_book = None
_guard = threading.Lock()


def book() -> RuleBook:
    global _book
    if _book is None:
        with _guard:
            if _book is None:
                directory = load_settings().get("RULES_DIR") or None
                _book = RuleBook(directory)
    return _book


def use(directory) -> RuleBook:
    """Point this process at another rules folder (tests, `--rules`)."""
    global _book
    with _guard:
        _book = RuleBook(directory)
    return _book
