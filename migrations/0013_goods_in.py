"""Goods in: suppliers and purchase orders (在途), receipts with licence plates and their quality
checks, supplier returns, buyers' refunds and the returns bench; a SKU's pick faces with their
limits, a location's capacity, a quant's expiry date, and an order line's refund and returned units.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import (AutoField, BigAutoField, BigIntegerField, BooleanField, Check, CharField, DateField,
                    DateTimeField, ForeignKeyField, IntegerField, Model, TextField)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):  # existing tables, referenced only
        id = AutoField()

    class Device(Base):
        id = AutoField()

    class Product(Base):
        id = AutoField()

    class Warehouse(Base):
        id = AutoField()

    class Location(Base):
        id = AutoField()

    class Order(Base):
        id = AutoField()

    class OrderLine(Base):
        id = AutoField()

    class PickFace(Base):
        id = AutoField()
        location = ForeignKeyField(Location, backref="faces", on_delete="CASCADE")
        product = ForeignKeyField(Product, backref="faces", on_delete="CASCADE")
        min_qty = IntegerField(default=0)
        max_qty = IntegerField(default=0)

        class Meta:
            indexes = ((("location", "product"), True),)

    class Supplier(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        name = CharField(max_length=100)
        contact_name = CharField(max_length=100, default="")
        contact_phone = CharField(max_length=64, default="")   # masked like a buyer's for roles without pii.read
        lead_time_days = IntegerField(default=7)
        over_receipt_pct = IntegerField(default=0)            # units beyond the ordered quantity a receipt may take
        blind_receiving = BooleanField(default=False)          # the receiver is not shown the expected quantity
        qc_plan = CharField(max_length=8, default="none")      # none | full | sample (ISO 2859-1)
        aql = CharField(max_length=8, default="1.0")
        active = BooleanField(default=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class SupplierItem(Base):
        id = AutoField()
        supplier = ForeignKeyField(Supplier, backref="items", on_delete="CASCADE")
        product = ForeignKeyField(Product, on_delete="CASCADE")
        unit_cost_fen = IntegerField(default=0)
        moq = IntegerField(default=1)
        pack_size = IntegerField(default=1)
        qc_plan = CharField(max_length=8, default="")
        aql = CharField(max_length=8, default="")

        class Meta:
            indexes = ((("supplier", "product"), True),)
            constraints = [Check("moq >= 1"), Check("pack_size >= 1"), Check("unit_cost_fen >= 0")]

    class ApprovalLimit(Base):
        id = AutoField()
        role = CharField(max_length=32, unique=True)
        max_fen = BigIntegerField(null=True)  # null: no limit

    class PurchaseOrder(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        supplier = ForeignKeyField(Supplier, backref="orders", on_delete="RESTRICT")
        warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
        status = CharField(max_length=24, default="draft", index=True)
        delivery_note = CharField(max_length=64, default="", index=True)  # the supplier's 送货单 number
        expected_on = DateField(null=True)
        total_fen = BigIntegerField(default=0)
        note = TextField(default="")
        close_reason = CharField(max_length=200, default="")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        approved_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        approved_at = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class PurchaseOrderLine(Base):
        id = AutoField()
        po = ForeignKeyField(PurchaseOrder, backref="lines", on_delete="CASCADE")
        seq = IntegerField(default=1)
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        qty = IntegerField()
        received_qty = IntegerField(default=0)
        unit_cost_fen = IntegerField(default=0)
        expected_on = DateField(null=True)

        class Meta:
            indexes = ((("po", "product"), True),)
            constraints = [Check("qty > 0"), Check("received_qty >= 0")]

    class Receipt(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        po = ForeignKeyField(PurchaseOrder, backref="receipts", on_delete="RESTRICT")
        warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
        dock = ForeignKeyField(Location, on_delete="RESTRICT")  # where its units wait (kind receiving)
        status = CharField(max_length=16, default="open", index=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
        started_at = DateTimeField(default=datetime.datetime.utcnow)
        closed_at = DateTimeField(null=True)

    class Lpn(Base):
        id = AutoField()
        sscc = CharField(max_length=18, unique=True)
        receipt = ForeignKeyField(Receipt, backref="lpns", on_delete="RESTRICT")
        po_line = ForeignKeyField(PurchaseOrderLine, on_delete="RESTRICT")
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        lot = CharField(max_length=64, default="")
        expiry = DateField(null=True)
        qty = IntegerField(default=0)
        status = CharField(max_length=16, default="open", index=True)
        location = ForeignKeyField(Location, on_delete="RESTRICT")  # where its units are now
        # QC of the lot (plan none | full | sample; sample sizes of ISO 2859-1)
        qc_plan = CharField(max_length=8, default="none")
        aql = CharField(max_length=8, default="")
        sample_size = IntegerField(default=0)
        accept_number = IntegerField(default=0)
        checked = IntegerField(default=0)
        failed = IntegerField(default=0)
        decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        decided_at = DateTimeField(null=True)
        stored_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        stored_at = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class QcCheck(Base):
        id = BigAutoField()
        lpn = ForeignKeyField(Lpn, backref="checks", on_delete="CASCADE")
        passed = BooleanField()
        reason = CharField(max_length=32, default="")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
        at = DateTimeField(default=datetime.datetime.utcnow)

    class SupplierReturn(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        supplier = ForeignKeyField(Supplier, on_delete="RESTRICT")
        po = ForeignKeyField(PurchaseOrder, null=True, on_delete="SET NULL")
        lpn = ForeignKeyField(Lpn, null=True, on_delete="SET NULL")
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        lot = CharField(max_length=64, default="")
        qty = IntegerField()
        reason = CharField(max_length=200, default="")
        status = CharField(max_length=16, default="open", index=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        shipped_at = DateTimeField(null=True)

    class Refund(Base):
        id = AutoField()
        channel = CharField(max_length=16)
        shop = CharField(max_length=64)
        refund_id = CharField(max_length=64)
        order_external_id = CharField(max_length=64, index=True)
        line_external_id = CharField(max_length=64, default="")
        order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
        line = ForeignKeyField(OrderLine, null=True, on_delete="SET NULL")
        sku_code = CharField(max_length=64, default="")
        qty = IntegerField(default=0)
        refund_fen = IntegerField(default=0)
        state = CharField(max_length=16, default="requested")
        channel_status = CharField(max_length=64, default="")
        reason = CharField(max_length=200, default="")
        goods_returned = BooleanField(default=False)      # the buyer sends goods back (退货退款)
        return_tracking = CharField(max_length=64, default="", index=True)
        return_carrier = CharField(max_length=64, default="")
        requested_at = DateTimeField(null=True)
        modified_at = DateTimeField(null=True)
        source = CharField(max_length=200, default="")
        imported_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("channel", "shop", "refund_id"), True),)

    class ReturnParcel(Base):
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        warehouse = ForeignKeyField(Warehouse, on_delete="RESTRICT")
        tracking = CharField(max_length=64, default="", index=True)
        order = ForeignKeyField(Order, null=True, on_delete="SET NULL")  # none: an unknown parcel (无头件)
        status = CharField(max_length=16, default="open", index=True)
        note = TextField(default="")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
        opened_at = DateTimeField(default=datetime.datetime.utcnow)
        closed_at = DateTimeField(null=True)

    class ReturnUnit(Base):
        id = AutoField()
        parcel = ForeignKeyField(ReturnParcel, backref="units", on_delete="CASCADE")
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        line = ForeignKeyField(OrderLine, null=True, on_delete="SET NULL")
        lot = CharField(max_length=64, default="")
        qty = IntegerField(default=1)
        condition = CharField(max_length=16)  # restock | damaged | scrap
        location = ForeignKeyField(Location, null=True, on_delete="SET NULL")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)
        at = DateTimeField(default=datetime.datetime.utcnow)

    return [PickFace, Supplier, SupplierItem, ApprovalLimit, PurchaseOrder, PurchaseOrderLine,
            Receipt, Lpn, QcCheck, SupplierReturn, Refund, ReturnParcel, ReturnUnit]


COLUMNS = (
    ("location", "capacity_units", lambda: IntegerField(default=0)),
    ("quant", "expiry", lambda: DateField(null=True)),
    ("order_line", "refund_fen", lambda: IntegerField(default=0)),
    ("order_line", "returned_qty", lambda: IntegerField(default=0)),
    ("shop", "sell_in_transit", lambda: BooleanField(default=False)),
)


def up(migrator, db):
    migrator.migrate(*[migrator.add_column(table, name, field()) for table, name, field in COLUMNS])
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
    migrator.migrate(*[migrator.drop_column(table, name) for table, name, _ in COLUMNS])
