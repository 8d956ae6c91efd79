"""``wavefloor money``: per-line money, unit cost, margin and stock value (每单核算, 移动加权平均成本,
毛利, 库存金额) from the command line (server/cli.py adds the group). See docs/money.md."""
from __future__ import annotations

import datetime as dt
import json

import click


def _db() -> dict:
    from server.cli import _db as open_db
    return open_db()


def _fail(exc) -> None:
    raise click.ClickException(getattr(exc, "text", str(exc))) from None


def _yuan(fen) -> str:
    return "-" if fen is None else f"{fen / 100:,.2f}"


def _default(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(type(value))


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=_default))


def _yesterday() -> dt.date:
    from server.channels.values import CHANNEL_TZ
    return dt.datetime.now(CHANNEL_TZ).date() - dt.timedelta(days=1)


@click.group("money")
def money():
    """Money per order line, unit cost, margin and stock value (财务核算)."""


@money.command("refresh")
@click.option("--day", "first", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The first China day of the orders (default: yesterday).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The last day (default: --day).")
@click.option("--shop", default=None, help="Only this shop.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--run", "run_id", type=int, default=None, hidden=True,
              help="The refresh run (POST /api/v1/money/refresh) this process carries out.")
def money_refresh(first, last, shop, as_json, run_id):
    """Make or bring up to date the money of every line of the orders paid on these days."""
    _db()
    from server.services import refresh_runs
    from server.services.errors import DomainError
    from server.services.money import lines
    first = first.date() if first else _yesterday()
    try:
        report = lines.refresh_days(first, last.date() if last else first, shop)
    except Exception as exc:
        if run_id is not None:
            refresh_runs.fail(run_id, f"{type(exc).__name__}: {exc}")
        if isinstance(exc, DomainError):
            _fail(exc)
        raise
    if run_id is not None:
        refresh_runs.finish(run_id, report)
    if as_json:
        _echo_json(report)
        return
    click.echo(f"{report['first']} .. {report['last']}: {report['orders']} orders, {report['lines']} lines")


@money.command("margin")
@click.option("--by", "group", type=click.Choice(["line", "order", "sku", "shop", "channel", "day"]), default="sku")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--shop", default=None)
@click.option("--channel", default=None)
@click.option("--sku", default=None)
@click.option("--shipped", is_flag=True, help="Only lines shipped (their cost fixed).")
@click.option("--limit", type=click.IntRange(1, 100000), default=50)
@click.option("--json", "as_json", is_flag=True)
def money_margin(group, first, last, shop, channel, sku, shipped, limit, as_json):
    """Gross margin by line, order, SKU, shop, channel or day."""
    _db()
    from server.services.errors import DomainError
    from server.services.money import margin
    filters = {"first": first.date() if first else None, "last": last.date() if last else None, "shop": shop,
               "channel": channel, "sku": sku, "shipped": shipped}
    try:
        rows = margin.margin_by(group, filters, limit=limit)
    except DomainError as exc:
        _fail(exc)
    if as_json:
        _echo_json(rows)
        return
    key = {"line": "line_id", "order": "external_id", "sku": "sku"}.get(group, group)
    click.echo(f"{group:<20} {'lines':>7} {'revenue':>14} {'COGS':>14} {'fees':>12} {'margin':>14} {'%':>7}")
    for row in rows:
        fees = (row["commission_fen"] - row["refund_commission_fen"] + row["payment_fee_fen"]
                - row["refund_payment_fee_fen"])
        pct = "-" if row["margin_bp"] is None else f"{row['margin_bp'] / 100:.1f}"
        click.echo(f"{str(row[key]):<20} {row['lines']:>7} {_yuan(row['revenue_fen']):>14} {_yuan(row['cogs_fen']):>14}"
                   f" {_yuan(fees):>12} {_yuan(row['margin_fen']):>14} {pct:>7}")


@money.command("stock-value")
@click.option("--at", type=click.DateTime(["%Y-%m-%d"]), default=None, help="A China day (default: yesterday).")
@click.option("--warehouse", default=None, help="A warehouse code (default: all).")
@click.option("--detail", is_flag=True, help="One line per SKU and warehouse.")
@click.option("--json", "as_json", is_flag=True)
def money_stock_value(at, warehouse, detail, as_json):
    """The stock's value at the end of a day, from the ledger and the unit costs then."""
    _db()
    from server.models import Warehouse
    from server.services.money import costing
    day = at.date() if at else _yesterday()
    found = None
    if warehouse:
        found = Warehouse.get_or_none(Warehouse.code == warehouse)
        if found is None:
            raise click.ClickException(f"no warehouse {warehouse}")
    rows = costing.stock_values(day, found)
    total = sum(r["value_fen"] for r in rows)
    if as_json:
        _echo_json({"at": day, "warehouse": warehouse, "value_fen": total, "rows": rows if detail else []})
        return
    if detail:
        for r in rows:
            click.echo(f"{r['warehouse']:<8} {r['sku']:<20} {r['qty']:>8} × {_yuan(r['unit_cost_fen']):>10} = "
                       f"{_yuan(r['value_fen']):>14}")
    click.echo(f"stock value at the end of {day}{' in ' + warehouse if warehouse else ''}: {_yuan(total)} yuan"
               f" ({total} fen)")


@money.command("rate")
@click.argument("kind", type=click.Choice(["commission", "payment"]))
@click.argument("rate_bp", type=click.IntRange(0, 10000))
@click.option("--shop", default="", help="'' for any shop.")
@click.option("--category", default="", help="'' for any category (commission only).")
@click.option("--not-refundable", is_flag=True, help="The fee is not given back when the buyer is refunded.")
def money_rate(kind, rate_bp, shop, category, not_refundable):
    """Set a fee rate in basis points (500 = 5 %)."""
    _db()
    from server.services.errors import DomainError
    from server.services.money import rates
    try:
        row = rates.set_fee_rate(kind, rate_bp, shop=shop, category=category, refundable=not not_refundable)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{row['kind']} {row['shop'] or '*'} / {row['category'] or '*'}: {row['rate_bp']} bp")


@money.command("rates")
@click.option("--json", "as_json", is_flag=True)
def money_rates(as_json):
    """Every fee rate and carrier price."""
    _db()
    from server.services.money import rates
    fees, freight = rates.fee_rates(), rates.freight_rates()
    if as_json:
        _echo_json({"fees": fees, "freight": freight})
        return
    for row in fees:
        click.echo(f"{row['kind']:<11} {row['shop'] or '*':<16} {row['category'] or '*':<12} {row['rate_bp']:>6} bp"
                   f"{'' if row['refundable'] else '  (not refundable)'}")
    for row in freight:
        click.echo(f"freight     {row['carrier'] or '*':<16} {row['province'] or '*':<12} first {row['first_g']} g "
                   f"{_yuan(row['first_fen'])}, each {row['step_g']} g more {_yuan(row['step_fen'])}")


@money.command("freight-rate")
@click.option("--carrier", default="")
@click.option("--province", default="")
@click.option("--first-g", type=click.IntRange(0), default=1000)
@click.option("--first-fen", type=click.IntRange(0), required=True)
@click.option("--step-g", type=click.IntRange(1), default=1000)
@click.option("--step-fen", type=click.IntRange(0), default=0)
def money_freight_rate(carrier, province, first_g, first_fen, step_g, step_fen):
    """Set what a carrier charges per parcel (first weight, then each step begun)."""
    _db()
    from server.services.money import rates
    row = rates.set_freight_rate(carrier=carrier, province=province, first_g=first_g, first_fen=first_fen,
                                 step_g=step_g, step_fen=step_fen)
    click.echo(f"freight {row['carrier'] or '*'} {row['province'] or '*'}: {row['first_fen']} fen + "
               f"{row['step_fen']} fen / {row['step_g']} g")


@money.command("cost")
@click.argument("sku")
@click.option("--warehouse", required=True, help="The warehouse code.")
@click.option("--set", "set_fen", type=click.IntRange(0), default=None, help="Correct the unit cost (fen).")
@click.option("--json", "as_json", is_flag=True)
def money_cost(sku, warehouse, set_fen, as_json):
    """A SKU's unit cost in a warehouse and its history (or correct it with --set)."""
    _db()
    from server.models import Product, Warehouse
    from server.services.money import costing
    product = Product.get_or_none(Product.sku == sku)
    place = Warehouse.get_or_none(Warehouse.code == warehouse)
    if product is None or place is None:
        raise click.ClickException(f"no SKU {sku} or warehouse {warehouse}")
    if set_fen is not None:
        costing.set_unit_cost(product.id, place.id, set_fen, ref="cli")
    now = costing.unit_cost(product, place)
    changes = costing.history(product.id, place.id, limit=20)
    if as_json:
        _echo_json({"sku": sku, "warehouse": warehouse, "unit_cost_fen": now, "history": changes})
        return
    click.echo(f"{sku} in {warehouse}: {_yuan(now)} yuan a unit")
    for c in changes:
        click.echo(f"  {c['at']:%Y-%m-%d %H:%M} {c['reason']:<8} {c['qty_before']} × {_yuan(c['cost_before_fen'])} + "
                   f"{c['qty_in']} in for {_yuan(c['value_in_fen'])} -> {_yuan(c['unit_cost_fen'])}  {c['ref']}")


@money.command("inbound-freight")
@click.argument("po_code")
@click.argument("fen", type=click.IntRange(0))
def money_inbound_freight(po_code, fen):
    """A purchase order's inbound freight (采购运费), shared over its lines by value at receipt."""
    _db()
    from server.models import PurchaseOrder
    from server.services.money import costing
    po = PurchaseOrder.get_or_none(PurchaseOrder.code == po_code)
    if po is None:
        raise click.ClickException(f"no purchase order {po_code}")
    result = costing.set_inbound_freight(po.id, fen)
    click.echo(f"{po_code}: inbound freight {_yuan(fen)} yuan over {len(result['lines'])} lines")


@money.command("charge")
@click.argument("order_external_id")
@click.argument("kind", type=click.Choice(["merchant_discount", "platform_subsidy", "commission", "payment_fee",
                                           "freight_charged", "freight_paid"]))
@click.argument("fen", type=click.IntRange(0))
@click.option("--shop", default=None, help="The order's shop, when its number is not unique.")
@click.option("--payer", default="")
@click.option("--name", default="", help="店铺优惠券, 满减, 天猫红包, 集分宝 ...")
def money_charge(order_external_id, kind, fen, shop, payer, name):
    """Record an order-level amount as a bill states it (it replaces the estimate of its kind)."""
    _db()
    from server.models import Order
    from server.services.errors import DomainError
    from server.services.money import lines
    query = Order.select().where(Order.external_id == order_external_id)
    if shop:
        query = query.where(Order.shop == shop)
    found = list(query.limit(2))
    if len(found) != 1:
        raise click.ClickException(f"{'no' if not found else 'more than one'} order {order_external_id}")
    try:
        lines.add_charge(found[0].id, kind, fen, payer=payer, name=name, source="cli")
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{order_external_id}: {kind} {_yuan(fen)} yuan")
