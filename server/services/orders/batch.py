"""The fast path of order import: new orders are reviewed, routed and reserved a chunk at a
time. Every decision is the same as the order-by-order path (the same rules, the same
pick-faces-first choice); what changes is the number of round trips: the free stock of a
chunk's SKUs is read once, assigned in memory, and written back with one guarded update per
quant (``reserved = reserved + n WHERE qty - reserved >= n``, the inventory's chunk verb). If any guard fails, because
another writer took the stock first, the chunk is rolled back and taken order by order, so
nothing is ever oversold. Orders the fast path does not handle (product-group splits,
splits across warehouses) go the order-by-order way too.

On PostgreSQL a chunk is written on a thread of its own (:class:`Writing`) while the next is
planned: the database inserts one while Python decides the other. The next chunk's plan reads
the free stock either before the chunk's commit, and counts its promises as taken, or after it;
the two never overlap (:meth:`Writing.free`)."""
from __future__ import annotations

import dataclasses
import gc
import sys
import threading
from collections import Counter, defaultdict
from contextlib import contextmanager
from typing import NamedTuple

from server.db import insert_later, insert_rows, is_sqlite, next_ids, pipeline, write_transaction
from server.models import Allocation, Location, Order, OrderEvent, OrderLine, Product, Quant, Shop, Warehouse
from server.models.base import utcnow
from server.models.layout import PICKABLE_KINDS
from rules.order import OrderContext
from server.services.errors import InsufficientStock
from server.services.orders.facts import RuleLine, TO_REVIEW, is_active, rules_view
from server.services.purchasing import intransit
from server.services.rulebook import book
from server.services.stock import inventory



class GuardFailed(Exception):
    """Free stock changed under the chunk; take it order by order."""


@dataclasses.dataclass
class Plan:
    parsed: object
    fingerprint: str
    header: dict
    status: str
    holds: str = ""
    warehouse_id: int | None = None
    carrier: str = ""
    takes: dict = dataclasses.field(default_factory=dict)  # line index -> [(quant key, qty)]
    events: list = dataclasses.field(default_factory=list)


def _context(parsed, products: dict, fillers=(), in_transit=((), False)) -> dict:
    """The parsed order as the rules see it (orders.facts builds it for both paths)."""
    lines = []
    for line in parsed.lines:
        info = products.get(line.sku_code)
        lines.append(RuleLine(line.sku_code, line.qty, line.paid_fen, line.refund_status,
                              info[1:] if info else None))
    return rules_view(parsed, parsed.status, lines, fillers, *in_transit)


def _free(product_ids) -> dict:
    """warehouse id -> product id -> [[quant key, location id, lot, free]] pick faces first."""
    free: dict = defaultdict(lambda: defaultdict(list))
    rows = (Quant.select(Quant.id, Location.warehouse, Quant.product, Quant.location, Quant.lot,
                         Quant.qty - Quant.reserved)
            .join(Location)
            .where((Quant.state == "available") & (Quant.qty > Quant.reserved) & Location.kind.in_(PICKABLE_KINDS)
                   & Location.active & Quant.product.in_(list(product_ids)))
            .order_by(Location.kind != "pick", Location.pick_seq, Location.id).tuples())
    for quant_id, warehouse, product, location, lot, available in rows:
        free[warehouse][product].append([quant_id, location, lot, int(available)])
    return free


class Places(NamedTuple):
    """What an import reads once for all its chunks, as it reads the catalogue once: warehouse
    code -> id, the shops that sell against stock in transit (预售), and the units in transit
    ((product id, warehouse id) -> units; purchase orders change them, not orders)."""
    warehouses: dict
    presale_shops: set
    inbound: dict


def places() -> Places:
    return Places(dict(Warehouse.select(Warehouse.code, Warehouse.id).tuples()),
                  set(Shop.select(Shop.code).where(Shop.sell_in_transit).tuples()),
                  intransit.by_warehouse(None))


def plan_chunk(items, products: dict, actor, writing: Writing | None = None,
               site: Places | None = None) -> tuple[list[Plan], list]:
    """Decide every new order of a chunk in memory; return the plans and the parsed orders that
    need the order-by-order path. ``writing``: the chunk before, still being written; what it
    promises is not free for this one. ``site``: :func:`places` as the import read them."""
    rules = book()
    warehouses, presale_shops, inbound = site or places()  # inbound: 在途, for the rules' context
    product_ids = {products[l.sku_code][0] for p, _, _ in items for l in p.lines if l.sku_code in products}
    free = writing.free(product_ids) if writing is not None else _free(product_ids)
    plans, slow = [], []
    for parsed, fp, header in items:
        plan = Plan(parsed, fp, header, "new")
        plans.append(plan)
        active = [(i, l) for i, l in enumerate(parsed.lines) if is_active(l.refund_status, l.qty)]
        if parsed.status in ("shipped", "finished"):
            plan.status = "shipped"
            continue
        if parsed.status == "closed" or not active:
            plan.status = "cancelled"
            plan.events = [("cancelled", f"channel: {parsed.channel_status}")]
            continue
        if parsed.status not in TO_REVIEW:
            continue
        needs = defaultdict(int)
        for _, line in active:
            if line.sku_code in products:
                needs[products[line.sku_code][0]] += line.qty
        fillers = [code for code, wid in sorted(warehouses.items())
                   if all(sum(q[3] for q in free[wid].get(p, ())) >= n for p, n in needs.items())]
        with_inbound = [code for code, wid in sorted(warehouses.items())
                        if all(sum(q[3] for q in free[wid].get(p, ())) + inbound.get((p, wid), 0) >= n
                               for p, n in needs.items())]
        in_transit = (with_inbound, (parsed.shop,) in presale_shops)
        ctx = OrderContext(_context(parsed, products, fillers, in_transit))  # converted once for all three rule files
        review = rules.review.review(ctx)
        plan.events = [("reviewing", "paid")]
        if not review.approved:
            plan.status, plan.holds = "held", ",".join(h.code for h in review.holds)
            plan.events.append(("held", "; ".join(f"{h.code}: {h.name_zh}" for h in review.holds)))
            continue
        plan.events.append(("approved", "rules approved"))
        decision = rules.routing.route(ctx)
        if len([g for g in decision.groups if g.lines]) > 1:
            plans.pop()
            slow.append(parsed)
            continue
        chosen = next((c for c in decision.warehouses if c in fillers), None)
        if chosen is None:
            if decision.policy == "split" and len(active) > 1:
                plans.pop()
                slow.append(parsed)
                continue
            plan.status = "backorder"
            plan.events.append(("backorder", _missing(active, products, needs, free, warehouses)))
            continue
        wid = warehouses[chosen]
        for index, line in active:
            need, taken = line.qty, []
            for quant in free[wid][products[line.sku_code][0]]:
                if quant[3] <= 0:
                    continue
                take = min(need, quant[3])
                quant[3] -= take
                taken.append((quant, take))
                need -= take
                if need == 0:
                    break
            plan.takes[index] = taken
        plan.status, plan.warehouse_id = "allocated", wid
        plan.carrier = rules.carriers.choose_carrier(ctx)
        plan.events.append(("allocated", f"{chosen} {plan.carrier}"))
    return plans, slow


def _missing(active, products, needs, free, warehouses) -> str:
    """What each warehouse lacks, as the order-by-order path words it: ``WH-HZ: TS-01 -2``."""
    names = {products[line.sku_code][0]: line.sku_code for _, line in active}
    parts = []
    for code, wid in sorted(warehouses.items()):
        short = {p: n - sum(q[3] for q in free[wid].get(p, ())) for p, n in needs.items()}
        parts.append(f"{code}: " + ", ".join(f"{names[p]} -{n}" for p, n in short.items() if n > 0))
    return "; ".join(parts)


class Ids:
    """PostgreSQL: order and line ids taken from their sequences ahead of the chunks that use
    them, several chunks' worth in one round trip (:func:`server.db.next_ids`). One per import,
    so that its orders' ids still follow the file."""

    AHEAD = 5  # chunks' worth taken at once

    def __init__(self, ahead: int = AHEAD):
        self.ahead = ahead
        self._orders: list[int] = []
        self._lines: list[int] = []
        self._lock = threading.Lock()

    def take(self, orders: int, lines: int) -> list[list[int]]:
        with self._lock:
            if len(self._orders) < orders or len(self._lines) < lines:
                more_orders, more_lines = next_ids((Order, orders * self.ahead), (OrderLine, lines * self.ahead))
                self._orders += more_orders
                self._lines += more_lines
            taken = [self._orders[:orders], self._lines[:lines]]
            del self._orders[:orders], self._lines[:lines]
            return taken


def write_chunk(plans: list[Plan], products: dict, actor, before_commit=None, ids: Ids | None = None,
                statements: list | None = None) -> None:
    """Store the plans in one transaction; the reservation's guarded updates decide whether the
    chunk stands (:class:`GuardFailed` when another writer took the stock first).
    ``before_commit``: called once everything is written, before the commit.

    On PostgreSQL the rows' ids are known before they are written (``ids``: the import's
    :class:`Ids`), so that no statement waits for an answer: they go to the server together
    (:func:`server.db.pipeline`), three round trips a chunk with BEGIN and COMMIT instead of
    eleven. ``statements``: the chunk's, made beforehand by :func:`chunk_statements`."""
    if not plans:
        return
    if statements is None and not is_sqlite():
        statements = chunk_statements(plans, products, actor, ids)
    with write_transaction():
        try:
            with pipeline():
                if statements is None:
                    _write_one_by_one(plans, products, actor, utcnow())
                else:
                    for send in statements:
                        send()
        except InsufficientStock as exc:
            raise GuardFailed(exc.params.get("quant")) from exc
        except Exception as exc:
            short = inventory.short_quant(exc)  # in a pipeline, the refusal comes with the answers
            if short is not None:
                raise GuardFailed(short[0]) from exc
            raise
        if before_commit is not None:
            before_commit()


def chunk_statements(plans: list[Plan], products: dict, actor, ids: Ids | None = None) -> list:
    """PostgreSQL: the chunk's statements, each sent when called: its rows with their ids, made
    on the calling thread (the one that plans), so that the thread that writes only sends them."""
    now = utcnow()
    order_ids, line_ids = (ids or Ids(ahead=1)).take(len(plans), sum(len(p.parsed.lines) for p in plans))
    order_rows = _order_rows(plans, now)
    for row, order_id in zip(order_rows, order_ids):
        row["id"] = order_id
    line_rows = _line_rows(plans, order_ids, products)
    for row, line_id in zip(line_rows, line_ids):
        row["id"] = line_id
    allocations, takes, events = _after_lines(plans, order_ids, line_ids, products, actor, now)
    return [insert_later(Order, order_rows), insert_later(OrderLine, line_rows),
            *inventory.reserve_chunk_later(takes, actor=actor, at=now),
            insert_later(Allocation, allocations), insert_later(OrderEvent, events)]


def _write_one_by_one(plans, products, actor, now) -> None:
    """SQLite: the chunk's rows, each insert answering the ids the next needs."""
    by_key = {(c, s, e): oid for oid, c, s, e in insert_rows(Order, _order_rows(plans, now),
                                                             ("id", "channel", "shop", "external_id"))}
    order_ids = [by_key[(p.parsed.channel, p.parsed.shop, p.parsed.external_id)] for p in plans]
    line_rows = _line_rows(plans, order_ids, products)
    by_line = {(oid, ext): lid for lid, oid, ext in insert_rows(OrderLine, line_rows,
                                                                 ("id", "order_id", "external_line_id"))}
    line_ids = [by_line[(row["order"], row["external_line_id"])] for row in line_rows]
    allocations, takes, events = _after_lines(plans, order_ids, line_ids, products, actor, now)
    inventory.reserve_chunk(takes, actor=actor, at=now)
    insert_rows(Allocation, allocations)
    insert_rows(OrderEvent, events)


def _order_rows(plans, now) -> list[dict]:
    return [dict(channel=p.parsed.channel, shop=p.parsed.shop, external_id=p.parsed.external_id,
                 fingerprint=p.fingerprint, status=p.status, hold_reasons=p.holds,
                 warehouse=p.warehouse_id, carrier=p.carrier, created_at=now, updated_at=now, **p.header)
            for p in plans]


def _line_rows(plans, order_ids, products) -> list[dict]:
    """Every line of the chunk, in the plans' order."""
    rows = []
    for plan, order_id in zip(plans, order_ids):
        for index, line in enumerate(plan.parsed.lines):
            rows.append({"order": order_id, "external_line_id": line.external_line_id,
                         "sku_code": line.sku_code[:64], "product": products.get(line.sku_code, (None,))[0],
                         "title": line.title[:200], "qty": line.qty, "price_fen": line.price_fen,
                         "paid_fen": line.paid_fen, "refund_status": line.refund_status,
                         "reserved_qty": sum(q for _, q in plan.takes.get(index, ())),
                         "picked_qty": 0, "short_qty": 0})
    return rows


def _after_lines(plans, order_ids, line_ids, products, actor, now) -> tuple[list, list, list]:
    """The allocations, the stock's takes and the order history of the chunk, its lines' ids known."""
    allocations, takes, events = [], [], []
    next_line = iter(line_ids)
    for plan, order_id in zip(plans, order_ids):
        for index, line in enumerate(plan.parsed.lines):
            line_id = next(next_line)
            for quant, qty in plan.takes.get(index, ()):
                allocations.append({"line": line_id, "location": quant[1], "lot": quant[2], "qty": qty})
                takes.append(inventory.Take(quant[0], products[line.sku_code][0], quant[1], quant[2], qty,
                                            f"order:{order_id}"))
        events.append({"order": order_id, "at": now, "user": actor.user_id, "action": "imported",
                       "detail": plan.header["source"]})
        events.extend({"order": order_id, "at": now, "user": actor.user_id, "action": action,
                       "detail": detail[:2000]} for action, detail in plan.events)
    return allocations, takes, events


class Writing:
    """A chunk's plans written on a thread of its own (its own connection), while the caller
    plans the next chunk. Made, it holds the chunk's statements (made on the caller's thread,
    which may still be waiting for the chunk before); :meth:`start` sends them. :meth:`wait` says
    how it ended: None when it committed, else what it raised (:class:`GuardFailed`, a
    database's refusal)."""

    def __init__(self, plans: list[Plan], products: dict, actor, ids: Ids | None = None):
        self.plans = plans
        self.keys = {(p.parsed.channel, p.parsed.shop, p.parsed.external_id) for p in plans}
        self.promised = Counter()  # quant id -> units this chunk reserves
        for plan in plans:
            for taken in plan.takes.values():
                for quant, qty in taken:
                    self.promised[quant[0]] += qty
        self.committed = False
        self.error: BaseException | None = None
        self._gate = threading.Lock()  # held by the commit, and by a read of the free stock
        self._thread = None
        try:  # the rows are made here, on the thread that plans: the one that writes only sends them
            self.statements = None if is_sqlite() else chunk_statements(plans, products, actor, ids)
        except Exception as exc:  # told by wait(), as a refusal of the write would be
            self.error = exc
        self._sending = (products, actor)

    def start(self) -> Writing:
        if self.error is None and self._thread is None:
            self._thread = threading.Thread(target=self._write, args=self._sending, name="order-chunk", daemon=True)
            self._thread.start()
        return self

    def _write(self, products, actor) -> None:
        held = False

        def close_the_gate():
            nonlocal held
            self._gate.acquire()
            held = True

        try:
            write_chunk(self.plans, products, actor, before_commit=close_the_gate, statements=self.statements)
            self.committed = True
        except BaseException as exc:  # the caller's thread hears it from wait()
            self.error = exc
        finally:
            if held:
                self._gate.release()

    def free(self, product_ids) -> dict:
        """The free stock as :func:`_free` reads it, less what this chunk promises unless the
        read saw its commit."""
        with self._gate:
            free = _free(product_ids)
            seen = self.committed
        if not seen:
            for quants in free.values():
                for entries in quants.values():
                    for quant in entries:
                        quant[3] -= self.promised.get(quant[0], 0)
        return free

    def wait(self) -> BaseException | None:
        if self._thread is not None:
            self._thread.join()
        return self.error


class _WhileImporting:
    """A setting of the whole interpreter, changed while any import runs and given back when the
    last import running ends (two may run at once)."""

    def __init__(self, read, write, during):
        self._read, self._write, self._during = read, write, during
        self._running, self._before, self._lock = 0, None, threading.Lock()

    @contextmanager
    def __call__(self):
        with self._lock:
            if self._running == 0:
                self._before = self._read()
                self._write(self._during(self._before))
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._write(self._before)


# While a chunk is written on its own thread, each answer the database sends it waits for the
# thread planning the next chunk to let go of the interpreter: after 5 ms by default, for each of
# a chunk's statements. 1 ms took the 100,000-line import on PostgreSQL from 32-33 s to 27.5 s
# (tests/bench/bench_order_import.py, same hour; one chunk at a time: 34-37 s). A server under
# gevent has no second thread to wait for; the writer there is a greenlet.
SWITCH_S = 0.001
quick_switches = _WhileImporting(sys.getswitchinterval, sys.setswitchinterval,
                                 lambda before: min(SWITCH_S, before))

# An import makes objects by the million that live until it ends (the parsed orders and lines,
# a chunk's rows). The cycle collector looks at the newest objects each time 700 more have been
# made, by default, and at the older ones every tenth time: the parse of 100,000 Tmall lines took
# 4.2 to 5.2 s so, 2.9 to 4.2 s with a look every 50,000 (six parses each, in turn, one process).
# Garbage without cycles is freed at once either way.
COLLECT_EVERY = 50_000
fewer_collections = _WhileImporting(gc.get_threshold, lambda threshold: gc.set_threshold(*threshold),
                                    lambda before: (max(COLLECT_EVERY, before[0]), *before[1:]))


def product_info() -> dict:
    """sku -> (id, weight_g, bulky, cold_chain)."""
    return {sku: (pid, weight, bulky, cold) for sku, pid, weight, bulky, cold in
            Product.select(Product.sku, Product.id, Product.weight_g, Product.bulky, Product.cold_chain).tuples()}



