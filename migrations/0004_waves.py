"""Waves, the orders in them, pick tasks and pick lines.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import AutoField, CharField, DateTimeField, FloatField, ForeignKeyField, IntegerField, Model


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Warehouse(Base):  # existing tables, referenced only
        id = AutoField()

    class Zone(Base):
        id = AutoField()

    class Location(Base):
        id = AutoField()

    class Product(Base):
        id = AutoField()

    class User(Base):
        id = AutoField()

    class Device(Base):
        id = AutoField()

    class Order(Base):
        id = AutoField()

    class OrderLine(Base):
        id = AutoField()

    class Allocation(Base):
        id = AutoField()

    class Wave(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
        strategy = CharField(max_length=24)
        status = CharField(max_length=16, default="planned", index=True)
        orders_count = IntegerField(default=0)
        lines_count = IntegerField(default=0)
        units_count = IntegerField(default=0)
        planned_metres = FloatField(default=0.0)
        fcfs_metres = FloatField(default=0.0)
        deadline = DateTimeField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        released_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)

    class WaveOrder(Base):
        id = AutoField()
        wave = ForeignKeyField(Wave, on_delete="CASCADE")
        order = ForeignKeyField(Order, unique=True, on_delete="CASCADE")
        slot = IntegerField(default=0)

    class PickTask(Base):
        id = AutoField()
        wave = ForeignKeyField(Wave, on_delete="CASCADE")
        code = CharField(max_length=32, unique=True)
        zone = ForeignKeyField(Zone, null=True, on_delete="SET NULL")
        status = CharField(max_length=16, default="open", index=True)
        picker = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL")
        seq = IntegerField(default=0)
        metres = FloatField(default=0.0)
        lines_total = IntegerField(default=0)
        lines_done = IntegerField(default=0)
        units_total = IntegerField(default=0)
        units_done = IntegerField(default=0)
        assigned_at = DateTimeField(null=True)
        started_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)

    class PickLine(Base):
        id = AutoField()
        task = ForeignKeyField(PickTask, on_delete="CASCADE")
        seq = IntegerField()
        order = ForeignKeyField(Order, null=True, on_delete="CASCADE")
        order_line = ForeignKeyField(OrderLine, null=True, on_delete="CASCADE")
        allocation = ForeignKeyField(Allocation, null=True, on_delete="SET NULL")
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        location = ForeignKeyField(Location, on_delete="RESTRICT")
        lot = CharField(max_length=64, default="")
        qty = IntegerField()
        picked_qty = IntegerField(default=0)
        short_qty = IntegerField(default=0)
        slot = IntegerField(default=0)
        tote = CharField(max_length=64, default="")
        status = CharField(max_length=16, default="open")

    return [Wave, WaveOrder, PickTask, PickLine]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
