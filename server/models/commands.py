"""Stored results of device commands, so a replayed key changes nothing."""
from peewee import CharField, ForeignKeyField, TextField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.people import User


class CommandResult(BaseModel):
    key = CharField(max_length=64, primary_key=True)
    user = ForeignKeyField(User, on_delete="CASCADE", index=False)  # read by key only: one B-tree less a scan
    scenario = CharField(max_length=32)
    action = CharField(max_length=32)
    result = TextField()
    at = UtcDateTimeField(default=utcnow, index=True)
