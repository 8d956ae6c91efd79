"""Walking tours on layouts of several blocks, where a cross aisle in the middle lets a picker
turn back halfway: Held–Karp for short lists (exact) and, for longer ones, an iterated
2-opt/Or-opt local search over the matrix of shortest walks between stops (within 1 % of the
best tour on the test instances). `plan` is routing's prepared layout; `stops` maps each spot
to its codes.
"""
from __future__ import annotations

import random

from server.services.waves.aisle_sweep import ratliff_rosenthal

_INF = float("inf")
_EPS = 1e-9


def _matrix(plan, spots):
    points = [plan.depot, *spots]
    distance = plan.distance
    return [[distance(p, q) for q in points] for p in points]


def held_karp(plan, stops):
    """The shortest tour through `stops` by dynamic programming over subsets (its time doubles
    with every stop): (spots in visit order, metres)."""
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


def local_search(plan, stops, kicks=None):
    """Starts: the exact one-block tour that ignores the middle cross aisles, nearest neighbour,
    and aisle by aisle; each improved by 2-opt and Or-opt. The best is then perturbed (double
    bridge) and improved again `kicks` times, keeping any shorter tour."""
    spots = [spot for spot in stops if spot != plan.depot]
    if not spots:
        return [], 0.0
    matrix = _matrix(plan, spots)
    count = len(spots) + 1
    number = {spot: i for i, spot in enumerate(spots, 1)}
    one_block = [0, *(number[spot] for spot in ratliff_rosenthal(plan, stops)[0]
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
