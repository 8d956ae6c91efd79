"""The database: SQLite (embedded default) or PostgreSQL, chosen by URL.

SQLite under gevent: a greenlet that yields while it holds a write transaction makes every
other writer sleep inside C for the whole busy timeout, which freezes the process. So every
write transaction goes through :func:`write_transaction`, which serialises writers of this
process with one lock, opens SQLite transactions as ``BEGIN IMMEDIATE`` (so two processes
never deadlock upgrading a read lock) and runs after-commit hooks (event emits) only once
the lock is released.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from urllib.parse import urlparse

from peewee import DatabaseProxy
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

database = DatabaseProxy()

_local = threading.local()
_lock = None
_lock_guard = threading.Lock()


def _write_lock():
    """One writer lock per process; a gevent semaphore when gevent has patched threading."""
    global _lock
    if _lock is None:
        with _lock_guard:
            if _lock is None:
                try:
                    from gevent import monkey
                    patched = monkey.is_module_patched("threading")
                except ImportError:  # pragma: no cover - gevent is a dependency
                    patched = False
                if patched:
                    from gevent.lock import Semaphore
                    _lock = Semaphore()
                else:
                    _lock = threading.Lock()
    return _lock


def is_sqlite() -> bool:
    return isinstance(database.obj, PooledSqliteDatabase)


def make_database(url: str, pool_size: int = 20, busy_timeout_ms: int = 10000):
    parsed = urlparse(url)
    scheme = parsed.scheme.split("+")[0]
    if scheme == "sqlite":
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path  # sqlite:///abs -> /abs
        if not path:
            raise ValueError(f"no file in database URL {url!r}")
        return PooledSqliteDatabase(
            path, max_connections=pool_size, stale_timeout=300, timeout=30,
            pragmas={
                "journal_mode": "wal",
                "synchronous": "normal",
                "foreign_keys": 1,
                "busy_timeout": busy_timeout_ms,
                "cache_size": -16000,
            },
            check_same_thread=False,
        )
    if scheme in ("postgres", "postgresql"):
        return PooledPostgresqlDatabase(
            parsed.path.lstrip("/") or "postgres",
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or None,
            password=parsed.password or None,
            max_connections=pool_size, stale_timeout=300, timeout=30,
        )
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://HOST/DB")


def init_database(url: str, pool_size: int = 20, busy_timeout_ms: int = 10000):
    """Point the shared proxy at ``url``. Safe to call again (tests switch databases)."""
    if database.obj is not None:
        database.obj.close_all()
    if url.startswith("sqlite"):
        from pathlib import Path
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    database.initialize(make_database(url, pool_size, busy_timeout_ms))
    return database


_statements: dict[tuple[str, str], str] = {}


def sql(statement: str, *params):
    """Run a statement written out by hand, with ``?`` placeholders, on either engine; returns
    the cursor. Kept for the scan path, where peewee takes longer to build a query (~0.4 ms)
    than SQLite takes to run it; everything else goes through the models."""
    param = database.obj.param
    text = _statements.get((statement, param))
    if text is None:
        text = _statements[(statement, param)] = statement.replace("?", param)
    return database.execute_sql(text, params)


def sql_row(statement: str, *params) -> tuple | None:
    """The first row of :func:`sql`, or None."""
    return sql(statement, *params).fetchone()


def _state():
    if not hasattr(_local, "depth"):
        _local.depth = 0
        _local.after_commit = []
    return _local


def after_commit(callback) -> None:
    """Run ``callback()`` once the outermost write transaction has committed (now if none is open)."""
    state = _state()
    if state.depth:
        state.after_commit.append(callback)
    else:
        callback()


def in_write_transaction() -> bool:
    return _state().depth > 0


@contextmanager
def write_transaction():
    """The one way to write. Nested calls join the outer transaction."""
    state = _state()
    if state.depth:
        state.depth += 1
        try:
            with database.atomic():
                yield
        finally:
            state.depth -= 1
        return
    lock = _write_lock() if is_sqlite() else None
    callbacks = []
    if lock is not None:
        lock.acquire()
    state.depth = 1
    state.after_commit = callbacks
    opened = database.is_closed()
    try:
        if opened:
            database.connect()
        with (database.atomic("IMMEDIATE") if lock is not None else database.atomic()):
            yield
    except BaseException:
        callbacks.clear()
        raise
    finally:
        state.depth = 0
        state.after_commit = []
        if opened:
            database.close()
        if lock is not None:
            lock.release()
    for callback in callbacks:
        callback()

