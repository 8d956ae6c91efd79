"""Device commands: one envelope in, one envelope out, each key executed at most once.

A command is ``{key, scenario, action, ...params}``. The result of every key is stored in
the same transaction as the change it made, so a replay (an offline queue flushing, a
reconnect retry) returns the stored result and changes nothing.

Scenarios register the way an outside module would::

    @scenario("picking", permission="floor.picking")
    def picking(principal, action, params) -> dict: ...
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from typing import Callable

from peewee import IntegrityError

from server import jsontext, metrics
from server.db import database, sql, sql_row, write_grouped, write_transaction
from server.messages import normalise_language, text
from server.models import CommandResult
from server.models.base import utcnow
from server.services.auth import Principal
from server.services.errors import DomainError, Refused

KEY_RE = re.compile(r"[A-Za-z0-9_.:-]{8,64}")  # the whole key (fullmatch): "$" lets a newline end one


@dataclass(frozen=True)
class Scenario:
    name: str
    permission: str
    handler: Callable[[Principal, str, dict], dict]
    reads_only: frozenset = frozenset()


_SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, permission: str, reads_only=()):
    """Register a floor scenario; actions in ``reads_only`` change nothing and are not stored."""
    def register(handler):
        _SCENARIOS[name] = Scenario(name, permission, handler, frozenset(reads_only))
        return handler
    return register


# A scenario may also answer some commands on a path of its own, for one engine (picking scans on
# PostgreSQL in one round trip: scenarios/picking_direct.py). Such a path stores its result in a
# form of its own, ``{"render": <scenario>, ...}``, which the scenario's renderer turns into the
# envelope, for the first answer and for a key sent again alike.
Direct = Callable[[Principal, str, str, dict], "dict | None"]
_DIRECT: dict[str, Direct] = {}
_RENDERERS: dict[str, Callable[[dict], dict]] = {}


def direct(name: str, path: Direct, render: Callable[[dict], dict]) -> None:
    """Register ``path(principal, key, action, params)`` for scenario ``name``: run before the
    scenario's handler, it answers (having stored the result under the key, in the same
    transaction as the change) or returns None having changed nothing, and the handler runs as
    usual. A key it finds stored raises peewee's IntegrityError, as the usual path's store does."""
    _DIRECT[name] = path
    _RENDERERS[name] = render


def scenarios() -> dict[str, Scenario]:
    return dict(_SCENARIOS)


def registered(name: str) -> bool:
    return name in _SCENARIOS


def envelope(ok: bool, next_state: str, data: dict | None = None, *, code: str = "ok",
             lang: str | None = None, level: str | None = None, message: str | None = None) -> dict:
    """The one result shape of every command (docs/protocol.md, "Commands")."""
    return {
        "ok": ok,
        "next_state": next_state,
        "data": {next_state: data or {}},
        "message": {"type": level or ("info" if ok else "error"), "code": code,
                    "text": message or text(code, lang)},
    }


def refusal(code: str, lang: str | None, next_state: str = "error", data: dict | None = None) -> dict:
    return envelope(False, next_state, data, code=code, lang=lang)


def refusal_sentence(code: str, lang: str | None, params: dict, names_scanned=()) -> str:
    """A refusal's sentence, with the refusal's values in it where it names them ({slot}); for a
    code in ``names_scanned``, the code scanned follows in brackets."""
    words = text(code, lang)
    try:
        words = words.format_map(params) if "{" in words else words
    except (KeyError, IndexError, ValueError):
        pass
    if code in names_scanned and params.get("scanned"):
        words = f"{words} ({params['scanned']})"
    return words


def refused_step(exc: Refused, lang: str | None, state: str, data: dict, names_scanned=()) -> dict:
    """A refused step answers with the screen unchanged (``state``, ``data``), the refusal's plain
    values under ``refused`` and its sentence (``refusal_sentence``)."""
    refused = {k: v for k, v in exc.params.items() if isinstance(v, (str, int, type(None)))}
    return envelope(False, state, dict(data, refused=refused), code=exc.code, lang=lang,
                    message=refusal_sentence(exc.code, lang, exc.params, names_scanned))


def at_station(principal: Principal, action: str, params: dict, actions: dict, view, *, no_station: str) -> dict:
    """Run a station scenario's action (packing, put wall): the device the kiosk logged in with
    is the station, and a refused step answers with the station's unchanged state."""
    lang = principal.lang
    handler = actions.get(action)
    if handler is None:
        return refusal("unknown_action", lang)
    if principal.device is None:
        return refusal(no_station, lang)
    station = principal.device.code
    try:
        return handler(principal, params, lang, station)
    except Refused as exc:
        state, data = view(station)
        refused = {k: v for k, v in exc.params.items() if isinstance(v, (str, int, type(None)))}
        return envelope(False, state, dict(data, refused=refused), code=exc.code, lang=lang)


@metrics.metered(registered)
def execute(principal: Principal, command) -> dict:
    """Run one command for ``principal``; never raises for bad input. A command's ``lang``
    ("en" or "zh-CN") is the device's language from then on: its answers are in it."""
    if isinstance(command, dict) and isinstance(command.get("lang"), str) and command["lang"]:
        principal.language = normalise_language(command["lang"])
    lang = principal.lang
    if not isinstance(command, dict):
        return refusal("bad_command", lang)
    key = command.get("key")
    name = command.get("scenario")
    action = command.get("action")
    if not isinstance(key, str) or not KEY_RE.fullmatch(key) or not isinstance(action, str):
        return refusal("bad_command", lang)
    nul = _nul_field(command)
    if nul is not None:  # PostgreSQL takes no NUL in text, and SQLite's answer would differ
        return refusal("bad_command", lang, data={"field": nul})
    found = _SCENARIOS.get(name) if isinstance(name, str) else None
    if found is None:
        return refusal("unknown_scenario", lang)
    if not principal.can(found.permission):
        return refusal("forbidden", lang)
    params = {k: v for k, v in command.items() if k not in ("key", "scenario", "action", "lang")}
    if action in found.reads_only:
        with database.connection_context():
            return _run(found, principal, action, params, lang)

    def once():
        result = _run(found, principal, action, params, lang, reraise=True)
        # a key sent before fails here, on the key's unique index, and what this run wrote is
        # rolled back: a key is new far more often than not, so no scan looks it up first
        _store(key, principal, name, action, result)
        return result

    path = _DIRECT.get(name)
    try:
        try:
            if path is not None:
                result = path(principal, key, action, params)
                if result is not None:
                    return result
            return write_grouped(once)
        except DomainError as exc:
            result = refusal(exc.code, lang)
            with write_transaction():
                _store(key, principal, name, action, result)
            return result
    except IntegrityError:  # the key was sent before, or elsewhere at the same moment
        with database.connection_context():
            stored = _stored(key, principal)
        if stored is not None:
            return stored
        raise


def _nul_field(value, path: str = "") -> str | None:
    """The first field of a command (dotted, with list indexes) whose text or name holds a NUL
    character, or None."""
    if isinstance(value, str):
        return (path or "command") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return name
            found = _nul_field(item, name)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_field(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _run(found: Scenario, principal, action, params, lang, reraise=False) -> dict:
    try:
        return found.handler(principal, action, params)
    except DomainError as exc:
        if reraise:
            raise
        return refusal(exc.code, lang)


# Every scan stores its result, and a key sent again reads it, so both are written out (see server.db.sql).

def _store(key: str, principal: Principal, name: str, action: str, result: dict) -> None:
    sql('INSERT INTO command_result ("key", user_id, scenario, action, result, at) VALUES (?, ?, ?, ?, ?, ?)',
        key, principal.user.id, name, action, jsontext.dumps(result, ensure_ascii=False),
        CommandResult.at.db_value(utcnow()))


def _stored(key: str, principal: Principal) -> dict | None:
    row = sql_row('SELECT user_id, result FROM command_result WHERE "key" = ?', key)
    if row is None:
        return None
    user_id, result = row
    if user_id != principal.user.id:
        return refusal("bad_command", principal.lang)
    result = jsontext.loads(result)
    render = _RENDERERS.get(result.get("render")) if isinstance(result, dict) else None
    return render(result) if render is not None else result


# --- forgetting old results ----------------------------------------------------------------------
# A stored result only has to outlive the longest a device may hold a scan in its offline queue;
# at a thousand scans a second the table would otherwise grow by tens of millions of rows a day.

def forget(older_than_h: float, batch: int = 1000, pause_s: float = 0.02) -> int:
    """Delete the results stored more than ``older_than_h`` hours ago, ``batch`` rows per
    short transaction with a pause between, so scans keep flowing meanwhile; returns how many.
    A key replayed after that runs again as a new command."""
    cutoff = utcnow() - dt.timedelta(hours=older_than_h)
    total = 0
    while True:
        with write_transaction():
            keys = [key for (key,) in CommandResult.select(CommandResult.key)
                    .where(CommandResult.at < cutoff).limit(batch).tuples()]
            if keys:
                CommandResult.delete().where(CommandResult.key.in_(keys)).execute()
        total += len(keys)
        if len(keys) < batch:
            return total
        time.sleep(pause_s)


def forget_forever(ttl_h: float, every_s: float = 60.0) -> None:
    """The serving process's housekeeping loop (a background task): forget old results."""
    log = logging.getLogger(__name__)
    while True:
        try:
            with database.connection_context():
                forgotten = forget(ttl_h)
            if forgotten:
                log.info("forgot %d command results older than %s h", forgotten, ttl_h)
        except Exception:  # the next round tries again; scans are not affected
            log.exception("forgetting old command results failed")
        time.sleep(every_s)
