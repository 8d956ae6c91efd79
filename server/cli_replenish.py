"""``wavefloor replenish``: pick faces' minimum and maximum, and replenishment tasks (补货), from
the command line (server/cli.py adds the group)."""
from __future__ import annotations

import json
from dataclasses import asdict

import click


def _db():
    from server.cli import _db as open_db
    return open_db()


def _fail(exc) -> None:
    raise click.ClickException(getattr(exc, "text", str(exc))) from None


def _task_line(view: dict) -> str:
    wave = f" {view['wave']}" if view["wave"] else ""
    return (f"{view['code']}  {view['trigger']:<6} {view['status']:<9} {view['sku']} x{view['qty']}"
            f"  {view['source']} -> {view['face']}{wave}")


@click.group("replenish")
def replenish():
    """Replenishment (补货) from reserve to pick faces: plan, list, faces, set, suggest."""


@replenish.command("plan")
@click.option("--warehouse", default=None, help="Only this warehouse's faces (its code).")
@click.option("--json", "as_json", is_flag=True)
def replenish_plan(warehouse, as_json):
    """A task for every pick face below its minimum that has none open."""
    _db()
    from server.services.errors import DomainError
    from server.services.replenishment import tasks
    try:
        made = [tasks.task_view(tasks.get(t.id)) for t in tasks.plan(warehouse)]
    except DomainError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps({"tasks": made}, ensure_ascii=False, default=str))
        return
    click.echo(f"{len(made)} replenishment task(s) planned")
    for view in made:
        click.echo(f"  {_task_line(view)}")


@replenish.command("list")
@click.option("--status", default=None, help="open, assigned, moving, done or cancelled.")
@click.option("--warehouse", default=None)
@click.option("--limit", default=100, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True)
def replenish_list(status, warehouse, limit, as_json):
    """Replenishment tasks, running ones first."""
    _db()
    from server.services.replenishment import tasks
    views = [tasks.task_view(t) for t in tasks.tasks(status, warehouse, limit)]
    if as_json:
        click.echo(json.dumps({"tasks": views}, ensure_ascii=False, default=str))
        return
    for view in views:
        click.echo(_task_line(view))


@replenish.command("faces")
@click.option("--warehouse", default=None)
@click.option("--json", "as_json", is_flag=True)
def replenish_faces(warehouse, as_json):
    """Pick faces with their minimum, maximum and units on hand."""
    _db()
    from server.services.replenishment import cover
    faces = cover.faces(warehouse)
    if as_json:
        click.echo(json.dumps({"faces": faces}, ensure_ascii=False))
        return
    for face in faces:
        click.echo(f"{face['location']}  {face['sku']}  min {face['min_qty']}  max {face['max_qty']}"
                   f"  on hand {face['on_hand']}")


@replenish.command("set")
@click.argument("location")
@click.argument("sku")
@click.option("--min", "min_qty", required=True, type=click.IntRange(0))
@click.option("--max", "max_qty", required=True, type=click.IntRange(0))
def replenish_set(location, sku, min_qty, max_qty):
    """Set a pick face's minimum and maximum by hand."""
    _db()
    from server.services.errors import DomainError
    from server.services.replenishment import cover
    try:
        face = cover.set_limits(location, sku, min_qty, max_qty)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{face.location.code} {face.product.sku}: min {face.min_qty}, max {face.max_qty}")


@replenish.command("suggest")
@click.option("--warehouse", required=True)
@click.option("--min-days", default=1.0, type=click.FloatRange(0, 365), show_default=True)
@click.option("--max-days", default=3.0, type=click.FloatRange(0, 365), show_default=True)
@click.option("--apply", is_flag=True, help="Write the suggestions to the faces.")
@click.option("--json", "as_json", is_flag=True)
def replenish_suggest(warehouse, min_days, max_days, apply, as_json):
    """Each face's minimum and maximum from days of cover (forecast, else the last 28 days)."""
    _db()
    from server.services.errors import DomainError
    from server.services.replenishment import cover
    try:
        found = cover.suggest(warehouse, min_days=min_days, max_days=max_days, apply=apply)
    except DomainError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps({"faces": [asdict(s) for s in found], "applied": apply}, ensure_ascii=False))
        return
    for s in found:
        click.echo(f"{s.location}  {s.sku}  {s.per_day}/day ({s.source})  min {s.was_min} -> {s.min_qty}"
                   f"  max {s.was_max} -> {s.max_qty}")
    click.echo("written" if apply else "not written (use --apply)")
