"""Reading rule files: which kind a file is, parsing it with every problem reported, checking a
directory."""

from pathlib import Path

import yaml

from .carriers import CarrierRules
from .customers import CustomerRules
from .problems import Problem, RuleError
from .review import ReviewRules
from .routing import RoutingRules
from .ruleset import read_params
from .source import Source
from .waves import WaveRules

RULESETS = {ruleset.kind: ruleset for ruleset in (ReviewRules, RoutingRules, CarrierRules, WaveRules,
                                                  CustomerRules)}  # customers.yaml: customer tags (CRM)
KINDS = tuple(RULESETS)
# the files the RuleBook holds for the order flow; customers.yaml is read by the customer refresh
# (server/services/customers/tagrules.py), so that a mistake in a tag rule never stops the orders
ORDER_KINDS = ("review", "routing", "carriers", "waves")
SUFFIXES = (".yaml", ".yml")
COMMON_FIELDS = ("kind", "version", "params")


def default_rules_dir():
    """The rule files shipped with Wavefloor (package data beside this module)."""
    return Path(__file__).resolve().parent


def parse_rules(text, file, kind=None):
    """(RuleSet or None, problems) for the text of one rule file.

    The kind is the top-level `kind:` if there is one, else `kind` (usually the file name).
    """
    source = Source(file, text)
    if source.root is None:
        return None, source.problems
    if not isinstance(source.root, yaml.MappingNode):
        source.report(source.root, "(file)", "a rule file is a mapping of fields (kind, params, ...)")
        return None, source.problems
    kind_node = next((value for key, value in source.root.value if getattr(key, "value", None) == "kind"), None)
    if kind_node is not None:
        named_kind, kind = kind, source.choice(kind_node, "kind", KINDS)
        if kind is None:
            return None, source.problems
        if named_kind is not None and named_kind != kind:
            source.report(kind_node, "kind", f"the file name says {named_kind} rules but kind: says {kind}")
            return None, source.problems
    elif kind not in RULESETS:
        source.report(source.root, "kind",
                      f"cannot tell the kind of rule file: name it {', '.join(k + '.yaml' for k in KINDS)} "
                      "or add a top-level 'kind:'")
        return None, source.problems
    ruleset_class = RULESETS[kind]
    items = source.mapping(source.root, "", required=ruleset_class.required,
                           optional=COMMON_FIELDS + ruleset_class.optional)
    version = source.value(items["version"]) if "version" in items else None
    params = read_params(source, items.get("params"))
    ruleset = ruleset_class.read(source, items, params, None if version is None else str(version))
    if source.problems:
        return None, sorted(source.problems, key=lambda problem: (problem.line, problem.column))
    return ruleset, []


def _kind_from_name(path):
    return path.stem if path.stem in RULESETS else None


def load_rules(path):
    """The RuleSet in a file; RuleError listing every problem when the file is not valid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError([Problem(str(path), 1, 1, "", f"cannot read the file: {error}")]) from None
    ruleset, problems = parse_rules(text, str(path), _kind_from_name(path))
    if problems:
        raise RuleError(problems)
    return ruleset


def rule_files(directory):
    directory = Path(directory)
    return sorted(path for path in directory.iterdir() if path.suffix in SUFFIXES and path.is_file())


def check_dir(directory):
    """Every problem of every rule file in the directory (an empty list when all are valid)."""
    problems = []
    for path in rule_files(directory):
        try:
            load_rules(path)
        except RuleError as error:
            problems.extend(error.problems)
    return problems
