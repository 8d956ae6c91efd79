"""Events handed over by processes that serve no devices (the command line, the print worker)
to the serving processes, which read them and tell their devices (server/services/outbox.py)."""
from peewee import BigAutoField, CharField, TextField

from server.models.base import BaseModel, UtcDateTimeField, utcnow


class FloorEvent(BaseModel):
    id = BigAutoField()  # the serving processes read the rows after the last id they have seen
    event = CharField(max_length=64)
    payload = TextField()  # JSON, its version included
    rooms = TextField()  # JSON list of the rooms it goes to
    at = UtcDateTimeField(default=utcnow)
