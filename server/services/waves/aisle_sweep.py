"""The exact walking tour on a layout of one block (a front and a back cross aisle): the
Ratliff–Rosenthal dynamic programme sweeps the aisles left to right over seven equivalence
classes of partial tour subgraphs, and the visiting order is read off an Euler tour of the
optimal subgraph. `plan` is routing's prepared layout; `stops` maps each spot to its codes.
"""
from __future__ import annotations

_INF = float("inf")

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


CLASSES, _COVER_TABLE, _LINK_TABLE, _TOUR_DONE = _derive_classes()
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


def ratliff_rosenthal(plan, stops, order: bool = True):
    """The shortest tour through `stops` on a layout of one block: (spots in visit order, metres);
    with ``order=False`` only its metres (the visit order is not built: None, metres)."""
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
    n = len(CLASSES)
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
        da, db = CLASSES[state][:2]
        if (_TOUR_DONE[state] and cost[state] < best and (last not in front or da)
                and (last not in back or db)):
            best, best_state = cost[state], state
    if best_state is None:
        raise RuntimeError("no tour found")  # cannot happen for a valid layout
    if not order:
        return None, best
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
