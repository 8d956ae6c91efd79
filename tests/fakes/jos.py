"""A fake JD JOS gateway (``/routerjson``) holding one seller's POP orders, after-sale services,
SKU stock and shipments: the same four operations as FakeTop, smaller.

    fake = FakeJos("key", "secret", "token").start()
    ids = fake.add_orders(50, start, end)
    fake.shipped[order_id]     # accepted shipments; a second one answers "已出库" (success false)
"""
from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

from .platform import FakePlatform, SortedStore
from .top import CATALOG, PLACES, beijing

FIRST_ORDER = 290_000_100_000
SHIPPED_STATE = "WAIT_GOODS_RECEIVE_CONFIRM"
# method -> (object holding the field, the field the client relies on)
BREAKABLE = {"jingdong.pop.order.search": ("searchorderinfo_result", "orderTotal"),
             "jingdong.asc.sync.list": ("pageResult", "totalCount"),
             "jingdong.pop.order.shipment": ("sopjosshipment_result", "success"),
             "jingdong.stock.write.updateSkuStock": (None, "success")}


def jos_sign(fields: dict, secret: str) -> str:
    text = "".join(k + v for k, v in sorted(fields.items()) if k != "sign" and v != "")
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()


class FakeJos(FakePlatform):
    name = "jos"
    path = "/routerjson"

    def __init__(self, app_key: str = "jd-app-key", secret: str = "jd-secret", session: str = "jd-token",
                 vender_id: str = "10086"):
        super().__init__(app_key, secret, session)
        self.vender_id = vender_id
        self.orders = SortedStore("modified")
        self.services = SortedStore("updateTime")
        self.shipped: Counter = Counter()
        self.consigned = self.shipped
        self.stock: dict[str, int] = {}        # skuId -> stockNum
        self._next_id = FIRST_ORDER
        self.handlers.update({
            "jingdong.pop.order.search": self._order_search,
            "jingdong.asc.sync.list": self._asc_sync_list,
            "jingdong.pop.order.shipment": self._shipment,
            "jingdong.stock.write.updateSkuStock": self._update_stock,
        })

    def add_orders(self, n: int, start: datetime, end: datetime, seed: int = 0,
                   state: str = "WAIT_SELLER_STOCK_OUT") -> list[str]:
        rng = random.Random(seed)
        span = max(int((end - start).total_seconds()), 1)
        made = []
        with self.lock:
            for _ in range(n):
                modified = start + timedelta(seconds=rng.randrange(span))
                order_id = str(self._next_id)
                self._next_id += 1
                items = [{"skuId": sku_id, "outerSkuId": sku, "wareId": num_iid, "skuName": title,
                          "jdPrice": price, "itemTotal": str(rng.randint(1, 2))}
                         for sku, num_iid, sku_id, title, price in rng.sample(CATALOG, rng.randint(1, 3))]
                payment = sum(float(item["jdPrice"]) * int(item["itemTotal"]) for item in items)
                province, city, county, town, street, zip_code = rng.choice(PLACES)
                self.orders.put(order_id, {
                    "orderId": order_id, "venderId": self.vender_id, "orderState": state, "pin": f"jd_{order_id[-4:]}",
                    "orderPayment": f"{payment:.2f}", "freightPrice": "0.00", "sellerDiscount": "0.00",
                    "orderStartTime": beijing(modified - timedelta(minutes=5)),
                    "paymentConfirmTime": beijing(modified - timedelta(minutes=4)), "modified": beijing(modified),
                    "consigneeInfo": {"fullname": "王*", "mobile": "138****0000", "province": province,
                                      "city": city, "county": county, "town": town,
                                      "fullAddress": f"{province}{city}{county}{street}", "postCode": zip_code},
                    "itemInfoList": items})
                made.append(order_id)
        return made

    def add_service(self, order_id: str, *, service_id: str | None = None, status: int = 10001,
                    updated: datetime | None = None) -> str:
        with self.lock:
            order = self.orders.records[order_id]
            item = order["itemInfoList"][0]
            service_id = service_id or str(800_000_000 + len(self.services.records) + 1)
            moment = beijing(updated or datetime.now(timezone.utc))
            self.services.put(service_id, {
                "serviceId": service_id, "orderId": order_id, "skuId": item["skuId"], "outerSkuId": item["outerSkuId"],
                "serviceCount": 1, "serviceStatus": status, "customerExpect": 10, "refundAmount": item["jdPrice"],
                "applyTime": moment, "updateTime": moment, "venderId": self.vender_id})
        return service_id

    # -- the wire -------------------------------------------------------------------------
    def read_call(self, path, query, body, content_type):
        fields = dict(query)
        fields.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        method = fields.get("method")
        if not method:
            raise ValueError("method missing")
        try:
            params = json.loads(fields.get("360buy_param_json") or "{}")
        except ValueError:
            raise ValueError("360buy_param_json is not JSON") from None
        return method, params, {"app_key": fields.get("app_key"), "session": fields.get("access_token"),
                                "fields": fields}

    def sign_ok(self, credentials):
        fields = credentials["fields"]
        return hmac.compare_digest(fields.get("sign", ""), jos_sign(fields, self.secret))

    def error_body(self, kind, method, text):
        codes = {"rate_limit": ("36", "调用次数超过限制(限流)", "call limit exceeded"),
                 "session": ("19", "access_token已过期或无效", "Invalid access_token"),
                 "refused": ("65", "业务参数错误", "business parameter error"),
                 "sign": ("14", "签名无效", "Invalid signature"),
                 "app_key": ("12", "无效的app_key", "Invalid app_key"),
                 "no_method": ("22", "无效的方法", text),
                 "bad_request": ("21", "参数错误", text)}
        code, zh, en = codes[kind]
        return {"error_response": {"code": code, "zh_desc": zh, "en_desc": en}}

    def break_answer(self, method, body, kind):
        inner = body[method.replace(".", "_") + "_responce"]
        holder, key = BREAKABLE[method]
        target = inner[holder] if holder else inner
        if kind == "missing_field":
            del target[key]
        else:
            target[key] = []
        return body

    @staticmethod
    def _wrap(method: str, inner: dict) -> dict:
        return {method.replace(".", "_") + "_responce": dict({"code": "0"}, **inner)}

    # -- the methods ----------------------------------------------------------------------
    def _order_search(self, params):
        total, orders = self.orders.window(params.get("start_date", ""), params.get("end_date", ""),
                                           int(params.get("page", 1)), int(params.get("page_size", 20)))
        return self._wrap("jingdong.pop.order.search", {"searchorderinfo_result": {
            "apiResult": {"success": True, "resultCode": "", "chineseErrCode": "成功"},
            "orderTotal": total, "orderInfoList": orders}})

    def _asc_sync_list(self, params):
        total, services = self.services.window(params.get("updateTimeBegin", ""), params.get("updateTimeEnd", ""),
                                               int(params.get("pageNumber", 1)), int(params.get("pageSize", 20)))
        return self._wrap("jingdong.asc.sync.list", {"pageResult": {
            "totalCount": total, "pageNumber": int(params.get("pageNumber", 1)), "data": services}})

    def _shipment(self, params):
        order_id = str(params.get("orderId", ""))
        if order_id not in self.orders.records:
            result = {"success": False, "errorCode": "10400002", "chineseErrCode": "订单不存在"}
        elif self.shipped[order_id]:
            result = {"success": False, "errorCode": "10400001", "chineseErrCode": "订单已出库"}
        else:
            self.shipped[order_id] += 1
            order = dict(self.orders.records[order_id], orderState=SHIPPED_STATE,
                         modified=beijing(datetime.now(timezone.utc)))
            self.orders.put(order_id, order)
            result = {"success": True, "errorCode": "", "chineseErrCode": "成功"}
        return self._wrap("jingdong.pop.order.shipment", {"sopjosshipment_result": result})

    def _update_stock(self, params):
        self.stock[str(params.get("skuId"))] = int(params.get("stockNum", 0))
        return self._wrap("jingdong.stock.write.updateSkuStock", {"success": True})
