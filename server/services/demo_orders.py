"""The demo's orders: a day of them for the demo catalogue, and more on demand for a living floor.

A day (`day_of_orders`) is the same every time it is made: the same order numbers, lines, buyers
and times (anchored on the day of the first load), so loading it again changes nothing. Its SKUs
are chosen from the opening stock the demo received, read from the ledger, which never changes.
The mix gives every wave strategy of rules/waves.yaml its orders (one unit; one SKU, several
units; a few SKUs for a cluster cart; many units for the put wall) and holds a few for review
(审单) with the reasons of rules/review.yaml. Orders go in through orders.intake, as any import.
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter

from peewee import fn

from server.channels.base import PAID, REFUND_NONE, ParsedLine, ParsedOrder, ParseResult
from server.models import Location, Order, Product, Quant, StockMove, Warehouse
from server.services.orders import intake, merge
from server.services.stock import inventory

#: shop code, channel, name, order number prefix, channel status text, share of the day
SHOPS = [
    ("tmall-flagship", "tmall", "示例旗舰店", "3900", "WAIT_SELLER_SEND_GOODS", 40),
    ("jd-pop", "jd", "京东POP店", "2800", "WAIT_SELLER_STOCK_OUT", 25),
    ("douyin-1", "douyin", "抖音小店", "6921", "2", 25),
    ("weidian-csv", "csv", "微店（表格导入）", "WD", "待发货", 10),
]
SOURCE = "demo"  # Order.source of the demo's own orders: demo:<shop>:<n>

#: (province, city, district, street): south China routes to WH-SZ first, the rest to WH-HZ
ADDRESSES = [
    ("浙江省", "杭州市", "西湖区", "文三路 90 号"), ("上海市", "上海市", "浦东新区", "张江路 368 弄"),
    ("江苏省", "南京市", "鼓楼区", "中山北路 101 号"), ("北京市", "北京市", "朝阳区", "望京街 9 号"),
    ("四川省", "成都市", "武侯区", "天府大道 1700 号"), ("湖北省", "武汉市", "洪山区", "珞喻路 129 号"),
    ("广东省", "深圳市", "南山区", "科技园南路 15 号"), ("广东省", "广州市", "天河区", "体育西路 103 号"),
    ("福建省", "厦门市", "思明区", "鹭江道 8 号"), ("山东省", "青岛市", "市南区", "香港中路 76 号"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞"]

#: the day's mix: (kind, count); the kinds match the strategies of rules/waves.yaml
DAY_MIX = [("single_unit", 70), ("single_sku_multi", 20), ("cluster", 40), ("batch_put_wall", 14)]
#: orders held for review (审单), one reason each, as rules/review.yaml words them
HOLDS = [
    ("buyer_message", {"buyer_message": "请发顺丰，周末不在家，工作日送到公司前台，谢谢"}),
    ("buyer_message", {"buyer_message": "颜色要黑色的，拍错了"}),
    ("seller_flag_or_memo", {"seller_memo": "客服：赠品一份，包装加固", "seller_flag": 1}),
    ("seller_flag_or_memo", {"seller_memo": "老客户，优先发货"}),
    ("incomplete_address", {"receiver_address": ""}),
    ("presale_unpaid", {"presale": True, "presale_final_paid": False}),
    ("amount_over_limit", {"big": True}),
]


def _opening_pool() -> list[tuple[str, int, int]]:
    """(sku, price, units received) of the SKUs whose opening stock at a pick face of WH-HZ is
    plenty: the demo's opening ledger lines, which never change, so a day is the same each time."""
    hz = Warehouse.get(Warehouse.code == "WH-HZ")
    rows = (StockMove.select(Product.sku, Product.price_fen, StockMove.qty)
            .join(Product, on=(StockMove.product == Product.id))
            .join(Location, on=(StockMove.to_location == Location.id))
            .where((StockMove.ref == "demo") & (StockMove.to_state == "available")
                   & (Location.kind == "pick") & (Location.warehouse == hz) & (StockMove.qty >= 40))
            .order_by(Product.sku).tuples())
    return [(sku, price, qty) for sku, price, qty in rows]


def _anchor() -> dt.datetime:
    """Midnight (China time, as UTC) of the day the demo's orders were first loaded, or of today."""
    first = Order.select(fn.MIN(Order.paid_at)).where(Order.source.startswith(f"{SOURCE}:")).scalar()
    china = dt.timezone(dt.timedelta(hours=8))
    day = (first.replace(tzinfo=dt.timezone.utc) if first else dt.datetime.now(dt.timezone.utc)).astimezone(china)
    return dt.datetime(day.year, day.month, day.day, tzinfo=china).astimezone(dt.timezone.utc)


def _lines_for(kind: str, pool, rng) -> list[tuple[str, int, int]]:
    """(sku, qty, unit price) of one order of a kind."""
    if kind == "single_unit":
        picks = [(rng.choice(pool), 1)]
    elif kind == "single_sku_multi":
        picks = [(rng.choice(pool), rng.randint(2, 3))]
    elif kind == "cluster":
        picks = [(item, 1 if rng.random() < 0.7 else 2) for item in rng.sample(pool, rng.randint(2, 3))]
    else:  # batch_put_wall: more units than a cluster cart slot takes
        picks = [(item, rng.randint(2, 3)) for item in rng.sample(pool, rng.randint(3, 4))]
    return [(sku, qty, price) for (sku, price, _), qty in picks]


def make_order(shop: tuple, number: str, lines, rng, at: dt.datetime, extra: dict | None = None,
               source_line: int | None = None) -> ParsedOrder:
    """One parsed order as a channel adapter would give it."""
    code, channel, _, _, channel_status, _ = shop
    extra = dict(extra or {})
    province, city, district, street = rng.choice(ADDRESSES)
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
    parsed_lines = [ParsedLine(f"{number}-{i + 1}", sku, sku, qty, price, price * qty, REFUND_NONE)
                    for i, (sku, qty, price) in enumerate(lines)]
    if extra.pop("big", False):
        first = parsed_lines[0]  # a 5,200 元 unit: over the review limit
        first.price_fen, first.paid_fen = 520000, 520000 * first.qty
    goods = sum(line.paid_fen for line in parsed_lines)
    freight = 0 if goods >= 9900 else 600
    order = ParsedOrder(
        channel=channel, shop=code, external_id=number, channel_status=channel_status, status=PAID,
        buyer_nick=f"{channel}_{rng.randint(100000, 999999)}", receiver_name=name,
        receiver_phone=f"13{rng.randint(100000000, 999999999)}", receiver_province=province,
        receiver_city=city, receiver_district=district, receiver_address=f"{district}{street}",
        goods_fen=goods, freight_fen=freight, paid_fen=goods + freight, created_at=at,
        paid_at=at + dt.timedelta(seconds=rng.randint(5, 300)), lines=parsed_lines,
        source=f"{SOURCE}:{code}", source_line=source_line)
    for field, value in extra.items():
        setattr(order, field, value)
    return order


def day_of_orders() -> list[ParsedOrder]:
    """The demo's day: every shop's orders, the same ones each time."""
    pool = _opening_pool()
    rng = random.Random(24)
    start = _anchor()
    kinds = [kind for kind, count in DAY_MIX for _ in range(count)]
    rng.shuffle(kinds)
    shops = [shop for shop in SHOPS for _ in range(shop[5])]
    serials = Counter()
    orders = []
    holds = iter(HOLDS)
    for n, kind in enumerate(kinds):
        shop = rng.choice(shops)
        serials[shop[0]] += 1
        number = f"{shop[3]}{start.astimezone(dt.timezone(dt.timedelta(hours=8))):%y%m%d}{serials[shop[0]]:05d}"
        at = start + dt.timedelta(hours=7, seconds=n * 180 + rng.randint(0, 120))
        extra = next(holds, (None, None))[1] if n % 20 == 7 else None
        orders.append(make_order(shop, number, _lines_for(kind, pool, rng), rng, at, extra, n + 1))
    return orders


def load_day(actor: inventory.Actor | None = None) -> dict:
    """Send the day in through the order intake (reviewed, routed, reserved); a second load finds
    every order unchanged. Orders of one buyer are merged as the routing rules allow."""
    actor = actor or inventory.system_actor()
    report = intake.import_parsed(ParseResult(orders=day_of_orders()), actor=actor)
    if report.created or report.updated:
        report.merged = merge.merge_all(actor)
    return report.as_dict()


class LiveOrders:
    """Orders for a living floor: new numbers every time, SKUs that have free stock now."""

    def __init__(self, seed: int | None = None):
        self.rng = random.Random(seed)
        self.serial = itertools.count(1)
        self.stamp = dt.datetime.now(dt.timezone.utc).strftime("%m%d%H%M%S")

    def _pool(self) -> list[tuple[str, int, int]]:
        free = (Quant.qty - Quant.reserved)
        rows = (Quant.select(Product.sku, Product.price_fen, fn.SUM(free))
                .join(Product).switch(Quant).join(Location)
                .where((Quant.state == "available") & (Location.kind == "pick") & (free >= 4))
                .group_by(Product.sku, Product.price_fen).order_by(Product.sku).tuples())
        return [(sku, price, int(qty)) for sku, price, qty in rows]

    def next_orders(self, count: int) -> list[ParsedOrder]:
        pool = self._pool()
        if len(pool) < 4:
            return []
        kinds = [kind for kind, weight in DAY_MIX for _ in range(weight)]
        shops = [shop for shop in SHOPS for _ in range(shop[5])]
        now = dt.datetime.now(dt.timezone.utc)
        orders = []
        for _ in range(count):
            shop = self.rng.choice(shops)
            number = f"{shop[3]}L{self.stamp}{next(self.serial):04d}"
            extra = self.rng.choice(HOLDS)[1] if self.rng.random() < 0.04 else None
            orders.append(make_order(shop, number, _lines_for(self.rng.choice(kinds), pool, self.rng),
                                     self.rng, now, extra))
        return orders

    def send(self, count: int, actor: inventory.Actor) -> dict:
        report = intake.import_parsed(ParseResult(orders=self.next_orders(count)), actor=actor)
        return report.as_dict()


def status_counts() -> dict:
    """Orders per status, and the demo's orders per channel."""
    statuses = dict(Order.select(Order.status, fn.COUNT(Order.id)).group_by(Order.status).tuples())
    channels = dict(Order.select(Order.channel, fn.COUNT(Order.id))
                    .where(Order.source.startswith(f"{SOURCE}:")).group_by(Order.channel).tuples())
    return {"by_status": dict(sorted(statuses.items())), "by_channel": dict(sorted(channels.items()))}
