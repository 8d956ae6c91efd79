"""Approvals (多级审批): which changes wait for whom, and who said what.

A flow names a subject (``stock_adjustment``, ``purchase_order``, ``price_change``,
``cost_change``, ``voucher_export``), the amount from which it applies, and its levels, each a
list of roles. A request walks its levels one after another::

    pending ──level approved, more to go──> pending (level + 1)
       │ └──last level approved──> approved
       ├──any level rejects──> rejected
       └──the requester withdraws it──> cancelled

The requester never approves their own request, and one person approves at most one level.
"""
from peewee import AutoField, BigAutoField, BigIntegerField, BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.people import Device, User

APPROVAL_STATES = ("pending", "approved", "rejected", "cancelled")
APPROVAL_TRANSITIONS = frozenset({("pending", "pending"), ("pending", "approved"), ("pending", "rejected"),
                                  ("pending", "cancelled")})


class ApprovalFlow(BaseModel):
    id = AutoField()
    subject = CharField(max_length=32, unique=True)
    over_fen = BigIntegerField(default=0)        # applies from this amount on (0: always)
    levels = TextField(default="[]")             # JSON: [["supervisor"], ["admin"]]
    active = BooleanField(default=True)
    updated_at = UtcDateTimeField(default=utcnow)


class ApprovalRequest(BaseModel):
    id = AutoField()
    subject = CharField(max_length=32, index=True)
    ref = CharField(max_length=100)              # what it is about: a PO code, a SKU, a period
    amount_fen = BigIntegerField(default=0)
    payload = TextField(default="{}")            # JSON: what is done once approved
    summary = CharField(max_length=300, default="")
    status = CharField(max_length=16, default="pending", index=True)
    level = IntegerField(default=0)              # the level waiting for a decision (0-based)
    levels = TextField(default="[]")             # the flow's levels when it was asked (a later change does not move it)
    requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="approval_requests")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
    requested_at = UtcDateTimeField(default=utcnow)
    decided_at = UtcDateTimeField(null=True)
    outcome = TextField(default="")              # what applying it did, or why it could not


class ApprovalStep(BaseModel):
    id = BigAutoField()
    request = ForeignKeyField(ApprovalRequest, backref="steps", on_delete="CASCADE")
    level = IntegerField()
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
    role = CharField(max_length=32, default="")
    decision = CharField(max_length=16)          # approved | rejected
    comment = TextField(default="")
    at = UtcDateTimeField(default=utcnow)
