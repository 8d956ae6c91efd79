"""PostgreSQL: the picking scan functions read every row by an index, never a table end to end.

Each statement of a scan (``wf_pick_scan_in_group``, migration 0024) looks up a few rows by key:
the picker's task, the task's current line, a barcode, a tote, the face's stock, the foreign keys
its inserts check. Where a table is small (a new site, a quiet wave, a floor of a few hundred
locations) the planner reads it from end to end instead of through its index, and a scan then
compares every row of ``pick_task``, ``location``, ``quant`` or ``user``, for each statement that
reads them. On a bench floor of 200 pickers, the scans sent in groups of 12 on one connection
(tests/bench/bench_scan_function.py, the backend's CPU a scan at a third of each kind): 0.38 and
0.40 ms with the planner's choice, 0.29 and 0.33 ms with index reads only (two runs, a ratio of
0.77 and 0.83); the tote scan, which reads most, 0.64 to 0.67 ms against 0.46 to 0.54.

``wf_pick_scans`` and ``wf_pick_scan`` now run with ``enable_seqscan = off`` (the functions
they call inherit it), so their plans read by index whatever a table's size. A statement with no
index to use still runs (the setting only prices such a read out of the planner's choice);
tests/test_picking_direct.py checks that no statement of a scan reads a table end to end.

A migration that replaces these functions keeps the setting (``SET enable_seqscan = off`` in
their definition): ``CREATE OR REPLACE FUNCTION`` drops what its definition does not set.
"""

SCANS = ("wf_pick_scans(json)", "wf_pick_scan(integer, integer, text, text, text)")

FUNCTION = "".join(f"ALTER FUNCTION {name} SET enable_seqscan = off;\n" for name in SCANS)


def up(migrator, db):
    if db.param == "%s":  # PostgreSQL; SQLite's scans stay on the Python path
        db.execute_sql(FUNCTION)


def down(migrator, db):
    if db.param == "%s":
        db.execute_sql("".join(f"ALTER FUNCTION {name} RESET enable_seqscan;\n" for name in SCANS))
