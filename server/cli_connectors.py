"""``wavefloor shop connect | pull | sync | outbox | retry | push-stock``: a shop's live connection
to its platform from the command line (server/cli.py adds these to its ``shop`` group)."""
from __future__ import annotations

import datetime as dt
import json

import click


def _db():
    from server.cli import _db as open_db
    return open_db()


def _fail(exc) -> None:
    raise click.ClickException(getattr(exc, "text", str(exc)) + _detail(exc)) from None


def _detail(exc) -> str:
    params = getattr(exc, "params", None)
    return f" ({', '.join(f'{k}: {v}' for k, v in params.items())})" if params else ""


def _echo(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


@click.command("connect")
@click.argument("code")
@click.option("--app-key", required=True, help="The app's key on the platform (TOP app_key, JOS / 抖店 app key).")
@click.option("--secret", required=True, prompt=True, hide_input=True, envvar="WAVEFLOOR_SHOP_SECRET",
              help="The app secret (asked for when not given; or WAVEFLOOR_SHOP_SECRET).")
@click.option("--session", required=True, prompt=True, hide_input=True, envvar="WAVEFLOOR_SHOP_SESSION",
              help="The seller's session key / access token (asked for when not given; or WAVEFLOOR_SHOP_SESSION).")
@click.option("--platform", type=click.Choice(["top", "jos", "doudian"]), default=None,
              help="Default: by the shop's channel (tmall/top: top, jd: jos, douyin: doudian).")
@click.option("--endpoint", default="", help="The platform's gateway; default its published one.")
@click.option("--sign-method", default="md5", type=click.Choice(["md5", "hmac", "hmac-sha256"]))
@click.option("--seller-nick", default="")
@click.option("--pull-every", "pull_every_s", default=60, type=click.IntRange(10), help="Seconds between pulls.")
@click.option("--push-shipments/--no-push-shipments", default=True, help="Confirm shipments on the platform.")
@click.option("--push-stock/--no-push-stock", default=False, help="Upload stock figures to the platform.")
def connect(code, **values):
    """Connect a shop to its platform, or re-authorise it (secrets are sealed at rest)."""
    _db()
    from server.services.connectors import connections
    from server.services.errors import DomainError
    try:
        connections.connect(code, **values)
    except DomainError as exc:
        _fail(exc)
    _echo(next(row for row in connections.views() if row["shop"] == code))


@click.command("pull")
@click.argument("code")
@click.option("--operation", "operations", multiple=True, type=click.Choice(["orders", "refunds"]),
              help="What to pull (default both).")
@click.option("--since", default=None, help="Where a first pull starts (ISO time, UTC); default a day back.")
def pull_(code, operations, since):
    """Pull the shop's orders and refunds up to now, from its checkpoint."""
    _db()
    from server.services.connectors import connections, pull
    from server.services.errors import DomainError
    start = dt.datetime.fromisoformat(since.replace("Z", "")) if since else None
    try:
        client = connections.client_for(connections.of_shop(code))
        for operation in operations or pull.OPERATIONS:
            report = pull.pull(code, operation, client, holder=f"cli:{code}", since=start)
            _echo(report.as_dict())
    except DomainError as exc:
        _fail(exc)


@click.command("sync")
@click.option("--forever", is_flag=True, help="Go on every few seconds (as a serving process does).")
def sync(forever):
    """One round of the connectors' work: due pulls of every connected shop, then the outbox."""
    _db()
    from server.services.connectors import worker
    if forever:
        worker.run_forever()
    _echo(worker.run_once())


@click.command("outbox")
@click.option("--state", type=click.Choice(["pending", "sending", "done", "failed"]), default=None)
@click.option("--limit", default=50, type=click.IntRange(1, 1000))
def outbox_(state, limit):
    """The platform outbox, newest first (--state failed: the calls waiting for a person)."""
    _db()
    from server.services.connectors import outbox
    _echo({"counts": outbox.counts(), "calls": outbox.listing(state, None, limit)})


@click.command("retry")
@click.argument("call_id", type=int)
def retry(call_id):
    """Send a failed platform call again."""
    _db()
    from server.services.connectors import outbox
    from server.services.errors import DomainError
    try:
        _echo(outbox.retry(call_id))
    except DomainError as exc:
        _fail(exc)


@click.command("push-stock")
@click.argument("code")
def push_stock(code):
    """Queue the shop's stock figures for upload (one call per listed SKU)."""
    _db()
    from server.services.connectors import connections
    from server.services.errors import DomainError
    try:
        connections.of_shop(code)
        _echo(connections.push_stock(code))
    except DomainError as exc:
        _fail(exc)


COMMANDS = (connect, pull_, sync, outbox_, retry, push_stock)
