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


def as_read(model: type[Model], **data) -> Model:
    """An instance of ``model`` holding ``data`` as a row read from the database would, built
    without Model.__init__ (a default per field, then a setattr per value): the scan path builds
    five of them a scan. A foreign key takes an id or an instance. Only for reading: fields left
    out are missing, not defaulted, so such an instance is never saved."""
    obj = model.__new__(model)
    related = {}
    for name, value in data.items():
        if isinstance(value, Model):
            related[name] = value
            data[name] = value.get_id()
    obj.__data__, obj._dirty, obj.__rel__ = data, set(), related
    return obj


class UtcDateTimeField(DateTimeField):
    """A timestamp stored as naive UTC."""
