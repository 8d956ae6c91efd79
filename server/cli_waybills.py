"""``wavefloor carriers set | list | pool-import`` and ``wavefloor waves waybills``: where each
carrier's waybill numbers (电子面单) come from, its number pools, and a wave's numbers fetched
before picking (打单). server/cli.py adds them with :func:`register`."""
from __future__ import annotations

import json
import sys

import click


def _db():
    from server.cli import _db as open_db
    return open_db()


def _echo(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


def _fail(exc) -> None:
    params = getattr(exc, "params", None) or {}
    detail = f" ({', '.join(f'{k}: {v}' for k, v in params.items())})" if params else ""
    raise click.ClickException(getattr(exc, "text", str(exc)) + detail) from None


@click.group("carriers")
def carriers():
    """Carriers' waybill accounts (电子面单) and number pools (号段)."""


@carriers.command("set")
@click.argument("code")
@click.option("--source", required=True, type=click.Choice(["pool", "cainiao", "sf", "local"]),
              help="pool: numbers from imported files; cainiao: through a Taobao shop's session; sf: SF's own "
                   "API; local: no account (this server makes the numbers).")
@click.option("--shop", default="", help="cainiao: the Taobao / Tmall shop whose session Cainiao uses (e.g. TM-1).")
@click.option("--endpoint", default="", help="sf: the service's URL.")
@click.option("--partner", default="", help="sf: partner id (顾客编码).")
@click.option("--secret", default="", envvar="WAVEFLOOR_CARRIER_SECRET", show_envvar=True,
              help="sf: the checkword (asked for, hidden, when the source is sf and none is given; "
                   "empty keeps the stored one).")
@click.option("--account", default="", help="sf: monthly account (月结卡号); cainiao: the branch.")
@click.option("--template-url", default="", help="cainiao: the standard template's URL.")
def carriers_set(code, source, shop, endpoint, partner, secret, account, template_url):
    """Set where CODE's waybill numbers come from (secrets are sealed at rest, never shown)."""
    _db()
    from server.services.errors import DomainError
    from server.services.packages import carrier_accounts, waybills
    from server.services.stock import inventory
    if source == "sf" and not secret:
        stored = waybills.account_of(code)
        if stored is None or stored.source != "sf" or not stored.secret:
            secret = click.prompt("SF checkword", hide_input=True, default="", show_default=False)
    try:
        carrier_accounts.set_account(code, source, inventory.system_actor(), shop=shop, endpoint=endpoint,
                                     partner=partner, secret=secret, account=account, template_url=template_url)
    except DomainError as exc:
        _fail(exc)
    _echo(carrier_accounts.view_of(code))


@carriers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the carriers as JSON.")
def carriers_list(as_json):
    """Every carrier: where its numbers come from and its pool counts (never a secret)."""
    _db()
    from server.services.packages import carrier_accounts
    rows = carrier_accounts.views()
    if as_json:
        _echo(rows)
        return
    for row in rows:
        counts = row["counts"]
        where = {"cainiao": f" shop {row['shop'] or '–'}", "sf": f" {row['endpoint']} partner {row['partner']}"}
        click.echo(f"{row['carrier']:<8} {row['source']:<8} free {counts['free']:>7}  used {counts['assigned']:>7}  "
                   f"cancelled {counts['cancelled']:>5}{where.get(row['source'], '')}"
                   + (f"  ! {row['problem']}" if row["problem"] else ""))


@carriers.command("pool-import")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def carriers_pool_import(code, file):
    """Add a number pool file (one number a line, or start,end) to CODE's free numbers. Problems
    are listed file:line; the command exits 2 when there are any (the good lines are imported)."""
    _db()
    from server.services.packages import waybills
    from server.services.stock import inventory
    report = waybills.import_pool(code, file, inventory.system_actor())
    _echo({"carrier": code.upper(), "added": report["added"], "duplicates": report["duplicates"],
           "problems": len(report["problems"]), "counts": waybills.pool_counts(code)})
    for problem in report["problems"]:
        click.echo(f"  {problem}", err=True)
    if report["problems"]:
        sys.exit(2)


@click.command("waybills")
@click.argument("wave")
@click.option("--concurrency", default=8, type=click.IntRange(1, 64), show_default=True,
              help="Requests to the carrier at a time.")
def waves_waybills(wave, concurrency):
    """Fetch the carriers' numbers for WAVE's orders (打单: its code or number) and print the report
    as JSON; exits 2 when an order got none (its reason is in the report)."""
    _db()
    from server.services.errors import DomainError
    from server.services.packages import waybills
    from server.services.waves import planning as waves
    try:
        found = waves.get(wave)
    except DomainError as exc:
        _fail(exc)
    report = {**waybills.fetch_for_wave(found.id, concurrency=concurrency), "wave": found.code}
    _echo(report)
    if report["failed"]:
        sys.exit(2)


def register(cli, waves_group) -> None:
    cli.add_command(carriers, "carriers")
    waves_group.add_command(waves_waybills, "waybills")
