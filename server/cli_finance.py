"""``wavefloor finance``: settlement bills (结算账单) and their reconciliation (对账), daily
vouchers (凭证) and their export for 金蝶云星空/K3 and 用友 U8/T+, the account mapping (科目对照),
from the command line (server/cli.py adds this group). See docs/finance.md."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click


def _db() -> dict:
    from server.cli import _db as open_db
    return open_db()


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a day (yyyy-mm-dd)") from None


@click.group("finance")
def finance():
    """Settlement bills, reconciliation, vouchers for 金蝶 / 用友 (财务)."""


@finance.command("import-bill")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--channel", type=click.Choice(["alipay", "jd", "douyin"]), required=True,
              help="alipay: the Alipay 账务明细 CSV of a Tmall/Taobao shop; jd, douyin: settlement JSON.")
@click.option("--shop", required=True, help="The shop the bill is of.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_bill(path, channel, shop, as_json):
    """Import a settlement bill and reconcile it against the orders; bad rows are listed by
    file:line: field: reason (exit status 1 when there are any)."""
    _db()
    from server.services.errors import DomainError
    from server.services.finance import settlement
    try:
        result = settlement.import_bill(channel, shop, Path(path).read_bytes(), name=Path(path).name, user="cli")
    except DomainError as exc:
        raise click.ClickException(exc.text) from None
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        click.echo(f"bill #{result['bill']}: {result['added']} new lines of {result['lines']} "
                   f"({result['already_imported']} imported before)")
        for state, n in sorted(result["reconciliation"]["counts"].items()):
            click.echo(f"  {state}: {n}")
        for problem in result["problems"]:
            click.echo(problem, err=True)
    if result["problems"]:
        raise SystemExit(1)


@finance.command("reconcile")
@click.option("--shop", default=None, help="Only this shop's bill lines.")
def reconcile(shop):
    """Reconcile every bill line again (after orders, refunds or line money changed)."""
    _db()
    from server.services.finance import settlement
    result = settlement.reconcile(shop=shop)
    for state, n in sorted(result["counts"].items()):
        click.echo(f"{state}: {n}")
    click.echo(f"mismatched difference: {result['mismatched_diff_fen'] / 100:.2f} yuan")


@finance.command("vouchers")
@click.argument("first")
@click.argument("last", required=False)
@click.option("--shop", default="", help="Only this shop's sales (receipts are left out).")
def make_vouchers(first, last, shop):
    """Make the daily vouchers of FIRST .. LAST (yyyy-mm-dd)."""
    _db()
    from server.services.errors import DomainError
    from server.services.finance import vouchers
    try:
        made = vouchers.build_days(_day(first), _day(last), shop=shop)
    except DomainError as exc:
        raise click.ClickException(exc.text) from None
    for v in made:
        click.echo(f"{v['day']} {v['word']}-{v['number']} {v['kind']:8} debit {v['debit_fen'] / 100:.2f} "
                   f"credit {v['credit_fen'] / 100:.2f}")


@finance.command("export")
@click.argument("first")
@click.argument("last", required=False)
@click.option("--layout", default="kingdee", show_default=True, help="kingdee, u8, tplus or a saved layout.")
@click.option("--shop", default=None)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="The xlsx file to write.")
def export_vouchers(first, last, layout, shop, output):
    """Write the vouchers of FIRST .. LAST as an xlsx import file; refused when one is unbalanced."""
    _db()
    from server.services.errors import DomainError
    from server.services.finance import export
    first_day = _day(first)
    try:
        content, count = export.export_xlsx(layout, first_day, _day(last) or first_day, shop)
    except DomainError as exc:
        raise click.ClickException(exc.text) from None
    Path(output).write_bytes(content)
    click.echo(f"{count} vouchers written to {output}")


@finance.command("account")
@click.argument("key", required=False)
@click.argument("code", required=False)
@click.argument("name", required=False, default="")
@click.option("--shop", default="", help="For this shop only.")
def account(key, code, name, shop):
    """Show the account mapping, or set KEY's subject CODE (and NAME)."""
    _db()
    from server.services.errors import DomainError
    from server.services.finance import accounts
    if key and code:
        try:
            accounts.set_account(key, code, name, shop=shop)
        except DomainError as exc:
            raise click.ClickException(exc.text) from None
    for row in accounts.listing(shop):
        click.echo(f"{row['key']:20} {row['code']:12} {row['name']}")
