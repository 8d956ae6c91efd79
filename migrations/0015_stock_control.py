"""Stock control: cycle count tasks and their lines, replenishment tasks, promotion days, demand
forecasts and stock alerts.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import (SQL, AutoField, BigAutoField, BooleanField, CharField, DateField, DateTimeField,
                    FloatField, ForeignKeyField, IntegerField, Model, TextField)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):  # existing tables, referenced only
        id = AutoField()

    class Device(Base):
        id = AutoField()

    class Product(Base):
        id = AutoField()

    class Warehouse(Base):
        id = AutoField()

    class Location(Base):
        id = AutoField()

    class Wave(Base):
        id = AutoField()

    class CountTask(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
        location = ForeignKeyField(Location, on_delete="RESTRICT")
        status = CharField(max_length=16, default="open", index=True)
        reason = CharField(max_length=32, default="")      # the plan that made it: zone, aisle, abc_a, flagged ...
        blind = BooleanField(default=True)                 # the counter never sees the expected figure
        recount_of = ForeignKeyField("self", null=True, backref="recounts", on_delete="SET NULL")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")          # the counter
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
        approver = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="approved_counts")
        variance_units = IntegerField(default=0)           # counted - (expected + moved), all lines
        variance_fen = IntegerField(default=0)             # the same at cost
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        started_at = DateTimeField(null=True)           # the first scan: the ledger's figure is taken here
        counted_at = DateTimeField(null=True)
        decided_at = DateTimeField(null=True)
        note = TextField(default="")

    class CountLine(Base):
        """One SKU and lot of a counted location."""
        id = AutoField()
        task = ForeignKeyField(CountTask, backref="lines", on_delete="CASCADE")
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        lot = CharField(max_length=64, default="")
        expected = IntegerField(default=0)    # the ledger at the task's first scan
        moved = IntegerField(default=0)       # in (+) and out (-) of the location since, by others
        counted = IntegerField(default=0)

        class Meta:
            indexes = ((("task", "product", "lot"), True),)

    class ReplenishmentTask(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        source = ForeignKeyField(Location, on_delete="RESTRICT", backref="replenishes_from")
        face = ForeignKeyField(Location, on_delete="RESTRICT", backref="replenished_by")
        lot = CharField(max_length=64, default="")
        qty = IntegerField()
        moved_qty = IntegerField(default=0)
        status = CharField(max_length=16, default="open", index=True)
        trigger = CharField(max_length=16, default="min")  # min (below its minimum) | demand (a wave needs it)
        wave = ForeignKeyField(Wave, null=True, on_delete="SET NULL")
        priority = IntegerField(default=0)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        done_at = DateTimeField(null=True)

    ReplenishmentTask.add_index(ReplenishmentTask.face, ReplenishmentTask.product, unique=True,
                                name="replenishment_task_open_min",
                                where=SQL("\"trigger\" = 'min' AND status IN ('open', 'assigned', 'moving')"))

    class PromotionDay(Base):
        """A day whose sales are not ordinary demand (618, 双11, 双12, the merchant's own)."""
        id = AutoField()
        day = DateField(unique=True)
        name = CharField(max_length=64)
        merchant = BooleanField(default=False)   # the merchant's own, not a platform's

    class DemandForecast(Base):
        """A SKU's forecast in a warehouse, made on ``made_on`` for the days after it."""
        id = BigAutoField()
        product = ForeignKeyField(Product, on_delete="CASCADE")
        warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
        made_on = DateField()
        sb_class = CharField(max_length=16, default="")   # smooth | erratic | intermittent | lumpy ('' none)
        adi = FloatField(null=True)
        cv2 = FloatField(null=True)
        method = CharField(max_length=24, default="")
        daily = TextField(default="[]")                    # units a day for the horizon, JSON
        per_day = FloatField(default=0.0)                  # their mean
        sigma = FloatField(default=0.0)                    # the one-day forecast error's spread
        mase = FloatField(null=True)                       # on the 28-day holdout
        bias = FloatField(null=True)
        reason = CharField(max_length=64, default="")      # why there is no forecast, or a flat one
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("product", "warehouse", "made_on"), True),)

    class StockAlert(Base):
        id = AutoField()
        kind = CharField(max_length=16)
        product = ForeignKeyField(Product, on_delete="CASCADE")
        warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
        raised_on = DateField()
        detail = TextField(default="")
        state = CharField(max_length=8, default="open", index=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("kind", "product", "warehouse", "raised_on"), True),)

    return [CountTask, CountLine, ReplenishmentTask, PromotionDay, DemandForecast, StockAlert]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
