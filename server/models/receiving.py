"""Goods in at the dock: receipts (入库单), licence plates (LPN, 托盘/箱 with an SSCC), the
quality checks (入库质检) of what they hold, and what goes back to the supplier (退供).

A receipt is one receiver's session on one purchase order. Every SKU and lot it receives
builds one licence plate, whose units wait at the dock in state ``qc_pending`` until QC decides::

    open ──label / done──> qc_pending ──lot passes──> ready ──putaway──> stored
      │                        └──lot fails──> rejected (units damaged or frozen; a supplier return)
      └──label / done, no QC asked──> ready

A plate's QC lot is its units: ``sample_size`` of them are checked (``QcCheck``), and the lot
passes while the failed checks stay within ``accept_number`` (ISO 2859-1).
"""
from peewee import AutoField, BigAutoField, BooleanField, CharField, DateField, ForeignKeyField, IntegerField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product
from server.models.layout import Location, Warehouse
from server.models.people import Device, User
from server.models.purchasing import PurchaseOrder, PurchaseOrderLine, Supplier

RECEIPT_TRANSITIONS = frozenset({("open", "closed")})
LPN_STATES = ("open", "qc_pending", "ready", "stored", "rejected")
LPN_TRANSITIONS = frozenset({
    ("open", "qc_pending"), ("open", "ready"),
    ("qc_pending", "ready"), ("qc_pending", "rejected"),
    ("ready", "stored"),
})
SUPPLIER_RETURN_TRANSITIONS = frozenset({("open", "shipped"), ("open", "cancelled")})


class Receipt(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    po = ForeignKeyField(PurchaseOrder, backref="receipts", on_delete="RESTRICT")
    warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
    dock = ForeignKeyField(Location, on_delete="RESTRICT")  # where its units wait (kind receiving)
    status = CharField(max_length=16, default="open", index=True)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
    started_at = UtcDateTimeField(default=utcnow)
    closed_at = UtcDateTimeField(null=True)


class Lpn(BaseModel):
    """A licence plate: the units of one SKU and lot a receipt took, under one SSCC label."""
    id = AutoField()
    sscc = CharField(max_length=18, unique=True)
    receipt = ForeignKeyField(Receipt, backref="lpns", on_delete="RESTRICT")
    po_line = ForeignKeyField(PurchaseOrderLine, on_delete="RESTRICT")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    lot = CharField(max_length=64, default="")
    expiry = DateField(null=True)
    qty = IntegerField(default=0)
    status = CharField(max_length=16, default="open", index=True)
    location = ForeignKeyField(Location, on_delete="RESTRICT")  # where its units are now
    # QC of the lot (plan none | full | sample; sample sizes of ISO 2859-1)
    qc_plan = CharField(max_length=8, default="none")
    aql = CharField(max_length=8, default="")
    sample_size = IntegerField(default=0)
    accept_number = IntegerField(default=0)
    checked = IntegerField(default=0)
    failed = IntegerField(default=0)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    decided_at = UtcDateTimeField(null=True)
    stored_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    stored_at = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField(default=utcnow)


class QcCheck(BaseModel):
    """One sampled unit checked: passed, or failed with a defect reason."""
    id = BigAutoField()
    lpn = ForeignKeyField(Lpn, backref="checks", on_delete="CASCADE")
    passed = BooleanField()
    reason = CharField(max_length=32, default="")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
    at = UtcDateTimeField(default=utcnow)


class SupplierReturn(BaseModel):
    """Units going back to their supplier (退供): a failed lot, printed and shipped by the office."""
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    supplier = ForeignKeyField(Supplier, on_delete="RESTRICT")
    po = ForeignKeyField(PurchaseOrder, null=True, on_delete="SET NULL")
    lpn = ForeignKeyField(Lpn, null=True, on_delete="SET NULL")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    lot = CharField(max_length=64, default="")
    qty = IntegerField()
    reason = CharField(max_length=200, default="")
    status = CharField(max_length=16, default="open", index=True)
    created_at = UtcDateTimeField(default=utcnow)
    shipped_at = UtcDateTimeField(null=True)
