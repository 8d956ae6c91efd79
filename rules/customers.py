"""Customer tags (客户标签): tag rules from customers.yaml. A customer carries every tag whose
rule matches; the rules see `customer` (the fields in SAMPLE_CUSTOMER) and the file's `params`.

The same file's params also set the RFM bins, the live-stream window and the repurchase
reminders (read by server/services/customers). See docs/customers.md."""

from dataclasses import dataclass

import cel

from .expression import compile_condition
from .problems import EvaluationError
from .ruleset import RuleSet

# Every field the server puts in a customer's context, each with a non-empty value, so that a
# rule naming a field that does not exist fails when the file is checked.
SAMPLE_CUSTOMER = {
    "channel": "tmall",
    "shop": "flagship",
    "province": "广东省",
    "orders": 6,
    "units": 14,
    "spent_fen": 268000,
    "avg_order_fen": 44666,
    "coupon_orders": 4,
    "coupon_share": 0.67,
    "live_orders": 3,
    "live_share": 0.5,
    "recency_days": 12,
    "tenure_days": 400,
    "r_score": 5,
    "f_score": 4,
    "m_score": 5,
    "rfm": "545",
    "skus": ["NAPPY-M", "WIPES-80"],
    "has_phone": True,
    "opt_out": True,
}
EMPTY_CUSTOMER = {key: (False if isinstance(value, bool) else 0 if isinstance(value, int)
                        else 0.0 if isinstance(value, float) else "" if isinstance(value, str) else [])
                  for key, value in SAMPLE_CUSTOMER.items()}

# what the services read from params when the file does not say
DEFAULT_PARAMS = {
    "rfm_bins": 5,                 # RFM scores 1..bins, by quantile
    "impulse_minutes": 30,         # an order this long after a live stream ends still counts as live
    "reorder_min_intervals": 5,    # a SKU needs this many repurchase intervals for a model
    "reorder_lead_days": 2,        # remind this many days before the typical interval is up
    "reorder_grace_days": 7,       # and up to this many days after
}


class CustomerScope:
    """The variables a tag rule may use: `customer` and the file's `params`."""

    def __init__(self, params):
        self.roots = {"customer": SAMPLE_CUSTOMER, "params": params}
        self.samples = [cel.Context({"customer": sample, "params": params})
                        for sample in (SAMPLE_CUSTOMER, EMPTY_CUSTOMER)]


@dataclass(frozen=True)
class TagRule:
    code: str
    name_zh: str
    name_en: str
    condition: object
    enabled: bool = True


class CustomerRules(RuleSet):
    kind = "customers"
    required = ("tags",)

    def __init__(self, file, version, params, tags):
        super().__init__(file, version, params)
        self.tags = tuple(tags)

    @classmethod
    def read(cls, source, items, params, version):
        for name, default in DEFAULT_PARAMS.items():
            value, least = params.get(name, default), 0 if name == "reorder_lead_days" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                source.report(items.get("params") or source.root, f"params.{name}", f"must be a whole number ≥ {least}")
        scope = CustomerScope(params)
        tags, codes = [], set()
        for index, node in enumerate(source.sequence(items.get("tags"), "tags") or ()):
            field = f"tags[{index}]"
            fields = source.mapping(node, field, required=("code", "name", "when"), optional=("enabled",))
            if fields is None:
                continue
            code = source.string(fields.get("code"), f"{field}.code")
            if code is not None and (len(code) > 32 or "," in code):
                source.report(fields["code"], f"{field}.code", "a tag code is at most 32 characters, no comma")
            if code is not None and code in codes:
                source.report(fields["code"], f"{field}.code", f"code '{code}' is used by an earlier tag")
            codes.add(code)
            name_zh, name_en = source.label(fields.get("name"), f"{field}.name", ("zh", "en"))
            condition = compile_condition(source, fields.get("when"), f"{field}.when", scope)
            enabled = source.boolean(fields["enabled"], f"{field}.enabled") if "enabled" in fields else True
            if None not in (code, name_zh, condition, enabled):
                tags.append(TagRule(code, name_zh, name_en, condition, enabled))
        return cls(source.file, version, params, tags)

    def setting(self, name):
        return self.params.get(name, DEFAULT_PARAMS[name])

    def tag(self, customer):
        """The codes of the enabled tags whose rule matches the customer dict, in file order.
        A rule that cannot be evaluated for this customer does not tag it."""
        return self.tagger()(customer)

    def tagger(self):
        """``tag`` for many customers in turn: one CEL context for them all, given only the fields
        the rules name (converting a customer's every field cost more than the rules)."""
        named = {ref.split(".")[1] for rule in self.tags for ref in rule.condition.references
                 if ref.startswith("customer.")}
        whole = any(ref == "customer" for rule in self.tags for ref in rule.condition.references)
        context = cel.Context({"params": self.params})
        enabled = [rule for rule in self.tags if rule.enabled]

        def tag(customer):
            context.add_variable("customer", customer if whole else {k: customer[k] for k in named if k in customer})
            found = []
            for rule in enabled:
                try:
                    if rule.condition.evaluate(context):
                        found.append(rule.code)
                except EvaluationError:
                    continue
            return found
        return tag

    def explain(self, order_context):
        """Customer tags do not judge orders: nothing to explain for one."""
        return []
