"""Douyin shop (抖店) after-sales: the ``aftersale.List`` answer (``data.items[]``, each an
``aftersale_info`` with its ``order_info``) and ``afterSale.Detail`` (``data.process_info``
holding the same two); a bare list of items is taken too.

Amounts are fen already, times unix seconds. ``aftersale_type`` 0 is a return with refund
(退货退款), 1 and 2 money only (仅退款), 3 an exchange (换货).
"""
from __future__ import annotations

from .base import BadValue
from .payload import find_records, load_payloads
from .refund_base import (AGREED, CLOSED, REFUSED, REQUESTED, SUCCESS, ParsedRefund,
                          RefundParseResult, problem, register_refund_adapter)
from .values import fen_value, parse_int, text_value, unix_time

CHANNEL = "douyin"

AFTERSALE_STATUS = {
    6: REQUESTED,    # 售后申请 (待商家处理)
    7: AGREED,       # 售后退货中 (待买家退货)
    11: AGREED,      # 售后已发货 (买家已寄回)
    8: AGREED,       # 待商家收货
    12: SUCCESS,     # 售后成功
    53: SUCCESS,     # 逆向交易完成
    51: SUCCESS,     # 取消成功 (未发货仅退款)
    27: REFUSED,     # 拒绝售后申请
    29: REFUSED,     # 退货后拒绝退款
    28: CLOSED,      # 售后失败
    4: CLOSED,       # 售后关闭 (buyer withdrew)
}
RETURN_TYPES = frozenset({0, 3})


@register_refund_adapter("douyin_refund_json")
class DouyinRefundJsonAdapter:
    channel = CHANNEL

    def parse(self, paths_or_payload, shop: str | None = None) -> RefundParseResult:
        payloads, problems = load_payloads(paths_or_payload)
        result = RefundParseResult(problems=problems)
        for source, data in payloads:
            items = find_records(data, ("items",), ("process_info",))
            if items is None:
                reason = "no after-sales found (expected data.items[])"
                if isinstance(data, dict) and data.get("code") not in (None, 0, 10000):
                    reason = f"error response {data.get('code')}: {data.get('msg')}"
                result.problems.append(problem(source, None, None, reason))
                continue
            for index, item in enumerate(items):
                try:
                    result.refunds.append(self._item(item, source, shop, f"items[{index}]"))
                except BadValue as error:
                    result.problems.append(problem(source, None, error.field, error.reason))
        return result

    def _item(self, item, source: str, shop: str | None, where: str) -> ParsedRefund:
        if not isinstance(item, dict) or not isinstance(item.get("aftersale_info"), dict):
            raise BadValue(f"{where}.aftersale_info", "an after-sale needs its aftersale_info object")
        info = item["aftersale_info"]
        order = item.get("order_info") if isinstance(item.get("order_info"), dict) else {}
        aftersale_id = text_value(info.get("aftersale_id"))
        if not aftersale_id:
            raise BadValue(f"{where}.aftersale_info.aftersale_id", "after-sale has no aftersale_id")
        order_id = text_value(order.get("shop_order_id") or info.get("related_id"))
        if not order_id:
            raise BadValue(f"{where}.order_info.shop_order_id", "after-sale has no shop_order_id")
        code = parse_int(info.get("aftersale_status"), f"{where}.aftersale_info.aftersale_status", default=-1)
        state = AFTERSALE_STATUS.get(code)
        if state is None:
            raise BadValue(f"{where}.aftersale_info.aftersale_status",
                           f"unknown after-sale status: {info.get('aftersale_status')!r}")
        related = order.get("related_order_info") or [{}]
        if not isinstance(related, list) or not isinstance(related[0], dict):
            raise BadValue(f"{where}.order_info.related_order_info", "must be a list of objects")
        line = related[0]
        qty = parse_int(line.get("aftersale_item_num", line.get("item_num")),
                        f"{where}.order_info.related_order_info[0].aftersale_item_num")
        if qty < 0:
            raise BadValue(f"{where}.order_info.related_order_info[0].aftersale_item_num",
                           f"quantity must not be negative: {qty}")
        kind = parse_int(info.get("aftersale_type"), f"{where}.aftersale_info.aftersale_type", default=-1)
        return ParsedRefund(
            channel=self.channel,
            shop=shop if shop is not None else text_value(order.get("shop_id")),
            refund_id=aftersale_id,
            order_external_id=order_id,
            line_external_id=text_value(line.get("sku_order_id")),
            sku_code=text_value(line.get("shop_sku_code")),
            qty=qty,
            refund_fen=fen_value(info.get("refund_amount"), f"{where}.aftersale_info.refund_amount"),
            state=state,
            channel_status=text_value(info.get("aftersale_status_desc")) or str(code),
            reason=text_value(info.get("reason") or info.get("reason_remark"))[:200],
            goods_returned=kind in RETURN_TYPES,
            return_tracking=text_value(info.get("return_logistics_code")),
            return_carrier=text_value(info.get("return_logistics_company_name")),
            requested_at=unix_time(info.get("apply_time"), f"{where}.aftersale_info.apply_time"),
            modified_at=unix_time(info.get("update_time"), f"{where}.aftersale_info.update_time"),
            source=source,
        )
