"""The order as the rules see it: its fields, sample orders to check rules against, and the
evaluation context built once per order."""

import cel

SAMPLE_LINE = {
    "sku": "SKU-1",
    "qty": 2,
    "paid_fen": 5900,
    "refund_status": "WAIT_SELLER_AGREE",
    "bulky": True,
    "cold_chain": True,
}

# Every field the server puts in the order context, each with a non-empty value, so that a
# rule that names a field which does not exist fails when the rule file is checked.
SAMPLE_ORDER = {
    "channel": "tmall",
    "shop": "flagship",
    "external_id": "3921877410023",
    "status": "WAIT_SELLER_SEND_GOODS",
    "buyer_nick": "tb_buyer",
    "buyer_message": "请发顺丰",
    "seller_memo": "赠品",
    "seller_flag": 1,
    "receiver": {
        "name": "张三",
        "phone": "13800138000",
        "province": "广东省",
        "city": "深圳市",
        "district": "南山区",
        "address": "科技园南区1号",
        "zip": "518000",
    },
    "goods_fen": 12800,
    "freight_fen": 1000,
    "discount_fen": 2000,
    "paid_fen": 11800,
    "units": 3,
    "sku_count": 2,
    "presale": True,
    "presale_final_paid": True,
    "refund_pending": True,
    "forbid_consign": True,
    "unknown_skus": ["SKU-X"],
    "weight_g": 2500,
    "tags": ["vip"],
    "blacklisted": True,
    "lines": [SAMPLE_LINE, dict(SAMPLE_LINE, sku="SKU-2", qty=1, bulky=False, cold_chain=False)],
    "warehouses_with_stock": ["WH-SZ"],
}


def _emptied(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, str):
        return ""
    if isinstance(value, dict):
        return {key: _emptied(item) for key, item in value.items()}
    return []


# The same fields, each empty: the other branch of most conditions.
EMPTY_ORDER = _emptied(SAMPLE_ORDER)
EMPTY_LINE = _emptied(SAMPLE_LINE)


class OrderContext:
    """One order prepared for evaluation.

    Turning the order dict into CEL values is the costly part (tens of microseconds), so it is
    done once here and shared by every rule file; each expression then costs about a microsecond.
    Use one OrderContext per order and per thread of work.
    """

    __slots__ = ("order", "_cel")

    def __init__(self, order):
        self.order = order
        self._cel = None

    def bind(self, params, line=None):
        """The CEL context with `order`, the rule file's `params` and, for line rules, `line`."""
        if self._cel is None:
            self._cel = cel.Context({"order": self.order})
        self._cel.add_variable("params", params)
        if line is not None:
            self._cel.add_variable("line", line)
        return self._cel


def as_order_context(order):
    """Accept an order dict or an OrderContext."""
    return order if isinstance(order, OrderContext) else OrderContext(order)
