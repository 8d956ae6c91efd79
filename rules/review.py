"""Order review (审单): hold rules from review.yaml. Every matching rule is reported; an order
that matches none is approved."""

import json
from dataclasses import dataclass

from .expression import Scope, compile_condition, reference_values
from .order import as_order_context
from .problems import EvaluationError
from .ruleset import RuleSet

ACTIONS = ("hold",)


@dataclass(frozen=True)
class HoldRule:
    code: str
    name_zh: str
    name_en: str
    condition: object
    action: str = "hold"
    enabled: bool = True


@dataclass(frozen=True)
class FiredRule:
    """A hold rule that matched the order; `reason` shows the values that made it match."""

    code: str
    name_zh: str
    name_en: str
    expression: str
    reason: str


@dataclass(frozen=True)
class ReviewResult:
    approved: bool
    holds: tuple

    @property
    def codes(self):
        return [hold.code for hold in self.holds]


def _reason(values):
    return ", ".join(f"{path}={json.dumps(value, ensure_ascii=False, default=str)}"
                     for path, value in values.items())


class ReviewRules(RuleSet):
    kind = "review"
    required = ("rules",)

    def __init__(self, file, version, params, rules):
        super().__init__(file, version, params)
        self.rules = tuple(rules)

    @classmethod
    def read(cls, source, items, params, version):
        scope = Scope(params)
        rules = []
        codes = set()
        for index, node in enumerate(source.sequence(items.get("rules"), "rules") or ()):
            field = f"rules[{index}]"
            fields = source.mapping(node, field, required=("code", "name", "when", "action"),
                                    optional=("enabled",))
            if fields is None:
                continue
            code = source.string(fields.get("code"), f"{field}.code")
            if code is not None and code in codes:
                source.report(fields["code"], f"{field}.code", f"code '{code}' is used by an earlier rule")
            codes.add(code)
            name_zh, name_en = source.label(fields.get("name"), f"{field}.name", ("zh", "en"))
            condition = compile_condition(source, fields.get("when"), f"{field}.when", scope)
            action = source.choice(fields.get("action"), f"{field}.action", ACTIONS)
            enabled = (source.boolean(fields["enabled"], f"{field}.enabled")
                       if "enabled" in fields else True)
            if None not in (code, name_zh, condition, action, enabled):
                rules.append(HoldRule(code, name_zh, name_en, condition, action, enabled))
        return cls(source.file, version, params, rules)

    def review(self, order):
        """Hold the order for every enabled rule that matches; a rule that cannot be evaluated
        on this order holds it too, so that nobody ships an order the rules could not judge."""
        order_context = as_order_context(order)
        context = order_context.bind(self.params)
        variables = {"order": order_context.order, "params": self.params}
        holds = []
        for rule in self.rules:
            if not rule.enabled:
                continue
            try:
                matched = rule.condition.evaluate(context)
                reason = _reason(reference_values(rule.condition, variables)) if matched else ""
            except EvaluationError as error:
                matched, reason = True, f"rule could not be evaluated: {error.message}"
            if matched:
                holds.append(FiredRule(rule.code, rule.name_zh, rule.name_en,
                                       rule.condition.source, reason))
        return ReviewResult(approved=not holds, holds=tuple(holds))

    def explain(self, order_context):
        entries = []
        for rule in self.rules:
            entry = self._entry(rule.code, rule.condition, order_context,
                                rule.action if rule.enabled else "disabled")
            entry["name"] = {"zh": rule.name_zh, "en": rule.name_en}
            entries.append(entry)
        return entries
