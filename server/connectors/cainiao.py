"""Cainiao electronic waybills (菜鸟电子面单) through a Taobao shop's TOP session: the cloud-print
number request (cainiao.waybill.ii.get, 电子面单云打印取号) and its cancellation
(cainiao.waybill.ii.cancel).

A request asks for at most ten parcels (``trade_order_info_dtos``), each named by our
``object_id`` (the order id), which comes back on its answer, so answers are matched by id and
never by position. The answer's ``print_data`` is the cloud-print document as Cainiao sends it
(a JSON text: ``data`` when asked unencrypted, with ``routingInfo``: the sort code printed big,
大头笔 ``sortation.name`` and 三段码 ``routeCode``); it is kept as it came.

The TOP client signs, sends and sorts errors (server/connectors/top.py); this module only
builds the request and reads the answer.
"""
from __future__ import annotations

import json

from server.connectors.errors import BadAnswer, Refused
from server.connectors.waybill_numbers import Address, WaybillRequest, WaybillResult

GET = "cainiao.waybill.ii.get"
CANCEL = "cainiao.waybill.ii.cancel"
BATCH = 10   # trade_order_info_dtos a request may carry
# our carrier code -> Cainiao's cp_code
CP_CODES = {"SF": "SF", "ZTO": "ZTO", "YTO": "YTO", "STO": "STO", "YUNDA": "YUNDA", "EMS": "EMS",
            "JD": "JD", "DEPPON": "DBKD"}
# our channel -> Cainiao's order_channels_type (an order of another channel is OTHERS)
ORDER_CHANNELS = {"tmall": "TM", "top": "TB", "taobao": "TB", "jd": "JD", "douyin": "DYXD", "pdd": "PDD"}


def cp_code(carrier_code: str) -> str:
    return CP_CODES.get(carrier_code.upper(), carrier_code.upper())


def waybill_get(client, requests: list[WaybillRequest], *, carrier: str, sender: Address,
                template_url: str, user_id: str = "") -> list[WaybillResult]:
    """One number for each request (at most BATCH), in the order asked. A request the answer
    leaves out comes back with ``error`` set; a refused call raises (errors.py)."""
    if not requests or len(requests) > BATCH:
        raise ValueError(f"{GET} takes 1 to {BATCH} parcels, not {len(requests)}")
    dtos = [_trade_order(request, template_url, user_id) for request in requests]
    body = client.call(GET, {"param_waybill_cloud_print_apply_new_request": _json({
        "cp_code": cp_code(carrier), "sender": _user(sender), "trade_order_info_dtos": dtos,
        "need_encrypt": False})})
    modules = body.get("modules")
    if isinstance(modules, dict):          # TOP's JSON wraps a list in its element's name
        modules = modules.get("waybill_cloud_print_response")
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise BadAnswer(GET, "missing", "answer has no modules.waybill_cloud_print_response list")
    by_ref = {str(module.get("object_id", "")): module for module in modules}
    results = []
    for request in requests:
        module = by_ref.get(request.ref)
        if module is None:
            results.append(WaybillResult(ref=request.ref, error="Cainiao's answer has no waybill for this parcel"))
            continue
        number = module.get("waybill_code")
        if not isinstance(number, str) or not number:
            raise BadAnswer(GET, "type", f"waybill_code of object {request.ref} is missing or not a text")
        print_data = module.get("print_data") or ""
        if not isinstance(print_data, str):
            print_data = _json(print_data)
        results.append(WaybillResult(ref=request.ref, number=number, sort_code=sort_code(print_data),
                                     print_data=print_data))
    return results


def waybill_cancel(client, carrier: str, number: str) -> str:
    """Give a number back: "sent", or "already" when Cainiao says it is cancelled already."""
    try:
        body = client.call(CANCEL, {"cp_code": cp_code(carrier), "waybill_code": number})
    except Refused as refused:
        if "已取消" in refused.message or "cancelled" in refused.message.lower():
            return "already"
        raise
    if body.get("cancel_result") not in (True, "true"):
        raise Refused(CANCEL, "cancel_result", f"Cainiao did not cancel waybill {number}")
    return "sent"


def sort_code(print_data: str) -> str:
    """The sort code a label prints big: 大头笔 (``routingInfo.sortation.name``), else the
    三段码 (``routingInfo.routeCode``); '' for encrypted print data, which only Cainiao's print
    component can read."""
    try:
        document = json.loads(print_data) if print_data else {}
    except ValueError:
        return ""
    data = document.get("data") if isinstance(document, dict) else None
    routing = data.get("routingInfo") if isinstance(data, dict) else None
    if not isinstance(routing, dict):
        return ""
    sortation = routing.get("sortation")
    if isinstance(sortation, dict) and sortation.get("name"):
        return str(sortation["name"])
    return str(routing.get("routeCode") or "")


def _trade_order(request: WaybillRequest, template_url: str, user_id: str) -> dict:
    dto = {
        "object_id": request.ref,
        "order_info": {"order_channels_type": ORDER_CHANNELS.get(request.channel, "OTHERS"),
                       "trade_order_list": list(request.trade_numbers) or [request.ref]},
        "package_info": {"id": request.ref,
                         "items": [{"name": name[:60], "count": qty} for name, qty in request.items]
                         or [{"name": "商品", "count": 1}]},
        "recipient": _user(request.receiver),
        "template_url": template_url,
    }
    if request.weight_g:
        dto["package_info"]["weight"] = request.weight_g
    if user_id:
        dto["user_id"] = user_id
    return dto


def _user(party: Address) -> dict:
    user = {"name": party.name, "mobile": party.phone,
            "address": {"province": party.province, "city": party.city, "district": party.district,
                        "detail": party.detail}}
    return user


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
