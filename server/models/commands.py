"""Stored results of device commands, so a replayed key changes nothing (DESIGN section 6)."""
from peewee import CharField, ForeignKeyField, TextField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.people import User


class CommandResult(BaseModel):
    key = CharField(max_length=64, primary_key=True)
    user = ForeignKeyField(User, on_delete="CASCADE")
    scenario = CharField(max_length=32)
    action = CharField(max_length=32)
    result = TextField()
    at = UtcDateTimeField(default=utcnow, index=True)
