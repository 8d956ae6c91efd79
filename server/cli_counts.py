"""``wavefloor counts``: cycle count plans and the counts (盘点) from the command line (server/cli.py
adds the group)."""
from __future__ import annotations

import json

import click


def _db():
    from server.cli import _db as open_db
    return open_db()


def _fail(exc) -> None:
    raise click.ClickException(getattr(exc, "text", str(exc))) from None


@click.group("counts")
def counts():
    """Cycle counts (盘点): plan them, list them."""


@counts.command("plan")
@click.option("--by", "by", required=True, type=click.Choice(["zone", "aisle", "list", "abc", "stale", "flagged"]),
              help="zone, aisle, list (of locations), abc (A monthly, B quarterly, C yearly, from the last 90 "
                   "days' picks), stale (not counted for --days), flagged (short picks, rejected counts).")
@click.option("--warehouse", default=None, help="A warehouse's code (default: every warehouse).")
@click.option("--zone", default=None, help="With --by zone: the zone's code.")
@click.option("--aisle", default=None, type=int, help="With --by aisle: the aisle's number.")
@click.option("--location", "locations", multiple=True, help="With --by list: a location's code (repeat it).")
@click.option("--days", default=None, type=click.IntRange(1, 3650), help="With --by stale: not counted for N days.")
@click.option("--dry-run", is_flag=True, help="Say what would be counted; open nothing.")
@click.option("--json", "as_json", is_flag=True)
def counts_plan(by, warehouse, zone, aisle, locations, days, dry_run, as_json):
    """Open a count task for each location the plan chooses (locations in a count already are skipped)."""
    _db()
    from server.services.counts import plans
    from server.services.errors import DomainError
    try:
        planned = plans.plan(by, warehouse=warehouse, zone=zone, aisle=aisle, locations=list(locations) or None,
                             days=days, dry_run=dry_run)
    except DomainError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(planned, ensure_ascii=False))
        return
    for row in planned["created"]:
        click.echo(f"{row['code'] or '-':<12} {row['location']:<16} {row['reason']}")
    verb = "would open" if dry_run else "opened"
    click.echo(f"{verb} {len(planned['created'])} count task(s); {planned['skipped']} location(s) in a count already")


@counts.command("list")
@click.option("--status", default=None, help="open, counting, counted, recounted, review, approved, rejected, "
                                             "cancelled (comma separated).")
@click.option("--location", default=None)
@click.option("--warehouse", default=None)
@click.option("--limit", default=50, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
def counts_list(status, location, warehouse, limit, as_json):
    """Count tasks, newest first, with their variance (units, and yuan at cost)."""
    _db()
    from server.services.counts import review
    from server.services.errors import DomainError
    try:
        found = review.listing(status=status, location=location, warehouse=warehouse, limit=limit)
    except DomainError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    for row in found:
        click.echo(f"{row['code']:<12} {row['status']:<10} {row['location']:<16} {row['reason']:<9} "
                   f"{row['counter'] or '-':<12} {row['variance_units']:>5} ¥{row['variance_fen'] / 100:,.2f}"
                   + (f"  recount of {row['recount_of']}" if row["recount_of"] else ""))
    click.echo(f"{len(found)} count task(s)")
