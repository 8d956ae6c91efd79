"""A pick line keeps the units it has put into totes (``moved_qty``), so a scan reads one row
instead of summing the line's ledger moves; filled from the ledger for lines picked before."""
from peewee import IntegerField

FROM_LEDGER = ("UPDATE pick_line SET moved_qty = COALESCE((SELECT SUM(m.qty) FROM stock_move m"
               " WHERE m.reason = 'pick' AND m.ref = 'pick:' || CAST(pick_line.id AS VARCHAR(20))), 0)")


def up(migrator, db):
    migrator.migrate(migrator.add_column("pick_line", "moved_qty", IntegerField(default=0)))
    db.execute_sql(FROM_LEDGER)


def down(migrator, db):
    migrator.migrate(migrator.drop_column("pick_line", "moved_qty"))
