"""Money per order line, fee rates, order charges, freight rates, inbound freight, and the
moving-average unit cost with its history; products get a VAT rate and a category.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import (AutoField, BigAutoField, BooleanField, CharField, DateField, DateTimeField,
                    ForeignKeyField, IntegerField, Model)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Product(Base):  # existing tables, referenced only
        id = AutoField()

    class Warehouse(Base):
        id = AutoField()

    class Order(Base):
        id = AutoField()

    class OrderLine(Base):
        id = AutoField()

    class PurchaseOrder(Base):
        id = AutoField()

    class LineMoney(Base):
        id = AutoField()
        line = ForeignKeyField(OrderLine, unique=True, on_delete="CASCADE")
        order = ForeignKeyField(Order, on_delete="CASCADE")
        shop = CharField(max_length=64)
        channel = CharField(max_length=16)
        day = DateField(index=True)
        province = CharField(max_length=32, default="")
        sku_code = CharField(max_length=64)
        product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
        warehouse = ForeignKeyField(Warehouse, null=True, on_delete="SET NULL")
        category = CharField(max_length=64, default="")
        qty = IntegerField(default=0)
        price_fen = IntegerField(default=0)
        paid_fen = IntegerField(default=0)
        merchant_discount_fen = IntegerField(default=0)
        platform_subsidy_fen = IntegerField(default=0)
        commission_fen = IntegerField(default=0)
        payment_fee_fen = IntegerField(default=0)
        freight_charged_fen = IntegerField(default=0)
        freight_paid_fen = IntegerField(default=0)
        vat_rate_bp = IntegerField(default=0)
        tax_fen = IntegerField(default=0)
        refund_fen = IntegerField(default=0)
        refund_subsidy_fen = IntegerField(default=0)
        refund_commission_fen = IntegerField(default=0)
        refund_payment_fee_fen = IntegerField(default=0)
        refund_tax_fen = IntegerField(default=0)
        returned_cogs_fen = IntegerField(default=0)
        revenue_fen = IntegerField(default=0)
        unit_cost_fen = IntegerField(null=True)
        cogs_fen = IntegerField(null=True)
        shipped_at = DateTimeField(null=True)
        margin_fen = IntegerField(null=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("order",), False), (("shop", "day"), False))

    class FeeRate(Base):
        id = AutoField()
        kind = CharField(max_length=16)
        shop = CharField(max_length=64, default="")
        category = CharField(max_length=64, default="")
        rate_bp = IntegerField()
        refundable = BooleanField(default=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("kind", "shop", "category"), True),)

    class OrderCharge(Base):
        id = AutoField()
        order = ForeignKeyField(Order, on_delete="CASCADE")
        kind = CharField(max_length=24)
        payer = CharField(max_length=16, default="")
        name = CharField(max_length=64, default="")
        fen = IntegerField()
        source = CharField(max_length=100, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class FreightRate(Base):
        id = AutoField()
        carrier = CharField(max_length=32, default="")
        province = CharField(max_length=32, default="")
        first_g = IntegerField(default=1000)
        first_fen = IntegerField(default=0)
        step_g = IntegerField(default=1000)
        step_fen = IntegerField(default=0)

        class Meta:
            indexes = ((("carrier", "province"), True),)

    class InboundFreight(Base):
        id = AutoField()
        po = ForeignKeyField(PurchaseOrder, unique=True, on_delete="CASCADE")
        fen = IntegerField(default=0)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class UnitCost(Base):
        id = AutoField()
        product = ForeignKeyField(Product, on_delete="CASCADE")
        warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
        unit_cost_fen = IntegerField(default=0)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("product", "warehouse"), True),)

    class CostChange(Base):
        id = BigAutoField()
        product = ForeignKeyField(Product, on_delete="CASCADE", index=False)
        warehouse = ForeignKeyField(Warehouse, on_delete="CASCADE")
        at = DateTimeField(default=datetime.datetime.utcnow)
        qty_before = IntegerField(default=0)
        cost_before_fen = IntegerField(default=0)
        qty_in = IntegerField(default=0)
        value_in_fen = IntegerField(default=0)
        unit_cost_fen = IntegerField(default=0)
        reason = CharField(max_length=16, default="receipt")
        ref = CharField(max_length=100, default="")

        class Meta:
            indexes = ((("product", "warehouse", "at"), False),)

    return [LineMoney, FeeRate, OrderCharge, FreightRate, InboundFreight, UnitCost, CostChange]


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("product", "vat_rate_bp", IntegerField(null=True)),
        migrator.add_column("product", "category", CharField(max_length=64, null=True)),
    )
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
    migrator.migrate(migrator.drop_column("product", "category"), migrator.drop_column("product", "vat_rate_bp"))
