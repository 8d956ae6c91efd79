"""Live connectors: a shop's connection to its platform's open API (TOP, JD JOS, 抖店), where its
pulls have got to, the leases that keep one process on each pull, the outbox of calls that change
the platform (发货回传, 库存同步), the carriers' electronic waybills (电子面单) and a parcel's
tracking events (物流轨迹).

A platform call that changes something is a ``ChannelCall`` row written in the transaction of the
change it reports, then sent by a worker::

    pending ──claimed──> sending ──accepted (or already done on the platform)──> done
       ^                   │ └──refused for good (the office must look)──> failed ──retry──> pending
       └──unreachable, rate limited, session expired: again later (backoff)──┘

A waybill is the carrier's number for one parcel. One from a number pool (号段) waits ``free``
until a parcel takes it; one from a carrier's service is ``assigned`` as it arrives; a voided
label ``cancelled`` it (for good: a number is never given twice)::

    free ──a parcel takes it──> assigned ──label voided──> cancelled
"""
from peewee import AutoField, BigAutoField, BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.orders import Order, Shop
from server.models.packages import Package

PLATFORMS = ("top", "jos", "doudian")
CONNECTION_STATES = ("ok", "reauthorise", "paused")
CALL_STATES = ("pending", "sending", "done", "failed")
CHANNEL_CALL_TRANSITIONS = frozenset({
    ("pending", "sending"),
    ("sending", "done"), ("sending", "pending"), ("sending", "failed"),
    ("failed", "pending"),             # a person asked for another try
    ("pending", "done"),               # superseded: a newer stock figure for the same SKU went out
})
WAYBILL_SOURCES = ("pool", "cainiao", "sf")
WAYBILL_STATES = ("free", "assigned", "cancelled")
WAYBILL_TRANSITIONS = frozenset({("free", "assigned"), ("assigned", "cancelled")})
TRACKING_STATES = ("collected", "in_transit", "delivering", "delivered", "exception")


class ShopConnection(BaseModel):
    """A shop's app on its platform. ``secret`` and ``session`` are stored encrypted (the
    setting CREDENTIALS_KEY); a revoked or expired session turns ``status`` to reauthorise."""
    id = AutoField()
    shop = ForeignKeyField(Shop, unique=True, backref="connection", on_delete="CASCADE")
    platform = CharField(max_length=16)             # top | jos | doudian
    endpoint = CharField(max_length=300)            # the platform's gateway URL
    app_key = CharField(max_length=64)
    secret = TextField(default="")                  # encrypted
    session = TextField(default="")                 # encrypted access token
    sign_method = CharField(max_length=16, default="md5")  # TOP: md5 | hmac | hmac-sha256
    seller_nick = CharField(max_length=100, default="")
    status = CharField(max_length=16, default="ok")
    last_error = TextField(default="")
    pull_every_s = IntegerField(default=60)
    push_shipments = BooleanField(default=True)
    push_stock = BooleanField(default=False)
    updated_at = UtcDateTimeField(default=utcnow)


class SyncCheckpoint(BaseModel):
    """How far a shop's pull of one kind (orders | refunds) has got: everything the platform
    modified before ``until`` is stored."""
    id = AutoField()
    shop = ForeignKeyField(Shop, on_delete="CASCADE")
    operation = CharField(max_length=16)
    until = UtcDateTimeField()
    stored = IntegerField(default=0)        # records stored by this pull, in all
    last_run_at = UtcDateTimeField(null=True)
    last_error = TextField(default="")

    class Meta:
        indexes = ((("shop", "operation"), True),)


class Lease(BaseModel):
    """One process at a time on a piece of background work (``name``), whatever the number of
    servers: the holder renews it while it works; an expired lease may be taken by another."""
    id = AutoField()
    name = CharField(max_length=100, unique=True)
    holder = CharField(max_length=100, default="")
    until = UtcDateTimeField(default=utcnow)


class ChannelListing(BaseModel):
    """Where a SKU is on sale in a shop: the platform's item and SKU ids (for stock uploads),
    learned from the shop's pulled orders or set by hand."""
    id = AutoField()
    shop = ForeignKeyField(Shop, on_delete="CASCADE")
    sku_code = CharField(max_length=64)
    item_id = CharField(max_length=64)
    sku_id = CharField(max_length=64, default="")
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("shop", "sku_code"), True),)


class ChannelCall(BaseModel):
    """The outbox: one call that changes the platform (``kind`` ship | stock | waybill_cancel).
    ``key`` makes a call written twice one row; calls of one shop go out in ``id`` order."""
    id = BigAutoField()
    shop = ForeignKeyField(Shop, on_delete="CASCADE")
    kind = CharField(max_length=16)
    order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
    subject = CharField(max_length=64, default="")   # what it is about: the order's number, the SKU
    key = CharField(max_length=160, unique=True)
    payload = TextField(default="{}")
    state = CharField(max_length=16, default="pending", index=True)
    attempts = IntegerField(default=0)
    next_at = UtcDateTimeField(default=utcnow)
    last_error = TextField(default="")
    created_at = UtcDateTimeField(default=utcnow)
    sent_at = UtcDateTimeField(null=True)
    claimed_by = CharField(max_length=100, null=True)
    claimed_until = UtcDateTimeField(null=True)


class CarrierAccount(BaseModel):
    """Where a carrier's waybill numbers come from: a number pool (pool), Cainiao through a
    Taobao shop's session (cainiao), or the carrier's own API (sf). Secrets stored encrypted."""
    id = AutoField()
    carrier = CharField(max_length=32, unique=True)
    source = CharField(max_length=16)
    shop = ForeignKeyField(Shop, null=True, on_delete="SET NULL")  # cainiao: whose TOP session
    endpoint = CharField(max_length=300, default="")
    partner = CharField(max_length=64, default="")     # sf: partnerID / customer code
    secret = TextField(default="")                     # sf: checkword (encrypted)
    account = CharField(max_length=64, default="")     # sf: monthly account (月结卡号); cainiao: branch
    template_url = CharField(max_length=300, default="")  # cainiao: the standard template
    updated_at = UtcDateTimeField(default=utcnow)


class Waybill(BaseModel):
    id = AutoField()
    carrier = CharField(max_length=32)
    number = CharField(max_length=64)
    source = CharField(max_length=16)
    state = CharField(max_length=16, default="assigned", index=True)
    order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
    sort_code = CharField(max_length=64, default="")   # 大头笔 / 三段码
    print_data = TextField(default="")                 # the carrier's print data, as it came
    batch = CharField(max_length=100, default="")      # the pool file, or the wave it was fetched for
    created_at = UtcDateTimeField(default=utcnow)
    assigned_at = UtcDateTimeField(null=True)
    cancelled_at = UtcDateTimeField(null=True)

    class Meta:
        indexes = ((("carrier", "number"), True), (("carrier", "state"), False))


class TrackingEvent(BaseModel):
    """A parcel's logistics event (物流轨迹), pulled from the platform or pushed by the carrier."""
    id = BigAutoField()
    package = ForeignKeyField(Package, backref="tracking_events", on_delete="CASCADE")
    at = UtcDateTimeField()
    status = CharField(max_length=16)   # collected | in_transit | delivering | delivered | exception
    detail = TextField(default="")
    place = CharField(max_length=100, default="")
    source = CharField(max_length=16, default="")

    class Meta:
        indexes = ((("package", "at", "status"), True),)
