"""抖店 open platform (Douyin shop, 抖店开放平台): the client for one shop's access token.

A call is a POST to ``<endpoint>/<method with dots as slashes>`` with the system parameters
in the query (app_key, method, v=2, timestamp in unix seconds, sign_method, sign, access_token)
and the method's parameters as the body: ``param_json``, compact JSON with keys sorted at every
depth. The sign is over secret + "app_key"+key + "method"+method + "param_json"+param_json +
"timestamp"+ts + "v"+"2" + secret: md5 hex, or HMAC-SHA256 keyed by the secret (hex).

Answers are ``{code, msg, sub_code, sub_msg, data, log_id}``; code 10000 is success.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from datetime import datetime, timedelta

from . import http
from .base import Page, PlatformClient, TraceEvent, aware_utc, count, dig, records, whole_seconds
from .errors import BadAnswer, RateLimited, Refused, SessionInvalid, Unreachable

ORDERS = "order.searchList"
REFUNDS = "afterSale.List"
SHIP = "order.logisticsAdd"
STOCK = "sku.syncStock"
SUCCESS = 10000

# our carrier code -> 抖店 logistics company code (order.getServiceList / logisticsCompanyList)
COMPANY_CODES = {"SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "STO": "shentong",
                 "YUNDA": "yunda", "EMS": "ems", "JD": "jd", "DEPPON": "debangkuaidi"}
ALREADY_WORDS = ("已发货", "重复发货", "已经发货")
SESSION_WORDS = ("access-token", "access_token", "token")
LIMIT_WORDS = ("limit", "flow-control", "限流", "频率")
DOWN_CODES = frozenset({20000, 20001, 50000})


def param_json(params: dict) -> str:
    """The body as 抖店 signs it: keys sorted at every depth, no spaces, text unescaped."""
    return json.dumps(params, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def sign(app_key: str, secret: str, method: str, body: str, timestamp: str, sign_method: str = "md5") -> str:
    text = f"{secret}app_key{app_key}method{method}param_json{body}timestamp{timestamp}v2{secret}"
    if sign_method == "md5":
        return hashlib.md5(text.encode("utf-8")).hexdigest()
    if sign_method == "hmac-sha256":
        return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()
    raise ValueError(f"unknown 抖店 sign_method: {sign_method!r}")


def raise_for_error(call: str, answer: dict) -> None:
    code = answer.get("code")
    if code == SUCCESS or code == str(SUCCESS):
        return
    if code is None:
        raise BadAnswer(call, "missing", "answer has no code")
    if isinstance(code, bool) or not isinstance(code, (int, str)):
        raise BadAnswer(call, "type", f"code is {type(code).__name__}, expected a number")
    sub_code = str(answer.get("sub_code") or "")
    text = " ".join(str(part) for part in (answer.get("msg"), answer.get("sub_msg")) if part)
    shown = f"{code}/{sub_code}" if sub_code else str(code)
    lowered = f"{sub_code} {text}".lower()
    if any(word in lowered for word in LIMIT_WORDS):
        raise RateLimited(call, shown, text)
    if any(word in lowered for word in SESSION_WORDS):
        raise SessionInvalid(call, shown, text)
    if sub_code.startswith("isp.") or _number(code) in DOWN_CODES:
        raise Unreachable(call, shown, text)
    raise Refused(call, shown, text)


class DoudianClient(PlatformClient):
    platform = "doudian"
    order_adapter = "douyin_json"
    refund_adapter = "douyin_refund_json"
    max_window = timedelta(days=1)
    page_size_max = 100

    def call(self, method: str, params: dict) -> dict:
        """The whole answer ({code, msg, data, ...}) of a successful call; errors raised by kind."""
        body = param_json(params)
        timestamp = str(int(time.time()))
        query = {"app_key": self.app_key, "method": method, "v": "2", "timestamp": timestamp,
                 "sign_method": self.sign_method, "access_token": self._session,
                 "sign": sign(self.app_key, self._secret, method, body, timestamp, self.sign_method)}
        url = f"{self.endpoint.rstrip('/')}/{method.replace('.', '/')}?{urllib.parse.urlencode(query)}"
        answer = http.post(url, body.encode("utf-8"), "application/json;charset=utf-8",
                           call=method, timeout_s=self.timeout_s)
        raise_for_error(method, answer)
        return answer

    def order_page(self, start: datetime, end: datetime, page_no: int, page_size: int) -> Page:
        seconds = whole_seconds(start, end)
        if seconds is None:
            return Page(0, {"code": SUCCESS, "data": {"total": 0, "shop_order_list": []}})
        answer = self.call(ORDERS, {"update_time_start": _unix(seconds[0]), "update_time_end": _unix(seconds[1]),
                                    "page": page_no - 1, "size": self._page_size(page_size),
                                    "order_by": "update_time", "order_asc": True})
        total = count(dig(answer, ("data", "total"), ORDERS, kind=(int, str)), "data.total", ORDERS)
        orders = records(dig(answer, ("data", "shop_order_list"), ORDERS, kind=list, required=False) or [],
                         "data.shop_order_list", ORDERS)
        listings = [(str(sku.get("out_sku_id") or sku.get("code") or ""), str(sku.get("product_id") or ""),
                     str(sku.get("sku_id") or ""))
                    for order in orders for sku in order.get("sku_order_list") or [] if isinstance(sku, dict)]
        return Page(total, answer, listings)

    def refund_page(self, start: datetime, end: datetime, page_no: int, page_size: int) -> Page:
        seconds = whole_seconds(start, end)
        if seconds is None:
            return Page(0, {"code": SUCCESS, "data": {"total": 0, "items": []}})
        answer = self.call(REFUNDS, {"update_start_time": _unix(seconds[0]), "update_end_time": _unix(seconds[1]),
                                     "page": page_no - 1, "size": self._page_size(page_size),
                                     "order_by": ["update_time asc"]})
        total = count(dig(answer, ("data", "total"), REFUNDS, kind=(int, str)), "data.total", REFUNDS)
        records(dig(answer, ("data", "items"), REFUNDS, kind=list, required=False) or [], "data.items", REFUNDS)
        return Page(total, answer)

    def ship(self, external_id: str, carrier_code: str, tracking: str, *, online: bool = False) -> str:
        company = COMPANY_CODES.get(carrier_code.upper(), carrier_code.lower())
        try:
            self.call(SHIP, {"order_id": external_id, "company_code": company, "logistics_code": tracking})
        except Refused as error:
            if any(word in error.message for word in ALREADY_WORDS):
                return "already"
            raise
        return "sent"

    def upload_stock(self, item_id: str, sku_id: str, qty: int) -> None:
        self.call(STOCK, {"product_id": item_id, "sku_id": sku_id, "stock_num": qty, "incremental": False})

    def trace(self, external_id: str, tracking: str, carrier_code: str) -> list[TraceEvent]:
        """Tracking is the carrier's business here; the carrier clients report it."""
        return []


def _unix(moment: datetime) -> int:
    return int(aware_utc(moment).timestamp())


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
