"""write_transaction on both engines: nested calls are savepoints (an inner failure the caller
catches undoes only the inner writes and drops their events), events wait for the outermost
commit."""
import pytest

from server import events
from server.db import database, write_transaction
from server.models import Device


def codes():
    return sorted(d.code for d in Device.select())


def test_a_caught_inner_failure_undoes_only_the_inner_writes(db):
    heard = []

    def listen(event, payload, rooms):
        heard.append(event)

    events.subscribe(listen)
    try:
        with write_transaction():
            Device.create(code="OUTER-1")
            with pytest.raises(RuntimeError):
                with write_transaction():
                    Device.create(code="INNER-GONE")
                    events.publish("inner.gone", {}, rooms=())
                    raise RuntimeError("inner")
            with write_transaction():  # the same depth again: its savepoint name is reused
                Device.create(code="INNER-KEPT")
                events.publish("inner.kept", {}, rooms=())
                with write_transaction():
                    Device.create(code="INNER-DEEPER")
            assert heard == []  # nothing is told before the outer commit
        assert codes() == ["INNER-DEEPER", "INNER-KEPT", "OUTER-1"]
        assert heard == ["inner.kept"]  # an undone write's event is never told
    finally:
        events.unsubscribe(listen)


def test_an_outer_failure_undoes_the_inner_writes_too(db):
    with pytest.raises(RuntimeError):
        with write_transaction():
            with write_transaction():
                Device.create(code="INNER")
            Device.create(code="OUTER")
            raise RuntimeError("outer")
    assert codes() == []
    with write_transaction():  # the connection is usable again
        Device.create(code="AFTER")
    assert codes() == ["AFTER"]
    assert not database.in_transaction()


def test_without_a_savepoint_a_nested_call_joins_the_outer_transaction(db):
    sent = []
    original = database.obj.execute_sql
    database.obj.execute_sql = lambda sql, params=None: (sent.append(sql), original(sql, params))[1]
    try:
        with write_transaction(savepoint=False):  # alone: a transaction of its own
            Device.create(code="ALONE")
        with pytest.raises(RuntimeError):
            with write_transaction():
                with write_transaction(savepoint=False):
                    Device.create(code="JOINED")
                assert database.in_transaction()
                raise RuntimeError("outer")
    finally:
        del database.obj.execute_sql
    assert codes() == ["ALONE"]  # the joined write went with the outer one
    assert not [sql for sql in sent if "SAVEPOINT" in sql.upper()]
    with write_transaction():
        with write_transaction(savepoint=False):
            Device.create(code="KEPT")
    assert codes() == ["ALONE", "KEPT"]
