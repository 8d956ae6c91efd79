"""分仓, carrier choice and wave strategies from the shipped rule files."""

import copy
import datetime

import pytest

from rules import RuleBook, SAMPLE_ORDER, load_rules
from rules.order import OrderContext


@pytest.fixture(scope="module")
def book():
    return RuleBook()


def order_to(province, **changes):
    order = copy.deepcopy(SAMPLE_ORDER)
    order.update(buyer_message="", tags=[], weight_g=800)
    order["receiver"]["province"] = province
    order.update(changes)
    return order


def line(sku, qty=1, bulky=False, cold_chain=False):
    return {"sku": sku, "qty": qty, "paid_fen": 1000, "refund_status": "", "bulky": bulky,
            "cold_chain": cold_chain}


@pytest.mark.parametrize("province, warehouses, route_name", [
    ("广东省", ("WH-SZ", "WH-HZ"), "south"),
    ("广西壮族自治区", ("WH-SZ", "WH-HZ"), "south"),
    ("浙江省", ("WH-HZ", "WH-SZ"), "east"),
    ("北京市", ("WH-HZ", "WH-SZ"), "default"),
])
def test_routing_by_province_gives_the_ordered_warehouses(book, province, warehouses, route_name):
    decision = book.routing.route(order_to(province, warehouses_with_stock=["WH-SZ", "WH-HZ"]))
    assert decision.warehouses == warehouses
    assert decision.route == route_name
    assert decision.chosen == warehouses[0]


def test_first_candidate_with_stock_is_chosen(book):
    decision = book.routing.route(order_to("广东省", warehouses_with_stock=["WH-HZ"]))
    assert decision.warehouses == ("WH-SZ", "WH-HZ")
    assert decision.chosen == "WH-HZ"


def test_no_warehouse_can_fill_the_order_applies_the_policy(book):
    decision = book.routing.route(order_to("广东省", warehouses_with_stock=[]))
    assert decision.chosen is None
    assert decision.policy == "split"


def test_bulky_and_cold_chain_lines_ship_in_their_own_groups(book):
    order = order_to("广东省", lines=[line("TEE"), line("SOFA", bulky=True),
                                     line("ICE", cold_chain=True), line("CAP")])
    groups = {group.name: [item["sku"] for item in group.lines]
              for group in book.routing.route(order).groups}
    assert groups == {"main": ["TEE", "CAP"], "bulky": ["SOFA"], "cold_chain": ["ICE"]}


def test_a_lines_group_is_decided_once_for_each_set_of_the_values_its_rules_read(tmp_path, monkeypatch):
    """The separate rules read only line.bulky, line.cold_chain and line.qty: lines with the same
    three values get the same group without being evaluated again, whatever else differs; a
    rule's error is reported for every line and order it happens to, not only the first."""
    (tmp_path / "routing.yaml").write_text(
        "kind: routing\n"
        "routes:\n"
        "  - when: 'order.receiver.province == \"广东省\"'\n"
        "    warehouses: [WH-SZ]\n"
        "default: [WH-HZ]\n"
        "policy: split\n"
        "separate:\n"
        "  - when: 'line.cold_chain'\n"
        "    group: cold_chain\n"
        "  - when: 'line.bulky && 10 / (line.qty - 3) > 0'\n"
        "    group: bulky\n", encoding="utf-8")
    routing = load_rules(tmp_path / "routing.yaml")
    bound = []
    bind_line = OrderContext.bind_line
    monkeypatch.setattr(OrderContext, "bind_line", lambda self, *args: bound.append(1) or bind_line(self, *args))
    lines = [line("TEE"), line("CAP"), line("ICE", cold_chain=True), line("ICE2", cold_chain=True)]
    first = routing.route(order_to("广东省", lines=lines))
    assert [(g.name, [item["sku"] for item in g.lines]) for g in first.groups] == [
        ("main", ["TEE", "CAP"]), ("cold_chain", ["ICE", "ICE2"])]
    assert len(bound) == 2  # (bulky, cold chain, qty) = (no, no, 1) and (no, yes, 1)
    sofa = [line("SOFA", qty=3, bulky=True), line("BED", qty=3, bulky=True), line("LAMP", qty=4, bulky=True)]
    for _ in range(2):
        decision = routing.route(order_to("广东省", lines=sofa))
        assert [(g.name, len(g.lines)) for g in decision.groups] == [("main", 2), ("bulky", 1)]
        assert len(decision.errors) == 2 and "division by zero" in decision.errors[0]  # SOFA's and BED's
    assert len(bound) == 4
    fresh = load_rules(tmp_path / "routing.yaml")  # evaluated every time, as before the groups were kept
    monkeypatch.setattr(fresh, "_key_fields", None)
    for order in (order_to("广东省", lines=lines), order_to("广东省", lines=sofa)):
        assert fresh.route(order) == routing.route(order)
    assert len(bound) == 4 + 7


def test_site_routing_with_backorder_policy(tmp_path):
    (tmp_path / "routing.yaml").write_text(
        "kind: routing\n"
        "routes:\n"
        "  - when: 'order.receiver.province == \"四川省\"'\n"
        "    warehouses: [WH-CD]\n"
        "default: [WH-BJ]\n"
        "policy: backorder\n", encoding="utf-8")
    routing = load_rules(tmp_path / "routing.yaml")
    decision = routing.route(order_to("四川省", warehouses_with_stock=["WH-BJ"]))
    assert (decision.warehouses, decision.chosen, decision.policy) == (("WH-CD",), None, "backorder")
    assert [group.name for group in decision.groups] == ["main"]


@pytest.mark.parametrize("changes, carrier", [
    ({}, "ZTO"),
    ({"buyer_message": "麻烦发顺丰，谢谢"}, "SF"),
    ({"tags": ["sf"]}, "SF"),
    ({"weight_g": 25000}, "DEPPON"),
    ({"weight_g": 25000, "buyer_message": "顺丰"}, "SF"),
])
def test_carrier_choice(book, changes, carrier):
    assert book.carriers.choose_carrier(order_to("浙江省", **changes)) == carrier


def test_remote_province_carrier(book):
    assert book.carriers.choose_carrier(order_to("西藏自治区")) == "EMS"


@pytest.mark.parametrize("sku_count, units, strategy, sort_at", [
    (1, 1, "single_unit", "packing"),
    (1, 4, "single_sku_multi", "packing"),
    (3, 5, "cluster", "cart"),
    (5, 20, "batch_put_wall", "put_wall"),
])
def test_wave_strategy_and_limits(book, sku_count, units, strategy, sort_at):
    order = order_to("浙江省", sku_count=sku_count, units=units)
    assert book.waves.wave_strategy(order) == strategy
    chosen = book.waves.strategy_for(order)
    assert chosen.sort_at == sort_at
    wave, task = book.waves.limits(strategy)
    assert wave.orders >= 1
    if strategy == "cluster":
        assert task.cart_slots == 12 and task.orders == 12


def test_empty_order_falls_to_the_default_strategy(book):
    assert book.waves.wave_strategy(order_to("浙江省", sku_count=0, units=0)) == "batch_put_wall"


def test_priority_orders_by_ship_by_then_flag_then_channel(book):
    day = datetime.datetime(2026, 11, 11, 12, 0)
    early = {"ship_by": day, "channel": "taobao", "seller_flag": 0}
    late_flagged = {"ship_by": day + datetime.timedelta(hours=6), "channel": "tmall", "seller_flag": 1}
    late_douyin = {"ship_by": day + datetime.timedelta(hours=6), "channel": "douyin", "seller_flag": 0}
    late_tmall = {"ship_by": day + datetime.timedelta(hours=6), "channel": "tmall", "seller_flag": 0}
    no_deadline = {"channel": "douyin", "seller_flag": 1}
    orders = [no_deadline, late_tmall, late_douyin, late_flagged, early]
    ordered = sorted(orders, key=book.waves.priority_key)
    assert ordered == [early, late_flagged, late_douyin, late_tmall, no_deadline]
