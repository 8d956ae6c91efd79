"""Customers (CRM): customers derived from orders, live-stream windows, daily tag counts, the
repurchase model per SKU and the due-to-reorder list.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import (AutoField, BigAutoField, BooleanField, CharField, DateField, DateTimeField, FloatField,
                    ForeignKeyField, IntegerField, Model)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Product(Base):  # existing table, referenced only
        id = AutoField()

    class Customer(Base):
        id = AutoField()
        channel = CharField(max_length=16)
        buyer = CharField(max_length=100)
        nick = CharField(max_length=100, default="")
        name = CharField(max_length=100, default="")
        phone = CharField(max_length=64, default="")
        province = CharField(max_length=32, default="")
        shop = CharField(max_length=64, default="")
        first_order_at = DateTimeField(null=True)
        last_order_at = DateTimeField(null=True)
        orders = IntegerField(default=0)
        units = IntegerField(default=0)
        spent_fen = IntegerField(default=0)
        coupon_orders = IntegerField(default=0)
        live_orders = IntegerField(default=0)
        r_score = IntegerField(default=0)
        f_score = IntegerField(default=0)
        m_score = IntegerField(default=0)
        tags = CharField(max_length=300, default="")
        opt_out = BooleanField(default=False)
        opt_out_at = DateTimeField(null=True)
        refreshed_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("channel", "buyer"), True),)

    class LiveStream(Base):
        id = AutoField()
        channel = CharField(max_length=16, default="")
        shop = CharField(max_length=64, default="")
        title = CharField(max_length=100, default="")
        starts_at = DateTimeField(index=True)
        ends_at = DateTimeField()

    class CustomerTagCount(Base):
        id = AutoField()
        day = DateField()
        tag = CharField(max_length=32)
        customers = IntegerField(default=0)

        class Meta:
            indexes = ((("day", "tag"), True),)

    class RepurchaseModel(Base):
        id = AutoField()
        sku_code = CharField(max_length=64, unique=True)
        product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
        buyers = IntegerField(default=0)
        repeat_buyers = IntegerField(default=0)
        intervals = IntegerField(default=0)
        median_days = FloatField(null=True)
        p25_days = FloatField(null=True)
        p75_days = FloatField(null=True)
        made_on = DateField()

    class ReorderDue(Base):
        id = BigAutoField()
        made_on = DateField(index=True)
        customer = ForeignKeyField(Customer, backref="due", on_delete="CASCADE")
        sku_code = CharField(max_length=64)
        product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
        last_order_at = DateTimeField()
        due_on = DateField()
        median_days = FloatField()

        class Meta:
            indexes = ((("customer", "sku_code", "last_order_at"), True),)

    return [Customer, LiveStream, CustomerTagCount, RepurchaseModel, ReorderDue]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
