"""Every scan's reads, answered without a temporary table.

- The open-lines index's condition is three comparisons instead of an IN list. SQLite tests an IN
  list of more than two values by building a temporary table, and it tests a partial index's
  condition for the old and the new row whenever a line's status changes: two temporary tables
  for every scan that moves a line on.
- The picker's active task is found in the order it was assigned by an index of its own. Before,
  SQLite sorted the task's whole joined row (41 columns) in a temporary table on every scan.

Queries use a partial index only when they name the same condition (``OPEN_LINE_SQL`` and
``ACTIVE_TASK_SQL`` in ``server.models.waves``)."""

OPEN_SEQ = ("pick_line_open_seq", "pick_line", '"task_id", "seq", "id"')
ACTIVE = ("pick_task_active_picker", "pick_task", '"picker_id", "assigned_at", "id"')


def up(migrator, db):
    _create(db, *OPEN_SEQ, "status = 'open' OR status = 'skipped' OR status = 'located'")
    _create(db, *ACTIVE, "status = 'assigned' OR status = 'in_progress'")


def down(migrator, db):
    _create(db, *OPEN_SEQ, "status IN ('open', 'skipped', 'located')")
    db.execute_sql(f'DROP INDEX IF EXISTS "{ACTIVE[0]}"')


def _create(db, index, table, columns, where):
    db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
    db.execute_sql(f'CREATE INDEX "{index}" ON "{table}" ({columns}) WHERE {where}')
