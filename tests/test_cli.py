"""The `wavefloor` command, run as a user would: a real process on a real database file or server."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SHARED


def wavefloor(db_url, *args, tmp_path, check=True):
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"))
    result = subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"wavefloor {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def test_demo_twice_then_activity_then_audit_then_tamper(db_url, tmp_path):
    from server.db import database, init_database
    from server.models import Location, Product, Quant, StockMove, User
    from server.services.stock import inventory

    assert "0001_initial" in wavefloor(db_url, "migrate", tmp_path=tmp_path).stdout
    first = json.loads(wavefloor(db_url, "demo", tmp_path=tmp_path).stdout)
    assert first["warehouses"] == ["WH-HZ", "WH-SZ"]
    assert 1800 <= first["locations"] <= 2200 and first["products"] == 300
    assert {login["user"] for login in first["logins"]} >= {"admin", "boss", "office", "P001", "K001", "R001"}
    init_database(db_url)
    counts = (Location.select().count(), Product.select().count(), StockMove.select().count(), User.select().count())
    second = json.loads(wavefloor(db_url, "demo", tmp_path=tmp_path).stdout)
    assert second["opening_stock_lines"] == 0
    assert (Location.select().count(), Product.select().count(), StockMove.select().count(),
            User.select().count()) == counts
    assert set(Quant.select(Quant.state).distinct().tuples()) >= {("available",), ("qc_pending",), ("frozen",),
                                                                  ("damaged",)}

    # a shift's worth of stock activity on the demo data
    actor = inventory.Actor(User.get(User.code == "P001").id)
    tote = Location.get(Location.code == "HZ-T001")
    ship = Location.get(Location.code == "HZ-SHIP-01")
    quants = list(Quant.select().where((Quant.state == "available") & (Quant.qty >= 3)).limit(40))
    for i, quant in enumerate(quants):
        inventory.reserve(quant.product_id, quant.location_id, 2, actor=actor, ref=f"order-{i}")
        inventory.move(quant.product_id, quant.location_id, tote, 2, actor=actor, reserved=2, reason="pick")
        inventory.move(quant.product_id, tote, ship, 2, actor=actor, reason="pack")
        inventory.issue(quant.product_id, ship, 1, actor=actor, ref=f"order-{i}")
        if i % 5 == 0:
            inventory.adjust(quant.product_id, quant.location_id, -1, actor=actor, reason="count")
    database.obj.close_all()

    audit = wavefloor(db_url, "stock", "audit", tmp_path=tmp_path)
    assert "every quant equals the ledger" in audit.stdout

    init_database(db_url)
    victim = Quant.select().where(Quant.qty > 5).order_by(Quant.id).first()
    Quant.update(qty=Quant.qty + 1).where(Quant.id == victim.id).execute()
    database.obj.close_all()
    tampered = wavefloor(db_url, "stock", "audit", tmp_path=tmp_path, check=False)
    assert tampered.returncode == 1
    assert f"{victim.product.sku} @ {victim.location.code}" in tampered.stdout
    assert tampered.stdout.count("MISMATCH") == 1


def test_import_the_shared_sample_products(db_url, tmp_path):
    sample = SHARED / "samples" / "tmall" / "products.csv"
    assert sample.exists(), f"the shared samples are expected beside the repository at {SHARED}"
    wavefloor(db_url, "migrate", tmp_path=tmp_path)
    report = json.loads(wavefloor(db_url, "import", "products", str(sample), "--json", tmp_path=tmp_path).stdout)
    lines = sample.read_text(encoding="utf-8").strip().splitlines()[1:]
    assert report == {"created": len(lines), "updated": 0, "unchanged": 0, "problems": []}
    again = json.loads(wavefloor(db_url, "import", "products", str(sample), "--json", tmp_path=tmp_path).stdout)
    assert again == {"created": 0, "updated": 0, "unchanged": len(lines), "problems": []}
    from server.db import init_database
    from server.services.stock import inventory
    init_database(db_url)
    for line in lines:
        sku, name, barcode = line.split(",")[:3]
        product, multiplier = inventory.find_product(barcode)
        assert (product.sku, product.name, multiplier) == (sku, name, 1)


def test_user_add_and_config(db_url, tmp_path):
    wavefloor(db_url, "migrate", tmp_path=tmp_path)
    out = wavefloor(db_url, "user", "add", "P900", "--name", "拣货员 九百", "--role", "picker", "--pin", "9876",
                    tmp_path=tmp_path)
    assert "picker" in out.stdout
    bad = wavefloor(db_url, "user", "add", "X1", "--role", "pilot", tmp_path=tmp_path, check=False)
    assert bad.returncode != 0 and "unknown role" in bad.stderr
    short = wavefloor(db_url, "user", "add", "X2", "--role", "office", "--password", "short", tmp_path=tmp_path,
                      check=False)
    assert short.returncode != 0 and "at least 8" in short.stderr
    config = wavefloor(db_url, "config", tmp_path=tmp_path).stdout
    from server.config import SETTINGS
    for setting in SETTINGS:
        assert f"WAVEFLOOR_{setting.name} =" in config and setting.help in config


@pytest.mark.parametrize("engine", ["sqlite"])
def test_route_and_rules_commands(db_url, tmp_path):
    layout = tmp_path / "layout.yaml"
    layout.write_text("warehouse: WH1\naisles: 3\naisle_length: 10\naisle_width: 3\nblocks: 1\n"
                      "depot: {aisle: 0, y: 0}\nlocations:\n  A: {aisle: 0, y: 5}\n  B: {aisle: 2, y: 9}\n",
                      encoding="utf-8")
    picks = tmp_path / "picks.json"
    picks.write_text('["B", "A"]')
    result = json.loads(wavefloor(db_url, "route", "--layout", str(layout), "--picks", str(picks),
                                  tmp_path=tmp_path).stdout)
    assert sorted(result["sequence"]) == ["A", "B"] and result["distance_m"] == pytest.approx(32.0)
    assert "no problems" in wavefloor(db_url, "rules", "check", tmp_path=tmp_path).stdout


def test_import_orders_export_and_explain(db_url, tmp_path):
    tmall = SHARED / "samples" / "tmall"
    wavefloor(db_url, "migrate", tmp_path=tmp_path)
    wavefloor(db_url, "import", "products", str(tmall / "products.csv"), tmp_path=tmp_path)
    report = json.loads(wavefloor(db_url, "import", "orders", "--channel", "tmall", str(tmall / "orders.csv"),
                                  str(tmall / "items.csv"), "--json", tmp_path=tmp_path).stdout)
    assert report["created"] == 40 and report["problems"] == []
    exported = json.loads(wavefloor(db_url, "orders", "export", "--format", "json", "--status", "held",
                                    tmp_path=tmp_path).stdout)
    assert exported and all(o["status"] == "held" and o["hold_reasons"] for o in exported)
    held = exported[0]
    explained = wavefloor(db_url, "rules", "explain", held["external_id"], tmp_path=tmp_path).stdout
    assert held["hold_reasons"][0] in explained
    bad = tmp_path / "orders.csv"
    bad.write_text("nonsense,header\n1,2\n", encoding="utf-8")
    failed = wavefloor(db_url, "import", "orders", "--channel", "tmall", str(bad), str(tmall / "items.csv"),
                       tmp_path=tmp_path, check=False)
    assert failed.returncode == 2 and "orders.csv" in failed.stderr


def test_commands_forget_deletes_only_results_older_than_the_key_lifetime(db_url, tmp_path):
    import datetime as dt

    from server.db import database, init_database
    from server.models import CommandResult, User
    from server.models.base import utcnow
    from server.schema import create_all

    init_database(db_url)
    create_all()
    user = User.create(code="u-old", name="Old")
    now = utcnow()
    rows = [{"key": f"key-{n:06d}", "user": user.id, "scenario": "picking", "action": "scan", "result": "{}",
             "at": now - dt.timedelta(hours=hours)} for n, hours in enumerate([100] * 2500 + [71, 1, 0])]
    CommandResult.insert_many(rows).execute()
    database.obj.close_all()
    out = wavefloor(db_url, "commands", "forget", tmp_path=tmp_path).stdout
    assert out.strip() == "forgot 2500 command results older than 72 h"
    init_database(db_url)
    assert sorted(key for (key,) in CommandResult.select(CommandResult.key).tuples()) == [
        "key-002500", "key-002501", "key-002502"]
    database.obj.close_all()
    assert "forgot 1 command" in wavefloor(db_url, "commands", "forget", "--older-than-h", "24",
                                           tmp_path=tmp_path).stdout
