"""A rule file's params are written into its compiled conditions as constants, so that evaluating
the file does not add them to the order's context (which would convert the whole order again);
the decisions are the same as with params read from the context."""

import cel
import pytest

from rules import load_rules
from rules.expression import cel_literal
from rules.order import OrderContext, SAMPLE_LINE, SAMPLE_ORDER


def rule_file(tmp_path, name, head, sections):
    """``head``: the file's first lines; ``sections``: {field: its lines}, each indented under it."""
    text = head + "".join(f"{field}:\n" + "".join(f"  {line}\n" for line in lines)
                          for field, lines in sections.items())
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


def carriers(tmp_path, params, rules):
    return rule_file(tmp_path, "carriers.yaml", "kind: carriers\ndefault: ZTO\n", {"params": params, "rules": rules})


def order(**changes):
    return {**SAMPLE_ORDER, "buyer_message": "", "tags": [], "weight_g": 100,
            "receiver": dict(SAMPLE_ORDER["receiver"], province="广东省"), **changes}


@pytest.mark.parametrize("value", [
    0, -7, 9223372036854775807, 1.5, -0.25, 1e-05, 1e+20, True, False, None, "",
    '引号" 反斜杠\\ 换行\n 制表\t 控制\x01 末尾', ["a", 1, 2.5, False, None, ["x"]], [],
])
def test_a_constant_written_as_cel_reads_back_as_the_same_value(value):
    assert cel.evaluate(cel_literal(value)) == value


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 2 ** 63, -2 ** 63, [1, 2 ** 70], {1: "a"}, object()])
def test_a_constant_cel_has_no_literal_for_is_left_to_the_context(value):
    assert cel_literal(value) is None


def test_params_are_written_in_and_the_order_context_never_holds_them(tmp_path):
    ruleset = carriers(tmp_path, [
        "heavy_g: 20000",
        'remote: ["新疆维吾尔自治区", "西藏自治区"]',
        """note: '说 "顺丰" \\ 吧'""",
    ], [
        "- {name: note, when: 'order.buyer_message == params.note', carrier: SF}",
        "- {name: heavy, when: 'order.weight_g > params . heavy_g', carrier: DEPPON}",
        "- {name: remote, when: 'order.receiver.province in params.remote && size(params.remote) == 2', carrier: EMS}",
        """- {name: map, when: '"heavy_g" in params && params["heavy_g"] == 20000 && order.weight_g == 1', carrier: JD}""",
    ])
    assert ruleset.params.needed is False
    assert all("params" not in rule.condition.variables for rule in ruleset.rules)
    assert ruleset.choose_carrier(order()) == "ZTO"
    assert ruleset.choose_carrier(order(buyer_message='说 "顺丰" \\ 吧')) == "SF"
    assert ruleset.choose_carrier(order(weight_g=20001)) == "DEPPON"
    assert ruleset.choose_carrier(order(receiver=dict(SAMPLE_ORDER["receiver"], province="西藏自治区"))) == "EMS"
    assert ruleset.choose_carrier(order(weight_g=1)) == "JD"
    context = OrderContext(order())
    ruleset.choose_carrier(context)
    assert "params" not in context.bind(ruleset.params).variables
    # the rule as written is what people see
    assert [rule.condition.source for rule in ruleset.rules][1] == "order.weight_g > params . heavy_g"


def test_a_condition_that_cannot_have_them_written_in_reads_them_from_the_context(tmp_path):
    ruleset = carriers(tmp_path, ["heavy_g: .inf", "light_g: 10"], [
        "- {name: has, when: 'has(params.light_g) && order.weight_g < params.light_g', carrier: SF}",
        "- {name: heavy, when: 'order.weight_g > params.heavy_g', carrier: DEPPON}",
    ])
    assert ruleset.params.needed is True
    assert ruleset.choose_carrier(order(weight_g=5)) == "SF"
    assert ruleset.choose_carrier(order(weight_g=10 ** 9)) == "ZTO"
    context = OrderContext(order())
    assert context.bind(ruleset.params).variables["params"] == {"heavy_g": float("inf"), "light_g": 10}


def test_line_rules_read_a_context_of_the_line_alone_unless_they_name_the_order(tmp_path):
    def routing(separate):
        return rule_file(tmp_path, "routing.yaml", "kind: routing\nparams: {big: 2}\nroutes: [{name: all, when: 'true', warehouses: [WH-HZ]}]\n"
                         "default: [WH-HZ]\npolicy: split\n", {"separate": separate})

    lines = [dict(SAMPLE_LINE, sku="A", qty=1, bulky=False, cold_chain=False),
             dict(SAMPLE_LINE, sku="B", qty=3, bulky=False, cold_chain=False),
             dict(SAMPLE_LINE, sku="C", qty=1, bulky=True, cold_chain=False)]
    alone = routing(["- {when: 'line.bulky', group: bulky}",
                     "- {when: 'line.qty > params.big', group: many}"])
    assert (alone.lines_alone, alone.line_fields) == (True, frozenset({"bulky", "qty"}))
    with_order = routing(["- {when: 'line.qty > params.big && order.units > 2', group: many}",
                          "- {when: 'line.bulky', group: bulky}"])
    assert with_order.lines_alone is False
    for ruleset in (alone, with_order):
        groups = ruleset.route(order(lines=lines, units=5)).groups
        assert {group.name: [line["sku"] for line in group.lines] for group in groups} == \
            {"main": ["A"], "many": ["B"], "bulky": ["C"]}
