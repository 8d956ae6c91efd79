"""PostgreSQL: a chunk of the order import promises its quants' free units in one statement,
``wf_reserve_quants``, that refuses by itself when a guard fails.

The import wrote a chunk of orders in eleven round trips: its statements, and for the promise a
lock of the quants, lowest id first, then one guarded update whose answer Python checked. While
the next chunk is planned on the other thread, each answer waits for that thread to let go of
the interpreter, about 2 ms a round trip. With the check inside the database, nothing in a chunk
needs an answer before the commit, so the chunk's statements go in one round trip (psycopg's
pipeline mode, server/db.py ``pipeline``).

- ``wf_reserve_quants(ids, qtys)``: locks the quants ``ids`` lowest id first (so that every writer
  locks them in one order), adds ``qtys`` to their reserved units where that many are free and
  available, and, if any is short, raises SQLSTATE ``WF001`` with the first short quant's id and the
  units asked of it as its message (``"17 3"``) (inventory.InsufficientStock on the Python side), so that the statement, and the
  transaction it is in, keeps nothing of it. ``ids`` has no repeats (the caller sums per quant).

Frozen: a later change ships a new migration that replaces this function.
"""

FUNCTION = r"""
CREATE OR REPLACE FUNCTION wf_reserve_quants(p_ids bigint[], p_qtys integer[]) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  v_short bigint;
  v_qty integer;
BEGIN
  PERFORM 1 FROM quant WHERE id = ANY(p_ids) ORDER BY id FOR UPDATE;
  WITH wanted AS (SELECT * FROM unnest(p_ids, p_qtys) AS w(id, qty)),
       updated AS (
         UPDATE quant SET reserved = quant.reserved + wanted.qty FROM wanted
          WHERE quant.id = wanted.id AND quant.state = 'available' AND quant.qty - quant.reserved >= wanted.qty
         RETURNING quant.id)
  SELECT wanted.id, wanted.qty INTO v_short, v_qty FROM wanted
   WHERE wanted.id NOT IN (SELECT id FROM updated) ORDER BY wanted.id LIMIT 1;
  IF v_short IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = v_short::text || ' ' || v_qty::text;
  END IF;
END
$fn$;
"""


def up(migrator, db):
    if db.param == "%s":  # PostgreSQL; SQLite checks each update's row count in Python
        db.execute_sql(FUNCTION)


def down(migrator, db):
    if db.param == "%s":
        db.execute_sql("DROP FUNCTION IF EXISTS wf_reserve_quants(bigint[], integer[])")
