"""JD open platform (京东宙斯 JOS): the ``routerjson`` gateway client for one seller's token.

A call is a form POST of method, app_key, access_token, timestamp (Beijing, ``yyyy-MM-dd
HH:mm:ss``), v=2.0 and the method's parameters as one JSON text, ``360buy_param_json``, signed
upper(hex(md5(secret + k1v1k2v2... + secret))) over all of them, keys sorted.

Answers are ``{"<method with _>_responce": {...}}`` (JD's spelling) or ``{"error_response":
{code, zh_desc, en_desc}}``; a method's own result object may also say ``success: false``.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from . import http
from .base import Page, PlatformClient, TraceEvent, beijing_text, count, dig, records, whole_seconds
from .errors import BadAnswer, RateLimited, Refused, SessionInvalid, Unreachable

ORDERS = "jingdong.pop.order.search"
REFUNDS = "jingdong.asc.sync.list"          # after-sale service orders changed in a window (增量)
SHIP = "jingdong.pop.order.shipment"        # SOP 出库发货
STOCK = "jingdong.stock.write.updateSkuStock"

ORDER_STATES = ("WAIT_SELLER_STOCK_OUT", "WAIT_GOODS_RECEIVE_CONFIRM", "FINISHED_L", "TRADE_CANCELED",
                "LOCKED", "POP_ORDER_PAUSE", "PAUSE", "WAIT_SELLER_DELIVERY", "NOT_PAY")
# everything server/channels/jd_json.py reads
OPTIONAL_FIELDS = ("orderId", "venderId", "orderType", "orderState", "orderStateRemark", "pin",
                   "orderTotalPrice", "orderSellerPrice", "orderPayment", "freightPrice", "sellerDiscount",
                   "orderStartTime", "paymentConfirmTime", "modified", "orderRemark", "venderRemark",
                   "consigneeInfo", "itemInfoList")
DATE_TYPE_MODIFIED = "0"   # dateType: 1 is by creation time, 0 by modification

# our carrier code -> JD's logistics company id (logiCoprId), as a seller's 京麦 lists them
COMPANY_IDS = {"SF": "467", "ZTO": "1499", "YTO": "463", "STO": "470", "YUNDA": "1327", "EMS": "465",
               "JD": "2087", "DEPPON": "3046"}
ALREADY_WORDS = ("已出库", "已发货", "重复发货")
SESSION_CODES = frozenset({"19", "20"})
SESSION_WORDS = ("access_token", "token", "授权")
LIMIT_WORDS = ("限流", "频率", "调用次数", "流控", "limit")
DOWN_CODES = frozenset({"1", "66", "67"})


def sign(params: dict[str, str], secret: str) -> str:
    joined = "".join(f"{key}{params[key]}" for key in sorted(params)
                     if key != "sign" and params[key] not in (None, ""))
    return hashlib.md5((secret + joined + secret).encode("utf-8")).hexdigest().upper()


def raise_for_error(call: str, answer: dict) -> None:
    body = answer.get("error_response")
    if body is None:
        return
    if not isinstance(body, dict):
        raise BadAnswer(call, "error_response", "error_response is not an object")
    code = str(body.get("code", ""))
    text = str(body.get("zh_desc") or body.get("en_desc") or body.get("msg") or "")
    english = str(body.get("en_desc") or "").lower()
    if any(word in text or word in english for word in LIMIT_WORDS):
        raise RateLimited(call, code, text)
    if code in SESSION_CODES or any(word in text.lower() or word in english for word in SESSION_WORDS):
        raise SessionInvalid(call, code, text)
    if code in DOWN_CODES:
        raise Unreachable(call, code, text)
    raise Refused(call, code, text)


class JosClient(PlatformClient):
    platform = "jos"
    order_adapter = "jd_json"
    refund_adapter = "jd_refund_json"
    max_window = timedelta(days=1)
    page_size_max = 100

    def call(self, method: str, params: dict) -> dict:
        """The method's answer body (inside ``<method>_responce``), errors raised by kind."""
        fields = {"method": method, "app_key": self.app_key, "access_token": self._session,
                  "timestamp": beijing_text(datetime.now().astimezone()), "v": "2.0",
                  "360buy_param_json": json.dumps(params, ensure_ascii=False, separators=(",", ":"))}
        fields["sign"] = sign(fields, self._secret)
        answer = http.post_form(self.endpoint, fields, call=method, timeout_s=self.timeout_s)
        raise_for_error(method, answer)
        return dig(answer, (method.replace(".", "_") + "_responce",), method)

    def order_page(self, start: datetime, end: datetime, page_no: int, page_size: int) -> Page:
        seconds = whole_seconds(start, end)
        if seconds is None:
            return Page(0, {"searchorderinfo_result": {"orderTotal": 0, "orderInfoList": []}})
        body = self.call(ORDERS, {"start_date": beijing_text(seconds[0]), "end_date": beijing_text(seconds[1]),
                                  "order_state": ",".join(ORDER_STATES),
                                  "optional_fields": ",".join(OPTIONAL_FIELDS), "page": str(page_no),
                                  "page_size": str(self._page_size(page_size)), "sortType": "1",
                                  "dateType": DATE_TYPE_MODIFIED})
        result = dig(body, ("searchorderinfo_result",), ORDERS)
        api = dig(result, ("apiResult",), ORDERS, required=False)
        if api is not None and api.get("success") is False:
            raise Refused(ORDERS, str(api.get("resultCode") or "apiResult"), str(api.get("chineseErrCode") or ""))
        total = count(dig(result, ("orderTotal",), ORDERS, kind=(int, str)), "orderTotal", ORDERS)
        orders = records(dig(result, ("orderInfoList",), ORDERS, kind=list, required=False) or [],
                         "orderInfoList", ORDERS)
        listings = [(str(item.get("outerSkuId") or item.get("productNo") or ""), str(item.get("wareId") or ""),
                     str(item.get("skuId") or ""))
                    for order in orders for item in order.get("itemInfoList") or [] if isinstance(item, dict)]
        return Page(total, {"jingdong_pop_order_search_responce": body}, listings)

    def refund_page(self, start: datetime, end: datetime, page_no: int, page_size: int) -> Page:
        seconds = whole_seconds(start, end)
        if seconds is None:
            return Page(0, {"pageResult": {"totalCount": 0, "data": []}})
        body = self.call(REFUNDS, {"buId": self.seller_nick, "operatePin": self.seller_nick or "wavefloor",
                                   "operateNick": self.seller_nick or "wavefloor",
                                   "updateTimeBegin": beijing_text(seconds[0]),
                                   "updateTimeEnd": beijing_text(seconds[1]), "pageNumber": page_no,
                                   "pageSize": self._page_size(page_size)})
        result = dig(body, ("pageResult",), REFUNDS)
        total = count(dig(result, ("totalCount",), REFUNDS, kind=(int, str)), "pageResult.totalCount", REFUNDS)
        records(dig(result, ("data",), REFUNDS, kind=list, required=False) or [], "pageResult.data", REFUNDS)
        return Page(total, {"jingdong_asc_sync_list_responce": body})

    def ship(self, external_id: str, carrier_code: str, tracking: str, *, online: bool = False) -> str:
        company = COMPANY_IDS.get(carrier_code.upper(), carrier_code)
        body = self.call(SHIP, {"orderId": external_id, "logiCoprId": company, "logiNo": tracking})
        result = dig(body, ("sopjosshipment_result",), SHIP)
        if dig(result, ("success",), SHIP, kind=(bool, str)) in (True, "true"):
            return "sent"
        reason = str(result.get("chineseErrCode") or result.get("errorCode") or "")
        if any(word in reason for word in ALREADY_WORDS):
            return "already"
        raise Refused(SHIP, str(result.get("errorCode") or "success=false"), reason)

    def upload_stock(self, item_id: str, sku_id: str, qty: int) -> None:
        body = self.call(STOCK, {"skuId": sku_id or item_id, "stockNum": qty})
        if dig(body, ("success",), STOCK, kind=(bool, str)) not in (True, "true"):
            raise Refused(STOCK, "success=false", f"stock of sku {sku_id or item_id} was not taken")

    def trace(self, external_id: str, tracking: str, carrier_code: str) -> list[TraceEvent]:
        """JOS tracking depends on the carrier's own service; the carrier clients report it."""
        return []
