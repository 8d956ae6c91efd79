"""JD POP after-sale service orders (售后服务单): the ``jingdong.asc.query.list`` answer
(``…_responce.result.data[]``, JD spells it "responce"), one service order per SKU of an order;
a bare list is taken too. ``applyRefundSum`` (the pre-shipment refund, ``…refundapply…``) is
read when a record has no ``refundAmount``.

Amounts are yuan strings (``refundAmount``) or fen (``applyRefundSum``); times are Beijing
wall-clock strings. ``customerExpect`` 10 is a return with refund (退货), 20 an exchange.
"""
from __future__ import annotations

from .base import BadValue
from .payload import error_response, find_records, load_payloads
from .refund_base import (AGREED, CLOSED, REFUSED, REQUESTED, SUCCESS, ParsedRefund,
                          RefundParseResult, problem, register_refund_adapter)
from .values import fen_value, local_time, parse_int, text_value, yuan_to_fen

CHANNEL = "jd"

SERVICE_STATUS = {
    10001: REQUESTED,  # 待审核
    10002: REQUESTED,  # 待客户反馈
    10005: AGREED,     # 待收货 (the buyer sends the goods back)
    10006: AGREED,     # 待处理 (goods received, refund to be made)
    10004: CLOSED,     # 审核关闭
    10007: REFUSED,    # 拒收 / 审核不通过
    10009: CLOSED,     # 取消
    10010: SUCCESS,    # 完成
    10011: SUCCESS,    # 退款完成
}
RETURN_EXPECTS = frozenset({10, 20})  # 退货, 换货: the goods come back


@register_refund_adapter("jd_refund_json")
class JdRefundJsonAdapter:
    channel = CHANNEL

    def parse(self, paths_or_payload, shop: str | None = None) -> RefundParseResult:
        payloads, problems = load_payloads(paths_or_payload)
        result = RefundParseResult(problems=problems)
        for source, data in payloads:
            services = find_records(data, ("data", "serviceInfoList"), ("serviceInfo",))
            if services is None:
                reason = error_response(data) or "no after-sale services found (expected result.data[])"
                result.problems.append(problem(source, None, None, reason))
                continue
            for index, service in enumerate(services):
                try:
                    result.refunds.append(self._service(service, source, shop, f"data[{index}]"))
                except BadValue as error:
                    result.problems.append(problem(source, None, error.field, error.reason))
        return result

    def _service(self, service, source: str, shop: str | None, where: str) -> ParsedRefund:
        if not isinstance(service, dict):
            raise BadValue(where, "an after-sale service must be an object")
        service_id = text_value(service.get("serviceId"))
        if not service_id:
            raise BadValue(f"{where}.serviceId", "service has no serviceId")
        order_id = text_value(service.get("orderId"))
        if not order_id:
            raise BadValue(f"{where}.orderId", "service has no orderId")
        code = parse_int(service.get("serviceStatus"), f"{where}.serviceStatus", default=-1)
        state = SERVICE_STATUS.get(code)
        if state is None:
            raise BadValue(f"{where}.serviceStatus", f"unknown service status: {service.get('serviceStatus')!r}")
        if service.get("refundAmount") not in (None, ""):
            amount = yuan_to_fen(service.get("refundAmount"), f"{where}.refundAmount")
        else:
            amount = fen_value(service.get("applyRefundSum"), f"{where}.applyRefundSum")
        qty = parse_int(service.get("serviceCount"), f"{where}.serviceCount")
        if qty < 0:
            raise BadValue(f"{where}.serviceCount", f"quantity must not be negative: {qty}")
        expect = parse_int(service.get("customerExpect"), f"{where}.customerExpect")
        return ParsedRefund(
            channel=self.channel,
            shop=shop if shop is not None else text_value(service.get("venderId")),
            refund_id=service_id,
            order_external_id=order_id,
            line_external_id=text_value(service.get("skuId")),
            sku_code=text_value(service.get("outerSkuId") or service.get("outerId")),
            qty=qty,
            refund_fen=amount,
            state=state,
            channel_status=text_value(service.get("serviceStatusName")) or str(code),
            reason=text_value(service.get("questionDesc") or service.get("applyReason"))[:200],
            goods_returned=expect in RETURN_EXPECTS,
            return_tracking=text_value(service.get("expressCode") or service.get("expressNo")),
            return_carrier=text_value(service.get("expressCompany")),
            requested_at=local_time(service.get("applyTime"), f"{where}.applyTime"),
            modified_at=local_time(service.get("updateTime"), f"{where}.updateTime"),
            source=source,
        )
