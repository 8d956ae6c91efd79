"""Order adapters: one per sales channel, each turning an export or API payload into
`ParsedOrder` rows (see base.py) that the import service stores.

    from server.channels import get_adapter
    result = get_adapter("tmall_csv").parse(["orders.csv", "items.csv"], shop="旗舰店")
    result.orders, result.problems
"""
from .base import (ORDER_STATUSES, REFUND_STATUSES, ImportProblem, ParsedLine, ParsedOrder,
                   ParseResult)
from .registry import (DuplicateAdapter, UnknownAdapter, adapter_names, get_adapter,
                       register_adapter, unregister_adapter)

# the built-in adapters register themselves on import, like any outside adapter would
from . import tmall_csv, top_json, jd_json, douyin_json, mapped_csv  # noqa: E402,F401

__all__ = [
    "ImportProblem", "ParsedLine", "ParsedOrder", "ParseResult", "ORDER_STATUSES",
    "REFUND_STATUSES", "register_adapter", "unregister_adapter", "get_adapter",
    "adapter_names", "UnknownAdapter", "DuplicateAdapter",
]
