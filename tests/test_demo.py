"""The demo `make run` shows: a day of orders through the real intake, a living floor whose
simulated pickers and packers speak the floor protocol to a real server, the banner that says
where each person starts, and a `make run` that stops everything it started."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from printers.emulator import PrinterEmulator
from tests.conftest import ROOT, ServerProcess, free_port
from tests.test_cli import wavefloor

STRATEGIES = {"single_unit", "single_sku_multi", "cluster", "batch_putwall"}


def test_demo_loads_a_day_of_orders_through_the_intake_once(db_url, tmp_path):
    from server.db import database, init_database
    from server.models import Allocation, Order, OrderEvent
    from server.services.stock import inventory
    from server.services.waves import planning

    first = json.loads(wavefloor(db_url, "demo", tmp_path=tmp_path).stdout)
    orders = first["orders"]
    assert orders["problems"] == []
    assert set(orders["by_channel"]) == {"tmall", "jd", "douyin", "csv"}
    assert orders["imported"]["created"] == sum(orders["by_status"].values()) >= 100
    assert 5 <= orders["by_status"]["held"] <= 12 and orders["by_status"]["allocated"] >= 100

    init_database(db_url)
    held = {o.external_id: set(o.hold_reasons.split(",")) for o in Order.select().where(Order.status == "held")}
    assert set().union(*held.values()) >= {"buyer_message", "seller_flag_or_memo", "incomplete_address",
                                           "presale_unpaid", "amount_over_limit"}
    # reviewed, routed and reserved as any import: events, a warehouse, reservations
    allocated = Order.select().where(Order.status == "allocated")
    assert all(o.warehouse_id for o in allocated)
    assert Allocation.select().count() >= allocated.count()
    assert OrderEvent.select().where(OrderEvent.action == "imported").count() == first["orders"]["imported"]["created"]
    assert {o.warehouse.code for o in allocated} == {"WH-HZ", "WH-SZ"}  # south China goes to Shenzhen
    counts = (Order.select().count(), Allocation.select().count())
    database.obj.close_all()

    second = json.loads(wavefloor(db_url, "demo", tmp_path=tmp_path).stdout)
    assert second["orders"]["imported"] == {"unchanged": counts[0]}
    init_database(db_url)
    assert (Order.select().count(), Allocation.select().count()) == counts

    # every wave strategy has its orders
    actor = inventory.system_actor()
    planned = [w for code in ("WH-HZ", "WH-SZ") for w in planning.plan_waves(code, actor=actor)]
    assert {w.strategy for w in planned} == STRATEGIES
    database.obj.close_all()

    summary = tmp_path / "demo.json"
    summary.write_text(json.dumps(first))
    text = subprocess.run([sys.executable, "-m", "server.demo_banner", str(summary), "http://127.0.0.1:5000", "9100"],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for needed in ("http://127.0.0.1:5000/control", "http://127.0.0.1:5000/wall", "http://127.0.0.1:5000/handheld/",
                   "http://127.0.0.1:5000/pack?station=PACK-01", "/login", "HZ-T001", "the barcode of a location is "
                   "its code", "ZD-PACK-01", "tcp://127.0.0.1:9100", "Ctrl-C", "held"):
        assert needed in text, needed


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def _wait(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.parametrize("stop_with", ["SIGTERM to make", "Ctrl-C"])
def test_make_run_stops_the_server_and_the_emulator(tmp_path, stop_with):
    port, printer_port = free_port(), free_port()
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=f"sqlite:///{tmp_path}/wavefloor.db",
               WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"), WAVEFLOOR_SECRET_KEY="test-secret")
    env.pop("MAKEFLAGS", None)
    log = (tmp_path / "make.log").open("wb")
    make = subprocess.Popen(["make", "--no-print-directory", "-o", "install", "run", f"PORT={port}",
                             f"PRINTER_PORT={printer_port}", f"INSTANCE={tmp_path / 'instance'}"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait(lambda: _listening(port) and _listening(printer_port) or make.poll() is not None, 180,
              "the server and the emulator")
        assert make.poll() is None, (tmp_path / "make.log").read_text()[-3000:]
        if stop_with == "Ctrl-C":  # a terminal signals the whole foreground process group
            os.killpg(make.pid, signal.SIGINT)
        else:
            make.send_signal(signal.SIGTERM)
        make.wait(30)
        _wait(lambda: not _listening(port) and not _listening(printer_port), 15, "both ports closed")
        _wait(lambda: not _group_alive(make.pid), 15, "every process make started to end")
    finally:
        if _group_alive(make.pid):
            os.killpg(make.pid, signal.SIGKILL)
    banner = (tmp_path / "make.log").read_text()
    assert "/pack?station=PACK-01" in banner and "Ctrl-C" in banner


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.mark.slow
def test_live_floor_picks_packs_and_ships_through_the_protocol(db_url, tmp_path):
    from server.db import database, init_database
    from server.models import Order, StockMove, User

    emulator = PrinterEmulator("127.0.0.1", 0, str(tmp_path / "printed")).start()
    env_extra = {"WAVEFLOOR_DEMO_PRINTER_PORT": str(emulator.port)}
    server = None
    live = None
    try:
        env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"),
                   **env_extra)
        subprocess.run([sys.executable, "-m", "server.cli", "demo"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)
        server = ServerProcess(db_url, tmp_path / "instance", env_extra).start()
        live = subprocess.Popen([sys.executable, "-m", "server.cli", "demo", "--live", "--url", server.url,
                                 "--pickers", "2", "--packers", "1", "--pace", "0.05", "--wave-every", "3",
                                 "--rate", "20"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=(tmp_path / "live.log").open("wb"))
        init_database(db_url)

        def shipped_by_simulated_packer() -> int:
            packer = User.get(User.code == "K101")
            return (Order.select().where(Order.status == "shipped").count() >= 1 and live.poll() is None
                    and StockMove.select().where((StockMove.user == packer) & (StockMove.reason == "ship")).exists())

        _wait(shipped_by_simulated_packer, 150, "an order shipped by the living floor")
        assert emulator.wait_for_printed(1, timeout=20)  # the simulated station's label reached its printer
        live.send_signal(signal.SIGTERM)
        assert live.wait(20) == 0
    finally:
        if live is not None and live.poll() is None:
            live.kill()
        if server is not None:
            server.stop()
        emulator.stop()
    log = (tmp_path / "live.log").read_text()
    assert "live floor stopped" in log
    for event in ("released W", "P101 took", "picked", "K101 shipped order", "orders in: created"):
        assert event in log, event
    # the steps were the workers' own, attributed to them and their devices, as a person's are
    workers = {u.code: u.id for u in User.select().where(User.code.in_(["P101", "P102", "K101"]))}
    picks = StockMove.select().where(StockMove.user.in_([workers["P101"], workers["P102"]])
                                     & (StockMove.reason == "pick")).count()
    ships = StockMove.select().where((StockMove.user == workers["K101"]) & (StockMove.reason == "ship")).count()
    assert picks > 0 and ships > 0
    database.obj.close_all()
