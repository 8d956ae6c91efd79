"""Refund records from the channels (退款单 / 售后单): imported, linked to their order line, and
summed onto the line in fen.

A refund is kept once per (channel, shop, refund id): importing it again updates it, unless the
channel says it changed it earlier than the row we hold (``modified_at``: a late or replayed
file never turns a refund back). Each refund is linked to its order (same shop, the order's
number on the channel) and to its line (the channel's line id, else the line of the same SKU).
A line's ``refund_fen`` is the sum of its agreed and successful refunds and its
``refund_status`` says where its refunds stand (pending, refunded, closed); the money itself is
settled in finance, not here.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from peewee import IntegrityError

from server.channels.base import ImportProblem
from server.channels.csvfile import UnreadableFile, decode_bytes
from server.channels.refund_base import AGREED, REFUSED, REQUESTED, SUCCESS, ParsedRefund, RefundParseResult
from server.channels.refunds import REFUND_ADAPTERS, get_refund_adapter
from server.db import sql, write_retrying, write_transaction
from server.models import Order, OrderLine, Refund
from server.models.base import as_utc, utcnow
from server.services.errors import DomainError
from server.services.money import lines as line_money
from server.services.orders import allocation, review
from server.services.orders import lifecycle as orders
from server.services.stock import inventory
from server.services.stock.inventory import Actor

#: refund states whose money counts on the line
COUNTED = (AGREED, SUCCESS)
OPEN = (REQUESTED, AGREED, REFUSED)  # the buyer may still escalate a refusal (客服介入)
HOLDABLE = ("approved", "allocated", "backorder")  # before a wave: the order can still be stopped


class UnknownRefundChannel(DomainError):
    code = "unknown_refund_channel"


@dataclass
class RefundImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0       # older than the row held: not applied
    unlinked: list[str] = field(default_factory=list)  # refunds whose order is not (yet) here
    problems: list[ImportProblem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "stale": self.stale, "unlinked": list(self.unlinked),
                "problems": [str(p) for p in self.problems]}


def import_files(channel: str, paths, shop: str | None = None, *, actor: Actor | None = None) -> RefundImportReport:
    """A refund file of ``channel`` (tmall | top | jd | douyin) for ``shop``."""
    name = REFUND_ADAPTERS.get(channel)
    if name is None:
        raise UnknownRefundChannel(f"no refund adapter for channel {channel!r}", channel=channel)
    paths = [str(p) for p in paths]
    result = get_refund_adapter(name).parse(paths if len(paths) != 1 else paths[0], shop=shop)
    return import_parsed(result, actor=actor)


def import_body(channel: str, body: bytes, shop: str | None = None, *, name: str = "upload",
                actor: Actor | None = None) -> RefundImportReport:
    """A refund file sent over HTTP: the Tmall report's bytes (CSV), or a channel's JSON answer."""
    adapter_name = REFUND_ADAPTERS.get(channel)
    if adapter_name is None:
        raise UnknownRefundChannel(f"no refund adapter for channel {channel!r}", channel=channel)
    if channel == "tmall":
        return import_parsed(get_refund_adapter(adapter_name).parse((name, body), shop=shop), actor=actor)
    try:
        text, _ = decode_bytes(body)
        payload = json.loads(text)
    except (UnreadableFile, json.JSONDecodeError) as error:
        return RefundImportReport(problems=[ImportProblem(name, getattr(error, "lineno", None), None, None,
                                                          f"not valid JSON: {error}")])
    if not isinstance(payload, (dict, list)):
        return RefundImportReport(problems=[ImportProblem(name, None, None, None, "not a JSON object or list")])
    return import_parsed(get_refund_adapter(adapter_name).parse(payload, shop=shop), actor=actor)


def import_parsed(result: RefundParseResult, *, actor: Actor | None = None) -> RefundImportReport:
    report = RefundImportReport(problems=list(result.problems))
    for parsed in result.refunds:
        if not parsed.shop:
            report.problems.append(ImportProblem(parsed.source, parsed.source_line, None, "shop",
                                                 "no shop given (--shop) and none in the file"))
            continue
        outcome = write_retrying(lambda parsed=parsed: _store(parsed, actor))
        setattr(report, outcome[0], getattr(report, outcome[0]) + 1)
        if outcome[1] is None:
            report.unlinked.append(f"{parsed.refund_id} (order {parsed.order_external_id})")
    return report


def _store(parsed: ParsedRefund, actor: Actor | None) -> tuple[str, int | None]:
    """("created" | "updated" | "unchanged" | "stale", the linked order id or None)."""
    held = Refund.get_or_none((Refund.channel == parsed.channel) & (Refund.shop == parsed.shop)
                              & (Refund.refund_id == parsed.refund_id))
    modified_at = _naive(parsed.modified_at)
    if held is not None and held.modified_at and modified_at and modified_at < held.modified_at:
        return "stale", held.order_id
    order, line = link(parsed)
    values = {"order_external_id": parsed.order_external_id, "line_external_id": parsed.line_external_id,
              "order": order.id if order else None, "line": line.id if line else None,
              "sku_code": parsed.sku_code, "qty": parsed.qty, "refund_fen": parsed.refund_fen,
              "state": parsed.state, "channel_status": parsed.channel_status[:64], "reason": parsed.reason[:200],
              "goods_returned": parsed.goods_returned, "return_tracking": parsed.return_tracking[:64],
              "return_carrier": parsed.return_carrier[:64], "requested_at": _naive(parsed.requested_at),
              "modified_at": modified_at}
    if held is None:
        try:
            with write_transaction():
                Refund.create(channel=parsed.channel, shop=parsed.shop, refund_id=parsed.refund_id,
                              source=f"{parsed.source}:{parsed.source_line}" if parsed.source_line else parsed.source,
                              **values)
        except IntegrityError:  # the same refund, imported at the same moment elsewhere
            return _store(parsed, actor)
        outcome, before = "created", None
    else:
        before = {"line": held.line_id, "state": held.state}
        same = all(getattr(held, name if name not in ("order", "line") else f"{name}_id") == value
                   for name, value in values.items())
        if same:
            return "unchanged", held.order_id
        Refund.update(imported_at=utcnow(), **values).where(Refund.id == held.id).execute()
        outcome = "updated"
    for line_id in {line.id if line else None, before["line"] if before else None} - {None}:
        summarise_line(line_id)
    if order is not None and (before is None or before["state"] != parsed.state):
        orders.record(order, "refund", f"{parsed.refund_id} {parsed.state} {parsed.refund_fen} fen"
                      f" {parsed.sku_code} {parsed.channel_status}".strip(), actor)
        if parsed.state in OPEN + (SUCCESS,) and parsed.state != REFUSED:
            stop_shipping(order, f"refund {parsed.refund_id}", actor)
    return outcome, order.id if order else None


def stop_shipping(order: Order, detail: str, actor: Actor | None) -> None:
    """A refund asked for or made on an order not yet in a wave: its reserved units go back and
    it waits in the office (held), as a refund in the channel's order export does
    (orders/intake.py). An order already being picked or shipped is left to the floor and the
    returns bench."""
    order = Order.get_by_id(order.id)
    if order.status not in HOLDABLE:
        return
    actor = actor or inventory.system_actor()
    allocation.release_allocations(order, actor)
    review.hold(order, actor, detail)


def _naive(moment):
    """An aware channel time as the database keeps it (naive UTC)."""
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None) if moment is not None else None


def link(parsed: ParsedRefund) -> tuple[Order | None, OrderLine | None]:
    """The order (same shop, its channel number; the refund's channel first) and its line."""
    candidates = list(Order.select().where((Order.shop == parsed.shop)
                                           & (Order.external_id == parsed.order_external_id)))
    if not candidates:
        return None, None
    order = next((o for o in candidates if o.channel == parsed.channel), candidates[0])
    line = None
    if parsed.line_external_id:
        line = OrderLine.get_or_none((OrderLine.order == order.id)
                                     & (OrderLine.external_line_id == parsed.line_external_id))
    if line is None and parsed.sku_code:
        line = (OrderLine.select().where((OrderLine.order == order.id) & (OrderLine.sku_code == parsed.sku_code))
                .order_by(OrderLine.id).first())
    return order, line


def summarise_line(line_id: int) -> None:
    """The line's refund money (agreed + successful, in fen) and status from its refunds."""
    states = [state for (state,) in Refund.select(Refund.state).where(Refund.line == line_id).tuples()]
    fen = (Refund.select(Refund.refund_fen).where((Refund.line == line_id) & (Refund.state.in_(COUNTED)))
           .tuples())
    total = sum(amount for (amount,) in fen)
    if any(state in OPEN for state in states):
        status = "pending"
    elif SUCCESS in states:
        status = "refunded"
    elif states:
        status = "closed"
    else:
        status = "none"
    sql("UPDATE order_line SET refund_fen = ?, refund_status = ? WHERE id = ?", total, status, line_id)
    line_money.refunded(line_id)  # the line's money reverses the refund


def refund_row(refund: Refund) -> dict:
    return {"id": refund.id, "channel": refund.channel, "shop": refund.shop, "refund_id": refund.refund_id,
            "order_external_id": refund.order_external_id, "line_external_id": refund.line_external_id,
            "order_id": refund.order_id, "line_id": refund.line_id, "sku": refund.sku_code, "qty": refund.qty,
            "refund_fen": refund.refund_fen, "state": refund.state, "channel_status": refund.channel_status,
            "reason": refund.reason, "goods_returned": refund.goods_returned,
            "return_tracking": refund.return_tracking, "return_carrier": refund.return_carrier,
            "requested_at": _iso(refund.requested_at), "modified_at": _iso(refund.modified_at)}


def _iso(moment) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def list_refunds(*, shop: str | None = None, state: str | None = None, order_external_id: str | None = None,
                 limit: int = 100, offset: int = 0) -> dict:
    query = Refund.select()
    if shop:
        query = query.where(Refund.shop == shop)
    if state:
        query = query.where(Refund.state == state)
    if order_external_id:
        query = query.where(Refund.order_external_id == order_external_id)
    total = query.count()
    rows = query.order_by(Refund.modified_at.desc(nulls="LAST"), Refund.id.desc()).limit(limit).offset(offset)
    return {"items": [refund_row(r) for r in rows], "total": total}
