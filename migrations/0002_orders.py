"""Orders: shops, orders, lines, allocations and order history.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import (AutoField, BigAutoField, BooleanField, CharField, DateTimeField, ForeignKeyField,
                    IntegerField, Model, TextField)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Product(Base):  # existing table, referenced only
        id = AutoField()

    class Location(Base):
        id = AutoField()

    class Warehouse(Base):
        id = AutoField()

    class User(Base):
        id = AutoField()

    class Shop(Base):
        id = AutoField()
        code = CharField(max_length=64, unique=True)
        channel = CharField(max_length=16)
        name = CharField(max_length=100, default="")
        stock_ratio_pct = IntegerField(default=100)
        safety_buffer = IntegerField(default=0)
        webhook_secret = CharField(max_length=128, default="")

    class Order(Base):
        id = AutoField()
        channel = CharField(max_length=16)
        shop = CharField(max_length=64)
        external_id = CharField(max_length=64)
        status = CharField(max_length=16, default="new", index=True)
        channel_status = CharField(max_length=64, default="")
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
        ordered_at = DateTimeField(null=True)
        paid_at = DateTimeField(null=True)
        presale = BooleanField(default=False)
        presale_final_paid = BooleanField(default=False)
        presale_ship_by = DateTimeField(null=True)
        ship_by = DateTimeField(null=True, index=True)
        priority = IntegerField(default=0)
        hold_reasons = TextField(default="")
        warehouse = ForeignKeyField(Warehouse, null=True, on_delete="SET NULL")
        carrier = CharField(max_length=32, default="")
        merged_into = ForeignKeyField("self", null=True, on_delete="SET NULL")
        split_from = ForeignKeyField("self", null=True, on_delete="SET NULL")
        source = CharField(max_length=200, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("channel", "shop", "external_id"), True),)

    class OrderLine(Base):
        id = AutoField()
        order = ForeignKeyField(Order, on_delete="CASCADE")
        external_line_id = CharField(max_length=64)
        sku_code = CharField(max_length=64)
        product = ForeignKeyField(Product, null=True, on_delete="RESTRICT")
        title = CharField(max_length=200, default="")
        qty = IntegerField()
        price_fen = IntegerField(default=0)
        paid_fen = IntegerField(default=0)
        refund_status = CharField(max_length=16, default="none")
        reserved_qty = IntegerField(default=0)
        picked_qty = IntegerField(default=0)
        short_qty = IntegerField(default=0)

        class Meta:
            indexes = ((("order", "external_line_id"), True),)

    class Allocation(Base):
        id = AutoField()
        line = ForeignKeyField(OrderLine, on_delete="CASCADE")
        location = ForeignKeyField(Location, on_delete="RESTRICT")
        lot = CharField(max_length=64, default="")
        qty = IntegerField()

    class OrderEvent(Base):
        id = BigAutoField()
        order = ForeignKeyField(Order, on_delete="CASCADE")
        at = DateTimeField(default=datetime.datetime.utcnow)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        action = CharField(max_length=32)
        detail = TextField(default="")

    return [Shop, Order, OrderLine, Allocation, OrderEvent]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
