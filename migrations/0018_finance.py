"""Finance: settlement bills and their lines, account mapping, vouchers and their lines, the
voucher export layouts.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import (AutoField, BigAutoField, BigIntegerField, CharField, DateField, DateTimeField,
                    ForeignKeyField, IntegerField, Model, TextField)


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Order(Base):  # existing table, referenced only
        id = AutoField()

    class SettlementBill(Base):
        id = AutoField()
        channel = CharField(max_length=16)      # alipay (Tmall / Taobao) | jd | douyin
        shop = CharField(max_length=64)
        name = CharField(max_length=200, default="")
        account = CharField(max_length=64, default="")   # the Alipay account the bill is of, as its preamble says
        period_from = DateTimeField(null=True)
        period_to = DateTimeField(null=True)
        lines = IntegerField(default=0)         # lines read (new and already known)
        added = IntegerField(default=0)
        problems = TextField(default="[]")      # JSON list of "file:line: field: reason"
        user = CharField(max_length=64, default="")
        imported_at = DateTimeField(default=datetime.datetime.utcnow)


    class BillLine(Base):
        id = BigAutoField()
        bill = ForeignKeyField(SettlementBill, backref="entries", on_delete="CASCADE")
        line_no = IntegerField(default=0)       # the physical line (CSV) or the item's index (JSON)
        channel = CharField(max_length=16)
        shop = CharField(max_length=64)
        serial = CharField(max_length=64)       # 账务流水号 / the platform's id of the movement
        biz_serial = CharField(max_length=64, default="")   # 业务流水号
        order_external_id = CharField(max_length=64, default="", index=True)
        kind = CharField(max_length=16)
        biz_type = CharField(max_length=64, default="")     # 业务类型 as the platform words it
        subsidy_source = CharField(max_length=32, default="")   # 天猫红包, 集分宝, 平台券 ...
        amount_fen = BigIntegerField(default=0)  # + in to the merchant's account, − out of it
        occurred_at = DateTimeField(null=True, index=True)
        memo = CharField(max_length=300, default="")
        order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
        match_state = CharField(max_length=16, default="pending", index=True)
        expected_fen = BigIntegerField(null=True)
        diff_fen = BigIntegerField(default=0)

        class Meta:
            indexes = ((("channel", "shop", "serial"), True),)


    class AccountMapping(Base):
        """The merchant's subject code (科目编码) for each account the vouchers use; ``shop`` '' is
        the default for every shop."""
        id = AutoField()
        key = CharField(max_length=32)
        shop = CharField(max_length=64, default="")
        code = CharField(max_length=32)
        name = CharField(max_length=100, default="")

        class Meta:
            indexes = ((("key", "shop"), True),)


    class Voucher(Base):
        id = AutoField()
        day = DateField(index=True)
        kind = CharField(max_length=16)
        shop = CharField(max_length=64, default="")
        word = CharField(max_length=8, default="记")     # 凭证字
        number = IntegerField(default=0)                # 凭证号, within the month
        summary = CharField(max_length=100, default="")
        debit_fen = BigIntegerField(default=0)
        credit_fen = BigIntegerField(default=0)
        exported_at = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("day", "kind", "shop"), True),)


    class VoucherLine(Base):
        id = BigAutoField()
        voucher = ForeignKeyField(Voucher, backref="entries", on_delete="CASCADE")
        seq = IntegerField()
        summary = CharField(max_length=100, default="")
        account_key = CharField(max_length=32)
        account_code = CharField(max_length=32)
        account_name = CharField(max_length=100, default="")
        debit_fen = BigIntegerField(default=0)
        credit_fen = BigIntegerField(default=0)


    class ExportLayout(Base):
        """A voucher import file's column layout (金蝶云星空, 用友 U8, 用友 T+, or the merchant's own):
        JSON ``{"header_rows": [[...]], "columns": [{"title", "field", "value"}]}``."""
        id = AutoField()
        code = CharField(max_length=32, unique=True)
        name = CharField(max_length=100, default="")
        spec = TextField(default="{}")
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    return [SettlementBill, BillLine, AccountMapping, Voucher, VoucherLine, ExportLayout]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(list(reversed(_models(db))))
