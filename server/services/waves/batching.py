"""Order batching (订单组批): which orders of a wave share one walk, so that pickers walk less.

An order is known here by the spots it needs (location codes) and by what it takes of a pick
task's limits. Orders that need exactly the same spots travel together (a "clump", cut to fit
one task). A seed construction fills one batch at a time from a cheap estimate of the walk
(which aisles, how deep, how far across). A local search then moves clumps to, and swaps them
with, the batches nearest to them and keeps a change only when the exact router says the walks
got shorter. Route lengths are cached per set of spots. The search stops after a number of new
routes proportional to the wave, so the same wave always gives the same batches, or at a time
limit, whichever comes first.

First-come-first-served batches of the same capacity are the baseline; the plan is never
longer in total (when the search cannot beat the baseline, the baseline is the plan).
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from server.layoutspec import LayoutSpec
from server.services.waves import routing

EPS = 1e-6
#: new routes the local search may compute per clump of the wave
ROUTES_PER_CLUMP = 2
#: how many of the nearest other batches a clump is tried against, and how many members of each
NEAR_BATCHES = 2
NEAR_MEMBERS = 1


@dataclass(frozen=True)
class Pick:
    """An order as batching sees it. ``line_keys`` are its pick lines when lines of several
    orders at one spot are picked as one (batch picking); ``rank`` 0 is the most urgent."""
    key: int
    rank: int
    spots: frozenset
    lines: int = 0
    units: int = 0
    weight_g: int = 0
    volume: int = 0
    line_keys: frozenset = frozenset()


class Capacity:
    """The limits of one task (or one wave): orders (or cart slots), pick lines, units, weight,
    volume. With ``aggregate``, lines are the distinct pick lines of all its orders."""

    def __init__(self, limits, aggregate: bool = False):
        bounds = [v for v in (limits.orders, limits.cart_slots) if v is not None]
        self.orders = min(bounds) if bounds else None
        self.lines, self.units = limits.lines, limits.units
        self.weight_g, self.volume = limits.weight_g, limits.volume
        self.aggregate = aggregate

    def allows(self, orders, lines, units, weight_g, volume) -> bool:
        return ((self.orders is None or orders <= self.orders) and (self.lines is None or lines <= self.lines)
                and (self.units is None or units <= self.units)
                and (self.weight_g is None or weight_g <= self.weight_g)
                and (self.volume is None or volume <= self.volume))


class Load:
    """What a group of orders takes of a capacity; orders can join and leave."""

    __slots__ = ("capacity", "orders", "lines", "units", "weight_g", "volume", "keys")

    def __init__(self, capacity: Capacity):
        self.capacity = capacity
        self.orders = self.lines = self.units = self.weight_g = self.volume = 0
        self.keys = Counter()

    def _lines_after(self, add, remove) -> int:
        if not self.capacity.aggregate:
            return self.lines + sum(p.lines for p in add) - sum(p.lines for p in remove)
        keys = Counter(self.keys)
        for p in remove:
            keys.subtract(p.line_keys)
        for p in add:
            keys.update(p.line_keys)
        return sum(1 for count in keys.values() if count > 0)

    def fits(self, add=(), remove=()) -> bool:
        return self.capacity.allows(
            self.orders + len(add) - len(remove), self._lines_after(add, remove),
            self.units + sum(p.units for p in add) - sum(p.units for p in remove),
            self.weight_g + sum(p.weight_g for p in add) - sum(p.weight_g for p in remove),
            self.volume + sum(p.volume for p in add) - sum(p.volume for p in remove))

    def change(self, add=(), remove=()) -> None:
        self.lines = self._lines_after(add, remove)
        for sign, picks in ((1, add), (-1, remove)):
            for p in picks:
                self.orders += sign
                self.units += sign * p.units
                self.weight_g += sign * p.weight_g
                self.volume += sign * p.volume
                (self.keys.update if sign > 0 else self.keys.subtract)(p.line_keys)
        self.keys = +self.keys


class Walker:
    """Metres walked to visit a set of spots: one tour per zone from the depot and back (a batch
    that spans zones is picked as one task per zone). Spots the layout does not place (no aisle)
    add nothing and are visited last."""

    def __init__(self, layout: LayoutSpec | None, zone_of: dict | None = None):
        usable = (layout is not None and layout.aisles and layout.aisle_length and layout.aisle_width
                  and layout.locations)
        self.layout = layout if usable else None
        self.zone_of = zone_of or {}
        self.position = ({code: (spec.aisle, spec.y) for code, spec in layout.locations.items()}
                         if usable else {})
        self.routed = 0
        self._legs: dict[frozenset, float] = {}
        self._metres: dict[frozenset, float] = {}

    def zones(self, spots) -> dict:
        """Placed spots by zone."""
        by_zone: dict = {}
        for code in spots:
            if code in self.position:
                by_zone.setdefault(self.zone_of.get(code), []).append(code)
        return by_zone

    def metres(self, spots: frozenset) -> float:
        known = self._metres.get(spots)
        if known is None:
            known = sum(self._leg(frozenset(codes)) for codes in self.zones(spots).values())
            self._metres[spots] = known
        return known

    def _leg(self, codes: frozenset) -> float:
        known = self._legs.get(codes)
        if known is None:
            self.routed += 1
            known = routing.distance(self.layout, sorted(codes))
            self._legs[codes] = known
        return known

    def tour(self, codes) -> tuple[list[str], float]:
        """Visit order and metres for one zone's codes; unplaced codes come last, by code."""
        placed = sorted({c for c in codes if c in self.position})
        rest = sorted({c for c in codes if c not in self.position})
        if not placed:
            return rest, 0.0
        found = routing.route(self.layout, placed)
        return found.sequence + rest, found.distance_m


class _Estimate:
    """A cheap stand-in for the route length, to rank candidates: twice the distance across to
    the farthest aisle plus, per aisle, the walk in and out (at most one traversal)."""

    def __init__(self, walker: Walker):
        layout = walker.layout
        self.width = layout.aisle_width if layout else 0.0
        self.length = layout.aisle_length if layout else 0.0
        self.depot = layout.depot_aisle if layout else 0
        self.position = walker.position

    def profile(self, spots) -> dict[int, float]:
        depth: dict[int, float] = {}
        for code in spots:
            where = self.position.get(code)
            if where is not None and where[1] > depth.get(where[0], -1.0):
                depth[where[0]] = where[1]
        return depth

    def span(self, profile: dict) -> tuple[int, int]:
        """The leftmost and rightmost aisle walked to, the depot's included."""
        if not profile:
            return self.depot, self.depot
        return min(self.depot, min(profile)), max(self.depot, max(profile))

    def added(self, base: dict, extra: dict, span: tuple[int, int]) -> float:
        """Estimated metres that ``extra`` adds to a walk through ``base`` (whose span is given)."""
        length, cost = self.length, 0.0
        lo, hi = span
        new_lo, new_hi = lo, hi
        for aisle, y in extra.items():
            now = base.get(aisle)
            if now is None:
                cost += min(2 * y, length)
            elif y > now:
                cost += min(2 * y, length) - min(2 * now, length)
            if aisle < new_lo:
                new_lo = aisle
            elif aisle > new_hi:
                new_hi = aisle
        return cost + 2 * self.width * ((new_hi - new_lo) - (hi - lo))


@dataclass(eq=False)
class _Clump:
    index: int
    picks: list
    spots: frozenset
    rank: int
    profile: dict = field(default_factory=dict)


def _picks(clump) -> list:
    return clump.picks if clump is not None else []


class _Batch:
    def __init__(self, capacity: Capacity):
        self.clumps: list[_Clump] = []
        self.load = Load(capacity)
        self.spot_count = Counter()
        self.profile: dict[int, float] = {}
        self.span = (0, 0)

    def fits(self, add=None, remove=None) -> bool:
        return self.load.fits(_picks(add), _picks(remove))

    def spots(self, add=None, remove=None) -> frozenset:
        count = Counter(self.spot_count)
        if remove is not None:
            count.subtract(remove.spots)
        if add is not None:
            count.update(add.spots)
        return frozenset(code for code, n in count.items() if n > 0)

    def change(self, estimate: _Estimate, add=None, remove=None) -> None:
        if remove is not None:
            self.clumps.remove(remove)
            self.spot_count.subtract(remove.spots)
            self.spot_count = +self.spot_count
        if add is not None:
            self.clumps.append(add)
            self.spot_count.update(add.spots)
        self.load.change(_picks(add), _picks(remove))
        self.profile = estimate.profile(self.spot_count)
        self.span = estimate.span(self.profile)


@dataclass
class Batching:
    """Batches of picks (each in rank order, most urgent batch first) with their metres, and the
    metres of the first-come-first-served batches of the same capacity."""
    batches: list[list[Pick]]
    metres: list[float]
    fcfs_metres: float
    fcfs_batches: int
    routed: int = 0

    @property
    def total_metres(self) -> float:
        return sum(self.metres)


def fcfs(picks: list[Pick], capacity: Capacity) -> list[list[Pick]]:
    """In rank order, each batch filled until the next order no longer fits."""
    batches, load = [], None
    for pick in sorted(picks, key=lambda p: p.rank):
        if load is None or not load.fits((pick,)):
            batches.append([])
            load = Load(capacity)
        batches[-1].append(pick)
        load.change((pick,))
    return batches


def plan(picks: list[Pick], capacity: Capacity, walker: Walker, *, routes_per_clump: int = ROUTES_PER_CLUMP,
         seconds: float = 5.0) -> Batching:
    """Batches of ``picks`` under ``capacity`` with short walks (see the module's docstring)."""
    deadline = time.perf_counter() + seconds
    baseline = fcfs(picks, capacity)
    baseline_metres = [walker.metres(frozenset().union(*(p.spots for p in batch))) for batch in baseline]
    estimate = _Estimate(walker)
    clumps = _clumps(picks, capacity, estimate)
    batches = _seed(clumps, capacity, estimate)
    budget = walker.routed + routes_per_clump * len(clumps)
    metres = _improve(batches, walker, estimate, budget, deadline)
    if sum(metres) > sum(baseline_metres) - EPS:
        chosen, chosen_metres = baseline, baseline_metres
    else:
        kept = [i for i, b in enumerate(batches) if b.clumps]
        chosen = [sorted((p for c in batches[i].clumps for p in c.picks), key=lambda p: p.rank) for i in kept]
        chosen_metres = [metres[i] for i in kept]
    order = sorted(range(len(chosen)), key=lambda i: chosen[i][0].rank)
    return Batching([chosen[i] for i in order], [chosen_metres[i] for i in order], sum(baseline_metres),
                    len(baseline), walker.routed)


def _clumps(picks, capacity, estimate) -> list[_Clump]:
    """Orders with the same spots, in rank order, cut into pieces that fit one task."""
    same: dict[frozenset, list[Pick]] = {}
    for pick in sorted(picks, key=lambda p: p.rank):
        same.setdefault(pick.spots, []).append(pick)
    clumps = []
    for spots, group in same.items():
        load, current = Load(capacity), []
        for pick in group:
            if current and not load.fits((pick,)):
                clumps.append(current)
                load, current = Load(capacity), []
            current.append(pick)
            load.change((pick,))
        clumps.append(current)
    return [_Clump(i, group, group[0].spots, group[0].rank, estimate.profile(group[0].spots))
            for i, group in enumerate(sorted(clumps, key=lambda g: g[0].rank))]


def _seed(clumps, capacity, estimate) -> list[_Batch]:
    """Seed construction: the clump farthest out starts a batch, which then takes the clump that
    adds least to its estimated walk, looking first at the aisles it already enters (and their
    neighbours), until nothing more fits."""
    empty = estimate.span({})
    alone = {c.index: estimate.added({}, c.profile, empty) for c in clumps}
    left = {c.index: c for c in clumps}
    by_aisle: dict[int, set[int]] = {}
    unplaced = set()
    for c in clumps:
        for aisle in c.profile:
            by_aisle.setdefault(aisle, set()).add(c.index)
        if not c.profile:
            unplaced.add(c.index)
    seeds = sorted(clumps, key=lambda c: (-alone[c.index], c.rank, c.index))
    batches = []
    for seed in seeds:
        if seed.index not in left:
            continue
        batch = _Batch(capacity)
        _take(batch, seed, left, by_aisle, unplaced, estimate)
        while left:
            near = set(unplaced)
            for aisle in batch.profile:
                for step in (-1, 0, 1):
                    near |= by_aisle.get(aisle + step, set())
            best = _best_addition(batch, near, left, estimate)
            if best is None and len(near) < len(left):
                best = _best_addition(batch, left.keys(), left, estimate)
            if best is None:
                break
            _take(batch, best, left, by_aisle, unplaced, estimate)
        batches.append(batch)
    return batches


def _take(batch, clump, left, by_aisle, unplaced, estimate) -> None:
    batch.change(estimate, add=clump)
    del left[clump.index]
    for aisle in clump.profile:
        by_aisle[aisle].discard(clump.index)
    unplaced.discard(clump.index)


def _best_addition(batch, indexes, left, estimate):
    best, best_key = None, None
    for index in indexes:
        clump = left.get(index)
        if clump is None:
            continue
        key = (estimate.added(batch.profile, clump.profile, batch.span), clump.rank, clump.index)
        if (best_key is None or key < best_key) and batch.fits(add=clump):
            best, best_key = clump, key
    return best


def _improve(batches, walker, estimate, budget, deadline) -> list[float]:
    """Move a clump to, or swap it with a member of, one of its nearest batches whenever the
    exact routes say the two walks together get shorter; until no change helps or the budget
    of new routes (or the time) is spent."""
    metres = [walker.metres(b.spots()) for b in batches]
    home = {c.index: i for i, b in enumerate(batches) for c in b.clumps}
    clumps = sorted((c for b in batches for c in b.clumps), key=lambda c: c.index)
    changed = True
    while changed:
        changed = False
        for clump in clumps:
            if walker.routed >= budget or time.perf_counter() > deadline:
                return metres
            a = home[clump.index]
            best = _best_change(batches, metres, a, clump, walker, estimate)
            if best is None:
                continue
            b, other = best
            source, target = batches[a], batches[b]
            source.change(estimate, add=other, remove=clump)
            target.change(estimate, add=clump, remove=other)
            home[clump.index] = b
            if other is not None:
                home[other.index] = a
            metres[a], metres[b] = walker.metres(source.spots()), walker.metres(target.spots())
            changed = True
    return metres


def _best_change(batches, metres, a, clump, walker, estimate):
    source = batches[a]
    without = walker.metres(source.spots(remove=clump))
    nearest = sorted((estimate.added(b.profile, clump.profile, b.span), i) for i, b in enumerate(batches)
                     if i != a and b.clumps)[:NEAR_BATCHES]
    best, best_gain = None, -EPS
    for _, b in nearest:
        target = batches[b]
        if target.fits(add=clump):
            gain = without - metres[a] + walker.metres(target.spots(add=clump)) - metres[b]
            if gain < best_gain:
                best, best_gain = (b, None), gain
        members = sorted(target.clumps, key=lambda c: (estimate.added(source.profile, c.profile, source.span),
                                                       c.index))
        for other in members[:NEAR_MEMBERS]:
            if not (source.fits(add=other, remove=clump) and target.fits(add=clump, remove=other)):
                continue
            gain = (walker.metres(source.spots(add=other, remove=clump)) - metres[a]
                    + walker.metres(target.spots(add=clump, remove=other)) - metres[b])
            if gain < best_gain:
                best, best_gain = (b, other), gain
    return best
