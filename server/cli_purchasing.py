"""``wavefloor po`` and ``wavefloor suppliers``: purchase orders and suppliers from the command
line (server/cli.py adds these groups)."""
from __future__ import annotations

import json

import click


def _db():
    from server.cli import _db as open_db
    return open_db()


def _fail(exc) -> None:
    raise click.ClickException(getattr(exc, "text", str(exc))) from None


def _actor(user_code: str | None):
    from server.models import User
    from server.services.stock import inventory
    if not user_code:
        return inventory.system_actor()
    user = User.get_or_none(User.code == user_code)
    if user is None or not user.active:
        raise click.ClickException(f"no active user {user_code!r}")
    return inventory.Actor(user.id)


@click.group("po")
def po():
    """Purchase orders (采购单): import, list, show, submit, approve, reject, cancel, close."""


@po.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--submit", is_flag=True, help="Submit each imported order for approval.")
@click.option("--user", "user_code", default=None, help="Who imports (default: system).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def po_import(file, submit, user_code, as_json):
    """PO CSV: po,supplier,warehouse,sku,qty[,unit_cost,expected_on,delivery_note,note]; rows with
    the same po make one order (Chinese headers, GBK or UTF-8 accepted)."""
    from server.cli import _report
    _db()
    from server.services.purchasing import po_file
    _report(po_file.import_orders(file, _actor(user_code), submit=submit), as_json)


@po.command("list")
@click.option("--status", default=None, help="draft, submitted, approved, partially_received, received, "
                                             "closed_short or cancelled (comma separated).")
@click.option("--supplier", default=None)
@click.option("--warehouse", default=None)
@click.option("--limit", default=50, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True)
def po_list(status, supplier, warehouse, limit, as_json):
    """Purchase orders, newest first."""
    _db()
    from server.services.errors import DomainError
    from server.services.purchasing import orders
    try:
        found = orders.list_orders(status=status, supplier=supplier, warehouse=warehouse, limit=limit)
    except DomainError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, default=str))
        return
    for row in found["items"]:
        click.echo(f"{row['code']:<20} {row['status']:<19} {row['supplier']:<10} {row['warehouse']:<7} "
                   f"{row['received_qty']:>6}/{row['qty']:<6} ¥{row['total_fen'] / 100:,.2f}"
                   + (f"  送货单 {row['delivery_note']}" if row["delivery_note"] else ""))
    click.echo(f"{len(found['items'])} of {found['total']}")


@po.command("show")
@click.argument("code")
def po_show(code):
    """One purchase order (by code or delivery note number) with its lines, as JSON."""
    _db()
    from server.services.errors import DomainError
    from server.services.purchasing import orders
    try:
        click.echo(json.dumps(orders.order_view(orders.get(code)), ensure_ascii=False, default=str, indent=1))
    except DomainError as exc:
        _fail(exc)


def _step(verb_name: str, code: str, user_code: str | None, *args):
    _db()
    from server.services.errors import DomainError
    from server.services.purchasing import orders
    try:
        found = getattr(orders, verb_name)(code, _actor(user_code), *args)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{found.code} {found.status}")


@po.command("submit")
@click.argument("code")
@click.option("--user", "user_code", default=None)
def po_submit(code, user_code):
    """Submit a draft for approval."""
    _step("submit", code, user_code)


@po.command("approve")
@click.argument("code")
@click.option("--user", "user_code", required=True, help="The approver: one of their roles' limits must cover the total.")
def po_approve(code, user_code):
    """Approve a submitted order (audited; refused above the user's approval limit)."""
    _step("approve", code, user_code)


@po.command("reject")
@click.argument("code")
@click.option("--user", "user_code", required=True)
@click.option("--reason", required=True)
def po_reject(code, user_code, reason):
    """Send a submitted order back to draft."""
    _step("reject", code, user_code, reason)


@po.command("cancel")
@click.argument("code")
@click.option("--user", "user_code", default=None)
@click.option("--reason", default="")
def po_cancel(code, user_code, reason):
    """Cancel an order nothing was received on (an approved one needs --reason)."""
    _step("cancel", code, user_code, reason)


@po.command("close")
@click.argument("code")
@click.option("--user", "user_code", default=None)
@click.option("--reason", required=True)
def po_close(code, user_code, reason):
    """Close an approved or partly received order short (短收结案)."""
    _step("close_short", code, user_code, reason)


@po.command("limits")
@click.option("--set", "role", default=None, help="The role whose limit to set.")
@click.option("--max-yuan", default=None, type=click.FloatRange(0), help="Its limit in yuan (none: unlimited).")
@click.option("--remove", is_flag=True, help="Take the role's row away: it may approve nothing.")
def po_limits(role, max_yuan, remove):
    """Approval limits per role (按金额审批); with --set, change one."""
    _db()
    from server.services.errors import DomainError
    from server.services.purchasing import approvals
    try:
        table = (approvals.set_limit(role, None if max_yuan is None else round(max_yuan * 100), _actor(None),
                                     remove=remove) if role else approvals.limits())
    except DomainError as exc:
        _fail(exc)
    for name, max_fen in sorted(table.items()):
        click.echo(f"{name:<12} {'no limit' if max_fen is None else f'¥{max_fen / 100:,.2f}'}")


@click.group("suppliers")
def suppliers_():
    """Suppliers (供应商) and what they sell us."""


@suppliers_.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def suppliers_import(file, as_json):
    """Suppliers CSV: supplier,name,contact,phone,lead_time,tolerance_pct,blind,qc_plan,aql,
    sku,unit_cost,moq,pack_size (Chinese headers accepted); one row per supplier item."""
    from server.cli import _report
    _db()
    from server.services.purchasing import suppliers
    _report(suppliers.import_suppliers(file), as_json)


@suppliers_.command("list")
@click.option("--json", "as_json", is_flag=True)
def suppliers_list(as_json):
    """Every supplier with its number of items (phones shown in full: this is the site's own shell)."""
    _db()
    from server.models import User
    from server.services.auth import Principal
    from server.services.purchasing import suppliers
    found = suppliers.list_suppliers(Principal(User(code="cli"), ["admin"]), limit=500)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    for row in found["items"]:
        click.echo(f"{row['code']:<10} {row['name']:<24} {row['item_count']:>4} items  lead {row['lead_time_days']}d  "
                   f"qc {row['qc_plan']}{'  blind' if row['blind_receiving'] else ''}")
