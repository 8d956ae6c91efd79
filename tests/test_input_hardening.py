"""Hostile and broken input, on both engines: NUL characters, numbers past what a column holds,
cells past the CSV reader's limit, a byte of another encoding, YAML aliases, fractional and
no-op stock changes, replayed and oversized webhooks. Each is refused and named (a request's
field, a command's field, ``file:line: field: reason``) while the good input around it goes in,
and nothing answers with a stack trace."""
from __future__ import annotations

import copy
import io
import json
import os
import resource
import subprocess
import sys

import pytest

from server.models import CommandResult, Order, Product, Quant, Shop, StockMove
from server.services.auth import Principal
from server.services.orders import webhooks
from server.services.orders.webhooks import sign
from server.services.stock import inventory
from tests.conftest import ROOT, SHARED
from tests.scenario_driver import Driver
from tests.test_orders import small_products, stock, two_warehouses  # noqa: F401  (fixtures)
from tests.test_orders_api import TOP_TRADE
from tests.test_picking import cluster, picker  # noqa: F401  (fixtures)

STOCK = Driver("stock")
PICKING = Driver("picking")
NUL_REFUSED = "must not contain a NUL character (\\x00)"
BEYOND_INT64 = "99999999999999999999"
HUGE_CELL = "长" * 140_000  # past the 131,072 characters the csv module takes in one cell


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def receiver(people) -> Principal:
    return Principal(people["receiver"], ["receiver"], None)


# --- text a database cannot hold ----------------------------------------------------------------

@pytest.mark.parametrize("path,body,field", [
    ("/api/v1/auth/pin", {"user": "u-picker\x00", "pin": "2468", "device": "HH-01"}, "user"),
    ("/api/v1/auth/pin", {"user": "u-picker", "pin": "2468", "device": "HH\x0001"}, "device"),
    ("/api/v1/auth/login", {"user": "u-admin", "password": "secret-pass\x00"}, "password"),
])
def test_nul_in_a_login_is_refused_naming_the_field(client, people, path, body, field):
    answer = client.post(path, json=body)
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["code"] == "bad_request"
    assert answer.get_json()["detail"] == {"json": {field: [NUL_REFUSED]}}


@pytest.mark.parametrize("form", [{"user": "u-admin\x00", "password": "secret-pass"},
                                  {"user": "u-admin", "password": "secret-pass\x00"}])
def test_nul_in_the_web_login_form_is_a_wrong_login_not_a_crash(client, people, form):
    answer = client.post("/login", data=form)
    assert answer.status_code == 401  # the login page again, as for a wrong password; no 500 on PostgreSQL
    assert 'name="password"' in answer.get_data(as_text=True)


def test_a_lone_surrogate_in_a_login_is_refused_naming_the_field(client, people):
    body = json.dumps({"user": "u-admin\ud800", "password": "secret-pass"})  # JSON may escape one
    answer = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["detail"] == {"json": {"user": ["must be Unicode text (a lone surrogate is not)"]}}


def test_nul_anywhere_in_a_request_is_refused_naming_where(client, token_for, small_warehouse):
    admin = auth(token_for("admin"))
    refused = [
        (client.put("/api/v1/products/NEW-1", json={"name": "T恤\x00"}, headers=admin), "json", "name"),
        (client.put("/api/v1/products/NEW-1", json={"name": "T恤", "barcodes": ["69\x00"]}, headers=admin),
         "json", "barcodes"),
        (client.get("/api/v1/products?q=TS%00", headers=admin), "query", "q"),
        (client.get("/api/v1/products/TS-01%00", headers=admin), "path", "sku"),
        (client.post("/api/v1/stock/receive", json={"sku": "TS-01", "location": "A-01", "qty": 1, "lot": "L\x00"},
                     headers=admin), "json", "lot"),
        (client.put("/api/v1/printers/P-1", json={"name": "打印机\x00", "url": "file:///tmp/labels"}, headers=admin),
         "json", "name"),
        (client.post("/api/v1/channels/tb%00/orders", data=b"{}", headers={"X-Wavefloor-Signature": "sha256=00"}),
         "path", "shop"),
    ]
    for answer, where, field in refused:
        assert answer.status_code == 422, answer.get_json()
        assert answer.get_json()["detail"] == {where: {field: [NUL_REFUSED]}}
    assert not Product.select().where(Product.sku == "NEW-1").exists()
    assert not StockMove.select().exists()


def test_nul_in_a_device_command_is_refused_naming_the_field(small_warehouse, people):
    by = receiver(people)
    for params, field in [({"code": "A-01\x00"}, "code"), ({"code": "A-01", "extra": ["x", {"k": "\x00"}]},
                                                           "extra[1].k")]:
        result = STOCK.run(by, "lookup", **params)
        assert result["ok"] is False and result["next_state"] == "error"
        assert result["message"]["code"] == "bad_command"
        assert result["data"] == {"error": {"field": field}}
    moved = STOCK.run(by, "move", sku="TS-01", qty=1, ref="\x00", **{"from": "A-01", "to": "A-02"})
    assert (moved["message"]["code"], moved["data"]) == ("bad_command", {"error": {"field": "ref"}})
    assert STOCK.run(by, "look\x00up", code="A-01")["data"] == {"error": {"field": "action"}}
    assert not CommandResult.select().exists() and not StockMove.select().exists()


# --- the command line's imports ------------------------------------------------------------------

def wavefloor(db_url, *args, tmp_path, memory_bytes: int | None = None):
    """The real `wavefloor` command; ``memory_bytes`` caps the address space it may take."""
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"))

    def cap():
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, preexec_fn=cap)


def problem_lines(result) -> list[str]:
    return [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]


def open_database(db_url):
    from server.db import init_database
    init_database(db_url)


def test_product_import_bounds_numbers_and_survives_a_huge_cell_and_nul(db_url, tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("sku,name,barcode,weight_g,cost_fen,price_fen,case_barcode,case_qty\n"
                    "OK-1,先来的,,100,2900,5900,,\n"
                    f"BIG-1,贵的,,100,{BEYOND_INT64},5900,,\n"
                    f"CELL-1,{HUGE_CELL},,100,1,1,,\n"
                    "NUL-1,坏\x00名,,100,1,1,,\n"
                    f"CASE-1,箱,,1,1,1,16900000000011,{BEYOND_INT64}\n"
                    "WGT-1,重的,,10000001,1,1,,\n"
                    "OK-2,后来的,,100,2900,5900,,\n", encoding="utf-8")
    assert wavefloor(db_url, "migrate", tmp_path=tmp_path).returncode == 0
    result = wavefloor(db_url, "import", "products", str(path), tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("created 2, updated 0, unchanged 0, problems 5")
    assert problem_lines(result) == [
        f"products.csv:3: cost_fen: {BEYOND_INT64} is above 2147483647",
        "products.csv:4: name: longer than the 131072 characters a cell may have",
        "products.csv:5: name: contains a NUL character",
        f"products.csv:6: case_qty: {BEYOND_INT64} is above 100000",
        "products.csv:7: weight_g: 10000001 is above 10000000",
    ]
    open_database(db_url)
    assert sorted(sku for (sku,) in Product.select(Product.sku).tuples()) == ["OK-1", "OK-2"]


def test_one_undecodable_byte_in_a_gbk_file_rejects_only_its_line(db_url, tmp_path):
    lines = ["商家编码,商品名称,重量", "GB-1,纯棉短袖T恤 黑色,180", "GB-2,陶瓷马克杯,380", "GB-3,保湿唇膏,20"]
    raw = [line.encode("gbk") for line in lines]
    raw[2] = raw[2].replace("马克".encode("gbk"), b"\xff")  # a byte GBK does not have
    path = tmp_path / "商品.csv"
    path.write_bytes(b"\r\n".join(raw) + b"\r\n")
    assert wavefloor(db_url, "migrate", tmp_path=tmp_path).returncode == 0
    result = wavefloor(db_url, "import", "products", str(path), tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert problem_lines(result) == ["商品.csv:3: name: cannot be read as GBK text (byte 0xFF)"]
    open_database(db_url)
    assert dict(Product.select(Product.sku, Product.name).tuples()) == {"GB-1": "纯棉短袖T恤 黑色",
                                                                      "GB-3": "保湿唇膏"}


LAYOUT = """\
warehouse: WH-T
aisles: 2
aisle_length: 20.0
aisle_width: 3.0
depot: {aisle: 0, y: 0.0}
locations:
  A-01: {aisle: 0, y: 1.0}
  A-02: {aisle: 1, y: 2.0}
"""


def test_stock_import_bounds_quantities_and_survives_a_huge_cell(db_url, tmp_path):
    (tmp_path / "layout.yaml").write_text(LAYOUT, encoding="utf-8")
    (tmp_path / "products.csv").write_text("sku,name\nP-1,一号\nP-2,二号\n", encoding="utf-8")
    path = tmp_path / "stock.csv"
    path.write_text("sku,location,qty,lot\n"
                    "P-1,A-01,5,\n"
                    f"P-1,A-02,{BEYOND_INT64},\n"
                    f"P-2,A-02,1,{HUGE_CELL}\n"
                    f"P-2,A-02,1,{'L' * 65}\n"
                    "P-2,A-01,3,\n", encoding="gbk")
    for args in (("migrate",), ("import", "layout", str(tmp_path / "layout.yaml")),
                 ("import", "products", str(tmp_path / "products.csv"))):
        assert wavefloor(db_url, *args, tmp_path=tmp_path).returncode == 0
    result = wavefloor(db_url, "import", "stock", str(path), tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert problem_lines(result) == [
        f"stock.csv:3: qty: {BEYOND_INT64} is above 10000000",
        "stock.csv:4: lot: longer than the 131072 characters a cell may have",
        "stock.csv:5: lot: longer than 64 characters",
    ]
    open_database(db_url)
    assert sorted((q.product.sku, q.location.code, q.qty) for q in Quant.select()) == [("P-1", "A-01", 5),
                                                                                       ("P-2", "A-01", 3)]
    assert "every quant equals the ledger" in wavefloor(db_url, "stock", "audit", tmp_path=tmp_path).stdout


def test_order_import_names_the_bad_lines_of_a_gbk_export_and_takes_the_other_orders(db_url, tmp_path):
    tmall = SHARED / "samples" / "tmall"
    items = (tmall / "items.csv").read_bytes().splitlines()
    header = items[0].decode("gbk").split(",")
    title, qty = header.index("标题"), header.index("购买数量")

    def changed(line_no, column, value: bytes) -> tuple[str, str]:
        cells = items[line_no - 1].split(b",")
        cells[column] = value
        items[line_no - 1] = b",".join(cells)
        return cells[1].decode("gbk"), header[column]

    first = changed(2, title, "陶瓷".encode("gbk") + b"\xff")
    second = changed(5, qty, BEYOND_INT64.encode())
    third = changed(9, title, HUGE_CELL.encode("gbk"))
    assert len({first[0], second[0], third[0]}) == 3
    (tmp_path / "items.csv").write_bytes(b"\n".join(items))
    assert wavefloor(db_url, "migrate", tmp_path=tmp_path).returncode == 0
    assert wavefloor(db_url, "import", "products", str(tmall / "products.csv"), tmp_path=tmp_path).returncode == 0
    result = wavefloor(db_url, "import", "orders", "--channel", "tmall", str(tmall / "orders.csv"),
                       str(tmp_path / "items.csv"), "--json", tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    assert report["created"] == 37
    named = [p for p in report["problems"] if p.startswith("items.csv:")]
    assert named == [
        f"items.csv:2: order {first[0]}: 标题: cannot be read as GBK text (byte 0xFF)",
        f"items.csv:9: order {third[0]}: 标题: longer than the 131072 characters a cell may have",
        f"items.csv:5: order {second[0]}: 购买数量: quantity is too large: {BEYOND_INT64}",
    ]
    assert sorted(p for p in report["problems"] if p.startswith("orders.csv:")) == sorted(
        f"orders.csv:{line}: order {order}: order not imported: 1 of its item lines are invalid"
        for order, line in _order_lines(tmall / "orders.csv", {first[0], second[0], third[0]}).items())
    open_database(db_url)
    assert not Order.select().where(Order.external_id.in_([first[0], second[0], third[0]])).exists()


def test_a_mapped_csv_order_with_an_unreadable_row_waits_and_the_others_come_in(tmp_path):
    from server.channels import get_adapter
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("columns: {order_id: 单号, sku: 编码, qty: 数量, title: 品名}\n", encoding="utf-8")
    rows = ["单号,编码,数量,品名", "A1,S1,2,纯棉T恤", "A1,S2,1,马克杯", "B1,S1,1,唇膏", "A1,S3,1,短袖"]
    raw = [row.encode("gbk") for row in rows]
    raw[2] = raw[2].replace("克".encode("gbk"), b"\x80\x20")  # not a GBK character
    (tmp_path / "orders.csv").write_bytes(b"\n".join(raw) + b"\n")
    result = get_adapter("mapped_csv", mapping=str(mapping)).parse(str(tmp_path / "orders.csv"))
    assert [(order.external_id, [line.title for line in order.lines]) for order in result.orders] == [
        ("B1", ["唇膏"])]
    assert [str(problem) for problem in result.problems] == [
        "orders.csv:3: order A1: 品名: cannot be read as GBK text (byte 0x80)",
        "orders.csv:2: order A1: order not imported: 1 of its rows are invalid"]


def _order_lines(path, order_ids) -> dict[str, int]:
    found = {}
    for number, line in enumerate(path.read_bytes().decode("gbk").splitlines(), 1):
        order = line.split(",", 1)[0].strip('="')
        if order in order_ids:
            found[order] = number
    return found


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]" for prev, name in zip("abcdefgh", "bcdefghi")]) + "\n"


def test_a_layout_of_nested_yaml_aliases_is_refused_not_expanded(db_url, tmp_path):
    assert len(BILLION_LAUGHS.encode()) == 342
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    assert wavefloor(db_url, "migrate", tmp_path=tmp_path).returncode == 0
    result = wavefloor(db_url, "import", "layout", str(path), tmp_path=tmp_path, memory_bytes=1 << 30)
    assert result.returncode == 2, result.stderr[-2000:]
    assert problem_lines(result) == ["laughs.yaml:2: aliases (*name) are not allowed in a layout; "
                                     "write the values out"]
    routed = wavefloor(db_url, "route", "--layout", str(path), "--picks", str(path), tmp_path=tmp_path,
                       memory_bytes=1 << 30)
    assert routed.returncode == 1 and "aliases (*name) are not allowed" in routed.stderr


def test_a_layout_with_numbers_and_codes_past_their_columns_is_refused_by_field(db_url, tmp_path):
    path = tmp_path / "layout.yaml"
    path.write_text(LAYOUT.replace("aisles: 2", f"aisles: {BEYOND_INT64}")
                    + f"  A-03: {{aisle: 0, y: 3.0, level: {BEYOND_INT64}}}\n"
                    + f"  {'B' * 65}: {{aisle: 0, y: 4.0}}\n", encoding="utf-8")
    assert wavefloor(db_url, "migrate", tmp_path=tmp_path).returncode == 0
    result = wavefloor(db_url, "import", "layout", str(path), tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert problem_lines(result) == [f"layout.yaml:2: aisles: {BEYOND_INT64} must be at most 1000",
                                     f"layout.yaml:9: locations.A-03.level: {BEYOND_INT64} must be at most 1000",
                                     f"layout.yaml:10: locations.{'B' * 65}: longer than 64 characters"]
    assert result.stdout.startswith("created 0,")
    path.write_text(path.read_text(encoding="utf-8").replace(f"aisles: {BEYOND_INT64}", "aisles: 2"),
                    encoding="utf-8")
    result = wavefloor(db_url, "import", "layout", str(path), tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert problem_lines(result) == [f"layout.yaml:9: locations.A-03.level: {BEYOND_INT64} must be at most 1000",
                                     f"layout.yaml:10: locations.{'B' * 65}: longer than 64 characters"]
    assert result.stdout.startswith("created 2,")


# --- stock changes, device commands, webhooks -----------------------------------------------------

def test_a_fractional_quantity_is_refused_not_rounded(client, token_for, small_warehouse):
    admin = auth(token_for("admin"))
    inventory.receive(small_warehouse["tee"], small_warehouse["locations"]["A-01"], 5,
                      actor=inventory.system_actor())
    lines = StockMove.select().count()
    adjusted = client.post("/api/v1/stock/adjust", json={"sku": "TS-01", "location": "A-01", "delta": 1.5,
                                                         "reason": "count"}, headers=admin)
    received = client.post("/api/v1/stock/receive", json={"sku": "TS-01", "location": "A-01", "qty": 2.5},
                           headers=admin)
    for answer, field in ((adjusted, "delta"), (received, "qty")):
        assert answer.status_code == 422, answer.get_json()
        assert answer.get_json()["detail"] == {"json": {field: ["Not a whole number."]}}
    assert StockMove.select().count() == lines
    assert client.post("/api/v1/stock/adjust", json={"sku": "TS-01", "location": "A-01", "delta": 2.0,
                                                     "reason": "count"}, headers=admin).status_code == 201
    assert Quant.get(Quant.location == small_warehouse["locations"]["A-01"]).qty == 7


def test_a_move_to_where_the_units_already_are_is_refused(client, token_for, small_warehouse, people):
    admin = auth(token_for("admin"))
    inventory.receive(small_warehouse["tee"], small_warehouse["locations"]["A-01"], 5,
                      actor=inventory.system_actor())
    lines = StockMove.select().count()
    moved = client.post("/api/v1/stock/move", json={"sku": "TS-01", "from": "A-01", "to": "A-01", "qty": 1},
                        headers=admin)
    stated = client.post("/api/v1/stock/state", json={"sku": "TS-01", "location": "A-01", "qty": 1,
                                                      "from_state": "available", "to_state": "available"},
                         headers=admin)
    for answer in (moved, stated):
        assert answer.status_code == 400 and answer.get_json()["code"] == "nothing_to_move", answer.get_json()
        assert answer.get_json()["message"] == "商品已在该库位且状态相同，无需移动。"
    assert STOCK.refused(receiver(people), "move", sku="TS-01", qty=1, **{"from": "A-01", "to": "A-01"}) == (
        "nothing_to_move", "error")
    assert StockMove.select().count() == lines
    assert client.post("/api/v1/stock/move", json={"sku": "TS-01", "from": "A-01", "to": "A-02", "qty": 1},
                       headers=admin).status_code == 201
    assert StockMove.select().count() == lines + 1


def test_a_quantity_past_any_column_is_refused_on_the_floor(cluster, picker, people):  # noqa: F811
    by = receiver(people)
    assert STOCK.refused(by, "move", sku="TS-01", qty=2**63, **{"from": "A-01", "to": "A-02"}) == (
        "invalid_quantity", "error")
    assert STOCK.refused(by, "move", sku="TS-01", qty=inventory.MAX_QTY + 1, **{"from": "A-01", "to": "A-02"}) == (
        "invalid_quantity", "error")
    PICKING.step(picker, "get_work")
    PICKING.step(picker, "scan", code="A-01")
    PICKING.step(picker, "scan", code="6900000000014")  # a quantity is typed only after the item's scan
    assert PICKING.refused(picker, "qty", qty=2**63) == ("invalid_quantity", "qty")
    assert PICKING.refused(picker, "qty", qty=str(2**63)) == ("invalid_quantity", "qty")


def test_a_command_key_ending_in_a_newline_is_malformed(small_warehouse, people):
    result = STOCK.run(receiver(people), "lookup", key="0123456789abcdef\n", code="A-01")
    assert (result["ok"], result["message"]["code"]) == (False, "bad_command")
    assert not CommandResult.select().exists()


def top_trade(status: str, modified: str) -> bytes:
    trade = copy.deepcopy(TOP_TRADE)
    body = trade["trades_sold_get_response"]["trades"]["trade"][0]
    body.update(status=status, modified=modified)
    return json.dumps(trade, ensure_ascii=False).encode()


def post_signed(client, shop, body, secret="s3cret"):
    return client.post(f"/api/v1/channels/{shop}/orders", data=body,
                       headers={"X-Wavefloor-Signature": sign(secret, body), "Content-Type": "application/json"})


def test_a_webhook_for_an_unknown_shop_is_answered_as_a_bad_signature(client, db):
    Shop.create(code="tb1", channel="top", webhook_secret="s3cret")
    body = top_trade("WAIT_SELLER_SEND_GOODS", "2026-11-11 00:00:09")
    bad_signature = client.post("/api/v1/channels/tb1/orders", data=body,
                                headers={"X-Wavefloor-Signature": "sha256=00"})
    unknown_shop = post_signed(client, "no-such-shop", body)
    assert bad_signature.status_code == unknown_shop.status_code == 401
    assert unknown_shop.get_json() == bad_signature.get_json()
    assert not Order.select().exists()


def test_a_replayed_older_webhook_does_not_roll_a_cancelled_order_back(client, two_warehouses,  # noqa: F811
                                                                       small_products):  # noqa: F811
    Shop.create(code="tb1", channel="top", webhook_secret="s3cret")
    stock("TS-01", "WH-HZ-A1", 3)
    paid = top_trade("WAIT_SELLER_SEND_GOODS", "2026-11-11 00:00:09")
    closed = top_trade("TRADE_CLOSED", "2026-11-11 08:30:00")
    assert post_signed(client, "tb1", paid).get_json()["created"] == 1
    assert post_signed(client, "tb1", closed).get_json()["cancelled"] == 1
    replayed = post_signed(client, "tb1", paid)
    assert replayed.status_code == 200 and replayed.get_json()["unchanged"] == 1
    order = Order.get()
    assert (order.status, order.channel_status) == ("cancelled", "closed")
    later = top_trade("TRADE_CLOSED", "2026-11-11 09:00:00")
    assert post_signed(client, "tb1", later).status_code == 200
    assert Order.get().channel_modified_at.isoformat() == "2026-11-11T01:00:00"  # UTC of 09:00 in Beijing


def test_a_signed_payload_with_a_nul_character_names_its_order_and_field(client, two_warehouses,  # noqa: F811
                                                                         small_products):  # noqa: F811
    Shop.create(code="tb1", channel="top", webhook_secret="s3cret")
    trade = json.loads(top_trade("WAIT_SELLER_SEND_GOODS", "2026-11-11 00:00:09"))
    trade["trades_sold_get_response"]["trades"]["trade"][0]["buyer_message"] = "周末\x00不在家"
    answer = post_signed(client, "tb1", json.dumps(trade).encode())
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["created"], answer.get_json()["problems"]) == (
        0, ["<payload>: order 900001: buyer_message: contains a NUL character"])
    assert not Order.select().exists()


class Body(io.RawIOBase):
    """A request body of ``size`` bytes that counts what the server reads of it."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        left = min(len(buffer), self.size - self.read_bytes)
        buffer[:left] = b"{" * left
        self.read_bytes += left
        return left


OVER_ANY_CAP = 60 * 1024 * 1024  # the nginx site takes 50 MB


def test_a_webhook_body_over_the_cap_is_refused_unread(client, db):
    Shop.create(code="tb1", channel="top", webhook_secret="s3cret")
    declared = Body(OVER_ANY_CAP)
    answer = client.post("/api/v1/channels/tb1/orders", headers={"X-Wavefloor-Signature": "sha256=00"},
                         environ_overrides={"wsgi.input": declared, "CONTENT_LENGTH": str(OVER_ANY_CAP)})
    assert answer.status_code == 413 and answer.get_json()["code"] == "request_too_large", answer.get_json()
    assert answer.get_json()["params"] == {"limit_bytes": webhooks.MAX_BODY_BYTES}
    assert declared.read_bytes == 0
    chunked = Body(OVER_ANY_CAP)  # no Content-Length: read only until it passes the cap
    answer = client.post("/api/v1/channels/tb1/orders", headers={"X-Wavefloor-Signature": "sha256=00"},
                         environ_overrides={"wsgi.input": chunked, "wsgi.input_terminated": True})
    assert answer.status_code == 413 and answer.get_json()["code"] == "request_too_large", answer.get_json()
    assert chunked.read_bytes == webhooks.MAX_BODY_BYTES + 1
    body = top_trade("WAIT_SELLER_SEND_GOODS", "2026-11-11 00:00:09")
    assert post_signed(client, "tb1", body).status_code == 200
