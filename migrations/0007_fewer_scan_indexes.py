"""Three indexes every scan wrote and no query read: command results are looked up by key only,
the (product, at) index of stock moves leads with the product, and nothing looks moves up by
device. A confirmed pick writes three B-trees less, and every scan one less."""

DROPPED = (("command_result", "command_result_user_id", ("user_id",)),
           ("stock_move", "stock_move_product_id", ("product_id",)),
           ("stock_move", "stock_move_device_id", ("device_id",)))


def up(migrator, db):
    for _, index, _ in DROPPED:
        db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')


def down(migrator, db):
    for table, index, columns in DROPPED:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ({", ".join(columns)})')
