"""Orders from the sales channels, their lines, the stock allocated to them, and their history."""
from peewee import (AutoField, BigAutoField, BooleanField, CharField, ForeignKeyField, IntegerField,
                    TextField)

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product
from server.models.layout import Location, Warehouse
from server.models.people import User

# new -> reviewing -> held | approved -> allocated | backorder -> waved -> picking -> picked
# -> packed -> shipped; cancelled from any state before shipped.
ORDER_STATES = ("new", "reviewing", "held", "approved", "allocated", "backorder", "waved", "picking",
                "picked", "packed", "shipped", "cancelled")
TRANSITIONS = frozenset({
    ("new", "reviewing"), ("reviewing", "held"), ("reviewing", "approved"),
    ("held", "approved"), ("held", "reviewing"),
    ("approved", "allocated"), ("approved", "backorder"), ("backorder", "allocated"),
    # a change from the channel (a refund request, an edit) sends an order back to review
    ("approved", "held"), ("allocated", "held"), ("backorder", "held"),
    ("allocated", "waved"), ("waved", "picking"), ("picking", "picked"), ("waved", "picked"),
    ("picked", "packed"), ("packed", "shipped"),
    # a wave taken apart before picking starts gives its orders back
    ("waved", "allocated"),
} | {(state, "cancelled") for state in ORDER_STATES if state not in ("shipped", "cancelled")})


class Shop(BaseModel):
    """A store on a channel (店铺): how its orders come in and how stock is offered to it."""
    id = AutoField()
    code = CharField(max_length=64, unique=True)
    channel = CharField(max_length=16)  # tmall | top | jd | douyin | csv
    name = CharField(max_length=100, default="")
    stock_ratio_pct = IntegerField(default=100)  # share of available stock offered to this shop
    safety_buffer = IntegerField(default=0)      # units held back per SKU against oversell
    webhook_secret = CharField(max_length=128, default="")
    # presale (预售) against inbound: the shop is also offered the units in transit (在途), by expected date
    sell_in_transit = BooleanField(default=False)


class Order(BaseModel):
    id = AutoField()
    channel = CharField(max_length=16)
    shop = CharField(max_length=64)
    external_id = CharField(max_length=64)
    status = CharField(max_length=16, default="new", index=True)
    channel_status = CharField(max_length=64, default="")
    # when the channel last changed the order, as its payload said: an older payload is not applied
    channel_modified_at = UtcDateTimeField(null=True)
    fingerprint = CharField(max_length=64, default="")
    buyer_nick = CharField(max_length=100, default="")
    buyer_message = TextField(default="")
    seller_memo = TextField(default="")
    seller_flag = IntegerField(default=0)
    receiver_name = CharField(max_length=100, default="")
    receiver_phone = CharField(max_length=64, default="")
    receiver_province = CharField(max_length=32, default="", index=True)
    receiver_city = CharField(max_length=64, default="")
    receiver_district = CharField(max_length=64, default="")
    receiver_address = CharField(max_length=300, default="")
    receiver_zip = CharField(max_length=16, default="")
    goods_fen = IntegerField(default=0)
    freight_fen = IntegerField(default=0)
    discount_fen = IntegerField(default=0)
    coupon_fen = IntegerField(default=0)
    paid_fen = IntegerField(default=0)
    ordered_at = UtcDateTimeField(null=True)
    paid_at = UtcDateTimeField(null=True)
    presale = BooleanField(default=False)
    presale_final_paid = BooleanField(default=False)
    presale_ship_by = UtcDateTimeField(null=True)
    ship_by = UtcDateTimeField(null=True, index=True)
    priority = IntegerField(default=0)
    hold_reasons = TextField(default="")  # codes, comma separated
    warehouse = ForeignKeyField(Warehouse, null=True, on_delete="SET NULL")
    carrier = CharField(max_length=32, default="")
    merged_into = ForeignKeyField("self", null=True, backref="merged", on_delete="SET NULL")
    split_from = ForeignKeyField("self", null=True, backref="splits", on_delete="SET NULL")
    source = CharField(max_length=200, default="")
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("channel", "shop", "external_id"), True),)


class OrderLine(BaseModel):
    id = AutoField()
    order = ForeignKeyField(Order, backref="lines", on_delete="CASCADE")
    external_line_id = CharField(max_length=64)
    sku_code = CharField(max_length=64)
    product = ForeignKeyField(Product, null=True, on_delete="RESTRICT")
    title = CharField(max_length=200, default="")
    qty = IntegerField()
    price_fen = IntegerField(default=0)
    paid_fen = IntegerField(default=0)
    refund_status = CharField(max_length=16, default="none")
    refund_fen = IntegerField(default=0)     # refunded to the buyer, as the channel's refunds say
    returned_qty = IntegerField(default=0)   # units back at the returns bench
    reserved_qty = IntegerField(default=0)
    picked_qty = IntegerField(default=0)
    short_qty = IntegerField(default=0)

    class Meta:
        indexes = ((("order", "external_line_id"), True),)


class Allocation(BaseModel):
    """Stock reserved for an order line at one location (one line may draw on several)."""
    id = AutoField()
    line = ForeignKeyField(OrderLine, backref="allocations", on_delete="CASCADE")
    location = ForeignKeyField(Location, on_delete="RESTRICT")
    lot = CharField(max_length=64, default="")
    qty = IntegerField()


class OrderEvent(BaseModel):
    """The history of an order: who did what, when (shown on the order page)."""
    id = BigAutoField()
    order = ForeignKeyField(Order, backref="events", on_delete="CASCADE")
    at = UtcDateTimeField(default=utcnow)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    action = CharField(max_length=32)
    detail = TextField(default="")
