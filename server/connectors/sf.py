"""SF Express's own API (丰桥, the unified gateway ``/std/service``): an electronic waybill for
one parcel (EXP_RECE_CREATE_ORDER, 下订单) and its cancellation (EXP_RECE_UPDATE_ORDER with
dealType 2, 订单取消).

Every request is a form POST of partnerID (顾客编码), requestID, serviceCode, timestamp
(milliseconds), msgData (the JSON message) and msgDigest, SF's published digital signature::

    msgDigest = base64(md5(urlencode(msgData + timestamp + checkword)))

where urlencode is Java's ``URLEncoder.encode(text, "UTF-8")`` (a space becomes ``+``; letters,
digits and ``. - * _`` stay). The checkword (校验码) never leaves this module.

The answer: ``apiResultCode`` A1000 when the gateway took the request, then ``apiResultData``
(a JSON text, sometimes an object) with ``success``, ``errorCode`` S0000 and ``msgData``. An
order id sent again gets the waybill of its first success, so a retried request never makes a
second number.
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.parse
import uuid

from server.connectors import http
from server.connectors.errors import BadAnswer, RateLimited, Refused, SessionInvalid, Unreachable
from server.connectors.waybill_numbers import Address, WaybillRequest, WaybillResult

CREATE = "EXP_RECE_CREATE_ORDER"
UPDATE = "EXP_RECE_UPDATE_ORDER"
CANCEL_DEAL = 2
OK = "A1000"
BUSINESS_OK = "S0000"
# the gateway's codes (apiResultCode) that are not the business's answer
GATEWAY_ERRORS = {
    "A1005": RateLimited,      # 流量受控
    "A1006": SessionInvalid,   # 数字签名无效: the checkword is wrong or was changed
    "A1009": Unreachable,      # 目标服务异常或不可达
    "A1099": Unreachable,      # 系统异常
}
JAVA_SAFE = "*"  # with quote_plus's own "_.-~": Java leaves "~" encoded, handled below


def java_urlencode(text: str) -> str:
    """``java.net.URLEncoder.encode(text, "UTF-8")``, which SF's digest is defined over."""
    return urllib.parse.quote_plus(text, safe=JAVA_SAFE).replace("~", "%7E")


def msg_digest(msg_data: str, timestamp: str, checkword: str) -> str:
    signed = java_urlencode(msg_data + timestamp + checkword).encode("utf-8")
    return base64.b64encode(hashlib.md5(signed).digest()).decode("ascii")


class SfClient:
    platform = "sf"

    def __init__(self, endpoint: str, partner_id: str, checkword: str, monthly_account: str = "",
                 timeout_s: float = 10.0, *, express_type: int = 1):
        self.endpoint = endpoint
        self.partner_id = partner_id
        self._checkword = checkword
        self.monthly_account = monthly_account
        self.timeout_s = timeout_s
        self.express_type = express_type  # 1 = 顺丰特快; the account's contract says which it may use

    def __repr__(self):
        return f"SfClient({self.endpoint!r}, {self.partner_id!r})"

    # --- the two calls ---------------------------------------------------------------------

    def create_order(self, request: WaybillRequest, sender: Address) -> WaybillResult:
        """A waybill for one parcel; ``request.ref`` is sent as SF's orderId (客户订单号)."""
        message = {
            "language": "zh-CN",
            "orderId": request.ref,
            "monthlyCard": self.monthly_account,
            "payMethod": 1,
            "expressTypeId": self.express_type,
            "isReturnRoutelabel": 1,
            "isUnifiedWaybillNo": 1,
            "custReferenceNo": ",".join(request.trade_numbers)[:100],
            "cargoDetails": [{"name": name[:128], "count": qty} for name, qty in request.items]
            or [{"name": "商品"}],
            "contactInfoList": [_contact(1, sender), _contact(2, request.receiver)],
        }
        if request.weight_g:
            message["totalWeight"] = round(request.weight_g / 1000, 3)
        if not self.monthly_account:
            del message["monthlyCard"]
        data = self.call(CREATE, message)
        numbers = data.get("waybillNoInfoList")
        if not isinstance(numbers, list) or not numbers:
            raise BadAnswer(CREATE, "no_waybill", "the answer has no waybillNoInfoList")
        main = next((n for n in numbers if isinstance(n, dict) and n.get("waybillType") in (1, "1")), numbers[0])
        number = main.get("waybillNo") if isinstance(main, dict) else None
        if not isinstance(number, str) or not number:
            raise BadAnswer(CREATE, "no_waybill", "waybillNo missing or not a text")
        label = _route_label(data.get("routeLabelInfo"), number)
        return WaybillResult(ref=request.ref, number=number, sort_code=str(label.get("destRouteLabel") or ""),
                             print_data=json.dumps(label, ensure_ascii=False, separators=(",", ":")))

    def cancel(self, order_ref: str, number: str = "") -> str:
        """Cancel the order (and so its waybill): "sent", or "already" when SF has it cancelled."""
        message = {"orderId": order_ref, "dealType": CANCEL_DEAL, "language": "zh-CN"}
        if number:
            message["waybillNoInfoList"] = [{"waybillType": 1, "waybillNo": number}]
        try:
            self.call(UPDATE, message)
        except Refused as refused:
            if "已取消" in refused.message:
                return "already"  # 订单已取消 (SF publishes no code of its own for it): what we asked for is so
            raise
        return "sent"

    # --- the gateway -----------------------------------------------------------------------

    def call(self, service_code: str, message: dict) -> dict:
        """Sign and send ``message``; the business answer's ``msgData``, or a mapped error."""
        msg_data = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        timestamp = str(int(time.time() * 1000))
        fields = {"partnerID": self.partner_id, "requestID": uuid.uuid4().hex, "serviceCode": service_code,
                  "timestamp": timestamp, "msgDigest": msg_digest(msg_data, timestamp, self._checkword),
                  "msgData": msg_data}
        answer = self._post(service_code, fields)
        code = answer.get("apiResultCode")
        if code != OK:
            text = str(answer.get("apiErrorMsg") or "")
            raise GATEWAY_ERRORS.get(code, Refused)(service_code, str(code), text)
        result = answer.get("apiResultData")
        if isinstance(result, str):
            try:
                result = json.loads(result)
            except ValueError:
                raise BadAnswer(service_code, "not_json", "apiResultData is not JSON") from None
        if not isinstance(result, dict):
            raise BadAnswer(service_code, "missing_field", "no apiResultData")
        if result.get("success") not in (True, "true") or result.get("errorCode") not in (BUSINESS_OK, None):
            raise Refused(service_code, str(result.get("errorCode") or "refused"), str(result.get("errorMsg") or ""))
        data = result.get("msgData")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise BadAnswer(service_code, "not_json", "msgData is not JSON") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise BadAnswer(service_code, "wrong_type", "msgData is not an object")
        return data

    def _post(self, service_code: str, fields: dict) -> dict:
        return http.post_form(self.endpoint, fields, call=service_code, timeout_s=self.timeout_s)


def _contact(kind: int, party: Address) -> dict:
    contact = {"contactType": kind, "contact": party.name, "mobile": party.phone, "country": "CN",
               "province": party.province, "city": party.city, "county": party.district, "address": party.detail}
    return {key: value for key, value in contact.items() if value not in ("", None)}


def _route_label(info, number: str) -> dict:
    """The route label (丰密面单 data) of ``number``; {} when SF sent none (a few accounts)."""
    for entry in info if isinstance(info, list) else ():
        data = entry.get("routeLabelData") if isinstance(entry, dict) else None
        if isinstance(data, dict) and data.get("waybillNo") in (number, None, ""):
            return data
    return {}
