"""Stock: quants (what is where, in which state) and the append-only ledger of moves.

Quants are a materialisation of the ledger: ``wavefloor stock audit`` recomputes them.
"""
from peewee import AutoField, BigAutoField, Check, CharField, DateField, ForeignKeyField, IntegerField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product
from server.models.layout import Location
from server.models.people import Device, User

STOCK_STATES = ("available", "qc_pending", "frozen", "damaged")


class Quant(BaseModel):
    """``qty`` units of a SKU (lot) at a location in one state; ``reserved`` of them promised."""
    id = AutoField()
    product = ForeignKeyField(Product, backref="quants", on_delete="RESTRICT")
    location = ForeignKeyField(Location, backref="quants", on_delete="RESTRICT")
    lot = CharField(max_length=64, default="")
    state = CharField(max_length=16, default="available")
    qty = IntegerField(default=0)
    reserved = IntegerField(default=0)
    expiry = DateField(null=True)  # the lot's use-by date, when it has one (GS1 AI 17)

    class Meta:
        indexes = ((("product", "location", "lot", "state"), True),)
        constraints = [Check("qty >= 0"), Check("reserved >= 0"), Check("reserved <= qty")]


class StockMove(BaseModel):
    """One ledger line. ``qty`` units go from (from_location, from_state) to (to_location,
    to_state); a missing side is the world outside. ``reserved`` is the change of the
    reservation on the *from* quant (a reserve line moves nothing and reserves)."""
    id = BigAutoField()
    product = ForeignKeyField(Product, on_delete="RESTRICT", index=False)  # (product, at) leads with it
    lot = CharField(max_length=64, default="")
    qty = IntegerField(default=0)
    reserved = IntegerField(default=0)
    from_location = ForeignKeyField(Location, null=True, on_delete="RESTRICT")
    from_state = CharField(max_length=16, null=True)
    to_location = ForeignKeyField(Location, null=True, on_delete="RESTRICT")
    to_state = CharField(max_length=16, null=True)
    reason = CharField(max_length=32)
    ref = CharField(max_length=100, default="", index=True)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)  # moves are not read by device
    at = UtcDateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("product", "at"), False),)
