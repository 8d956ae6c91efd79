"""A fake TOP gateway (淘宝开放平台) holding one seller's trades, refunds, stock and traces.

    fake = FakeTop("key", "secret", "session").start()
    tids = fake.add_trades(20_000, start, end, seed=1)   # modified times spread over [start, end)
    fake.on_call(lambda method, params: fake.modify(tids[0]))   # a trade changes mid-pull
    fake.storm(True) ... fake.storm(False)                      # flow control, then calm
    fake.consigned[tid]     # ship confirmations accepted (a second one answers B04, as TOP does)

Trades are kept in order of modification (a sorted list of (modified, tid) searched with
bisect), so a day's window of a 20,000-trade store is answered without scanning it. Both ends of
a window are included, as TOP's start_modified / end_modified are.
"""
from __future__ import annotations

import hashlib
import hmac
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from .platform import FakePlatform, SortedStore

BEIJING = ZoneInfo("Asia/Shanghai")
FIRST_TID = 3_900_000_001_000_000_000
# (outer_sku_id, num_iid, sku_id, title, price)
CATALOG = (("TS-01-L", "600000001", "500000011", "纯棉短袖T恤 黑色 L", "59.00"),
           ("TS-01-M", "600000001", "500000012", "纯棉短袖T恤 黑色 M", "59.00"),
           ("JK-01-M", "600000002", "500000021", "防风夹克 藏青 M", "199.00"),
           ("MG-01-350ML", "600000003", "500000031", "陶瓷马克杯 米白", "39.00"),
           ("LP-01-3.5g", "600000004", "500000041", "保湿唇膏 无色", "35.00"),
           ("PB-01-标准版", "600000005", "500000051", "充电宝20000mAh 标准版", "129.00"))
PLACES = (("北京", "北京市", "东城区", "东华门街道", "东华门大街1号", "100010"),
          ("广东省", "深圳市", "南山区", "粤海街道", "科技园路1号", "518057"),
          ("浙江省", "杭州市", "西湖区", "西溪街道", "文三路90号", "310012"),
          ("上海", "上海市", "浦东新区", "陆家嘴街道", "世纪大道100号", "200120"))
RECEIVER_FIELDS = ("receiver_name", "receiver_mobile", "receiver_phone", "receiver_state", "receiver_city",
                   "receiver_district", "receiver_town", "receiver_address", "receiver_zip")
SYSTEM = frozenset({"method", "app_key", "session", "timestamp", "format", "v", "sign_method", "sign",
                    "partner_id", "target_app_key", "simplify"})


def beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def top_sign(params: dict, secret: str, method: str) -> str:
    text = "".join(k + v for k, v in sorted(params.items()) if k != "sign" and v != "")
    if method == "hmac":
        return hmac.new(secret.encode(), text.encode(), "md5").hexdigest().upper()
    if method == "hmac-sha256":
        return hmac.new(secret.encode(), text.encode(), "sha256").hexdigest().upper()
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()


class FakeTop(FakePlatform):
    name = "top"
    path = "/router/rest"

    def __init__(self, app_key: str = "12345678", secret: str = "top-secret", session: str = "top-session",
                 seller_nick: str = "示例旗舰店"):
        super().__init__(app_key, secret, session)
        self.seller_nick = seller_nick
        self.trades = SortedStore()
        self.refunds = SortedStore()
        self.consigned: Counter = Counter()
        self.shipments: dict[str, tuple[str, str]] = {}   # tid -> (company_code, out_sid)
        self.stock: dict[tuple[str, str], int] = {}        # (num_iid, sku_id) -> quantity
        self.traces: dict[str, list[dict]] = {}            # tid -> transit_step_info[]
        self.receivers_in_search = True   # False: the search leaves the address to fullinfo.get
        self.max_window = timedelta(days=1)
        self._next_tid = FIRST_TID
        self.handlers.update({
            "taobao.trades.sold.increment.get": self._increment_get,
            "taobao.trade.fullinfo.get": self._fullinfo_get,
            "taobao.refunds.receive.get": self._refunds_get,
            "taobao.logistics.offline.send": lambda params: self._send(params, "offline"),
            "taobao.logistics.online.send": lambda params: self._send(params, "online"),
            "taobao.item.quantity.update": self._quantity_update,
            "taobao.logistics.trace.search": self._trace_search,
        })

    # -- the store ------------------------------------------------------------------------
    def add_trades(self, n: int, start: datetime, end: datetime, seed: int = 0,
                   status: str = "WAIT_SELLER_SEND_GOODS") -> list[str]:
        """``n`` paid trades modified at random moments of [start, end); their tids in order made."""
        rng = random.Random(seed)
        span = max(int((end - start).total_seconds()), 1)
        made = []
        with self.lock:
            for _ in range(n):
                modified = start + timedelta(seconds=rng.randrange(span))
                made.append(self.add_trade(self.make_trade(rng, modified, status)))
        return made

    def make_trade(self, rng: random.Random, modified: datetime, status: str) -> dict:
        tid = self._next_tid
        self._next_tid += 1
        created = modified - timedelta(minutes=rng.randrange(1, 600))
        lines = []
        for n, (sku, num_iid, sku_id, title, price) in enumerate(rng.sample(CATALOG, rng.randint(1, 3))):
            num = rng.randint(1, 3)
            total = f"{float(price) * num:.2f}"
            lines.append({"oid": tid * 10 + n, "oid_str": str(tid * 10 + n), "num_iid": int(num_iid),
                          "sku_id": sku_id, "outer_sku_id": sku, "outer_iid": sku.rsplit("-", 1)[0],
                          "title": title, "num": num, "price": price, "total_fee": total, "payment": total,
                          "refund_status": "NO_REFUND", "status": status})
        state, city, district, town, address, zip_code = rng.choice(PLACES)
        payment = f"{sum(float(line['payment']) for line in lines):.2f}"
        return {"tid": tid, "tid_str": str(tid), "status": status, "type": "fixed",
                "seller_nick": self.seller_nick, "buyer_nick": f"b**{tid % 1000}",
                "created": beijing(created), "pay_time": beijing(created + timedelta(seconds=30)),
                "modified": beijing(modified), "total_fee": payment, "post_fee": "0.00",
                "discount_fee": "0.00", "coupon_fee": "0.00", "payment": payment,
                "receiver_name": "张*", "receiver_mobile": f"138****{tid % 10000:04d}", "receiver_phone": "",
                "receiver_state": state, "receiver_city": city, "receiver_district": district,
                "receiver_town": town, "receiver_address": address, "receiver_zip": zip_code,
                "orders": {"order": lines}}

    def add_trade(self, trade: dict) -> str:
        tid = str(trade["tid"])
        with self.lock:
            self.trades.put(tid, trade)
        return tid

    def trade(self, tid) -> dict:
        return self.trades.records[str(tid)]

    def modify(self, tid, at: datetime | None = None, **changes) -> None:
        """The trade changed at ``at`` (now by default): it moves to the end of the modified order."""
        with self.lock:
            trade = dict(self.trade(tid), **changes)
            trade["modified"] = beijing(at or datetime.now(timezone.utc))
            self.trades.put(str(tid), trade)

    def add_refund(self, tid, *, refund_id: str | None = None, status: str = "WAIT_SELLER_AGREE",
                   modified: datetime | None = None, fee: str | None = None) -> str:
        with self.lock:
            trade = self.trade(tid)
            line = trade["orders"]["order"][0]
            refund_id = refund_id or f"7{len(self.refunds.records) + 1:016d}"
            self.refunds.put(refund_id, {
                "refund_id": refund_id, "tid": trade["tid"], "oid": line["oid"], "title": line["title"],
                "outer_id": line["outer_sku_id"], "num": line["num"], "refund_fee": fee or line["payment"],
                "total_fee": line["total_fee"], "status": status, "reason": "不想要了", "has_good_return": False,
                "created": beijing(modified or datetime.now(timezone.utc)),
                "modified": beijing(modified or datetime.now(timezone.utc)), "seller_nick": self.seller_nick})
        return refund_id

    # -- the wire -------------------------------------------------------------------------
    def read_call(self, path, query, body, content_type):
        fields = dict(query)
        fields.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        method = fields.get("method")
        if not method:
            raise ValueError("Missing method")
        params = {k: v for k, v in fields.items() if k not in SYSTEM}
        return method, params, {"app_key": fields.get("app_key"), "session": fields.get("session"),
                                "fields": fields}

    def sign_ok(self, credentials):
        fields = credentials["fields"]
        method = fields.get("sign_method", "md5")
        if method not in ("md5", "hmac", "hmac-sha256"):
            return False
        return hmac.compare_digest(fields.get("sign", ""), top_sign(fields, self.secret, method))

    def error_body(self, kind, method, text):
        codes = {
            "rate_limit": (7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                           f"This ban will last for {self.storm_wait_s} more seconds"),
            "session": (27, "Invalid session", "invalid-sessionkey", "SessionKey非法"),
            "refused": (15, "Remote service error", "isv.invalid-parameter", "非法参数"),
            "sign": (25, "Invalid signature", "", ""),
            "app_key": (29, "Invalid app Key", "", ""),
            "no_method": (22, "Invalid method", "", text),
            "bad_request": (21, "Missing method", "", text),
        }
        code, msg, sub_code, sub_msg = codes[kind]
        body = {"code": code, "msg": msg, "request_id": "fake"}
        if sub_code:
            body.update(sub_code=sub_code, sub_msg=sub_msg)
        return {"error_response": body}

    def break_answer(self, method, body, kind):
        inner = next(iter(body.values()))
        key = "total_results" if "total_results" in inner else next(iter(inner))
        if kind == "missing_field":
            del inner[key]
        else:
            inner[key] = "many" if isinstance(inner[key], int) else 12345
        return body

    @staticmethod
    def _refuse(sub_code: str, sub_msg: str) -> dict:
        return {"error_response": {"code": 15, "msg": "Remote service error", "sub_code": sub_code,
                                   "sub_msg": sub_msg}}

    def _window(self, params: dict) -> tuple[str, str, int, int] | dict:
        start, end = params.get("start_modified", ""), params.get("end_modified", "")
        try:
            first = datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
            last = datetime.strptime(end, "%Y-%m-%d %H:%M:%S")
            page_no, page_size = int(params.get("page_no", 1)), int(params.get("page_size", 40))
        except ValueError:
            return self._refuse("isv.invalid-parameter", "start_modified/end_modified/page 格式错误")
        if last < first or last - first > self.max_window or not 1 <= page_size <= 100 or page_no < 1:
            return self._refuse("isv.invalid-parameter", "时间跨度不能超过一天, page_size 1..100")
        return start, end, page_no, page_size

    # -- the methods ----------------------------------------------------------------------
    def _increment_get(self, params):
        window = self._window(params)
        if isinstance(window, dict):
            return window
        total, trades = self.trades.window(*window)
        if not self.receivers_in_search:
            trades = [{k: v for k, v in trade.items() if k not in RECEIVER_FIELDS} for trade in trades]
        inner = {"total_results": total}
        if trades:
            inner["trades"] = {"trade": trades}
        return {"trades_sold_increment_get_response": inner}

    def _fullinfo_get(self, params):
        trade = self.trades.records.get(params.get("tid", ""))
        if trade is None:
            return self._refuse("isv.trade-not-exist", "交易不存在")
        return {"trade_fullinfo_get_response": {"trade": trade}}

    def _refunds_get(self, params):
        window = self._window(params)
        if isinstance(window, dict):
            return window
        total, refunds = self.refunds.window(*window)
        inner = {"total_results": total}
        if refunds:
            inner["refunds"] = {"refund": refunds}
        return {"refunds_receive_get_response": inner}

    def _send(self, params, kind):
        tid = params.get("tid", "")
        if tid not in self.trades.records:
            return self._refuse(f"isv.logistics-{kind}-service-error:B01", "订单不存在")
        if not params.get("out_sid") or not params.get("company_code"):
            return self._refuse("isv.missing-parameter", "缺少运单号或物流公司")
        if self.consigned[tid]:
            return self._refuse(f"isv.logistics-{kind}-service-error:B04",
                                "订单状态不对该物流订单已经发货或者已关闭，不能重复发货")
        self.consigned[tid] += 1
        self.shipments[tid] = (params["company_code"], params["out_sid"])
        self.modify(tid, status="WAIT_BUYER_CONFIRM_GOODS")
        return {f"logistics_{kind}_send_response": {"shipping": {"is_success": True}}}

    def _quantity_update(self, params):
        try:
            quantity, kind = int(params["quantity"]), int(params.get("type", 1))
            key = (params["num_iid"], params.get("sku_id", ""))
        except (KeyError, ValueError):
            return self._refuse("isv.invalid-parameter", "num_iid/quantity 非法")
        self.stock[key] = quantity if kind == 1 else self.stock.get(key, 0) + quantity
        return {"item_quantity_update_response": {"item": {
            "num_iid": int(key[0]), "num": self.stock[key], "modified": beijing(datetime.now(timezone.utc))}}}

    def _trace_search(self, params):
        tid = params.get("tid", "")
        steps = self.traces.get(tid, [])
        company, out_sid = self.shipments.get(tid, ("", ""))
        return {"logistics_trace_search_response": {"tid": tid, "out_sid": out_sid, "company_name": company,
                                                    "status": "在途中", "trace_list": {"transit_step_info": steps}}}
