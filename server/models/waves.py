"""Waves (波次) and the pick tasks they become.

A wave groups allocated orders under one strategy; releasing it creates pick tasks (one per
cart or batch, per zone) whose lines are in walking order. Orders join a wave through
``WaveOrder``, which also holds the order's cart slot or put-wall slot.
"""
from peewee import SQL, AutoField, CharField, FloatField, ForeignKeyField, IntegerField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product
from server.models.layout import Location, Warehouse, Zone
from server.models.orders import Allocation, Order, OrderLine
from server.models.people import Device, User

WAVE_STRATEGIES = ("single_unit", "single_sku_multi", "cluster", "batch_putwall")

WAVE_TRANSITIONS = frozenset({
    ("planned", "released"), ("planned", "cancelled"),
    ("released", "picking"), ("released", "paused"), ("released", "cancelled"),
    ("picking", "paused"), ("paused", "released"), ("paused", "picking"),
    ("picking", "picked"), ("released", "picked"), ("picked", "done"), ("paused", "cancelled"),
    ("paused", "picked"),  # the last task, already walking, finished while the wave was paused
})

TASK_TRANSITIONS = frozenset({
    ("open", "assigned"), ("assigned", "in_progress"), ("in_progress", "done"), ("assigned", "done"),
    ("assigned", "open"), ("in_progress", "open"),  # handed back
    ("in_progress", "assigned"),  # a supervisor hands a started task to another picker
    ("open", "cancelled"), ("assigned", "cancelled"),
})

# A line's step is kept on the line (services/scenarios/picking.py): open or skipped (scan the
# location), located (the location was scanned: scan items, then the tote), done or short.
LINE_TRANSITIONS = frozenset({
    ("open", "located"), ("skipped", "located"),   # the location scanned
    ("open", "skipped"), ("located", "skipped"),   # come back to it at the end of the walk
    ("located", "done"), ("located", "short"),     # its last units into a tote, or none left to find
    ("open", "short"), ("skipped", "short"),       # nothing at the location
    ("located", "open"),                           # the task handed to another picker
})


class Wave(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
    strategy = CharField(max_length=24)
    status = CharField(max_length=16, default="planned", index=True)
    orders_count = IntegerField(default=0)
    lines_count = IntegerField(default=0)
    units_count = IntegerField(default=0)
    planned_metres = FloatField(default=0.0)
    fcfs_metres = FloatField(default=0.0)  # the same orders in first-come-first-served batches
    deadline = UtcDateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = UtcDateTimeField(default=utcnow)
    released_at = UtcDateTimeField(null=True)
    finished_at = UtcDateTimeField(null=True)


class WaveOrder(BaseModel):
    id = AutoField()
    wave = ForeignKeyField(Wave, backref="wave_orders", on_delete="CASCADE")
    order = ForeignKeyField(Order, unique=True, on_delete="CASCADE")
    slot = IntegerField(default=0)  # cart slot (cluster) or put-wall slot (batch); 0 = none


class PickTask(BaseModel):
    """One walk: a cart of totes (cluster), a batch tote (batch) or a bulk pick (single unit)."""
    id = AutoField()
    wave = ForeignKeyField(Wave, backref="tasks", on_delete="CASCADE")
    code = CharField(max_length=32, unique=True)
    zone = ForeignKeyField(Zone, null=True, on_delete="SET NULL")
    status = CharField(max_length=16, default="open", index=True)
    picker = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL")
    seq = IntegerField(default=0)  # release order: lower goes first
    metres = FloatField(default=0.0)
    lines_total = IntegerField(default=0)
    lines_done = IntegerField(default=0)
    units_total = IntegerField(default=0)
    units_done = IntegerField(default=0)
    assigned_at = UtcDateTimeField(null=True)
    started_at = UtcDateTimeField(null=True)
    finished_at = UtcDateTimeField(null=True)


class PickLine(BaseModel):
    """Take ``qty`` of a SKU from a location into a tote or cart slot; ``seq`` is the walking order."""
    id = AutoField()
    task = ForeignKeyField(PickTask, backref="lines", on_delete="CASCADE")
    seq = IntegerField()
    order = ForeignKeyField(Order, null=True, on_delete="CASCADE")  # none for a batch line of many orders
    order_line = ForeignKeyField(OrderLine, null=True, on_delete="CASCADE")
    allocation = ForeignKeyField(Allocation, null=True, on_delete="SET NULL")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    location = ForeignKeyField(Location, on_delete="RESTRICT")
    lot = CharField(max_length=64, default="")
    qty = IntegerField()
    picked_qty = IntegerField(default=0)  # units scanned; those not yet in a tote are in hand
    moved_qty = IntegerField(default=0)  # units put into totes: the sum of the line's pick moves
    short_qty = IntegerField(default=0)
    slot = IntegerField(default=0)  # cart slot for cluster picking
    tote = CharField(max_length=64, default="")  # the tote or slot code the units went into
    status = CharField(max_length=16, default="open")  # open | skipped | located | done | short


# Every scan asks for its picker's active task, its next open line and the tote its cart slot
# already fills; these partial indexes answer each with one index entry, where SQLite read all
# the task's lines or sorted the picker's tasks. A query uses a partial index only when it names
# the same condition (OPEN_LINE_SQL, ACTIVE_TASK_SQL), written as comparisons: SQLite tests an IN
# list of three by building a temporary table (migration 0009).
OPEN_LINE_SQL = "status = 'open' OR status = 'skipped' OR status = 'located'"
ACTIVE_TASK_SQL = "status = 'assigned' OR status = 'in_progress'"
PickTask.add_index(PickTask.picker, PickTask.assigned_at, PickTask.id, name="pick_task_active_picker",
                   where=SQL(ACTIVE_TASK_SQL))
PickLine.add_index(PickLine.task, PickLine.seq, PickLine.id, name="pick_line_open_seq", where=SQL(OPEN_LINE_SQL))
PickLine.add_index(PickLine.task, PickLine.slot, name="pick_line_slot_tote", where=SQL("tote <> ''"))
