"""审单: each default hold rule holds the orders it is meant for; a clean order is approved."""

import copy

import pytest

import rules
from rules import RuleBook


@pytest.fixture(scope="module")
def book():
    return RuleBook()


def clean_order(**changes):
    order = {
        "channel": "tmall", "shop": "flagship", "external_id": "3921877410023",
        "status": "WAIT_SELLER_SEND_GOODS", "buyer_nick": "tb_buyer", "buyer_message": "",
        "seller_memo": "", "seller_flag": 0,
        "receiver": {"name": "李四", "phone": "13900139000", "province": "浙江省", "city": "杭州市",
                     "district": "西湖区", "address": "文三路90号", "zip": "310000"},
        "goods_fen": 5900, "freight_fen": 0, "discount_fen": 0, "paid_fen": 5900,
        "units": 1, "sku_count": 1, "presale": False, "presale_final_paid": False,
        "refund_pending": False, "forbid_consign": False, "unknown_skus": [], "weight_g": 400,
        "tags": [], "blacklisted": False,
        "lines": [{"sku": "TEE-M", "qty": 1, "paid_fen": 5900, "refund_status": "",
                   "bulky": False, "cold_chain": False}],
        "warehouses_with_stock": ["WH-HZ", "WH-SZ"],
    }
    for key, value in changes.items():
        if isinstance(value, dict):
            order[key] = {**order[key], **value}
        else:
            order[key] = value
    return order


def test_clean_order_is_approved(book):
    result = book.review.review(clean_order())
    assert result.approved is True
    assert result.holds == ()


@pytest.mark.parametrize("changes, code", [
    ({"buyer_message": "请帮忙换成黑色"}, "buyer_message"),
    ({"seller_flag": 1}, "seller_flag_or_memo"),
    ({"seller_memo": "赠送试用装"}, "seller_flag_or_memo"),
    ({"refund_pending": True}, "refund_pending"),
    ({"forbid_consign": True}, "forbid_consign"),
    ({"status": "PAID_FORBID_CONSIGN"}, "forbid_consign"),
    ({"presale": True, "presale_final_paid": False}, "presale_unpaid"),
    ({"unknown_skus": ["TMALL-55812"]}, "unknown_sku"),
    ({"receiver": {"address": ""}}, "incomplete_address"),
    ({"receiver": {"phone": ""}}, "incomplete_address"),
    ({"receiver": {"province": ""}}, "incomplete_address"),
    ({"paid_fen": 500001}, "amount_over_limit"),
    ({"blacklisted": True}, "blacklist"),
])
def test_each_default_rule_holds_its_orders(book, changes, code):
    result = book.review.review(clean_order(**changes))
    assert result.approved is False
    assert result.codes == [code]
    [hold] = result.holds
    assert hold.name_zh and hold.name_en
    assert hold.expression


def test_no_district_and_paid_presale_and_limit_exactly_are_approved(book):
    order = clean_order(receiver={"city": "东莞市", "district": ""}, presale=True,
                        presale_final_paid=True, paid_fen=500000)
    assert book.review.review(order).approved is True


def test_all_matching_rules_are_reported_in_file_order(book):
    order = clean_order(buyer_message="发顺丰", blacklisted=True, unknown_skus=["X"], paid_fen=900000)
    result = book.review.review(order)
    assert result.codes == ["buyer_message", "unknown_sku", "amount_over_limit", "blacklist"]
    by_code = {hold.code: hold for hold in result.holds}
    assert by_code["unknown_sku"].name_zh == "商品未匹配"
    assert by_code["amount_over_limit"].reason == \
        "order.paid_fen=900000, params.max_auto_approve_fen=500000"
    assert by_code["buyer_message"].expression == 'order.buyer_message != ""'


def test_an_order_missing_a_field_is_held_not_approved(book):
    order = clean_order()
    del order["blacklisted"]
    result = book.review.review(order)
    assert result.codes == ["blacklist"]
    assert "could not be evaluated" in result.holds[0].reason
    assert "blacklisted" in result.holds[0].reason


def test_disabled_rule_does_not_hold(tmp_path):
    (tmp_path / "review.yaml").write_text(
        "kind: review\n"
        "rules:\n"
        "  - {code: memo, name: {zh: 备注, en: Memo}, when: 'order.seller_memo != \"\"',"
        " action: hold, enabled: false}\n",
        encoding="utf-8")
    review = RuleBook(tmp_path).review
    assert review.review(clean_order(seller_memo="x")).approved is True


def test_module_functions_use_the_shipped_rules():
    assert rules.review(clean_order()).approved is True
    assert rules.review(clean_order(blacklisted=True)).codes == ["blacklist"]


def test_review_does_not_change_the_order(book):
    order = clean_order(buyer_message="留言")
    before = copy.deepcopy(order)
    book.review.review(order)
    assert order == before


def _hold_when(tmp_path, condition):
    (tmp_path / "review.yaml").write_text(
        "kind: review\n"
        f"rules:\n  - {{code: probe, name: {{zh: 探针, en: Probe}}, when: '{condition}', action: hold}}\n",
        encoding="utf-8")
    return RuleBook(tmp_path).review


@pytest.fixture
def names_from_now():
    """The conditions compiled from here on are the only ones a context knows of; afterwards
    every name counts again, so a rule book compiled meanwhile keeps its fields."""
    original, everything = rules.order._named, rules.order._named_all
    rules.order._named, rules.order._named_all = set(), False
    yield
    original |= rules.order._named
    rules.order._named, rules.order._named_all = original, everything or rules.order._named_all
    rules.order._generation += 1


def test_a_context_converts_only_the_fields_conditions_name(tmp_path, names_from_now):
    review = _hold_when(tmp_path, "order.freight_fen > 500 && order.receiver.city == \"杭州市\"")
    context = rules.OrderContext(clean_order(freight_fen=700))
    assert review.review(context).codes == ["probe"]
    converted = set(context.bind({}).variables["order"])
    assert {"freight_fen", "receiver"} <= converted  # the book's other files name more of them
    assert "lines" not in converted and converted == rules.order._named & set(clean_order())


def test_a_condition_compiled_later_sees_its_fields_in_a_context_made_before(tmp_path, names_from_now):
    first = _hold_when(tmp_path, "order.paid_fen > 100")
    context = rules.OrderContext(clean_order(freight_fen=700))
    assert first.review(context).codes == ["probe"]
    later = _hold_when(tmp_path, "order.freight_fen > 500")
    assert later.review(context).codes == ["probe"]


def test_a_condition_that_takes_the_whole_order_gets_every_field(tmp_path, names_from_now):
    review = _hold_when(tmp_path, "size(order) > 20")
    context = rules.OrderContext(clean_order())
    assert review.review(context).codes == ["probe"]
    assert set(context.bind({}).variables["order"]) == set(clean_order())
