"""`explain`: every rule of every file, whether it fired, its expression, the values it read."""

import copy
import json

import pytest

from rules import RuleBook, SAMPLE_ORDER, explain, explain_report


@pytest.fixture(scope="module")
def book():
    return RuleBook()


@pytest.fixture
def order():
    order = copy.deepcopy(SAMPLE_ORDER)
    order.update(buyer_message="", seller_memo="", seller_flag=0, refund_pending=False,
                 forbid_consign=False, unknown_skus=[], blacklisted=False, tags=[],
                 paid_fen=720000, sku_count=1, units=1, weight_g=300,
                 warehouses_with_stock=["WH-HZ"])
    order["receiver"]["province"] = "广西壮族自治区"
    return order


def rows(entries, kind):
    return {entry["rule"]: entry for entry in entries if entry["kind"] == kind}


def test_every_rule_of_every_file_is_listed(book, order):
    entries = explain(order, book)
    assert set(rows(entries, "review")) == {rule.code for rule in book.review.rules}
    assert set(rows(entries, "routing")) >= {"south", "east", "default"}
    assert set(rows(entries, "carriers")) == {"buyer_asks_sf", "heavy", "remote", "default"}
    assert set(rows(entries, "waves")) == {s.name for s in book.waves.strategies} | {"default"}


def test_review_rows_show_what_fired_and_the_values_read(book, order):
    review = rows(explain(order, book), "review")
    over = review["amount_over_limit"]
    assert over["fired"] is True
    assert over["expression"] == "order.paid_fen > params.max_auto_approve_fen"
    assert over["values"] == {"order.paid_fen": 720000, "params.max_auto_approve_fen": 500000}
    assert over["line"] == 68 and over["file"].endswith("review.yaml")
    assert review["buyer_message"]["fired"] is False
    assert review["buyer_message"]["values"] == {"order.buyer_message": ""}


def test_first_match_files_mark_the_rule_that_decided(book, order):
    entries = explain(order, book)
    routing = rows(entries, "routing")
    assert routing["south"]["decided"] is True
    assert routing["south"]["values"] == {"order.receiver.province": "广西壮族自治区"}
    assert routing["default"]["decided"] is False
    carriers = rows(entries, "carriers")
    assert carriers["default"]["decided"] is True
    assert not any(row["decided"] for name, row in carriers.items() if name != "default")
    assert rows(entries, "waves")["single_unit"]["decided"] is True


def test_line_rules_are_explained_per_line(book, order):
    separate = [entry for entry in explain(order, book) if entry["rule"].startswith("separate[1]")]
    assert [(entry["values"]["line.sku"], entry["fired"]) for entry in separate] == \
        [("SKU-1", True), ("SKU-2", False)]


def test_a_rule_that_cannot_be_evaluated_shows_the_error(book, order):
    del order["weight_g"]
    heavy = rows(explain(order, book), "carriers")["heavy"]
    assert heavy["fired"] is None
    assert heavy["error"] == "no field 'weight_g'"
    assert heavy["values"]["order.weight_g"] == "<missing>"


def test_json_report_holds_decisions_and_rules(book, order):
    report = json.loads(explain_report(order, book, fmt="json"))
    assert report["decisions"]["review"]["approved"] is False
    assert [hold["code"] for hold in report["decisions"]["review"]["holds"]] == ["amount_over_limit"]
    assert report["decisions"]["routing"]["chosen"] == "WH-HZ"
    assert report["decisions"]["carrier"] == "ZTO"
    assert report["decisions"]["wave"]["strategy"] == "single_unit"
    assert report["decisions"]["wave"]["wave_limits"] == {"orders": 1000, "units": 1000}
    assert len(report["rules"]) == len(explain(order, book))


def test_text_report_reads_as_a_summary_then_each_rule(book, order):
    text = explain_report(order, book)
    lines = text.splitlines()
    assert lines[0] == "review:   held: amount_over_limit"
    assert lines[1].startswith("routing:  WH-SZ, WH-HZ -> WH-HZ (route south;")
    assert lines[2] == "carrier:  ZTO"
    assert lines[3] == "wave:     single_unit (单品单件)"
    assert "          order.paid_fen = 720000" in lines
    assert any(line.startswith("[fired  ] review   amount_over_limit") for line in lines)
    assert any(line.startswith("[DECIDED] routing  south") for line in lines)
