"""Suppliers (供应商), what they sell us, and purchase orders (采购单) with their lines.

A purchase order's states::

    draft ──submit──> submitted ──approve──> approved ──first receipt──> partially_received
      │  ^               │  │                  │  │                        │   │
      │  └───reject──────┘  │                  │  └── all received ──> received <┘
      └──> cancelled <──────┴──────────────────┘                             │
                                 approved | partially_received ──close──> closed_short

The approved quantity not yet received of an approved or partially received order is in transit
(在途) to its warehouse, expected on its line's date (else the order's). Approval is by amount:
``ApprovalLimit`` names, per role, the largest order total that role may approve.
"""
from peewee import (AutoField, BigIntegerField, BooleanField, Check, CharField, DateField, ForeignKeyField,
                    IntegerField, TextField)

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product
from server.models.layout import Warehouse
from server.models.people import User

PO_STATES = ("draft", "submitted", "approved", "partially_received", "received", "closed_short", "cancelled")
PO_TRANSITIONS = frozenset({
    ("draft", "submitted"), ("submitted", "draft"),            # submitted; rejected back to draft
    ("submitted", "approved"),
    ("approved", "partially_received"), ("approved", "received"), ("partially_received", "received"),
    ("approved", "closed_short"), ("partially_received", "closed_short"),
    ("draft", "cancelled"), ("submitted", "cancelled"), ("approved", "cancelled"),
})
IN_TRANSIT_STATES = ("approved", "partially_received")  # the states whose open quantity is 在途
QC_PLANS = ("none", "full", "sample")


class Supplier(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=100)
    contact_name = CharField(max_length=100, default="")
    contact_phone = CharField(max_length=64, default="")   # masked like a buyer's for roles without pii.read
    lead_time_days = IntegerField(default=7)
    over_receipt_pct = IntegerField(default=0)            # units beyond the ordered quantity a receipt may take
    blind_receiving = BooleanField(default=False)          # the receiver is not shown the expected quantity
    qc_plan = CharField(max_length=8, default="none")      # none | full | sample (ISO 2859-1)
    aql = CharField(max_length=8, default="1.0")
    active = BooleanField(default=True)
    created_at = UtcDateTimeField(default=utcnow)


class SupplierItem(BaseModel):
    """What a supplier sells us of one SKU: its price, order minimum and pack; a QC plan here
    overrides the supplier's ("" keeps the supplier's)."""
    id = AutoField()
    supplier = ForeignKeyField(Supplier, backref="items", on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="CASCADE")
    unit_cost_fen = IntegerField(default=0)
    moq = IntegerField(default=1)
    pack_size = IntegerField(default=1)
    qc_plan = CharField(max_length=8, default="")
    aql = CharField(max_length=8, default="")

    class Meta:
        indexes = ((("supplier", "product"), True),)
        constraints = [Check("moq >= 1"), Check("pack_size >= 1"), Check("unit_cost_fen >= 0")]


class ApprovalLimit(BaseModel):
    """The largest purchase order total (fen) a role may approve; no row: the role may not."""
    id = AutoField()
    role = CharField(max_length=32, unique=True)
    max_fen = BigIntegerField(null=True)  # null: no limit


class PurchaseOrder(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    supplier = ForeignKeyField(Supplier, backref="orders", on_delete="RESTRICT")
    warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
    status = CharField(max_length=24, default="draft", index=True)
    delivery_note = CharField(max_length=64, default="", index=True)  # the supplier's 送货单 number
    expected_on = DateField(null=True)
    total_fen = BigIntegerField(default=0)
    note = TextField(default="")
    close_reason = CharField(max_length=200, default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    approved_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    approved_at = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)


class PurchaseOrderLine(BaseModel):
    id = AutoField()
    po = ForeignKeyField(PurchaseOrder, backref="lines", on_delete="CASCADE")
    seq = IntegerField(default=1)
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    qty = IntegerField()
    received_qty = IntegerField(default=0)
    unit_cost_fen = IntegerField(default=0)
    expected_on = DateField(null=True)

    class Meta:
        indexes = ((("po", "product"), True),)
        constraints = [Check("qty > 0"), Check("received_qty >= 0")]
