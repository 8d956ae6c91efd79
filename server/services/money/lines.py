"""The ``line_money`` rows (每单核算): made or brought up to date from the orders, their order
charges and the fee rates (``refresh``); cost fixed when the parcel leaves (``ship``, called in
the scan-out's transaction); refunds reversed when the line's refund changes (``refunded``,
called in the refund import's transaction).

What is fixed once set: a line's unit cost, COGS and shipment time (a later receipt at another
cost does not change what was sold). Everything else is recomputed from the order each time,
so a bill's charge entered later, a refund or a new rate reaches the line on the next refresh.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from operator import itemgetter

import orjson

from server.channels.values import CHANNEL_TZ
from server.db import database, is_sqlite, sql, sql_many, write_transaction
from server.models import LineMoney, Order, OrderCharge
from server.models.base import utcnow
from server.models.money import CHARGE_KINDS
from server.services.errors import DomainError, NotFound
from server.services.money import costing
from server.services.money.figures import LineIn, OrderIn, order_figures
from server.services.money.rates import FeeTable, FreightTable

CHUNK = {True: 900, False: 5000}  # orders per read: SQLite (IN, 999 placeholders in old builds), PostgreSQL
STANDARD_VAT_BP = 1300  # a product with no VAT rate of its own (or a line with no product): 13 %
FIXED = ("unit_cost_fen", "cogs_fen", "shipped_at")  # never changed once set
FIGURES = ("qty", "price_fen", "paid_fen", "merchant_discount_fen", "platform_subsidy_fen", "commission_fen",
           "payment_fee_fen", "freight_charged_fen", "freight_tax_fen", "freight_paid_fen", "vat_rate_bp", "tax_fen",
           "refund_fen", "refund_subsidy_fen", "refund_commission_fen", "refund_payment_fee_fen", "refund_tax_fen",
           "returned_cogs_fen", "revenue_fen", "margin_fen")
NAMING = ("order", "shop", "channel", "day", "province", "sku_code", "product", "warehouse", "category")


class BadCharge(DomainError):
    code = "bad_charge"


def china_day(moment: dt.datetime | None) -> dt.date | None:
    """The China date of a stored (naive UTC) time."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(CHANNEL_TZ).date()


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC (naive) bounds [start, end) of the China days ``first`` .. ``last``."""
    start = dt.datetime.combine(first, dt.time(), CHANNEL_TZ).astimezone(dt.timezone.utc).replace(tzinfo=None)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(),
                              CHANNEL_TZ).astimezone(dt.timezone.utc).replace(tzinfo=None)
    return start, end


class _Context:
    """Fee and freight tables for one refresh."""

    def __init__(self):
        self.fees = FeeTable()
        self.freight = FreightTable()
        self.unit_costs: dict[tuple[int, int | None], int] = {}

    def unit_cost(self, product_id: int, warehouse_id: int | None) -> int:
        key = (product_id, warehouse_id)
        if key not in self.unit_costs:
            self.unit_costs[key] = costing.unit_cost(product_id, warehouse_id)
        return self.unit_costs[key]


# the reads of one chunk of orders: hand-written (peewee builds a query more slowly than the
# database answers it here, and a day is 50,000 orders); ``{ids}`` is the chunk's test (``_read``)
ORDERS_SQL = ('SELECT o.id, o.channel, o.shop, o.paid_fen, o.freight_fen, o.discount_fen, o.coupon_fen, o.paid_at,'
              ' o.ordered_at, o.created_at, o.receiver_province, o.warehouse_id, o.carrier, o.status FROM "order" o'
              ' WHERE o.id {ids}')
LINES_SQL = ("SELECT l.id, l.order_id, l.sku_code, l.product_id, l.qty, l.price_fen, l.paid_fen, l.refund_fen,"
             " p.category, p.vat_rate_bp, p.weight_g, l.short_qty, l.returned_qty FROM order_line l"
             " LEFT JOIN product p ON p.id = l.product_id WHERE l.order_id {ids} ORDER BY l.id")
CHARGES_SQL = "SELECT order_id, kind, fen FROM order_charge WHERE order_id {ids}"
FIXED_SQL = ("SELECT m.line_id, m.unit_cost_fen, m.cogs_fen, m.shipped_at, m.warehouse_id FROM line_money m"
             " JOIN order_line l ON l.id = m.line_id WHERE l.order_id {ids}")
PARCELS_SQL = "SELECT order_id, state, weight_g, expected_g, carrier FROM package WHERE order_id {ids}"


def _read(statement: str, ids: list[int]):
    """``{ids}``: ``IN (?, ...)`` on SQLite, ``= ANY(?)`` with one array on PostgreSQL (psycopg
    reads a statement of thousands of placeholders more slowly than the server answers it)."""
    if is_sqlite():
        return sql(statement.format(ids="IN (" + ", ".join("?" * len(ids)) + ")"), *ids).fetchall()
    return sql(statement.format(ids="= ANY(?)"), list(ids)).fetchall()


def _moment(value):
    """A time read by hand-written SQL (SQLite gives text) as a naive datetime."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def _order_rows(ids):
    return {row[0]: row for row in _read(ORDERS_SQL, ids)}


def _line_rows(ids):
    by_order = defaultdict(list)
    for row in _read(LINES_SQL, ids):
        by_order[row[1]].append(row)
    return by_order


def _charges(ids):
    found = defaultdict(dict)
    for order_id, kind, fen in _read(CHARGES_SQL, ids):
        found[order_id][kind] = found[order_id].get(kind, 0) + fen
    return found


def _fixed(ids):
    """line -> (unit cost, COGS, shipped at, warehouse) as stored (set once, at shipment)."""
    return {row[0]: row[1:] for row in _read(FIXED_SQL, ids)}


def _parcels(ids):
    return {row[0]: row[1:] for row in _read(PARCELS_SQL, ids)}


def _freight_paid(context: _Context, order_row, parcel, lines, charges, shipped: bool) -> int:
    if "freight_paid" in charges or not shipped:
        return 0
    weight = None
    carrier = order_row[12]
    if parcel is not None:
        weight = parcel[1] or parcel[2]
        carrier = parcel[3] or carrier
    if not weight:
        weight = sum((row[10] or 0) * row[4] for row in lines)
    return context.freight.charge(carrier, order_row[10], weight or 0) or 0


def _rows_of(context: _Context, ids: list[int], shipping: dict) -> list[tuple]:
    """The line_money rows of these orders, as tuples in ``COLUMNS`` order, ready to store."""
    text = is_sqlite()  # SQLite keeps dates and times as text in peewee's format

    def stored(value):
        return str(value) if text and isinstance(value, (dt.date, dt.datetime)) else value
    orders = _order_rows(ids)
    lines = _line_rows(ids)
    charges = _charges(ids)
    fixed = _fixed(ids)
    parcels = _parcels(ids)
    now = stored(utcnow())
    out = []
    for order_id, order_row in orders.items():
        rows = lines.get(order_id)
        if not rows or not (_sold(order_row) or order_id in shipping):
            continue
        ship = shipping.get(order_id)
        held = [fixed.get(row[0]) for row in rows]
        if ship is not None:  # fixing the cost now, unless an earlier scan-out fixed it
            held = [h if h is not None and h[2] is not None else _cost_at_shipment(context, ship, row)
                    for h, row in zip(held, rows)]
        shipped = any(h is not None and h[2] is not None for h in held)
        order_charges = charges.get(order_id, {})
        order_in = OrderIn(channel=order_row[1], shop=order_row[2], paid_fen=order_row[3], freight_fen=order_row[4],
                           discount_fen=order_row[5], coupon_fen=order_row[6], charges=order_charges,
                           freight_paid_fen=_freight_paid(context, order_row, parcels.get(order_id), rows,
                                                          order_charges, shipped))
        line_in = [LineIn(qty=row[4], unit_price_fen=row[5], paid_fen=row[6], refund_fen=row[7],
                          category=row[8] or "", vat_rate_bp=STANDARD_VAT_BP if row[9] is None else row[9],
                          weight_g=row[10] or 0, returned_qty=row[12] or 0,
                          cogs_fen=h[1] if h is not None else None) for row, h in zip(rows, held)]
        day = stored(china_day(_moment(order_row[7] or order_row[8] or order_row[9])))
        naming = (order_id, order_row[2], order_row[1], day, order_row[10] or "")
        for row, h, figures in zip(rows, held, order_figures(order_in, line_in, context.fees)):
            if h is None:
                h = (None, None, None, None)
            out.append((row[0],) + naming + (row[2], row[3], h[3] or order_row[11], row[8] or "")
                       + _figures(figures) + (h[0], h[1], stored(h[2]), now))
    return out


def _sold(order_row) -> bool:
    """An order that counts: shipped, or not cancelled (closed, merged into another: its lines
    moved) and paid (a payment time, or an amount when the channel gives no time)."""
    return order_row[13] == "shipped" or (order_row[13] != "cancelled" and (order_row[7] is not None
                                                                           or order_row[3] > 0))


DROP_SQL = ("DELETE FROM line_money WHERE cogs_fen IS NULL AND order_id {ids} AND NOT EXISTS"
            " (SELECT 1 FROM order_line l JOIN \"order\" o ON o.id = l.order_id WHERE l.id = line_money.line_id"
            " AND o.status <> 'cancelled' AND (o.paid_at IS NOT NULL OR o.paid_fen > 0))")


def _drop_unsold(ids: list[int]) -> None:
    """Rows of lines whose order no longer counts (cancelled since, its lines gone), unless shipped."""
    if is_sqlite():
        sql(DROP_SQL.format(ids="IN (" + ", ".join("?" * len(ids)) + ")"), *ids)
    else:
        sql(DROP_SQL.format(ids="= ANY(?)"), list(ids))


def _cost_at_shipment(context: _Context, ship, row) -> tuple:
    """(unit cost, COGS, shipped at, warehouse) of a line at scan-out: its shipped units (ordered
    less short) at the warehouse's unit cost now; a line with no product costs nothing."""
    warehouse_id, at = ship
    if row[3] is None:
        return None, 0, at, warehouse_id
    unit = context.unit_cost(row[3], warehouse_id)
    return unit, unit * max(row[4] - (row[11] or 0), 0), at, warehouse_id


COLUMNS = ("line", "order", "shop", "channel", "day", "province", "sku_code", "product", "warehouse", "category") \
    + FIGURES + FIXED + ("updated_at",)
_figures = itemgetter(*FIGURES)


def _upsert_sql() -> str:
    """INSERT of a row that, for a line already there, updates its figures and keeps what is
    fixed (``COALESCE(line_money.x, excluded.x)``). Both engines take this form."""
    names = [getattr(LineMoney, name).column_name for name in COLUMNS]
    kept = {getattr(LineMoney, name).column_name for name in FIXED}
    sets = ", ".join(f"{n} = COALESCE(line_money.{n}, excluded.{n})" if n in kept else f"{n} = excluded.{n}"
                     for n in names if n != "line_id")
    return (f"INSERT INTO line_money ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            f" ON CONFLICT (line_id) DO UPDATE SET {sets}")


UPSERT_SQL = _upsert_sql()
PG_CHUNK = 5000  # rows per JSON document


def _pg_upsert_sql() -> str:
    """PostgreSQL: the rows as one JSON document the server takes apart (as server/db.py's
    insert_rows does: psycopg reads a long statement's text for placeholders more slowly than
    the database inserts), the same conflict rule."""
    names = [getattr(LineMoney, name).column_name for name in COLUMNS]
    types = {"day": "date", "shipped_at": "timestamp", "updated_at": "timestamp"}
    text = {"shop", "channel", "province", "sku_code", "category"}
    keys = [f"c{i}" for i in range(len(names))]
    shape = ", ".join(f"{k} {types.get(n, 'text' if n in text else 'integer')}" for k, n in zip(keys, names))
    kept = {getattr(LineMoney, name).column_name for name in FIXED}
    sets = ", ".join(f"{n} = COALESCE(line_money.{n}, excluded.{n})" if n in kept else f"{n} = excluded.{n}"
                     for n in names if n != "line_id")
    return (f"INSERT INTO line_money ({', '.join(names)}) SELECT {', '.join(keys)} FROM json_to_recordset(%s::json)"
            f" AS r({shape}) ON CONFLICT (line_id) DO UPDATE SET {sets}")


PG_UPSERT_SQL = _pg_upsert_sql()
_PG_KEYS = [f"c{i}" for i in range(len(COLUMNS))]


def _write(rows: list[tuple]) -> None:
    if not rows:
        return
    if is_sqlite():
        sql_many(UPSERT_SQL, rows)
        return
    for start in range(0, len(rows), PG_CHUNK):
        document = orjson.dumps([dict(zip(_PG_KEYS, row)) for row in rows[start:start + PG_CHUNK]]).decode()
        database.execute_sql(PG_UPSERT_SQL, [document])


def refresh_orders(order_ids, *, shipping: dict | None = None) -> int:
    """Make or bring up to date the line_money rows of these orders; return how many lines.
    ``shipping``: order id -> (warehouse id, shipped at) for orders whose cost is fixed now."""
    ids = sorted(set(order_ids))
    context = _Context()
    written = 0
    step = CHUNK[is_sqlite()]
    for start in range(0, len(ids), step):
        chunk = ids[start:start + step]
        rows = _rows_of(context, chunk, shipping or {})
        with write_transaction():
            _write(rows)
            _drop_unsold(chunk)
        written += len(rows)
    return written


def orders_of_days(first: dt.date, last: dt.date, shop: str | None = None) -> list[int]:
    """The orders paid (else created) on the China days ``first`` .. ``last``."""
    start, end = day_bounds(first, last)
    when = Order.paid_at.is_null(False) & (Order.paid_at >= start) & (Order.paid_at < end)
    unpaid = Order.paid_at.is_null(True) & (Order.created_at >= start) & (Order.created_at < end)
    query = Order.select(Order.id).where(when | unpaid)
    if shop:
        query = query.where(Order.shop == shop)
    return [order_id for (order_id,) in query.tuples()]


def refresh_days(first: dt.date, last: dt.date | None = None, shop: str | None = None) -> dict:
    last = last or first
    if last < first:
        raise DomainError("the last day is before the first")
    ids = orders_of_days(first, last, shop)
    return {"first": first.isoformat(), "last": last.isoformat(), "orders": len(ids),
            "lines": refresh_orders(ids)}


def ship(order_id: int, warehouse_id: int | None, at: dt.datetime | None = None) -> None:
    """The order's parcel left: each line's cost of goods sold is fixed at the unit cost now (in
    the scan-out's transaction), and its money and margin brought up to date."""
    refresh_orders([order_id], shipping={order_id: (warehouse_id, at or utcnow())})


def returning(line_id: int, product_id: int, warehouse_id: int, qty: int, ref: str = "") -> None:
    """Units of a line are coming back into stock at the returns bench (returns/bench.py, before
    they enter the ledger, in its transaction): the warehouse's moving average takes them in at
    the unit cost fixed at the line's shipment, the cost their COGS is reversed at. A line not
    shipped (no cost fixed) changes no cost: its units enter at the average."""
    unit = (LineMoney.select(LineMoney.unit_cost_fen)
            .where((LineMoney.line == line_id) & LineMoney.cogs_fen.is_null(False)).scalar())
    if unit is not None:
        costing.returned(product_id, warehouse_id, qty, unit, ref=ref)


def returned(line_id: int) -> None:
    """Units of a line came back into stock at the returns bench (returns/bench.py, in its
    transaction): their share of the line's cost of goods sold is reversed."""
    refunded(line_id)


def refunded(line_id: int) -> None:
    """A line's refund changed (refunds.summarise_line): its row, if it has one, reverses it."""
    order_id = (LineMoney.select(LineMoney.order).where(LineMoney.line == line_id).scalar())
    if order_id is not None:
        refresh_orders([order_id])


def add_charge(order_id: int, kind: str, fen: int, *, payer: str = "", name: str = "", source: str = "") -> dict:
    """An order-level amount as a bill or the office states it (it replaces the estimate of its kind)."""
    if kind not in CHARGE_KINDS:
        raise BadCharge(f"charge kind is one of {', '.join(CHARGE_KINDS)}, not {kind!r}", kind=kind)
    if fen < 0:
        raise BadCharge("a charge is not negative", fen=fen)
    if Order.get_or_none(Order.id == order_id) is None:
        raise NotFound(f"no order {order_id}", id=order_id)
    with write_transaction():
        charge = OrderCharge.create(order=order_id, kind=kind, fen=fen, payer=payer, name=name[:64],
                                    source=source[:100])
        refresh_orders([order_id])
    return charge_row(charge)


def clear_charges(order_id: int, kind: str | None = None) -> int:
    with write_transaction():
        query = OrderCharge.delete().where(OrderCharge.order == order_id)
        if kind:
            query = query.where(OrderCharge.kind == kind)
        gone = query.execute()
        refresh_orders([order_id])
    return gone


def charge_row(charge: OrderCharge) -> dict:
    return {"id": charge.id, "order_id": charge.order_id, "kind": charge.kind, "payer": charge.payer,
            "name": charge.name, "fen": charge.fen, "source": charge.source}


def charges_of(order_id: int) -> list[dict]:
    return [charge_row(c) for c in OrderCharge.select().where(OrderCharge.order == order_id).order_by(OrderCharge.id)]


def line_row(row: LineMoney) -> dict:
    """A line_money row as the API and pages show it."""
    out = {name: getattr(row, name) for name in FIGURES + FIXED + ("shop", "channel", "day", "province", "sku_code",
                                                                   "category", "updated_at")}
    out.update(line_id=row.line_id, order_id=row.order_id, product_id=row.product_id, warehouse_id=row.warehouse_id)
    return out


def money_of_order(order_id: int) -> dict:
    """An order's lines' money (none before its first refresh) and its charges."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise NotFound(f"no order {order_id}", id=order_id)
    rows = list(LineMoney.select().where(LineMoney.order == order_id).order_by(LineMoney.line))
    return {"order_id": order.id, "external_id": order.external_id, "shop": order.shop, "channel": order.channel,
            "lines": [line_row(r) for r in rows], "charges": charges_of(order_id)}
