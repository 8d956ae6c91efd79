"""Orders in from the channels (订单导入): parsed orders become Order rows, one transaction per
order. New orders go through review and routing; a re-import of the same data changes
nothing; a newer state from the channel updates the order (a closed trade cancels it, a
refunded line shortens it and gives its stock back)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from operator import attrgetter

from server import events
from server.channels import get_adapter
from server.channels.base import ParsedLine, ParsedOrder
from server.db import database, is_sqlite, sql, write_transaction
from server.models import Order, OrderLine
from server.models.base import utcnow
from server.services.orders import allocation, office, review
from server.services.orders import batch as order_batch
from server.services.orders import lifecycle as orders
from server.services.orders.facts import TO_REVIEW
from server.services.orders.review import review_and_route
from server.services.stock import inventory

IMPORTABLE = {"paid", "forbid_consign", "waiting_payment"}


@dataclass
class OrderImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    held: int = 0
    allocated: int = 0
    backorder: int = 0
    merged: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


# what the order is, not when or whence it came: a payload that says the same again is unchanged
_ORDER_FIELDS = [f.name for f in dataclasses.fields(ParsedOrder)
                 if f.name not in ("lines", "source", "source_line", "modified_at")]
_LINE_FIELDS = [f.name for f in dataclasses.fields(ParsedLine) if f.name != "source_line"]


_order_facts = attrgetter(*_ORDER_FIELDS)
_line_facts = attrgetter(*_LINE_FIELDS)


def _facts(parsed) -> str:
    """What the channel said about the order, as the text its fingerprint is made of (lists, as
    the fingerprints already stored were made)."""
    return repr((list(_order_facts(parsed)), [list(_line_facts(line)) for line in parsed.lines]))


def fingerprint(parsed) -> str:
    """What the channel said about the order; a re-import with the same fingerprint changes nothing."""
    return hashlib.sha256(_facts(parsed).encode()).hexdigest()


def _ship_by(parsed, hours: int) -> dt.datetime | None:
    if parsed.presale and parsed.presale_ship_by:
        return parsed.presale_ship_by.replace(tzinfo=None)
    base = parsed.paid_at or parsed.created_at
    return (base.replace(tzinfo=None) + dt.timedelta(hours=hours)) if base else None


def _naive(value):
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value and value.tzinfo else value


def _header(parsed, hours: int) -> dict:
    return {
        "channel_status": parsed.status, "buyer_nick": parsed.buyer_nick[:100],
        "buyer_message": parsed.buyer_message, "seller_memo": parsed.seller_memo,
        "seller_flag": parsed.seller_flag, "receiver_name": parsed.receiver_name[:100],
        "receiver_phone": parsed.receiver_phone[:64], "receiver_province": parsed.receiver_province[:32],
        "receiver_city": parsed.receiver_city[:64], "receiver_district": parsed.receiver_district[:64],
        "receiver_address": parsed.receiver_address[:300], "receiver_zip": parsed.receiver_zip[:16],
        "goods_fen": parsed.goods_fen, "freight_fen": parsed.freight_fen, "discount_fen": parsed.discount_fen,
        "coupon_fen": parsed.coupon_fen, "paid_fen": parsed.paid_fen, "ordered_at": _naive(parsed.created_at),
        "paid_at": _naive(parsed.paid_at), "presale": parsed.presale,
        "presale_final_paid": parsed.presale_final_paid, "presale_ship_by": _naive(parsed.presale_ship_by),
        "ship_by": _naive(_ship_by(parsed, hours)), "channel_modified_at": _naive(parsed.modified_at),
        "source": (f"{parsed.source}:{parsed.source_line}" if parsed.source_line else parsed.source)[:200],
    }


CHUNK = 200
log = logging.getLogger(__name__)


def import_parsed(result, *, actor: inventory.Actor | None = None, ship_by_hours: int = 48) -> OrderImportReport:
    """Store every parsed order. New orders go a chunk at a time (order_batch); changed ones, and
    any chunk whose stock moved under it, one order per transaction. On PostgreSQL a chunk that
    needs nothing else is written while the next is planned (order_batch.Writing); a chunk with
    orders to take one by one waits for the one before, so that orders still take the stock in
    the file's order."""
    actor = actor or inventory.system_actor()
    report = OrderImportReport(problems=[])
    products = order_batch.product_info()
    skus = {sku: info[0] for sku, info in products.items()}
    with order_batch.fewer_collections():
        if is_sqlite() or database.in_transaction():  # a writer's commit of its own would not be the caller's
            _import_chunks(result.orders, products, skus, actor, ship_by_hours, report, apart=False)
        else:
            with order_batch.quick_switches():
                _import_chunks(result.orders, products, skus, actor, ship_by_hours, report, apart=True)
    report.problems[:0] = [str(p) for p in result.problems]  # complete now, if the orders were streamed
    return report


def _import_chunks(orders, products, skus, actor, ship_by_hours, report, apart: bool) -> None:
    """The chunks in the file's order; with ``apart``, each written on a thread of its own.
    ``orders``: a list or an iterator (a streamed parse, whose orders are read while the chunks
    before them are written). A chunk's fingerprints are made here too, chunk by chunk (made for
    the whole file first, they kept PostgreSQL idle for a second of 100,000 lines)."""
    analyze_at = ANALYZE_FIRST
    site = None  # read once for the whole import, at its first chunk
    ids = order_batch.Ids()
    writing = None  # the chunk before, still being written
    orders = iter(orders)
    try:
        while parsed_chunk := list(itertools.islice(orders, CHUNK)):
            chunk = _storable(parsed_chunk, report)
            if not chunk:
                continue
            site = site or order_batch.places()
            if writing is not None and (report.created + len(writing.plans) >= analyze_at
                                        or writing.keys & {_key(parsed) for parsed, _ in chunk}):
                _written(writing, skus, actor, ship_by_hours, report)  # its orders are known now
                writing = None
            if report.created >= analyze_at:
                _analyze()
                analyze_at *= 4
            known = _fingerprints(parsed for parsed, _ in chunk)
            fresh, one_by_one, seen, later = [], [], set(), []
            for parsed, fp in chunk:
                key = _key(parsed)
                if key in known and known[key][0] == fp:
                    report.unchanged += 1
                    if _newer(parsed, known[key][1]):
                        later.append(parsed)
                elif key in known or key in seen or _duplicate_lines(parsed):
                    one_by_one.append(parsed)
                else:
                    seen.add(key)
                    fresh.append((parsed, fp, _header(parsed, ship_by_hours)))
            plans, slow = _plan(fresh, products, actor, site, writing)
            alone = apart and plans and not (slow or one_by_one or later)  # written on its own thread
            ready = order_batch.Writing(plans, products, actor, ids) if alone else None  # its rows made before the wait
            if writing is not None:
                if not _written(writing, skus, actor, ship_by_hours, report):
                    plans, slow = _plan(fresh, products, actor, site)  # its orders went one by one: the stock as it is now
                    alone = apart and plans and not (slow or one_by_one or later)
                    ready = order_batch.Writing(plans, products, actor, ids) if alone else None
                writing = None
            if ready is not None:
                writing = ready.start()
                continue
            try:
                order_batch.write_chunk(plans, products, actor, ids=ids)
            except order_batch.GuardFailed:  # another writer took stock first: take the chunk order by order
                plans, slow = [], [parsed for parsed, _, _ in fresh]
            except Exception:  # a row the database refused: the order-by-order path names the order
                log.warning("order chunk written order by order", exc_info=True)
                plans, slow = [], [parsed for parsed, _, _ in fresh]
            _count(plans, report)
            for parsed in slow + one_by_one:
                _import_alone(parsed, skus, actor, ship_by_hours, report)
            _note_modified(later)
        if writing is not None:
            _written(writing, skus, actor, ship_by_hours, report)
            writing = None
    finally:
        if writing is not None:  # the caller's thread is leaving: the chunk ends before it does
            writing.wait()


def _key(parsed) -> tuple:
    return parsed.channel, parsed.shop, parsed.external_id


def _plan(fresh, products, actor, site, writing=None) -> tuple[list, list]:
    try:
        return order_batch.plan_chunk(fresh, products, actor, writing, site)
    except Exception:  # what the planner could not decide, the order-by-order path names
        log.warning("order chunk planned order by order", exc_info=True)
        return [], [parsed for parsed, _, _ in fresh]


def _written(writing, skus, actor, hours, report) -> bool:
    """Wait for a chunk written on its own thread and count it; if it did not stand, its orders
    go one by one. True when it stood."""
    error = writing.wait()
    if error is None:
        _count(writing.plans, report)
        return True
    if not isinstance(error, Exception):
        raise error
    if not isinstance(error, order_batch.GuardFailed):
        log.warning("order chunk written order by order", exc_info=error)
    for plan in writing.plans:
        _import_alone(plan.parsed, skus, actor, hours, report)
    return False


def _count(plans, report) -> None:
    for plan in plans:
        report.created += 1
        if plan.status in ("cancelled", "held", "allocated", "backorder"):
            setattr(report, plan.status, getattr(report, plan.status) + 1)
    if plans:
        events.publish("orders.imported", {"count": len(plans)}, rooms=["role:office", "role:supervisor"])


def _newer(parsed, stored) -> bool:
    return parsed.modified_at is not None and (stored is None or _naive(parsed.modified_at) > stored)


def _note_modified(later) -> None:
    """Orders the channel says again, unchanged, at a later time: that time is the one an older
    payload is measured against from now on."""
    if not later:
        return
    with write_transaction():
        for parsed in later:
            at = _naive(parsed.modified_at)
            Order.update(channel_modified_at=at).where(
                (Order.channel == parsed.channel) & (Order.shop == parsed.shop)
                & (Order.external_id == parsed.external_id)
                & (Order.channel_modified_at.is_null() | (Order.channel_modified_at < at))).execute()


def _storable(parsed_orders, report) -> list[tuple]:
    """(order, fingerprint) of the orders whose text a database can hold: a NUL character (which
    no adapter's check stops in a JSON string) is refused by PostgreSQL, so the order that has
    one is named. The fingerprint's text shows a NUL as the four characters ``\\x00``: only an
    order whose text has them, or whose source name has a NUL, is searched field by field."""
    storable = []
    for parsed in parsed_orders:
        facts = _facts(parsed)
        field = _nul_field(parsed) if "\\x00" in facts or "\x00" in parsed.source else None
        if field is None:
            storable.append((parsed, hashlib.sha256(facts.encode()).hexdigest()))
        else:
            where = f"{parsed.source}:{parsed.source_line}" if parsed.source_line else parsed.source
            order = parsed.external_id.replace("\x00", "\\x00")
            report.problems.append(f"{where}: order {order}: {field}: contains a NUL character")
    return storable


def _nul_field(parsed) -> str | None:
    for name, value in vars(parsed).items():
        if isinstance(value, str) and "\x00" in value:
            return name
    for index, line in enumerate(parsed.lines):
        for name, value in vars(line).items():
            if isinstance(value, str) and "\x00" in value:
                return f"lines[{index}].{name}"
    return None


# PostgreSQL plans the fingerprint lookup from the tables' statistics. Without them, as in a
# large first import with autovacuum off or not yet come round, it reads every order of the
# shop for each chunk (73 ms a chunk at 10,000 orders, and growing). A large import refreshes
# them itself, after its first thousand orders and each time the count has grown fourfold (the
# plan stays the index's once the statistics say the external id is unique; refreshing at each
# doubling cost 100,000 lines 0.9 s).
ANALYZE_FIRST = 1000


def _analyze() -> None:
    if not is_sqlite():
        database.execute_sql('ANALYZE "order", "order_line"')


def _transient(exc: Exception) -> bool:
    text = str(exc).lower()
    return "deadlock" in text or "could not serialize" in text or "database is locked" in text


def _fingerprints(chunk) -> dict:
    """(channel, shop, external id) -> (stored fingerprint, channel's modification time), for the
    chunk's orders that exist. One query per channel and shop, so that it is a search of the
    unique key's index: by the external id alone it read the whole order table for every chunk."""
    ids = defaultdict(set)
    for parsed in chunk:
        ids[(parsed.channel, parsed.shop)].add(parsed.external_id)
    known = {}
    for (channel, shop), external_ids in ids.items():
        if is_sqlite():
            rows = Order.select(Order.external_id, Order.fingerprint, Order.channel_modified_at).where(
                (Order.channel == channel) & (Order.shop == shop)
                & Order.external_id.in_(sorted(external_ids))).tuples()
        else:  # the ids as one array: peewee and psycopg took longer over 200 placeholders than the query ran
            rows = sql(FINGERPRINTS, channel, shop, list(external_ids)).fetchall()
        known.update(((channel, shop, e), (fp, modified)) for e, fp, modified in rows)
    return known


FINGERPRINTS = ('SELECT external_id, fingerprint, channel_modified_at FROM "order"'
                " WHERE channel = ? AND shop = ? AND external_id = ANY(?)")


def _duplicate_lines(parsed) -> bool:
    ids = [line.external_line_id for line in parsed.lines]
    return len(ids) != len(set(ids))


def _import_alone(parsed, skus, actor, hours, report, attempts: int = 3) -> None:
    for attempt in range(attempts):
        try:
            with write_transaction():
                outcome = _import_one(parsed, skus, actor, hours)
            break
        except Exception as exc:  # one bad order must not stop the others; it is reported
            if _transient(exc) and attempt < attempts - 1:
                continue  # a deadlock or serialisation conflict with another writer: run it again
            report.problems.append(f"{parsed.source}:{parsed.source_line or ''}: order {parsed.external_id}: "
                                   f"{type(exc).__name__}: {exc}")
            return
    for name in outcome:
        setattr(report, name, getattr(report, name) + 1)


def _import_one(parsed, skus: dict, actor, hours: int) -> list[str]:
    fp = fingerprint(parsed)
    order = orders.by_external(parsed.channel, parsed.shop, parsed.external_id)
    if order is not None and order.fingerprint == fp:
        return ["unchanged"]
    if order is None:
        return ["created"] + _create(parsed, skus, fp, actor, hours)
    if _older(parsed, order):
        return ["unchanged"]  # a replayed or late payload: the order holds a newer one already
    return ["updated"] + _update(order, parsed, skus, fp, actor, hours)


def _older(parsed, order: Order) -> bool:
    """Whether the channel changed the order after it wrote ``parsed``."""
    stored = order.channel_modified_at
    return parsed.modified_at is not None and stored is not None and _naive(parsed.modified_at) < stored


def _create(parsed, skus, fp, actor, hours) -> list[str]:
    initial = "shipped" if parsed.status in ("shipped", "finished") else "new"
    order = Order.create(channel=parsed.channel, shop=parsed.shop, external_id=parsed.external_id, fingerprint=fp,
                         status=initial, **_header(parsed, hours))
    OrderLine.insert_many([
        {"order": order.id, "external_line_id": line.external_line_id, "sku_code": line.sku_code[:64],
         "product": skus.get(line.sku_code), "title": line.title[:200], "qty": line.qty,
         "price_fen": line.price_fen, "paid_fen": line.paid_fen, "refund_status": line.refund_status}
        for line in parsed.lines]).execute()
    orders.record(order, "imported", order.source, actor)
    return _advance(order, parsed, actor)


def _advance(order: Order, parsed, actor) -> list[str]:
    """Take a new or updated order as far as it can go now."""
    if parsed.status == "closed" or _all_refunded(order):
        if order.status not in ("cancelled", "shipped"):
            office.cancel(order, actor, f"channel: {parsed.channel_status}")
            return ["cancelled"]
        return []
    if order.status == "new" and parsed.status in TO_REVIEW:
        orders.transition(order, "reviewing", actor, "paid")
        review_and_route(order, actor)
        status = Order.get_by_id(order.id).status
        return [status] if status in ("held", "allocated", "backorder") else []
    return []


def _all_refunded(order: Order) -> bool:
    lines = list(OrderLine.select().where(OrderLine.order == order.id))
    return bool(lines) and all(line.refund_status == "refunded" for line in lines)


def _update(order: Order, parsed, skus, fp, actor, hours) -> list[str]:
    if order.status == "shipped":
        orders.record(order, "channel_change_ignored", f"{parsed.channel_status} after shipping", actor)
        Order.update(fingerprint=fp).where(Order.id == order.id).execute()
        return []
    Order.update(fingerprint=fp, updated_at=utcnow(), **_header(parsed, hours)).where(Order.id == order.id).execute()
    if order.merged_into_id:
        # its lines ship with the order it was merged into: changes apply there, line by line
        order = Order.get_by_id(order.merged_into_id)
        if parsed.status == "closed":
            parsed = dataclasses.replace(parsed, status="paid", lines=[
                dataclasses.replace(line, refund_status="refunded") for line in parsed.lines])
        else:
            parsed = dataclasses.replace(parsed, status="paid")
    existing = {line.external_line_id: line for line in OrderLine.select().where(OrderLine.order == order.id)}
    refunded = []
    for line in parsed.lines:
        current = existing.get(line.external_line_id)
        if current is None:
            OrderLine.create(order=order.id, external_line_id=line.external_line_id, sku_code=line.sku_code[:64],
                             product=skus.get(line.sku_code), title=line.title[:200], qty=line.qty,
                             price_fen=line.price_fen, paid_fen=line.paid_fen, refund_status=line.refund_status)
            continue
        if current.refund_status != line.refund_status:
            OrderLine.update(refund_status=line.refund_status).where(OrderLine.id == current.id).execute()
            if line.refund_status == "refunded":
                refunded.append(current)
    order = Order.get_by_id(order.id)
    orders.record(order, "channel_update", parsed.channel_status, actor)
    if refunded and order.status in ("allocated", "backorder", "approved", "held"):
        allocation.release_allocations(order, actor, refunded)
        orders.record(order, "lines_refunded", ", ".join(l.external_line_id for l in refunded), actor)
    outcome = _advance(order, parsed, actor)
    if outcome:
        return outcome
    pending = any(l.refund_status == "pending" for l in parsed.lines)
    if order.status in ("approved", "allocated", "backorder") and (pending or refunded):
        allocation.release_allocations(order, actor)
        review.hold(order, actor, "channel change")
        order = Order.get_by_id(order.id)
    if order.status == "held" and not pending:
        orders.transition(order, "reviewing", actor, "channel change")
        review_and_route(order, actor)
    status = Order.get_by_id(order.id).status
    return [status] if status in ("held", "allocated", "backorder") else []


def import_files(channel: str, paths, shop: str | None = None, *, actor=None, ship_by_hours: int = 48,
                 **options) -> OrderImportReport:
    adapter = get_adapter(ADAPTERS.get(channel, channel), **options)
    read = getattr(adapter, "stream", adapter.parse)  # a streaming adapter's orders are stored as they are read
    with order_batch.fewer_collections():  # the files' parse too
        result = read([str(p) for p in paths] if len(paths) != 1 else str(paths[0]), shop=shop)
        return import_parsed(result, actor=actor, ship_by_hours=ship_by_hours)


ADAPTERS = {"tmall": "tmall_csv", "top": "top_json", "jd": "jd_json", "douyin": "douyin_json", "csv": "mapped_csv"}
