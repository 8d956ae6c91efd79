"""PostgreSQL: the picking scans of one moment in one transaction, ``wf_pick_scans``.

A scan in a transaction of its own (``wf_pick_scan``, migration 0021) is a commit each, with its
wait for the log flush and its round trip: one connection took 0.91 ms a scan sent one by one and
0.50 ms a scan sent ten at a time. This function takes the scans a serving process has waiting, as a JSON array of
``[user, device, key, code, lang]``, and runs ``wf_pick_scan`` for each in turn, each in a block of
its own (a subtransaction: what a scan that fails wrote is undone, the others' stays), so the
statement commits them all at once. It answers one row a scan, in the order given: what
``wf_pick_scan`` answered, or the SQLSTATE and message it failed with (``WF000`` for a scan the
Python path takes, ``23505`` for a key sent before, ``40P01`` for a lock cycle it was chosen to
break). server/db.py ``CallGroups`` sends them; services/scenarios/picking_direct.py reads them.

A group holds the rows its scans locked until it commits, so two groups that lock shared rows
(a location's stock) in opposite orders would wait for each other until PostgreSQL's deadlock
check, a second later. Each serving process has one group in flight; between processes, a scan
waits at most ``lock_timeout`` (50 ms) for a row and then fails with ``55P03``, and runs on the
Python path. (Running a group's scans in the order of their locations, so that every group takes
the stock in one order, was measured too: it made no difference beyond the noise, and was not
kept.)

Frozen: a later change ships a new migration that replaces the function.
"""

FUNCTION = r"""
CREATE OR REPLACE FUNCTION wf_pick_scans(p_calls json)
RETURNS TABLE (n integer, stored text, progress integer, order_changed integer, failed_state text,
               failed_message text)
LANGUAGE plpgsql SET lock_timeout = '50ms' AS $fn$
#variable_conflict use_column
DECLARE
  c record;
BEGIN
  FOR c IN SELECT (x.i - 1)::integer AS i, x.e FROM json_array_elements(p_calls) WITH ORDINALITY AS x(e, i) LOOP
    n := c.i;
    stored := NULL;
    progress := NULL;
    order_changed := NULL;
    failed_state := NULL;
    failed_message := NULL;
    BEGIN
      SELECT s.stored, s.progress, s.order_changed INTO stored, progress, order_changed
        FROM wf_pick_scan((c.e->>0)::integer, (c.e->>1)::integer, c.e->>2, c.e->>3, c.e->>4) AS s;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS failed_state = RETURNED_SQLSTATE, failed_message = MESSAGE_TEXT;
    END;
    RETURN NEXT;
  END LOOP;
END
$fn$;
"""


def up(migrator, db):
    if db.param == "%s":  # PostgreSQL; SQLite's scans stay on the Python path
        db.execute_sql(FUNCTION)


def down(migrator, db):
    if db.param == "%s":
        db.execute_sql("DROP FUNCTION IF EXISTS wf_pick_scans(json)")
