"""Stock control: cycle counts (盘点), replenishment of pick faces (补货), demand forecasts
(需求预测), promotion days, and the alerts the office sees.

A count task is one location counted by one counter::

    open ──counter takes it──> counting ──counted──> counted ──variance within the threshold──> approved
     │                            │                   │  └──over it: a recount task for another counter──> recounted
     │                            └──handed back──> open       recounted ──the recount's result──> review
     └──cancelled                                                review ──supervisor──> approved | rejected

``counted`` and ``approved`` tasks with a variance post one ledger adjustment (reason ``count``)
when approved. A count holds the ledger's figure at its first scan (``CountLine.expected``) and the
units moved in or out of the location since (``CountLine.moved``): picks go on meanwhile, and
the variance is counted − (expected + moved).

A replenishment task moves units of one SKU from a reserve location to its pick face::

    open ──replenisher takes it──> assigned ──source scanned, units taken──> moving ──face scanned──> done
      └──cancelled   └──handed back──> open                                   (partial: done with what was moved)
"""
from peewee import (SQL, AutoField, BigAutoField, BooleanField, CharField, DateField, FloatField,
                    ForeignKeyField, IntegerField, TextField)

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product
from server.models.layout import Location, Warehouse
from server.models.people import Device, User
from server.models.waves import Wave

COUNT_STATES = ("open", "counting", "counted", "recounted", "review", "approved", "rejected", "cancelled")
COUNT_TRANSITIONS = frozenset({
    ("open", "counting"), ("counting", "open"), ("open", "cancelled"),
    ("counting", "counted"),
    ("counted", "approved"),        # no variance, or one within the threshold
    ("counted", "recounted"),       # over the threshold: another counter counts again
    ("recounted", "review"),        # the recount is in: the supervisor decides
    ("counted", "review"),          # a supervisor asks to see it
    ("review", "approved"), ("review", "rejected"),
})
REPLENISH_STATES = ("open", "assigned", "moving", "done", "cancelled")
REPLENISH_TRANSITIONS = frozenset({
    ("open", "assigned"), ("assigned", "open"), ("open", "cancelled"), ("assigned", "cancelled"),
    ("assigned", "moving"), ("moving", "done"),
})
SB_CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
ALERT_KINDS = ("stockout_risk", "overstock", "slow_mover", "demand_drop")
ALERT_TRANSITIONS = frozenset({("open", "closed")})


class CountTask(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
    location = ForeignKeyField(Location, on_delete="RESTRICT")
    status = CharField(max_length=16, default="open", index=True)
    reason = CharField(max_length=32, default="")      # the plan that made it: zone, aisle, abc_a, flagged ...
    blind = BooleanField(default=True)                 # the counter never sees the expected figure
    recount_of = ForeignKeyField("self", null=True, backref="recounts", on_delete="SET NULL")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")          # the counter
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
    approver = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="approved_counts")
    variance_units = IntegerField(default=0)           # the lines' |counted - (expected + moved)|, summed
    variance_fen = IntegerField(default=0)             # the same at cost (price where there is no cost)
    created_at = UtcDateTimeField(default=utcnow)
    started_at = UtcDateTimeField(null=True)           # the first scan: the ledger's figure is taken here
    counted_at = UtcDateTimeField(null=True)
    decided_at = UtcDateTimeField(null=True)
    note = TextField(default="")


class CountLine(BaseModel):
    """One SKU and lot of a counted location."""
    id = AutoField()
    task = ForeignKeyField(CountTask, backref="lines", on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    lot = CharField(max_length=64, default="")
    expected = IntegerField(default=0)    # the ledger at the task's first scan
    moved = IntegerField(default=0)       # in (+) and out (-) of the location since, by others
    counted = IntegerField(default=0)

    class Meta:
        indexes = ((("task", "product", "lot"), True),)


class ReplenishmentTask(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    source = ForeignKeyField(Location, on_delete="RESTRICT", backref="replenishes_from")
    face = ForeignKeyField(Location, on_delete="RESTRICT", backref="replenished_by")
    lot = CharField(max_length=64, default="")
    qty = IntegerField()
    moved_qty = IntegerField(default=0)
    status = CharField(max_length=16, default="open", index=True)
    trigger = CharField(max_length=16, default="min")  # min (below its minimum) | demand (a wave needs it)
    wave = ForeignKeyField(Wave, null=True, on_delete="SET NULL")
    priority = IntegerField(default=0)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
    created_at = UtcDateTimeField(default=utcnow)
    done_at = UtcDateTimeField(null=True)


# one running minimum task a pick face and SKU, however many picks cross the minimum at once
OPEN_MIN_SQL = "\"trigger\" = 'min' AND status IN ('open', 'assigned', 'moving')"
ReplenishmentTask.add_index(ReplenishmentTask.face, ReplenishmentTask.product, unique=True,
                            name="replenishment_task_open_min", where=SQL(OPEN_MIN_SQL))


class PromotionDay(BaseModel):
    """A day whose sales are not ordinary demand (618, 双11, 双12, the merchant's own)."""
    id = AutoField()
    day = DateField(unique=True)
    name = CharField(max_length=64)
    merchant = BooleanField(default=False)   # the merchant's own, not a platform's


class DemandForecast(BaseModel):
    """A SKU's forecast in a warehouse, made on ``made_on`` for the days after it."""
    id = BigAutoField()
    product = ForeignKeyField(Product, on_delete="CASCADE")
    warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
    made_on = DateField()
    sb_class = CharField(max_length=16, default="")   # smooth | erratic | intermittent | lumpy ('' none)
    adi = FloatField(null=True)
    cv2 = FloatField(null=True)
    method = CharField(max_length=24, default="")
    daily = TextField(default="[]")                    # units a day for the horizon, JSON
    per_day = FloatField(default=0.0)                  # their mean
    sigma = FloatField(default=0.0)                    # the one-day forecast error's spread
    mase = FloatField(null=True)                       # on the 28-day holdout
    bias = FloatField(null=True)
    reason = CharField(max_length=64, default="")      # why there is no forecast, or a flat one
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("product", "warehouse", "made_on"), True),)


class StockAlert(BaseModel):
    id = AutoField()
    kind = CharField(max_length=16)
    product = ForeignKeyField(Product, on_delete="CASCADE")
    warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
    raised_on = DateField()
    detail = TextField(default="")
    state = CharField(max_length=8, default="open", index=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "product", "warehouse", "raised_on"), True),)
