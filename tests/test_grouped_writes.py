"""Commands committing together (server.db.write_grouped).

Under gevent on SQLite, the commands of one turn of the event loop share one write transaction
and one COMMIT; each answers only once that commit is done, and a command that fails after
writing makes the others run again alone. Those cases run in a gevent process of their own
(the test process is not monkey-patched). Elsewhere (PostgreSQL, or no gevent) a grouped write
is a write transaction of its own, tested here on both engines."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from server import events
from server.db import write_grouped, write_transaction
from server.models import Device

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GROUPS = textwrap.dedent("""
    import json, sqlite3, sys
    from gevent import monkey; monkey.patch_all()
    import gevent
    from server import db
    from server.db import after_commit, database, sql, sql_row, write_grouped, write_transaction

    path = sys.argv[1]
    db.init_database("sqlite:///" + path)
    with database.connection_context():
        database.execute_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        database.execute_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT UNIQUE, parent_id INTEGER"
                             " REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
    outside = sqlite3.connect(path)  # another connection: sees only what was committed
    told, runs, seen_after_return = [], {}, {}

    def note(text, fail=None, parent=None, nested=None):
        def work():
            runs[text] = runs.get(text, 0) + 1
            if fail == "before":
                raise ValueError("refused before writing")
            if nested == "context":  # code opening "its own" connection inside a command keeps the group's
                with database.connection_context():
                    sql("INSERT INTO note (text, parent_id) VALUES (?, ?)", text, parent)
            elif nested == "atomic":  # peewee's atomic() inside a command is a savepoint of the group's
                with database.atomic():
                    sql("INSERT INTO note (text, parent_id) VALUES (?, ?)", text, parent)
            else:
                sql("INSERT INTO note (text, parent_id) VALUES (?, ?)", text, parent)
            after_commit(lambda: told.append(text))
            if fail == "after":
                raise ValueError("failed after writing")
            (count,) = sql_row("SELECT COUNT(*) FROM note")
            return count
        return work

    def command(text, **how):
        try:
            result = write_grouped(note(text, **how))
        except Exception as exc:
            result = type(exc).__name__
        seen_after_return[text] = outside.execute("SELECT COUNT(*) FROM note WHERE text = ?", (text,)).fetchone()[0]
        return result

    def scenario(name):
        told.clear(); runs.clear(); seen_after_return.clear()
        before = dict(db.grouped)
        if name == "together":
            jobs = [gevent.spawn(command, f"t{n}") for n in range(20)]
        elif name == "fails_after_writing":
            jobs = [gevent.spawn(command, f"a{n}", fail="after" if n == 5 else None) for n in range(10)]
        elif name == "fails_before_writing":
            jobs = [gevent.spawn(command, f"b{n}", fail="before" if n == 5 else None) for n in range(10)]
        elif name == "nested_context":
            jobs = [gevent.spawn(command, f"n{n}", nested=("context", "atomic", None)[n % 3]) for n in range(9)]
        elif name == "killed_while_waiting":
            first = gevent.spawn(command, "k0")
            killer = gevent.spawn(lambda: first.kill(block=False))  # runs while k0 waits for the commit
            gevent.joinall([first, killer])
            gevent.sleep(0.05)  # the commit, and what k0 would have told
            jobs = [gevent.spawn(command, "k1")]
        elif name == "commit_fails":
            jobs = [gevent.spawn(command, f"c{n}", parent=999 if n == 3 else None) for n in range(6)]
        elif name == "plain_write_meanwhile":
            def plain():
                group_open = db._group is not None
                with database.connection_context(), write_transaction():
                    sql("INSERT INTO note (text) VALUES ('plain')")
                return "plain with a group open" if group_open else "plain"
            jobs = [gevent.spawn(command, f"q{n}") for n in range(5)] + [gevent.spawn(plain)]
            jobs += [gevent.spawn(command, f"q{n}") for n in range(5, 10)]
        gevent.joinall(jobs, timeout=20, raise_error=True)
        return {"results": [job.value for job in jobs], "told": sorted(told), "runs": runs,
                "seen_after_return": seen_after_return,
                "groups": db.grouped["groups"] - before["groups"],
                "commands": db.grouped["commands"] - before["commands"]}

    out = {name: scenario(name) for name in sys.argv[2:]}
    out["notes"] = [text for (text,) in outside.execute("SELECT text FROM note ORDER BY text")]
    print(json.dumps(out))
""")


def run_groups(tmp_path, *scenarios) -> dict:
    done = subprocess.run([sys.executable, "-c", GROUPS, str(tmp_path / "floor.db"), *scenarios], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("engine", ["sqlite"])
def test_commands_arriving_together_commit_together_and_answer_after_the_commit(tmp_path, engine):
    seen = run_groups(tmp_path, "together")["together"]
    assert seen["commands"] == 20 and seen["groups"] < 5, seen  # one commit for many commands
    assert sorted(seen["results"]) == list(range(1, 21))  # each saw the ones before it in the group
    # every command's note was committed before the command returned, and told once
    assert seen["seen_after_return"] == {f"t{n}": 1 for n in range(20)}
    assert seen["told"] == sorted(f"t{n}" for n in range(20))
    assert set(seen["runs"].values()) == {1}


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_command_failing_after_writing_makes_the_others_run_again_alone(tmp_path, engine):
    out = run_groups(tmp_path, "fails_after_writing")
    seen = out["fails_after_writing"]
    assert seen["results"][5] == "ValueError"
    assert all(isinstance(result, int) for n, result in enumerate(seen["results"]) if n != 5)
    assert "a5" not in out["notes"] and seen["seen_after_return"]["a5"] == 0  # its writes are undone
    others = sorted(f"a{n}" for n in range(10) if n != 5)
    assert [text for text in out["notes"] if text.startswith("a")] == others  # each exactly once
    assert seen["told"] == others  # the undone runs told nothing
    assert max(seen["runs"].values()) == 2  # the group ran, then each command alone


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_command_refused_before_writing_leaves_the_group_alone(tmp_path, engine):
    out = run_groups(tmp_path, "fails_before_writing")
    seen = out["fails_before_writing"]
    assert seen["results"][5] == "ValueError"
    assert [text for text in out["notes"] if text.startswith("b")] == sorted(f"b{n}" for n in range(10) if n != 5)
    assert set(seen["runs"].values()) == {1}  # nobody ran twice


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_connection_context_or_atomic_inside_a_command_keeps_the_group_connection(tmp_path, engine):
    out = run_groups(tmp_path, "nested_context")
    seen = out["nested_context"]
    assert sorted(seen["results"]) == list(range(1, 10))
    assert [text for text in out["notes"] if text.startswith("n")] == sorted(f"n{n}" for n in range(9))
    assert set(seen["runs"].values()) == {1}


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_command_whose_greenlet_is_killed_while_waiting_still_commits_and_tells(tmp_path, engine):
    out = run_groups(tmp_path, "killed_while_waiting")
    seen = out["killed_while_waiting"]
    assert [text for text in out["notes"] if text.startswith("k")] == ["k0", "k1"]
    assert seen["told"] == ["k0", "k1"]  # k0's event went out although its greenlet was gone


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_group_whose_commit_fails_runs_each_command_again_alone(tmp_path, engine):
    out = run_groups(tmp_path, "commit_fails")  # c3's deferred foreign key fails at COMMIT
    seen = out["commit_fails"]
    assert seen["results"][3] == "IntegrityError"
    assert [text for text in out["notes"] if text.startswith("c")] == ["c0", "c1", "c2", "c4", "c5"]
    assert seen["told"] == ["c0", "c1", "c2", "c4", "c5"]
    assert seen["seen_after_return"]["c3"] == 0


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_plain_write_while_a_group_is_open_commits_the_group_first(tmp_path, engine):
    out = run_groups(tmp_path, "plain_write_meanwhile")
    seen = out["plain_write_meanwhile"]
    assert seen["results"][5] == "plain with a group open" and "plain" in out["notes"]
    assert [text for text in out["notes"] if text.startswith("q")] == sorted(f"q{n}" for n in range(10))
    assert set(seen["seen_after_return"].values()) == {1}


def test_without_gevent_a_grouped_write_is_a_transaction_of_its_own(db):
    heard = []

    def listen(event, payload, rooms):
        heard.append(event)

    events.subscribe(listen)
    try:
        def work():
            Device.create(code="G-1")
            events.publish("device.added", {}, rooms=())
            assert heard == []
            return "done"

        assert write_grouped(work) == "done"
        assert heard == ["device.added"]

        def failing():
            Device.create(code="G-GONE")
            raise RuntimeError("no")

        with pytest.raises(RuntimeError):
            write_grouped(failing)
        with write_transaction():  # inside a write transaction it is a savepoint of it
            assert write_grouped(lambda: Device.create(code="G-2").code) == "G-2"
        assert sorted(d.code for d in Device.select()) == ["G-1", "G-2"]
    finally:
        events.unsubscribe(listen)
