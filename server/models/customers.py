"""Customers (CRM, 客户): derived from the orders, one per channel and buyer; their RFM scores and
tags; the live-stream windows that make an order an impulse buy; the daily count of each tag;
the repurchase model per SKU and the daily "due to reorder" list (复购提醒).

Nothing here is typed in by hand except the opt-out flag and the live-stream windows:
``wavefloor customers refresh`` (server/services/customers/derive.py) rewrites the rest from the
orders. The phone is kept as the channel gave it (often already masked or a virtual number) and
is shown unmasked only to a caller with ``pii.read``. See docs/customers.md.
"""
from peewee import (AutoField, BigAutoField, BooleanField, CharField, DateField, FloatField, ForeignKeyField,
                    IntegerField)

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product


class Customer(BaseModel):
    id = AutoField()
    channel = CharField(max_length=16)
    buyer = CharField(max_length=100)                  # the channel's buyer id: the nick, else tel:<phone>
    nick = CharField(max_length=100, default="")
    name = CharField(max_length=100, default="")       # the receiver of the last order
    phone = CharField(max_length=64, default="")       # as the channel gave it on the last order
    province = CharField(max_length=32, default="")
    shop = CharField(max_length=64, default="")        # the shop of the last order
    first_order_at = UtcDateTimeField(null=True)
    last_order_at = UtcDateTimeField(null=True)
    orders = IntegerField(default=0)                   # purchases (a split order counts once)
    units = IntegerField(default=0)
    spent_fen = IntegerField(default=0)                # lines paid, less refunds
    coupon_orders = IntegerField(default=0)            # orders with a coupon or another reduction
    live_orders = IntegerField(default=0)              # orders placed in or just after a live stream
    r_score = IntegerField(default=0)                  # 1..bins (0: no orders)
    f_score = IntegerField(default=0)
    m_score = IntegerField(default=0)
    tags = CharField(max_length=300, default="")       # tag codes, comma separated
    opt_out = BooleanField(default=False)              # no reminder messages (退订)
    opt_out_at = UtcDateTimeField(null=True)
    refreshed_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("channel", "buyer"), True),)


class LiveStream(BaseModel):
    """A live-stream window (直播): an order placed in it or within N minutes after it is an impulse buy."""
    id = AutoField()
    channel = CharField(max_length=16, default="")     # '' every channel
    shop = CharField(max_length=64, default="")        # '' every shop
    title = CharField(max_length=100, default="")
    starts_at = UtcDateTimeField(index=True)
    ends_at = UtcDateTimeField()


class CustomerTagCount(BaseModel):
    """How many customers carried a tag on a day (one row a tag a refresh day)."""
    id = AutoField()
    day = DateField()
    tag = CharField(max_length=32)
    customers = IntegerField(default=0)

    class Meta:
        indexes = ((("day", "tag"), True),)


class RepurchaseModel(BaseModel):
    """A SKU's typical interval between one customer's purchases of it, in days."""
    id = AutoField()
    sku_code = CharField(max_length=64, unique=True)
    product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
    buyers = IntegerField(default=0)                   # customers who bought it
    repeat_buyers = IntegerField(default=0)            # of them, on two days or more
    intervals = IntegerField(default=0)
    median_days = FloatField(null=True)                # null: too few intervals for a model
    p25_days = FloatField(null=True)
    p75_days = FloatField(null=True)
    made_on = DateField()


class ReorderDue(BaseModel):
    """A customer due to reorder a SKU, listed on ``made_on``; one row per purchase reminded."""
    id = BigAutoField()
    made_on = DateField(index=True)
    customer = ForeignKeyField(Customer, backref="due", on_delete="CASCADE")
    sku_code = CharField(max_length=64)
    product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
    last_order_at = UtcDateTimeField()
    due_on = DateField()
    median_days = FloatField()

    class Meta:
        indexes = ((("customer", "sku_code", "last_order_at"), True),)
