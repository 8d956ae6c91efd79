"""The database: SQLite (embedded default) or PostgreSQL, chosen by URL.

SQLite under gevent: a greenlet that yields while it holds a write transaction makes every
other writer sleep inside C for the whole busy timeout, which freezes the process. So every
write transaction goes through :func:`write_transaction`, which serialises writers of this
process with one lock, opens SQLite transactions as ``BEGIN IMMEDIATE`` (so two processes
never deadlock upgrading a read lock) and runs after-commit hooks (event emits) only once
the lock is released.

Several server processes on one SQLite file: while another process writes, ``BEGIN IMMEDIATE``
is tried again after a short sleep of this greenlet (:class:`SqliteDatabase`), instead of in
SQLite's busy handler, which sleeps 1, 2, 5, 10 ... ms inside C with the whole process frozen.

Checkpoints: by default the commit that fills the WAL past 1,000 pages copies it into the
database file and syncs it, 3-25 ms during which a serving process answers nobody (measured:
one commit in a hundred, half of all commit time). A serving process moves them to an OS
thread of its own (:meth:`SqliteDatabase.checkpoint_in_background`).
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import sqlite3
import threading
import time
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from urllib.parse import urlparse

import orjson
import peewee
from peewee import DatabaseProxy
from playhouse.pool import PooledPostgresqlDatabase


class _Proxy(DatabaseProxy):
    """The shared database, switched by :func:`init_database`. A proxy forwards an attribute only
    after Python has failed to find it, formatted an AttributeError message and dropped it again:
    26 times a scan, 9 % of its instructions. So what the scan path asks for is forwarded
    by name, and the context managers are the database's own."""

    def connection_context(self):
        return self.obj.connection_context()

    def atomic(self, *args, **kwargs):
        return self.obj.atomic(*args, **kwargs)

    def transaction(self, *args, **kwargs):
        return self.obj.transaction(*args, **kwargs)

    def savepoint(self):
        return self.obj.savepoint()

    def execute_sql(self, sql, params=None):
        return self.obj.execute_sql(sql, params)

    def execute(self, query, **context_options):
        return self.obj.execute(query, **context_options)

    def is_closed(self):
        return self.obj.is_closed()

    def connect(self, reuse_if_open=False):
        return self.obj.connect(reuse_if_open)

    def close(self):
        return self.obj.close()

    def in_transaction(self):
        return self.obj.in_transaction()


database = _Proxy()

_local = threading.local()
_lock = None
_lock_guard = threading.Lock()
_greenlets = False  # the write lock is gevent's: this process serves from greenlets


def _write_lock():
    """One writer lock per process; a gevent semaphore when gevent has patched threading."""
    global _lock, _greenlets
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
                    _greenlets = True
                else:
                    _lock = threading.Lock()
    return _lock


class SqliteDatabase(peewee.SqliteDatabase):
    """SQLite for the floor: connections kept for reuse, the one returned last handed out first
    (its page cache is the warmest), with none of a pool's locks and bookkeeping (peewee's
    pool took 40 us to lend and take back a connection, on every scan); ``BEGIN IMMEDIATE``
    waits for another process's write transaction by sleeping (a greenlet's sleep under gevent),
    never in SQLite's busy handler."""

    FIRST_WAIT_S = 0.0002
    LONGEST_WAIT_S = 0.002

    def __init__(self, *args, busy_timeout_ms: int = 10000, max_idle: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.busy_timeout_ms = busy_timeout_ms
        self.max_idle = max_idle
        self._idle: list = []  # connections ready to lend, the warmest last
        self._made: set = set()  # every connection open, lent or not (close_all closes them)
        self._checkpointing = False

    def connect(self, reuse_if_open=False):
        state = self._state
        if not state.closed:
            if reuse_if_open:
                return False
            raise peewee.OperationalError("Connection already opened.")
        state.set_connection(self.lend())
        return True

    def close(self):
        state = self._state
        if state.closed:
            return False
        if self.in_transaction():
            raise peewee.OperationalError("Attempting to close database while transaction is open.")
        conn = state.conn
        state.reset()
        if conn.in_transaction:  # never lend on a transaction someone left open
            conn.rollback()
        self.take_back(conn)
        return True

    def close_idle(self) -> None:
        while self._idle:
            conn = self._idle.pop()
            self._made.discard(conn)
            conn.close()

    def execute_sql(self, sql, params=None):
        """peewee's own, with one look at the connection state instead of three: the scan path
        sends 15-20 statements a scan. peewee's path still runs while a query hook or its debug
        log listens, or while no connection is open."""
        state = self._state
        if state.closed or self.query_hooks or peewee.logger.isEnabledFor(logging.DEBUG):
            return super().execute_sql(sql, params)
        with peewee.__exception_wrapper__:
            cursor = state.conn.cursor()
            cursor.execute(sql, params or ())
        return cursor

    def lend(self):
        """A connection of the pool's, the warmest first: a greenlet's (:meth:`connect`), or one
        kept outside any greenlet's state (a group of commands' transaction); give it back with
        :meth:`take_back`."""
        try:
            return self._idle.pop()
        except IndexError:
            with peewee.__exception_wrapper__:
                conn = self._connect()
            self._made.add(conn)
            return conn

    def take_back(self, conn) -> None:
        """Keep ``conn`` for the next lend, or close it: the pool is full, or a transaction is
        still open on it (a rollback that failed)."""
        if len(self._idle) < self.max_idle and not conn.in_transaction:
            self._idle.append(conn)
        else:
            self._made.discard(conn)
            conn.close()

    def begin(self, lock_type=None):
        if lock_type != "IMMEDIATE":
            return super().begin(lock_type)
        self.begin_immediate(self.cursor())

    def begin_immediate(self, cursor) -> None:
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            wait, deadline = self.FIRST_WAIT_S, time.monotonic() + self.busy_timeout_ms / 1000
            while True:
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        with peewee.__exception_wrapper__:  # raises it again, as peewee's own error
                            cursor.execute("BEGIN IMMEDIATE")
                        return
                time.sleep(wait)
                wait = min(2 * wait, self.LONGEST_WAIT_S)
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")

    def checkpoint_in_background(self, every_s: float = 0.2, fallback_pages: int = 20000) -> None:
        """Copy the WAL into the database file from an OS thread every ``every_s`` (a PASSIVE
        checkpoint: it waits for no reader and no writer, and its sync happens outside the GIL);
        commits then checkpoint only if the WAL passes ``fallback_pages`` (the thread fell behind).
        :meth:`stop_checkpoints` (or :meth:`close_all`) ends the thread."""
        self._pragmas = [(k, v) for k, v in self._pragmas if k != "wal_autocheckpoint"]
        self._pragmas.append(("wal_autocheckpoint", int(fallback_pages)))
        self.close_idle()  # the connections made from now on get the pragma
        self._checkpointing = True
        # a raw OS thread: gevent patched threading.Thread's start-up handshake into a greenlet's
        unpatched("_thread", "start_new_thread")(self._checkpoints, (every_s,))

    def stop_checkpoints(self) -> None:
        self._checkpointing = False

    def close_all(self) -> None:
        """Close every connection, lent or not (a test dropping its database, a tool exiting)."""
        self.stop_checkpoints()
        self.close_idle()
        for conn in list(self._made):
            conn.close()
        self._made.clear()
        self._state.reset()

    def _checkpoints(self, every_s: float) -> None:
        log = logging.getLogger(__name__)
        sleep = unpatched("time", "sleep")
        conn = sqlite3.connect(self.database, timeout=self.busy_timeout_ms / 1000, isolation_level=None,
                               check_same_thread=False)
        try:
            while self._checkpointing:
                sleep(every_s)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:  # the next round tries again; a commit checkpoints past the fallback
                    log.exception("background checkpoint failed")
        finally:
            conn.close()


class PostgresqlDatabase(PooledPostgresqlDatabase):
    """PostgreSQL with pooled connections. peewee pings a pooled connection (``SELECT 1``, a
    round trip) every time it lends one: 13 % of a scan's time. Here a connection given back
    less than ``PING_AFTER_S`` ago and left idle is lent without one. A connection the server
    dropped meanwhile fails its next statement once, and is then not lent again."""

    PING_AFTER_S = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._given_back: dict[int, float] = {}  # connection key -> when it was last given back

    def _close(self, conn, close_conn=False):
        if not close_conn:
            self._given_back[self.conn_key(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _close_raw(self, conn):
        self._given_back.pop(self.conn_key(conn), None)
        super()._close_raw(conn)

    def _is_closed(self, conn):
        given_back = self._given_back.get(self.conn_key(conn))
        if (given_back is not None and time.monotonic() - given_back < self.PING_AFTER_S and not conn.closed
                and self._adapter.txn_status(conn) == self._adapter.txn_idle):
            return False
        return super()._is_closed(conn)


def unpatched(module: str, name: str):
    """The standard library's own ``module.name``, even where gevent has patched it."""
    try:
        from gevent import monkey
        return monkey.get_original(module, name)
    except ImportError:  # pragma: no cover - gevent is a dependency
        import importlib
        return getattr(importlib.import_module(module), name)


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


SYNCHRONOUS_COMMIT = ("on", "off", "local")


def make_database(url: str, pool_size: int = 20, busy_timeout_ms: int = 10000, synchronous_commit: str = "on"):
    parsed = urlparse(url)
    scheme = parsed.scheme.split("+")[0]
    if scheme == "sqlite":
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path  # sqlite:///abs -> /abs
        if not path:
            raise ValueError(f"no file in database URL {url!r}")
        return SqliteDatabase(
            path, busy_timeout_ms=busy_timeout_ms, max_idle=pool_size,
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
        if synchronous_commit not in SYNCHRONOUS_COMMIT:
            raise ValueError(f"PG_SYNCHRONOUS_COMMIT is one of {', '.join(SYNCHRONOUS_COMMIT)}, not {synchronous_commit!r}")
        options = {} if synchronous_commit == "on" else {"options": f"-c synchronous_commit={synchronous_commit}"}
        return PostgresqlDatabase(
            parsed.path.lstrip("/") or "postgres",
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or None,
            password=parsed.password or None,
            max_connections=pool_size, stale_timeout=300, timeout=30, **options,
        )
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://HOST/DB")


def init_database(url: str, pool_size: int = 20, busy_timeout_ms: int = 10000, synchronous_commit: str = "on"):
    """Point the shared proxy at ``url``. Safe to call again (tests switch databases)."""
    if database.obj is not None:
        database.obj.close_all()
    if url.startswith("sqlite"):
        from pathlib import Path
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    database.initialize(make_database(url, pool_size, busy_timeout_ms, synchronous_commit))
    return database


_statements: dict[tuple[str, str], str] = {}


def _for_engine(statement: str) -> str:
    """``statement`` with its ``?`` placeholders in the engine's own style."""
    param = database.obj.param
    text = _statements.get((statement, param))
    if text is None:
        text = _statements[(statement, param)] = statement.replace("?", param)
    return text


def sql(statement: str, *params):
    """Run a statement written out by hand, with ``?`` placeholders, on either engine; returns
    the cursor. Kept for the scan path, where peewee takes longer to build a query (~0.4 ms)
    than SQLite takes to run it; everything else goes through the models."""
    return database.execute_sql(_for_engine(statement), params)


def sql_many(statement: str, rows) -> None:
    """:func:`sql` once for each tuple of ``rows`` (the driver's ``executemany``): a wave's
    thousands of pick lines, which peewee's insert_many built value by value."""
    with peewee.__exception_wrapper__:
        database.obj.cursor().executemany(_for_engine(statement), rows)


@contextmanager
def pipeline():
    """PostgreSQL: the statements run inside go to the server together, and their answers come
    back together when the block ends (psycopg's pipeline mode), so a chunk of writes costs one
    round trip, not one each. A statement's error is raised there, and those after it did not
    run. Only for statements whose answers are not read inside the block: reading one sends
    what is queued and waits. SQLite: each statement runs when it is given, as outside."""
    if is_sqlite():
        yield
        return
    with peewee.__exception_wrapper__, database.obj.connection().pipeline():
        yield


def next_ids(*wanted: tuple) -> list[list[int]]:
    """PostgreSQL: ``next_ids((Model, n), ...)`` takes n ids from each model's id sequence in one
    round trip, so that rows inserted with them need no ``RETURNING`` and can go in a
    :func:`pipeline`."""
    parts = ", ".join(f"ARRAY(SELECT nextval(pg_get_serial_sequence('\"{model._meta.table_name}\"', 'id'))"
                      f" FROM generate_series(1, {int(count)}))" for model, count in wanted)
    return [list(ids) for ids in database.execute_sql(f"SELECT {parts}").fetchone()]


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
def _savepoint(name: str):
    """A nested write's savepoint, named by its depth: peewee names each one anew (a uuid), and
    SQLite then prepares every SAVEPOINT and RELEASE again, 35 us each instead of 4."""
    database.execute_sql(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        try:
            database.execute_sql(f"ROLLBACK TO SAVEPOINT {name}")
            database.execute_sql(f"RELEASE SAVEPOINT {name}")
        except Exception:  # the connection is gone: the outer transaction fails with the first error
            pass
        raise
    database.execute_sql(f"RELEASE SAVEPOINT {name}")


@contextmanager
def write_transaction(savepoint: bool = True):
    """The one way to write. A nested call is a savepoint of the outer transaction: if it fails,
    its writes and the events it published are undone, and the outer one goes on if the caller
    catches the error. With ``savepoint=False`` a nested call simply joins the outer transaction:
    for writes whose refusals all come before they write, so that what fails after is a
    database error, which ends the outer transaction too."""
    state = _state()
    if state.depth and not savepoint:
        yield
        return
    if state.depth:
        state.depth += 1
        told = len(state.after_commit)
        try:
            with _savepoint(f"wf_{state.depth}"):
                yield
        except BaseException:
            del state.after_commit[told:]  # what the undone writes would have told
            raise
        finally:
            state.depth -= 1
        return
    lock = _write_lock() if is_sqlite() else None
    callbacks = []
    if lock is not None:
        lock.acquire()
        if _group is not None:  # commands left a transaction open on another connection
            _group.finish()
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


# --- commands committing together --------------------------------------------------------------
# A scan alone in its transaction spent a fifth of its time in BEGIN and COMMIT: SQLite writes
# every page the transaction touched to the WAL (six pages, twelve writes, for a location scan),
# and the command_result, stock_move and pick_task pages of commands arriving together are
# mostly the same pages. So under gevent the commands of one turn of the event loop run one
# after another in one transaction, each under the write lock as before, and commit together
# once the loop has run what was ready; each answers only after that commit. A command that
# fails after writing would take the others' writes with it (savepoints would cost what the
# shared commit saves), so the group is rolled back and every member runs again alone, in a
# transaction of its own; one that fails before writing leaves the group alone.

GROUP_LIMIT = 32  # commands in one transaction: the first of them waits for the last
_AGAIN = object()
grouped = {"groups": 0, "commands": 0}  # committed so far, for /metrics and the tests
retried = {"transactions": 0}  # aborted by PostgreSQL (a deadlock) and run again, for /metrics and the tests
RETRIES = 3
# PostgreSQL aborts one transaction of a lock cycle (40P01) or a conflict under serializable
# isolation (40001): running it again is the remedy its manual gives
RUN_AGAIN = ("40P01", "40001")
_group: _Group | None = None


class _Group:
    """One write transaction that several commands' work shares, on a connection of its own."""

    def __init__(self, db: SqliteDatabase):
        from gevent.event import Event

        self.db = db
        self.conn = db.lend()
        self.size = 0
        self.outcome = None  # True once committed, _AGAIN once rolled back
        self.done = Event()
        try:
            db.begin_immediate(self.conn.cursor())
        except BaseException:
            db.take_back(self.conn)
            raise

    def run(self, work, state):
        """``work()`` in this transaction, as this greenlet's connection; returns its result,
        its after-commit callbacks and the exception it raised (or None)."""
        pw = self.db._state
        saved = pw.closed, pw.conn, pw.ctx, pw.transactions, pw.commit_callbacks
        # the group stands in the connection-context and transaction stacks: a connection
        # context opened inside work() neither closes nor lends this connection, and an atomic()
        # there is a savepoint
        pw.closed, pw.conn, pw.ctx, pw.transactions, pw.commit_callbacks = False, self.conn, [self], [self], []
        callbacks = state.after_commit = []
        state.depth = 1
        changes = self.conn.total_changes
        self.size += 1
        try:
            return work(), callbacks, None
        except BaseException as exc:
            if self.conn.total_changes != changes:  # it wrote before failing: undo everyone's
                self.finish(commit=False)
            if not isinstance(exc, Exception):
                raise
            return None, callbacks, exc
        finally:
            state.depth = 0
            state.after_commit = []
            pw.closed, pw.conn, pw.ctx, pw.transactions, pw.commit_callbacks = saved

    def finish(self, commit: bool = True) -> None:
        """Commit (or roll back) and wake the members; the caller holds the write lock."""
        global _group
        if _group is self:
            _group = None
        try:
            if commit:
                self.conn.commit()
                self.outcome = True
                grouped["groups"] += 1
                grouped["commands"] += self.size
            else:
                self.conn.rollback()
        except Exception:
            logging.getLogger(__name__).exception("a group of commands failed to commit; each runs again alone")
            try:
                self.conn.rollback()
            except Exception:
                pass
        if self.outcome is None:
            self.outcome = _AGAIN
        self.db.take_back(self.conn)
        self.done.set()

    def finish_when_due(self) -> None:
        """The group's committer: started when the group opens, it runs after what the event
        loop had ready (the commands that join), then commits."""
        lock = _write_lock()
        lock.acquire()
        try:
            if _group is self:
                self.finish()
        finally:
            lock.release()


def _spawn_raw(function) -> None:
    from gevent import spawn_raw
    spawn_raw(function)


def _tell(callbacks) -> None:
    """The after-commit callbacks of work whose greenlet is gone: what it wrote still committed."""
    for callback in callbacks:
        try:
            callback()
        except Exception:
            logging.getLogger(__name__).exception("an after-commit callback failed")


def _driver_error(exc: BaseException) -> BaseException | None:
    """psycopg's error inside ``exc`` (peewee's wrapper of it, or the error itself), or None."""
    for _ in range(3):
        if getattr(exc, "sqlstate", None) is not None:
            return exc
        cause = getattr(exc, "orig", None) or exc.__cause__  # peewee keeps the driver's error as .orig
        if cause is None:
            return None
        exc = cause
    return None


def sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of ``exc`` (peewee's wrapper of psycopg's error, or psycopg's own)."""
    error = _driver_error(exc)
    return None if error is None else error.sqlstate


def raised(exc: BaseException, state: str) -> str | None:
    """The message of a function's ``RAISE ... USING ERRCODE = state`` inside ``exc``, or None
    when ``exc`` is another error."""
    error = _driver_error(exc)
    if error is None or error.sqlstate != state:
        return None
    return error.diag.message_primary or ""


def aborted_to_run_again(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL ending the transaction so that it may run again."""
    return sqlstate(exc) in RUN_AGAIN


def _alone(work):
    """``work()`` in a write transaction of its own, run again (at most RETRIES times, after a
    short random pause) when PostgreSQL aborts that transaction to break a lock cycle."""
    for attempt in range(RETRIES + 1):
        try:
            with write_transaction():
                return work()
        except Exception as exc:
            if attempt == RETRIES or not aborted_to_run_again(exc):
                raise
            retried["transactions"] += 1
            logging.getLogger(__name__).warning("transaction aborted (%s); running it again", exc)
        time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))


def write_retrying(work):
    """``work()`` as a write transaction (like ``with write_transaction(): return work()``)
    that, when it is the outermost one, runs again when PostgreSQL aborts it to break a lock
    cycle (see :func:`_alone`). Nested, it is a savepoint of the outer transaction, whose
    owner runs again or not. ``work`` must change nothing outside the database except through
    :func:`after_commit`."""
    if _state().depth:
        with write_transaction():
            return work()
    return _alone(work)


def write_grouped(work):
    """``work()`` as a write transaction (like ``with write_transaction(): return work()``) that
    may commit together with other commands' work; returns once it has committed. ``work`` may
    run a second time, alone, if the group had to be rolled back, or if PostgreSQL aborted its
    transaction to break a deadlock: it must change nothing outside the database except
    through :func:`after_commit`."""
    global _group
    state = _state()
    db = database.obj
    lock = _write_lock()
    if state.depth or not (_greenlets and isinstance(db, SqliteDatabase)):
        return write_retrying(work)  # nested, or no group to share: as any other retrying write
    lock.acquire()
    try:
        group = _group
        if group is None:
            group = _group = _Group(db)
            _spawn_raw(group.finish_when_due)
        result, callbacks, error = group.run(work, state)
        if _group is group and group.size >= GROUP_LIMIT:
            group.finish()
    finally:
        lock.release()
    try:
        group.done.wait()
    except BaseException:  # this greenlet is being killed while its work waits for the commit
        if error is None:
            def committed(_event):
                # told only if the group committed; rolled back, the work is lost as if never sent
                if group.outcome is True:
                    _spawn_raw(lambda: _tell(callbacks))
            group.done.rawlink(committed)
        raise
    if group.outcome is _AGAIN:
        with write_transaction():
            return work()
    if error is not None:
        raise error
    for callback in callbacks:
        callback()
    return result


# --- calls of one PostgreSQL function, committed together -----------------------------------

class CallGroups:
    """Calls of one PostgreSQL function that commit together, for a serving process under gevent.

    ``statement`` takes the calls as one JSON array (each call's arguments, a list) and answers
    one row a call: its index, what the call answered, then the SQLSTATE and message it
    failed with (NULL, NULL when it did not); the function runs each call in a block of its own
    (migrations/0023_pick_scans_together.py). A call that arrives while no group is in flight is
    sent at once, alone; calls that arrive meanwhile wait for it and go together in the next, so
    the groups grow with the load and a quiet floor waits for nobody. One group is in flight per
    process, sent by a greenlet of its own: a caller that is killed leaves its call to go or not.
    (Two groups of one process in flight at once, each holding rows the other wanted, waited on
    each other: 48 picking scans a second instead of 1,245 in tests/bench/bench_scans.py.)
    That greenlet keeps its connection between groups, so the function's plans stay in one
    backend: a backend runs a PL/pgSQL function's statements slowly the first time (a group of
    scans took 9 to 18 ms instead of about 1), and connections lent from the pool changed with
    whichever one was free, and every five minutes (the pool's ``stale_timeout``).
    Outside gevent (a CLI, a test's thread) every call is sent alone."""

    def __init__(self, statement: str, limit: int = GROUP_LIMIT):
        self.statement = statement
        self.limit = limit
        self.waiting: list = []  # (arguments, AsyncResult) not yet sent
        self.sending = False  # the sending greenlet runs
        self.wake = None  # its gevent Event, set when calls are waiting

    def call(self, *arguments) -> tuple:
        """``(answer, sqlstate, message)`` of one call: the function's columns for it, and its
        failure (both None if it did not fail). Raises what the statement as a whole raised."""
        _write_lock()  # learns whether this process serves from greenlets
        if not _greenlets:
            return self._send([arguments])[0]
        from gevent.event import AsyncResult

        result = AsyncResult()
        self.waiting.append((arguments, result))
        if not self.sending:
            self.sending = True
            _spawn_raw(self._sender)
        elif self.wake is not None:
            self.wake.set()
        return result.get()

    def _sender(self) -> None:
        """The sending greenlet: the waiting calls, group after group, on a connection it keeps
        until the connection fails; then on another."""
        from gevent.event import Event

        self.wake = Event()
        try:
            while True:
                self._wait_for_calls()  # no connection asked for without calls (nor again and again)
                try:
                    with database.connection_context():
                        self._send_on(database.connection())
                except Exception as exc:  # no connection to be had: the next group's callers hear it
                    group, self.waiting = self.waiting[:self.limit], self.waiting[self.limit:]
                    for _, result in group:
                        result.set_exception(exc)
        finally:  # killed (the process ends, a test's hub goes)
            self.wake = None
            if self.waiting:  # another sends the calls still waiting
                _spawn_raw(self._sender)
            else:
                self.sending = False

    def _send_on(self, connection) -> None:
        """Send the waiting groups on ``connection``, waiting for calls between them, until the
        connection fails with a group (the server dropped it) or, idle for longer than the pool
        would lend it without asking, does not answer. A statement that fails as a whole on a
        sound connection (a face's stock taken meanwhile, a lock cycle) keeps it."""
        used = time.monotonic()
        while True:
            self._wait_for_calls()
            if time.monotonic() - used > PostgresqlDatabase.PING_AFTER_S and database.obj._is_closed(connection):
                return
            group, self.waiting = self.waiting[:self.limit], self.waiting[self.limit:]
            try:
                answers = self._send([arguments for arguments, _ in group])
            except BaseException as exc:  # the statement failed as a whole: each caller hears it
                for _, result in group:
                    result.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                adapter = database.obj._adapter
                if connection.closed or connection.broken or adapter.txn_status(connection) != adapter.txn_idle:
                    return
                continue
            used = time.monotonic()
            for (_, result), answer in zip(group, answers):
                result.set(answer)

    def _wait_for_calls(self) -> None:
        while not self.waiting:
            self.wake.clear()
            self.wake.wait()

    def _send(self, calls: list) -> list:
        with database.connection_context():
            rows = sql(self.statement, orjson.dumps(calls).decode()).fetchall()
        if len(rows) != len(calls):
            raise peewee.DatabaseError(f"{len(calls)} calls answered {len(rows)} rows")
        grouped["groups"] += 1  # /metrics: commits that commands shared, as SQLite's groups
        grouped["commands"] += len(calls)
        rows.sort(key=itemgetter(0))
        return [(row[1:-2], row[-2], row[-1]) for row in rows]


# --- many rows at once ------------------------------------------------------------------------

def insert_rows(model, rows: list[dict], returning: tuple = ()) -> list[tuple]:
    """A multi-row INSERT written once per chunk of rows (the query builder costs more than the
    database here: the order import's chunks, their ledger lines). Every row has the same keys:
    model field names, foreign keys as ids. Returns the ``returning`` columns of each row."""
    if not rows:
        return []
    rows, names, fields, kinds, convert = _columns(model, rows)
    if not is_sqlite() and all(pg_type for pg_type, _ in kinds):
        cursor = database.execute_sql(*_json_insert(model, rows, names, fields, kinds, convert, returning))
        return cursor.fetchall() if returning else []
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    tail = (" RETURNING " + ", ".join(f'"{c}"' for c in returning)) if returning else ""
    values = list(map(itemgetter(*names), rows)) if len(names) > 1 else [(row[names[0]],) for row in rows]
    if convert:
        values = [tuple(f.db_value(v) if i in convert else v for i, (f, v) in enumerate(zip(fields, row)))
                  for row in values]
    row_sql = "(" + ", ".join([database.param] * len(names)) + ")"
    per_statement = max(1, 30000 // len(names))
    out = []
    for start in range(0, len(values), per_statement):
        chunk = values[start:start + per_statement]
        statement = (f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES '
                     + ", ".join([row_sql] * len(chunk)) + tail)
        cursor = database.execute_sql(statement, list(chain.from_iterable(chunk)))
        if returning:
            out.extend(cursor.fetchall())
    return out


def insert_later(model, rows: list[dict]):
    """:func:`insert_rows` made now and sent when the returned function is called: a chunk's
    statements are built on the thread that plans it and sent from the thread that writes it.
    On PostgreSQL the rows are turned into their JSON document now; on SQLite, or for a column
    the document cannot carry, everything happens at the call."""
    if not rows:
        return lambda: None
    if is_sqlite():
        return lambda: insert_rows(model, rows)
    rows, names, fields, kinds, convert = _columns(model, rows)
    if not all(pg_type for pg_type, _ in kinds):
        return lambda: insert_rows(model, rows)
    statement, params = _json_insert(model, rows, names, fields, kinds, convert, ())
    return lambda: database.execute_sql(statement, params)


def _columns(model, rows: list[dict]):
    """The rows with the model's defaults filled in, their field names, fields, column kinds and
    the indexes of the columns whose values need the field's own conversion."""
    defaults = {name: (f.default() if callable(f.default) else f.default)
                for name, f in model._meta.fields.items()
                if name not in rows[0] and f.default is not None and not f.primary_key}
    if defaults:
        rows = [dict(defaults, **row) for row in rows]
    names = list(rows[0])
    fields = [model._meta.fields[name] for name in names]
    kinds = [_column_kind(f) for f in fields]
    convert = [i for i, (name, (_, as_is)) in enumerate(zip(names, kinds))
               if not set(map(type, map(itemgetter(name), rows))) <= as_is]
    return rows, names, fields, kinds, convert


def _json_insert(model, rows, names, fields, kinds, convert, returning) -> tuple[str, list]:
    """PostgreSQL: the chunk as one JSON document that the server takes apart. psycopg reads a
    statement's text for its placeholders, and for the multi-row form that took longer than the
    database took to insert; an array a column was better, but psycopg writes each element of an
    array in Python: 100,000 lines took 20.9 s that way, 18.1 s with orjson writing the whole
    chunk in C (tests/bench/bench_order_import.py). The rows go as they are, objects keyed by
    field name: copying them into others cost the import about a second."""
    if convert:  # a value the driver does not take as it is: the field's own conversion, for that column
        rows = [dict(row, **{names[i]: fields[i].db_value(row[names[i]]) for i in convert}) for row in rows]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    keys = ", ".join(f'"{name}"' for name in names)
    record = ", ".join(f'"{name}" {pg_type}' for name, (pg_type, _) in zip(names, kinds))
    tail = (" RETURNING " + ", ".join(f'"{c}"' for c in returning)) if returning else ""
    return (f'INSERT INTO "{model._meta.table_name}" ({columns}) SELECT {keys}'
            f" FROM json_to_recordset({database.param}::json) AS r({record})" + tail,
            [orjson.dumps(rows).decode()])


def _column_kind(field) -> tuple[str | None, set]:
    """A column's PostgreSQL type (for an array of its values; None if not one of these) and the
    value types its field's ``db_value`` returns unchanged (any other type is converted). A
    foreign key's are those of the key it refers to."""
    while isinstance(field, peewee.ForeignKeyField):
        field = field.rel_field
    for kind, pg_type, as_is in _KINDS:
        if isinstance(field, kind):
            return pg_type, as_is | {type(None)}
    return None, set()


_KINDS = ((peewee.BooleanField, "boolean", {bool}), (peewee.BigIntegerField, "bigint", {int}),
          (peewee.BigAutoField, "bigint", {int}), (peewee.IntegerField, "integer", {int}),
          (peewee._StringField, "text", {str}), (peewee.DateTimeField, "timestamp", {dt.datetime}))
