"""Taobao Open Platform (TOP, 淘宝开放平台): the gateway client for one seller's session.

Every call is a form POST of the system parameters (method, app_key, session, timestamp in
Beijing time, format=json, v=2.0, sign_method) and the method's own, signed as TOP publishes:

- md5: upper(hex(md5(secret + k1v1k2v2... + secret))), keys sorted, empty values left out;
- hmac: upper(hex(HMAC-MD5(key=secret, k1v1k2v2...)));
- hmac-sha256: the same with SHA-256.

Answers are ``{"<method>_response": {...}}`` or ``{"error_response": {code, msg, sub_code,
sub_msg}}``; ``raise_for_error`` sorts the latter into the kinds of errors.py.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta

from . import http
from .base import (Page, PlatformClient, TraceEvent, beijing_text, count, dig, from_beijing_text,
                   records, whole_seconds)
from .errors import BadAnswer, PlatformError, RateLimited, Refused, SessionInvalid, Unreachable

ORDERS = "taobao.trades.sold.increment.get"
FULLINFO = "taobao.trade.fullinfo.get"
REFUNDS = "taobao.refunds.receive.get"
OFFLINE_SEND = "taobao.logistics.offline.send"
ONLINE_SEND = "taobao.logistics.online.send"
STOCK = "taobao.item.quantity.update"
TRACE = "taobao.logistics.trace.search"

# everything server/channels/top_json.py reads, and the ids behind a listing
ORDER_FIELDS = ("num_iid", "sku_id", "oid", "oid_str", "title", "outer_iid", "outer_sku_id", "num",
                "price", "payment", "total_fee", "refund_status", "status")
TRADE_FIELDS = ("tid", "tid_str", "status", "type", "step_trade_status", "step_paid_fee", "seller_nick",
                "buyer_nick", "buyer_message", "seller_memo", "seller_flag", "created", "pay_time",
                "modified", "send_time", "est_con_time", "total_fee", "post_fee", "discount_fee",
                "coupon_fee", "payment", "receiver_name", "receiver_mobile", "receiver_phone",
                "receiver_state", "receiver_city", "receiver_district", "receiver_town",
                "receiver_address", "receiver_zip") + tuple(f"orders.{name}" for name in ORDER_FIELDS)
RECEIVER_FIELDS = ("receiver_name", "receiver_mobile", "receiver_phone", "receiver_state", "receiver_city",
                   "receiver_district", "receiver_town", "receiver_address", "receiver_zip")
REFUND_FIELDS = ("refund_id", "tid", "oid", "title", "outer_id", "num", "refund_fee", "total_fee", "status",
                 "reason", "desc", "has_good_return", "good_status", "sid", "company_name", "created",
                 "modified", "seller_nick", "buyer_nick", "order_status")

# our carrier code -> TOP's logistics company code (taobao.logistics.companies.get)
COMPANY_CODES = {"SF": "SF", "ZTO": "ZTO", "YTO": "YTO", "STO": "STO", "YUNDA": "YUNDA", "EMS": "EMS",
                 "JD": "JD", "DEPPON": "DBKD"}

# the offline/online send sub_code for "this order is shipped or closed already" (B04)
ALREADY_SENT = re.compile(r"isv\.logistics-(offline|online)-service-error:B04")
SESSION_SUB_CODES = frozenset({"isv.invalid-sessionkey", "session-expired", "session-not-exist",
                               "session-invalid", "invalid-sessionkey"})
LIMIT_SUB_CODE = re.compile(r"^accesscontrol\.|^isv\..*-limit(ed)?$|limited-by")
BAN_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*more seconds")

TRACE_ACTIONS = {"GOT": "collected", "ACCEPT": "collected", "CREATE": "collected",
                 "DEPARTURE": "in_transit", "ARRIVAL": "in_transit", "TRANSPORT": "in_transit",
                 "SENT_SCAN": "delivering", "DELIVERING": "delivering", "SIGNED": "delivered",
                 "SIGN": "delivered", "STA_SIGN": "delivered", "FAILED": "exception", "REJECT": "exception",
                 "TMS_STA_FAILED": "exception", "AGENT_SIGN": "delivered"}
TRACE_WORDS = (("签收", "delivered"), ("派件", "delivering"), ("派送", "delivering"), ("揽收", "collected"),
               ("揽件", "collected"), ("异常", "exception"), ("退回", "exception"), ("拒收", "exception"))


def sign(params: dict[str, str], secret: str, sign_method: str = "md5") -> str:
    """TOP's signature of the request parameters (``sign`` itself left out)."""
    joined = "".join(f"{key}{params[key]}" for key in sorted(params)
                     if key != "sign" and params[key] not in (None, ""))
    if sign_method == "md5":
        digest = hashlib.md5((secret + joined + secret).encode("utf-8")).hexdigest()
    elif sign_method == "hmac":
        digest = hmac.new(secret.encode("utf-8"), joined.encode("utf-8"), hashlib.md5).hexdigest()
    elif sign_method == "hmac-sha256":
        digest = hmac.new(secret.encode("utf-8"), joined.encode("utf-8"), hashlib.sha256).hexdigest()
    else:
        raise ValueError(f"unknown TOP sign_method: {sign_method!r}")
    return digest.upper()


def raise_for_error(call: str, answer: dict) -> None:
    body = answer.get("error_response")
    if body is None:
        return
    if not isinstance(body, dict):
        raise BadAnswer(call, "error_response", "error_response is not an object")
    code = str(body.get("code", ""))
    sub_code = str(body.get("sub_code") or "")
    text = " ".join(str(part) for part in (body.get("msg"), body.get("sub_msg")) if part)
    shown = f"{code}/{sub_code}" if sub_code else code
    if code == "7" or LIMIT_SUB_CODE.search(sub_code):
        ban = BAN_SECONDS.search(text)
        raise RateLimited(call, shown, text, wait_s=float(ban.group(1)) if ban else 1.0)
    if code in ("26", "27") or sub_code in SESSION_SUB_CODES:
        raise SessionInvalid(call, shown, text)
    if code in ("10", "11") or sub_code.startswith("isp."):
        raise Unreachable(call, shown, text)
    raise Refused(call, shown, text)


class TopClient(PlatformClient):
    platform = "top"
    order_adapter = "top_json"
    refund_adapter = "top_refund_json"
    max_window = timedelta(days=1)   # trades.sold.increment.get takes one day at most
    page_size_max = 100

    def call(self, method: str, params: dict) -> dict:
        """The method's answer body (inside ``<method>_response``), errors raised by kind."""
        fields = {"method": method, "app_key": self.app_key, "session": self._session,
                  "timestamp": beijing_text(datetime.now().astimezone()), "format": "json", "v": "2.0",
                  "sign_method": self.sign_method}
        fields.update({key: _text(value) for key, value in params.items() if value is not None})
        fields["sign"] = sign(fields, self._secret, self.sign_method)
        answer = http.post_form(self.endpoint, fields, call=method, timeout_s=self.timeout_s)
        raise_for_error(method, answer)
        return dig(answer, (method.removeprefix("taobao.").replace(".", "_") + "_response",), method)

    def order_page(self, start: datetime, end: datetime, page_no: int, page_size: int) -> Page:
        seconds = whole_seconds(start, end)
        if seconds is None:
            return Page(0, {"trades_sold_increment_get_response": {"total_results": 0}})
        body = self.call(ORDERS, {"start_modified": beijing_text(seconds[0]),
                                  "end_modified": beijing_text(seconds[1]), "page_no": page_no,
                                  "page_size": self._page_size(page_size), "use_has_next": "false",
                                  "fields": ",".join(TRADE_FIELDS)})
        total = count(dig(body, ("total_results",), ORDERS, kind=(int, str)), "total_results", ORDERS)
        trades = records(dig(body, ("trades", "trade"), ORDERS, kind=list, required=False) or [],
                         "trades.trade", ORDERS)
        for trade in trades:
            if not trade.get("receiver_name"):
                self._fill_receiver(trade)
        listings = [(str(order.get("outer_sku_id") or order.get("outer_iid") or ""),
                     str(order.get("num_iid") or ""), str(order.get("sku_id") or ""))
                    for trade in trades for order in _lines(trade)]
        return Page(total, {"trades_sold_increment_get_response": body}, listings)

    def _fill_receiver(self, trade: dict) -> None:
        """The increment search may leave out the address: ask for the one trade in full."""
        tid = trade.get("tid_str") or trade.get("tid")
        if not tid:
            return
        full = dig(self.call(FULLINFO, {"tid": tid, "fields": ",".join(TRADE_FIELDS)}),
                   ("trade",), FULLINFO)
        for key in RECEIVER_FIELDS:
            if key in full:
                trade[key] = full[key]

    def refund_page(self, start: datetime, end: datetime, page_no: int, page_size: int) -> Page:
        seconds = whole_seconds(start, end)
        if seconds is None:
            return Page(0, {"refunds_receive_get_response": {"total_results": 0}})
        body = self.call(REFUNDS, {"start_modified": beijing_text(seconds[0]),
                                   "end_modified": beijing_text(seconds[1]), "page_no": page_no,
                                   "page_size": self._page_size(page_size), "use_has_next": "false",
                                   "fields": ",".join(REFUND_FIELDS)})
        total = count(dig(body, ("total_results",), REFUNDS, kind=(int, str)), "total_results", REFUNDS)
        records(dig(body, ("refunds", "refund"), REFUNDS, kind=list, required=False) or [],
                "refunds.refund", REFUNDS)
        return Page(total, {"refunds_receive_get_response": body})

    def ship(self, external_id: str, carrier_code: str, tracking: str, *, online: bool = False) -> str:
        method = ONLINE_SEND if online else OFFLINE_SEND
        company = COMPANY_CODES.get(carrier_code.upper(), carrier_code.upper())
        try:
            body = self.call(method, {"tid": external_id, "out_sid": tracking, "company_code": company})
        except Refused as error:
            if ALREADY_SENT.search(error.code):
                return "already"
            raise
        if dig(body, ("shipping", "is_success"), method, kind=(bool, str)) not in (True, "true"):
            raise Refused(method, "is_success", f"the platform did not confirm trade {external_id}")
        return "sent"

    def upload_stock(self, item_id: str, sku_id: str, qty: int) -> None:
        params = {"num_iid": item_id, "quantity": qty, "type": 1}
        if sku_id:
            params["sku_id"] = sku_id
        dig(self.call(STOCK, params), ("item",), STOCK)

    def trace(self, external_id: str, tracking: str, carrier_code: str) -> list[TraceEvent]:
        params = {"tid": external_id}
        if self.seller_nick:
            params["seller_nick"] = self.seller_nick
        body = self.call(TRACE, params)
        steps = dig(body, ("trace_list", "transit_step_info"), TRACE, kind=list, required=False) or []
        events = []
        for step in records(steps, "trace_list.transit_step_info", TRACE):
            moment = step.get("status_time") or step.get("time")
            if not isinstance(moment, str):
                raise BadAnswer(TRACE, "type", "a transit step has no status_time")
            try:
                at = from_beijing_text(moment)
            except ValueError:
                raise BadAnswer(TRACE, "type", f"status_time is not a time: {moment!r}") from None
            detail = str(step.get("status_desc") or step.get("desc") or "")
            events.append(TraceEvent(at, trace_status(str(step.get("action") or ""), detail), detail,
                                     str(step.get("node_description") or step.get("city") or "")))
        return sorted(events, key=lambda event: event.at)


def trace_status(action: str, detail: str) -> str:
    if action.upper() in TRACE_ACTIONS:
        return TRACE_ACTIONS[action.upper()]
    for word, status in TRACE_WORDS:
        if word in detail:
            return status
    return "in_transit"


def _lines(trade: dict) -> list[dict]:
    orders = trade.get("orders")
    orders = orders.get("order") if isinstance(orders, dict) else orders
    return [order for order in orders or [] if isinstance(order, dict)]


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):   # TOP takes structured parameters as JSON text
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


__all__ = ["TopClient", "sign", "raise_for_error", "PlatformError"]
