"""The normalised refund form every refund adapter produces (售后 / 退款单), and the refund
adapters by name.

A refund adapter turns one channel's refund export or API payload into `ParsedRefund` rows,
one per refunded order line, beside the order adapters (base.py, registry.py). Nothing here
touches the database: services/returns/refunds.py stores what an adapter returns. Money is
integer fen, times are UTC, and a row that cannot be read becomes an `ImportProblem`
(``file:line: field: reason``) while the good rows still come through.

Refund adapters register the way an outside package would::

    @register_refund_adapter("youzan_refund_json")
    class YouzanRefunds:
        def parse(self, paths_or_payload, shop=None) -> RefundParseResult: ...
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from .base import ImportProblem

#: normalised refund states (退款状态)
REQUESTED = "requested"  # 买家已申请，等待卖家同意
AGREED = "agreed"        # 卖家已同意 (goods on their way back, or the money about to go)
REFUSED = "refused"      # 卖家拒绝
CLOSED = "closed"        # 退款关闭: ended without a refund (withdrawn, timed out)
SUCCESS = "success"      # 退款成功
REFUND_STATES = (REQUESTED, AGREED, REFUSED, CLOSED, SUCCESS)


@dataclass
class ParsedRefund:
    channel: str
    shop: str
    refund_id: str
    order_external_id: str
    line_external_id: str = ""
    sku_code: str = ""
    qty: int = 0               # units asked back (0: the channel does not say)
    refund_fen: int = 0        # what the buyer gets back for the line
    state: str = REQUESTED     # one of REFUND_STATES
    channel_status: str = ""   # the channel's own status text, kept for people and audits
    reason: str = ""
    goods_returned: bool = False  # the buyer sends goods back (退货退款), not money only
    return_tracking: str = ""
    return_carrier: str = ""
    requested_at: datetime | None = None
    modified_at: datetime | None = None
    source: str = ""
    source_line: int | None = None


@dataclass
class RefundParseResult:
    refunds: list[ParsedRefund] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)


def problem(source: str, line: int | None, field_name: str | None, reason: str) -> ImportProblem:
    """A bad row as ``file:line: field: reason``."""
    return ImportProblem(source, line, None, field_name, reason)


_refund_adapters: dict[str, Callable[..., Any]] = {}


class UnknownRefundAdapter(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"no refund adapter named {self.name!r} (known: {', '.join(refund_adapter_names())})"


def register_refund_adapter(name: str):
    def decorate(factory):
        _refund_adapters[name] = factory
        if isinstance(factory, type):
            factory.name = name
        return factory
    return decorate


def get_refund_adapter(name: str, **options):
    factory = _refund_adapters.get(name)
    if factory is None:
        raise UnknownRefundAdapter(name)
    return factory(**options)


def refund_adapter_names() -> list[str]:
    return sorted(_refund_adapters)
