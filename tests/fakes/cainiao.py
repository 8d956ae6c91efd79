"""Cainiao's electronic waybill methods (菜鸟电子面单) on a FakeTop: the gateway signs and checks
as TOP does, these handlers hand out numbers and take them back.

    top = FakeTop().start()
    cainiao = FakeCainiao(top)               # adds cainiao.waybill.ii.get / .cancel to top.handlers
    cainiao.refuse_receivers.add("李四")      # Cainiao refuses a request with this recipient

A trade order asked again (same cp_code and trade_order_list) gets its first number back while
it is not cancelled, as Cainiao does; a number is never handed out twice.
"""
from __future__ import annotations

import itertools
import json

from .top import FakeTop

GET = "cainiao.waybill.ii.get"
CANCEL = "cainiao.waybill.ii.cancel"
BATCH = 10
NUMBER_SHAPES = {"ZTO": "7{:013d}", "YTO": "YT{:013d}", "STO": "77{:012d}", "YUNDA": "43{:011d}",
                 "SF": "SF{:013d}", "EMS": "11{:011d}", "JD": "JDV{:012d}", "DBKD": "DPK{:012d}"}


class FakeCainiao:
    def __init__(self, top: FakeTop, first: int = 1):
        self.top = top
        self.issued: dict[str, dict] = {}                  # number -> the request it answered, and state
        self.by_trade: dict[tuple, str] = {}               # (cp_code, trade orders) -> live number
        self.refuse_receivers: set[str] = set()
        self.requests: list[dict] = []                     # every apply request, as sent
        self._sequence = itertools.count(first)
        top.handlers[GET] = self._get
        top.handlers[CANCEL] = self._cancel

    def numbers(self, state: str = "issued") -> list[str]:
        return [number for number, entry in self.issued.items() if entry["state"] == state]

    # -- handlers (called under the fake's lock) -------------------------------------------
    def _get(self, params: dict) -> dict:
        try:
            request = json.loads(params["param_waybill_cloud_print_apply_new_request"])
        except (KeyError, ValueError):
            return self._refuse("isv.missing-parameter", "param_waybill_cloud_print_apply_new_request 缺失或不是JSON")
        self.requests.append(request)
        cp_code = request.get("cp_code", "")
        dtos = request.get("trade_order_info_dtos") or []
        if cp_code not in NUMBER_SHAPES:
            return self._refuse("isv.cp-code-invalid", f"未开通的物流公司: {cp_code}")
        if not 1 <= len(dtos) <= BATCH:
            return self._refuse("isv.invalid-parameter", f"trade_order_info_dtos 数量须为1-{BATCH}")
        sender = request.get("sender") or {}
        if not (sender.get("address") or {}).get("province"):
            return self._refuse("isv.waybill-sender-address-invalid", "发货地址不完整")
        for dto in dtos:
            recipient = dto.get("recipient") or {}
            if recipient.get("name") in self.refuse_receivers:
                return self._refuse("isv.waybill-address-unreachable", f"收件地址不可达: {recipient.get('name')}")
            if not dto.get("object_id") or not (dto.get("order_info") or {}).get("trade_order_list"):
                return self._refuse("isv.invalid-parameter", "object_id 和 trade_order_list 必填")
        modules = [self._issue(cp_code, dto) for dto in dtos]
        return {"cainiao_waybill_ii_get_response": {"modules": {"waybill_cloud_print_response": modules},
                                                    "request_id": "fake"}}

    def _issue(self, cp_code: str, dto: dict) -> dict:
        key = (cp_code, tuple(dto["order_info"]["trade_order_list"]))
        number = self.by_trade.get(key)
        if number is None:
            number = NUMBER_SHAPES[cp_code].format(next(self._sequence))
            self.by_trade[key] = number
            self.issued[number] = {"cp_code": cp_code, "object_id": dto["object_id"], "state": "issued",
                                   "trade_order_list": list(key[1])}
        address = (dto.get("recipient") or {}).get("address") or {}
        city = address.get("city", "")
        print_data = {"data": {"waybillCode": number, "cpCode": cp_code,
                               "routingInfo": {"sortation": {"name": f"{city[:2]} {address.get('district', '')[:2]}"},
                                               "routeCode": "300-A01-01"},
                               "recipient": dto.get("recipient")},
                      "signature": "fake-signature", "templateURL": dto.get("template_url", "")}
        return {"object_id": dto["object_id"], "waybill_code": number, "cp_code": cp_code,
                "print_data": json.dumps(print_data, ensure_ascii=False)}

    def _cancel(self, params: dict) -> dict:
        entry = self.issued.get(params.get("waybill_code", ""))
        if entry is None or entry["cp_code"] != params.get("cp_code"):
            return self._refuse("isv.waybill-not-exist", "面单号不存在")
        if entry["state"] == "cancelled":
            return self._refuse("isv.waybill-cancelled", "面单已取消")
        entry["state"] = "cancelled"
        self.by_trade.pop((entry["cp_code"], tuple(entry["trade_order_list"])), None)
        return {"cainiao_waybill_ii_cancel_response": {"cancel_result": True}}

    @staticmethod
    def _refuse(sub_code: str, sub_msg: str) -> dict:
        return {"error_response": {"code": 15, "msg": "Remote service error", "sub_code": sub_code,
                                   "sub_msg": sub_msg}}
