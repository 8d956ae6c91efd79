"""What wave planning knows of an order: its strategy under the rules, its rank (priority,
deadlines, payment time), and its picks (allocation, location, zone, lot, units), with weight and
volume, read for thousands of orders in a few queries.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from server.models import Allocation, Location, Order, OrderLine, Product
from server.services.orders import facts as order_facts
from server.services.rulebook import book
from server.services.waves import batching

IN_CHUNK = 5000  # ids per IN (...) list


@dataclass
class Pick:
    allocation: int
    line: int
    product: int
    location: int
    code: str
    zone: int | None
    lot: str
    qty: int


@dataclass
class Facts:
    order: Order
    strategy: object
    rank_key: tuple
    order_lines: int
    picks: list[Pick] = field(default_factory=list)
    weight_g: int = 0
    volume: int = 0
    rank: int = 0
    context: dict | None = None  # the order as the rules see it, when the strategy was left for later

    @property
    def units(self) -> int:
        return sum(p.qty for p in self.picks)

    def as_pick(self, aggregate: bool, rank: int | None = None) -> batching.Pick:
        spots = frozenset(p.code for p in self.picks)
        keys = frozenset((p.product, p.location, p.lot) for p in self.picks)
        return batching.Pick(self.order.id, self.rank if rank is None else rank, spots,
                             len(keys) if aggregate else len(self.picks),
                             self.units, self.weight_g, self.volume, keys if aggregate else frozenset())


def chunks(ids):
    ids = list(ids)
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start:start + IN_CHUNK]


def facts_of(found: list[Order], strategies: bool = True) -> list[Facts]:
    """Strategy, rank and pick lines of each order, most urgent first. ``strategies=False``
    leaves each strategy to :func:`strategy_of`: a wave's release knows its strategy already,
    and choosing one for each of its orders (a CEL evaluation each) was a seventh of the release."""
    rules = book().waves
    ids = [o.id for o in found]
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    picks: dict[int, list[Pick]] = defaultdict(list)
    for chunk in chunks(ids):
        for line in OrderLine.select().where(OrderLine.order.in_(chunk)).order_by(OrderLine.id):
            if line.refund_status != "refunded" and line.qty > 0:
                lines[line.order_id].append(line)
        rows = (Allocation.select(Allocation.id, Allocation.lot, Allocation.qty, OrderLine.id, OrderLine.order,
                                  OrderLine.product, Location.id, Location.code, Location.zone)
                .join(OrderLine).switch(Allocation).join(Location)
                .where(OrderLine.order.in_(chunk)).order_by(Allocation.id).tuples())
        for allocation, lot, qty, line, order, product, location, code, zone in rows:
            picks[order].append(Pick(allocation, line, product, location, code, zone, lot, qty))
    product_ids = {line.product_id for ls in lines.values() for line in ls if line.product_id}
    products = {}
    for chunk in chunks(product_ids):
        products.update({p.id: p for p in Product.select().where(Product.id.in_(chunk))})
    facts = []
    for order in found:
        order_context = context(order, lines[order.id], products)
        ranked = dict(order_context, ship_by=order.ship_by, presale_ship_by=order.presale_ship_by,
                      carrier_cutoff=None)
        key = (-order.priority, rules.priority_key(ranked), order.paid_at or order.created_at, order.id)
        fact = Facts(order, rules.strategy_for(order_context) if strategies else None, key, len(lines[order.id]),
                     picks[order.id], context=None if strategies else order_context)
        fact.weight_g = sum(products[p.product].weight_g * p.qty for p in fact.picks)
        fact.volume = sum(volume_cm3(products[p.product]) * p.qty for p in fact.picks)
        facts.append(fact)
    facts.sort(key=lambda f: f.rank_key)
    for rank, fact in enumerate(facts):
        fact.rank = rank
    return facts


def strategy_of(fact: Facts):
    """The wave strategy the rules choose for the order of ``fact``."""
    return fact.strategy if fact.strategy is not None else book().waves.strategy_for(fact.context)


def volume_cm3(product: Product) -> int:
    return product.length_mm * product.width_mm * product.height_mm // 1000


def context(order: Order, lines: list[OrderLine], products: dict[int, Product]) -> dict:
    """The order as the rules see it, with the wave's products already loaded (one query for a
    whole wave instead of one per order)."""
    return order_facts.context(order, lines, products=products)
