"""Packages (包裹): the parcel a pack station makes of an order, with its carrier, tracking
number, label and weight.

A parcel's states are the steps a packer can see on the floor::

    open ──last unit: label──> labelled ──weight in band──> weighed ──scan-out──> shipped
     │ ^                          │  ^                        │  │ ^                  ^
     v │ opened again             │  └── taken elsewhere, ────┘  └─┘ weighed again    │
    aside                         │      or put aside                                 │
                                  └──────────── scan-out where no scale is asked ─────┘

- ``open`` (验货中): at one station (``station``), its units being checked one by one
  (``PackageUnit``). No other station may take it: that is the edge that does not exist.
- ``aside`` (挂起): the packer put it aside before the last unit, or opened another order. It
  has no station, and opened again it is checked from its first unit (the units it had are
  forgotten), because nobody can tell what happened to an open box meanwhile.
- ``labelled`` (已打单): every unit checked, a tracking number and a label queued; the order is
  ``packed``. Putting a labelled parcel aside is no state of its own: it keeps its label and
  only has to be weighed, so it stays labelled with no station, and any station may take it to
  weigh and ship it (a separate scan-out bench).
- ``weighed`` (已称重): the scale read a weight in the band at the station that has it open.
  Taken to another station or put aside, it goes back to labelled and is weighed again there:
  the weight that lets a parcel out is the one taken just before it leaves.
- ``shipped`` (已出库): its units left the building; nothing changes it any more.

There is no ``cancelled``: nothing on the floor cancels a parcel. An order the office cancels
keeps its parcel as it was, and the order's status keeps it off every station.

``station`` is where the parcel is open now (none when it is not open anywhere; for a shipped
parcel, where it left); ``user`` and ``device`` did its last step. A tracking number is unique
among the parcels that have one.
"""
from peewee import SQL, AutoField, BooleanField, CharField, ForeignKeyField, IntegerField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product
from server.models.orders import Order
from server.models.people import Device, User
from server.models.printing import PrintJob

PACKAGE_STATES = ("open", "aside", "labelled", "weighed", "shipped")
PACKAGE_TRANSITIONS = frozenset({
    ("open", "aside"), ("aside", "open"),     # put aside, opened again (checked again)
    ("open", "labelled"),                     # the last unit checked: tracking number and label
    ("labelled", "weighed"),                  # a weight in the band
    ("weighed", "weighed"),                   # weighed again at the same station: the last weight counts
    ("weighed", "labelled"),                  # taken to another station or put aside: weighed again
    ("weighed", "shipped"),                   # scan-out (出库)
    ("labelled", "shipped"),                  # scan-out where no scale is asked for
})
AT_STATION = ("open", "labelled", "weighed")  # the states in which a station can have a parcel open


class Package(BaseModel):
    id = AutoField()
    order = ForeignKeyField(Order, unique=True, on_delete="CASCADE")  # one parcel an order
    station = CharField(max_length=64, null=True, index=True)
    state = CharField(max_length=16, default="open")
    carrier = CharField(max_length=32, default="")
    tracking = CharField(max_length=64, default="")
    label_job = ForeignKeyField(PrintJob, null=True, on_delete="SET NULL")  # the latest print of its label
    label_confirmed = BooleanField(default=False)  # the printed label's tracking number was scanned
    expected_g = IntegerField(null=True)  # the middle of the band the weight was checked against
    weight_g = IntegerField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    packed_at = UtcDateTimeField(null=True)    # labelled
    weighed_at = UtcDateTimeField(null=True)
    shipped_at = UtcDateTimeField(null=True)
    exported_at = UtcDateTimeField(null=True)  # its tracking number went back to the channel
    tracking_status = CharField(max_length=16, default="")  # its latest logistics event (物流轨迹)
    collected_at = UtcDateTimeField(null=True)  # the carrier took it (揽收)
    delivered_at = UtcDateTimeField(null=True)  # signed for (签收)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)  # parcels are not read by device


# A scanned tracking number is looked up by this index; a query uses it only when it names the same
# condition (``tracking = ? AND tracking <> ''``).
TRACKING_SQL = "tracking <> ''"
Package.add_index(Package.tracking, unique=True, name="package_tracking", where=SQL(TRACKING_SQL))


class PackageUnit(BaseModel):
    """Units checked into a parcel (验货), one row a product."""
    id = AutoField()
    package = ForeignKeyField(Package, backref="units", on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    qty = IntegerField(default=0)

    class Meta:
        indexes = ((("package", "product"), True),)
