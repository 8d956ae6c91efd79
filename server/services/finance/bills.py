"""Reading settlement bills: the Alipay 账务明细 CSV of a Tmall / Taobao shop, JD and Douyin
settlement JSON. Each money movement becomes a :class:`Movement`; a row or item that cannot be
read is a :class:`~server.services.csvin.Problem` naming the file, the line (or item) and the
field, and the good rows are kept. The formats are described in docs/finance.md.

The Alipay export (商家中心 → 账务明细 → 下载, CSV) is GBK; it starts with ``#`` lines
(#支付宝账务明细查询, #账号：[…], #起始日期：[…] 终止日期：[…], a ruler) and ends with ``#`` lines
(the ruler, #收入合计 / #支出合计, #导出时间); cells of long numbers come as ``="2026…"`` or with a
trailing tab, so that Excel keeps every digit.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime

from server.channels.base import BadValue
from server.channels.csvfile import UnreadableFile, decode_lines, read_table
from server.channels.values import clean_cell, fen_value, local_time, unix_time, yuan_to_fen
from server.services.csvin import Problem

_ORDER_NUMBER = re.compile(r"(?<!\d)(\d{12,20})(?!\d)")
_TMALL_PREFIX = re.compile(r"^T\d{3}P")       # 商户订单号 of a Tmall payment: T200P + the order number
_BRACED = re.compile(r"\{([0-9A-Za-z_-]{1,64})\}")
_PREFIXED = re.compile(r"T\d{3}P(\d{1,30})")
_BRACKETED = re.compile(r"\[([^\]]*)\]")


@dataclass
class Movement:
    line_no: int
    serial: str
    kind: str
    amount_fen: int
    order_external_id: str = ""
    biz_serial: str = ""
    biz_type: str = ""
    subsidy_source: str = ""
    occurred_at: datetime | None = None
    memo: str = ""


@dataclass
class ParsedBill:
    channel: str
    source: str
    movements: list[Movement] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    account: str = ""
    period_from: datetime | None = None
    period_to: datetime | None = None


# --- what a movement is -------------------------------------------------------------------------

# (words in the 业务类型 or the 备注, kind); the first that matches wins
_KIND_WORDS = (
    (("提现", "转账", "充值", "保证金"), "transfer"),
    (("退款",), "refund"),
    (("佣金", "软件服务费", "技术服务费", "平台服务费", "淘宝客"), "commission"),
    (("花呗", "信用卡", "手续费", "支付服务费", "分期"), "payment_fee"),
    (("红包", "集分宝", "补贴", "卡券", "购物券", "京豆", "东券", "平台券", "平台优惠"), "subsidy"),
    (("运费", "快递"), "freight"),
    (("交易付款", "在线支付", "交易收款", "货款", "收款", "订单结算"), "payment"),
)
SUBSIDY_SOURCES = ("天猫红包", "淘宝红包", "集分宝", "天猫卡券", "购物券", "京豆", "东券", "平台券", "平台优惠", "红包")


@lru_cache(maxsize=4096)
def _kind_of_text(text: str) -> str:
    for words, kind in _KIND_WORDS:
        if any(word in text for word in words):
            return kind
    return "other"


def kind_of(biz_type: str, memo: str = "") -> str:
    kind = _kind_of_text(biz_type)
    return kind if kind != "other" or not memo else _kind_of_text(memo)


def subsidy_source_of(*texts: str) -> str:
    for text in texts:
        for name in SUBSIDY_SOURCES:
            if name in text:
                return name
    return ""


def order_number(column: str, *texts: str) -> str:
    """The order a movement is of: 商户订单号 without Tmall's ``T200P`` prefix; else, in the 备注,
    a number in braces (a commission's ``天猫佣金（类目）{3700…}扣款``), a ``T200P…`` number or
    the first long number."""
    column = _TMALL_PREFIX.sub("", (column or "").strip())
    if column:
        return column[:64]
    for text in texts:
        for pattern in (_BRACED, _PREFIXED, _ORDER_NUMBER):
            match = pattern.search(text or "")
            if match:
                return match.group(1)
    return ""


# --- Alipay 账务明细 CSV ---------------------------------------------------------------------------

def _header_key(name: str) -> str:
    return re.sub(r"[\s()（）+\-元＋－]", "", clean_cell(name))


ALIPAY_COLUMNS = {
    "serial": ("账务流水号",),
    "biz_serial": ("业务流水号",),
    "order": ("商户订单号",),
    "title": ("商品名称",),
    "time": ("发生时间", "入账时间"),
    "counterparty": ("对方账号", "对方名称"),
    "income": ("收入金额", "收入"),
    "expense": ("支出金额", "支出"),
    "balance": ("账户余额",),
    "pay_channel": ("交易渠道",),
    "biz_type": ("业务类型",),
    "memo": ("备注",),
}
ALIPAY_REQUIRED = ("serial", "time", "income", "expense", "biz_type")


def _preamble(text: str, bill: ParsedBill) -> None:
    for line in text.splitlines():
        stripped = line.strip().lstrip("\ufeff")
        if not stripped.startswith("#"):
            continue
        values = _BRACKETED.findall(stripped)
        if "账号" in stripped and values and not bill.account:
            bill.account = values[0]
        if "起始日期" in stripped and values:
            try:
                bill.period_from = local_time(values[0])
                if len(values) > 1:
                    bill.period_to = local_time(values[1])
            except BadValue:
                pass


def parse_alipay_csv(raw: bytes, source: str = "bill.csv") -> ParsedBill:
    """An Alipay 账务明细 export. Raises ValueError for a file that is not one (no such header)."""
    bill = ParsedBill("alipay", source)
    try:
        text, _, _ = decode_lines(raw)
    except UnreadableFile as exc:
        raise ValueError(f"{source}: {exc}") from None
    _preamble(text, bill)
    # the '#' lines are blanked, not removed: every record keeps its physical line number ('#' is
    # ASCII and never the second byte of a GBK character)
    kept = []
    for number, piece in enumerate(raw.splitlines(keepends=True)):
        body = piece.rstrip(b"\r\n")
        start = body[3:] if number == 0 and body.startswith(b"\xef\xbb\xbf") else body
        kept.append(piece[len(body):] if start.lstrip().startswith(b"#") else piece)
    try:
        table = read_table(b"".join(kept), source=source)
    except UnreadableFile as exc:
        raise ValueError(f"{source}: {exc}") from None
    wanted = {_header_key(name): fld for fld, names in ALIPAY_COLUMNS.items() for name in names}
    columns: dict[str, int] = {}
    for index, name in enumerate(table.header):
        fld = wanted.get(_header_key(name))
        if fld and fld not in columns:
            columns[fld] = index
    missing = [f for f in ALIPAY_REQUIRED if f not in columns]
    if missing:
        names = "、".join(ALIPAY_COLUMNS[f][0] for f in missing)
        raise ValueError(f"{source}:{table.header_line or 1}: not an Alipay 账务明细 export: missing column(s) "
                         f"{names}; the header has {', '.join(h for h in table.header if h)}")
    for record in table.unreadable:
        bill.problems.append(Problem(source, record.line, table.column_name(record.column), record.reason))
    for line, cells in table.rows:
        row = {fld: clean_cell(cells[i]) if i < len(cells) else "" for fld, i in columns.items()}
        try:
            bill.movements.append(_alipay_movement(line, row))
        except BadValue as exc:
            bill.problems.append(Problem(source, line, _shown(exc.field), exc.reason))
    bill.problems.sort(key=lambda p: p.line or 0)
    return bill


def _shown(fld: str | None) -> str | None:
    return ALIPAY_COLUMNS[fld][0] if fld in ALIPAY_COLUMNS else fld


def _alipay_movement(line: int, row: dict) -> Movement:
    serial = row.get("serial", "")
    if not serial:
        raise BadValue("serial", "is empty")
    if len(serial) > 64:
        raise BadValue("serial", f"longer than 64 characters: {serial[:40]!r}...")
    income = yuan_to_fen(row.get("income", ""), "income")
    expense = yuan_to_fen(row.get("expense", ""), "expense")
    if income < 0:
        raise BadValue("income", f"an income below zero: {row['income']!r}")
    if income and expense:
        raise BadValue("expense", "both an income and an expense on one line")
    occurred = local_time(row.get("time", ""), "time")
    if occurred is None:
        raise BadValue("time", "is empty")
    biz_type, memo = row.get("biz_type", ""), row.get("memo", "")
    kind = kind_of(biz_type, memo)
    return Movement(line_no=line, serial=serial, kind=kind, amount_fen=income - abs(expense),
                    order_external_id=order_number(row.get("order", ""), memo, row.get("title", "")),
                    biz_serial=row.get("biz_serial", "")[:64], biz_type=biz_type[:64],
                    subsidy_source=subsidy_source_of(biz_type, memo, row.get("title", "")) if kind == "subsidy" else "",
                    occurred_at=occurred, memo=memo[:300])


# --- JD and Douyin settlement JSON ----------------------------------------------------------------

def _items(raw: bytes, source: str, keys: tuple[str, ...]) -> list:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{source}: not JSON text: {exc}") from None
    for _ in range(4):  # the platforms wrap the list: {"result": {"data": {"list": [...]}}}
        if isinstance(data, list):
            return data
        if not isinstance(data, dict):
            break
        data = next((data[k] for k in keys if k in data), None)
    if isinstance(data, list):
        return data
    raise ValueError(f"{source}: no list of settlement items (looked for {', '.join(keys)})")


def _text(item: dict, *names: str) -> str:
    for name in names:
        value = item.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


JD_KEYS = ("jingdong_pop_settle_query_responce", "result", "data", "list", "items", "settleDetailList")


def parse_jd_json(raw: bytes, source: str = "jd.json") -> ParsedBill:
    """JD 结算明细: items with ``id``, ``orderId``, ``feeName`` (货款, 佣金, 京豆, 东券, 运费, 退款 …),
    ``amount`` (yuan, signed: − is deducted) and ``settleTime``."""
    bill = ParsedBill("jd", source)
    for index, item in enumerate(_items(raw, source, JD_KEYS), 1):
        where = f"items[{index - 1}]"
        try:
            if not isinstance(item, dict):
                raise BadValue(None, "not an object")
            serial = _text(item, "id", "billDetailId", "settleId")
            if not serial:
                raise BadValue(f"{where}.id", "is missing")
            fee = _text(item, "feeName", "costName", "feeTypeName", "费用项")
            if not fee:
                raise BadValue(f"{where}.feeName", "is missing")
            amount = yuan_to_fen(item.get("amount", item.get("settleAmount")), f"{where}.amount",
                                 allow_blank=False)
            occurred = local_time(_text(item, "settleTime", "billTime", "createTime"), f"{where}.settleTime")
            kind = kind_of(fee)
            bill.movements.append(Movement(
                line_no=index, serial=serial[:64], kind=kind, amount_fen=amount,
                order_external_id=_text(item, "orderId", "order_id")[:64], biz_type=fee[:64],
                subsidy_source=(subsidy_source_of(fee) or fee[:32]) if kind == "subsidy" else "",
                occurred_at=occurred, memo=_text(item, "remark", "memo")[:300]))
        except BadValue as exc:
            bill.problems.append(Problem(source, index, exc.field or where, exc.reason))
    return bill


DOUYIN_KEYS = ("data", "list", "settle_list", "items")
# Douyin's settlement item (结算账单, one per sub-order) in fen, split into movements:
#   (field, kind, sign, subsidy source)
DOUYIN_PARTS = (
    ("real_pay_amount", "payment", 1, ""),
    ("post_amount", "freight", 1, ""),
    ("platform_coupon", "subsidy", 1, "平台券"),
    ("pay_promotion", "subsidy", 1, "支付优惠"),
    ("refund_before_settle", "refund", -1, ""),
    ("platform_service_fee", "commission", -1, ""),
    ("commission", "commission", -1, ""),
    ("colonel_service_fee", "commission", -1, ""),
    ("channel_promotion_fee", "commission", -1, ""),
)


def parse_douyin_json(raw: bytes, source: str = "douyin.json") -> ParsedBill:
    """抖店 结算账单 (order.getSettleBillDetail): one item per settled sub-order with ``request_no``
    (or ``settle_id``), ``shop_order_id``, ``settle_time`` (unix seconds or local time) and the
    amounts in fen: real_pay_amount, post_amount, platform_coupon, pay_promotion,
    refund_before_settle, platform_service_fee, commission, colonel_service_fee,
    channel_promotion_fee."""
    bill = ParsedBill("douyin", source)
    for index, item in enumerate(_items(raw, source, DOUYIN_KEYS), 1):
        where = f"data[{index - 1}]"
        try:
            if not isinstance(item, dict):
                raise BadValue(None, "not an object")
            serial = _text(item, "request_no", "settle_id", "id")
            if not serial:
                raise BadValue(f"{where}.request_no", "is missing")
            order = _text(item, "shop_order_id", "order_id")
            if not order:
                raise BadValue(f"{where}.shop_order_id", "is missing")
            when = item.get("settle_time")
            occurred = (unix_time(when, f"{where}.settle_time") if isinstance(when, int) or str(when).isdigit()
                        else local_time(when, f"{where}.settle_time"))
            parts = []
            for name, kind, sign, source_name in DOUYIN_PARTS:
                amount = fen_value(item.get(name) or 0, f"{where}.{name}")
                if amount:
                    parts.append(Movement(line_no=index, serial=f"{serial}:{name}"[:64], kind=kind,
                                          amount_fen=sign * abs(amount), order_external_id=order[:64],
                                          biz_serial=serial[:64], biz_type=name, subsidy_source=source_name,
                                          occurred_at=occurred, memo=_text(item, "remark")[:300]))
            bill.movements.extend(parts)
        except BadValue as exc:
            bill.problems.append(Problem(source, index, exc.field or where, exc.reason))
    return bill


PARSERS = {"alipay": parse_alipay_csv, "jd": parse_jd_json, "douyin": parse_douyin_json}


def parse(channel: str, raw: bytes, source: str) -> ParsedBill:
    if channel not in PARSERS:
        raise ValueError(f"no bill format for channel {channel!r}; known: {', '.join(PARSERS)}")
    return PARSERS[channel](raw, source)
