"""The reports' (BI) daily aggregate of sales, kept beside the order tables it is made from.

``ReportSalesDay`` holds one row per warehouse-time-zone day of payment, shop, channel and
receiving province: orders, lines, units, revenue and refunds, summed from the order lines.
It is a cache that can always be thrown away and rebuilt (``wavefloor reports refresh --full``);
``server/services/reports/facts.py`` keeps it current and proves it equals the raw lines.
``ReportRefresh`` remembers how far each refresh has read (docs/reports.md).
"""
from peewee import AutoField, BigIntegerField, CharField, DateField, IntegerField

from server.models.base import BaseModel, UtcDateTimeField


class ReportSalesDay(BaseModel):
    id = AutoField()
    day = DateField()                          # the day of payment in the warehouse's time zone
    shop = CharField(max_length=64)
    channel = CharField(max_length=16)
    province = CharField(max_length=32)        # the order's receiver_province, as the channel gave it
    orders = IntegerField(default=0)
    lines = IntegerField(default=0)
    units = BigIntegerField(default=0)
    revenue_fen = BigIntegerField(default=0)   # Σ order_line.paid_fen
    refund_fen = BigIntegerField(default=0)    # Σ order_line.refund_fen

    class Meta:
        indexes = ((("day", "shop", "channel", "province"), True),)


class ReportRefresh(BaseModel):
    """How far an aggregate's refresh has read the tables it watches."""
    name = CharField(max_length=32, primary_key=True)
    orders_seen = UtcDateTimeField(null=True)     # the newest order.updated_at taken in
    refunds_seen = UtcDateTimeField(null=True)    # the newest refund.imported_at taken in
    refreshed_at = UtcDateTimeField(null=True)
    zone = CharField(max_length=64, default="")   # the time zone its days were cut in
