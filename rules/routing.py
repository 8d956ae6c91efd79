"""Warehouse routing (分仓) from routing.yaml: an ordered list of candidate warehouses by the
order's destination, what to do when no warehouse can fill the whole order, and which lines
must ship apart (bulky, cold chain)."""

from dataclasses import dataclass, field

from .expression import Scope, compile_condition
from .order import as_order_context
from .problems import EvaluationError
from .ruleset import RuleSet, default_entry, mark_first_match

POLICIES = ("split", "backorder")
MAIN_GROUP = "main"


@dataclass(frozen=True)
class Route:
    name: str
    condition: object
    warehouses: tuple


@dataclass(frozen=True)
class SeparateRule:
    condition: object
    group: str


@dataclass(frozen=True)
class LineGroup:
    """Lines that ship together; `main` holds every line no `separate` rule took."""

    name: str
    lines: tuple


@dataclass(frozen=True)
class RoutingDecision:
    warehouses: tuple          # candidates, best first
    chosen: str | None         # first candidate able to fill the whole order, else None
    policy: str                # split | backorder: what to do when `chosen` is None
    groups: tuple              # LineGroup, main first
    route: str = "default"     # name of the route that gave the candidates
    errors: tuple = field(default=())


_ABSENT = object()  # a field the line does not have (not the same as one holding null)
GROUPS_KEPT = 4096  # sets of line values whose group is kept (then forgotten, and kept again)


class RoutingRules(RuleSet):
    kind = "routing"
    required = ("routes", "default", "policy")
    optional = ("separate", "merge")

    def __init__(self, file, version, params, routes, default, policy, separate, merge=None):
        super().__init__(file, version, params)
        self.routes = tuple(routes)
        self.default = tuple(default)
        self.policy = policy
        self.separate = tuple(separate)
        self.merge = merge  # condition an order must meet to be merged automatically (合单), or None
        # separate rules that read only the line are evaluated on a context of the line alone,
        # given only the fields they name (converting a field costs about 2 µs)
        self.lines_alone = all("order" not in rule.condition.variables for rule in self.separate)
        paths = [ref.split(".") for rule in self.separate for ref in rule.condition.references]
        named = [path for path in paths if path[0] == "line"]
        self.line_fields = None if any(len(path) == 1 for path in named) else frozenset(path[1] for path in named)
        # a line's group depends only on those fields then: each set of their values is decided once
        self._key_fields = tuple(sorted(self.line_fields)) if self.lines_alone and self.line_fields is not None else None
        self._group_of: dict = {}

    @classmethod
    def read(cls, source, items, params, version):
        scope = Scope(params)
        routes = []
        for index, node in enumerate(source.sequence(items.get("routes"), "routes") or ()):
            where = f"routes[{index}]"
            fields = source.mapping(node, where, required=("when", "warehouses"), optional=("name",))
            if fields is None:
                continue
            name = source.string(fields["name"], f"{where}.name") if "name" in fields else where
            condition = compile_condition(source, fields.get("when"), f"{where}.when", scope)
            warehouses = source.strings(fields.get("warehouses"), f"{where}.warehouses")
            if None not in (name, condition, warehouses):
                routes.append(Route(name, condition, tuple(warehouses)))
        default = source.strings(items.get("default"), "default")
        policy = source.choice(items.get("policy"), "policy", POLICIES)
        separate = cls._read_separate(source, items.get("separate"), params)
        merge = None
        if items.get("merge") is not None:
            fields = source.mapping(items["merge"], "merge", required=("when",))
            if fields is not None:
                merge = compile_condition(source, fields.get("when"), "merge.when", scope)
        return cls(source.file, version, params, routes, default or (), policy, separate, merge)

    @staticmethod
    def _read_separate(source, node, params):
        scope = Scope(params, line=True)
        rules = []
        for index, item in enumerate(source.sequence(node, "separate", allow_empty=True) or ()):
            where = f"separate[{index}]"
            fields = source.mapping(item, where, required=("when", "group"))
            if fields is None:
                continue
            condition = compile_condition(source, fields.get("when"), f"{where}.when", scope)
            group = source.string(fields.get("group"), f"{where}.group")
            if group == MAIN_GROUP:
                source.report(fields["group"], f"{where}.group",
                              f"'{MAIN_GROUP}' is the group of lines no rule separates")
                group = None
            if condition is not None and group is not None:
                rules.append(SeparateRule(condition, group))
        return rules

    def may_merge(self, order) -> bool:
        """Whether this order may be merged with others of its buyer without a person (合单)."""
        if self.merge is None:
            return False
        try:
            return bool(self.merge.evaluate(as_order_context(order).bind(self.params)))
        except EvaluationError:
            return False

    def candidates(self, order_context, errors):
        context = order_context.bind(self.params)
        for route in self.routes:
            try:
                if route.condition.evaluate(context):
                    return route.name, route.warehouses
            except EvaluationError as error:
                errors.append(str(error))
        return "default", self.default

    def groups(self, order_context, errors):
        grouped = {MAIN_GROUP: []}
        for line in order_context.order.get("lines", ()):
            grouped.setdefault(self._group(order_context, line, errors), []).append(line)
        return tuple(LineGroup(name, tuple(lines)) for name, lines in grouped.items() if lines)

    def _group(self, order_context, line, errors) -> str:
        """The line's group. When the rules read only the line's named fields, the group (and any
        error) of each set of their values is kept: an import of 100,000 lines has a handful of
        them, and a line's context costs more than its rules."""
        key = None
        if self._key_fields is not None:
            key = tuple((type(value), value) for value in (line.get(f, _ABSENT) for f in self._key_fields))
            try:
                known = self._group_of.get(key)
            except TypeError:  # a value that cannot be a key (a list): decided each time
                key = known = None
            if known is not None:
                errors.extend(known[1])
                return known[0]
        found = []
        context = order_context.bind_line(self.params, line, self.lines_alone, self.line_fields)
        name = MAIN_GROUP
        for rule in self.separate:
            try:
                if rule.condition.evaluate(context):
                    name = rule.group
                    break
            except EvaluationError as error:
                found.append(str(error))
        if key is not None:
            if len(self._group_of) >= GROUPS_KEPT:
                self._group_of.clear()
            self._group_of[key] = (name, tuple(found))
        errors.extend(found)
        return name

    def route(self, order):
        order_context = as_order_context(order)
        errors = []
        route_name, warehouses = self.candidates(order_context, errors)
        able = set(order_context.order.get("warehouses_with_stock", ()))
        chosen = next((code for code in warehouses if code in able), None)
        return RoutingDecision(
            warehouses=warehouses,
            chosen=chosen,
            policy=self.policy,
            groups=self.groups(order_context, errors),
            route=route_name,
            errors=tuple(errors),
        )

    def explain(self, order_context):
        entries = [self._entry(route.name, route.condition, order_context,
                               "warehouses " + ", ".join(route.warehouses))
                   for route in self.routes]
        entries = mark_first_match(
            entries, default_entry(self, "warehouses " + ", ".join(self.default)))
        for number, line in enumerate(order_context.order.get("lines", ())):
            decided = False
            for index, rule in enumerate(self.separate):
                entry = self._entry(f"separate[{index}] line {number + 1}", rule.condition,
                                    order_context, f"group {rule.group}", line=line)
                entry["values"]["line.sku"] = line.get("sku")
                entry["decided"] = bool(entry["fired"]) and not decided
                decided = decided or entry["decided"]
                entries.append(entry)
        return entries
