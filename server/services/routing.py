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

Everything here is a pure function of a `LayoutSpec` and codes; per-layout data is computed
once per layout object and kept while the layout lives.
"""
from __future__ import annotations

import json
import random
import weakref
from dataclasses import dataclass
from pathlib import Path

from server.layoutspec import LayoutSpec, load_layout

METHODS = ("auto", "exact", "ratliff-rosenthal", "held-karp", "local-search", "s-shape",
           "largest-gap")
#: Distinct stops up to which `auto` solves several-block routes exactly (Held–Karp), and the
#: most that `held-karp` or `exact` accept (its time doubles with every stop).
HELD_KARP_MAX_STOPS = 8
HELD_KARP_LIMIT = 12

_INF = float("inf")
_EPS = 1e-9


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
    solve = {"ratliff-rosenthal": _ratliff_rosenthal, "held-karp": _held_karp,
             "local-search": _local_search}[method]
    order, distance = solve(plan, stops) if _away(plan, stops) else ([], 0.0)
    return Route(_sequence(plan, stops, order), distance, method)


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


# --- one block: Ratliff–Rosenthal ---------------------------------------------------------------
#
# A partial tour subgraph left of aisle j is summarised by the degree of the aisle's front
# vertex a_j and back vertex b_j (0, odd or even) and by how its pieces are connected: one piece,
# two pieces (one at a_j, one at b_j), nothing yet, or one finished piece. Only seven of these
# classes occur. The transition tables below are derived by applying each way of covering an
# aisle, and each way of linking neighbouring aisles, to each class.

_ZERO, _ODD, _EVEN = 0, 1, 2

# the ways to cover one aisle: (edges added at a_j, edges added at b_j, joins a_j and b_j)
_NONE, _FULL, _DOUBLE, _FROM_FRONT, _FROM_BACK, _GAP = range(6)
_COVER = {_NONE: (0, 0, False), _FULL: (1, 1, True), _DOUBLE: (2, 2, True),
          _FROM_FRONT: (2, 0, False), _FROM_BACK: (0, 2, False), _GAP: (2, 2, False)}
_LINKS = [(x, y) for x in range(3) for y in range(3)]


def _add_degree(degree, edges):
    if edges == 0:
        return degree
    odd = (degree == _ODD) != (edges % 2 == 1)
    return _ODD if odd else _EVEN


def _covered(state, cover):
    """Class after covering aisle j; None if a piece could never join the rest."""
    da, db, same, finished = state
    va, vb, joins = _COVER[cover]
    if finished and (va or vb):
        return None
    na, nb = _add_degree(da, va), _add_degree(db, vb)
    if na and nb:
        same = True if joins else (bool(same) if da and db else False)
    else:
        same = None
    return na, nb, same, finished


def _linked(state, x, y):
    """Class at aisle j+1 after x copies of a_j-a_j+1 and y of b_j-b_j+1, with whether a_j and
    b_j end up in the tour; None if a vertex is left with odd degree or a piece is cut off."""
    da, db, same, finished = state
    if (da == _ODD) != (x % 2 == 1) or (db == _ODD) != (y % 2 == 1):
        return None
    visited = (bool(da or x), bool(db or y))
    if finished:
        return ((0, 0, None, True), visited) if not (x or y) else None
    piece_a = "a" if da else None
    piece_b = ("a" if same else "b") if db else None
    next_a = (piece_a or "new a") if x else None
    next_b = (piece_b or "new b") if y else None
    frontier = {next_a, next_b} - {None}
    cut_off = {piece_a, piece_b} - {None} - frontier
    if cut_off:
        if frontier or len(cut_off) > 1:
            return None
        return (0, 0, None, True), visited
    same = (next_a == next_b) if (x and y) else None
    return (_add_degree(0, x), _add_degree(0, y), same, False), visited


def _derive_classes():
    """The classes reachable from the empty graph, and the cover and link tables between them."""
    start = (0, 0, None, False)
    classes = [start]
    index = {start: 0}
    queue = [start]
    while queue:
        state = queue.pop()
        targets = [_covered(state, cover) for cover in _COVER]
        targets += [result[0] for result in (_linked(state, x, y) for x, y in _LINKS) if result]
        for target in targets:
            if target is not None and target not in index:
                index[target] = len(classes)
                classes.append(target)
                queue.append(target)
    cover = [[index[t] if (t := _covered(state, c)) is not None else -1 for c in _COVER]
             for state in classes]
    link = []
    for state in classes:
        moves = []
        for x, y in _LINKS:
            result = _linked(state, x, y)
            if result is not None:
                (target, (seen_a, seen_b)) = result
                moves.append((index[target], x, y, seen_a, seen_b))
        link.append(moves)
    # a complete tour: no odd vertex, one piece, and something walked
    done = [da != _ODD and db != _ODD and same is not False and bool(da or db or finished)
            for da, db, same, finished in classes]
    return classes, cover, link, done


_CLASSES, _COVER_TABLE, _LINK_TABLE, _TOUR_DONE = _derive_classes()
_START = 0


def _aisle_covers(inner, length):
    """(cover, metres) for an aisle whose stops strictly inside it are `inner`, ascending."""
    covers = [(_FULL, length), (_DOUBLE, 2 * length)]
    if not inner:
        covers.append((_NONE, 0.0))
        return covers
    covers.append((_FROM_FRONT, 2 * inner[-1]))
    covers.append((_FROM_BACK, 2 * (length - inner[0])))
    if len(inner) > 1:
        gap = max(b - a for a, b in zip(inner, inner[1:]))
        covers.append((_GAP, 2 * (length - gap)))
    return covers


def _ratliff_rosenthal(plan, stops):
    length, width = plan.length, plan.width
    spots = set(stops) | {plan.depot}
    inner: dict[int, list[float]] = {}
    front, back = set(), set()
    for aisle, y in spots:
        if y <= 0.0:
            front.add(aisle)
        elif y >= length:
            back.add(aisle)
        else:
            inner.setdefault(aisle, []).append(y)
    first = min(aisle for aisle, _ in spots)
    last = max(aisle for aisle, _ in spots)
    if first == last:
        return _along_one_aisle(plan, stops)
    n = len(_CLASSES)
    cost = [_INF] * n
    cost[_START] = 0.0
    steps = []  # per stage: the best (previous class, choice) for each class
    covers_by_aisle = {}
    for aisle in range(first, last + 1):
        if aisle > first:
            need_a, need_b = aisle - 1 in front, aisle - 1 in back
            new, came = [_INF] * n, [None] * n
            for state in range(n):
                here = cost[state]
                if here == _INF:
                    continue
                for target, x, y, seen_a, seen_b in _LINK_TABLE[state]:
                    if (need_a and not seen_a) or (need_b and not seen_b):
                        continue
                    total = here + (x + y) * width
                    if total < new[target]:
                        new[target], came[target] = total, (state, (x, y))
            cost = new
            steps.append(came)
        ys = sorted(inner.get(aisle, ()))
        covers = covers_by_aisle[aisle] = (ys, _aisle_covers(ys, length))
        new, came = [_INF] * n, [None] * n
        for state in range(n):
            here = cost[state]
            if here == _INF:
                continue
            row = _COVER_TABLE[state]
            for cover, metres in covers[1]:
                target = row[cover]
                if target >= 0 and here + metres < new[target]:
                    new[target], came[target] = here + metres, (state, cover)
        cost = new
        steps.append(came)
    best, best_state = _INF, None
    for state in range(n):
        da, db = _CLASSES[state][:2]
        if (_TOUR_DONE[state] and cost[state] < best and (last not in front or da)
                and (last not in back or db)):
            best, best_state = cost[state], state
    if best_state is None:
        raise RoutingError("no tour found")  # cannot happen for a valid layout
    edges = _optimal_edges(plan, steps, best_state, first, last, covers_by_aisle)
    return _euler_order(edges, plan.depot, stops), best


def _along_one_aisle(plan, stops):
    """Every stop in the depot's aisle: down to the nearest end of the stops, then up to the far
    one (the only case where the best tour may not reach a cross aisle)."""
    depot_y = plan.depot[1]
    below = sorted((spot for spot in stops if spot[1] < depot_y), reverse=True)
    above = sorted(spot for spot in stops if spot[1] >= depot_y)
    ys = [depot_y, *(y for _, y in stops)]
    return below + above, 2 * (max(ys) - min(ys))


def _optimal_edges(plan, steps, state, first, last, covers_by_aisle):
    """Walk the stages back from the best final class and list the tour's edges."""
    edges = []
    length = plan.length
    stage = len(steps) - 1
    for aisle in range(last, first - 1, -1):
        state, cover = steps[stage][state]
        stage -= 1
        edges.extend(_aisle_edges(aisle, covers_by_aisle[aisle][0], cover, length))
        if aisle > first:
            state, (x, y) = steps[stage][state]
            stage -= 1
            edges.extend([((aisle - 1, 0.0), (aisle, 0.0))] * x)
            edges.extend([((aisle - 1, length), (aisle, length))] * y)
    return edges


def _aisle_edges(aisle, inner, cover, length):
    stops = [0.0, *inner, length]
    segments = [((aisle, a), (aisle, b)) for a, b in zip(stops, stops[1:])]
    if cover == _NONE:
        copies = [0] * len(segments)
    elif cover == _FULL:
        copies = [1] * len(segments)
    elif cover == _DOUBLE:
        copies = [2] * len(segments)
    elif cover == _FROM_FRONT:
        copies = [2] * (len(segments) - 1) + [0]
    elif cover == _FROM_BACK:
        copies = [0] + [2] * (len(segments) - 1)
    else:
        gaps = [b - a for a, b in zip(inner, inner[1:])]
        widest = gaps.index(max(gaps)) + 1
        copies = [0 if i == widest else 2 for i in range(len(segments))]
    return [segment for segment, count in zip(segments, copies) for _ in range(count)]


def _euler_order(edges, depot, stops):
    """Stops in the order an Euler tour of `edges` from the depot first reaches them."""
    around: dict[tuple, list] = {}
    for number, (p, q) in enumerate(edges):
        around.setdefault(p, []).append((q, number))
        around.setdefault(q, []).append((p, number))
    used = [False] * len(edges)
    next_edge = dict.fromkeys(around, 0)
    stack, circuit = [depot], []
    while stack:
        spot = stack[-1]
        links, i = around.get(spot, ()), next_edge.get(spot, 0)
        while i < len(links) and used[links[i][1]]:
            i += 1
        next_edge[spot] = i
        if i == len(links):
            circuit.append(stack.pop())
        else:
            used[links[i][1]] = True
            stack.append(links[i][0])
    order, seen = [], set()
    for spot in reversed(circuit):
        if spot in stops and spot not in seen:
            seen.add(spot)
            order.append(spot)
    return order


# --- several blocks: Held–Karp and local search -------------------------------------------------

def _matrix(plan, spots):
    points = [plan.depot, *spots]
    distance = plan.distance
    return [[distance(p, q) for q in points] for p in points]


def _held_karp(plan, stops):
    spots = [spot for spot in stops if spot != plan.depot]
    matrix = _matrix(plan, spots)
    count = len(spots)
    if count == 0:
        return [], 0.0
    size = 1 << count
    cost = [[_INF] * count for _ in range(size)]
    came = [[-1] * count for _ in range(size)]
    for k in range(count):
        cost[1 << k][k] = matrix[0][k + 1]
    for mask in range(1, size):
        row = cost[mask]
        for last in range(count):
            here = row[last]
            if here == _INF:
                continue
            leg = matrix[last + 1]
            for nxt in range(count):
                bit = 1 << nxt
                if mask & bit:
                    continue
                total = here + leg[nxt + 1]
                if total < cost[mask | bit][nxt]:
                    cost[mask | bit][nxt] = total
                    came[mask | bit][nxt] = last
    full = size - 1
    best, last = min((cost[full][k] + matrix[k + 1][0], k) for k in range(count))
    order, mask = [], full
    while last >= 0:
        order.append(spots[last])
        mask, last = mask ^ (1 << last), came[mask][last]
    order.reverse()
    return order, best


def _local_search(plan, stops, kicks=None):
    """Starts: the exact one-block tour that ignores the middle cross aisles, nearest neighbour,
    and aisle by aisle; each improved by 2-opt and Or-opt. The best is then perturbed (double
    bridge) and improved again `kicks` times, keeping any shorter tour."""
    spots = [spot for spot in stops if spot != plan.depot]
    if not spots:
        return [], 0.0
    matrix = _matrix(plan, spots)
    count = len(spots) + 1
    number = {spot: i for i, spot in enumerate(spots, 1)}
    one_block = [0, *(number[spot] for spot in _ratliff_rosenthal(plan, stops)[0]
                      if spot != plan.depot)]
    starts = [one_block, _nearest_neighbour(matrix), _snake(plan, spots)]
    best = min((_improve(matrix, tour) for tour in starts), key=lambda tour: _length(matrix, tour))
    best_length = _length(matrix, best)
    rng = random.Random(count)
    if kicks is None:
        kicks = min(100, 3 * count) if count > 7 else 0
    for _ in range(kicks):
        tour, cut = _double_bridge(best, rng)
        tour = _improve(matrix, tour, cut)
        length = _length(matrix, tour)
        if length < best_length + _EPS:  # equal tours too: moving sideways escapes plateaus
            best, best_length = tour, length
    return [spots[i - 1] for i in best[1:]], best_length


def _length(matrix, tour):
    return sum(matrix[a][b] for a, b in zip(tour, tour[1:])) + matrix[tour[-1]][tour[0]]


def _nearest_neighbour(matrix):
    tour, left = [0], set(range(1, len(matrix)))
    while left:
        here = matrix[tour[-1]]
        nxt = min(left, key=lambda k: (here[k], k))
        tour.append(nxt)
        left.remove(nxt)
    return tour


def _snake(plan, spots):
    """Aisle by aisle left to right, up one aisle and down the next."""
    def key(i):
        aisle, y = spots[i - 1]
        return aisle, y if aisle % 2 == 0 else -y
    return [0, *sorted(range(1, len(spots) + 1), key=key)]


def _double_bridge(tour, rng):
    """Cut the tour in four and rejoin the pieces in another order; also the stops at the cuts."""
    n = len(tour)
    if n < 8:
        return list(tour), set()
    i, j, k = sorted(rng.sample(range(2, n - 1), 3))
    cut = {tour[i - 1], tour[i], tour[j - 1], tour[j], tour[k - 1], tour[k]}
    return tour[:i] + tour[j:k] + tour[i:j] + tour[k:], cut


def _improve(matrix, tour, active=None):
    """2-opt and Or-opt moves around each active stop until none shortens the tour; a stop
    becomes active again when a move changes one of its edges. The depot stays first."""
    tour = list(tour)
    waiting = set(tour if active is None else active)
    while waiting:
        stop = waiting.pop()
        touched = _two_opt_at(matrix, tour, stop) or _or_opt_at(matrix, tour, stop)
        if touched:
            waiting.update(touched)
    return tour


def _two_opt_at(matrix, tour, stop):
    """Reverse a stretch so that one of `stop`'s two edges is replaced, if that is shorter."""
    n = len(tour)
    i = tour.index(stop)
    for p in ((i - 1) % n, i):
        a, b = tour[p], tour[(p + 1) % n]
        row_a, row_b = matrix[a], matrix[b]
        ab = row_a[b]
        for k in range(n):
            c, d = tour[k], tour[(k + 1) % n]
            if c in (a, b) or d in (a, b):
                continue
            if row_a[c] + row_b[d] - ab - matrix[c][d] < -_EPS:
                low, high = (p, k) if p < k else (k, p)
                tour[low + 1:high + 1] = tour[low + 1:high + 1][::-1]
                return {a, b, c, d}
    return None


def _or_opt_at(matrix, tour, stop):
    """Move a run of one to three stops that holds `stop` between two other neighbours,
    either way round, if that is shorter."""
    n = len(tour)
    i = tour.index(stop)
    for run in (1, 2, 3):
        if n - run < 3:
            break
        for first in range(max(1, i - run + 1), min(i, n - run) + 1):
            last = first + run - 1
            before, after = tour[first - 1], tour[(last + 1) % n]
            head, tail = tour[first], tour[last]
            to_head, to_tail = matrix[head], matrix[tail]
            limit = to_head[before] + to_tail[after] - matrix[before][after] - _EPS
            where, flip = None, False
            for j in range(n):
                if first - 1 <= j <= last:
                    continue  # the run's own edges and the two beside it
                p, q = tour[j], tour[(j + 1) % n]
                pq = matrix[p][q]
                extra = to_head[p] + to_tail[q] - pq
                if extra < limit:
                    limit, where, flip = extra, j, False
                extra = to_tail[p] + to_head[q] - pq
                if extra < limit:
                    limit, where, flip = extra, j, True
            if where is None:
                continue
            p, q = tour[where], tour[(where + 1) % n]
            run_stops = tour[first:last + 1]
            if flip:
                run_stops.reverse()
            rest = tour[:first] + tour[last + 1:]
            k = rest.index(p) + 1
            tour[:] = rest[:k] + run_stops + rest[k:]
            return {before, after, head, tail, p, q}
    return None


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
