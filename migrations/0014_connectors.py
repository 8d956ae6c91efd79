"""Live connectors: shops' connections to their platforms, pull checkpoints, leases, channel
listings, the outbox of platform calls, carrier accounts and waybills (电子面单), tracking events;
a parcel's tracking status with when it was collected and delivered.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import (AutoField, BigAutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    Model, TextField)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Shop(Base):  # existing tables, referenced only
        id = AutoField()

    class Order(Base):
        id = AutoField()

    class Package(Base):
        id = AutoField()

    class ShopConnection(Base):
        id = AutoField()
        shop = ForeignKeyField(Shop, unique=True, backref="connection", on_delete="CASCADE")
        platform = CharField(max_length=16)
        endpoint = CharField(max_length=300)
        app_key = CharField(max_length=64)
        secret = TextField(default="")
        session = TextField(default="")
        sign_method = CharField(max_length=16, default="md5")
        seller_nick = CharField(max_length=100, default="")
        status = CharField(max_length=16, default="ok")
        last_error = TextField(default="")
        pull_every_s = IntegerField(default=60)
        push_shipments = BooleanField(default=True)
        push_stock = BooleanField(default=False)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class SyncCheckpoint(Base):
        id = AutoField()
        shop = ForeignKeyField(Shop, on_delete="CASCADE")
        operation = CharField(max_length=16)
        until = DateTimeField()
        stored = IntegerField(default=0)
        last_run_at = DateTimeField(null=True)
        last_error = TextField(default="")

        class Meta:
            indexes = ((("shop", "operation"), True),)

    class Lease(Base):
        id = AutoField()
        name = CharField(max_length=100, unique=True)
        holder = CharField(max_length=100, default="")
        until = DateTimeField(default=datetime.datetime.utcnow)

    class ChannelListing(Base):
        id = AutoField()
        shop = ForeignKeyField(Shop, on_delete="CASCADE")
        sku_code = CharField(max_length=64)
        item_id = CharField(max_length=64)
        sku_id = CharField(max_length=64, default="")
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("shop", "sku_code"), True),)

    class ChannelCall(Base):
        id = BigAutoField()
        shop = ForeignKeyField(Shop, on_delete="CASCADE")
        kind = CharField(max_length=16)
        order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
        subject = CharField(max_length=64, default="")
        key = CharField(max_length=160, unique=True)
        payload = TextField(default="{}")
        state = CharField(max_length=16, default="pending", index=True)
        attempts = IntegerField(default=0)
        next_at = DateTimeField(default=datetime.datetime.utcnow)
        last_error = TextField(default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        sent_at = DateTimeField(null=True)
        claimed_by = CharField(max_length=100, null=True)
        claimed_until = DateTimeField(null=True)

    class CarrierAccount(Base):
        id = AutoField()
        carrier = CharField(max_length=32, unique=True)
        source = CharField(max_length=16)
        shop = ForeignKeyField(Shop, null=True, on_delete="SET NULL")
        endpoint = CharField(max_length=300, default="")
        partner = CharField(max_length=64, default="")
        secret = TextField(default="")
        account = CharField(max_length=64, default="")
        template_url = CharField(max_length=300, default="")
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class Waybill(Base):
        id = AutoField()
        carrier = CharField(max_length=32)
        number = CharField(max_length=64)
        source = CharField(max_length=16)
        state = CharField(max_length=16, default="assigned", index=True)
        order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
        sort_code = CharField(max_length=64, default="")
        print_data = TextField(default="")
        batch = CharField(max_length=100, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        assigned_at = DateTimeField(null=True)
        cancelled_at = DateTimeField(null=True)

        class Meta:
            indexes = ((("carrier", "number"), True), (("carrier", "state"), False))

    class TrackingEvent(Base):
        id = BigAutoField()
        package = ForeignKeyField(Package, backref="tracking_events", on_delete="CASCADE")
        at = DateTimeField()
        status = CharField(max_length=16)
        detail = TextField(default="")
        place = CharField(max_length=100, default="")
        source = CharField(max_length=16, default="")

        class Meta:
            indexes = ((("package", "at", "status"), True),)

    return [ShopConnection, SyncCheckpoint, Lease, ChannelListing, ChannelCall, CarrierAccount, Waybill,
            TrackingEvent]


COLUMNS = (
    ("package", "tracking_status", lambda: CharField(max_length=16, default="")),
    ("package", "collected_at", lambda: DateTimeField(null=True)),
    ("package", "delivered_at", lambda: DateTimeField(null=True)),
)


def up(migrator, db):
    migrator.migrate(*[migrator.add_column(table, name, field()) for table, name, field in COLUMNS])
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
    migrator.migrate(*[migrator.drop_column(table, name) for table, name, _ in COLUMNS])
