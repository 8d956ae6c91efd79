"""Label printers and the print queue (打印队列).

A :class:`PrintJob` carries the finished ZPL, rendered for its printer when it was queued, so a
job needs nothing else to print. Jobs go out in order per printer; a job changes state only
through the verbs in ``server/services/printing.py``, which check ``TRANSITIONS``.
"""
from peewee import (AutoField, BigAutoField, BooleanField, CharField, FloatField, ForeignKeyField,
                    IntegerField, TextField)

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.people import User

PRINTER_CJK = ("font", "raster")
JOB_STATES = ("queued", "sending", "done", "failed", "cancelled")
OPEN_STATES = ("queued", "sending")
TRANSITIONS = frozenset({
    ("queued", "sending"),
    ("sending", "done"),
    ("sending", "queued"),     # the send failed: retried after a backoff
    ("sending", "failed"),     # ... until the attempts run out
    ("failed", "queued"),      # retried by a person, or moved to another printer
    ("queued", "cancelled"),
    ("failed", "cancelled"),
})


class Printer(BaseModel):
    """A label printer on the floor, usually serving one pack station (打包台)."""
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=100, default="")
    url = CharField(max_length=300)  # tcp://host:9100 | cups://Queue | file:///dir
    dpi = IntegerField(default=203)
    width_in = FloatField(default=4.0)
    height_in = FloatField(default=6.0)
    cjk = CharField(max_length=8, default="font")  # font | raster
    font_name = CharField(max_length=64, default="E:SIMSUN.FNT")
    station = CharField(max_length=32, null=True, index=True)
    active = BooleanField(default=True)
    last_status = TextField(default="")  # JSON {ok, faults, warnings, source}
    last_status_at = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)


class PrintJob(BaseModel):
    """One label on its way to a printer. ``claimed_by``/``claimed_until`` are the lease of the
    worker sending it; an expired lease on a ``sending`` job means that worker died."""
    id = BigAutoField()
    printer = ForeignKeyField(Printer, backref="jobs", on_delete="RESTRICT")
    template = CharField(max_length=32)
    data = TextField(default="")  # JSON: what the template was rendered from
    zpl = TextField()
    ref = CharField(max_length=100, default="", index=True)  # order number, carton, ...
    state = CharField(max_length=16, default="queued", index=True)
    attempts = IntegerField(default=0)
    next_attempt_at = UtcDateTimeField(default=utcnow)
    last_error = TextField(default="")
    created_at = UtcDateTimeField(default=utcnow)
    sent_at = UtcDateTimeField(null=True)
    claimed_by = CharField(max_length=64, null=True)
    claimed_until = UtcDateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    reprint_of = ForeignKeyField("self", null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("printer", "state"), False),)
