"""Importing settlement bills and reconciling them (对账) against orders, refunds and fees.

Each bill line is compared, together with the other lines of its order and kind, with what the
house expects:

    payment      the order's paid amount (Douyin: without the freight, which it settles apart)
    freight      Douyin only: the order's freight
    refund       − the refunds of the order's lines (OrderLine.refund_fen)
    commission   − (line_money.commission_fen − refund_commission_fen) of the order's lines
    payment_fee  − (line_money.payment_fee_fen − refund_payment_fee_fen)
    subsidy      + (line_money.platform_subsidy_fen − refund_subsidy_fen)

``diff_fen`` is the bill's sum minus the expected figure. An order whose money has not been
computed (no line_money rows) leaves its fee lines ``unchecked``: the order is known, there is
nothing to compare with.
"""
from __future__ import annotations

import json
from collections import defaultdict

import orjson

from peewee import SQL, Expression, IntegrityError, fn

from server.db import insert_rows, is_sqlite, sql, sql_many, write_transaction
from server.models.finance import BillLine, SettlementBill
from server.models.money import LineMoney
from server.models.orders import Order, OrderLine
from server.services.errors import DomainError, NotFound
from server.services.finance import bills as bill_formats

# the order channels a bill's channel settles
ORDER_CHANNELS = {"alipay": ("tmall", "top", "taobao", "csv"), "jd": ("jd",), "douyin": ("douyin",)}
FEE_SIGNS = {"commission": -1, "payment_fee": -1, "subsidy": 1}
MAX_PROBLEMS = 500
CHUNK = 500


class BadBill(DomainError):
    code = "bad_bill"


def import_bill(channel: str, shop: str, raw: bytes, name: str = "bill", user: str = "") -> dict:
    """Read a bill, keep its new lines (a line already imported, by its serial, is not added again),
    and reconcile the bill's lines. Bad rows are reported by file, line and field."""
    try:
        parsed = bill_formats.parse(channel, raw, name)
    except ValueError as exc:
        raise BadBill(str(exc)) from None
    problems = [str(p) for p in parsed.problems]
    with write_transaction():
        bill = SettlementBill.create(channel=channel, shop=shop, name=name[:200], account=parsed.account[:64],
                                     period_from=_naive(parsed.period_from), period_to=_naive(parsed.period_to),
                                     lines=len(parsed.movements), problems=json.dumps(problems[:MAX_PROBLEMS],
                                                                                       ensure_ascii=False),
                                     user=user[:64])
        rows = _new_lines(bill.id, channel, shop, parsed.movements)
        bill.added = len(rows)
        bill.save()
        summary = reconcile(bill_id=bill.id)
    return {"bill": bill.id, "channel": channel, "shop": shop, "name": bill.name, "lines": len(parsed.movements),
            "added": len(rows), "already_imported": len(parsed.movements) - len(rows), "problems": problems,
            "reconciliation": summary}


def _known_serials(channel: str, shop: str, movements, *, by_time: bool) -> set[str]:
    """The serials of these movements already stored. ``by_time``: those of the lines stored for
    the bill's time span (one statement; a serial is the platform's and keeps its time), else
    looked up by value."""
    where = (BillLine.channel == channel) & (BillLine.shop == shop)
    if by_time:
        times = [m.occurred_at for m in movements if m.occurred_at is not None]
        if not times:
            return set()
        query = BillLine.select(BillLine.serial).where(where, BillLine.occurred_at >= _naive(min(times)),
                                                       BillLine.occurred_at <= _naive(max(times)))
        return {serial for (serial,) in query.tuples()}
    serials = [m.serial for m in movements]
    known: set[str] = set()
    for start in range(0, len(serials), CHUNK):
        known.update(s for (s,) in BillLine.select(BillLine.serial)
                     .where(where, BillLine.serial.in_(serials[start:start + CHUNK])).tuples())
    return known


def _new_lines(bill_id: int, channel: str, shop: str, movements) -> list[dict]:
    """Store the movements not stored before (by serial); the rows stored."""
    for by_time in (True, False):
        known = _known_serials(channel, shop, movements, by_time=by_time)
        rows, seen = [], set()
        for m in movements:
            if m.serial in known or m.serial in seen:
                continue
            seen.add(m.serial)
            rows.append({"bill": bill_id, "line_no": m.line_no, "channel": channel, "shop": shop,
                         "serial": m.serial, "biz_serial": m.biz_serial, "order_external_id": m.order_external_id,
                         "kind": m.kind, "biz_type": m.biz_type, "subsidy_source": m.subsidy_source,
                         "amount_fen": m.amount_fen, "occurred_at": _naive(m.occurred_at), "memo": m.memo})
        try:
            with write_transaction():   # a savepoint: a serial stored under another time is looked up again
                insert_rows(BillLine, rows)
            return rows
        except IntegrityError:
            if not by_time:
                raise
    return []


def _naive(moment):
    return moment.replace(tzinfo=None) if moment is not None and moment.tzinfo is not None else moment


def _expected_fees(order_ids: list[int]) -> dict[int, dict[str, int]]:
    """order id -> its expected commission, payment fee and platform subsidy (net of refunds)."""
    lm = LineMoney
    query = (lm.select(lm.order, fn.SUM(lm.commission_fen - lm.refund_commission_fen),
                       fn.SUM(lm.payment_fee_fen - lm.refund_payment_fee_fen),
                       fn.SUM(lm.platform_subsidy_fen - lm.refund_subsidy_fen))
             .where(_among(lm.order, order_ids)).group_by(lm.order).tuples())
    return {order_id: {"commission": int(commission or 0), "payment_fee": int(payment_fee or 0),
                       "subsidy": int(subsidy or 0)} for order_id, commission, payment_fee, subsidy in query}


_LINE = (BillLine.id, BillLine.bill, BillLine.channel, BillLine.shop, BillLine.order_external_id, BillLine.kind,
         BillLine.amount_fen, BillLine.match_state, BillLine.expected_fen, BillLine.diff_fen, BillLine.order)


def _among(column, values: list):
    """``column IN (values)`` with the values as one parameter, however many: an array on
    PostgreSQL, a JSON list read by json_each on SQLite. A subquery over lines just written would
    do too, but PostgreSQL plans it without statistics of those lines (seconds became minutes)."""
    if is_sqlite():
        return Expression(column, "IN", SQL("(SELECT value FROM json_each(?))", (orjson.dumps(values).decode(),)))
    return Expression(column, "=", SQL("ANY(%s)", (list(values),)))


def _scope(ch: str, sh: str, bill_id: int | None):
    """The bill lines reconciled in a channel and shop: one bill's, or all of them."""
    where = (BillLine.channel == ch) & (BillLine.shop == sh)
    return where & (BillLine.bill == bill_id) if bill_id is not None else where


def reconcile(bill_id: int | None = None, channel: str | None = None, shop: str | None = None) -> dict:
    """Compare the lines of one bill (or of a shop's bills) with the orders; write each line's
    match state, expected figure and difference; answer the counts by state.

    Every lookup takes the bill's order numbers as one parameter (see ``_among``): a bill of
    100,000 lines is a handful of statements."""
    with write_transaction():
        pairs = BillLine.select(BillLine.channel, BillLine.shop).distinct()
        if bill_id is not None:
            pairs = pairs.where(BillLine.bill == bill_id)
        if channel:
            pairs = pairs.where(BillLine.channel == channel)
        if shop:
            pairs = pairs.where(BillLine.shop == shop)
        groups: dict[tuple, list[tuple]] = defaultdict(list)
        orders: dict[tuple, tuple] = {}
        fees: dict[int, dict[str, int]] = {}
        refunds: dict[int, int] = {}
        for ch, sh in list(pairs.tuples()):
            scope = _scope(ch, sh, bill_id)
            numbers = sorted({n for (n,) in BillLine.select(BillLine.order_external_id)
                              .where(scope & (BillLine.order_external_id != "")).tuples()})
            # a group takes every line of its order and kind, from this bill and the ones before
            for row in BillLine.select(*_LINE).where((BillLine.channel == ch) & (BillLine.shop == sh)
                                                     & _among(BillLine.order_external_id, numbers)).tuples():
                groups[(ch, sh, row[4], row[5])].append(row)
            for row in BillLine.select(*_LINE).where(scope & (BillLine.order_external_id == "")).tuples():
                groups[(ch, sh, "", row[5], row[0])] = [row]
            channels = ORDER_CHANNELS[ch]
            # (channel, shop, external_id) is the orders' index: the shops are named so that it is used
            shops = [s for (s,) in Order.select(Order.shop).where(Order.channel.in_(channels)).distinct().tuples()]
            if not shops or not numbers:
                continue
            found = list(Order.select(Order.id, Order.external_id, Order.shop, Order.paid_fen, Order.freight_fen)
                         .where(Order.channel.in_(channels), Order.shop.in_(shops),
                                _among(Order.external_id, numbers)).namedtuples())
            for order in found:
                key = (ch, sh, order.external_id)
                if key not in orders or order.shop == sh:   # two shops with that number: the bill's shop
                    orders[key] = order
            known = sorted({order.id for order in found})
            fees.update(_expected_fees(known))
            refunds.update(OrderLine.select(OrderLine.order, fn.SUM(OrderLine.refund_fen))
                           .where(_among(OrderLine.order, known)).group_by(OrderLine.order).tuples())
        counts: dict[str, int] = defaultdict(int)
        diff_total = 0
        changes = []
        for key, lines in groups.items():
            ch, sh, number, kind = key[:4]
            order = orders.get((ch, sh, number)) if number else None
            state, expected = _judge(ch, kind, order, fees, refunds)
            diff = 0
            if state == "compare":
                diff = sum(row[6] for row in lines) - expected
                state = "matched" if diff == 0 else "mismatched"
            else:
                expected = None
            order_id = order.id if order else None
            for row in lines:
                if (row[7], row[8], row[9], row[10]) != (state, expected, diff, order_id):
                    changes.append((state, expected, diff, order_id, row[0]))
                if bill_id is None or row[1] == bill_id:
                    counts[state] += 1
            if state == "mismatched":
                diff_total += diff
        _write_judgements(changes)
    return {"counts": dict(counts), "mismatched_diff_fen": diff_total}


def _write_judgements(changes: list[tuple]) -> None:
    """Each changed line's state, expected figure, difference and order. SQLite: one statement
    run for each row (in C). PostgreSQL: the rows as one JSON document per chunk that the server
    takes apart, as db.insert_rows does (a statement per row took minutes for 100,000 lines)."""
    if not changes:
        return
    if is_sqlite():
        sql_many("UPDATE bill_line SET match_state = ?, expected_fen = ?, diff_fen = ?, order_id = ? WHERE id = ?",
                 changes)
        return
    for start in range(0, len(changes), 20000):
        document = orjson.dumps([{"s": c[0], "e": c[1], "d": c[2], "o": c[3], "i": c[4]}
                                 for c in changes[start:start + 20000]]).decode()
        sql("UPDATE bill_line SET match_state = r.s, expected_fen = r.e, diff_fen = r.d, order_id = r.o "
            "FROM json_to_recordset(?::json) AS r(s text, e bigint, d bigint, o integer, i bigint) "
            "WHERE bill_line.id = r.i", document)


def _judge(channel: str, kind: str, order, fees: dict, refunds: dict) -> tuple[str, int | None]:
    if kind == "transfer":
        return "ignored", None
    if order is None:
        return ("unmatched", None) if kind != "other" else ("ignored", None)
    if kind == "payment":
        return "compare", order.paid_fen - (order.freight_fen if channel == "douyin" else 0)
    if kind == "freight" and channel == "douyin":
        return "compare", order.freight_fen
    if kind == "refund":
        return "compare", -int(refunds.get(order.id) or 0)
    if kind in FEE_SIGNS and order.id in fees:
        return "compare", FEE_SIGNS[kind] * fees[order.id][kind]
    return "unchecked", None


def bill_lines(bill_id: int | None = None, state: str | None = None, shop: str | None = None,
               limit: int = 200, offset: int = 0) -> dict:
    query = BillLine.select()
    if bill_id is not None:
        if SettlementBill.get_or_none(SettlementBill.id == bill_id) is None:
            raise NotFound(f"no bill {bill_id}", bill=bill_id)
        query = query.where(BillLine.bill == bill_id)
    if state:
        query = query.where(BillLine.match_state == state)
    if shop:
        query = query.where(BillLine.shop == shop)
    total = query.count()
    items = [{"id": b.id, "bill": b.bill_id, "line": b.line_no, "serial": b.serial, "order": b.order_external_id,
              "kind": b.kind, "biz_type": b.biz_type, "subsidy_source": b.subsidy_source,
              "amount_fen": b.amount_fen, "expected_fen": b.expected_fen, "diff_fen": b.diff_fen,
              "state": b.match_state, "occurred_at": b.occurred_at, "memo": b.memo}
             for b in query.order_by(BillLine.bill, BillLine.line_no, BillLine.id).limit(limit).offset(offset)]
    return {"items": items, "total": total}


def list_bills(limit: int = 50) -> list[dict]:
    rows = []
    for bill in SettlementBill.select().order_by(SettlementBill.id.desc()).limit(limit):
        counts = dict(BillLine.select(BillLine.match_state, fn.COUNT(BillLine.id))
                      .where(BillLine.bill == bill.id).group_by(BillLine.match_state).tuples())
        rows.append({"id": bill.id, "channel": bill.channel, "shop": bill.shop, "name": bill.name,
                     "account": bill.account, "lines": bill.lines, "added": bill.added,
                     "problems": json.loads(bill.problems), "imported_at": bill.imported_at, "counts": counts})
    return rows
