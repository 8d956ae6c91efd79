"""What every rule file has: a kind, an optional version, named constants (`params`)."""

import re

from .expression import Params, reference_values
from .problems import EvaluationError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RuleSet:
    """Base of the four rule files. Subclasses name their own top-level fields and read them."""

    kind = ""
    required = ()
    optional = ()

    def __init__(self, file, version, params):
        self.file = file
        self.version = version
        self.params = params

    @classmethod
    def read(cls, source, items, params, version):
        raise NotImplementedError

    def explain(self, order_context):
        raise NotImplementedError

    def _entry(self, rule, condition, order_context, outcome, line=None):
        """One explain row: did `condition` fire for the order, and on which values."""
        context = order_context.bind(self.params, line)
        variables = {"order": order_context.order, "params": self.params}
        if line is not None:
            variables["line"] = line
        entry = {
            "kind": self.kind,
            "file": self.file,
            "line": condition.line,
            "rule": rule,
            "expression": condition.source,
            "fired": None,
            "error": None,
            "outcome": outcome,
            "values": reference_values(condition, variables),
        }
        try:
            entry["fired"] = condition.evaluate(context)
        except EvaluationError as error:
            entry["error"] = error.message
        return entry


def read_params(source, node):
    """`params:` maps names to constants (numbers, texts, true/false or lists of them)."""
    params = Params()
    if node is None:
        return params
    items = source.mapping(node, "params", any_key=True)
    for name, value_node in (items or {}).items():
        if not _NAME.match(str(name)):
            source.report(value_node, f"params.{name}", "a parameter name must be letters, digits and _")
            continue
        value = source.value(value_node)
        if value is None or isinstance(value, dict):
            source.report(value_node, f"params.{name}", "must be a number, a text, true/false or a list")
            continue
        params[name] = value
    return params



def mark_first_match(entries, default_entry):
    """For first-match files: flag the rule that decided, or the default when none fired."""
    for entry in entries:
        entry["decided"] = False
    decided = next((entry for entry in entries if entry["fired"]), None)
    if decided is None:
        decided = default_entry
    decided["decided"] = True
    default_entry.setdefault("decided", False)
    default_entry["fired"] = default_entry["decided"]
    return entries + [default_entry]


def default_entry(ruleset, outcome):
    return {
        "kind": ruleset.kind,
        "file": ruleset.file,
        "line": None,
        "rule": "default",
        "expression": None,
        "fired": None,
        "error": None,
        "outcome": outcome,
        "values": {},
    }
