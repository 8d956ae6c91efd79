"""Routing (分仓), carriers and reservation: an approved order is reserved in the first
candidate warehouse that can fill it, split when the rules allow, or backordered with what is
missing and tried again when stock arrives. Reservations are guarded updates: never oversold."""
from __future__ import annotations

from collections import defaultdict

from peewee import fn

from server import events
from server.db import write_transaction
from server.models import Allocation, Location, Order, OrderLine, Quant, Shop, Warehouse
from server.models.base import utcnow
from server.models.layout import PICKABLE_KINDS
from server.services.errors import InsufficientStock
from server.services.orders import lifecycle as orders
from server.services.orders.facts import active_lines, context
from server.services.purchasing import intransit
from server.services.rulebook import book
from server.services.stock import inventory



def free_stock(warehouse_id: int, product_ids) -> dict[int, int]:
    rows = (Quant.select(Quant.product, fn.SUM(Quant.qty - Quant.reserved))
            .join(Location)
            .where((Location.warehouse == warehouse_id) & (Quant.state == "available")
                   & Location.kind.in_(PICKABLE_KINDS) & Location.active & Quant.product.in_(list(product_ids)))
            .group_by(Quant.product).tuples())
    return {product: int(free or 0) for product, free in rows}


def _needs(lines) -> dict[int, int]:
    needs: dict[int, int] = defaultdict(int)
    for line in lines:
        needs[line.product_id] += line.qty - line.reserved_qty
    return {k: v for k, v in needs.items() if v > 0}


def _fillers(lines) -> list[str]:
    needs = _needs(lines)
    able = []
    for warehouse in Warehouse.select().order_by(Warehouse.code):
        free = free_stock(warehouse.id, needs)
        if all(free.get(p, 0) >= n for p, n in needs.items()):
            able.append(warehouse.code)
    return able


def _fillers_in_transit(lines, order: Order) -> tuple[list[str], bool]:
    """The warehouses whose free units and units in transit (在途) together fill the order, and
    whether its shop sells presale against them: what the routing rules see of inbound stock."""
    needs = _needs(lines)
    inbound = intransit.by_warehouse(needs)
    able = []
    for warehouse in Warehouse.select().order_by(Warehouse.code):
        free = free_stock(warehouse.id, needs)
        if all(free.get(p, 0) + inbound.get((p, warehouse.id), 0) >= n for p, n in needs.items()):
            able.append(warehouse.code)
    sells = bool(Shop.select(Shop.sell_in_transit).where(Shop.code == order.shop).scalar())
    return able, sells


def _reserve(lines, warehouse: Warehouse, order: Order, actor) -> None:
    """Reserve every line in one warehouse, or nothing (the savepoint rolls back). Lines go in
    product order so that two orders never lock the same quants in opposite orders."""
    for line in sorted(lines, key=lambda l: (l.product_id, l.id)):
        need = line.qty - line.reserved_qty
        if need <= 0:
            continue
        for taken in inventory.reserve_any(line.product_id, need, actor=actor, warehouse=warehouse,
                                           ref=f"order:{order.id}"):
            Allocation.create(line=line.id, location=taken.location_id, lot=taken.lot, qty=taken.qty)
        OrderLine.update(reserved_qty=OrderLine.qty).where(OrderLine.id == line.id).execute()


def release_allocations(order: Order, actor: inventory.Actor, lines=None) -> int:
    """Give back every unit reserved for the order (or for some of its lines)."""
    released = 0
    query = (Allocation.select(Allocation, OrderLine).join(OrderLine)
             .where(OrderLine.order == order.id))
    if lines is not None:
        query = query.where(OrderLine.id.in_([line.id for line in lines]))
    for allocation in query:
        inventory.release(allocation.line.product_id, allocation.location_id, allocation.qty, actor=actor,
                          lot=allocation.lot, ref=f"order:{order.id}")
        OrderLine.update(reserved_qty=OrderLine.reserved_qty - allocation.qty).where(
            OrderLine.id == allocation.line_id).execute()
        allocation.delete_instance()
        released += allocation.qty
    return released


def allocate(order: Order, actor: inventory.Actor) -> str:
    """``order`` is approved (or backordered): reserve it; return its new status."""
    lines = active_lines(order)
    if any(line.product_id is None for line in lines):
        return order.status  # review holds these; nothing to reserve
    ctx = context(order, lines, _fillers(lines), in_transit=_fillers_in_transit(lines, order))
    decision = book().routing.route(ctx)
    groups = [g for g in decision.groups if g.lines]
    if len(groups) > 1:
        return _split_by_group(order, lines, groups, actor)
    for code in [c for c in decision.warehouses if c in ctx["warehouses_with_stock"]]:
        warehouse = Warehouse.get(Warehouse.code == code)
        try:
            with write_transaction():
                _reserve(lines, warehouse, order, actor)
                carrier = book().carriers.choose_carrier(ctx)
                Order.update(warehouse=warehouse.id, carrier=carrier, updated_at=utcnow()).where(
                    Order.id == order.id).execute()
                orders.transition(order, "allocated", actor, f"{code} {carrier}")
            return "allocated"
        except InsufficientStock:
            continue  # taken by another order in the meantime; try the next candidate
    if decision.policy == "split" and len(lines) > 1 and _split_across_warehouses(order, lines, decision, actor):
        return Order.get_by_id(order.id).status
    return _backorder(order, lines, actor)


def _backorder(order: Order, lines, actor) -> str:
    missing = []
    for warehouse in Warehouse.select().order_by(Warehouse.code):
        free = free_stock(warehouse.id, _needs(lines))
        short = {p: n - free.get(p, 0) for p, n in _needs(lines).items() if free.get(p, 0) < n}
        missing.append(f"{warehouse.code}: " + ", ".join(
            f"{next(l.sku_code for l in lines if l.product_id == p)} -{n}" for p, n in short.items()))
    if order.status != "backorder":
        orders.transition(order, "backorder", actor, "; ".join(missing))
    return "backorder"


def _child(order: Order, suffix: str, lines, actor) -> Order:
    fields = {f: getattr(order, f) for f in Order._meta.fields if f not in ("id", "external_id", "status",
                                                                             "fingerprint", "split_from")}
    fields.update(goods_fen=sum(l.paid_fen for l in lines), freight_fen=0, discount_fen=0, coupon_fen=0,
                  paid_fen=sum(l.paid_fen for l in lines))
    child = Order.create(external_id=f"{order.external_id}{suffix}", status="approved", split_from=order.id,
                         **{k: (v.id if hasattr(v, "id") else v) for k, v in fields.items()})
    OrderLine.update(order=child.id).where(OrderLine.id.in_([l.id for l in lines])).execute()
    orders.record(child, "split", f"from order {order.external_id}", actor)
    return child


def _split_by_group(order: Order, lines, groups, actor) -> str:
    """Bulky or cold-chain goods ship apart (按商品拆单): one order per group."""
    by_sku = defaultdict(list)
    for line in lines:
        by_sku[line.sku_code].append(line)
    for group in groups[1:]:
        group_lines = [l for sku in {gl["sku"] for gl in group.lines} for l in by_sku.get(sku, [])]
        if group_lines:
            child = _child(order, f"-{group.name}", group_lines, actor)
            orders.record(order, "split", f"{group.name} -> {child.external_id}", actor)
            allocate(child, actor)
    return allocate(order, actor)


def _split_across_warehouses(order: Order, lines, decision, actor) -> bool:
    """No warehouse fills the whole order: each warehouse in turn takes the lines it can fill."""
    remaining = list(lines)
    plan = []
    for code in decision.warehouses:
        warehouse = Warehouse.get_or_none(Warehouse.code == code)
        if warehouse is None:
            continue
        free = free_stock(warehouse.id, _needs(remaining))
        taken = []
        for line in remaining:
            if free.get(line.product_id, 0) >= line.qty:
                free[line.product_id] -= line.qty
                taken.append(line)
        if taken:
            plan.append((warehouse, taken))
            remaining = [l for l in remaining if l not in taken]
    if len(plan) < 2 and not (plan and remaining):
        return False
    for index, (warehouse, taken) in enumerate(plan[1:], start=1):
        child = _child(order, f"-S{index}", taken, actor)
        orders.record(order, "split", f"{warehouse.code} -> {child.external_id}", actor)
        allocate(child, actor)
    if remaining:
        child = _child(order, f"-S{len(plan)}", remaining, actor)
        orders.record(order, "split", f"waiting for stock -> {child.external_id}", actor)
        allocate(child, actor)
    allocate(order, actor)
    return True


def retry_backorders(product_ids=None, actor: inventory.Actor | None = None, limit: int = 200) -> int:
    """Try backordered orders again (oldest promise first); return how many were allocated."""
    actor = actor or inventory.system_actor()
    query = Order.select().where(Order.status == "backorder")
    if product_ids:
        query = query.where(Order.id.in_(OrderLine.select(OrderLine.order).where(
            OrderLine.product.in_(list(product_ids)))))
    done = 0
    for order in query.order_by(Order.ship_by, Order.id).limit(limit):
        with write_transaction():
            order = Order.get_by_id(order.id)
            if order.status == "backorder" and allocate(order, actor) == "allocated":
                done += 1
    return done


def _on_stock_arrived(event, payload, rooms) -> None:
    if event == "stock.arrived":
        retry_backorders(payload.get("products"))


events.subscribe(_on_stock_arrived)
