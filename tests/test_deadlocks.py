"""Concurrent stock moves never fail a command on a lock cycle. A move locks its two quants in
one order (by id) whatever its direction, so two opposite moves wait for each other instead of
deadlocking; and a command whose transaction PostgreSQL aborts anyway (a deadlock, a
serialization failure) runs again from the start. Both engines; SQLite lets one writer in at a
time, so the lock cycle itself is staged on PostgreSQL only."""
from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from server import db as dbmod
from server.db import database, write_grouped
from server.models import Device, Location, Quant, StockMove
from server.services.auth import Principal
from server.services.device import commands
from server.services.scenarios import stock as lookup  # noqa: F401 (registers the stock scenario)
from server.services.stock import inventory


def stock_at(location_code: str) -> int:
    location = Location.get(Location.code == location_code)
    return sum(q.qty for q in Quant.select().where(Quant.location == location))


def move_command(src: str, dst: str) -> dict:
    return {"key": uuid.uuid4().hex, "scenario": "stock", "action": "move", "sku": "TS-01", "from": src,
            "to": dst, "qty": 1}


def two_faces(small_warehouse, people, qty: int, device: str) -> Principal:
    """``qty`` tees at A-01 and at A-02, and a receiver on a device of its own to move them."""
    actor = inventory.Actor(people["receiver"].id)
    for code in ("A-01", "A-02"):
        inventory.receive(small_warehouse["tee"], small_warehouse["locations"][code], qty, actor=actor)
    return Principal(people["receiver"], ["receiver"], Device.create(code=device))


def stage_lock_cycle(db_url: str, locs: dict, victim) -> None:
    """Another session takes A-02's quant; ``victim()`` runs in a thread of its own, takes
    A-01's and waits for A-02's; the other session then asks for A-01's. The victim's session
    finds the cycle first (1 s against the other's 10 s) and PostgreSQL aborts its transaction;
    the other session commits once it has, and the victim's second run goes through."""
    other = psycopg.connect(db_url)
    try:
        other.execute("SET deadlock_timeout = '10s'")
        other.execute("UPDATE quant SET qty = qty + 1 WHERE location_id = %s", (locs["A-02"].id,))
        thread = threading.Thread(target=victim)
        thread.start()
        time.sleep(0.3)  # the victim holds A-01 and waits for A-02
        other.execute("UPDATE quant SET qty = qty + 1 WHERE location_id = %s", (locs["A-01"].id,))
        other.commit()  # reached once the victim's first run was aborted
        thread.join(30)
    finally:
        other.close()


def test_opposite_moves_at_the_same_moment_all_succeed(db, small_warehouse, people):
    principal = two_faces(small_warehouse, people, 40, "HH-D1")
    retried_before = dbmod.retried["transactions"]
    answers, start = [], threading.Barrier(8)

    def mover(src, dst):
        start.wait()
        for _ in range(15):
            answers.append(commands.execute(principal, move_command(src, dst)))
        database.close()

    threads = [threading.Thread(target=mover, args=pair)
               for pair in [("A-01", "A-02"), ("A-02", "A-01")] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a["message"]["code"] for a in answers if not a["ok"]] == []
    assert len(answers) == 120
    assert stock_at("A-01") == stock_at("A-02") == 40  # as many went each way
    assert inventory.audit() == []
    assert dbmod.retried["transactions"] == retried_before  # taken in one order, the locks never formed a cycle


def first_run_deadlocks(runs: list):
    """Work whose first run writes, then fails as PostgreSQL fails a deadlock's victim."""
    def work():
        runs.append(1)
        Device.create(code=f"RUN-{len(runs)}")
        if len(runs) == 1:
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        return "done"
    return work


@pytest.mark.parametrize("runner", [write_grouped, dbmod.write_retrying], ids=["grouped", "retrying"])
def test_a_transaction_aborted_by_a_deadlock_runs_again(db, small_warehouse, runner):
    """The first run's write is rolled back, and the second run's is the one kept."""
    runs = []
    assert runner(first_run_deadlocks(runs)) == "done"
    assert len(runs) == 2
    assert [d.code for d in Device.select().order_by(Device.code)] == ["RUN-2"]


def test_a_nested_retrying_write_leaves_the_deadlock_to_the_outer_transaction(db, small_warehouse):
    runs = []
    with pytest.raises(psycopg.errors.DeadlockDetected):
        with dbmod.write_transaction():
            dbmod.write_retrying(first_run_deadlocks(runs))
    assert len(runs) == 1


def test_other_database_errors_are_not_run_again(db):
    runs = []

    def work():
        runs.append(1)
        raise psycopg.errors.UniqueViolation("duplicate key")

    with pytest.raises(psycopg.errors.UniqueViolation):
        write_grouped(work)
    assert len(runs) == 1


def test_a_command_caught_in_a_real_deadlock_runs_again_and_succeeds(db, db_url, engine, small_warehouse, people):
    """A lock cycle staged on PostgreSQL: another session holds A-02's quant, a move
    A-01 -> A-02 takes A-01's and waits for A-02's, and the other session then asks for A-01's.
    The move's session finds the cycle first (1 s against the other's 10 s) and PostgreSQL
    aborts its transaction; the command runs again once the other session has committed, and
    answers ok."""
    if engine == "sqlite":
        pytest.skip("SQLite lets one writer in at a time: no lock cycle can form")
    locs = small_warehouse["locations"]
    principal = two_faces(small_warehouse, people, 5, "HH-D2")
    retried_before = dbmod.retried["transactions"]
    answer = {}

    def move():
        answer.update(commands.execute(principal, move_command("A-01", "A-02")))
        database.close()

    stage_lock_cycle(db_url, locs, move)
    assert answer.get("ok"), answer
    assert dbmod.retried["transactions"] == retried_before + 1
    assert (stock_at("A-01"), stock_at("A-02")) == (5, 7)  # 6 - 1 and 6 + 1


def test_a_reservation_caught_in_a_real_deadlock_runs_again_and_succeeds(db, db_url, engine, small_warehouse,
                                                                        people):
    """A lock cycle staged on PostgreSQL, as two reservations of the last units can make one:
    another session holds A-02's quant; a reservation of 6 takes A-01's 5 and waits for A-02's;
    the other session then asks for A-01's. The reservation's session finds the cycle first
    and PostgreSQL aborts it; it runs again once the other has committed, and takes the 6 units
    A-01 then holds."""
    if engine == "sqlite":
        pytest.skip("SQLite lets one writer in at a time: no lock cycle can form")
    locs = small_warehouse["locations"]
    two_faces(small_warehouse, people, 5, "HH-D3")
    retried_before = dbmod.retried["transactions"]
    outcome = {}

    def reserve():
        try:
            outcome["taken"] = inventory.reserve_any(small_warehouse["tee"].id, 6, ref="deadlock",
                                                     actor=inventory.Actor(people["picker"].id))
        except Exception as exc:  # the test fails on it below
            outcome["error"] = exc
        finally:
            database.close()

    stage_lock_cycle(db_url, locs, reserve)
    assert "error" not in outcome, outcome
    assert [(r.location_id, r.qty) for r in outcome["taken"]] == [(locs["A-01"].id, 6)]
    assert dbmod.retried["transactions"] == retried_before + 1
    assert {q.location_id: q.reserved for q in Quant.select()} == {locs["A-01"].id: 6, locs["A-02"].id: 0}
    # the aborted run's ledger row went with it (the other session's raw updates have none)
    assert [(m.from_location_id, m.reserved) for m in StockMove.select().where(StockMove.ref == "deadlock")] == [
        (locs["A-01"].id, 6)]
