"""Wave strategies (波次策略) from waves.yaml: which way an order is picked, the size limits of a
wave and of one pick task, and the order in which open orders go into waves."""

import re
from dataclasses import dataclass, fields as dataclass_fields

from .expression import Scope, compile_condition
from .order import as_order_context
from .problems import EvaluationError
from .ruleset import RuleSet, default_entry, mark_first_match

# Where the orders of a wave are told apart: at packing (single units: any unit fits any order),
# on the picking cart (cluster picking, one slot per order), or at the put wall (batch picking,
# then sorting, 播种).
SORT_AT = ("packing", "cart", "put_wall")
DIRECTIONS = ("asc", "desc")

# Priority keys and the order field each reads. The first three are times (datetime or ISO
# text, earliest first by default); the planner adds them to the order it sorts.
PRIORITY_KEYS = ("ship_by", "carrier_cutoff", "presale_ship_by", "seller_flag", "channel")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Limits:
    """Upper bounds; None means no bound. volume is in cubic centimetres."""

    orders: int | None = None
    lines: int | None = None
    units: int | None = None
    weight_g: int | None = None
    volume: int | None = None
    cart_slots: int | None = None


LIMIT_NAMES = tuple(item.name for item in dataclass_fields(Limits))


@dataclass(frozen=True)
class Strategy:
    name: str
    label_zh: str
    label_en: str
    condition: object
    sort_at: str
    wave: Limits
    task: Limits


@dataclass(frozen=True)
class PriorityKey:
    key: str
    direction: str = "asc"
    rank: tuple = ()


class _Descending:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __lt__(self, other):
        return other.value < self.value

    def __eq__(self, other):
        return self.value == other.value


class WaveRules(RuleSet):
    kind = "waves"
    required = ("strategies", "default")
    optional = ("priority",)

    def __init__(self, file, version, params, strategies, default, priority):
        super().__init__(file, version, params)
        self.strategies = tuple(strategies)
        self.default = default
        self.priority = tuple(priority)
        self._by_name = {strategy.name: strategy for strategy in self.strategies}

    @classmethod
    def read(cls, source, items, params, version):
        scope = Scope(params)
        strategies = []
        names = set()
        for index, node in enumerate(source.sequence(items.get("strategies"), "strategies") or ()):
            strategy = _read_strategy(source, node, f"strategies[{index}]", scope)
            if strategy is None:
                continue
            if strategy.name in names:
                source.report(node, f"strategies[{index}].name", f"'{strategy.name}' is defined twice")
                continue
            names.add(strategy.name)
            strategies.append(strategy)
        default = source.string(items.get("default"), "default")
        if default is not None and names and default not in names:
            source.report(items["default"], "default",
                          f"no strategy named '{default}' (known: {', '.join(sorted(names))})")
        priority = [key for key in (
            _read_priority(source, node, f"priority[{index}]")
            for index, node in enumerate(source.sequence(items.get("priority"), "priority",
                                                         allow_empty=True) or ())
        ) if key is not None]
        return cls(source.file, version, params, strategies, default, priority)

    def strategy_for(self, order):
        """The first strategy whose condition holds for the order, else the default one."""
        context = as_order_context(order).bind(self.params)
        for strategy in self.strategies:
            try:
                if strategy.condition.evaluate(context):
                    return strategy
            except EvaluationError:
                continue
        return self._by_name[self.default]

    def wave_strategy(self, order):
        return self.strategy_for(order).name

    def limits(self, name):
        """(wave limits, task limits) of the named strategy."""
        strategy = self._by_name[name]
        return strategy.wave, strategy.task

    def priority_key(self, order):
        """A sort key: orders that sort first go into waves first. Missing values sort last."""
        key = []
        for item in self.priority:
            value = order.get(item.key)
            if item.rank:
                position = item.rank.index(value) if value in item.rank else len(item.rank)
                key.append((0, position))
            elif value is None or value == "":
                key.append((1, 0))
            else:
                key.append((0, _Descending(value) if item.direction == "desc" else value))
        return tuple(key)

    def explain(self, order_context):
        entries = [self._entry(strategy.name, strategy.condition, order_context,
                               f"strategy {strategy.name} ({strategy.label_zh})")
                   for strategy in self.strategies]
        return mark_first_match(entries, default_entry(self, f"strategy {self.default}"))


def _read_strategy(source, node, where, scope):
    fields = source.mapping(node, where, required=("name", "label", "when", "sort_at"),
                            optional=("limits",))
    if fields is None:
        return None
    name = source.string(fields.get("name"), f"{where}.name")
    if name is not None and not _NAME.match(name):
        source.report(fields["name"], f"{where}.name", "must be lower-case letters, digits and _")
        name = None
    label_zh, label_en = source.label(fields.get("label"), f"{where}.label", ("zh", "en"))
    condition = compile_condition(source, fields.get("when"), f"{where}.when", scope)
    sort_at = source.choice(fields.get("sort_at"), f"{where}.sort_at", SORT_AT)
    wave, task = Limits(), Limits()
    if "limits" in fields:
        levels = source.mapping(fields["limits"], f"{where}.limits", optional=("wave", "task")) or {}
        wave = _read_limits(source, levels.get("wave"), f"{where}.limits.wave")
        task = _read_limits(source, levels.get("task"), f"{where}.limits.task")
    if None in (name, label_zh, condition, sort_at, wave, task):
        return None
    return Strategy(name, label_zh, label_en, condition, sort_at, wave, task)


def _read_limits(source, node, where):
    if node is None:
        return Limits()
    items = source.mapping(node, where, optional=LIMIT_NAMES)
    if items is None:
        return None
    values = {name: source.integer(item, f"{where}.{name}", minimum=1) for name, item in items.items()}
    return None if None in values.values() else Limits(**values)


def _read_priority(source, node, where):
    fields = source.mapping(node, where, required=("key",), optional=("direction", "rank"))
    if fields is None:
        return None
    key = source.choice(fields.get("key"), f"{where}.key", PRIORITY_KEYS)
    direction = (source.choice(fields["direction"], f"{where}.direction", DIRECTIONS)
                 if "direction" in fields else "asc")
    rank = ()
    if "rank" in fields:
        rank = source.value(fields["rank"])
        if not isinstance(rank, list) or not rank:
            source.report(fields["rank"], f"{where}.rank", "must be a non-empty list of values, best first")
            return None
        if "direction" in fields:
            source.report(fields["direction"], f"{where}.direction", "give either direction or rank, not both")
            return None
    if key is None or direction is None:
        return None
    return PriorityKey(key, direction, tuple(rank))
