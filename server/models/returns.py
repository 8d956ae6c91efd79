"""Refunds and returns from the buyers (售后 / 退货入库).

A ``Refund`` is the channel's refund record (退款单), one per order line, as its refund export
or API tells it; importing it again updates it. A ``ReturnParcel`` is a parcel opened at the
returns bench: matched to its order by its tracking number or the order number, or kept as an
unknown parcel (无头件, no order) to be matched later. Each unit taken out is a
``ReturnUnit`` with its condition; a restocked unit is a ledger line into the returns area.
"""
from peewee import AutoField, BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product
from server.models.layout import Location, Warehouse
from server.models.orders import Order, OrderLine
from server.models.people import Device, User

REFUND_STATES = ("requested", "agreed", "refused", "closed", "success")
RETURN_CONDITIONS = ("restock", "damaged", "scrap")
RETURN_PARCEL_TRANSITIONS = frozenset({("open", "done")})


class Refund(BaseModel):
    id = AutoField()
    channel = CharField(max_length=16)
    shop = CharField(max_length=64)
    refund_id = CharField(max_length=64)
    order_external_id = CharField(max_length=64, index=True)
    line_external_id = CharField(max_length=64, default="")
    order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
    line = ForeignKeyField(OrderLine, null=True, on_delete="SET NULL")
    sku_code = CharField(max_length=64, default="")
    qty = IntegerField(default=0)
    refund_fen = IntegerField(default=0)
    state = CharField(max_length=16, default="requested")
    channel_status = CharField(max_length=64, default="")
    reason = CharField(max_length=200, default="")
    goods_returned = BooleanField(default=False)      # the buyer sends goods back (退货退款)
    return_tracking = CharField(max_length=64, default="", index=True)
    return_carrier = CharField(max_length=64, default="")
    requested_at = UtcDateTimeField(null=True)
    modified_at = UtcDateTimeField(null=True)
    source = CharField(max_length=200, default="")
    imported_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("channel", "shop", "refund_id"), True),)


class ReturnParcel(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
    tracking = CharField(max_length=64, default="", index=True)
    order = ForeignKeyField(Order, null=True, on_delete="SET NULL")  # none: an unknown parcel (无头件)
    status = CharField(max_length=16, default="open", index=True)
    note = TextField(default="")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
    opened_at = UtcDateTimeField(default=utcnow)
    closed_at = UtcDateTimeField(null=True)


class ReturnUnit(BaseModel):
    id = AutoField()
    parcel = ForeignKeyField(ReturnParcel, backref="units", on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    line = ForeignKeyField(OrderLine, null=True, on_delete="SET NULL")
    lot = CharField(max_length=64, default="")
    qty = IntegerField(default=1)
    condition = CharField(max_length=16)  # restock | damaged | scrap
    location = ForeignKeyField(Location, null=True, on_delete="SET NULL")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
    at = UtcDateTimeField(default=utcnow)
