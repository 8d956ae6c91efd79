from __future__ import annotations

import datetime as dt

from peewee import DateTimeField, Model

from server.db import database


def utcnow() -> dt.datetime:
    """Naive UTC; the database keeps UTC and pages convert to the warehouse's zone."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class UtcDateTimeField(DateTimeField):
    """A timestamp stored as naive UTC."""
