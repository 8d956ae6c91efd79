"""Printing: label printers and the print queue.

Frozen table definitions: this file never imports the live models. It references only the
``user`` table of 0001."""
import datetime

from peewee import (AutoField, BigAutoField, BooleanField, CharField, DateTimeField, FloatField,
                    ForeignKeyField, IntegerField, Model, TextField)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):  # existing table, referenced only
        id = AutoField()

    class Printer(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        name = CharField(max_length=100, default="")
        url = CharField(max_length=300)
        dpi = IntegerField(default=203)
        width_in = FloatField(default=4.0)
        height_in = FloatField(default=6.0)
        cjk = CharField(max_length=8, default="font")
        font_name = CharField(max_length=64, default="E:SIMSUN.FNT")
        station = CharField(max_length=32, null=True, index=True)
        active = BooleanField(default=True)
        last_status = TextField(default="")
        last_status_at = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class PrintJob(Base):
        id = BigAutoField()
        printer = ForeignKeyField(Printer, on_delete="RESTRICT")
        template = CharField(max_length=32)
        data = TextField(default="")
        zpl = TextField()
        ref = CharField(max_length=100, default="", index=True)
        state = CharField(max_length=16, default="queued", index=True)
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(default=datetime.datetime.utcnow)
        last_error = TextField(default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        sent_at = DateTimeField(null=True)
        claimed_by = CharField(max_length=64, null=True)
        claimed_until = DateTimeField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        reprint_of = ForeignKeyField("self", null=True, on_delete="SET NULL")

        class Meta:
            indexes = ((("printer", "state"), False),)

    return [Printer, PrintJob]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
