"""Taobao Open Platform (TOP) trades: ``taobao.trades.sold.get`` / ``taobao.trade.fullinfo.get``.

A file may hold either response wrapper (``trades_sold_get_response.trades.trade[]`` or
``trade_fullinfo_get_response.trade``) or a bare list of trades. Amounts are yuan strings,
times are Beijing wall-clock strings.
"""
from __future__ import annotations

from .base import (CLOSED, FINISHED, FORBID_CONSIGN, PAID, REFUND_CLOSED, REFUND_NONE,
                   REFUND_PENDING, REFUND_REFUNDED, SHIPPED, WAITING_PAYMENT, BadValue,
                   ImportProblem, ParsedLine, ParsedOrder, ParseResult)
from .payload import error_response, find_records, load_payloads
from .registry import register_adapter
from .values import local_time, parse_int, parse_qty, text_value, yuan_to_fen

CHANNEL = "taobao"

TRADE_STATUS = {
    "TRADE_NO_CREATE_PAY": WAITING_PAYMENT,
    "WAIT_BUYER_PAY": WAITING_PAYMENT,
    "PAY_PENDING": WAITING_PAYMENT,
    "WAIT_PRE_AUTH_CONFIRM": WAITING_PAYMENT,
    "WAIT_SELLER_SEND_GOODS": PAID,
    "SELLER_CONSIGNED_PART": PAID,
    "PAID_FORBID_CONSIGN": FORBID_CONSIGN,
    "WAIT_BUYER_CONFIRM_GOODS": SHIPPED,
    "TRADE_BUYER_SIGNED": SHIPPED,
    "TRADE_FINISHED": FINISHED,
    "TRADE_CLOSED": CLOSED,
    "TRADE_CLOSED_BY_TAOBAO": CLOSED,
}

REFUND_STATUS = {
    "": REFUND_NONE,
    "NO_REFUND": REFUND_NONE,
    "WAIT_SELLER_AGREE": REFUND_PENDING,
    "WAIT_BUYER_RETURN_GOODS": REFUND_PENDING,
    "WAIT_SELLER_CONFIRM_GOODS": REFUND_PENDING,
    "SELLER_REFUSE_BUYER": REFUND_PENDING,
    "SUCCESS": REFUND_REFUNDED,
    "CLOSED": REFUND_CLOSED,
}

STEP_FINAL_PAID = "FRONT_PAID_FINAL_PAID"


@register_adapter("top_json")
class TopJsonAdapter:
    channel = CHANNEL

    def parse(self, paths_or_payload, shop: str | None = None) -> ParseResult:
        payloads, problems = load_payloads(paths_or_payload)
        result = ParseResult(problems=problems)
        for source, data in payloads:
            trades = find_records(data, ("trade",), ("trade",))
            if trades is None:
                reason = error_response(data) or "no trades found (expected trades.trade[])"
                result.problems.append(ImportProblem(source, None, None, None, reason))
                continue
            for index, trade in enumerate(trades):
                where = f"trades[{index}]"
                try:
                    result.orders.append(self._trade(trade, source, shop, where))
                except BadValue as error:
                    external_id = text_value(trade.get("tid_str") or trade.get("tid")) \
                        if isinstance(trade, dict) else None
                    result.problems.append(ImportProblem(source, None, external_id or None,
                                                         error.field, error.reason))
        return result

    def _trade(self, trade, source: str, shop: str | None, where: str) -> ParsedOrder:
        if not isinstance(trade, dict):
            raise BadValue(where, "a trade must be an object")
        tid = text_value(trade.get("tid_str") or trade.get("tid"))
        if not tid:
            raise BadValue(f"{where}.tid", "trade has no tid")
        status_text = text_value(trade.get("status"))
        status = TRADE_STATUS.get(status_text)
        if status is None:
            raise BadValue(f"{where}.status", f"unknown trade status: {status_text!r}")
        orders = trade.get("orders", {})
        orders = orders.get("order", []) if isinstance(orders, dict) else orders
        if not orders:
            raise BadValue(f"{where}.orders", "trade has no orders (order lines)")
        lines = [self._line(order, f"{where}.orders.order[{n}]") for n, order in enumerate(orders)]
        step = text_value(trade.get("step_trade_status"))
        presale = bool(step) or text_value(trade.get("type")) == "step"

        def money(key):
            return yuan_to_fen(trade.get(key) or "", f"{where}.{key}")

        return ParsedOrder(
            channel=self.channel,
            shop=shop if shop is not None else text_value(trade.get("seller_nick")),
            external_id=tid,
            channel_status=status_text,
            status=status,
            buyer_nick=text_value(trade.get("buyer_nick")),
            buyer_message=text_value(trade.get("buyer_message")),
            seller_memo=text_value(trade.get("seller_memo")),
            seller_flag=parse_int(trade.get("seller_flag"), f"{where}.seller_flag"),
            receiver_name=text_value(trade.get("receiver_name")),
            receiver_phone=text_value(trade.get("receiver_mobile") or trade.get("receiver_phone")),
            receiver_province=text_value(trade.get("receiver_state")),
            receiver_city=text_value(trade.get("receiver_city")),
            receiver_district=text_value(trade.get("receiver_district")),
            receiver_address=" ".join(filter(None, (text_value(trade.get("receiver_town")),
                                                    text_value(trade.get("receiver_address"))))),
            receiver_zip=text_value(trade.get("receiver_zip")),
            goods_fen=sum(line.price_fen * line.qty for line in lines),
            freight_fen=money("post_fee"),
            discount_fen=money("discount_fee"),
            coupon_fen=money("coupon_fee"),
            paid_fen=money("payment"),
            created_at=local_time(trade.get("created"), f"{where}.created"),
            paid_at=local_time(trade.get("pay_time"), f"{where}.pay_time"),
            modified_at=local_time(trade.get("modified"), f"{where}.modified"),
            presale=presale,
            presale_final_paid=presale and (
                step == STEP_FINAL_PAID or (not step and status != WAITING_PAYMENT)),
            presale_ship_by=local_time(trade.get("send_time") or trade.get("est_con_time"),
                                       f"{where}.send_time") if presale else None,
            lines=lines,
            source=source,
            source_line=None,
        )

    @staticmethod
    def _line(order, where: str) -> ParsedLine:
        if not isinstance(order, dict):
            raise BadValue(where, "an order line must be an object")
        oid = text_value(order.get("oid_str") or order.get("oid"))
        if not oid:
            raise BadValue(f"{where}.oid", "order line has no oid")
        refund_text = text_value(order.get("refund_status"))
        refund = REFUND_STATUS.get(refund_text)
        if refund is None:
            raise BadValue(f"{where}.refund_status", f"unknown refund status: {refund_text!r}")
        qty = parse_qty(order.get("num"), f"{where}.num")
        price = yuan_to_fen(order.get("price") or "", f"{where}.price", allow_blank=False)
        payment = order.get("payment")
        paid = yuan_to_fen(payment, f"{where}.payment") if payment not in (None, "") \
            else price * qty
        return ParsedLine(
            external_line_id=oid,
            sku_code=text_value(order.get("outer_sku_id")) or text_value(order.get("outer_iid")),
            title=text_value(order.get("title")),
            qty=qty, price_fen=price, paid_fen=paid, refund_status=refund, source_line=None)
