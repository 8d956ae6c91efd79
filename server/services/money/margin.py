"""Gross margin (毛利) grouped by line, order, SKU, shop, channel or day, from ``line_money``.

Every figure is a plain SUM over the lines the filters keep; ``margin_fen`` sums only the lines
whose cost is fixed (shipped), and ``margin_bp`` is that margin over the same lines' revenue.
"""
from __future__ import annotations

import datetime as dt

from peewee import Case, fn

from server.db import database
from server.models import LineMoney, Order
from server.services.errors import DomainError

GROUPS = ("line", "order", "sku", "shop", "channel", "day")
SUMMED = ("qty", "price_fen", "paid_fen", "merchant_discount_fen", "platform_subsidy_fen", "commission_fen",
          "payment_fee_fen", "freight_charged_fen", "freight_tax_fen", "freight_paid_fen", "tax_fen",
          "refund_fen", "refund_subsidy_fen", "refund_commission_fen", "refund_payment_fee_fen", "refund_tax_fen",
          "revenue_fen", "cogs_fen", "margin_fen")
FILTERS = ("first", "last", "shop", "channel", "sku", "province", "order", "warehouse", "shipped")


class BadGroup(DomainError):
    code = "bad_group"


def _keys(group: str):
    if group == "line":
        return [LineMoney.line, LineMoney.order, Order.external_id, LineMoney.sku_code, LineMoney.shop,
                LineMoney.channel, LineMoney.day]
    if group == "order":
        return [LineMoney.order, Order.external_id, LineMoney.shop, LineMoney.channel, LineMoney.day]
    if group == "sku":
        return [LineMoney.sku_code]
    return [getattr(LineMoney, group)]


def _where(query, filters: dict):
    if filters.get("first"):
        query = query.where(LineMoney.day >= filters["first"])
    if filters.get("last"):
        query = query.where(LineMoney.day <= filters["last"])
    for name, column in (("shop", LineMoney.shop), ("channel", LineMoney.channel), ("sku", LineMoney.sku_code),
                         ("province", LineMoney.province), ("order", LineMoney.order),
                         ("warehouse", LineMoney.warehouse)):
        if filters.get(name) not in (None, ""):
            query = query.where(column == filters[name])
    if filters.get("shipped"):
        query = query.where(LineMoney.cogs_fen.is_null(False))
    return query


def margin_by(group: str, filters: dict | None = None, *, limit: int | None = None, offset: int = 0) -> list[dict]:
    """One dict per group value: the group's key columns, ``lines``, ``shipped_lines``, every
    summed figure, the revenue of the shipped lines and ``margin_bp`` (margin / that revenue,
    basis points; None with no shipped revenue). Sorted by the key (by margin for sku/shop/channel)."""
    if group not in GROUPS:
        raise BadGroup(f"group is one of {', '.join(GROUPS)}, not {group!r}", group=group)
    unknown = set(filters or {}) - set(FILTERS)
    if unknown:
        raise DomainError(f"unknown filters: {', '.join(sorted(unknown))}")
    keys = _keys(group)
    shipped = LineMoney.cogs_fen.is_null(False)
    sums = [fn.COALESCE(fn.SUM(getattr(LineMoney, name)), 0).alias(name) for name in SUMMED]
    extra = [fn.COUNT(LineMoney.id).alias("lines"),
             fn.COALESCE(fn.SUM(Case(None, [(shipped, 1)], 0)), 0).alias("shipped_lines"),
             fn.COALESCE(fn.SUM(Case(None, [(shipped, LineMoney.revenue_fen)], 0)), 0).alias("shipped_revenue_fen")]
    query = LineMoney.select(*keys, *sums, *extra)
    if group in ("line", "order"):
        query = query.join(Order, on=(LineMoney.order == Order.id))
    query = _where(query, filters or {}).group_by(*keys)
    if group in ("sku", "shop", "channel"):
        query = query.order_by(fn.COALESCE(fn.SUM(LineMoney.margin_fen), 0).desc(), *keys)
    else:
        query = query.order_by(*keys)
    if limit:
        query = query.limit(limit).offset(offset)
    names = [k.name if k.name != "external_id" else "external_id" for k in keys]
    names = ["order_id" if n == "order" else "line_id" if n == "line" else "sku" if n == "sku_code" else n
             for n in names]
    out = []
    for row in database.execute(query).fetchall():  # raw rows: peewee's conversion costs more than the sums
        item = dict(zip(names, row[:len(keys)]))
        item.update({name: int(value) for name, value in zip(SUMMED + ("lines", "shipped_lines", "shipped_revenue_fen"),
                                                             row[len(keys):])})
        if "day" in item and isinstance(item["day"], str):
            item["day"] = dt.date.fromisoformat(item["day"])
        if "order_id" in item and item["order_id"] is not None:
            item["order_id"] = int(item["order_id"])
        revenue = item["shipped_revenue_fen"]
        item["margin_bp"] = round(item["margin_fen"] * 10000 / revenue) if revenue > 0 else None
        out.append(item)
    return out


def totals(filters: dict | None = None) -> dict:
    """The same sums over everything the filters keep (one row)."""
    shipped = LineMoney.cogs_fen.is_null(False)
    sums = [fn.COALESCE(fn.SUM(getattr(LineMoney, name)), 0) for name in SUMMED]
    query = _where(LineMoney.select(*sums, fn.COUNT(LineMoney.id),
                                    fn.COALESCE(fn.SUM(Case(None, [(shipped, 1)], 0)), 0),
                                    fn.COALESCE(fn.SUM(Case(None, [(shipped, LineMoney.revenue_fen)], 0)), 0)),
                   filters or {})
    row = query.tuples().first()
    item = {name: int(value or 0) for name, value in zip(SUMMED + ("lines", "shipped_lines", "shipped_revenue_fen"),
                                                         row)}
    revenue = item["shipped_revenue_fen"]
    item["margin_bp"] = round(item["margin_fen"] * 10000 / revenue) if revenue > 0 else None
    return item


def lines_of_order(order_id: int) -> list[dict]:
    return margin_by("line", {"order": order_id})
