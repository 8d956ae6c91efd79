"""Initial schema: people, catalog, layout, stock ledger, stored command results.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import (AutoField, BigAutoField, BooleanField, Check, CharField, DateTimeField,
                    FloatField, ForeignKeyField, IntegerField, Model, TextField)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Role(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        name_zh = CharField(max_length=50, default="")
        name_en = CharField(max_length=50, default="")

    class User(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        name = CharField(max_length=100)
        phone = CharField(max_length=32, default="")
        password_hash = CharField(max_length=200, default="")
        pin_hash = CharField(max_length=200, default="")
        language = CharField(max_length=16, default="")
        active = BooleanField(default=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class UserRole(Base):
        id = AutoField()
        user = ForeignKeyField(User, on_delete="CASCADE")
        role = ForeignKeyField(Role, on_delete="CASCADE")

        class Meta:
            indexes = ((("user", "role"), True),)

    class Device(Base):
        id = AutoField()
        code = CharField(max_length=64, unique=True)
        kind = CharField(max_length=16, default="handheld")
        name = CharField(max_length=100, default="")
        last_seen_at = DateTimeField(null=True)

    class ApiToken(Base):
        id = AutoField()
        token_hash = CharField(max_length=64, unique=True)
        user = ForeignKeyField(User, on_delete="CASCADE")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL")
        kind = CharField(max_length=16, default="session")
        label = CharField(max_length=100, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        expires_at = DateTimeField(null=True)
        revoked = BooleanField(default=False)

    class LoginAttempt(Base):
        id = BigAutoField()
        user_code = CharField(max_length=32, index=True)
        device_code = CharField(max_length=64, default="", index=True)
        remote_addr = CharField(max_length=64, default="")
        ok = BooleanField()
        at = DateTimeField(default=datetime.datetime.utcnow, index=True)

    class AuditLog(Base):
        id = BigAutoField()
        at = DateTimeField(default=datetime.datetime.utcnow, index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL")
        action = CharField(max_length=64, index=True)
        target = CharField(max_length=200, default="")
        detail = TextField(default="")

    class Product(Base):
        id = AutoField()
        sku = CharField(max_length=64, unique=True)
        name = CharField(max_length=200)
        spec = CharField(max_length=200, default="")
        unit = CharField(max_length=16, default="件")
        weight_g = IntegerField(default=0)
        length_mm = IntegerField(default=0)
        width_mm = IntegerField(default=0)
        height_mm = IntegerField(default=0)
        cost_fen = IntegerField(default=0)
        price_fen = IntegerField(default=0)
        bulky = BooleanField(default=False)
        cold_chain = BooleanField(default=False)
        active = BooleanField(default=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class Barcode(Base):
        id = AutoField()
        code = CharField(max_length=64, unique=True)
        product = ForeignKeyField(Product, on_delete="CASCADE")
        multiplier = IntegerField(default=1)
        kind = CharField(max_length=16, default="unit")

    class Warehouse(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        name = CharField(max_length=100)
        timezone = CharField(max_length=64, default="Asia/Shanghai")
        province = CharField(max_length=32, default="")
        address = CharField(max_length=200, default="")
        aisles = IntegerField(default=0)
        aisle_length_m = FloatField(default=0.0)
        aisle_width_m = FloatField(default=0.0)
        blocks = IntegerField(default=1)
        depot_aisle = IntegerField(default=0)
        depot_y_m = FloatField(default=0.0)

    class Zone(Base):
        id = AutoField()
        warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
        code = CharField(max_length=32)
        name = CharField(max_length=100, default="")
        kind = CharField(max_length=16, default="pick")

        class Meta:
            indexes = ((("warehouse", "code"), True),)

    class Location(Base):
        id = AutoField()
        warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
        zone = ForeignKeyField(Zone, null=True, on_delete="SET NULL")
        code = CharField(max_length=64, unique=True)
        kind = CharField(max_length=16, default="pick")
        aisle = IntegerField(null=True)
        y_m = FloatField(null=True)
        level = IntegerField(default=1)
        pick_seq = IntegerField(default=0)
        active = BooleanField(default=True)
        needs_count = BooleanField(default=False)

        class Meta:
            indexes = ((("warehouse", "kind"), False),)

    class Quant(Base):
        id = AutoField()
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        location = ForeignKeyField(Location, on_delete="RESTRICT")
        lot = CharField(max_length=64, default="")
        state = CharField(max_length=16, default="available")
        qty = IntegerField(default=0)
        reserved = IntegerField(default=0)

        class Meta:
            indexes = ((("product", "location", "lot", "state"), True),)
            constraints = [Check("qty >= 0"), Check("reserved >= 0"), Check("reserved <= qty")]

    class StockMove(Base):
        id = BigAutoField()
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        lot = CharField(max_length=64, default="")
        qty = IntegerField(default=0)
        reserved = IntegerField(default=0)
        from_location = ForeignKeyField(Location, null=True, on_delete="RESTRICT")
        from_state = CharField(max_length=16, null=True)
        to_location = ForeignKeyField(Location, null=True, on_delete="RESTRICT")
        to_state = CharField(max_length=16, null=True)
        reason = CharField(max_length=32)
        ref = CharField(max_length=100, default="", index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL")
        at = DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            indexes = ((("product", "at"), False),)

    class CommandResult(Base):
        key = CharField(max_length=64, primary_key=True)
        user = ForeignKeyField(User, on_delete="CASCADE")
        scenario = CharField(max_length=32)
        action = CharField(max_length=32)
        result = TextField()
        at = DateTimeField(default=datetime.datetime.utcnow, index=True)

    return [Role, User, UserRole, Device, ApiToken, LoginAttempt, AuditLog, Product, Barcode,
            Warehouse, Zone, Location, Quant, StockMove, CommandResult]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
