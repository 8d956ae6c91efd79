"""Rule files are validated at load: every problem of a file, with file, line and reason."""

import textwrap

import pytest

import rules
from rules import Problem, RuleError, check_dir, load_rules


def write(directory, name, text):
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(path):
    with pytest.raises(RuleError) as caught:
        load_rules(path)
    return caught.value.problems


def test_default_rule_files_are_valid_package_data():
    directory = rules.default_rules_dir()
    names = sorted(path.name for path in directory.glob("*.yaml"))
    assert names == ["carriers.yaml", "customers.yaml", "review.yaml", "routing.yaml", "waves.yaml"]  # customers: CRM tags
    assert check_dir(directory) == []
    assert load_rules(directory / "review.yaml").kind == "review"


def test_broken_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, "review.yaml", """
        kind: review
        rules:
          - code: a
            name: {zh: 甲, en: A
            when: 'true'
        """)
    [problem] = problems_of(path)
    assert problem.file == str(path)
    assert problem.line in (4, 5)
    assert problem.reason.startswith("YAML:")


def test_cel_syntax_error_points_at_the_file_line_of_the_expression(tmp_path):
    path = write(tmp_path, "review.yaml", """
        kind: review
        rules:
          - code: big
            name: {zh: 大额, en: Big}
            when: |
              order.paid_fen > 100 &&
                order.units = 2
            action: hold
        """)
    problems = problems_of(path)
    assert problems, "a syntax error must be reported"
    first = problems[0]
    assert (first.line, first.field) == (7, "rules[0].when")
    assert first.column == 21  # the lone '=' on that line
    assert first.reason.startswith("CEL syntax:")


def test_expression_ending_early_points_at_its_end(tmp_path):
    path = write(tmp_path, "review.yaml", """
        kind: review
        rules:
          - {code: a, name: {zh: 甲, en: A}, action: hold, when: 'order.units == 1 &&'}
        """)
    [problem] = problems_of(path)
    assert problem.line == 3
    assert problem.reason == "CEL syntax: the expression ends too early"


def test_unknown_action_missing_field_and_all_errors_of_a_file(tmp_path):
    path = write(tmp_path, "review.yaml", """
        kind: review
        rules:
          - code: a
            name: {zh: 甲, en: A}
            when: 'order.buyer_message != ""'
            action: freeze
          - code: b
            name: {zh: 乙, en: B}
            action: hold
          - code: c
            name: {zh: 丙}
            when: 'order.reciever.province == "广东省"'
            action: hold
          - code: a
            name: {zh: 丁, en: D}
            when: order.units
            action: hold
            colour: red
        """)
    found = {(problem.line, problem.field): problem.reason for problem in problems_of(path)}
    assert found == {
        (6, "rules[0].action"): "must be one of hold, not 'freeze'",
        (7, "rules[1]"): "missing field 'when'",
        (11, "rules[2].name"): "missing field 'en'",
        (12, "rules[2].when"): "unknown field 'order.reciever' (did you mean 'receiver'?)",
        (14, "rules[3].code"): "code 'a' is used by an earlier rule",
        (16, "rules[3].when"): "fails on a sample order: gave 3, not true or false",
        (18, "rules[3].colour"): "unknown field (expected one of: action, code, enabled, name, when)",
    }


def test_problem_prints_file_line_field_reason(tmp_path):
    path = write(tmp_path, "carriers.yaml", """
        kind: carriers
        rules:
          - when: 'order.weight_g > params.heavy'
            carrier: DEPPON
        """)
    error = pytest.raises(RuleError, load_rules, path).value
    lines = str(error).splitlines()
    assert lines == [
        f"{path}:1: (file): missing field 'default'",
        f"{path}:3: rules[0].when: unknown field 'params.heavy'",
    ]
    assert error.problems[1] == Problem(str(path), 3, 29, "rules[0].when", "unknown field 'params.heavy'")


def test_type_mismatch_is_caught_on_the_sample_order(tmp_path):
    path = write(tmp_path, "carriers.yaml", """
        kind: carriers
        rules:
          - when: 'order.receiver.province > 3'
            carrier: SF
          - when: 'order.units.count == 1'
            carrier: SF
          - when: 'order.lines.qty > 1'
            carrier: SF
        default: ZTO
        """)
    reasons = [problem.reason for problem in problems_of(path)]
    assert reasons[0].startswith("fails on a sample order: No such overload")
    assert reasons[1] == "'order.units' is a int and has no field 'count'"
    assert reasons[2].startswith("'order.lines' is a list and has no field 'qty'")


def test_unknown_variable_or_function(tmp_path):
    path = write(tmp_path, "review.yaml", """
        kind: review
        rules:
          - {code: a, name: {zh: 甲, en: A}, action: hold, when: 'line.bulky'}
          - {code: b, name: {zh: 乙, en: B}, action: hold, when: 'isBig(order.units)'}
        """)
    reasons = [problem.reason for problem in problems_of(path)]
    assert reasons == [
        "fails on a sample order: Undefined variable or function: 'line'",
        "fails on a sample order: Undefined variable or function: 'isBig'",
    ]


def test_kind_comes_from_the_file_name_or_a_kind_field(tmp_path):
    path = write(tmp_path, "site-carriers.yaml", """
        kind: carriers
        rules: []
        default: SF
        """)
    assert load_rules(path).choose_carrier(rules.SAMPLE_ORDER) == "SF"
    unnamed = write(tmp_path, "other.yaml", "rules: []\ndefault: SF\n")
    [problem] = problems_of(unnamed)
    assert problem.field == "kind"
    assert "cannot tell the kind" in problem.reason
    wrong = write(tmp_path, "third.yaml", "kind: parcels\n")
    assert problems_of(wrong)[0].reason == "must be one of review, routing, carriers, waves, customers, not 'parcels'"


def test_params_and_structure_errors(tmp_path):
    path = write(tmp_path, "routing.yaml", """
        kind: routing
        params:
          bad name: 1
        routes:
          - when: 'true'
            warehouses: []
        default: WH-SZ
        policy: wait
        separate:
          - when: 'line.bulky'
            group: main
        """)
    found = [(problem.line, problem.field) for problem in problems_of(path)]
    assert found == [(3, "params.bad name"), (6, "routes[0].warehouses"), (7, "default"),
                     (8, "policy"), (11, "separate[0].group")]


def test_check_dir_reports_every_file(tmp_path):
    write(tmp_path, "review.yaml", "kind: review\nrules: []\n")
    write(tmp_path, "carriers.yaml", "rules: [{when: 'order.weight_g >', carrier: SF}]\ndefault: ZTO\n")
    write(tmp_path, "notes.txt", "not a rule file")
    problems = check_dir(tmp_path)
    assert [(p.file.rsplit("/", 1)[-1], p.line, p.field) for p in problems] == [
        ("carriers.yaml", 1, "rules[0].when"),
        ("review.yaml", 2, "rules"),
    ]


def test_empty_file(tmp_path):
    path = write(tmp_path, "review.yaml", "# nothing yet\n")
    assert problems_of(path)[0].reason == "the file is empty"


def test_multi_line_plain_and_quoted_expressions_map_to_the_file_line(tmp_path):
    path = write(tmp_path, "carriers.yaml", """
        kind: carriers
        rules:
          - when: order.units == 1 &&
              order.units = 2
            carrier: SF
          - when: "order.receiver.province == \\"广东\\" &&
              order.units ="
            carrier: SF
        default: ZTO
        """)
    positions = [(problem.line, problem.column, problem.field) for problem in problems_of(path)]
    assert positions[0] == (4, 19, "rules[0].when")
    assert positions[-1] == (7, 19, "rules[1].when")
