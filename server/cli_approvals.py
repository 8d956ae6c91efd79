"""``wavefloor approvals``: the approval flows (多级审批) and the requests waiting in them, from
the command line (server/cli.py adds this group). See docs/approvals.md."""
from __future__ import annotations

import json

import click


def _db() -> dict:
    from server.cli import _db as open_db
    return open_db()


def _user(user_code: str):
    from server.cli_purchasing import _actor
    return _actor(user_code)


@click.group("approvals")
def approvals():
    """Approval flows and requests (多级审批): what waits for whom, approve, reject."""


@approvals.command("flows")
@click.option("--json", "as_json", is_flag=True)
def flows_(as_json):
    """The flow table: per subject, from which amount and through which levels."""
    _db()
    from server.services.approvals import flows
    rows = flows.flows()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        levels = " -> ".join("/".join(level) for level in row["levels"]) or "-"
        state = "on" if row["active"] else "off"
        click.echo(f"{row['subject']:<17} {state:<3} from {row['over_fen']:>10} fen  {levels}   ({row['means']})")


@approvals.command("flow")
@click.argument("subject")
@click.option("--level", "levels", multiple=True, help="A level's roles, comma separated; repeat per level, "
                                                         "in order (e.g. --level supervisor --level admin).")
@click.option("--over", "over_fen", type=int, default=0, show_default=True,
              help="The amount (fen) from which the flow applies.")
@click.option("--off", is_flag=True, help="Keep the flow but do not apply it.")
@click.option("--remove", is_flag=True, help="Take the subject's flow away.")
@click.option("--user", "user_code", default=None, help="Who changes the table (audited; default: system).")
def flow(subject, levels, over_fen, off, remove, user_code):
    """Set (or remove) SUBJECT's flow: stock_adjustment, purchase_order, price_change,
    cost_change, voucher_export."""
    _db()
    from server.services.approvals import flows
    from server.services.errors import DomainError
    try:
        if remove:
            flows.remove_flow(subject, _user(user_code))
            click.echo(f"{subject}: no flow")
            return
        row = flows.set_flow(subject, [level.split(",") for level in levels], over_fen, _user(user_code),
                             active=not off)
    except DomainError as error:
        raise click.ClickException(error.text) from None
    click.echo(f"{subject}: from {row['over_fen']} fen, " + " -> ".join("/".join(x) for x in row["levels"]))


@approvals.command("list")
@click.option("--status", default="pending", show_default=True,
              type=click.Choice(["pending", "approved", "rejected", "cancelled", "all"]))
@click.option("--for", "for_user", default=None, help="Only what this user may decide now.")
@click.option("--json", "as_json", is_flag=True)
def list_(status, for_user, as_json):
    """Requests, newest first."""
    _db()
    from server.services.approvals import requests
    user = _user(for_user).user_id if for_user else None
    rows = requests.listing(status=None if status == "all" else status, for_user=user)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    for row in rows:
        waiting = f" waits for {'/'.join(row['waiting_for'])} (level {row['level']})" if row["waiting_for"] else ""
        click.echo(f"#{row['id']} {row['status']:<9} {row['subject']:<17} {row['summary']}  by {row['requested_by']}"
                   f"{waiting}")


def _decide(request_id, user_code, approve, comment):
    _db()
    from server.services.approvals import apply
    from server.services.errors import DomainError
    try:
        request = apply.decide(request_id, _user(user_code), approve=approve, comment=comment)
    except DomainError as error:
        raise click.ClickException(error.text) from None
    click.echo(f"#{request.id} {request.status}" + (f": {request.outcome}" if request.outcome else
                                                    f", level {request.level + 1} next"))


@approvals.command("approve")
@click.argument("request_id", type=int)
@click.option("--user", "user_code", required=True, help="Who approves (their roles must fit the level).")
@click.option("--comment", default="")
def approve(request_id, user_code, comment):
    """Approve the level request REQUEST_ID waits at."""
    _decide(request_id, user_code, True, comment)


@approvals.command("reject")
@click.argument("request_id", type=int)
@click.option("--user", "user_code", required=True)
@click.option("--comment", required=True, help="Why (kept in the audit log).")
def reject(request_id, user_code, comment):
    """Reject request REQUEST_ID."""
    _decide(request_id, user_code, False, comment)
