"""Douyin shop (抖店) orders: the ``order.searchList`` / ``order.orderDetail`` response.

``data.shop_order_list[]`` (or ``data.shop_order_detail``) holds one shop order each with its
``sku_order_list[]``. Amounts are already fen; times are unix seconds. The receiver's name and
phone arrive encrypted (``encrypt_post_receiver`` / ``encrypt_post_tel``) and are kept as the
channel sent them: only the channel's decrypt call can open them.
"""
from __future__ import annotations

from .base import (CLOSED, FINISHED, PAID, REFUND_CLOSED, REFUND_NONE, REFUND_PENDING,
                   REFUND_REFUNDED, SHIPPED, WAITING_PAYMENT, BadValue, ImportProblem,
                   ParsedLine, ParsedOrder, ParseResult)
from .payload import find_records, load_payloads
from .registry import register_adapter
from .values import fen_value, parse_int, parse_qty, text_value, unix_time

CHANNEL = "douyin"

ORDER_STATUS = {
    1: WAITING_PAYMENT,    # 待支付 / 待确认
    103: WAITING_PAYMENT,  # 部分支付 (presale deposit paid)
    105: PAID,             # 已支付
    2: PAID,               # 备货中 (待发货)
    101: PAID,             # 部分发货
    3: SHIPPED,            # 已发货
    4: CLOSED,             # 已取消
    5: FINISHED,           # 已完成
}

# after_sale_info.after_sale_status
AFTER_SALE_REFUNDED = frozenset({12, 51, 53})  # 售后成功, 取消成功, 逆向交易完成
AFTER_SALE_CLOSED = frozenset({27, 28, 29})    # 拒绝售后申请, 售后失败, 退货后拒绝退款


def refund_from_after_sale(status: int) -> str:
    if status <= 0:
        return REFUND_NONE
    if status in AFTER_SALE_REFUNDED:
        return REFUND_REFUNDED
    if status in AFTER_SALE_CLOSED:
        return REFUND_CLOSED
    return REFUND_PENDING


@register_adapter("douyin_json")
class DouyinJsonAdapter:
    channel = CHANNEL

    def parse(self, paths_or_payload, shop: str | None = None) -> ParseResult:
        payloads, problems = load_payloads(paths_or_payload)
        result = ParseResult(problems=problems)
        for source, data in payloads:
            orders = find_records(data, ("shop_order_list",), ("shop_order_detail",))
            if orders is None:
                reason = "no orders found (expected data.shop_order_list[])"
                if isinstance(data, dict) and data.get("code") not in (None, 0, 10000):
                    reason = f"error response {data.get('code')}: {data.get('msg')}"
                result.problems.append(ImportProblem(source, None, None, None, reason))
                continue
            for index, order in enumerate(orders):
                where = f"shop_order_list[{index}]"
                try:
                    result.orders.append(self._order(order, source, shop, where))
                except BadValue as error:
                    external_id = text_value(order.get("order_id")) \
                        if isinstance(order, dict) else None
                    result.problems.append(ImportProblem(source, None, external_id or None,
                                                         error.field, error.reason))
        return result

    def _order(self, order, source: str, shop: str | None, where: str) -> ParsedOrder:
        if not isinstance(order, dict):
            raise BadValue(where, "an order must be an object")
        order_id = text_value(order.get("order_id"))
        if not order_id:
            raise BadValue(f"{where}.order_id", "order has no order_id")
        code = parse_int(order.get("order_status"), f"{where}.order_status", default=-1)
        status = ORDER_STATUS.get(code)
        if status is None:
            raise BadValue(f"{where}.order_status",
                           f"unknown order status: {order.get('order_status')!r}")
        skus = order.get("sku_order_list") or []
        if not skus:
            raise BadValue(f"{where}.sku_order_list", "order has no sku orders")
        lines = [self._line(sku, f"{where}.sku_order_list[{n}]") for n, sku in enumerate(skus)]
        presale = any(parse_int(sku.get("pre_sale_type"), None) > 0 for sku in skus) \
            or bool(order.get("order_phase_list"))
        address = order.get("post_addr") or {}
        channel_status = text_value(order.get("order_status_desc")) or str(code)
        # promotion_amount is every discount; promotion_platform_amount the platform's part of it
        promotion = fen_value(order.get("promotion_amount"), f"{where}.promotion_amount")
        platform = min(fen_value(order.get("promotion_platform_amount"), f"{where}.promotion_platform_amount"),
                       promotion)
        return ParsedOrder(
            channel=self.channel,
            shop=shop if shop is not None else text_value(
                order.get("shop_name") or order.get("shop_id")),
            external_id=order_id,
            channel_status=channel_status,
            status=status,
            buyer_nick=text_value(order.get("user_nick_name") or order.get("doudian_open_id")),
            buyer_message=text_value(order.get("buyer_words")),
            seller_memo=text_value(order.get("seller_words")),
            seller_flag=parse_int(order.get("seller_remark_stars"),
                                  f"{where}.seller_remark_stars"),
            receiver_name=text_value(order.get("encrypt_post_receiver")
                                     or order.get("post_receiver")),
            receiver_phone=text_value(order.get("encrypt_post_tel") or order.get("post_tel")),
            receiver_province=_region(address, "province"),
            receiver_city=_region(address, "city"),
            receiver_district=_region(address, "town"),
            receiver_address=" ".join(filter(None, (
                _region(address, "street"),
                text_value(address.get("detail") or address.get("encrypt_detail"))))),
            receiver_zip="",
            goods_fen=sum(line.price_fen * line.qty for line in lines),
            freight_fen=fen_value(order.get("post_amount"), f"{where}.post_amount"),
            discount_fen=promotion - platform,
            coupon_fen=platform,
            paid_fen=fen_value(order.get("pay_amount"), f"{where}.pay_amount"),
            created_at=unix_time(order.get("create_time"), f"{where}.create_time"),
            paid_at=unix_time(order.get("pay_time"), f"{where}.pay_time"),
            modified_at=unix_time(order.get("update_time"), f"{where}.update_time"),
            presale=presale,
            presale_final_paid=presale and status not in (WAITING_PAYMENT, CLOSED),
            presale_ship_by=unix_time(order.get("exp_ship_time"), f"{where}.exp_ship_time")
            if presale else None,
            lines=lines,
            source=source,
            source_line=None,
        )

    @staticmethod
    def _line(sku, where: str) -> ParsedLine:
        if not isinstance(sku, dict):
            raise BadValue(where, "a sku order must be an object")
        line_id = text_value(sku.get("order_id"))
        if not line_id:
            raise BadValue(f"{where}.order_id", "sku order has no order_id")
        qty = parse_qty(sku.get("item_num"), f"{where}.item_num")
        if sku.get("goods_price") not in (None, ""):
            price = fen_value(sku.get("goods_price"), f"{where}.goods_price")
        else:
            origin = fen_value(sku.get("origin_amount"), f"{where}.origin_amount")
            if origin % qty:
                raise BadValue(f"{where}.origin_amount",
                               f"origin_amount {origin} does not divide by item_num {qty}")
            price = origin // qty
        after_sale = sku.get("after_sale_info") or {}
        refund = refund_from_after_sale(parse_int(
            after_sale.get("after_sale_status"), f"{where}.after_sale_info.after_sale_status"))
        return ParsedLine(
            external_line_id=line_id,
            sku_code=text_value(sku.get("out_sku_id")) or text_value(sku.get("code")),
            title=text_value(sku.get("product_name")),
            qty=qty, price_fen=price,
            paid_fen=fen_value(sku.get("pay_amount"), f"{where}.pay_amount"),
            refund_status=refund, source_line=None)


def _region(address: dict, key: str) -> str:
    part = address.get(key)
    if isinstance(part, dict):
        return text_value(part.get("name"))
    return text_value(part)
