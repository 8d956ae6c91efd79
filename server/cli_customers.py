"""``wavefloor customers``: derive the customers from the orders (refresh), print or write the day's
due-to-reorder list for the SMS tool (due), and opt customers out of reminders (optout); server/cli.py
adds the group. The command line runs on the server, as its operator: it prints phone numbers
unmasked (the SMS tool needs them). See docs/customers.md."""
from __future__ import annotations

import json
import sys

import click


def _db() -> dict:
    from server.cli import _db as open_db
    return open_db()


@click.group("customers")
def customers():
    """Customers (CRM, 客户): refresh them from the orders, the due-to-reorder list, opt-outs."""


@customers.command("refresh")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="As of this day (default: today in China).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--run", "run_id", type=int, default=None, hidden=True,
              help="The refresh run (POST /api/v1/customers/refresh) this process carries out.")
def customers_refresh(day, as_json, run_id):
    """Derive every customer from the orders: totals, RFM scores, tags (rules/customers.yaml), the
    day's tag counts, the repurchase models and the day's due-to-reorder list."""
    _db()
    from rules import RuleError
    from server.services import refresh_runs
    from server.services.customers import derive
    try:
        report = derive.refresh(day.date() if day else None)
    except RuleError as exc:
        if run_id is not None:
            refresh_runs.fail(run_id, f"customers.yaml has errors:\n{exc}")
        raise click.ClickException(f"customers.yaml has errors:\n{exc}") from None
    except Exception as exc:
        if run_id is not None:
            refresh_runs.fail(run_id, f"{type(exc).__name__}: {exc}")
        raise
    if run_id is not None:
        refresh_runs.finish(run_id, report)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    click.echo(f"{report['day']}: {report['customers']} customers ({report['new']} new) in {report['seconds']} s; "
               f"{report['skus_modelled']} of {report['skus']} SKUs have a repurchase model; "
               f"{report['due']} added to the due list")
    for tag, n in report["tags"].items():
        click.echo(f"  {tag:<20} {n:>8}")


@customers.command("due")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The list's day (default: today).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the CSV here (default: print it).")
def customers_due(day, out):
    """The day's due-to-reorder list as CSV for the SMS tool (opted-out customers left out)."""
    _db()
    from server.services.customers import repurchase
    from server.services.customers.common import today
    data = repurchase.due_csv(day.date() if day else today(), pii=True)
    if out:
        with open(out, "wb") as handle:
            handle.write(data)
        rows = max(0, data.count(b"\n") - 1)
        click.echo(f"{rows} rows written to {out}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@customers.command("optout")
@click.option("--buyer", default=None, help="The buyer (nick) as the channel names them.")
@click.option("--channel", default=None, help="Only the customer of this channel.")
@click.option("--phone", "phones", multiple=True, help="A phone number (repeat, or use --file).")
@click.option("--file", "phone_file", type=click.File("r", encoding="utf-8-sig"), default=None,
              help="A file of phone numbers, one a line (the SMS tool's 退订 list).")
@click.option("--undo", is_flag=True, help="Opt them back in.")
def customers_optout(buyer, channel, phones, phone_file, undo):
    """Opt customers out of reminder messages (or back in with --undo)."""
    _db()
    from server.services.customers import views
    numbers = list(phones) + ([line.strip().split(",")[0] for line in phone_file if line.strip()] if phone_file else [])
    ids: list[int] = []
    if buyer:
        ids += views.find_for_opt_out(buyer=buyer, channel=channel)
    for number in numbers:
        ids += views.find_for_opt_out(phone=number, channel=channel)
    if not ids:
        raise click.ClickException("no customer found: name one with --buyer, --phone or --file")
    changed = views.set_opt_out(None, sorted(set(ids)), not undo, note="cli")
    click.echo(f"{changed} customer(s) opted {'back in' if undo else 'out'} ({len(set(ids))} found)")
