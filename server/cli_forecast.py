"""``wavefloor forecast`` and ``wavefloor purchase``: demand forecasts (需求预测), their alerts,
and the daily purchase plan (采购计划) from the command line (server/cli.py adds these groups).
See docs/forecast.md."""
from __future__ import annotations

import json

import click


def _db() -> dict:
    from server.cli import _db as open_db
    return open_db()


def _settings(values: dict):
    from server.services.forecast.settings import Settings
    return Settings.of(values)


def _fail(exc) -> None:
    raise click.ClickException(getattr(exc, "text", str(exc))) from None


@click.group("forecast")
def forecast():
    """Demand forecasts (需求预测): run them, show a SKU's."""


@forecast.command("run")
@click.option("--sku", default=None, help="Only this SKU.")
@click.option("--warehouse", default=None, help="Only this warehouse (its code).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Processes (default: FORECAST_WORKERS).")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON.")
def forecast_run(sku, warehouse, workers, as_json):
    """Forecast every SKU and warehouse with sales or stock (or one), store the forecasts and
    raise or close the stock alerts."""
    values = _db()
    from server.services.errors import DomainError
    from server.services.forecast import run  # statsforecast: 1 s to import, only here
    try:
        settings = _settings(dict(values, **({"FORECAST_WORKERS": workers} if workers else {})))
        report = run.run(settings, sku=sku, warehouse=warehouse)
    except DomainError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    click.echo(f"{report['made_on']}: {report['skus']} SKUs forecast in {report['seconds']} s; "
               f"alerts raised {report['alerts']['raised']}, closed {report['alerts']['closed']}")
    for name, entry in sorted(report["classes"].items()):
        mase = "-" if entry["mase"] is None else f"{entry['mase']:.2f}"
        bias = "-" if entry["bias"] is None else f"{entry['bias']:+.1%}"
        click.echo(f"  {name:<13} {entry['skus']:>6} SKUs  MASE {mase:>5}  bias {bias}")
    for reason, n in sorted(report["reasons"].items()):
        click.echo(f"  {reason}: {n}")


@forecast.command("show")
@click.argument("sku")
@click.option("--warehouse", default=None)
@click.option("--json", "as_json", is_flag=True)
def forecast_show(sku, warehouse, as_json):
    """A SKU's latest forecast with its reorder point and days of cover."""
    values = _db()
    from server.services.errors import DomainError
    from server.services.forecast import plan
    try:
        rows = plan.overview(_settings(values), warehouse=warehouse, sku=sku)
    except DomainError as exc:
        _fail(exc)
    if not rows:
        raise click.ClickException(f"no forecast for {sku}: run `wavefloor forecast run --sku {sku}`")
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['sku']} {row['warehouse']} made {row['made_on']}: {row['sb_class'] or '-'} "
                   f"{row['method'] or '-'} {row['per_day']:.2f}/day{'  (' + row['reason'] + ')' if row['reason'] else ''}")
        click.echo(f"  reorder point {row['reorder_point']} = lead-time demand {row['lead_time_demand']} "
                   f"+ safety stock {row['safety_stock']} ({row['lead_time_days']} days); position {row['position']}; "
                   f"days of cover {row['days_of_cover'] if row['days_of_cover'] is not None else '-'}; "
                   f"order {row['order_qty']}")


@forecast.command("promotion")
@click.argument("day", required=False)
@click.argument("name", required=False)
@click.option("--remove", is_flag=True, help="Remove DAY from the table.")
def forecast_promotion(day, name, remove):
    """The merchant's own promotion days (大促: sales that are not ordinary demand); with no
    argument, the table. 618, 双11 and 双12 are promotion days every year without a row."""
    _db()
    from server.services.errors import DomainError
    from server.services.forecast import promotions
    try:
        if day:
            when = promotions.parse_day(day)
            if remove:
                promotions.remove(when)
            else:
                promotions.add(when, name)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    for when, title in promotions.listed():
        click.echo(f"{when.isoformat()}  {title}")


@click.group("purchase")
def purchase():
    """The purchase plan (采购计划) from the forecasts."""


@purchase.command("plan")
@click.option("--warehouse", default=None, help="Only this warehouse (its code).")
@click.option("--create", is_flag=True, help="Write the suggestions as draft purchase orders, one per supplier "
                                             "and warehouse.")
@click.option("--user", "user_code", default=None, help="Who creates the drafts (default: system).")
@click.option("--json", "as_json", is_flag=True)
def purchase_plan(warehouse, create, user_code, as_json):
    """What to order now: SKUs at or below their reorder point, rounded to the supplier's MOQ and
    packs, grouped by supplier."""
    values = _db()
    from server.cli_purchasing import _actor
    from server.services.errors import DomainError
    from server.services.forecast import plan
    try:
        settings = _settings(values)
        rows = plan.suggestions(settings, warehouse=warehouse)
        created = plan.create_drafts(_actor(user_code), settings, warehouse=warehouse) if create else []
    except DomainError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps({"suggestions": rows, "created": created}, ensure_ascii=False))
        return
    if not rows:
        click.echo("nothing to order: every SKU is above its reorder point (or has no forecast yet)")
    for row in sorted(rows, key=lambda r: (r["supplier"] or "", r["warehouse"], r["sku"])):
        click.echo(f"{row['supplier'] or '(no supplier)':<12} {row['warehouse']:<6} {row['sku']:<16} "
                   f"order {row['order_qty']:>6}  position {row['position']:>6}  reorder point {row['reorder_point']:>8}"
                   f"{'  [' + row['blocked'] + ']' if row['blocked'] else ''}")
    for po in created:
        click.echo(f"draft {po['po']}: {po['supplier']} → {po['warehouse']}, {po['lines']} lines, {po['total_fen']} fen")
