"""Wavefloor rules: declarative YAML files with CEL conditions for review (审单), routing (分仓),
carriers and wave strategies."""

from .book import RuleBook
from .carriers import CarrierRules
from .engine import (choose_carrier, decide, default_book, explain, explain_report, review, route,
                     wave_strategy)
from .loader import check_dir, default_rules_dir, load_rules, parse_rules
from .order import EMPTY_ORDER, SAMPLE_ORDER, OrderContext
from .problems import EvaluationError, Problem, RuleError
from .review import FiredRule, ReviewResult, ReviewRules
from .routing import LineGroup, RoutingDecision, RoutingRules
from .waves import Limits, Strategy, WaveRules

__all__ = [
    "CarrierRules", "EMPTY_ORDER", "EvaluationError", "FiredRule", "Limits", "LineGroup",
    "OrderContext", "Problem", "ReviewResult", "ReviewRules", "RoutingDecision", "RoutingRules",
    "RuleBook", "RuleError", "SAMPLE_ORDER", "Strategy", "WaveRules", "check_dir", "choose_carrier",
    "decide", "default_book", "default_rules_dir", "explain", "explain_report", "load_rules",
    "parse_rules", "review", "route", "wave_strategy",
]
