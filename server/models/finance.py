"""Settlement bills (结算账单 / 账务明细), their reconciliation against orders, the merchant's
account mapping (科目对照), accounting vouchers (凭证) and the voucher export layouts.

A ``SettlementBill`` is one imported file (an Alipay 账务明细 CSV of a Tmall shop, a JD or Douyin
settlement JSON); each of its money movements is a ``BillLine``, kept once per channel, shop and
the platform's serial number (账务流水号), so importing an overlapping file again adds only the
new lines. Reconciliation writes each line's ``match_state``:

    matched     the bill line's amount equals what the orders, refunds and fees say
    mismatched  the order is known but the amounts differ (``diff_fen`` = bill − expected)
    unmatched   no order with the bill's order number
    unchecked   the order is known, there is no figure to compare with (no line_money yet)
    ignored     not an order's money (withdrawals, transfers)

A ``Voucher`` is one day's accounting entry of one kind (sales, cogs, fees, subsidy, refund,
receipt), with ``VoucherLine`` rows; a voucher is balanced when its debits equal its credits, and
an unbalanced one is never exported.
"""
from peewee import (AutoField, BigAutoField, BigIntegerField, CharField, DateField, ForeignKeyField,
                    IntegerField, TextField)

from server.models.base import BaseModel, UtcDateTimeField, utcnow
from server.models.orders import Order

BILL_CHANNELS = ("alipay", "jd", "douyin")
BILL_KINDS = ("payment", "refund", "commission", "payment_fee", "subsidy", "freight", "transfer", "other")
MATCH_STATES = ("pending", "matched", "mismatched", "unmatched", "unchecked", "ignored")
VOUCHER_KINDS = ("sales", "subsidy", "cogs", "fees", "refund", "returned", "receipt")


class SettlementBill(BaseModel):
    id = AutoField()
    channel = CharField(max_length=16)      # alipay (Tmall / Taobao) | jd | douyin
    shop = CharField(max_length=64)
    name = CharField(max_length=200, default="")
    account = CharField(max_length=64, default="")   # the Alipay account the bill is of, as its preamble says
    period_from = UtcDateTimeField(null=True)
    period_to = UtcDateTimeField(null=True)
    lines = IntegerField(default=0)         # lines read (new and already known)
    added = IntegerField(default=0)
    problems = TextField(default="[]")      # JSON list of "file:line: field: reason"
    user = CharField(max_length=64, default="")
    imported_at = UtcDateTimeField(default=utcnow)


class BillLine(BaseModel):
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
    occurred_at = UtcDateTimeField(null=True, index=True)
    memo = CharField(max_length=300, default="")
    order = ForeignKeyField(Order, null=True, on_delete="SET NULL")
    match_state = CharField(max_length=16, default="pending", index=True)
    expected_fen = BigIntegerField(null=True)
    diff_fen = BigIntegerField(default=0)

    class Meta:
        indexes = ((("channel", "shop", "serial"), True),)


class AccountMapping(BaseModel):
    """The merchant's subject code (科目编码) for each account the vouchers use; ``shop`` '' is
    the default for every shop."""
    id = AutoField()
    key = CharField(max_length=32)
    shop = CharField(max_length=64, default="")
    code = CharField(max_length=32)
    name = CharField(max_length=100, default="")

    class Meta:
        indexes = ((("key", "shop"), True),)


class Voucher(BaseModel):
    id = AutoField()
    day = DateField(index=True)
    kind = CharField(max_length=16)
    shop = CharField(max_length=64, default="")
    word = CharField(max_length=8, default="记")     # 凭证字
    number = IntegerField(default=0)                # 凭证号, within the month
    summary = CharField(max_length=100, default="")
    debit_fen = BigIntegerField(default=0)
    credit_fen = BigIntegerField(default=0)
    exported_at = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("day", "kind", "shop"), True),)


class VoucherLine(BaseModel):
    id = BigAutoField()
    voucher = ForeignKeyField(Voucher, backref="entries", on_delete="CASCADE")
    seq = IntegerField()
    summary = CharField(max_length=100, default="")
    account_key = CharField(max_length=32)
    account_code = CharField(max_length=32)
    account_name = CharField(max_length=100, default="")
    debit_fen = BigIntegerField(default=0)
    credit_fen = BigIntegerField(default=0)


class ExportLayout(BaseModel):
    """A voucher import file's column layout (金蝶云星空, 用友 U8, 用友 T+, or the merchant's own):
    JSON ``{"header_rows": [[...]], "columns": [{"title", "field", "value"}]}``."""
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    name = CharField(max_length=100, default="")
    spec = TextField(default="{}")
    updated_at = UtcDateTimeField(default=utcnow)
