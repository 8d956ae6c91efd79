"""The rules engine's public face: decisions for one order from a RuleBook, and `explain`."""

import json
import threading

from .book import RuleBook
from .order import as_order_context

_default_book = None
_default_lock = threading.Lock()


def default_book():
    """A RuleBook over the rule files shipped with Wavefloor (created on first use)."""
    global _default_book
    with _default_lock:
        if _default_book is None:
            _default_book = RuleBook()
        return _default_book


def review(order, book=None):
    """审单: ReviewResult(approved, holds) for an order dict or OrderContext."""
    return (book or default_book()).review.review(order)


def route(order, book=None):
    """分仓: RoutingDecision(warehouses, chosen, policy, groups)."""
    return (book or default_book()).routing.route(order)


def choose_carrier(order, book=None):
    """The carrier code for the order."""
    return (book or default_book()).carriers.choose_carrier(order)


def wave_strategy(order, book=None):
    """The name of the wave strategy the order is picked with."""
    return (book or default_book()).waves.wave_strategy(order)


def decide(order, book=None):
    """Every decision the rules make for the order, as plain data."""
    book = book or default_book()
    order_context = as_order_context(order)
    result = book.review.review(order_context)
    routing = book.routing.route(order_context)
    strategy = book.waves.strategy_for(order_context)
    wave_limits, task_limits = book.waves.limits(strategy.name)
    return {
        "review": {"approved": result.approved,
                   "holds": [{"code": hold.code, "name": {"zh": hold.name_zh, "en": hold.name_en},
                              "reason": hold.reason} for hold in result.holds]},
        "routing": {"route": routing.route, "warehouses": list(routing.warehouses),
                    "chosen": routing.chosen, "policy": routing.policy,
                    "groups": {group.name: [line.get("sku") for line in group.lines]
                               for group in routing.groups},
                    "errors": list(routing.errors)},
        "carrier": book.carriers.choose_carrier(order_context),
        "wave": {"strategy": strategy.name, "label": {"zh": strategy.label_zh, "en": strategy.label_en},
                 "sort_at": strategy.sort_at,
                 "wave_limits": _limits_dict(wave_limits), "task_limits": _limits_dict(task_limits)},
    }


def _limits_dict(limits):
    return {name: value for name, value in vars(limits).items() if value is not None}


def explain(order, book=None):
    """Every rule of every file: whether it fired for the order, its expression, and the values
    of the fields it mentions. Rows are dicts with kind, file, line, rule, expression, fired
    (True, False, or None when the rule could not be evaluated), error, outcome, values and,
    for first-match files, decided."""
    book = book or default_book()
    order_context = as_order_context(order)
    entries = []
    for ruleset in (book.review, book.routing, book.carriers, book.waves):
        entries.extend(ruleset.explain(order_context))
    return entries


def explain_report(order, book=None, fmt="text"):
    """`wavefloor rules explain ORDER` output: JSON ({decisions, rules}) or text."""
    decisions = decide(order, book)
    entries = explain(order, book)
    if fmt == "json":
        return json.dumps({"decisions": decisions, "rules": entries}, ensure_ascii=False,
                          indent=2, default=str)
    return _as_text(decisions, entries)


def _mark(entry):
    if entry["error"]:
        return "ERROR"
    if entry.get("decided"):
        return "DECIDED"
    return {True: "fired", False: "-", None: ""}[entry["fired"]]


def _as_text(decisions, entries):
    held = decisions["review"]["holds"]
    routing = decisions["routing"]
    lines = [
        "review:   " + ("approved" if not held else "held: " + ", ".join(hold["code"] for hold in held)),
        f"routing:  {', '.join(routing['warehouses'])} -> {routing['chosen'] or 'none can fill: ' + routing['policy']}"
        f" (route {routing['route']}; groups {', '.join(routing['groups']) or '-'})",
        f"carrier:  {decisions['carrier']}",
        f"wave:     {decisions['wave']['strategy']} ({decisions['wave']['label']['zh']})",
        "",
    ]
    for entry in entries:
        where = f"{entry['file']}:{entry['line']}" if entry["line"] else entry["file"]
        lines.append(f"[{_mark(entry):7}] {entry['kind']:8} {entry['rule']}  -> {entry['outcome']}  ({where})")
        if entry["expression"]:
            lines.append(f"          when: {' '.join(entry['expression'].split())}")
        for path, value in entry["values"].items():
            lines.append(f"          {path} = {json.dumps(value, ensure_ascii=False, default=str)}")
        if entry["error"]:
            lines.append(f"          error: {entry['error']}")
    return "\n".join(lines) + "\n"
