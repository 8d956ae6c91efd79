"""JD POP orders: the ``jingdong.pop.order.search`` (and ``.get``) response.

The response nests as ``jingdong_pop_order_search_responce.searchorderinfo_result.orderInfoList``
(JD spells it "responce"); a bare list of orders is accepted too. Amounts are yuan strings.
JD gives no per-line payment, so the goods part of ``orderPayment`` is spread over the lines in
proportion to their list value, the last fen going to the largest remainders.
"""
from __future__ import annotations

from .base import (CLOSED, FINISHED, FORBID_CONSIGN, PAID, REFUND_NONE, SHIPPED,
                   WAITING_PAYMENT, BadValue, ImportProblem, ParsedLine, ParsedOrder,
                   ParseResult)
from .payload import error_response, find_records, load_payloads
from .registry import register_adapter
from .values import local_time, parse_qty, text_value, yuan_to_fen

CHANNEL = "jd"

ORDER_STATE = {
    "NOT_PAY": WAITING_PAYMENT,
    "WAIT_PAY": WAITING_PAYMENT,
    "WAIT_SELLER_STOCK_OUT": PAID,          # 等待出库
    "WAIT_SELLER_DELIVERY": PAID,           # 等待发货 (cross-border)
    "WAIT_GOODS_RECEIVE_CONFIRM": SHIPPED,  # 等待确认收货
    "RECEIPTS_CONFIRM": SHIPPED,
    "FINISHED_L": FINISHED,                 # 完成
    "TRADE_CANCELED": CLOSED,               # 取消
    "LOCKED": FORBID_CONSIGN,               # 已锁定: a cancel or after-sale request is pending
    "PAUSE": FORBID_CONSIGN,                # 暂停
    "POP_ORDER_PAUSE": FORBID_CONSIGN,
}


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` fen over ``weights`` proportionally; the parts add up to ``total``."""
    weight_sum = sum(weights)
    if weight_sum <= 0:
        parts = [0] * len(weights)
        if parts:
            parts[0] = total
        return parts
    parts = [total * weight // weight_sum for weight in weights]
    remainders = sorted(range(len(weights)),
                        key=lambda i: (total * weights[i] % weight_sum, -i), reverse=True)
    for index in remainders[:total - sum(parts)]:
        parts[index] += 1
    return parts


@register_adapter("jd_json")
class JdJsonAdapter:
    channel = CHANNEL

    def parse(self, paths_or_payload, shop: str | None = None) -> ParseResult:
        payloads, problems = load_payloads(paths_or_payload)
        result = ParseResult(problems=problems)
        for source, data in payloads:
            orders = find_records(data, ("orderInfoList",), ("orderInfo", "orderDetailInfo"))
            if orders is None:
                reason = error_response(data) or "no orders found (expected orderInfoList[])"
                result.problems.append(ImportProblem(source, None, None, None, reason))
                continue
            for index, order in enumerate(orders):
                where = f"orderInfoList[{index}]"
                try:
                    result.orders.append(self._order(order, source, shop, where))
                except BadValue as error:
                    external_id = text_value(order.get("orderId")) \
                        if isinstance(order, dict) else None
                    result.problems.append(ImportProblem(source, None, external_id or None,
                                                         error.field, error.reason))
        return result

    def _order(self, order, source: str, shop: str | None, where: str) -> ParsedOrder:
        if not isinstance(order, dict):
            raise BadValue(where, "an order must be an object")
        order_id = text_value(order.get("orderId"))
        if not order_id:
            raise BadValue(f"{where}.orderId", "order has no orderId")
        state = text_value(order.get("orderState"))
        status = ORDER_STATE.get(state)
        if status is None:
            raise BadValue(f"{where}.orderState", f"unknown order state: {state!r}")
        items = order.get("itemInfoList") or []
        if not items:
            raise BadValue(f"{where}.itemInfoList", "order has no items")

        def money(key):
            return yuan_to_fen(order.get(key) or "", f"{where}.{key}")

        freight = money("freightPrice")
        paid = money("orderPayment")
        # orderSellerPrice is the goods less the merchant's discount: what the buyer paid below it
        # (and the postage) is JD's own coupons and 京豆, paid by the platform
        seller_price = money("orderSellerPrice") if order.get("orderSellerPrice") not in (None, "") else None
        platform = max(seller_price + freight - paid, 0) if seller_price is not None else 0
        lines = self._lines(items, f"{where}.itemInfoList", max(paid - freight, 0))
        consignee = order.get("consigneeInfo") or {}
        return ParsedOrder(
            channel=self.channel,
            shop=shop if shop is not None else text_value(order.get("venderId")),
            external_id=order_id,
            channel_status=state,
            status=status,
            buyer_nick=text_value(order.get("pin")),
            buyer_message=text_value(order.get("orderRemark")),
            seller_memo=text_value(order.get("venderRemark")),
            receiver_name=text_value(consignee.get("fullname")),
            receiver_phone=text_value(consignee.get("mobile") or consignee.get("telephone")),
            receiver_province=text_value(consignee.get("province")),
            receiver_city=text_value(consignee.get("city")),
            receiver_district=text_value(consignee.get("county")),
            receiver_address=_street_part(consignee),
            receiver_zip=text_value(consignee.get("postCode")),
            goods_fen=sum(line.price_fen * line.qty for line in lines),
            freight_fen=freight,
            discount_fen=money("sellerDiscount"),
            coupon_fen=platform,
            paid_fen=paid,
            created_at=local_time(order.get("orderStartTime"), f"{where}.orderStartTime"),
            paid_at=local_time(order.get("paymentConfirmTime"), f"{where}.paymentConfirmTime"),
            modified_at=local_time(order.get("modified"), f"{where}.modified"),
            lines=lines,
            source=source,
            source_line=None,
        )

    @staticmethod
    def _lines(items, where: str, goods_paid: int) -> list[ParsedLine]:
        lines: list[ParsedLine] = []
        seen: dict[str, int] = {}
        for n, item in enumerate(items):
            here = f"{where}[{n}]"
            if not isinstance(item, dict):
                raise BadValue(here, "an item must be an object")
            sku_id = text_value(item.get("skuId"))
            if not sku_id:
                raise BadValue(f"{here}.skuId", "item has no skuId")
            # the same JD sku may appear twice in one order (a gift beside the bought unit)
            seen[sku_id] = seen.get(sku_id, 0) + 1
            line_id = sku_id if seen[sku_id] == 1 else f"{sku_id}#{seen[sku_id]}"
            qty = parse_qty(item.get("itemTotal"), f"{here}.itemTotal")
            price = yuan_to_fen(item.get("jdPrice") or "", f"{here}.jdPrice", allow_blank=False)
            lines.append(ParsedLine(
                external_line_id=line_id,
                sku_code=text_value(item.get("outerSkuId")) or text_value(item.get("productNo")),
                title=text_value(item.get("skuName")),
                qty=qty, price_fen=price, paid_fen=0, refund_status=REFUND_NONE))
        for line, part in zip(lines, allocate(goods_paid, [l.price_fen * l.qty for l in lines])):
            line.paid_fen = part
        return lines


def _street_part(consignee: dict) -> str:
    """The street and house part of ``fullAddress``, without the leading region names."""
    full = text_value(consignee.get("fullAddress"))
    for key in ("province", "city", "county", "town"):
        name = text_value(consignee.get(key))
        if name and full.startswith(name):
            full = full[len(name):].lstrip()
    return full
