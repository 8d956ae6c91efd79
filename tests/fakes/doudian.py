"""A fake 抖店 gateway: ``/<method with dots as slashes>`` with the system parameters in the
query and ``param_json`` as the body; one shop's orders, after-sales, stock and shipments.

    fake = FakeDoudian("key", "secret", "token").start()
    ids = fake.add_orders(50, start, end)
    fake.shipped[order_id]     # accepted logisticsAdd calls; a second one is refused "已发货"
"""
from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections import Counter
from datetime import datetime, timezone

from .platform import FakePlatform, SortedStore
from .top import CATALOG, PLACES

FIRST_ORDER = 6_930_000_000_100_000_000
SHIPPED_STATUS = 3
BREAKABLE = {"order.searchList": "total", "afterSale.List": "total"}


def doudian_sign(app_key: str, secret: str, method: str, body: str, timestamp: str, sign_method: str) -> str:
    text = secret + "app_key" + app_key + "method" + method + "param_json" + body + "timestamp" + timestamp \
        + "v" + "2" + secret
    if sign_method == "hmac-sha256":
        return hmac.new(secret.encode(), text.encode(), "sha256").hexdigest()
    return hashlib.md5(text.encode()).hexdigest()


def now_unix() -> int:
    return int(datetime.now(timezone.utc).timestamp())


class FakeDoudian(FakePlatform):
    name = "doudian"
    path = ""

    def __init__(self, app_key: str = "dd-app-key", secret: str = "dd-secret", session: str = "dd-token",
                 shop_id: int = 4463798):
        super().__init__(app_key, secret, session)
        self.shop_id = shop_id
        self.orders = SortedStore("update_time")
        self.after_sales = SortedStore("update_time")
        self.shipped: Counter = Counter()
        self.consigned = self.shipped
        self.stock: dict[tuple[str, str], int] = {}   # (product_id, sku_id) -> stock_num
        self._next_id = FIRST_ORDER
        self.handlers.update({
            "order.searchList": self._search_list,
            "afterSale.List": self._after_sale_list,
            "order.logisticsAdd": self._logistics_add,
            "sku.syncStock": self._sync_stock,
        })

    def add_orders(self, n: int, start: datetime, end: datetime, seed: int = 0, status: int = 2) -> list[str]:
        rng = random.Random(seed)
        first, span = int(start.timestamp()), max(int((end - start).total_seconds()), 1)
        made = []
        with self.lock:
            for _ in range(n):
                updated = first + rng.randrange(span)
                order_id = str(self._next_id)
                self._next_id += 1
                skus = []
                for n_sku, (sku, product_id, sku_id, title, price) in enumerate(
                        rng.sample(CATALOG, rng.randint(1, 3))):
                    num, fen = rng.randint(1, 2), int(round(float(price) * 100))
                    skus.append({"order_id": f"{order_id}{n_sku}", "parent_order_id": order_id,
                                 "product_id": product_id, "sku_id": sku_id, "out_sku_id": sku,
                                 "product_name": title, "item_num": num, "goods_price": fen,
                                 "origin_amount": fen * num, "pay_amount": fen * num,
                                 "after_sale_info": {"after_sale_status": 0}})
                province, city, town, street, detail, _ = rng.choice(PLACES)
                self.orders.put(order_id, {
                    "order_id": order_id, "shop_id": self.shop_id, "order_status": status,
                    "order_status_desc": "备货中", "create_time": updated - 300, "pay_time": updated - 240,
                    "update_time": updated, "pay_amount": sum(s["pay_amount"] for s in skus), "post_amount": 0,
                    "promotion_amount": 0, "encrypt_post_receiver": "#Zm9v#AAAAAQ==#1##",
                    "encrypt_post_tel": "$$MTM4$$AAAAAQ==$1$$",
                    "post_addr": {"province": {"name": province}, "city": {"name": city}, "town": {"name": town},
                                  "street": {"name": street}, "detail": detail},
                    "sku_order_list": skus})
                made.append(order_id)
        return made

    def add_after_sale(self, order_id: str, *, aftersale_id: str | None = None, status: int = 6,
                       updated: int | None = None) -> str:
        with self.lock:
            order = self.orders.records[order_id]
            sku = order["sku_order_list"][0]
            aftersale_id = aftersale_id or str(7_000_000_000_000 + len(self.after_sales.records) + 1)
            moment = updated or now_unix()
            self.after_sales.put(aftersale_id, {
                "update_time": moment,
                "aftersale_info": {"aftersale_id": aftersale_id, "aftersale_status": status, "aftersale_type": 2,
                                   "refund_amount": sku["pay_amount"], "reason": "不想要了",
                                   "apply_time": moment, "update_time": moment, "related_id": sku["order_id"]},
                "order_info": {"shop_order_id": order_id, "shop_id": self.shop_id, "related_order_info": [
                    {"sku_order_id": sku["order_id"], "shop_sku_code": sku["out_sku_id"],
                     "aftersale_item_num": sku["item_num"]}]}})
        return aftersale_id

    # -- the wire -------------------------------------------------------------------------
    def read_call(self, path, query, body, content_type):
        method = query.get("method") or path.strip("/").replace("/", ".")
        text = body.decode("utf-8") if body else query.get("param_json", "{}")
        try:
            params = json.loads(text or "{}")
        except ValueError:
            raise ValueError("param_json is not JSON") from None
        if path.strip("/").replace("/", ".") != method:
            raise ValueError("the path does not name the method")
        return method, params, {"app_key": query.get("app_key"), "session": query.get("access_token"),
                                "query": query, "param_json": text}

    def sign_ok(self, credentials):
        query = credentials["query"]
        sign_method = query.get("sign_method", "md5")
        if sign_method not in ("md5", "hmac-sha256") or query.get("v") != "2":
            return False
        expected = doudian_sign(query.get("app_key", ""), self.secret, query.get("method", ""),
                                credentials["param_json"], query.get("timestamp", ""), sign_method)
        return hmac.compare_digest(query.get("sign", ""), expected)

    def error_body(self, kind, method, text):
        codes = {"rate_limit": (70000, "请求过于频繁", "isv.api-call-limited", "接口调用频率超限，请稍后重试"),
                 "session": (30002, "access_token已过期", "isv.access-token-expired", "access_token已过期"),
                 "refused": (50002, "业务处理失败", "isv.business-failed", "参数错误"),
                 "sign": (40001, "签名错误", "isv.sign-invalid", "sign校验失败"),
                 "app_key": (40002, "app_key无效", "isv.app-key-invalid", "app_key无效"),
                 "no_method": (40003, "方法不存在", "isv.method-not-exist", text),
                 "bad_request": (40004, "参数错误", "isv.parameter-invalid", text)}
        code, msg, sub_code, sub_msg = codes[kind]
        return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg, "log_id": "fake", "data": {}}

    def break_answer(self, method, body, kind):
        key = BREAKABLE.get(method)
        if key is None:  # an answer with no data to speak of: break its code
            if kind == "missing_field":
                del body["code"]
            else:
                body["code"] = []
            return body
        if kind == "missing_field":
            del body["data"][key]
        else:
            body["data"][key] = []
        return body

    @staticmethod
    def _ok(data: dict) -> dict:
        return {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "log_id": "fake", "data": data}

    # -- the methods ----------------------------------------------------------------------
    def _search_list(self, params):
        page, size = int(params.get("page", 0)), int(params.get("size", 20))
        total, orders = self.orders.window(int(params.get("update_time_start", 0)),
                                           int(params.get("update_time_end", 0)), page + 1, size)
        return self._ok({"page": page, "size": size, "total": total, "shop_order_list": orders})

    def _after_sale_list(self, params):
        page, size = int(params.get("page", 0)), int(params.get("size", 20))
        total, items = self.after_sales.window(int(params.get("update_start_time", 0)),
                                               int(params.get("update_end_time", 0)), page + 1, size)
        items = [{k: v for k, v in item.items() if k != "update_time"} for item in items]
        return self._ok({"page": page, "size": size, "total": total, "has_more": (page + 1) * size < total,
                         "items": items})

    def _logistics_add(self, params):
        order_id = str(params.get("order_id", ""))
        if order_id not in self.orders.records:
            return dict(self.error_body("refused", "order.logisticsAdd", ""), sub_msg="订单不存在")
        if self.shipped[order_id]:
            return dict(self.error_body("refused", "order.logisticsAdd", ""), sub_msg="订单已发货，不能重复发货")
        self.shipped[order_id] += 1
        self.orders.put(order_id, dict(self.orders.records[order_id], order_status=SHIPPED_STATUS,
                                       order_status_desc="已发货", update_time=now_unix()))
        return self._ok({})

    def _sync_stock(self, params):
        key = (str(params.get("product_id", "")), str(params.get("sku_id", "")))
        qty = int(params.get("stock_num", 0))
        self.stock[key] = qty if not params.get("incremental") else self.stock.get(key, 0) + qty
        return self._ok({})
