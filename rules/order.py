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
    "warehouses_with_stock_or_in_transit": ["WH-SZ", "WH-HZ"],
    "shop_sells_in_transit": True,
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


# The order's top-level fields that some compiled condition names (``order.receiver.city`` names
# ``receiver``). A context converts only those: the order dict holds more (its lines, the
# warehouses with stock) than any rule file reads, and converting a field costs as much as
# evaluating a condition. A condition that names ``order`` itself, or indexes it, needs all.
_named: set = set()
_named_all = False
_generation = 0


def note_references(paths):
    """Record the dotted paths a newly compiled condition mentions (``order.receiver.city``)."""
    global _named_all, _generation
    for path in paths:
        root, _, rest = path.partition(".")
        if root != "order":
            continue
        name = rest.partition(".")[0]
        if not name and not _named_all:
            _named_all, _generation = True, _generation + 1
        elif name and name not in _named:
            _named.add(name)
            _generation += 1


class OrderContext:
    """One order prepared for evaluation.

    Turning the order dict into CEL values is the costly part (tens of microseconds), so it is
    done once here and shared by every rule file; each expression then costs about a microsecond.
    Use one OrderContext per order and per thread of work.
    """

    __slots__ = ("order", "_cel", "_params", "_generation")

    def __init__(self, order):
        self.order = order
        self._cel = None
        self._params = None
        self._generation = -1

    def bind(self, params, line=None):
        """The CEL context with `order`, the rule file's `params` and, for line rules, `line`.
        The params are converted again only when another rule file's take their place."""
        if self._generation != _generation:  # first use, or a condition compiled since names more
            order = self.order if _named_all else {k: v for k, v in self.order.items() if k in _named}
            self._cel, self._params, self._generation = cel.Context({"order": order}), None, _generation
        if params is not self._params and getattr(params, "needed", True):  # written into the programs
            self._cel.add_variable("params", params)
            self._params = params
        if line is not None:
            self._cel.add_variable("line", line)
        return self._cel

    def bind_line(self, params, line, alone, fields=None):
        """``bind(params, line)``; ``alone``: the conditions read the line (and params) only, so a
        context of the line serves, and the order's is not converted again for each line;
        ``fields``: the line's fields they name (None: the whole line)."""
        if not alone:
            return self.bind(params, line)
        variables = {"line": line if fields is None else {k: v for k, v in line.items() if k in fields}}
        if getattr(params, "needed", True):
            variables["params"] = params
        return cel.Context(variables)


def as_order_context(order):
    """Accept an order dict or an OrderContext."""
    return order if isinstance(order, OrderContext) else OrderContext(order)
