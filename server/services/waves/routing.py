"""Walking routes for pickers (拣货路径): the order in which to visit a pick list's locations.

A tour starts and ends at the depot and walks along aisles and cross aisles only. For a layout
of one block (a front and a back cross aisle) the route is exact: the Ratliff–Rosenthal dynamic
programme sweeps the aisles left to right over seven equivalence classes of partial tour
subgraphs, and the visiting order is read off an Euler tour of the optimal subgraph. For several
blocks the route comes from Held–Karp when the list is short and from an iterated 2-opt/Or-opt
local search otherwise. S-shape and largest gap, the policies pickers follow without a system,
are here to measure the others against.

A code listed twice in a pick list is one stop: it is visited once and appears once in the
sequence, where it first appeared in the list. Locations at the same spot are visited together,
in pick-list order.

The sweep lives in `aisle_sweep`, the several-block search in `tour_search`; this module
prepares the layout, picks the method and walks the classic policies. Everything here is a pure
function of a `LayoutSpec` and codes; per-layout data is computed once per layout object and
kept while the layout lives.
"""
from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from pathlib import Path

from server.layoutspec import LayoutSpec, load_layout
from server.services.waves.aisle_sweep import ratliff_rosenthal
from server.services.waves.tour_search import held_karp, local_search

METHODS = ("auto", "exact", "ratliff-rosenthal", "held-karp", "local-search", "s-shape",
           "largest-gap")
#: Distinct stops up to which `auto` solves several-block routes exactly (Held–Karp), and the
#: most that `held-karp` or `exact` accept (its time doubles with every stop).
HELD_KARP_MAX_STOPS = 8
HELD_KARP_LIMIT = 12


@dataclass
class Route:
    """Codes in visit order, the walk's length in metres and the method that made it."""

    sequence: list[str]
    distance_m: float
    method: str

    def as_dict(self, digits: int = 3) -> dict:
        return {"sequence": list(self.sequence), "distance_m": round(self.distance_m, digits),
                "method": self.method}


class RoutingError(ValueError):
    """A route cannot be made from this input."""

    code = "routing_error"


class UnknownLocationError(RoutingError):
    """Codes in a pick list that the layout does not know; `codes` lists them all."""

    code = "unknown_location"

    def __init__(self, codes, context: str = ""):
        self.codes = list(codes)
        prefix = f"{context}: " if context else ""
        super().__init__(f"{prefix}unknown location codes: {', '.join(self.codes)}")


# --- the layout, prepared once ----------------------------------------------------------------

class _Plan:
    """What routing needs from a layout, in the shape it needs it."""

    def __init__(self, layout: LayoutSpec):
        self.length = float(layout.aisle_length)
        self.width = float(layout.aisle_width)
        self.blocks = layout.blocks
        self.cross = layout.cross_aisles
        self.depot = (layout.depot_aisle, float(layout.depot_y))
        self.spots = {code: (spec.aisle, float(spec.y)) for code, spec in layout.locations.items()}

    def distance(self, p, q) -> float:
        """Shortest walk between two spots: along an aisle, or out through the best cross aisle."""
        (a1, y1), (a2, y2) = p, q
        if a1 == a2:
            return abs(y1 - y2)
        across = abs(a1 - a2) * self.width
        if self.blocks == 1:
            return across + min(y1 + y2, 2 * self.length - y1 - y2)
        return across + min(abs(y1 - c) + abs(y2 - c) for c in self.cross)

    def single_block_distance(self, p, q) -> float:
        """The walk using only the front and back cross aisles (what S-shape pickers do)."""
        (a1, y1), (a2, y2) = p, q
        if a1 == a2:
            return abs(y1 - y2)
        return abs(a1 - a2) * self.width + min(y1 + y2, 2 * self.length - y1 - y2)


_plans: dict[int, tuple[weakref.ref, _Plan]] = {}


def _plan_for(layout: LayoutSpec) -> _Plan:
    key = id(layout)
    entry = _plans.get(key)
    if entry is not None and entry[0]() is layout:
        return entry[1]
    plan = _Plan(layout)

    def forget(ref, key=key):
        if _plans.get(key, (None,))[0] is ref:
            del _plans[key]

    _plans[key] = (weakref.ref(layout, forget), plan)
    return plan


# --- public surface -----------------------------------------------------------------------------

def route(layout: LayoutSpec, codes, method: str = "auto") -> Route:
    """The walking route through `codes`, from the depot and back.

    `method`: ``auto`` (exact for one block, Held–Karp or local search for several),
    ``exact``, ``ratliff-rosenthal``, ``held-karp``, ``local-search``, ``s-shape`` or
    ``largest-gap``.
    """
    if method not in METHODS:
        raise RoutingError(f"unknown routing method {method!r} (one of {', '.join(METHODS)})")
    plan = _plan_for(layout)
    stops = _stops(plan, codes)
    if method in ("s-shape", "largest-gap"):
        return _policy_route(plan, stops, method)
    if method == "auto" or method == "exact":
        if plan.blocks == 1:
            method = "ratliff-rosenthal"
        elif len(stops) <= HELD_KARP_MAX_STOPS or method == "exact":
            method = "held-karp"
        else:
            method = "local-search"
    if method == "ratliff-rosenthal" and plan.blocks != 1:
        raise RoutingError(f"ratliff-rosenthal needs a layout of one block, not {plan.blocks}")
    if method == "held-karp" and len(stops) > HELD_KARP_LIMIT:
        raise RoutingError(f"held-karp is limited to {HELD_KARP_LIMIT} stops on several blocks, "
                           f"this list has {len(stops)}")
    solve = {"ratliff-rosenthal": ratliff_rosenthal, "held-karp": held_karp,
             "local-search": local_search}[method]
    order, distance = solve(plan, stops) if _away(plan, stops) else ([], 0.0)
    return Route(_sequence(plan, stops, order), distance, method)


def distance(layout: LayoutSpec, codes) -> float:
    """The metres of :func:`route` (``auto``) through `codes`, without building the visit order
    where the method allows it: wave planning compares thousands of candidate batches by their
    walks, and on one block putting the stops in order took as long as finding the walk."""
    plan = _plan_for(layout)
    stops = _stops(plan, codes)
    if plan.blocks != 1:
        return route(layout, codes).distance_m
    return ratliff_rosenthal(plan, stops, order=False)[1] if _away(plan, stops) else 0.0


def s_shape(layout: LayoutSpec, codes) -> Route:
    """S-shape (traversal): walk through every aisle with a pick, snaking left to right; with an
    odd number of such aisles the last one is entered and left from the front. With several
    blocks the middle cross aisles are not used (a valid, longer walk)."""
    return route(layout, codes, "s-shape")


def largest_gap(layout: LayoutSpec, codes) -> Route:
    """Largest gap: traverse the leftmost and rightmost pick aisles; enter every other aisle from
    the back and from the front up to its largest gap between stops. With several blocks the
    middle cross aisles are not used (a valid, longer walk)."""
    return route(layout, codes, "largest-gap")


def route_many(layout: LayoutSpec, pick_lists, method: str = "auto") -> list[Route]:
    """One route per pick list."""
    return [route(layout, codes, method) for codes in pick_lists]


def route_command(layout_path, picks_path, method: str = "auto") -> dict | list[dict]:
    """`wavefloor route --layout L --picks P`: P holds a JSON list of location codes (one route)
    or a list of such lists (one route each)."""
    layout = load_layout(layout_path)
    source = str(picks_path)
    try:
        picks = json.loads(Path(picks_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RoutingError(f"{source}: cannot read the file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise RoutingError(f"{source}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(picks, list):
        raise RoutingError(f"{source}: must be a list of location codes or a list of such lists")
    if picks and all(isinstance(item, list) for item in picks):
        lists, single = picks, False
    else:
        lists, single = [picks], True
    results = []
    for index, codes in enumerate(lists):
        where = source if single else f"{source}: list {index}"
        bad = [repr(code) for code in codes if not isinstance(code, str)]
        if bad:
            raise RoutingError(f"{where}: location codes must be text, not {', '.join(bad)}")
        try:
            results.append(route(layout, codes, method).as_dict())
        except UnknownLocationError as exc:
            raise UnknownLocationError(exc.codes, where) from None
    return results[0] if single else results


# --- stops and sequences ----------------------------------------------------------------------

def _stops(plan, codes):
    """Distinct spots of the pick list (depot excluded), each with its codes in list order."""
    stops: dict[tuple, list[str]] = {}
    seen = set()
    unknown = []
    for code in codes:
        if code in seen:
            continue
        seen.add(code)
        spot = plan.spots.get(code)
        if spot is None:
            unknown.append(code)
            continue
        stops.setdefault(spot, []).append(code)
    if unknown:
        raise UnknownLocationError(unknown)
    return stops


def _away(plan, stops):
    return any(spot != plan.depot for spot in stops)


def _sequence(plan, stops, order):
    """Codes in visit order; codes at the depot's own spot are picked on the way out."""
    sequence = list(stops.get(plan.depot, ()))
    for spot in order:
        if spot != plan.depot:
            sequence.extend(stops[spot])
    return sequence


# --- classic policies ---------------------------------------------------------------------------

def _policy_route(plan, stops, method):
    by_aisle: dict[int, list[float]] = {}
    for aisle, y in stops:
        if (aisle, y) != plan.depot:
            by_aisle.setdefault(aisle, []).append(y)
    for ys in by_aisle.values():
        ys.sort()
    walk = (_s_shape_walk if method == "s-shape" else _largest_gap_walk)(plan, by_aisle)
    points = [plan.depot, *walk, plan.depot]
    distance = sum(plan.single_block_distance(p, q) for p, q in zip(points, points[1:]))
    order, seen = [], set()
    for spot in walk:
        if spot in stops and spot not in seen:
            seen.add(spot)
            order.append(spot)
    return Route(_sequence(plan, stops, order), distance, method)


def _s_shape_walk(plan, by_aisle):
    front, back = 0.0, plan.length
    walk = []
    aisles = sorted(by_aisle)
    for number, aisle in enumerate(aisles):
        ys = by_aisle[aisle]
        if number % 2:
            walk += [(aisle, back), *((aisle, y) for y in reversed(ys)), (aisle, front)]
        elif number == len(aisles) - 1:
            walk += [(aisle, front), *((aisle, y) for y in ys), (aisle, front)]
        else:
            walk += [(aisle, front), *((aisle, y) for y in ys), (aisle, back)]
    return walk


def _largest_gap_walk(plan, by_aisle):
    front, back = 0.0, plan.length
    aisles = sorted(by_aisle)
    if not aisles:
        return []
    if len(aisles) == 1:
        aisle = aisles[0]
        return [(aisle, front), *((aisle, y) for y in by_aisle[aisle]), (aisle, front)]
    left, right, middle = aisles[0], aisles[-1], aisles[1:-1]
    halves = {aisle: _split_at_largest_gap(by_aisle[aisle], back) for aisle in middle}
    walk = [(left, front), *((left, y) for y in by_aisle[left]), (left, back)]
    for aisle in middle:
        far = halves[aisle][1]
        if far:
            walk += [(aisle, back), *((aisle, y) for y in reversed(far)), (aisle, back)]
    walk += [(right, back), *((right, y) for y in reversed(by_aisle[right])), (right, front)]
    for aisle in reversed(middle):
        near = halves[aisle][0]
        if near:
            walk += [(aisle, front), *((aisle, y) for y in near), (aisle, front)]
    return walk


def _split_at_largest_gap(ys, length):
    """Stops reached from the front and from the back, split at the widest gap in the aisle."""
    edges = [0.0, *ys, length]
    gaps = [edges[i + 1] - edges[i] for i in range(len(edges) - 1)]
    widest = gaps.index(max(gaps))
    return ys[:widest], ys[widest:]
