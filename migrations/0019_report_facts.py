"""Reports (BI): the daily sales aggregate the dashboard reads, and the refresh watermark.

Frozen table definitions: this file never imports the live models."""
from peewee import AutoField, BigIntegerField, CharField, DateField, DateTimeField, IntegerField, Model


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class ReportSalesDay(Base):
        id = AutoField()
        day = DateField()
        shop = CharField(max_length=64)
        channel = CharField(max_length=16)
        province = CharField(max_length=32)
        orders = IntegerField(default=0)
        lines = IntegerField(default=0)
        units = BigIntegerField(default=0)
        revenue_fen = BigIntegerField(default=0)
        refund_fen = BigIntegerField(default=0)

        class Meta:
            indexes = ((("day", "shop", "channel", "province"), True),)

    class ReportRefresh(Base):
        name = CharField(max_length=32, primary_key=True)
        orders_seen = DateTimeField(null=True)
        refunds_seen = DateTimeField(null=True)
        refreshed_at = DateTimeField(null=True)
        zone = CharField(max_length=64, default="")

    return [ReportSalesDay, ReportRefresh]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
