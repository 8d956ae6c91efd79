"""The customer tag rules in force: ``customers.yaml`` of the site's rules folder (``RULES_DIR``),
else the one shipped in rules/; read again when the file changes."""
from __future__ import annotations

import os
import threading

from rules import load_rules
from rules.customers import CustomerRules
from server.services import rulebook

_guard = threading.Lock()
_cache: dict = {"signature": None, "rules": None}


def current() -> CustomerRules:
    """The customer rules; a broken file raises RuleError (the last good rules are not kept:
    ``wavefloor rules check`` says what is wrong)."""
    path = rulebook.book().path("customers")
    stat = os.stat(path)
    signature = (str(path), stat.st_mtime_ns, stat.st_size)
    with _guard:
        if _cache["signature"] != signature:
            _cache["rules"], _cache["signature"] = load_rules(path), signature
        return _cache["rules"]
