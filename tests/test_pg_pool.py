"""PostgreSQL's pooled connections: one given back a moment ago is lent again without a ping,
one that sat unused is pinged first, and one the server dropped is not lent again."""
import peewee
import psycopg
import pytest

from server.db import PostgresqlDatabase, database
from server.models import Device


@pytest.fixture
def pings(db, monkeypatch):
    """Every ping the pool sends before lending a connection (each test runs on PostgreSQL only)."""
    counted = []
    adapter = database.obj._adapter
    real = adapter.is_connection_closed
    monkeypatch.setattr(adapter, "is_connection_closed", lambda conn: counted.append(conn) or real(conn))
    return counted


def lend_and_give_back() -> int:
    with database.connection_context():
        Device.select().count()
        return database.obj.conn_key(database.connection())


@pytest.mark.parametrize("engine", ["postgres"])
def test_a_connection_given_back_a_moment_ago_is_lent_without_a_ping(pings, engine):
    assert isinstance(database.obj, PostgresqlDatabase)
    first = lend_and_give_back()
    pings.clear()
    assert lend_and_give_back() == first  # the same connection again
    assert pings == []


@pytest.mark.parametrize("engine", ["postgres"])
def test_a_connection_unused_for_a_while_is_pinged_before_it_is_lent(pings, engine, monkeypatch):
    lend_and_give_back()
    pings.clear()
    monkeypatch.setattr(PostgresqlDatabase, "PING_AFTER_S", 0.0)
    lend_and_give_back()
    assert len(pings) == 1


@pytest.mark.parametrize("engine", ["postgres"])
def test_a_connection_the_server_dropped_fails_once_and_is_not_lent_again(pings, engine, pg_database):
    with database.connection_context():
        pid = database.connection().info.backend_pid
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(peewee.OperationalError):
        lend_and_give_back()  # lent without a ping: its first statement finds it dropped
    with database.connection_context():
        assert database.connection().info.backend_pid != pid
        assert Device.select().count() == 0
