"""Picking scans on PostgreSQL in one round trip (scenarios/picking_direct.py, the functions of
migrations/0021, 0023 and 0024): counted on the wire, and checked step by step against the
Python path, which defines what a scan does. SQLite has no round trips and no such function:
these tests run on PostgreSQL only (the Python path's tests run on both engines)."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import peewee
import psycopg
import pytest

from server import events
from server.db import database, init_database, sql_row, sqlstate
from server.messages import text
from server.models import Location, Order, OrderEvent, PickFace, PickLine, Quant, ReplenishmentTask, StockMove
from server.services.device import commands
from server.services.scenarios import picking, picking_direct
from tests.scenario_driver import Driver
from tests.test_picking import cluster, picker, quant  # noqa: F401  (fixtures)
from tests.wire import Relay

ROOT = Path(__file__).resolve().parent.parent
PICKING = Driver("picking")
run, step = PICKING.run, PICKING.step

# the rows a scan may change, each without what differs between two runs of it (ids of new rows, times)
SNAPSHOT = {
    "pick_line": "SELECT id, seq, picked_qty, moved_qty, short_qty, tote, status FROM pick_line ORDER BY id",
    "pick_task": "SELECT id, status, picker_id, device_id, lines_total, lines_done, units_total, units_done,"
                 " started_at IS NULL FROM pick_task ORDER BY id",
    "wave": "SELECT id, status FROM wave ORDER BY id",
    "quant": "SELECT product_id, location_id, lot, state, qty, reserved FROM quant ORDER BY 1, 2, 3, 4",
    "stock_move": "SELECT product_id, lot, qty, reserved, from_location_id, from_state, to_location_id, to_state,"
                  " reason, ref, user_id, device_id FROM stock_move ORDER BY id",
    "order": 'SELECT id, status FROM "order" ORDER BY id',
    "order_line": "SELECT id, qty, reserved_qty, picked_qty, short_qty FROM order_line ORDER BY id",
    "allocation": "SELECT id, line_id, location_id, lot, qty FROM allocation ORDER BY id",
    "order_event": "SELECT order_id, user_id, action, detail FROM order_event ORDER BY id",
}


def snapshot() -> dict:
    return {name: database.execute_sql(query).fetchall() for name, query in SNAPSHOT.items()}


def direct_only(principal, code: str):
    """What the function answers and writes for ``code``, in a transaction rolled back after:
    (the envelope, the rows), or (None, None) when it leaves the scan to the Python path."""
    with database.connection_context():
        with database.atomic() as txn:
            try:
                (stored,) = sql_row("SELECT stored FROM wf_pick_scan(?, ?, ?, ?, ?)", principal.user.id,
                                    principal.device.id, uuid.uuid4().hex, code, principal.lang)
            except peewee.DatabaseError as exc:
                assert sqlstate(exc) == picking_direct.NOT_USUAL, exc
                txn.rollback()
                return None, None
            rows = snapshot()
            txn.rollback()
    return picking.render(json.loads(stored)), rows


def python_only(principal, code: str, monkeypatch) -> tuple[dict, dict]:
    with monkeypatch.context() as patch:
        patch.setitem(commands._DIRECT, "picking", lambda *args: None)
        answer = run(principal, "scan", code=code)
    with database.connection_context():
        return answer, snapshot()


WALK = [  # (code, what the scan is): the cluster task's first two lines, with every refusal on the way
    ("A-02", "wrong_location"), ("A-01", "location_ok"), ("no-such-code", "unknown_barcode"),
    ("T-001", "wrong_item"), ("16900000000011", "over_pick"), ("6900000000021", "wrong_item"),
    ("6900000000014", "item_counted"), ("A-01", "location_ok"), ("R-01", "empty_tote_for_slot"),
    ("6900000000014", "item_counted"), ("T-001", "line_picked"), ("A-01", "location_ok"),
    ("T-001", "wrong_item"), ("6900000000014", "item_counted"), ("T-001", "empty_tote_for_slot"),
    ("T-002", "line_picked"), ("16900000000011", "over_pick"), ("6900000000014", "item_counted"),
    ("T-001", "wrong_tote"), ("T-002", "line_picked"),
]


def test_the_function_answers_and_writes_what_the_python_path_does(cluster, picker, engine,  # noqa: F811
                                                                    monkeypatch):
    if engine == "sqlite":
        pytest.skip("the function is PostgreSQL's; SQLite's scans are the Python path")
    step(picker, "get_work")
    for code, expected in WALK:
        answer, rows = direct_only(picker, code)
        assert answer is not None, (code, "left to the Python path")
        truth, truth_rows = python_only(picker, code, monkeypatch)
        assert truth["message"]["code"] == expected, (code, truth)
        assert answer == truth, code
        assert rows == truth_rows, code
    # the task's last line finishes the task, its orders and the wave: the Python path does that
    step(picker, "scan", code="6900000000014")
    step(picker, "qty", qty=10)  # the rest of line 2's twelve, typed
    assert direct_only(picker, "T-002")[1] is not None
    step(picker, "scan", code="T-002")
    step(picker, "scan", code="A-02")
    step(picker, "scan", code="6900000000021")
    assert direct_only(picker, "T-001") == (None, None)
    assert step(picker, "scan", code="T-001")[0] == "task_done"
    assert {o.status for o in Order.select()} == {"picked"}


def test_a_key_sent_again_answers_the_same_and_changes_nothing(cluster, picker, engine):  # noqa: F811
    if engine == "sqlite":
        pytest.skip("the function is PostgreSQL's")
    step(picker, "get_work")
    for code in ("A-01", "6900000000014", "6900000000014"):
        step(picker, "scan", code=code)
    key = uuid.uuid4().hex
    first = run(picker, "scan", key=key, code="T-001")
    moves = StockMove.select().count()
    picker.language = "en"  # the device's language changed since: the stored answer is the first's
    assert run(picker, "scan", key=key, code="T-001") == first
    assert StockMove.select().count() == moves
    assert first["message"]["code"] == "line_picked" and first["message"]["text"] != text("line_picked", "en")
    refusal_key = uuid.uuid4().hex
    wrong = run(picker, "scan", key=refusal_key, code="A-02")
    assert wrong["message"]["code"] == "wrong_location"
    assert run(picker, "scan", key=refusal_key, code="A-02") == wrong
    # the order's first unit picked: its history names the picker, as the Python path's does
    event = OrderEvent.get((OrderEvent.order == cluster["order_a"].id) & (OrderEvent.action == "picking"))
    assert (event.user_id, event.detail) == (picker.user.id, "first unit picked")


def test_a_scan_is_one_round_trip_on_the_wire(cluster, picker, engine, db_url, monkeypatch):  # noqa: F811
    """DESIGN section 11: at most one round trip a location or item scan, two a tote scan;
    each of these is one (the statement commits on its own)."""
    if engine == "sqlite":
        pytest.skip("SQLite has no wire: its statements are counted in test_picking.py")
    from server.db import PostgresqlDatabase
    monkeypatch.setattr(PostgresqlDatabase, "PING_AFTER_S", 3600.0)  # no ping of a pooled connection between scans
    step(picker, "get_work")
    relay = Relay(5432)
    init_database(db_url.replace(":5432/", f":{relay.port}/"))
    try:
        # the connection's start, and psycopg preparing the statement on its sixth run (once per
        # connection: a Parse of its own, then Bind and Execute each time), are not a scan's:
        # six refused scans first
        for _ in range(6):
            assert run(picker, "scan", code="A-02")["message"]["code"] == "wrong_location"
        trips = {}
        for name, code in [("wrong location", "A-02"), ("location", "A-01"), ("item", "6900000000014"),
                           ("item again", "6900000000014"), ("tote", "T-001"), ("next location", "A-01"),
                           ("next item", "6900000000014"), ("next tote", "T-002"), ("one more", "6900000000014"),
                           ("wrong tote", "T-001"), ("same tote", "T-002")]:
            events.settle()  # the wall screen's update reads the database on a timer of its own
            with relay.count() as counted:
                step_or_refusal = run(picker, "scan", code=code)
            trips[name] = counted.turns
            assert step_or_refusal["message"]["code"] != "bad_command"
        events.settle()
    finally:
        init_database(db_url)
        relay.close()
    assert trips == {"location": 1, "item": 1, "item again": 1, "tote": 1, "next location": 1, "next item": 1,
                     "next tote": 1, "one more": 1, "same tote": 1, "wrong location": 1, "wrong tote": 1}, trips
    assert Location.select().count() > 0


def test_a_scan_reads_no_table_end_to_end(cluster, picker, engine, db_url):  # noqa: F811
    """migrations/0026: every statement of a group of scans (and the foreign-key checks of its
    inserts) reads by index, on the fixture's tables of a few rows with their statistics, where
    the planner would otherwise read them whole. The plans are PostgreSQL's own (auto_explain),
    in a transaction rolled back after."""
    if engine == "sqlite":
        pytest.skip("the function is PostgreSQL's")
    step(picker, "get_work")
    user, device = picker.user.id, picker.device.id
    with psycopg.connect(db_url) as conn:
        plans = []
        conn.add_notice_handler(lambda notice: plans.append(notice.message_primary))
        conn.execute("ANALYZE")  # the statistics of a database in service: these tables hold a few rows
        conn.execute("LOAD 'auto_explain'")
        for setting in ("auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on",
                        "auto_explain.log_level = notice", "client_min_messages = notice"):
            conn.execute(f"SET LOCAL {setting}")
        calls = [[user, device, uuid.uuid4().hex, code, "en"]
                 for code in ("A-01", "6900000000014", "6900000000014", "T-001", "A-01")]
        rows = conn.execute("SELECT n, stored, failed_state FROM wf_pick_scans(%s::json)", [json.dumps(calls)]).fetchall()
        conn.rollback()
    assert [row[2] for row in rows] == [None] * 5
    assert [json.loads(row[1])["code"] for row in rows] == [
        "location_ok", "item_counted", "item_counted", "line_picked", "location_ok"]
    read = "\n".join(plans)
    for kind in ("pick_task", "pick_line", "quant", "stock_move", "command_result", '"user"'):
        assert kind in read, kind  # the statements and the checks of the foreign keys were seen
    assert "Index Scan" in read and "Seq Scan" not in read, [plan for plan in plans if "Seq Scan" in plan]


GROUP = "SELECT n, stored, progress, order_changed, failed_state, failed_message FROM wf_pick_scans(?::json)"


def group(calls: list) -> list:
    with database.connection_context():
        return database.execute_sql(GROUP.replace("?", "%s"), [json.dumps(calls)]).fetchall()


def test_scans_sent_together_commit_together_and_fail_alone(cluster, picker, people, engine):  # noqa: F811
    """One group: each scan in a block of its own, in the order given, each seeing the ones
    before it; one that fails leaves nothing, the others commit."""
    if engine == "sqlite":
        pytest.skip("the function is PostgreSQL's")
    step(picker, "get_work")
    stored_key = uuid.uuid4().hex
    run(picker, "scan", key=stored_key, code="A-02")  # a refusal, stored under its key
    user, device = picker.user.id, picker.device.id
    keys = [uuid.uuid4().hex for _ in range(5)]
    calls = [[user, device, keys[0], "A-01", "en"],  # the location
             [user, device, stored_key, "A-01", "en"],  # a key sent before
             [people["receiver"].id, None, keys[2], "A-01", "en"],  # a user with no task
             [user, device, keys[3], "6900000000014", "en"],  # the item, at the location the first found
             [user, device, keys[4], "(01)06900000000014", "en"]]  # a GS1 code: the Python path's
    rows = group(calls)
    with database.connection_context():
        done = {k for (k,) in database.execute_sql("SELECT key FROM command_result WHERE key = ANY(%s)", [keys])}
    assert [row[0] for row in rows] == [0, 1, 2, 3, 4]
    assert [row[4] for row in rows] == [None, "23505", picking_direct.NOT_USUAL, None, picking_direct.NOT_USUAL]
    assert [json.loads(row[1])["code"] for row in rows if row[1]] == ["location_ok", "item_counted"]
    assert done == {keys[0], keys[3]}
    line = cluster["task"].lines.order_by(PickLine.seq).first()
    assert (line.status, line.picked_qty) == ("located", 1)


def test_scans_arriving_together_go_in_one_statement(cluster, picker, engine, db_url):  # noqa: F811
    """Under gevent, scans that arrive while a group is in flight wait and go together in the
    next; each caller gets its own answer. Run in a process of its own, monkey-patched."""
    if engine == "sqlite":
        pytest.skip("the function is PostgreSQL's")
    step(picker, "get_work")
    script = (
        "from gevent import monkey; monkey.patch_all()\n"
        "import json, sys, uuid, gevent\n"
        "from server.db import grouped, init_database\n"
        "from server.services.scenarios.picking_direct import SCANS\n"
        f"init_database({db_url!r})\n"
        f"calls = [({picker.user.id}, {picker.device.id}, uuid.uuid4().hex, f'X-{{i}}', 'en') for i in range(40)]\n"
        "jobs = [gevent.spawn(SCANS.call, *call) for call in calls]\n"
        "gevent.joinall(jobs, raise_error=True)\n"
        "scanned = [json.loads(job.value[0][0])['refused']['scanned'] for job in jobs]\n"
        "print(json.dumps({'scanned': scanned, 'sent': grouped}))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["scanned"] == [f"X-{i}" for i in range(40)]  # each caller its own scan's answer
    assert answer["sent"]["commands"] == 40
    assert 2 <= answer["sent"]["groups"] < 40  # the first alone, the rest together


KEEPS_ITS_CONNECTION = (
    "from gevent import monkey; monkey.patch_all()\n"
    "import json, sys, uuid, gevent, psycopg\n"
    "from server.db import database, init_database\n"
    "from server.services.scenarios.picking_direct import SCANS\n"
    "init_database(sys.argv[1])\n"
    "lent, connect = [], database.obj.connect\n"
    "def counted(*args, **kwargs):\n"
    "    lent.append(1)\n"
    "    return connect(*args, **kwargs)\n"
    "database.obj.connect = counted\n"
    "def burst(n=5):\n"
    "    jobs = [gevent.spawn(SCANS.call, int(sys.argv[2]), int(sys.argv[3]), uuid.uuid4().hex, f'X-{i}', 'en')\n"
    "            for i in range(n)]\n"
    "    gevent.joinall(jobs)\n"
    "    return [json.loads(job.value[0][0])['refused']['scanned'] if job.successful()\n"
    "            else type(job.exception).__name__ for job in jobs]\n"
    "def drop_the_sender():\n"
    "    with psycopg.connect(sys.argv[4], autocommit=True) as other:\n"
    "        other.execute(\"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()\"\n"
    "                      \" AND query LIKE '%wf_pick_scans%' AND pid <> pg_backend_pid()\")\n"
    "out = {}\n"
    "for n in range(3):\n"
    "    out[f'burst {n}'] = burst()\n"
    "    gevent.sleep(0.05)\n"
    "statement, SCANS.statement = SCANS.statement, 'SELECT n FROM (SELECT 1 / 0 AS n, ?::json AS calls) AS x'\n"
    "out['refused as a whole'] = burst()\n"
    "SCANS.statement = statement\n"
    "out['after the refusal'], out['lent'] = burst(), len(lent)\n"
    "drop_the_sender()\n"
    "out['dropped'], out['after'], out['lent after'] = burst(), burst(), len(lent)\n"
    "drop_the_sender()\n"
    "gevent.sleep(1.2)  # idle for longer than the pool lends a connection without asking\n"
    "out['dropped while idle'], out['lent at last'] = burst(), len(lent)\n"
    "print(json.dumps(out))\n")


def test_the_sender_keeps_its_connection_between_groups(cluster, picker, engine, db_url):  # noqa: F811
    """The process's groups of scans go on one connection, kept between them, so the function's
    plans stay in one backend; a statement refused as a whole on it keeps it. Dropped by the
    server, the connection fails one group, whose callers hear why; the next goes on another.
    Dropped while idle, no group fails: it is asked first, as the pool asks a connection it lends
    after a second."""
    if engine == "sqlite":
        pytest.skip("the function is PostgreSQL's")
    step(picker, "get_work")
    out = subprocess.run([sys.executable, "-c", KEEPS_ITS_CONNECTION, db_url, str(picker.user.id),
                          str(picker.device.id), db_url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    scanned = [f"X-{i}" for i in range(5)]
    assert [result[f"burst {n}"] for n in range(3)] == [scanned] * 3
    assert result["refused as a whole"] == ["DataError"] * 5 and result["after the refusal"] == scanned
    assert result["lent"] == 1  # four busy moments and a refusal, one connection
    assert result["dropped"][0] == "OperationalError" and result["after"] == scanned
    assert result["lent after"] == 2
    assert (result["dropped while idle"], result["lent at last"]) == (scanned, 3)


def test_a_group_counts_the_face_units_its_earlier_scans_took(cluster, picker, engine):  # noqa: F811
    """A face's units are taken at the group's end (migration 0024); the scans before it in the
    group still count: line 2's twelve take the face below its minimum only with line 1's two."""
    if engine == "sqlite":
        pytest.skip("the function is PostgreSQL's")
    tee, face = cluster["tee"], cluster["locations"]["A-01"]
    PickFace.create(location=face, product=tee, min_qty=17)  # 30 units: 13 above the minimum
    step(picker, "get_work")
    for code in ("A-01", "6900000000014", "6900000000014"):
        step(picker, "scan", code=code)
    user, device = picker.user.id, picker.device.id
    keys = [uuid.uuid4().hex for _ in range(4)]
    codes = ["T-001", "A-01", "16900000000011", "T-002"]  # line 1 into its tote; line 2's case, then its tote
    rows = group([[user, device, key, code, "en"] for key, code in zip(keys, codes)])
    assert [row[4] for row in rows] == [None, None, None, picking_direct.NOT_USUAL]
    assert [json.loads(row[1])["code"] for row in rows[:3]] == ["line_picked", "location_ok", "item_counted"]
    assert quant(tee, face) == (28, 12)  # line 1's two, taken once at the end
    # on its own, line 2's tote scan runs on the Python path, which asks for a replenishment
    assert direct_only(picker, "T-002") == (None, None)
    assert run(picker, "scan", code="T-002")["message"]["code"] == "line_picked"
    assert quant(tee, face) == (16, 0)
    assert ReplenishmentTask.select().where(ReplenishmentTask.face == face).count() == 1


def test_a_face_whose_stock_changed_before_the_group_ends_sends_the_group_to_the_python_path(
        cluster, picker, engine, db_url, monkeypatch):  # noqa: F811
    """The scan looks at the face's stock without locking it; the group's end takes the units
    under the guard. A count that found fewer units, committed in between, fails the whole group
    (nothing of it kept), and each of its scans runs again on the Python path."""
    if engine == "sqlite":
        pytest.skip("the function is PostgreSQL's")
    tee, face = cluster["tee"], cluster["locations"]["A-01"]
    step(picker, "get_work")
    for code in ("A-01", "6900000000014", "6900000000014"):
        step(picker, "scan", code=code)
    (face_id,) = Quant.select(Quant.id).where((Quant.product == tee) & (Quant.location == face)).tuples().get()

    def counted_fewer_while_the_group_runs(units: int) -> threading.Thread:
        """Another transaction holds the face's row, then commits fewer units, as many reserved,
        once the group waits for it: the group's scan read the stock before, its end takes it after."""
        held = threading.Event()

        def count():
            with psycopg.connect(db_url) as other, psycopg.connect(db_url, autocommit=True) as watch:
                other.execute("UPDATE quant SET qty = %s, reserved = %s WHERE id = %s", [units, units, face_id])
                held.set()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not watch.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'").fetchone()[0]:
                    time.sleep(0.01)
                other.commit()

        thread = threading.Thread(target=count)
        thread.start()
        held.wait(5)
        return thread

    key = uuid.uuid4().hex
    thread = counted_fewer_while_the_group_runs(1)  # line 1 has two reserved
    with pytest.raises(peewee.DatabaseError) as failed:
        group([[picker.user.id, picker.device.id, key, "T-001", "en"]])
    thread.join()
    assert sqlstate(failed.value) == picking_direct.NOT_USUAL
    with database.connection_context():
        assert sql_row("SELECT count(*) FROM command_result WHERE key = ?", key) == (0,)
    assert StockMove.select().where(StockMove.reason == "pick").count() == 0
    assert quant(tee, face) == (1, 1)
    line = cluster["task"].lines.order_by(PickLine.seq).first()
    assert (line.status, line.picked_qty, line.moved_qty) == ("located", 2, 0)

    # through the command: the group fails the same way, and the scan is answered by the Python path
    with database.connection_context():
        database.execute_sql("UPDATE quant SET qty = 30, reserved = 14 WHERE id = %s", [face_id])
    thread = counted_fewer_while_the_group_runs(1)
    answer = run(picker, "scan", code="T-001")
    thread.join()
    assert answer["message"]["code"] == "insufficient_stock"  # the face has one unit of line 1's two
    assert answer == python_only(picker, "T-001", monkeypatch)[0]
    assert StockMove.select().where(StockMove.reason == "pick").count() == 0
