"""Inventory: the only code that changes stock.

Every change is a :class:`StockMove` ledger line written in the same transaction as the
quant it changes, attributed to a user and a device. Decrements and reservations are
guarded updates (``... WHERE qty - reserved >= n``) whose row count is checked, so two
writers can never take the same unit, on SQLite and on PostgreSQL alike.
"""
from __future__ import annotations

from dataclasses import dataclass

from peewee import JOIN, fn

from server import events
from server.db import insert_later, is_sqlite, raised, sql, sql_row, write_retrying, write_transaction
from server.models import AuditLog, Barcode, Location, Product, Quant, StockMove, User
from server.models.base import utcnow
from server.models.stock import STOCK_STATES
from server.services.errors import DomainError, InsufficientStock, InvalidQuantity, InvalidState, NotFound

#: the most units one stock change takes (the API's and the files' bound too): far above any
#: real pallet, far below what a quantity column holds
MAX_QTY = 10_000_000


class NothingToMove(DomainError):
    """A move to the location and state the units are already in (using no reservation): it
    would only write a ledger line that changes nothing."""
    code = "nothing_to_move"


@dataclass(frozen=True)
class Actor:
    """Who changes stock, and from which device."""
    user_id: int | None
    device_id: int | None = None


def system_actor() -> Actor:
    """The actor for imports and set-up run from the command line."""
    user, _ = User.get_or_create(code="system", defaults={"name": "System", "active": False})
    return Actor(user.id)


def _id(value) -> int:
    return value if isinstance(value, int) else value.id


def _check(qty: int, *states: str) -> None:
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 < qty <= MAX_QTY:
        raise InvalidQuantity(f"quantity must be a whole number from 1 to {MAX_QTY}, not {qty!r}",
                              qty=qty)
    for state in states:
        if state not in STOCK_STATES:
            raise InvalidState(f"unknown stock state {state!r}; one of {', '.join(STOCK_STATES)}",
                               state=state)


# The three statements below are every stock change's (and every pick scan's), so they are
# written out (see server.db.sql).

def _add(product_id, location_id, lot, state, qty):
    sql("INSERT INTO quant (product_id, location_id, lot, state, qty, reserved) VALUES (?, ?, ?, ?, ?, 0)"
        " ON CONFLICT (product_id, location_id, lot, state) DO UPDATE SET qty = quant.qty + excluded.qty",
        product_id, location_id, lot, state, qty)


def _take(product_id, location_id, lot, state, qty, reserved=0):
    """Remove ``qty`` units, ``reserved`` of them out of the reservation; refuse if not there."""
    if reserved < 0 or reserved > qty:
        raise InvalidQuantity("reserved units must be between 0 and the quantity taken")
    rows = sql("UPDATE quant SET qty = qty - ?, reserved = reserved - ? WHERE product_id = ? AND location_id = ?"
               " AND lot = ? AND state = ? AND qty - reserved >= ? AND reserved >= ?",
               qty, reserved, product_id, location_id, lot, state, qty - reserved, reserved).rowcount
    if rows != 1:
        raise InsufficientStock("not enough free stock at the location", product_id=product_id,
                                location_id=location_id, state=state, qty=qty)


def _lock_in_order(product_id, lot, one, other) -> None:
    """On PostgreSQL, lock the quants at ``one`` and ``other`` ((location, state) pairs), lowest
    id first, whichever way the units go: a move takes from one and adds to the other, and two
    opposite moves taking their rows in the order they touch them each held the row the other
    wanted (a deadlock, one of them aborted after a second). SQLite lets one writer in at a time."""
    (l1, s1), (l2, s2) = one, other
    sql("SELECT id FROM quant WHERE product_id = ? AND lot = ? AND ((location_id = ? AND state = ?)"
        " OR (location_id = ? AND state = ?)) ORDER BY id FOR UPDATE", product_id, lot, l1, s1, l2, s2)


def _ledger(actor: Actor, product_id, lot, qty, reason, ref, *, reserved=0,
            src=None, src_state=None, dst=None, dst_state=None):
    sql("INSERT INTO stock_move (product_id, lot, qty, reserved, from_location_id, from_state, to_location_id,"
        " to_state, reason, ref, user_id, device_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        product_id, lot, qty, reserved, src, src_state, dst, dst_state, reason, ref, actor.user_id,
        actor.device_id, StockMove.at.db_value(utcnow()))


def receive(product, location, qty: int, *, actor: Actor, state="available", lot="",
            reason="receive", ref="", expiry=None) -> None:
    """Units arrive from outside (a receipt, an opening balance, a found unit); ``expiry``, the
    lot's use-by date (GS1 AI 17), is kept on the quant they land in. Its refusals come before it
    writes, so inside a caller's transaction it takes no savepoint (a receiving scan is one receive)."""
    _check(qty, state)
    with write_transaction(savepoint=False):
        _add(_id(product), _id(location), lot, state, qty)
        _dated(_id(product), _id(location), lot, state, expiry)
        _ledger(actor, _id(product), lot, qty, reason, ref, dst=_id(location), dst_state=state)
        if state == "available":
            _arrived(product)


def _dated(product_id, location_id, lot, state, expiry) -> None:
    """The quant's use-by date, where it has none yet (the units of one lot share it)."""
    if expiry is not None:
        sql("UPDATE quant SET expiry = ? WHERE product_id = ? AND location_id = ? AND lot = ? AND state = ?"
            " AND expiry IS NULL", Quant.expiry.db_value(expiry), product_id, location_id, lot, state)


def _arrived(product) -> None:
    """Free units appeared: orders waiting for this SKU may now be filled (after commit)."""
    events.publish("stock.arrived", {"products": [_id(product)]}, rooms=())


def move(product, src, dst, qty: int, *, actor: Actor, state="available", to_state=None, lot="",
         reserved: int = 0, reason="move", ref="", expiry=None) -> None:
    """Move units between locations (and optionally states); ``reserved`` of them were promised
    at the source, and the promise is consumed with them (a pick). Its one refusal (too few free
    units) comes before it writes, so inside a caller's transaction it takes no savepoint: a
    tote scan is one move, and the savepoint was two of its statements."""
    to_state = to_state or state
    _check(qty, state, to_state)
    if _id(src) == _id(dst) and state == to_state and not reserved:
        raise NothingToMove(f"the units are already at the location, {state}", state=state)
    with write_transaction(savepoint=False):
        if not is_sqlite():
            _lock_in_order(_id(product), lot, (_id(src), state), (_id(dst), to_state))
        _take(_id(product), _id(src), lot, state, qty, reserved)
        _add(_id(product), _id(dst), lot, to_state, qty)
        _dated(_id(product), _id(dst), lot, to_state, expiry)
        _ledger(actor, _id(product), lot, qty, reason, ref, reserved=-reserved,
                src=_id(src), src_state=state, dst=_id(dst), dst_state=to_state)


def change_state(product, location, qty: int, from_state: str, to_state: str, *, actor: Actor,
                 lot="", reason="state", ref="", expiry=None) -> None:
    """Free units change state in place (release from QC, freeze, mark damaged)."""
    _check(qty, from_state, to_state)
    with write_transaction():
        move(product, location, location, qty, actor=actor, state=from_state, to_state=to_state,
             lot=lot, reason=reason, ref=ref, expiry=expiry)
        if to_state == "available":
            _arrived(product)
        _audit(actor, "stock.state", product, location,
               f"{qty} {from_state}->{to_state} ({reason}) {ref}".strip())


def adjust(product, location, delta: int, *, actor: Actor, reason: str, state="available", lot="",
           ref="") -> None:
    """A counted correction: ``delta`` units appear (>0) or disappear (<0). A reason is required."""
    if not reason or not reason.strip():
        raise InvalidQuantity("an adjustment needs a reason")
    if not isinstance(delta, int) or delta == 0:
        raise InvalidQuantity(f"adjustment must be a non-zero whole number, not {delta!r}")
    _check(abs(delta), state)
    with write_transaction():
        if delta > 0:
            _add(_id(product), _id(location), lot, state, delta)
            _ledger(actor, _id(product), lot, delta, reason, ref, dst=_id(location), dst_state=state)
            if state == "available":
                _arrived(product)
        else:
            _take(_id(product), _id(location), lot, state, -delta)
            _ledger(actor, _id(product), lot, -delta, reason, ref, src=_id(location), src_state=state)
        _audit(actor, "stock.adjust", product, location, f"{delta:+d} {state} ({reason}) {ref}".strip())


def issue(product, location, qty: int, *, actor: Actor, state="available", lot="", reserved=0,
          reason="ship", ref="") -> None:
    """Units leave the building (shipped, scrapped)."""
    _check(qty, state)
    with write_transaction():
        _take(_id(product), _id(location), lot, state, qty, reserved)
        _ledger(actor, _id(product), lot, qty, reason, ref, reserved=-reserved,
                src=_id(location), src_state=state)


def reserve(product, location, qty: int, *, actor: Actor, state="available", lot="",
            ref="") -> None:
    """Promise ``qty`` free units at one location; raises :class:`InsufficientStock` if not free."""
    _check(qty, state)
    with write_transaction():
        rows = (Quant.update(reserved=Quant.reserved + qty)
                .where((Quant.product == _id(product)) & (Quant.location == _id(location))
                       & (Quant.lot == lot) & (Quant.state == state)
                       & (Quant.qty - Quant.reserved >= qty))
                .execute())
        if rows != 1:
            raise InsufficientStock("not enough free stock to reserve", qty=qty)
        _ledger(actor, _id(product), lot, 0, "reserve", ref, reserved=qty,
                src=_id(location), src_state=state, dst=_id(location), dst_state=state)


@dataclass(frozen=True)
class Take:
    """Units of one quant promised to one reference (``order:<id>``) by :func:`reserve_chunk`."""
    quant_id: int
    product_id: int
    location_id: int
    lot: str
    qty: int
    ref: str


def reserve_chunk(takes: list[Take], *, actor: Actor, at=None) -> None:
    """Promise many quants' free units at once (the order import's chunks): one guarded update
    per quant, in id order so that every writer locks quants in one order, and one ledger line
    per take, written together. Raises :class:`InsufficientStock` naming the first quant whose
    units another writer took first; the caller's transaction then rolls every take back."""
    with write_transaction():
        for send in reserve_chunk_later(takes, actor=actor, at=at):
            send()


def reserve_chunk_later(takes: list[Take], *, actor: Actor, at=None) -> list:
    """:func:`reserve_chunk`'s statements, made now, each sent when called, in order, inside the
    caller's write transaction: the order import makes a chunk's on the thread that plans it."""
    per_quant: dict[int, int] = {}
    for take in takes:
        per_quant[take.quant_id] = per_quant.get(take.quant_id, 0) + take.qty
    at = at or utcnow()
    moves = insert_later(StockMove, [{"product": take.product_id, "lot": take.lot, "qty": 0, "reserved": take.qty,
                                      "from_location": take.location_id, "from_state": "available",
                                      "to_location": take.location_id, "to_state": "available",
                                      "reason": "reserve", "ref": take.ref, "user": actor.user_id,
                                      "device": actor.device_id, "at": at} for take in takes])
    guarded = (lambda: _reserve_each(per_quant)) if is_sqlite() else (lambda: _reserve_quants(per_quant))
    return [guarded, moves]


def _reserve_each(per_quant: dict[int, int]) -> None:
    """SQLite: the guarded updates one by one, lowest id first."""
    for quant_id, qty in sorted(per_quant.items()):
        rows = (Quant.update(reserved=Quant.reserved + qty)
                .where((Quant.id == quant_id) & (Quant.state == "available")
                       & (Quant.qty - Quant.reserved >= qty)).execute())
        if rows != 1:
            raise InsufficientStock("not enough free stock to reserve", quant=quant_id, qty=qty)


def _reserve_quants(per_quant: dict[int, int]) -> None:
    """PostgreSQL: one statement (migration 0025's ``wf_reserve_quants``) locks the quants lowest
    id first, makes every guarded update and refuses when one is short. Its answer needs no
    reading, so it may go in a :func:`server.db.pipeline`; its refusal then arrives when the
    pipeline's answers do (:func:`short_quant` names the quant)."""
    ids = sorted(per_quant)
    try:
        sql(RESERVE_QUANTS, ids, [per_quant[i] for i in ids])
    except Exception as exc:
        refused(exc)
        raise


def short_quant(exc: BaseException) -> tuple[int, int] | None:
    """(quant id, units asked) that a refusal of ``wf_reserve_quants`` names, or None for any
    other error."""
    message = raised(exc, SHORT)
    if message is None:
        return None
    quant, qty = message.split()
    return int(quant), int(qty)


def refused(exc: BaseException) -> None:
    """Raise :class:`InsufficientStock` in place of ``wf_reserve_quants``'s refusal; return for
    any other error."""
    short = short_quant(exc)
    if short is not None:
        raise InsufficientStock("not enough free stock to reserve", quant=short[0], qty=short[1]) from exc


SHORT = "WF001"  # wf_reserve_quants: a quant had fewer free units than asked
RESERVE_QUANTS = "SELECT wf_reserve_quants(?::bigint[], ?::integer[])"


def release(product, location, qty: int, *, actor: Actor, state="available", lot="",
            ref="") -> None:
    _check(qty, state)
    with write_transaction():
        rows = (Quant.update(reserved=Quant.reserved - qty)
                .where((Quant.product == _id(product)) & (Quant.location == _id(location))
                       & (Quant.lot == lot) & (Quant.state == state) & (Quant.reserved >= qty))
                .execute())
        if rows != 1:
            raise InsufficientStock("cannot release more than is reserved", qty=qty)
        _ledger(actor, _id(product), lot, 0, "release", ref, reserved=-qty,
                src=_id(location), src_state=state, dst=_id(location), dst_state=state)
        if state == "available":
            _arrived(product)


@dataclass(frozen=True)
class Reservation:
    location_id: int
    lot: str
    qty: int


def reserve_any(product, qty: int, *, actor: Actor, warehouse=None, ref="",
                kinds=("pick", "reserve")) -> list[Reservation]:
    """Reserve ``qty`` free units of a SKU wherever they are (pick faces first), all or nothing.
    Two reservations can lock the same quants in opposite orders: one that found a quant full
    locks the next first, and finds the first free on its second look. PostgreSQL then aborts
    one of them, which runs again (write_retrying)."""
    _check(qty)
    product_id = _id(product)

    def attempt() -> list[Reservation]:
        taken: list[Reservation] = []
        need = qty
        for _ in range(3):  # candidates can change under us; look again a couple of times
            query = (Quant.select(Quant.location, Quant.lot, (Quant.qty - Quant.reserved).alias("free"))
                     .join(Location)
                     .where((Quant.product == product_id) & (Quant.state == "available")
                            & (Quant.qty > Quant.reserved) & (Location.kind.in_(kinds))
                            & (Location.active == True))  # noqa: E712
                     .order_by(Location.kind != "pick", Location.pick_seq, Location.id))
            if warehouse is not None:
                query = query.where(Location.warehouse == _id(warehouse))
            for row in query.dicts():
                take = min(need, row["free"])
                rows = (Quant.update(reserved=Quant.reserved + take)
                        .where((Quant.product == product_id) & (Quant.location == row["location"])
                               & (Quant.lot == row["lot"]) & (Quant.state == "available")
                               & (Quant.qty - Quant.reserved >= take))
                        .execute())
                if rows != 1:
                    continue
                _ledger(actor, product_id, row["lot"], 0, "reserve", ref, reserved=take,
                        src=row["location"], src_state="available", dst=row["location"],
                        dst_state="available")
                taken.append(Reservation(row["location"], row["lot"], take))
                need -= take
                if need == 0:
                    return taken
        raise InsufficientStock(f"only {qty - need} of {qty} units free", qty=qty, free=qty - need)

    return write_retrying(attempt)


def _audit(actor: Actor, action: str, product, location, detail: str) -> None:
    sku = product.sku if isinstance(product, Product) else Product.get_by_id(product).sku
    code = location.code if isinstance(location, Location) else Location.get_by_id(location).code
    AuditLog.create(user=actor.user_id, device=actor.device_id, action=action,
                    target=f"{sku}@{code}", detail=detail)


# --- reading -------------------------------------------------------------------------------

def find_product(code: str) -> tuple[Product, int]:
    """A SKU code or any of its barcodes -> (product, units per scan)."""
    barcode = (Barcode.select(Barcode, Product).join(Product)
               .where(Barcode.code == code).first())
    if barcode is not None:
        return barcode.product, barcode.multiplier
    product = Product.get_or_none(Product.sku == code)
    if product is None:
        raise NotFound(f"no product with SKU or barcode {code!r}", code=code)
    return product, 1


def scanned_product(code: str) -> tuple[int, int] | None:
    """What :func:`find_product` answers, as (product id, units per scan), in one written-out
    statement: every scan on the floor asks it (see server.db.sql)."""
    row = sql_row("SELECT b.product_id, b.multiplier, 0 FROM barcode b WHERE b.code = ?"
                  " UNION ALL SELECT p.id, 1, 1 FROM product p WHERE p.sku = ? ORDER BY 3 LIMIT 1",
                  code, code)
    return (row[0], row[1]) if row is not None else None


def quants(*, product=None, location=None, warehouse=None, include_empty=False):
    query = (Quant.select(Quant, Product, Location).join(Product).switch(Quant).join(Location)
             .order_by(Product.sku, Location.code, Quant.state, Quant.lot))
    if product is not None:
        query = query.where(Quant.product == _id(product))
    if location is not None:
        query = query.where(Quant.location == _id(location))
    if warehouse is not None:
        query = query.where(Location.warehouse == _id(warehouse))
    if not include_empty:
        query = query.where(Quant.qty > 0)
    return list(query)


@dataclass(frozen=True)
class AuditDifference:
    sku: str
    location: str
    lot: str
    state: str
    quant_qty: int
    ledger_qty: int
    quant_reserved: int
    ledger_reserved: int

    def __str__(self):
        return (f"{self.sku} @ {self.location} lot={self.lot or '-'} {self.state}: quant qty "
                f"{self.quant_qty} reserved {self.quant_reserved}, ledger qty {self.ledger_qty} "
                f"reserved {self.ledger_reserved}")


def audit() -> list[AuditDifference]:
    """Recompute every quant from the ledger; return the quants that disagree."""
    ledger: dict[tuple, list[int]] = {}
    inflow = (StockMove.select(StockMove.product, StockMove.to_location, StockMove.lot,
                               StockMove.to_state, fn.SUM(StockMove.qty))
              .where(StockMove.to_location.is_null(False))
              .group_by(StockMove.product, StockMove.to_location, StockMove.lot, StockMove.to_state))
    for product, loc, lot, state, total in inflow.tuples():
        ledger.setdefault((product, loc, lot, state), [0, 0])[0] += int(total or 0)
    outflow = (StockMove.select(StockMove.product, StockMove.from_location, StockMove.lot,
                                StockMove.from_state, fn.SUM(StockMove.qty), fn.SUM(StockMove.reserved))
               .where(StockMove.from_location.is_null(False))
               .group_by(StockMove.product, StockMove.from_location, StockMove.lot,
                         StockMove.from_state))
    for product, loc, lot, state, total, reserved in outflow.tuples():
        entry = ledger.setdefault((product, loc, lot, state), [0, 0])
        entry[0] -= int(total or 0)
        entry[1] += int(reserved or 0)
    differences = []
    seen = set()
    rows = (Quant.select(Quant.product, Quant.location, Quant.lot, Quant.state, Quant.qty, Quant.reserved,
                         Product.sku, Location.code)
            .join(Product).switch(Quant).join(Location, JOIN.INNER).tuples())
    for product, loc, lot, state, qty_now, reserved_now, sku, code in rows:
        key = (product, loc, lot, state)
        seen.add(key)
        qty, reserved = ledger.get(key, (0, 0))
        if (qty, reserved) != (qty_now, reserved_now):
            differences.append(AuditDifference(sku, code, lot, state, qty_now, qty, reserved_now, reserved))
    missing = {k: v for k, v in ledger.items() if k not in seen and v != [0, 0]}
    if missing:
        skus = dict(Product.select(Product.id, Product.sku).where(
            Product.id.in_({k[0] for k in missing})).tuples())
        codes = dict(Location.select(Location.id, Location.code).where(
            Location.id.in_({k[1] for k in missing})).tuples())
        for (product, loc, lot, state), (qty, reserved) in missing.items():
            differences.append(AuditDifference(skus[product], codes[loc], lot, state, 0, qty, 0, reserved))
    return differences
