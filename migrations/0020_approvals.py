"""Approvals (多级审批): flows, requests and their steps.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import (AutoField, BigAutoField, BigIntegerField, BooleanField, CharField, DateTimeField,
                    ForeignKeyField, IntegerField, Model, TextField)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):  # existing tables, referenced only
        id = AutoField()

    class Device(Base):
        id = AutoField()

    class ApprovalFlow(Base):
        id = AutoField()
        subject = CharField(max_length=32, unique=True)
        over_fen = BigIntegerField(default=0)
        levels = TextField(default="[]")
        active = BooleanField(default=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class ApprovalRequest(Base):
        id = AutoField()
        subject = CharField(max_length=32, index=True)
        ref = CharField(max_length=100)
        amount_fen = BigIntegerField(default=0)
        payload = TextField(default="{}")
        summary = CharField(max_length=300, default="")
        status = CharField(max_length=16, default="pending", index=True)
        level = IntegerField(default=0)
        levels = TextField(default="[]")
        requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
        requested_at = DateTimeField(default=datetime.datetime.utcnow)
        decided_at = DateTimeField(null=True)
        outcome = TextField(default="")

    class ApprovalStep(Base):
        id = BigAutoField()
        request = ForeignKeyField(ApprovalRequest, on_delete="CASCADE")
        level = IntegerField()
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
        role = CharField(max_length=32, default="")
        decision = CharField(max_length=16)
        comment = TextField(default="")
        at = DateTimeField(default=datetime.datetime.utcnow)

    return [ApprovalFlow, ApprovalRequest, ApprovalStep]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
