"""Deriving the customers from the orders (``wavefloor customers refresh``): one customer per
channel and buyer, their totals, RFM scores by quantile, tags by the CEL rules of
customers.yaml, the day's count of each tag; then the repurchase models and the day's
due-to-reorder list (server/services/customers/repurchase.py).

What counts: orders paid and not cancelled, lines not fully refunded; a line's value is what
the buyer paid for it (its list price × qty where the channel gives no paid amount) less what
was refunded. An order split by the warehouse counts once (its first part's id). See
docs/customers.md for every figure.
"""
from __future__ import annotations

import bisect
import datetime as dt
import time
from dataclasses import dataclass, field

import orjson
from peewee import BooleanField, CharField, DateTimeField, IntegerField

from server.db import database, insert_rows, is_sqlite, write_transaction
from server.models import Order, OrderLine
from server.models.base import utcnow
from server.models.customers import Customer, CustomerTagCount, LiveStream
from server.services.customers import repurchase, tagrules
from server.services.customers.common import CHINA_OFFSET, as_datetime, local_day, today, usable_phone

UPSERT_CHUNK = 1000
PG_TYPES = {CharField: "text", IntegerField: "bigint", DateTimeField: "timestamp", BooleanField: "boolean"}
KEPT = ("channel", "buyer", "opt_out", "opt_out_at")  # the upsert does not change these


def buyer_key(nick: str, phone: str) -> str | None:
    """The channel's buyer: its nick (the buyer id the channels give), else the phone."""
    nick = (nick or "").strip()
    if nick:
        return nick[:100]
    phone = (phone or "").strip()
    return f"tel:{phone}"[:100] if phone else None


@dataclass
class Tally:
    channel: str
    buyer: str
    nick: str = ""
    name: str = ""
    phone: str = ""
    province: str = ""
    shop: str = ""
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    purchases: set = field(default_factory=set)
    coupon: set = field(default_factory=set)
    live: set = field(default_factory=set)
    units: int = 0
    spent_fen: int = 0
    skus: dict = field(default_factory=dict)   # sku -> [product id, {local days}, last paid_at]


class LiveWindows:
    """The live-stream windows, each stretched by ``minutes`` after its end."""

    def __init__(self, minutes: int):
        rows = sorted((s.starts_at, s.ends_at + dt.timedelta(minutes=minutes), s.channel, s.shop)
                      for s in LiveStream.select())
        self.rows = rows
        self.starts = [row[0] for row in rows]
        self.longest = max((end - start for start, end, _, _ in rows), default=dt.timedelta(0))

    def covers(self, at: dt.datetime | None, channel: str, shop: str) -> bool:
        if at is None or not self.rows:
            return False
        index = bisect.bisect_right(self.starts, at) - 1
        while index >= 0 and self.starts[index] >= at - self.longest:
            start, end, on_channel, on_shop = self.rows[index]
            if start <= at <= end and on_channel in ("", channel) and on_shop in ("", shop):
                return True
            index -= 1
        return False


def tally(live_minutes: int, until: dt.datetime | None = None) -> dict[tuple[str, str], Tally]:
    """Every customer's totals and purchases, from the orders paid before ``until`` (naive UTC)."""
    windows = LiveWindows(live_minutes)
    found: dict[tuple[str, str], Tally] = {}
    live_of: dict[int, bool] = {}
    query = (OrderLine.select(Order.id, Order.split_from, Order.channel, Order.shop, Order.buyer_nick,
                              Order.receiver_name, Order.receiver_phone, Order.receiver_province, Order.ordered_at,
                              Order.paid_at, Order.coupon_fen, Order.discount_fen, OrderLine.sku_code,
                              OrderLine.product, OrderLine.qty, OrderLine.price_fen, OrderLine.paid_fen,
                              OrderLine.refund_fen)
             .join(Order)
             .where((Order.status != "cancelled") & Order.paid_at.is_null(False)
                    & (OrderLine.refund_status != "refunded"))
             .order_by(Order.paid_at, Order.id))
    if until is not None:
        query = query.where(Order.paid_at < until)
    # the rows straight from the cursor: peewee's conversion of each value cost more than the rest
    cursor = database.execute_sql(*query.sql())
    while True:
        batch = cursor.fetchmany(5000)
        if not batch:
            break
        for row in batch:
            _take(found, live_of, windows, row)
    return found


def _take(found: dict, live_of: dict, windows: LiveWindows, row) -> None:
    """One order line into its customer's tally."""
    (order_id, split_from, channel, shop, nick, name, phone, province, ordered_at, paid_at, coupon_fen,
     discount_fen, sku, product, qty, price_fen, paid_fen, refund_fen) = row
    paid_at = as_datetime(paid_at)
    key = buyer_key(nick, phone)
    if key is None:
        return
    one = found.get((channel, key))
    if one is None:
        one = found[(channel, key)] = Tally(channel, key, first=paid_at)
    purchase = split_from or order_id
    one.nick, one.name, one.phone, one.province, one.shop = nick or "", name, phone, province, shop
    one.last = paid_at
    one.purchases.add(purchase)
    if (coupon_fen or 0) > 0 or (discount_fen or 0) > 0:
        one.coupon.add(purchase)
    if purchase not in live_of:
        live_of[purchase] = windows.covers(as_datetime(ordered_at) or paid_at, channel, shop)
    if live_of[purchase]:
        one.live.add(purchase)
    one.units += qty
    one.spent_fen += max(0, (paid_fen if paid_fen else price_fen * qty) - (refund_fen or 0))
    bought = one.skus.get(sku)
    if bought is None:
        bought = one.skus[sku] = [product, set(), paid_at]
    bought[1].add(local_day(paid_at))
    bought[2] = paid_at


def quantile_scores(values: list, bins: int, higher_is_better: bool = True) -> list[int]:
    """1..bins for each value: 1 + ⌊bins × share of the values strictly worse than it⌋; equal
    values get equal scores."""
    n = len(values)
    if not n:
        return []
    ordered = sorted(values)
    scores = []
    for value in values:
        worse = bisect.bisect_left(ordered, value) if higher_is_better else n - bisect.bisect_right(ordered, value)
        scores.append(min(bins, 1 + (bins * worse) // n))
    return scores


def context_of(one: Tally, scores: tuple[int, int, int], day: dt.date, opt_out: bool) -> dict:
    """The customer as the tag rules see it (rules/customers.py SAMPLE_CUSTOMER)."""
    orders = len(one.purchases)
    return {
        "channel": one.channel, "shop": one.shop, "province": one.province, "orders": orders, "units": one.units,
        "spent_fen": one.spent_fen, "avg_order_fen": one.spent_fen // orders if orders else 0,
        "coupon_orders": len(one.coupon), "coupon_share": len(one.coupon) / orders if orders else 0.0,
        "live_orders": len(one.live), "live_share": len(one.live) / orders if orders else 0.0,
        "recency_days": (day - local_day(one.last)).days, "tenure_days": (day - local_day(one.first)).days,
        "r_score": scores[0], "f_score": scores[1], "m_score": scores[2], "rfm": "".join(map(str, scores)),
        "skus": sorted(one.skus), "has_phone": usable_phone(one.phone), "opt_out": opt_out,
    }


def refresh(day: dt.date | None = None) -> dict:
    """Derive every customer from the orders as of ``day`` (today in China), score, tag and count
    them, then rebuild the repurchase models and add the day's due-to-reorder list."""
    started = time.perf_counter()
    day = day or today()
    rules = tagrules.current()
    bins = rules.setting("rfm_bins")
    # as of the day: orders paid before the next midnight in China
    until = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) - CHINA_OFFSET
    found = tally(rules.setting("impulse_minutes"), until)
    tallies = list(found.values())
    recency = [(day - local_day(one.last)).days for one in tallies]
    r_scores = quantile_scores(recency, bins, higher_is_better=False)
    f_scores = quantile_scores([len(one.purchases) for one in tallies], bins)
    m_scores = quantile_scores([one.spent_fen for one in tallies], bins)
    opted = {(c, b): o for c, b, o in Customer.select(Customer.channel, Customer.buyer, Customer.opt_out).tuples()}
    stamp = utcnow()
    tag_counts = {rule.code: 0 for rule in rules.tags if rule.enabled}
    tagger = rules.tagger()
    rows = []
    for one, scores in zip(tallies, zip(r_scores, f_scores, m_scores)):
        tags = tagger(context_of(one, scores, day, opted.get((one.channel, one.buyer), False)))
        for tag in tags:
            tag_counts[tag] += 1
        rows.append({"channel": one.channel, "buyer": one.buyer, "nick": one.nick[:100], "name": one.name[:100],
                     "phone": one.phone[:64], "province": one.province[:32], "shop": one.shop[:64],
                     "first_order_at": one.first, "last_order_at": one.last, "orders": len(one.purchases),
                     "units": one.units, "spent_fen": one.spent_fen, "coupon_orders": len(one.coupon),
                     "live_orders": len(one.live), "r_score": scores[0], "f_score": scores[1],
                     "m_score": scores[2], "tags": ",".join(tags)[:300], "refreshed_at": stamp})
    with write_transaction():
        _upsert(rows)
        # customers whose every order was cancelled or refunded since: kept (their opt-out), emptied
        Customer.update(orders=0, units=0, spent_fen=0, coupon_orders=0, live_orders=0, r_score=0, f_score=0,
                        m_score=0, tags="", refreshed_at=stamp).where(Customer.refreshed_at != stamp).execute()
        CustomerTagCount.delete().where(CustomerTagCount.day == day).execute()
        insert_rows(CustomerTagCount, [{"day": day, "tag": tag, "customers": n} for tag, n in tag_counts.items()])
        ids = {(c, b): i for i, c, b in Customer.select(Customer.id, Customer.channel, Customer.buyer).tuples()}
        built = repurchase.rebuild(day, {ids[key]: one.skus for key, one in found.items()}, rules)
    return {"day": day.isoformat(), "customers": len(rows), "new": len(rows) - len(opted.keys() & found.keys()),
            "tags": tag_counts, "skus_modelled": built["modelled"], "skus": built["skus"],
            "due": built["due"], "seconds": round(time.perf_counter() - started, 3)}


def _upsert(rows: list[dict]) -> None:
    """Insert new customers, update the known ones; the opt-out flag stays as it was. One
    statement per chunk, written by hand: peewee's builder took longer than the database."""
    if not rows:
        return
    rows = [dict(row, opt_out=False, opt_out_at=None) for row in rows]   # for new customers only
    names = list(rows[0])
    fields = [Customer._meta.fields[name] for name in names]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    updates = ", ".join(f'"{f.column_name}" = EXCLUDED."{f.column_name}"' for f in fields
                        if f.name not in KEPT)
    row_sql = "(" + ", ".join([database.param] * len(names)) + ")"
    dated = {i for i, f in enumerate(fields) if isinstance(f, DateTimeField)}
    if not is_sqlite():
        # PostgreSQL: each chunk as one JSON document the server takes apart (psycopg reading a
        # statement's thousands of placeholders took longer than the update; see db.insert_rows)
        keys = [f"c{i}" for i in range(len(names))]
        shape = ", ".join(f"{key} {next(t for kind, t in PG_TYPES.items() if isinstance(f, kind))}"
                          for key, f in zip(keys, fields))
        for start in range(0, len(rows), UPSERT_CHUNK * 10):
            document = orjson.dumps([{key: row[name] for key, name in zip(keys, names)}
                                     for row in rows[start:start + UPSERT_CHUNK * 10]]).decode()
            database.execute_sql(f'INSERT INTO "customer" ({columns}) SELECT {", ".join(keys)} '
                                 f"FROM json_to_recordset({database.param}::json) AS r({shape}) "
                                 f'ON CONFLICT ("channel", "buyer") DO UPDATE SET {updates}', [document])
        return
    for start in range(0, len(rows), UPSERT_CHUNK):
        chunk = rows[start:start + UPSERT_CHUNK]
        values = []
        for row in chunk:
            values.extend(fields[i].db_value(row[name]) if i in dated else row[name] for i, name in enumerate(names))
        database.execute_sql(f'INSERT INTO "customer" ({columns}) VALUES {", ".join([row_sql] * len(chunk))} '
                             f'ON CONFLICT ("channel", "buyer") DO UPDATE SET {updates}', values)
