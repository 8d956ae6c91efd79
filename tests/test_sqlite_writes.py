"""SQLite under several server processes: a write that finds another process writing waits by
sleeping its greenlet, so the rest of its process keeps answering, and checkpoints run in a
thread of their own instead of inside a scan's commit.

SQLite only: PostgreSQL has neither a single writer lock nor a WAL file to checkpoint (its
writes are covered by every other database test, on both engines)."""
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from server.db import init_database, write_transaction

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WAITER = textwrap.dedent("""
    import json, sys, time
    from gevent import monkey; monkey.patch_all()
    import gevent
    from server.db import database, init_database, sql, write_transaction
    init_database("sqlite:///" + sys.argv[1], busy_timeout_ms=5000)
    ticks = []

    def ticker():
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(0.01)

    gevent.spawn(ticker)
    gevent.sleep(0.05)
    print("ready", flush=True)
    sys.stdin.readline()  # the other process holds the write lock now
    began = time.monotonic()
    with database.connection_context(), write_transaction():
        sql("INSERT INTO note (text) VALUES (?)", "from the waiting process")
    waited = time.monotonic() - began
    during = [t for t in ticks if began <= t <= began + waited]
    gaps = [b - a for a, b in zip(during, during[1:])]
    print(json.dumps({"waited_s": waited, "ticks": len(during), "longest_gap_s": max(gaps, default=0)}))
""")


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_write_waiting_for_another_process_does_not_freeze_its_own(tmp_path, engine):
    path = tmp_path / "floor.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=wal")
    holder.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
    waiter = subprocess.Popen([sys.executable, "-c", WAITER, str(path)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        assert waiter.stdout.readline().strip() == "ready"
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO note (text) VALUES ('from the holding process')")
        waiter.stdin.write("go\n")
        waiter.stdin.flush()
        time.sleep(0.4)
        holder.execute("COMMIT")
        out, err = waiter.communicate(timeout=30)
        assert waiter.returncode == 0, err[-3000:]
    finally:
        if waiter.poll() is None:
            waiter.kill()
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["waited_s"] >= 0.3  # it did wait for the other process's commit
    # and meanwhile its other greenlets ran: SQLite's busy handler would have frozen them all
    assert seen["ticks"] >= 10 and seen["longest_gap_s"] < 0.1, seen
    rows = [text for (text,) in holder.execute("SELECT text FROM note ORDER BY id")]
    assert rows == ["from the holding process", "from the waiting process"]
    holder.close()


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_write_gives_up_with_an_error_once_its_timeout_is_spent(tmp_path, engine):
    path = tmp_path / "floor.db"
    database = init_database(f"sqlite:///{path}", busy_timeout_ms=200)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=wal")
    holder.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        began = time.monotonic()
        with pytest.raises(Exception, match="locked"), database.connection_context(), write_transaction():
            database.execute_sql("INSERT INTO note (text) VALUES ('never')")
        assert 0.2 <= time.monotonic() - began < 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        database.obj.close_all()
    with sqlite3.connect(path) as check:  # the timeout is the connection's own again
        assert check.execute("SELECT COUNT(*) FROM note").fetchone() == (0,)


@pytest.mark.parametrize("engine", ["sqlite"])
def test_checkpoints_run_in_their_own_thread(tmp_path, engine):
    path = tmp_path / "floor.db"
    database = init_database(f"sqlite:///{path}")
    try:
        database.obj.checkpoint_in_background(every_s=0.05)
        with database.connection_context():
            # commits leave checkpoints to the thread unless the WAL passes the fallback
            assert database.execute_sql("PRAGMA wal_autocheckpoint").fetchone() == (20000,)
            database.execute_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
            size_before = os.path.getsize(path)
            for n in range(50):
                with write_transaction():
                    database.execute_sql("INSERT INTO note (text) VALUES (?)", ("x" * 2000 + str(n),))
        deadline = time.monotonic() + 5
        while os.path.getsize(path) < size_before + 50 * 2000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.getsize(path) >= size_before + 50 * 2000  # the rows reached the database file
    finally:
        database.obj.close_all()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT COUNT(*) FROM note").fetchone() == (50,)
