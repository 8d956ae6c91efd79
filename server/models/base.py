from __future__ import annotations

import datetime as dt

from peewee import DateTimeField, Model

from server.db import database


def utcnow() -> dt.datetime:
    """Naive UTC; the database keeps UTC and pages convert to the warehouse's zone."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def as_utc(value):
    """A stored (naive UTC) time as an aware one, for answers that promise a time zone."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.timezone.utc) if value is not None and value.tzinfo is None else value


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class UtcDateTimeField(DateTimeField):
    """A timestamp stored as naive UTC."""
