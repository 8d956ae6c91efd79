"""The ``wavefloor`` command."""
from __future__ import annotations

import json
import sys

import click


def _monkey_patch() -> None:
    # gevent must patch the standard library before anything else opens a socket.
    from gevent import monkey
    if not monkey.is_module_patched("socket"):
        monkey.patch_all()


def _app():
    from server.app import create_app
    return create_app()


def _db():
    """Open the configured database without building the whole web application. This process
    serves no devices: the events it publishes are written for the serving processes to tell
    (server/services/outbox.py)."""
    from server import events
    from server.config import load_settings
    from server.db import init_database
    from server.services import outbox
    settings = load_settings()
    init_database(settings["DATABASE_URL"], settings["DB_POOL_SIZE"], settings["SQLITE_BUSY_TIMEOUT_MS"],
                  settings["PG_SYNCHRONOUS_COMMIT"])
    events.hand_over(outbox.record)
    context = click.get_current_context(silent=True)
    if context is not None:  # the command's end ends it: a process that runs commands in turn (tests) serves again
        context.call_on_close(lambda: events.hand_over(None))
    return settings


def _report(report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        click.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
                   f"problems {len(report.problems)}")
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
    if report.problems:
        sys.exit(2)


@click.group()
def cli():
    """Wavefloor: the warehouse floor server and its tools."""


@cli.command()
def migrate():
    """Create or upgrade the database schema."""
    _db()
    applied = _migrate()
    click.echo("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))


def _migrate() -> list[str]:
    from server.schema import MigrationsMissing
    from server.schema import migrate as run
    try:
        return run()
    except MigrationsMissing as exc:
        raise click.ClickException(str(exc)) from None


SIM_PICKERS = [f"P{100 + n}" for n in range(1, 7)]
SIM_PACKERS = [f"K{100 + n}" for n in range(1, 5)]


@cli.command()
@click.option("--live", is_flag=True, help="Then keep the floor moving until Ctrl-C: new orders, waves released as "
              "they gather, simulated pickers and packers (needs the server running).")
@click.option("--url", default=None, help="The running server (default: http://HOST:PORT of the settings).")
@click.option("--rate", default=6.0, type=click.FloatRange(0, 600), show_default=True, help="New orders per minute.")
@click.option("--pickers", default=0, type=click.IntRange(0, len(SIM_PICKERS)), show_default=True,
              help="Simulated pickers (P101 …) on handhelds SIM-HH-….")
@click.option("--packers", default=0, type=click.IntRange(0, len(SIM_PACKERS)), show_default=True,
              help="Simulated packers (K101 …) at stations SIM-PACK-n; they sort put wall totes at SIM-WALL-n.")
@click.option("--pace", default=3.0, type=click.FloatRange(0.05, 120), show_default=True,
              help="Seconds a simulated worker takes for each scan.")
@click.option("--wave-every", default=60.0, type=click.FloatRange(1, 3600), show_default=True,
              help="Seconds between the supervisor's rounds: plan and release the orders waiting.")
@click.option("--lang", default="en", type=click.Choice(["en", "zh-CN"]), show_default=True,
              help="Language of the simulated devices.")
def demo(live, url, rate, pickers, packers, pace, wave_every, lang):
    """Load the demo warehouse and a day of orders (safe to run again: nothing is duplicated)."""
    settings = _db()
    from server.services import demo as demo_service
    _migrate()
    summary = demo_service.load(settings["DEMO_PRINTER_PORT"])
    click.echo(json.dumps(summary, ensure_ascii=False), nl=True)
    if live:
        sys.stdout.flush()
        _live_floor(settings, url, rate, pickers, packers, pace, wave_every, lang)


def _live_floor(settings, url, rate, pickers, packers, pace, wave_every, lang) -> None:
    import logging
    import signal

    from server import demo_live
    from server.services import demo as demo_service
    from server.services import demo_orders
    from server.services.stock import inventory
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("wavefloor.live").setLevel(logging.INFO)
    for noisy in ("socketio", "engineio", "urllib3", "websocket"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    actor = inventory.system_actor()
    feed = demo_orders.LiveOrders()
    host = "127.0.0.1" if settings["HOST"] in ("0.0.0.0", "") else settings["HOST"]
    totes = [f"{wh}-T{n:03d}" for n in range(31, 61) for wh in ("HZ", "SZ")]  # people use T001 … T030

    base_url = url or f"http://{host}:{settings['PORT']}"
    supervisor = demo_live.Supervisor(base_url, "boss", demo_service.DEMO_PASSWORD)

    def supervise():
        demo_service.restock(actor)
        return supervisor.round()

    floor = demo_live.LiveFloor(
        base_url, feed=lambda count: feed.send(count, actor), supervise=supervise,
        rate_per_min=rate, wave_every_s=wave_every, pace_s=pace, lang=lang, pin=demo_service.DEMO_PIN,
        pickers=[(user, totes[i * 7:] + totes[:i * 7]) for i, user in enumerate(SIM_PICKERS[:pickers])],
        packers=[(user, f"SIM-PACK-{i + 1}", f"SIM-WALL-{i + 1}") for i, user in enumerate(SIM_PACKERS[:packers])])
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: floor.stop.set())
    floor.run()


@cli.command("run-demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the server listens on.")
@click.option("--port", default=5000, type=int, show_default=True, help="Port of the server.")
@click.option("--printer-port", default=9100, type=int, show_default=True, help="Port of the printer emulator.")
@click.option("--printer-dir", default="instance/printer", show_default=True,
              help="Where the emulator keeps the labels it receives.")
@click.option("--live", "live_args", default=None,
              help='Also run the living floor with these `demo --live` options, e.g. "--pickers 2 --packers 1".')
def run_demo(host, port, printer_port, printer_dir, live_args):
    """Run the printer emulator and the server (and the living floor) until Ctrl-C or SIGTERM,
    which stop them all; `make run` ends with this."""
    import shlex

    from server import demo_run
    sys.exit(demo_run.run(wavefloor=[sys.executable, "-m", "server.cli"], host=host, port=port,
                          printer_port=printer_port, printer_dir=printer_dir,
                          live_args=shlex.split(live_args) if live_args is not None else None))


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: the HOST setting).")
@click.option("--port", default=None, type=int, help="Port (default: the PORT setting).")
def serve(host, port):
    """Run the server (gevent, WebSockets)."""
    _monkey_patch()
    import gc

    app = _app()
    settings = app.config["WF"]
    from server.realtime import socketio
    host, port = host or settings["HOST"], port or settings["PORT"]
    if settings["PRINT_WORKER"]:
        from server.services.printing import PrintWorker, spool_folder
        # claims jobs through the database, so several processes may run one
        PrintWorker(spool_dir=spool_folder(settings)).start()
    from server.app import start_serving_tasks
    from server.serving import floor_server
    start_serving_tasks(app)
    server = socketio.wsgi_server = floor_server(app, (host, port), settings)
    click.echo(f"Wavefloor listening on http://{host}:{port}/", err=True)
    gc.freeze()
    server.serve_forever()


@cli.group("import")
def import_():
    """Import products, a warehouse layout or stock from files."""


@import_.command("products")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_products(file, as_json):
    """Products CSV: sku,name,barcode,weight_g,cost_fen,price_fen (Chinese headers accepted)."""
    _db()
    from server.services.stock import catalog
    _report(catalog.import_products(file), as_json)


@import_.command("layout")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_layout(file, as_json):
    """A layout file (YAML or JSON; the format is in docs/layout.md): creates or updates the
    warehouse and its locations."""
    _db()
    from server.services.stock import layout
    _report(layout.import_layout(file), as_json)


@import_.command("stock")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_stock(file, as_json):
    """Stock CSV: sku,location,qty[,state,lot]; sets each quant to the counted quantity."""
    _db()
    from server.services.stock import stockfile
    _report(stockfile.import_stock(file), as_json)


@import_.command("orders")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--channel", required=True, type=click.Choice(["tmall", "top", "jd", "douyin", "csv"]),
              help="tmall: order report + item report CSV; top/jd/douyin: API JSON; csv: mapped CSV.")
@click.option("--shop", default=None, help="Shop code (default: the shop named in the file).")
@click.option("--mapping", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Column mapping (YAML) for --channel csv.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_orders(files, channel, shop, mapping, as_json):
    """Orders from a channel: reviewed, routed and reserved as they come in."""
    settings = _db()
    from server.services.orders import intake as order_import
    options = {"mapping": mapping} if mapping else {}
    report = order_import.import_files(channel, list(files), shop, ship_by_hours=settings["SHIP_BY_HOURS"],
                                       **options)
    from server.services.orders import merge
    from server.services.stock import inventory
    report.merged = merge.merge_all(inventory.system_actor())  # as the routing rules' `merge` allows
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        summary = {k: v for k, v in report.as_dict().items() if k != "problems"}
        click.echo(", ".join(f"{k} {v}" for k, v in summary.items()) + f", problems {len(report.problems)}")
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
    if report.problems:
        sys.exit(2)


@cli.group()
def refunds():
    """Refunds from the channels (售后 / 退款单)."""


@refunds.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--shop", required=True, help="Shop code the refunds belong to.")
@click.option("--channel", default="tmall", show_default=True, type=click.Choice(["tmall", "top", "jd", "douyin"]),
              help="tmall: the 退款报表 CSV export; top/jd/douyin: the refund API's JSON.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_refunds(files, shop, channel, as_json):
    """Refund records: kept per refund, linked to their order line, amounts in fen per line."""
    _db()
    from server.services.returns import refunds as refund_import
    from server.services.stock import inventory
    report = refund_import.import_files(channel, list(files), shop, actor=inventory.system_actor())
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        click.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
                   f"stale {report.stale}, unlinked {len(report.unlinked)}, problems {len(report.problems)}")
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
    if report.problems:
        sys.exit(2)


@cli.group()
def orders():
    """Orders: export, allocation."""


@orders.command("export")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json")
@click.option("--status", default=None, help="Only orders in this state (new, held, allocated, ...).")
@click.option("--shop", default=None)
def orders_export(fmt, status, shop):
    """Print every order with its lines, amounts in fen, hold reasons and province."""
    _db()
    from server.services.orders import export as order_export
    click.echo(json.dumps(order_export.export(status, shop), ensure_ascii=False, indent=1))


@orders.command("merge")
@click.option("--dry-run", is_flag=True, help="Only list the groups that would be merged.")
def orders_merge(dry_run):
    """Merge orders of one buyer to one receiver that are not yet in a wave (合单)."""
    _db()
    from server.services.orders import merge
    from server.services.stock import inventory
    groups = merge.candidates()
    for group in groups:
        click.echo(" + ".join(o.external_id for o in group))
    if not dry_run:
        click.echo(f"merged {merge.merge_all(inventory.system_actor(), by_rule=False)} order(s) into others")


@orders.command("allocate")
def orders_allocate():
    """Try every backordered order again (after stock arrived by other means)."""
    _db()
    from server.services.orders import allocation
    click.echo(f"allocated {allocation.retry_backorders(limit=100000)} backordered order(s)")


@cli.group()
def commands():
    """Stored results of device commands (the idempotency keys)."""


@commands.command("forget")
@click.option("--older-than-h", type=float, default=None,
              help="Age in hours (default: the COMMAND_KEY_TTL_H setting).")
def commands_forget(older_than_h):
    """Delete stored command results older than the key lifetime (the server does this every
    minute by itself)."""
    settings = _db()
    from server.services.device import commands as device_commands
    hours = settings["COMMAND_KEY_TTL_H"] if older_than_h is None else older_than_h
    click.echo(f"forgot {device_commands.forget(hours)} command results older than {hours:g} h")


@cli.group()
def stock():
    """Stock tools."""


@stock.command("audit")
def stock_audit():
    """Recompute every quant from the ledger; exit 1 naming each quant that disagrees."""
    _db()
    from server.services.stock import inventory
    differences = inventory.audit()
    for difference in differences:
        click.echo(f"MISMATCH {difference}")
    if differences:
        click.echo(f"{len(differences)} quant(s) disagree with the ledger", err=True)
        sys.exit(1)
    click.echo("stock audit: every quant equals the ledger")


@stock.command("sync")
@click.option("--shop", "shop_code", required=True, help="Shop code.")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="File to write (default: stdout).")
def stock_sync(shop_code, out):
    """Write the shop's stock upload file: available minus reserved minus the safety buffer, times its share."""
    _db()
    from server.services.errors import DomainError
    from server.services.orders import channel_stock
    try:
        text = channel_stock.upload_csv(shop_code)
    except DomainError as exc:
        raise click.ClickException(exc.text) from None
    if out:
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(text)
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


@cli.group()
def shop():
    """Shops on the sales channels."""


@shop.command("set")
@click.argument("code")
@click.option("--channel", required=True, type=click.Choice(["tmall", "top", "jd", "douyin", "csv"]))
@click.option("--name", default="")
@click.option("--ratio", "stock_ratio_pct", default=100, type=click.IntRange(0, 100),
              help="Percent of available stock offered to this shop.")
@click.option("--buffer", "safety_buffer", default=0, type=click.IntRange(0), help="Units held back per SKU.")
@click.option("--webhook-secret", default="", help="Secret that signs pushed orders.")
@click.option("--sell-in-transit/--no-sell-in-transit", "sell_in_transit", default=False,
              help="Offer units in transit (在途) for presale, by expected date.")
def shop_set(code, **values):
    """Create or update a shop."""
    _db()
    from server.services.orders import channel_stock
    from server.services.stock import inventory
    found = channel_stock.save_shop(code, values, inventory.system_actor())
    click.echo(json.dumps(channel_stock.shop_view(found), ensure_ascii=False))


@cli.group()
def user():
    """Users and their roles."""


@user.command("add")
@click.argument("code")
@click.option("--name", default="", help="Display name.")
@click.option("--role", "roles", multiple=True, required=True,
              help="admin, supervisor, office, picker, packer or receiver (repeatable).")
@click.option("--password", default=None, help="Web password (prompted when --prompt).")
@click.option("--pin", default=None, help="Handheld/kiosk PIN, 4 to 8 digits.")
@click.option("--phone", default="")
@click.option("--language", default="", help="zh_Hans_CN or en.")
@click.option("--prompt", is_flag=True, help="Ask for the password instead of taking it from the command line.")
def user_add(code, name, roles, password, pin, phone, language, prompt):
    """Create a user or update its roles and secrets."""
    settings = _db()
    from server.services import auth
    from server.services.errors import DomainError
    if prompt:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        auth.add_user(code, name or code, list(roles), password=password, pin=pin, phone=phone,
                      language=language, min_password=settings["PASSWORD_MIN_LENGTH"],
                      min_pin=settings["PIN_MIN_LENGTH"])
    except DomainError as exc:
        raise click.ClickException(exc.text) from None
    click.echo(f"user {code}: roles {', '.join(roles)}")


@cli.command("config")
def config_():
    """Print every setting with its current value and help."""
    from server.config import SETTINGS, load_settings
    values = load_settings()
    for setting in SETTINGS:
        value = "(set)" if setting.name in ("SECRET_KEY", "CREDENTIALS_KEY") else values[setting.name]
        click.echo(f"WAVEFLOOR_{setting.name} = {value}\n    {setting.help}")


@cli.command()
@click.option("--layout", "layout_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Layout file (YAML or JSON, docs/layout.md).")
@click.option("--picks", "picks_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSON list of location codes, or a list of such lists.")
def route(layout_path, picks_path):
    """Shortest walking tour through the pick locations, from and back to the depot."""
    from server.layoutspec import LayoutError
    from server.services.waves.routing import RoutingError, route_command
    try:
        result = route_command(layout_path, picks_path)
    except (LayoutError, RoutingError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(result, ensure_ascii=False))


@cli.group()
def rules():
    """Rule files (审单 review, 分仓 routing, carriers, waves)."""


@rules.command("check")
@click.option("--dir", "directory", default=None, type=click.Path(file_okay=False),
              help="Rules folder (default: the shipped rules).")
def rules_check(directory):
    """Validate every rule file; print file:line: field: reason for each problem."""
    from rules import check_dir, default_rules_dir
    problems = check_dir(directory or default_rules_dir())
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo("rules: no problems")


@rules.command("explain")
@click.argument("order")
@click.option("--json", "as_json", is_flag=True)
def rules_explain(order, as_json):
    """Which rule fired for ORDER (its external id or internal number), and why."""
    _db()
    from rules import explain_report
    from server.models import Order
    from server.services.orders.facts import context
    from server.services.rulebook import book
    found = Order.get_or_none(Order.external_id == order)
    if found is None and order.isdecimal():
        found = Order.get_or_none(Order.id == int(order))
    if found is None:
        raise click.ClickException(f"no order {order}")
    click.echo(explain_report(context(found), book(), fmt="json" if as_json else "text"))


@cli.group()
def printers():
    """Label printers and the print queue."""


@printers.command("list")
def printers_list():
    """Every printer with its last status and open jobs, as JSON lines."""
    _db()
    from server.services import printing
    for view in printing.printer_list():
        click.echo(json.dumps(view, ensure_ascii=False, default=str))


@printers.command("set")
@click.argument("code")
@click.option("--url", default=None, help="tcp://host:9100, cups://Queue or file:///dir.")
@click.option("--name", default=None)
@click.option("--dpi", default=None, type=click.Choice(["203", "300", "600"]))
@click.option("--cjk", default=None, type=click.Choice(["font", "raster"]),
              help="font: the printer has a CJK font; raster: Chinese text is sent as graphics.")
@click.option("--font-name", default=None, help="The printer's CJK font, e.g. E:SIMSUN.FNT.")
@click.option("--station", default=None, help="Code of the pack station the printer serves.")
@click.option("--active/--inactive", default=None)
def printers_set(code, **values):
    """Create or update a printer (only the options given change)."""
    settings = _db()
    from server.services import printing
    from server.services.errors import DomainError
    from server.services.stock import inventory
    changes = {key: value for key, value in values.items() if value is not None}
    if "dpi" in changes:
        changes["dpi"] = int(changes["dpi"])
    try:
        found = printing.save_printer(code, changes, inventory.system_actor(),
                                      spool_dir=printing.spool_folder(settings))
    except DomainError as exc:
        raise click.ClickException(exc.text) from None
    click.echo(json.dumps(printing.printer_view(found), ensure_ascii=False, default=str))


@printers.command("poll")
@click.argument("code")
def printers_poll(code):
    """Ask a printer for its status now (~HS, ~HQES) and store it (exit 1: a fault; ok null: no answer)."""
    settings = _db()
    from server.services import printing
    from server.services.errors import DomainError
    try:
        result = printing.poll_status(printing.printer_by_code(code), spool_dir=printing.spool_folder(settings))
    except DomainError as exc:
        raise click.ClickException(exc.text) from None
    click.echo(json.dumps(result, ensure_ascii=False, default=str))
    if result["ok"] is False:
        sys.exit(1)


@printers.command("work")
@click.option("--lease", "lease_s", default=60, type=click.IntRange(20), help="Seconds a claimed job stays ours.")
@click.option("--attempts", "max_attempts", default=8, type=click.IntRange(1),
              help="Sends tried before a job fails.")
def printers_work(lease_s, max_attempts):
    """Run the print worker in the foreground: sends queued labels to every active printer."""
    _monkey_patch()
    settings = _db()
    import signal
    import threading

    from server.services import printing
    worker = printing.PrintWorker(lease_s=lease_s, max_attempts=max_attempts,
                                  spool_dir=printing.spool_folder(settings)).start()
    click.echo(f"print worker {worker.worker_id} running", err=True)
    finished = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: finished.set())
    try:
        while not finished.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()


@cli.group("waves")
def waves_():
    """Waves (波次): plan, release, show."""


def _wave_or_fail(verb, *args, **kwargs):
    from server.services.errors import DomainError
    try:
        return verb(*args, **kwargs)
    except DomainError as exc:
        raise click.ClickException(exc.text) from None


@waves_.command("plan")
@click.option("--warehouse", required=True, help="Warehouse code, e.g. WH-HZ.")
@click.option("--max-orders", default=None, type=click.IntRange(1), help="Plan at most this many orders.")
@click.option("--json", "as_json", is_flag=True, help="Print the waves as JSON.")
def waves_plan(warehouse, max_orders, as_json):
    """Put the warehouse's allocated orders into planned waves, most urgent first."""
    _db()
    from server.services.stock import inventory
    from server.services.waves import planning as waves
    planned = _wave_or_fail(waves.plan_waves, warehouse, max_orders=max_orders, actor=inventory.system_actor())
    rows = [waves.wave_summary(w) for w in planned]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for row in rows:
        click.echo(f"{row['code']} {row['strategy']}: {row['orders']} orders, {row['units']} units, "
                   f"{row['planned_metres']:.0f} m (first come first served {row['fcfs_metres']:.0f} m)")
    click.echo(f"planned {len(rows)} wave(s)")


@waves_.command("release")
@click.argument("wave")
def waves_release(wave):
    """Release a planned wave (its code or number): its pick tasks go to the pickers."""
    _db()
    from server.services.stock import inventory
    from server.services.waves import planning as waves
    released = _wave_or_fail(waves.release_wave, wave, inventory.system_actor())
    tasks = waves.preview(released.id)["tasks"]
    click.echo(f"{released.code} released: {len(tasks)} task(s), {released.planned_metres:.0f} m")


@waves_.command("show")
@click.argument("wave")
def waves_show(wave):
    """A wave's orders and tasks (stops in walking order) as JSON."""
    _db()
    from server.services.waves import planning as waves
    click.echo(json.dumps(_wave_or_fail(waves.preview, wave), ensure_ascii=False, default=str, indent=1))


@cli.group("ship")
def ship_():
    """Shipments back to the sales channels."""


@ship_.command("export")
@click.option("--shop", "shop_code", required=True, help="The shop whose shipments to export.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the file here (default: standard output).")
@click.option("--all", "include_exported", is_flag=True, help="Also the shipments exported before.")
def ship_export(shop_code, out, include_exported):
    """The channel's bulk-shipping upload file (Tmall CSV: 订单编号,物流公司,运单号; JSON for
    others) of shipped orders not yet exported; they are then recorded as exported."""
    _db()
    from server.services.errors import DomainError
    from server.services.packages import shipping
    from server.services.stock import inventory
    try:
        name, _media, content, count = shipping.export(shop_code, inventory.system_actor(),
                                                       include_exported=include_exported)
    except DomainError as error:
        raise click.ClickException(error.text) from None
    if out:
        with open(out, "wb") as fh:
            fh.write(content)
        click.echo(f"{count} shipment(s) -> {out}", err=True)
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        click.echo(f"{count} shipment(s) ({name})", err=True)


@click.command("sheet")
@click.option("--kind", required=True, type=click.Choice(["tote", "location", "sku"]),
              help="Totes, locations (their barcode is their code) or SKUs (their EAN-13).")
@click.option("--warehouse", default=None, help="Only this warehouse's totes or locations, e.g. WH-HZ.")
@click.option("--prefix", default="", help="Only the codes that begin with this, e.g. HZ-A01- for one aisle.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for <kind>.zpl (label printer), <kind>.pdf and <kind>-<n>.png (A4, office printer).")
@click.option("--dpi", default="203", type=click.Choice(["203", "300"]), show_default=True,
              help="The label printer's resolution.")
def labels_sheet(kind, warehouse, prefix, out_dir, dpi):
    """Labels for every tote, location or SKU in the database: ZPL and A4 pages."""
    _db()
    from printers.sheets import write_sheet
    from server.services import label_sheets
    from server.services.errors import NotFound
    try:
        items = label_sheets.items(kind, warehouse, prefix)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    written = write_sheet(kind, items, out_dir, dpi=int(dpi))
    click.echo(f"{written['labels']} {kind} labels: {written['zpl']}, {written['pdf'] or 'no page'}"
               f" ({len(written['png'])} PNG page(s))")


def _register_tools() -> None:
    from printers.cli import labels, printer_emulator
    from server.cli_connectors import COMMANDS as shop_commands
    from server.cli_purchasing import po, suppliers_
    from server.cli_waybills import register as register_waybills
    for command in shop_commands:
        shop.add_command(command)
    cli.add_command(po, "po")
    from server.cli_forecast import forecast, purchase
    cli.add_command(forecast, "forecast")
    cli.add_command(purchase, "purchase")
    cli.add_command(suppliers_, "suppliers")
    cli.add_command(printer_emulator, "printer-emulator")
    labels.add_command(labels_sheet, "sheet")
    cli.add_command(labels, "labels")
    register_waybills(cli, waves_)
    from server.cli_replenish import replenish
    cli.add_command(replenish, "replenish")
    from server.cli_counts import counts
    cli.add_command(counts, "counts")
    from server.cli_customers import customers as customers_group  # CRM
    cli.add_command(customers_group, "customers")
    from server.cli_approvals import approvals
    cli.add_command(approvals, "approvals")
    from server.cli_money import money as money_group  # per-line money, cost, margin
    cli.add_command(money_group, "money")
    from server.cli_finance import finance as finance_group  # bills, 对账, vouchers
    cli.add_command(finance_group, "finance")
    from server.cli_reports import reports_group  # BI reports, the sales aggregate
    cli.add_command(reports_group, "reports")


_register_tools()


def main():
    cli(prog_name="wavefloor")


if __name__ == "__main__":
    main()
