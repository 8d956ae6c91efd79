"""Taobao Open Platform (TOP) refunds: ``taobao.refunds.receive.get`` (the refunds a seller
received, ``refunds_receive_get_response.refunds.refund[]``) and ``taobao.refund.get``
(``refund_get_response.refund``); a bare list of refunds is taken too.

One refund is one order line (``oid``) of a trade (``tid``). Amounts are yuan strings, times
Beijing wall-clock strings. ``sid`` and ``company_name`` are the buyer's return parcel.
"""
from __future__ import annotations

from .base import BadValue
from .payload import error_response, find_records, load_payloads
from .refund_base import (AGREED, CLOSED, REFUSED, REQUESTED, SUCCESS, ParsedRefund,
                          RefundParseResult, problem, register_refund_adapter)
from .values import local_time, parse_int, text_value, yuan_to_fen

CHANNEL = "taobao"

REFUND_STATUS = {
    "WAIT_SELLER_AGREE": REQUESTED,          # 买家已经申请退款，等待卖家同意
    "WAIT_BUYER_RETURN_GOODS": AGREED,       # 卖家已经同意退款，等待买家退货
    "WAIT_SELLER_CONFIRM_GOODS": AGREED,     # 买家已经退货，等待卖家确认收货
    "SELLER_REFUSE_BUYER": REFUSED,          # 卖家拒绝退款
    "CLOSED": CLOSED,                        # 退款关闭
    "SUCCESS": SUCCESS,                      # 退款成功
}


def truthy(value) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


@register_refund_adapter("top_refund_json")
class TopRefundJsonAdapter:
    channel = CHANNEL

    def parse(self, paths_or_payload, shop: str | None = None) -> RefundParseResult:
        payloads, problems = load_payloads(paths_or_payload)
        result = RefundParseResult(problems=problems)
        for source, data in payloads:
            refunds = find_records(data, ("refund",), ("refund",))
            if refunds is None:
                reason = error_response(data) or "no refunds found (expected refunds.refund[])"
                result.problems.append(problem(source, None, None, reason))
                continue
            for index, refund in enumerate(refunds):
                try:
                    result.refunds.append(self._refund(refund, source, shop, f"refunds[{index}]"))
                except BadValue as error:
                    result.problems.append(problem(source, None, error.field, error.reason))
        return result

    def _refund(self, refund, source: str, shop: str | None, where: str) -> ParsedRefund:
        if not isinstance(refund, dict):
            raise BadValue(where, "a refund must be an object")
        refund_id = text_value(refund.get("refund_id"))
        if not refund_id:
            raise BadValue(f"{where}.refund_id", "refund has no refund_id")
        tid = text_value(refund.get("tid"))
        if not tid:
            raise BadValue(f"{where}.tid", "refund has no tid")
        status = text_value(refund.get("status"))
        state = REFUND_STATUS.get(status)
        if state is None:
            raise BadValue(f"{where}.status", f"unknown refund status: {status!r}")
        num = parse_int(refund.get("num"), f"{where}.num")
        if num < 0:
            raise BadValue(f"{where}.num", f"quantity must not be negative: {num}")
        return ParsedRefund(
            channel=self.channel,
            shop=shop if shop is not None else text_value(refund.get("seller_nick")),
            refund_id=refund_id,
            order_external_id=tid,
            line_external_id=text_value(refund.get("oid")),
            sku_code=text_value(refund.get("outer_id")),
            qty=num,
            refund_fen=yuan_to_fen(refund.get("refund_fee") if refund.get("refund_fee") is not None else "",
                                   f"{where}.refund_fee", allow_blank=False),
            state=state,
            channel_status=status,
            reason=text_value(refund.get("reason"))[:200],
            goods_returned=truthy(refund.get("has_good_return")),
            return_tracking=text_value(refund.get("sid")),
            return_carrier=text_value(refund.get("company_name")),
            requested_at=local_time(refund.get("created"), f"{where}.created"),
            modified_at=local_time(refund.get("modified"), f"{where}.modified"),
            source=source,
        )
