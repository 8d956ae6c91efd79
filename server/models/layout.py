"""Warehouses, zones and locations; the geometry feeds the walking-route planner."""
from peewee import AutoField, BooleanField, CharField, FloatField, ForeignKeyField, IntegerField

from server.models.base import BaseModel
from server.models.catalog import Product

LOCATION_KINDS = ("pick", "reserve", "receiving", "qc", "staging", "tote", "pack", "shipped", "returns")
PICKABLE_KINDS = ("pick", "reserve")  # locations whose free units orders may be promised and picked from


class Warehouse(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=100)
    timezone = CharField(max_length=64, default="Asia/Shanghai")
    province = CharField(max_length=32, default="")
    address = CharField(max_length=200, default="")
    # Picking-area geometry (docs/layout.md).
    aisles = IntegerField(default=0)
    aisle_length_m = FloatField(default=0.0)
    aisle_width_m = FloatField(default=0.0)
    blocks = IntegerField(default=1)
    depot_aisle = IntegerField(default=0)
    depot_y_m = FloatField(default=0.0)


class Zone(BaseModel):
    id = AutoField()
    warehouse = ForeignKeyField(Warehouse, backref="zones", on_delete="CASCADE")
    code = CharField(max_length=32)
    name = CharField(max_length=100, default="")
    kind = CharField(max_length=16, default="pick")

    class Meta:
        indexes = ((("warehouse", "code"), True),)


class Location(BaseModel):
    """A place that holds stock: a pick face, a reserve pallet, a tote, the shipped sink, ..."""
    id = AutoField()
    warehouse = ForeignKeyField(Warehouse, backref="locations", on_delete="CASCADE")
    zone = ForeignKeyField(Zone, backref="locations", null=True, on_delete="SET NULL")
    code = CharField(max_length=64, unique=True)
    kind = CharField(max_length=16, default="pick")
    aisle = IntegerField(null=True)
    y_m = FloatField(null=True)
    level = IntegerField(default=1)
    pick_seq = IntegerField(default=0)
    active = BooleanField(default=True)
    needs_count = BooleanField(default=False)
    capacity_units = IntegerField(default=0)  # the most units it holds; 0: not limited

    class Meta:
        indexes = ((("warehouse", "kind"), False),)


class PickFace(BaseModel):
    """A SKU's pick face (拣货位): the location its units are picked from, with the most units it
    holds (putaway fills it up to ``max_qty``; replenishment keeps it above ``min_qty``)."""
    id = AutoField()
    location = ForeignKeyField(Location, backref="faces", on_delete="CASCADE")
    product = ForeignKeyField(Product, backref="faces", on_delete="CASCADE")
    min_qty = IntegerField(default=0)
    max_qty = IntegerField(default=0)

    class Meta:
        indexes = ((("location", "product"), True),)
