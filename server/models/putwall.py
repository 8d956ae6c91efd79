"""The put wall (播种墙): a batch tote being sorted into the slots of its wave's orders.

One row per tote, reused by the tote's next wave. ``station`` is the put wall station sorting
the tote now (none: the tote is free); the ``put_*`` columns are the put the station showed
after an item scan and that waits for the slot's label to be scanned. The units already put
are ledger lines (``reason = put``, ``ref = putwall:<order>``), not columns here.
"""
from peewee import AutoField, CharField, ForeignKeyField, IntegerField

from server.models.base import BaseModel, UtcDateTimeField
from server.models.catalog import Product
from server.models.layout import Location
from server.models.orders import Order
from server.models.people import User
from server.models.waves import Wave


class ToteSort(BaseModel):
    id = AutoField()
    tote = ForeignKeyField(Location, unique=True, on_delete="CASCADE")
    wave = ForeignKeyField(Wave, null=True, on_delete="SET NULL")
    station = CharField(max_length=64, null=True, index=True)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    opened_at = UtcDateTimeField(null=True)
    put_order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
    put_product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
    put_lot = CharField(max_length=64, default="")
    put_qty = IntegerField(default=0)
    put_slot = IntegerField(default=0)
