"""Orders in: the Tmall sample lands exactly as expected; review, routing and reservation;
channel updates (closed trades, refunds) release stock; nothing is ever oversold."""
import gc
import json
import sys
import threading
from pathlib import Path

import pytest
from peewee import IntegrityError

from server import events
from server.channels import get_adapter
from server.channels.base import ParseResult, ParsedLine, ParsedOrder
from server.channels.tmall_csv import TmallCsvAdapter
from server.db import PostgresqlDatabase, init_database, write_transaction
from server.models import Allocation, Location, Order, OrderLine, Product, Quant, Warehouse
from server.services.errors import InsufficientStock
from server.services.orders import batch as order_batch
from server.services.orders import office
from server.services.orders import export as order_export
from server.services.orders import intake as order_import
from server.services.orders import lifecycle as orders
from server.services.stock import catalog, inventory
from tests.conftest import SHARED
from tests.wire import Relay

TMALL = SHARED / "samples" / "tmall"
FIXTURES = Path(__file__).parent / "fixtures" / "channels"


@pytest.fixture
def two_warehouses(db):
    """WH-HZ and WH-SZ (the codes the default routing rules name), a pick face each."""
    whs = {}
    for code in ("WH-HZ", "WH-SZ"):
        wh = Warehouse.create(code=code, name=code)
        Location.create(warehouse=wh, code=f"{code}-A1", kind="pick", aisle=0, y_m=1.0, pick_seq=1)
        Location.create(warehouse=wh, code=f"{code}-R1", kind="reserve")
        whs[code] = wh
    return whs


def stock(sku, location_code, qty):
    product = Product.get(Product.sku == sku)
    inventory.receive(product, Location.get(Location.code == location_code), qty, actor=inventory.system_actor())


def parsed(external_id, lines, status="paid", province="浙江省", **extra):
    header = dict(buyer_nick="buyer", receiver_name="林娟", receiver_phone="13800000000", receiver_city="杭州市",
                  receiver_district="西湖区", receiver_address="文三路1号", goods_fen=1000, paid_fen=1000)
    header.update(extra)
    return ParsedOrder(channel="tmall", shop="s1", external_id=external_id, channel_status=status, status=status,
                       receiver_province=province, source="test", **header,
                       lines=[ParsedLine(f"{external_id}-{i}", sku, sku, qty, 500, 500 * qty, refund)
                              for i, (sku, qty, refund) in enumerate(lines)])


def test_tmall_sample_matches_expected_and_reimport_changes_nothing(db, two_warehouses):
    assert TMALL.exists(), f"the shared samples are expected at {TMALL}"
    catalog.import_products(TMALL / "products.csv")
    report = order_import.import_files("tmall", [TMALL / "orders.csv", TMALL / "items.csv"])
    expected = json.loads((TMALL / "expected.json").read_text(encoding="utf-8"))
    assert report.problems == [] and report.created == len(expected["orders"])
    exported = {o["external_id"]: o for o in order_export.export()}
    assert set(exported) == set(expected["orders"])
    for external_id, want in expected["orders"].items():
        got = exported[external_id]
        assert got["province"] == want["province"], external_id
        assert (got["paid_fen"], got["freight_fen"], got["coupon_fen"]) == (want["paid_fen"], want["post_fen"],
                                                                           want["coupon_fen"]), external_id
        assert (got["status"] == "cancelled") == want["closed"] and got["presale"] == want["presale"]
        assert got["units"] == want["units"]
        assert [(l["external_line_id"], l["sku"], l["qty"], l["unknown_sku"], l["refund_status"] == "refunded")
                for l in got["lines"]] == [(l["oid"], l["sku"], l["qty"], l["unknown_sku"], l["refunded"])
                                           for l in want["lines"]], external_id
    assert Order.get(Order.external_id == "3700000000010000000").receiver_name == "林娟"
    counts = (Order.select().count(), OrderLine.select().count())
    again = order_import.import_files("tmall", [TMALL / "orders.csv", TMALL / "items.csv"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(expected["orders"]))
    assert (Order.select().count(), OrderLine.select().count()) == counts


def test_a_streamed_export_is_stored_while_it_is_read_and_all_its_problems_are_reported(
        db, two_warehouses, small_products, monkeypatch):
    """import_files takes a Tmall export's orders as the adapter reads them: the first chunk is
    stored before the order report's last row is read. The report still names every problem of
    the files first (an orphan item line is only known at the end), then the import's own."""
    quirks = [FIXTURES / "tmall_quirks_orders.csv", FIXTURES / "tmall_quirks_items.csv"]
    parsed_whole = get_adapter("tmall_csv").parse([str(p) for p in quirks])
    monkeypatch.setattr(order_import, "CHUNK", 2)
    planned = []  # orders in each chunk planned so far
    plan_chunk = order_batch.plan_chunk
    monkeypatch.setattr(order_batch, "plan_chunk",
                        lambda items, *args, **kwargs: planned.append(len(items)) or plan_chunk(items, *args, **kwargs))
    chunks_before = []  # for each order read, the chunks planned before it
    stream = TmallCsvAdapter.stream

    def watched(self, *args, **kwargs):
        result = stream(self, *args, **kwargs)
        orders = result.orders
        result.orders = (chunks_before.append(len(planned)) or order for order in orders)
        return result

    monkeypatch.setattr(TmallCsvAdapter, "stream", watched)
    report = order_import.import_files("tmall", quirks)
    assert len(chunks_before) == len(parsed_whole.orders) > 4
    assert chunks_before[:2] == [0, 0] and chunks_before[-1] >= 2  # read as the chunks went
    assert report.created == len(parsed_whole.orders) == Order.select().count()
    found = [str(p) for p in parsed_whole.problems]
    assert report.problems[:len(found)] == found and any("item line without an order" in p for p in found)


def test_review_holds_routes_by_province_and_reserves(db, two_warehouses, small_products):
    stock("TS-01", "WH-HZ-A1", 5)
    stock("TS-01", "WH-SZ-A1", 5)
    result = ParseResult([
        parsed("A1", [("TS-01", 2, "none")], province="广东省"),
        parsed("A2", [("TS-01", 1, "none")], province="浙江省"),
        parsed("A3", [("TS-01", 1, "none")], buyer_message="请发顺丰"),
        parsed("A4", [("NOPE-9", 1, "none")]),
        parsed("A5", [("TS-01", 1, "none")], status="waiting_payment"),
    ])
    report = order_import.import_parsed(result)
    assert (report.created, report.allocated, report.held) == (5, 2, 2)
    a1, a2 = Order.get(Order.external_id == "A1"), Order.get(Order.external_id == "A2")
    assert (a1.status, a1.warehouse.code) == ("allocated", "WH-SZ")  # south China ships from Shenzhen
    assert (a2.status, a2.warehouse.code) == ("allocated", "WH-HZ")
    assert a1.carrier
    assert Order.get(Order.external_id == "A3").hold_reasons == "buyer_message"
    assert Order.get(Order.external_id == "A4").hold_reasons == "unknown_sku"
    assert Order.get(Order.external_id == "A5").status == "new"
    assert sum(a.qty for a in Allocation.select()) == 3
    assert inventory.audit() == []

    approved = office.approve(Order.get(Order.external_id == "A3").id, inventory.system_actor())
    assert approved.status == "allocated"
    history = [e["action"] for e in orders.history(approved)]
    assert history == ["imported", "reviewing", "held", "approved", "allocated"]


def test_backorder_then_stock_arrives(db, two_warehouses, small_products):
    stock("TS-01", "WH-HZ-A1", 1)
    order_import.import_parsed(ParseResult([parsed("B1", [("TS-01", 3, "none")])]))
    order = Order.get(Order.external_id == "B1")
    assert order.status == "backorder" and "TS-01 -2" in orders.history(order)[-1]["detail"]
    stock("TS-01", "WH-HZ-R1", 2)  # a receipt: the waiting order is reserved after commit
    order = Order.get(Order.external_id == "B1")
    assert order.status == "allocated" and OrderLine.get(OrderLine.order == order).reserved_qty == 3


def test_split_across_warehouses_when_none_fills_the_order(db, two_warehouses, small_products):
    stock("TS-01", "WH-HZ-A1", 2)
    stock("MG-01", "WH-SZ-A1", 2)
    order_import.import_parsed(ParseResult([parsed("C1", [("TS-01", 2, "none"), ("MG-01", 1, "none")])]))
    parent = Order.get(Order.external_id == "C1")
    (child,) = list(Order.select().where(Order.split_from == parent.id))
    assert {(parent.status, parent.warehouse.code), (child.status, child.warehouse.code)} == {
        ("allocated", "WH-HZ"), ("allocated", "WH-SZ")}
    assert sorted(l.sku_code for l in OrderLine.select()) == ["MG-01", "TS-01"]


def test_channel_updates_cancel_refund_and_rereview(db, two_warehouses, small_products):
    stock("TS-01", "WH-HZ-A1", 10)
    stock("MG-01", "WH-HZ-A1", 10)
    order_import.import_parsed(ParseResult([parsed("D1", [("TS-01", 2, "none"), ("MG-01", 1, "none")]),
                                            parsed("D2", [("TS-01", 3, "none")])]))
    assert sum(q.reserved for q in Quant.select()) == 6
    # D1: one line refunded; D2: the trade was closed
    report = order_import.import_parsed(ParseResult([
        parsed("D1", [("TS-01", 2, "none"), ("MG-01", 1, "refunded")]),
        parsed("D2", [("TS-01", 3, "none")], status="closed")]))
    assert (report.updated, report.cancelled) == (2, 1)
    d1, d2 = Order.get(Order.external_id == "D1"), Order.get(Order.external_id == "D2")
    assert d1.status == "allocated" and d2.status == "cancelled"
    assert sum(q.reserved for q in Quant.select()) == 2
    # a refund request on a reserved order sends it back to review and frees its stock
    order_import.import_parsed(ParseResult([parsed("D1", [("TS-01", 2, "pending"), ("MG-01", 1, "refunded")])]))
    d1 = Order.get_by_id(d1.id)
    assert d1.status == "held" and "refund_pending" in d1.hold_reasons
    assert sum(q.reserved for q in Quant.select()) == 0
    assert inventory.audit() == []


def test_a_bad_order_is_reported_and_the_rest_go_in(db, two_warehouses, small_products):
    bad = parsed("E2", [("TS-01", 1, "none")])
    bad.lines.append(ParsedLine("E2-0", "TS-01", "dup", 1, 1, 1, "none"))  # duplicate line id
    report = order_import.import_parsed(ParseResult([parsed("E1", [("TS-01", 1, "none")]), bad]))
    assert report.created == 1 and len(report.problems) == 1 and "E2" in report.problems[0]
    assert not Order.select().where(Order.external_id == "E2").exists()


@pytest.fixture
def small_products(db):
    for sku in ("TS-01", "MG-01"):
        Product.create(sku=sku, name=sku, weight_g=100)


def test_merge_orders_of_one_buyer_to_one_receiver(db, two_warehouses, small_products):
    from server.services.orders import merge
    stock("TS-01", "WH-HZ-A1", 10)
    order_import.import_parsed(ParseResult([parsed("M1", [("TS-01", 1, "none")], paid_fen=1000),
                                            parsed("M2", [("TS-01", 2, "none")], paid_fen=2000),
                                            parsed("M3", [("TS-01", 1, "none")], receiver_address="别处2号")]))
    (group,) = merge.candidates()
    assert [o.external_id for o in group] == ["M1", "M2"]
    target = merge.merge([o.id for o in group], inventory.system_actor())
    m2 = Order.get(Order.external_id == "M2")
    assert (target.external_id, target.status, target.paid_fen) == ("M1", "allocated", 3000)
    assert (m2.status, m2.merged_into_id) == ("cancelled", target.id)
    assert sorted(l.qty for l in OrderLine.select().where(OrderLine.order == target)) == [1, 2]
    assert sum(q.reserved for q in Quant.select()) == 4  # the reservations moved with the lines
    assert merge.candidates() == []
    with pytest.raises(Exception):
        merge.merge([target.id, Order.get(Order.external_id == "M3").id], inventory.system_actor())
    assert inventory.audit() == []


def test_a_channel_change_to_a_merged_order_reaches_its_lines(db, two_warehouses, small_products):
    from server.services.orders import merge
    stock("TS-01", "WH-HZ-A1", 10)
    order_import.import_parsed(ParseResult([parsed("N1", [("TS-01", 1, "none")]),
                                            parsed("N2", [("TS-01", 2, "none")])]))
    target = merge.merge([o.id for o in Order.select().order_by(Order.id)], inventory.system_actor())
    report = order_import.import_parsed(ParseResult([parsed("N2", [("TS-01", 2, "none")], status="closed")]))
    assert report.updated == 1
    target = Order.get_by_id(target.id)
    assert target.status == "allocated"  # N1 still ships
    assert [(l.external_line_id, l.refund_status, l.reserved_qty) for l in
            OrderLine.select().where(OrderLine.order == target).order_by(OrderLine.id)] == [
        ("N1-0", "none", 1), ("N2-0", "refunded", 0)]
    assert sum(q.reserved for q in Quant.select()) == 1
    assert inventory.audit() == []


def test_new_orders_take_the_chunked_path(db, two_warehouses, small_products, monkeypatch):
    """Plain new orders never fall back to one transaction each (that path is for changes)."""
    alone = []
    monkeypatch.setattr(order_import, "_import_alone", lambda parsed, *a: alone.append(parsed.external_id))
    stock("TS-01", "WH-HZ-A1", 3)
    report = order_import.import_parsed(ParseResult([parsed(f"F{i}", [("TS-01", 1, "none")]) for i in range(5)]))
    assert alone == [] and (report.created, report.allocated, report.backorder) == (5, 3, 2)
    assert [o.status for o in Order.select().order_by(Order.id)] == ["allocated"] * 3 + ["backorder"] * 2
    assert inventory.audit() == []


def test_a_chunk_is_planned_while_the_one_before_is_written(db, db_url, two_warehouses, small_products, monkeypatch):
    """Chunks of two orders; 3 tees for 7 orders of one: the first three in the file take them,
    whichever chunk is being written when the next is planned, and none goes one by one."""
    alone, written_apart = [], []
    monkeypatch.setattr(order_import, "_import_alone", lambda parsed, *a: alone.append(parsed.external_id))
    monkeypatch.setattr(order_import, "CHUNK", 2)
    real = order_batch.Writing.__init__
    monkeypatch.setattr(order_batch.Writing, "__init__",
                        lambda self, plans, *a: (written_apart.append(len(plans)), real(self, plans, *a))[1])
    stock("TS-01", "WH-HZ-A1", 3)
    report = order_import.import_parsed(ParseResult([parsed(f"C{i}", [("TS-01", 1, "none")]) for i in range(7)]))
    assert alone == [] and (report.created, report.allocated, report.backorder) == (7, 3, 4)
    assert [o.external_id for o in Order.select().where(Order.status == "allocated").order_by(Order.id)] == [
        "C0", "C1", "C2"]
    assert written_apart == ([] if db_url.startswith("sqlite") else [2, 2, 2, 1])
    assert Quant.get().reserved == 3 and inventory.audit() == []

    written_apart.clear()  # inside a caller's transaction every chunk is the caller's
    with pytest.raises(RuntimeError), write_transaction():
        order_import.import_parsed(ParseResult([parsed(f"D{i}", [("TS-01", 1, "none")]) for i in range(5)]))
        assert Order.select().count() == 12
        raise RuntimeError("the caller changes its mind")
    assert written_apart == [] and Order.select().count() == 7 and inventory.audit() == []


def test_the_next_chunk_counts_what_the_chunk_being_written_promises(db, two_warehouses, small_products, monkeypatch):
    """A read of the free stock before the chunk's commit counts its promises as taken; after the
    commit it finds them in the quant; the commit waits while a read is under way."""
    stock("TS-01", "WH-HZ-A1", 5)
    products = order_batch.product_info()
    tee = products["TS-01"][0]
    order = parsed("W1", [("TS-01", 2, "none")])
    plans, slow = order_batch.plan_chunk([(order, "fp", order_import._header(order, 48))], products,
                                         inventory.system_actor())
    assert slow == [] and [p.status for p in plans] == ["allocated"]
    go_on, committing = threading.Event(), threading.Event()
    real = order_batch.write_chunk

    def held(plans, products, actor, before_commit=None, **more):
        def then():
            committing.set()
            go_on.wait(10)
            before_commit()
        real(plans, products, actor, before_commit=then, **more)

    monkeypatch.setattr(order_batch, "write_chunk", held)
    writing = order_batch.Writing(plans, products, inventory.system_actor()).start()
    assert committing.wait(10)
    free = writing.free([tee])
    assert [q[3] for q in free[two_warehouses["WH-HZ"].id][tee]] == [3]  # 5 less the 2 not yet committed
    go_on.set()
    assert writing.wait() is None and writing.committed
    free = writing.free([tee])
    assert [q[3] for q in free[two_warehouses["WH-HZ"].id][tee]] == [3]  # the quant says it now
    assert Quant.get().reserved == 2 and inventory.audit() == []


def test_a_chunk_goes_to_postgresql_in_one_round_trip_between_begin_and_commit(
        db, engine, db_url, two_warehouses, small_products, monkeypatch):
    """Its ids known beforehand, nothing in a chunk waits for an answer: BEGIN, the chunk's
    statements together, COMMIT. A guard that fails among them (another writer took the stock)
    fails the chunk as a whole, and nothing of it is kept."""
    if engine == "sqlite":
        pytest.skip("SQLite has no wire")
    monkeypatch.setattr(PostgresqlDatabase, "PING_AFTER_S", 3600.0)  # no ping of a pooled connection
    stock("TS-01", "WH-HZ-A1", 5)
    products, actor = order_batch.product_info(), inventory.system_actor()

    def planned(prefix):
        orders = [parsed(f"{prefix}{i}", [("TS-01", 1, "none")]) for i in range(2)]
        plans, slow = order_batch.plan_chunk([(o, "fp", order_import._header(o, 48)) for o in orders],
                                             products, actor)
        assert slow == [] and [p.status for p in plans] == ["allocated", "allocated"]
        return plans

    relay = Relay(5432)
    init_database(db_url.replace(":5432/", f":{relay.port}/"))
    try:
        ids = order_batch.Ids()
        ids.take(1, 1)  # the ids of five chunks like these, taken ahead
        plans = planned("P")
        events.settle()  # a stock change's wall-screen update reads the database on a timer of its own
        with relay.count() as counted:
            order_batch.write_chunk(plans, products, actor, ids=ids)
        assert counted.turns == 3, relay.sent[-counted.turns:]
        late = planned("Q")  # two of the three units still free
        inventory.reserve_any(Product.get(Product.sku == "TS-01"), 2, actor=actor)
        events.settle()
        with pytest.raises(order_batch.GuardFailed), relay.count() as counted:
            order_batch.write_chunk(late, products, actor, ids=ids)
        assert counted.turns == 3, relay.sent[-counted.turns:]  # BEGIN, the statements, ROLLBACK
    finally:
        init_database(db_url)
        relay.close()
    assert sorted(o.external_id for o in Order.select()) == ["P0", "P1"]
    assert Quant.get().reserved == 4 and OrderLine.select().count() == 2 and inventory.audit() == []


def test_a_chunk_whose_row_the_database_refuses_keeps_nothing_and_the_next_goes_in(
        db, two_warehouses, small_products):
    """A statement refused among the chunk's (on PostgreSQL, sent together with the others): the
    chunk fails as a whole with the database's error, nothing of it is kept, and the
    connection writes the next chunk."""
    stock("TS-01", "WH-HZ-A1", 5)
    products, actor = order_batch.product_info(), inventory.system_actor()

    def planned(prefix):
        orders = [parsed(f"{prefix}{i}", [("TS-01", 1, "none")]) for i in range(2)]
        return order_batch.plan_chunk([(o, "fp", order_import._header(o, 48)) for o in orders], products, actor)[0]

    bad = planned("X")
    bad[1].warehouse_id = 999_999  # no such warehouse
    with pytest.raises(IntegrityError):
        order_batch.write_chunk(bad, products, actor)
    assert Order.select().count() == 0 and Quant.get().reserved == 0
    order_batch.write_chunk(planned("Y"), products, actor)
    assert sorted(o.external_id for o in Order.select()) == ["Y0", "Y1"]
    assert Quant.get().reserved == 2 and inventory.audit() == []


def test_a_chunk_that_does_not_stand_goes_one_by_one_and_the_next_is_planned_again(
        db, two_warehouses, small_products, monkeypatch):
    """Another writer takes 3 of the 4 tees while the first chunk is written: that chunk's guard
    fails, its orders go one by one, the chunk planned meanwhile is planned again; nothing is
    oversold and the file's order still decides."""
    monkeypatch.setattr(order_import, "CHUNK", 2)
    stock("TS-01", "WH-HZ-A1", 4)
    real_write, calls = order_batch.write_chunk, []
    real_alone, alone = order_import._import_alone, []

    def first_loses(plans, products, actor, before_commit=None, **more):
        calls.append([p.parsed.external_id for p in plans])
        if len(calls) == 1:
            inventory.reserve_any(Product.get(Product.sku == "TS-01"), 3, actor=inventory.system_actor())
        real_write(plans, products, actor, before_commit=before_commit, **more)

    monkeypatch.setattr(order_batch, "write_chunk", first_loses)
    monkeypatch.setattr(order_import, "_import_alone",
                        lambda parsed, *a: (alone.append(parsed.external_id), real_alone(parsed, *a)))
    report = order_import.import_parsed(ParseResult([parsed(f"G{i}", [("TS-01", 1, "none")]) for i in range(5)]))
    assert calls[0] == ["G0", "G1"] and alone == ["G0", "G1"]
    assert (report.created, report.allocated, report.backorder) == (5, 1, 4)
    assert [o.external_id for o in Order.select().where(Order.status == "allocated")] == ["G0"]
    assert Quant.get().reserved == 4 and inventory.audit() == []


def test_an_import_quickens_thread_switches_while_it_runs_and_gives_them_back():
    before = sys.getswitchinterval()
    with order_batch.quick_switches():
        assert sys.getswitchinterval() == min(order_batch.SWITCH_S, before)
        with order_batch.quick_switches():  # a second import at the same time
            pass
        assert sys.getswitchinterval() == min(order_batch.SWITCH_S, before)
    assert sys.getswitchinterval() == before


def test_an_import_collects_cycles_less_often_while_it_runs_and_gives_the_threshold_back(
        db, two_warehouses, small_products, monkeypatch):
    before = gc.get_threshold()
    seen = []
    plan_chunk = order_batch.plan_chunk
    monkeypatch.setattr(order_batch, "plan_chunk",
                        lambda *args, **kwargs: seen.append(gc.get_threshold()) or plan_chunk(*args, **kwargs))
    with order_batch.fewer_collections():
        assert gc.get_threshold() == (max(order_batch.COLLECT_EVERY, before[0]), *before[1:])
        order_import.import_parsed(ParseResult([parsed("C1", [("TS-01", 1, "none")])]))  # a second, inside
        assert gc.get_threshold()[0] == max(order_batch.COLLECT_EVERY, before[0])
    assert gc.get_threshold() == before
    order_import.import_parsed(ParseResult([parsed("C2", [("TS-01", 1, "none")])]))
    assert seen == [(max(order_batch.COLLECT_EVERY, before[0]), *before[1:])] * 2 and gc.get_threshold() == before


def test_reserving_a_chunk_takes_every_quant_or_none(db, two_warehouses, small_products):
    stock("TS-01", "WH-HZ-A1", 3)
    stock("TS-01", "WH-SZ-A1", 2)
    tee = Product.get(Product.sku == "TS-01").id
    hz, sz = (Quant.get(Quant.location == Location.get(Location.code == code)) for code in ("WH-HZ-A1", "WH-SZ-A1"))
    take = inventory.Take
    actor = inventory.system_actor()
    with pytest.raises(InsufficientStock) as refused:  # 3 of the 2 at WH-SZ: the 2 at WH-HZ stay free too
        inventory.reserve_chunk([take(hz.id, tee, hz.location_id, "", 2, "a"),
                                 take(sz.id, tee, sz.location_id, "", 3, "b")], actor=actor)
    assert (refused.value.params["quant"], refused.value.params["qty"]) == (sz.id, 3)
    assert [q.reserved for q in Quant.select().order_by(Quant.id)] == [0, 0]
    inventory.reserve_chunk([take(sz.id, tee, sz.location_id, "", 1, "b"), take(hz.id, tee, hz.location_id, "", 2, "a"),
                             take(hz.id, tee, hz.location_id, "", 1, "c")], actor=actor)  # 2 + 1 of one quant
    assert [q.reserved for q in Quant.select().order_by(Quant.id)] == [3, 1]
    assert inventory.audit() == []


def test_presale_waits_for_the_final_payment_then_ranks_by_its_promise(db, two_warehouses, small_products):
    import datetime as dt
    stock("TS-01", "WH-HZ-A1", 5)
    promise = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.timezone.utc)
    order_import.import_parsed(ParseResult([parsed("P1", [("TS-01", 1, "none")], presale=True,
                                                   presale_final_paid=False, presale_ship_by=promise)]))
    order = Order.get(Order.external_id == "P1")
    assert order.status == "held" and "presale_unpaid" in order.hold_reasons
    assert order.ship_by == promise.replace(tzinfo=None)
    order_import.import_parsed(ParseResult([parsed("P1", [("TS-01", 1, "none")], presale=True,
                                                   presale_final_paid=True, presale_ship_by=promise)]))
    order = Order.get_by_id(order.id)
    assert order.status == "allocated" and order.hold_reasons == ""


def test_bulky_goods_ship_apart(db, two_warehouses, small_products):
    Product.update(bulky=True).where(Product.sku == "MG-01").execute()
    stock("TS-01", "WH-HZ-A1", 5)
    stock("MG-01", "WH-HZ-A1", 5)
    order_import.import_parsed(ParseResult([parsed("G1", [("TS-01", 1, "none"), ("MG-01", 1, "none")])]))
    parent = Order.get(Order.external_id == "G1")
    (child,) = Order.select().where(Order.split_from == parent.id)
    assert child.external_id == "G1-bulky" and {parent.status, child.status} == {"allocated"}
    assert [l.sku_code for l in child.lines] == ["MG-01"] and [l.sku_code for l in parent.lines] == ["TS-01"]


def test_the_routing_rules_decide_which_orders_merge_by_themselves(db, two_warehouses, small_products):
    from server.services.orders import merge
    stock("TS-01", "WH-HZ-A1", 10)
    order_import.import_parsed(ParseResult([
        parsed("Q1", [("TS-01", 1, "none")]), parsed("Q2", [("TS-01", 1, "none")]),
        parsed("Q3", [("TS-01", 1, "none")], buyer_nick="other", seller_memo="送赠品"),
        parsed("Q4", [("TS-01", 1, "none")], buyer_nick="other")]))
    office.approve(Order.get(Order.external_id == "Q3").id, inventory.system_actor())  # memo read, approved
    assert len(merge.candidates()) == 2
    assert merge.merge_all(inventory.system_actor()) == 1  # Q3 carries a memo: the rule leaves it to a person
    assert Order.get(Order.external_id == "Q2").merged_into_id == Order.get(Order.external_id == "Q1").id
    assert Order.get(Order.external_id == "Q4").merged_into_id is None


def test_many_orders_move_together_with_their_history_or_none_moves(db, people):
    """transition_all (a wave's orders becoming waved): one update for all, a history row for
    each; if one of them was moved meanwhile, none of them moves."""
    from server.models import OrderEvent
    from server.services.errors import InvalidTransition
    actor = inventory.Actor(people["supervisor"].id)
    made = [Order.create(channel="tmall", shop="s1", external_id=f"T-{n}", status="allocated") for n in range(3)]
    orders.transition_all(made[:2], "waved", actor, "W1")
    assert [o.status for o in Order.select().order_by(Order.id)] == ["waved", "waved", "allocated"]
    assert [o.status for o in made] == ["waved", "waved", "allocated"]
    history = [(e.order_id, e.action, e.detail, e.user_id) for e in OrderEvent.select().order_by(OrderEvent.id)]
    assert history == [(made[0].id, "waved", "W1", actor.user_id), (made[1].id, "waved", "W1", actor.user_id)]

    stale = Order.get_by_id(made[2].id)
    Order.update(status="cancelled").where(Order.id == made[2].id).execute()  # the channel cancelled it
    late = [Order.create(channel="tmall", shop="s1", external_id="T-9", status="allocated"), stale]
    with pytest.raises(InvalidTransition):
        orders.transition_all(late, "waved", actor, "W2")
    assert Order.get_by_id(late[0].id).status == "allocated"  # the one that could move did not
    assert OrderEvent.select().count() == 2
    with pytest.raises(InvalidTransition):  # not a move the orders' status allows
        orders.transition_all([Order.get_by_id(made[0].id)], "new", actor)


def test_the_chunk_insert_takes_every_kind_of_value(db, two_warehouses, small_products, people):
    """The chunked path's own INSERT (an array a column on PostgreSQL, rows of values on SQLite):
    a model where its id belongs and a number written as text get the field's own conversion."""
    import datetime as dt
    from server.models import OrderEvent
    from server.db import insert_rows
    order_import.import_parsed(ParseResult([parsed("E1", [("TS-01", 1, "none")])]))
    order = Order.get(Order.external_id == "E1")
    at = dt.datetime(2026, 11, 11, 0, 0, 1)
    rows = [{"order": order.id, "at": at, "user": people["picker"], "action": "note", "detail": "一"},
            {"order": str(order.id), "at": at, "user": None, "action": "note", "detail": ""}]
    ids = insert_rows(OrderEvent, rows, ("id",))
    stored = [(e.order_id, e.at, e.user_id, e.detail) for e in
              OrderEvent.select().where(OrderEvent.id.in_([i for i, in ids])).order_by(OrderEvent.id)]
    assert stored == [(order.id, at, people["picker"].id, "一"), (order.id, at, None, "")]


def test_the_chunk_insert_keeps_text_as_written_and_takes_a_single_column(db):
    """Text the chunked INSERT carries (in one JSON document on PostgreSQL) comes back exactly:
    quotes, backslashes, line breaks, braces, Chinese, emoji; and a model with one column to
    write is a row of one value, not the value's characters."""
    import datetime as dt

    import peewee
    from server.db import insert_rows

    class Scratch(peewee.Model):
        note = peewee.TextField(null=True)
        flag = peewee.BooleanField(default=False)
        at = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "scratch_chunk_insert"

    class Single(peewee.Model):
        code = peewee.CharField()

        class Meta:
            database = db
            table_name = "scratch_single_column"

    db.create_tables([Scratch, Single])
    try:
        at = dt.datetime(2026, 11, 11, 23, 59, 59, 123456)
        texts = ['say "hi"', "C:\\temp\\new", "two\nlines\ttab", "{a,b}", "NULL", "一件 🎁", "", None]
        rows = [{"note": text, "flag": n % 2 == 0, "at": at if n % 3 else None} for n, text in enumerate(texts)]
        ids = insert_rows(Scratch, rows, ("id",))
        stored = {s.id: (s.note, s.flag, s.at) for s in Scratch.select()}
        assert [stored[i] for i, in ids] == [(r["note"], r["flag"], r["at"]) for r in rows]
        insert_rows(Single, [{"code": "AB-12"}, {"code": "7"}])
        assert sorted(s.code for s in Single.select()) == ["7", "AB-12"]
    finally:
        db.drop_tables([Scratch, Single])


def test_a_large_import_refreshes_the_planner_statistics(db, db_url, two_warehouses, small_products, monkeypatch):
    monkeypatch.setattr(order_import, "ANALYZE_FIRST", 2)
    monkeypatch.setattr(order_import, "CHUNK", 2)
    analyzed = []
    real = order_import._analyze
    monkeypatch.setattr(order_import, "_analyze", lambda: (analyzed.append(1), real()))
    stock("TS-01", "WH-HZ-A1", 10)
    order_import.import_parsed(ParseResult([parsed(f"S{i}", [("TS-01", 1, "none")]) for i in range(9)]))
    assert len(analyzed) == 2  # after 2 and 8 orders: four times as many each time
    if db_url.startswith("postgresql"):
        assert db.execute_sql("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                              "WHERE relname = 'order'").fetchone() == (True,)
