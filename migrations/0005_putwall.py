"""The put wall: which station sorts which batch tote, and the put it waits to see confirmed.

Frozen table definitions: this file never imports the live models."""
from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Location(Base):  # existing tables, referenced only
        id = AutoField()

    class Wave(Base):
        id = AutoField()

    class User(Base):
        id = AutoField()

    class Order(Base):
        id = AutoField()

    class Product(Base):
        id = AutoField()

    class ToteSort(Base):
        id = AutoField()
        tote = ForeignKeyField(Location, unique=True, on_delete="CASCADE")
        wave = ForeignKeyField(Wave, null=True, on_delete="SET NULL")
        station = CharField(max_length=64, null=True, index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        opened_at = DateTimeField(null=True)
        put_order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
        put_product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
        put_lot = CharField(max_length=64, default="")
        put_qty = IntegerField(default=0)
        put_slot = IntegerField(default=0)

    return [ToteSort]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
