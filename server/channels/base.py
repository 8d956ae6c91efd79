"""The normalised order form every channel adapter produces.

An adapter turns one channel's export or API payload into `ParsedOrder` rows. Nothing here
touches the database: the import service stores what an adapter returns. Money is integer
fen (分), times are UTC, and a row that cannot be read becomes an `ImportProblem` naming the
file, line, field and reason while the good rows still come through.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: normalised order states (订单状态)
PAID = "paid"                       # 买家已付款，等待卖家发货
WAITING_PAYMENT = "waiting_payment"  # 等待买家付款
CLOSED = "closed"                   # 交易关闭
SHIPPED = "shipped"                 # 卖家已发货
FINISHED = "finished"               # 交易成功
FORBID_CONSIGN = "forbid_consign"   # paid but the channel forbids shipping (locked, paused)
ORDER_STATUSES = frozenset({PAID, WAITING_PAYMENT, CLOSED, SHIPPED, FINISHED, FORBID_CONSIGN})

#: normalised refund states of one line (退款状态)
REFUND_NONE = "none"          # 没有申请退款
REFUND_PENDING = "pending"    # 退款中
REFUND_REFUNDED = "refunded"  # 退款成功
REFUND_CLOSED = "closed"      # 退款关闭: the buyer's request ended without a refund
REFUND_STATUSES = frozenset({REFUND_NONE, REFUND_PENDING, REFUND_REFUNDED, REFUND_CLOSED})


@dataclass
class ParsedLine:
    external_line_id: str
    sku_code: str
    title: str
    qty: int
    price_fen: int      # unit price before order-level reductions
    paid_fen: int       # what the buyer pays for the whole line
    refund_status: str  # one of REFUND_STATUSES
    source_line: int | None = None


@dataclass
class ParsedOrder:
    channel: str
    shop: str
    external_id: str
    channel_status: str  # the channel's own status text, kept for people and for audits
    status: str          # one of ORDER_STATUSES
    buyer_nick: str = ""
    buyer_message: str = ""
    seller_memo: str = ""
    seller_flag: int = 0
    receiver_name: str = ""
    receiver_phone: str = ""
    receiver_province: str = ""
    receiver_city: str = ""
    receiver_district: str = ""
    receiver_address: str = ""
    receiver_zip: str = ""
    goods_fen: int = 0     # sum of lines at their own prices
    freight_fen: int = 0   # postage the buyer pays (邮费)
    discount_fen: int = 0  # reductions other than coupons (points, 集分宝, seller discounts)
    coupon_fen: int = 0    # platform coupons and vouchers (卡券)
    paid_fen: int = 0      # what the buyer actually paid, postage included (实付)
    created_at: datetime | None = None
    paid_at: datetime | None = None
    presale: bool = False
    presale_final_paid: bool = False
    presale_ship_by: datetime | None = None
    #: when the channel last changed the order, where it says (API payloads): a payload older
    #: than the one the order was last updated from is not applied (a replay, a late delivery)
    modified_at: datetime | None = None
    lines: list[ParsedLine] = field(default_factory=list)
    source: str = ""
    source_line: int | None = None

    @property
    def units(self) -> int:
        return sum(line.qty for line in self.lines)


@dataclass
class ImportProblem:
    source: str
    line: int | None
    external_id: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        parts = [where]
        if self.external_id:
            parts.append(f"order {self.external_id}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts + [self.reason])


@dataclass
class ParseResult:
    orders: list[ParsedOrder] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    def extend(self, other: ParseResult) -> None:
        self.orders.extend(other.orders)
        self.problems.extend(other.problems)


class BadValue(ValueError):
    """A single cell or JSON value that cannot be read; the caller turns it into a problem."""

    def __init__(self, field: str | None, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason
