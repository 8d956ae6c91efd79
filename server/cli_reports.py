"""``wavefloor reports``: the daily sales aggregate the report pages read (refresh it, prove it
equals the order lines) and any report's figures as JSON or xlsx (server/cli.py adds the group).
See docs/reports.md."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click


def _db() -> dict:
    from server.cli import _db as open_db
    return open_db()


@click.group("reports")
def reports_group():
    """Reports (报表): the sales aggregate, figures as JSON, xlsx exports."""


@reports_group.command("refresh")
@click.option("--full", is_flag=True, help="Rebuild every day, not only the days changed since the last refresh.")
def reports_refresh(full):
    """Bring the daily sales aggregate up to date (run it from cron or after a bulk import)."""
    values = _db()
    from server.services.reports import facts
    click.echo(json.dumps(facts.refresh(values["TIMEZONE"], full=full)))


@reports_group.command("verify")
def reports_verify():
    """Compare every day of the aggregate with the order lines; exit 1 when any differs."""
    values = _db()
    from server.services.reports import facts
    found = facts.verify(values["TIMEZONE"])
    click.echo(json.dumps(found, ensure_ascii=False, default=str))
    if not found["exact"]:
        raise SystemExit(1)


@reports_group.command("show")
@click.argument("report")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--region", default=None)
@click.option("--province", default=None)
@click.option("--channel", default=None)
@click.option("--shop", default=None)
@click.option("--grain", default="day", type=click.Choice(["day", "week", "month"]))
@click.option("--measure", default="revenue", type=click.Choice(["revenue", "units", "margin"]))
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False), default=None, help="Write the xlsx here.")
@click.option("--lang", default="zh_Hans_CN", type=click.Choice(["zh_Hans_CN", "en"]))
def reports_show(report, since, until, region, province, channel, shop, grain, measure, xlsx_path, lang):
    """One report's figures as JSON (sales, skus, margin, logistics, returns, productivity, inventory)."""
    values = _db()
    from server.services import reports
    from server.services.errors import DomainError
    from server.services.reports import facts
    from server.services.reports import filters as flt
    from server.web.reports import export_bytes
    if report not in reports.REPORTS:
        raise click.ClickException(f"no report {report!r}: one of {', '.join(reports.REPORTS)}")
    zone = values["TIMEZONE"]
    facts.refresh(zone)
    try:
        f = flt.make(since.date() if since else None, until.date() if until else None, zone=zone, region=region,
                     province=province, channel=channel, shop=shop, known_provinces=facts.choices()["provinces"])
    except DomainError as exc:
        raise click.ClickException(exc.text) from None
    result = reports.run(report, f, {"grain": grain, "measure": measure})
    if xlsx_path:
        Path(xlsx_path).write_bytes(export_bytes(report, result, "en" if lang == "en" else "zh_Hans_CN"))
    click.echo(json.dumps(result, ensure_ascii=False, default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v)))
