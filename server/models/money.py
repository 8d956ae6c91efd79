"""Money per order line (每单核算): what a line was sold for, who paid its discounts, what the
platform, the payment and the carrier took, its VAT, its cost at shipment and its gross margin;
the fee rates they come from; and the moving-average unit cost (移动加权平均成本) of each SKU
in each warehouse, with its history for stock value at a date.

``LineMoney`` is read by the finance (vouchers, reconciliation) and report modules: its column
names are an interface. Every amount is integer fen (分); rates are basis points (bp, 1 % = 100).
Figures "at sale" are kept as they were; refunds are kept beside them (``refund_*``), so a
voucher can show both, and ``revenue_fen``/``margin_fen`` are net of refunds.
"""
from peewee import AutoField, BigAutoField, BooleanField, CharField, DateField, ForeignKeyField, IntegerField

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.catalog import Product
from server.models.layout import Warehouse
from server.models.orders import Order, OrderLine
from server.models.purchasing import PurchaseOrder

FEE_KINDS = ("commission", "payment")  # 平台佣金/技术服务费, 支付手续费
CHARGE_KINDS = ("merchant_discount", "platform_subsidy", "commission", "payment_fee",
                "freight_charged", "freight_paid")
PAYERS = ("merchant", "platform", "buyer", "carrier", "")


class LineMoney(BaseModel):
    """One order line's money (one row per ``OrderLine``), made by ``services/money``.

    revenue_fen = paid_fen + platform_subsidy_fen - refund_fen - refund_subsidy_fen
    margin_fen  = revenue_fen - (tax_fen - refund_tax_fen) - (cogs_fen - returned_cogs_fen)
                  - (commission_fen - refund_commission_fen) - (payment_fee_fen - refund_payment_fee_fen)
                  - freight_paid_fen + (freight_charged_fen - freight_tax_fen)      (null until shipped)
    """
    id = AutoField()
    line = ForeignKeyField(OrderLine, unique=True, on_delete="CASCADE")
    order = ForeignKeyField(Order, on_delete="CASCADE")
    shop = CharField(max_length=64)
    channel = CharField(max_length=16)
    day = DateField(index=True)                  # the Beijing day of the order's payment (else creation)
    province = CharField(max_length=32, default="")
    sku_code = CharField(max_length=64)
    product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
    warehouse = ForeignKeyField(Warehouse, null=True, on_delete="SET NULL")  # where it ships from
    category = CharField(max_length=64, default="")
    qty = IntegerField(default=0)
    price_fen = IntegerField(default=0)               # list price x qty
    paid_fen = IntegerField(default=0)                # what the buyer paid for the line, every discount off
    merchant_discount_fen = IntegerField(default=0)   # shop coupon, 满减, seller discount: paid by the merchant
    platform_subsidy_fen = IntegerField(default=0)    # 天猫红包/卡券, 集分宝: paid by the platform, income to declare
    commission_fen = IntegerField(default=0)          # platform commission (佣金/技术服务费), at sale
    payment_fee_fen = IntegerField(default=0)         # payment fee (支付宝/微信手续费), at sale
    freight_charged_fen = IntegerField(default=0)     # share of the postage the buyer paid
    freight_paid_fen = IntegerField(default=0)        # share of what the carrier charged
    freight_tax_fen = IntegerField(default=0)         # VAT inside freight_charged_fen (the order's goods rate)
    vat_rate_bp = IntegerField(default=0)
    tax_fen = IntegerField(default=0)                 # VAT inside the line's revenue at sale
    refund_fen = IntegerField(default=0)              # paid back to the buyer (reverses paid_fen)
    refund_subsidy_fen = IntegerField(default=0)      # the platform's subsidy taken back with it
    refund_commission_fen = IntegerField(default=0)   # commission the platform gives back
    refund_payment_fee_fen = IntegerField(default=0)  # payment fee given back (where the rate says so)
    refund_tax_fen = IntegerField(default=0)          # VAT no longer due
    returned_cogs_fen = IntegerField(default=0)       # the cost of the units back in stock from the returns bench
    revenue_fen = IntegerField(default=0)             # net of refunds (formula above)
    unit_cost_fen = IntegerField(null=True)           # moving average cost per unit at shipment
    cogs_fen = IntegerField(null=True)                # cost of goods sold, fixed at shipment
    shipped_at = UtcDateTimeField(null=True)
    margin_fen = IntegerField(null=True)              # gross margin, null until shipped
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("order",), False), (("shop", "day"), False))


class FeeRate(BaseModel):
    """A fee rate: platform commission (per shop and category) or payment fee (per shop).

    The most specific row wins: (shop, category), (shop, ''), ('', category), ('', '').
    ``refundable``: the fee comes back in proportion when the buyer is refunded."""
    id = AutoField()
    kind = CharField(max_length=16)                # commission | payment
    shop = CharField(max_length=64, default="")    # '' any shop
    category = CharField(max_length=64, default="")  # '' any category
    rate_bp = IntegerField()
    refundable = BooleanField(default=True)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "shop", "category"), True),)


class OrderCharge(BaseModel):
    """An order-level amount as a bill or the channel states it, overriding the estimate of its
    kind (the rows of one kind are summed): a discount with its payer, a fee, the carrier's bill."""
    id = AutoField()
    order = ForeignKeyField(Order, backref="charges", on_delete="CASCADE")
    kind = CharField(max_length=24)                # one of CHARGE_KINDS
    payer = CharField(max_length=16, default="")   # merchant | platform (discounts)
    name = CharField(max_length=64, default="")    # 店铺优惠券, 满减, 天猫红包, 集分宝 ...
    fen = IntegerField()
    source = CharField(max_length=100, default="")
    created_at = UtcDateTimeField(default=utcnow)


class FreightRate(BaseModel):
    """What a carrier charges for a parcel to a province: first weight, then each step begun.
    The most specific row wins: (carrier, province), (carrier, ''), ('', province), ('', '')."""
    id = AutoField()
    carrier = CharField(max_length=32, default="")
    province = CharField(max_length=32, default="")
    first_g = IntegerField(default=1000)
    first_fen = IntegerField(default=0)
    step_g = IntegerField(default=1000)
    step_fen = IntegerField(default=0)

    class Meta:
        indexes = ((("carrier", "province"), True),)


class InboundFreight(BaseModel):
    """Inbound freight of a purchase order (采购运费), allocated to its lines by value."""
    id = AutoField()
    po = ForeignKeyField(PurchaseOrder, unique=True, on_delete="CASCADE")
    fen = IntegerField(default=0)
    updated_at = UtcDateTimeField(default=utcnow)


class UnitCost(BaseModel):
    """A SKU's moving weighted average unit cost in a warehouse, now."""
    id = AutoField()
    product = ForeignKeyField(Product, on_delete="CASCADE")
    warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
    unit_cost_fen = IntegerField(default=0)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("product", "warehouse"), True),)


class CostChange(BaseModel):
    """One change of a unit cost: a receipt (units in at a cost) or a correction, with the
    figures it was computed from. The history gives the unit cost in force at any time."""
    id = BigAutoField()
    product = ForeignKeyField(Product, on_delete="CASCADE", index=False)
    warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
    at = UtcDateTimeField(default=utcnow)
    qty_before = IntegerField(default=0)       # units on hand in the warehouse before
    cost_before_fen = IntegerField(default=0)  # the unit cost before
    qty_in = IntegerField(default=0)
    value_in_fen = IntegerField(default=0)     # purchase cost + allocated inbound freight of qty_in
    unit_cost_fen = IntegerField(default=0)    # after
    reason = CharField(max_length=16, default="receipt")  # receipt | return | set
    ref = CharField(max_length=100, default="")

    class Meta:
        indexes = ((("product", "warehouse", "at"), False),)
