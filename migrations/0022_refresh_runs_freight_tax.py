"""Refreshes asked for over HTTP run in processes of their own (``refresh_run``: what was asked,
its state, its report), and an order line's share of the VAT inside the postage the buyer paid
(``line_money.freight_tax_fen``; rows made before have 0 until their next refresh).

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):  # an existing table, referenced only
        id = AutoField()

    class RefreshRun(Base):
        id = AutoField()
        kind = CharField(max_length=16)
        params = TextField(default="{}")
        state = CharField(max_length=16, default="running")
        requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        started_at = DateTimeField(default=datetime.datetime.utcnow)
        finished_at = DateTimeField(null=True)
        result = TextField(default="")
        error = TextField(default="")

        class Meta:
            indexes = ((("kind", "started_at"), False),)

    return [RefreshRun]


def up(migrator, db):
    db.create_tables(_models(db))
    migrator.migrate(migrator.add_column("line_money", "freight_tax_fen", IntegerField(default=0)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("line_money", "freight_tax_fen"))
    db.drop_tables(list(reversed(_models(db))))
