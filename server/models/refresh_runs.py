"""A refresh asked for over HTTP (customers, money) and run in a process of its own: what was asked,
by whom, whether it still runs, and its report or why it failed. The office polls it; a lease
(``refresh:<kind>``) held by the run keeps a second one of the same kind from starting."""
from peewee import AutoField, CharField, ForeignKeyField, TextField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.people import User

RUN_KINDS = ("customers", "money")
RUN_STATES = ("running", "done", "failed")


class RefreshRun(BaseModel):
    id = AutoField()
    kind = CharField(max_length=16)                      # customers | money
    params = TextField(default="{}")                     # JSON: what was asked (money: first, last, shop)
    state = CharField(max_length=16, default="running")  # running | done | failed
    requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    started_at = UtcDateTimeField(default=utcnow)
    finished_at = UtcDateTimeField(null=True)
    result = TextField(default="")                       # JSON: the command's report, once done
    error = TextField(default="")

    class Meta:
        indexes = ((("kind", "started_at"), False),)
