"""Carrier choice from carriers.yaml: the first rule that matches names the carrier, otherwise
the default carrier."""

from dataclasses import dataclass

from .expression import Scope, compile_condition
from .order import as_order_context
from .problems import EvaluationError
from .ruleset import RuleSet, default_entry, mark_first_match


@dataclass(frozen=True)
class CarrierRule:
    name: str
    condition: object
    carrier: str


class CarrierRules(RuleSet):
    kind = "carriers"
    required = ("rules", "default")

    def __init__(self, file, version, params, rules, default):
        super().__init__(file, version, params)
        self.rules = tuple(rules)
        self.default = default

    @classmethod
    def read(cls, source, items, params, version):
        scope = Scope(params)
        rules = []
        for index, node in enumerate(source.sequence(items.get("rules"), "rules", allow_empty=True) or ()):
            where = f"rules[{index}]"
            fields = source.mapping(node, where, required=("when", "carrier"), optional=("name",))
            if fields is None:
                continue
            name = source.string(fields["name"], f"{where}.name") if "name" in fields else where
            condition = compile_condition(source, fields.get("when"), f"{where}.when", scope)
            carrier = source.string(fields.get("carrier"), f"{where}.carrier")
            if None not in (name, condition, carrier):
                rules.append(CarrierRule(name, condition, carrier))
        default = source.string(items.get("default"), "default")
        return cls(source.file, version, params, rules, default)

    def carrier_rule(self, order):
        """The rule that decides the carrier, or None for the default. A rule that cannot be
        evaluated on this order is passed over (`explain` shows why)."""
        context = as_order_context(order).bind(self.params)
        for rule in self.rules:
            try:
                if rule.condition.evaluate(context):
                    return rule
            except EvaluationError:
                continue
        return None

    def choose_carrier(self, order):
        rule = self.carrier_rule(order)
        return rule.carrier if rule else self.default

    def explain(self, order_context):
        entries = [self._entry(rule.name, rule.condition, order_context, f"carrier {rule.carrier}")
                   for rule in self.rules]
        return mark_first_match(entries, default_entry(self, f"carrier {self.default}"))
