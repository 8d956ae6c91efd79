"""Walking routes: exact for one block (checked against every permutation on the real aisle
graph), within 1 % of the best tour for several blocks, never beaten by S-shape or largest gap."""
from __future__ import annotations

import heapq
import itertools
import json
import random

import pytest
from click.testing import CliRunner

from server.layoutspec import LayoutError, parse_layout
from server.services.waves import aisle_sweep
from server.services.waves.routing import (RoutingError, UnknownLocationError, distance, largest_gap, route,
                                     route_command, route_many, s_shape)


# --- layouts and an independent shortest-path oracle ---------------------------------------

def make_layout(aisles, length=10.0, width=2.5, blocks=1, depot=(0, 0.0), slots=None):
    """A layout with locations at `slots` (positions along each aisle), ends included."""
    slots = slots or [0.0, 0.5, 2.0, 3.5, 5.0, 6.5, 8.0, 9.0, length]
    locations = {f"{aisle:02d}-{i:02d}": {"aisle": aisle, "y": y}
                 for aisle in range(aisles) for i, y in enumerate(slots)}
    return parse_layout({"aisles": aisles, "aisle_length": length, "aisle_width": width,
                         "blocks": blocks, "depot": {"aisle": depot[0], "y": depot[1]},
                         "locations": locations}, "test")


class AisleGraph:
    """The warehouse as an explicit graph (aisle/cross-aisle crossings, locations, depot) with
    Dijkstra: deliberately no shared code with the routing module."""

    def __init__(self, layout):
        cross = [k * layout.aisle_length / layout.blocks for k in range(layout.blocks + 1)]
        points = {(a, y) for a in range(layout.aisles) for y in cross}
        points |= {(spec.aisle, spec.y) for spec in layout.locations.values()}
        points.add((layout.depot_aisle, layout.depot_y))
        self.edges = {p: [] for p in points}
        for aisle in range(layout.aisles):
            along = sorted(p for p in points if p[0] == aisle)
            for p, q in zip(along, along[1:]):
                self._link(p, q, q[1] - p[1])
        for y in cross:
            for aisle in range(layout.aisles - 1):
                self._link((aisle, y), (aisle + 1, y), layout.aisle_width)
        self.depot = (layout.depot_aisle, layout.depot_y)
        self.spot = {code: (spec.aisle, spec.y) for code, spec in layout.locations.items()}
        self._from = {}

    def _link(self, p, q, metres):
        self.edges[p].append((q, metres))
        self.edges[q].append((p, metres))

    def distance(self, p, q):
        if p not in self._from:
            best = {p: 0.0}
            queue = [(0.0, p)]
            while queue:
                d, here = heapq.heappop(queue)
                if d > best[here]:
                    continue
                for there, metres in self.edges[here]:
                    if d + metres < best.get(there, float("inf")):
                        best[there] = d + metres
                        heapq.heappush(queue, (d + metres, there))
            self._from[p] = best
        return self._from[p][q]

    def tour(self, codes):
        walk = [self.depot, *(self.spot[c] for c in codes), self.depot]
        return sum(self.distance(p, q) for p, q in zip(walk, walk[1:]))

    def best_tour(self, codes):
        spots = sorted({self.spot[c] for c in codes} - {self.depot})
        best = float("inf")
        for order in itertools.permutations(spots):
            walk = [self.depot, *order, self.depot]
            best = min(best, sum(self.distance(p, q) for p, q in zip(walk, walk[1:])))
        return best if spots else 0.0


def pick_list(layout, rng, count):
    """Random codes, sometimes forced into the depot's aisle or onto the aisle ends."""
    codes = sorted(layout.locations)
    picks = rng.sample(codes, count)
    if rng.random() < 0.5:
        picks[0] = rng.choice([c for c in codes
                               if layout.locations[c].aisle == layout.depot_aisle])
    if rng.random() < 0.5:
        picks[-1] = rng.choice([c for c in codes
                                if layout.locations[c].y in (0.0, layout.aisle_length)])
    return picks


ONE_BLOCK = {
    "5 aisles, depot front of aisle 0": make_layout(5),
    "6 aisles, depot front of aisle 3": make_layout(6, depot=(3, 0.0)),
    "7 aisles, depot halfway up aisle 2": make_layout(7, depot=(2, 4.25)),
    "4 aisles, depot at the back of aisle 3": make_layout(4, depot=(3, 10.0)),
    "1 aisle": make_layout(1, depot=(0, 0.0)),
    "8 aisles, wide and short": make_layout(8, length=6.0, width=4.0, depot=(5, 0.0),
                                            slots=[0.0, 1.0, 2.5, 3.0, 5.5, 6.0]),
}
SEVERAL_BLOCKS = {
    "2 blocks, depot front of aisle 0": make_layout(6, length=12.0, blocks=2),
    "3 blocks, depot at a middle cross aisle": make_layout(5, length=12.0, blocks=3,
                                                           depot=(2, 4.0)),
    "4 blocks, depot inside aisle 4": make_layout(7, length=16.0, blocks=4, depot=(4, 5.0),
                                                  slots=[0.0, 1.0, 3.0, 4.0, 6.5, 8.0, 11.0,
                                                         12.0, 14.5, 16.0]),
}


# --- one block: exact -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ONE_BLOCK)
def test_one_block_route_is_the_shortest_of_all_orders(name):
    layout = ONE_BLOCK[name]
    graph = AisleGraph(layout)
    rng = random.Random(name)
    for count in [1, 2, 3, 4, 5, 6, 7] * 6:
        picks = pick_list(layout, rng, min(count, len(layout.locations)))
        result = route(layout, picks)
        assert result.method == "ratliff-rosenthal"
        assert result.distance_m == pytest.approx(graph.best_tour(picks), abs=1e-9), picks
        assert sorted(result.sequence) == sorted(set(picks))
        assert graph.tour(result.sequence) == pytest.approx(result.distance_m, abs=1e-9), picks


@pytest.mark.parametrize("name", [*ONE_BLOCK, *SEVERAL_BLOCKS])
def test_distance_alone_is_the_routes_distance(name):
    """Wave planning asks for metres only (no visit order): the same metres as the route's."""
    layout = {**ONE_BLOCK, **SEVERAL_BLOCKS}[name]
    rng = random.Random(name)
    for count in [0, 1, 2, 3, 5, 8, 12] * 3:
        picks = pick_list(layout, rng, min(count, len(layout.locations))) if count else []
        assert distance(layout, picks) == route(layout, picks).distance_m, picks


def test_forty_picks_sequence_walks_the_exact_distance():
    layout = make_layout(20, length=30.0, width=3.0,
                         slots=[0.0, *(0.25 + 0.5 * k for k in range(60)), 30.0])
    graph = AisleGraph(layout)
    rng = random.Random(40)
    for _ in range(20):
        picks = rng.sample(sorted(layout.locations), 40)
        result = route(layout, picks)
        assert len(result.sequence) == 40
        assert graph.tour(result.sequence) == pytest.approx(result.distance_m, abs=1e-9)
        # nothing shorter found by an independent heuristic either
        assert route(layout, picks, "local-search").distance_m >= result.distance_m - 1e-9


def test_the_dynamic_programme_has_seven_classes_of_partial_tours():
    assert len(aisle_sweep.CLASSES) == 7


def test_a_known_tour_in_one_block():
    # depot front of aisle 0; picks at the back of aisle 0 and the middle of aisle 2:
    # up aisle 0 (10), across the back (5), down aisle 2 (10), back along the front (5)
    layout = make_layout(3, length=10.0, width=2.5, slots=[5.0, 10.0])
    result = route(layout, ["02-00", "00-01"])
    assert result.distance_m == pytest.approx(30.0)
    assert result.sequence in (["00-01", "02-00"], ["02-00", "00-01"])
    # one pick 5 m into aisle 2: in and out from the front beats going round
    assert route(layout, ["02-00"]).distance_m == pytest.approx(5.0 + 5.0 + 5.0 + 5.0)


# --- several blocks -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", SEVERAL_BLOCKS)
def test_held_karp_is_the_shortest_of_all_orders(name):
    layout = SEVERAL_BLOCKS[name]
    graph = AisleGraph(layout)
    rng = random.Random(name)
    for count in [1, 2, 3, 4, 5, 6, 7] * 3:
        picks = pick_list(layout, rng, count)
        result = route(layout, picks)
        assert result.method == "held-karp"
        assert result.distance_m == pytest.approx(graph.best_tour(picks), abs=1e-9), picks
        assert graph.tour(result.sequence) == pytest.approx(result.distance_m, abs=1e-9)


@pytest.mark.parametrize("name", SEVERAL_BLOCKS)
def test_local_search_stays_within_one_percent_of_the_best_tour(name):
    layout = SEVERAL_BLOCKS[name]
    graph = AisleGraph(layout)
    rng = random.Random(name + " local")
    worst = 0.0
    for count in [6, 8, 9, 10, 11, 12] * 5:
        picks = pick_list(layout, rng, count)
        best = route(layout, picks, "held-karp").distance_m
        found = route(layout, picks, "local-search")
        assert found.method == "local-search"
        assert graph.tour(found.sequence) == pytest.approx(found.distance_m, abs=1e-9)
        worst = max(worst, found.distance_m / best - 1)
    assert worst <= 0.01


def test_longer_lists_on_several_blocks_use_local_search_and_visit_everything():
    layout = SEVERAL_BLOCKS["2 blocks, depot front of aisle 0"]
    graph = AisleGraph(layout)
    picks = random.Random(3).sample(sorted(layout.locations), 25)
    result = route(layout, picks)
    assert result.method == "local-search"
    assert sorted(result.sequence) == sorted(picks)
    assert graph.tour(result.sequence) == pytest.approx(result.distance_m, abs=1e-9)
    # the middle cross aisle can only help
    assert result.distance_m <= s_shape(layout, picks).distance_m


def test_exact_means_exact_or_a_clear_refusal():
    one = ONE_BLOCK["5 aisles, depot front of aisle 0"]
    assert route(one, ["01-01", "03-03"], "exact").method == "ratliff-rosenthal"
    several = SEVERAL_BLOCKS["2 blocks, depot front of aisle 0"]
    picks = sorted(several.locations)[::3][:10]
    assert route(several, picks, "exact").method == "held-karp"
    with pytest.raises(RoutingError, match="held-karp is limited to 12 stops"):
        route(several, sorted(several.locations)[:13], "exact")


def test_ratliff_rosenthal_refuses_several_blocks():
    with pytest.raises(RoutingError, match="one block"):
        route(SEVERAL_BLOCKS["2 blocks, depot front of aisle 0"], ["01-01"], "ratliff-rosenthal")


# --- classic policies ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ONE_BLOCK)
def test_s_shape_and_largest_gap_are_never_shorter_than_exact(name):
    layout = ONE_BLOCK[name]
    graph = AisleGraph(layout)
    rng = random.Random(name + " policies")
    for count in range(1, 16):
        picks = rng.sample(sorted(layout.locations), min(count, len(layout.locations)))
        exact = route(layout, picks).distance_m
        for policy in (s_shape, largest_gap):
            walked = policy(layout, picks)
            assert sorted(walked.sequence) == sorted(picks)
            assert walked.distance_m >= exact - 1e-9
            # the policy's walk is a real walk through its sequence, so it cannot beat
            # the shortest paths between the same stops
            assert walked.distance_m >= graph.tour(walked.sequence) - 1e-9


def test_s_shape_and_largest_gap_walk_as_the_textbook_says():
    layout = make_layout(4, length=10.0, width=2.0, slots=[2.0, 8.0])
    picks = ["00-00", "01-01", "02-00", "03-00"]
    # S-shape: up 0, down 1, up 2, into 3 and back to the front (4 aisles with picks: even
    # count, so: up 0 (10), across (2), down 1 (10), across (2), up 2 (10), across (2),
    # down 3 (10), front back to the depot (6))
    assert s_shape(layout, picks).distance_m == pytest.approx(52.0)
    assert s_shape(layout, picks).sequence == ["00-00", "01-01", "02-00", "03-00"]
    # largest gap: through aisle 0 and aisle 3, aisle 1 from the back (2 + 2), aisle 2 from
    # the front (2 + 2): 10 + 6 + 4 + 10 + 6 + 4 = 40
    assert largest_gap(layout, picks).distance_m == pytest.approx(40.0)
    assert largest_gap(layout, picks).sequence == ["00-00", "01-01", "03-00", "02-00"]


def test_policies_on_several_blocks_walk_a_valid_longer_route():
    layout = SEVERAL_BLOCKS["3 blocks, depot at a middle cross aisle"]
    picks = random.Random(9).sample(sorted(layout.locations), 10)
    best = route(layout, picks).distance_m
    for policy in (s_shape, largest_gap):
        assert policy(layout, picks).distance_m >= best - 1e-9


# --- pick lists ---------------------------------------------------------------------------------

def test_a_code_listed_twice_is_visited_once():
    layout = ONE_BLOCK["5 aisles, depot front of aisle 0"]
    once = route(layout, ["03-04", "01-02"])
    twice = route(layout, ["03-04", "01-02", "03-04", "01-02"])
    assert sorted(twice.sequence) == ["01-02", "03-04"]
    assert twice.distance_m == once.distance_m


def test_unknown_codes_are_all_named():
    layout = ONE_BLOCK["5 aisles, depot front of aisle 0"]
    with pytest.raises(UnknownLocationError) as caught:
        route(layout, ["01-01", "NOPE-1", "01-02", "NOPE-2", "NOPE-1"])
    assert caught.value.codes == ["NOPE-1", "NOPE-2"]
    assert "NOPE-1, NOPE-2" in str(caught.value)
    assert caught.value.code == "unknown_location"


def test_empty_list_and_picks_at_the_depot_need_no_walking():
    layout = make_layout(3, depot=(1, 0.0))
    assert route(layout, []).distance_m == 0.0
    assert route(layout, []).sequence == []
    at_depot = [c for c, spec in layout.locations.items() if (spec.aisle, spec.y) == (1, 0.0)]
    assert route(layout, at_depot).distance_m == 0.0
    # a stop at the depot's own spot comes first
    result = route(layout, ["02-04", *at_depot])
    assert result.sequence[0] == at_depot[0]


def test_two_codes_at_one_spot_are_picked_together():
    data = {"aisles": 3, "aisle_length": 10, "aisle_width": 2, "depot": {"aisle": 0, "y": 0},
            "locations": {"L1": {"aisle": 2, "y": 5, "level": 1},
                          "L2": {"aisle": 2, "y": 5, "level": 2},
                          "M": {"aisle": 1, "y": 9}}}
    layout = parse_layout(data)
    sequence = route(layout, ["L2", "M", "L1"]).sequence
    assert abs(sequence.index("L1") - sequence.index("L2")) == 1


def test_each_layout_object_keeps_its_own_distances():
    narrow = make_layout(5, width=1.0)
    wide = make_layout(5, width=4.0)
    picks = ["04-03", "02-05"]
    assert route(narrow, picks).distance_m < route(wide, picks).distance_m
    assert route(narrow, picks).distance_m == route(narrow, picks).distance_m


def test_route_many_gives_one_route_per_list():
    layout = ONE_BLOCK["5 aisles, depot front of aisle 0"]
    lists = [["01-01"], ["02-02", "04-04"], []]
    routes = route_many(layout, lists)
    assert [r.sequence for r in routes] == [route(layout, codes).sequence for codes in lists]


def test_unknown_method_is_refused():
    with pytest.raises(RoutingError, match="unknown routing method"):
        route(ONE_BLOCK["1 aisle"], [], "fastest")


# --- the command ------------------------------------------------------------------------------

LAYOUT_YAML = """\
warehouse: WH1
aisles: 3
aisle_length: 10.0
aisle_width: 2.0
depot: {aisle: 0, y: 0.0}
locations:
  A-1: {aisle: 0, y: 10.0}
  B-1: {aisle: 1, y: 5.0}
  C-1: {aisle: 2, y: 2.5}
"""


@pytest.fixture
def layout_file(tmp_path):
    path = tmp_path / "layout.yaml"
    path.write_text(LAYOUT_YAML, encoding="utf-8")
    return path


def write_picks(tmp_path, data):
    path = tmp_path / "picks.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_route_command_for_one_list(tmp_path, layout_file):
    result = route_command(layout_file, write_picks(tmp_path, ["C-1", "A-1", "B-1", "A-1"]))
    assert set(result) == {"sequence", "distance_m", "method"}
    assert sorted(result["sequence"]) == ["A-1", "B-1", "C-1"]
    assert result["method"] == "ratliff-rosenthal"
    # front to aisle 2 and up it, across the back to A-1 at the back of aisle 0, back to
    # aisle 1 and down it: 4 + 10 + 4 + 2 + 10 + 2 = 32
    assert result["distance_m"] == 32.0
    assert result["sequence"] in (["C-1", "A-1", "B-1"], ["B-1", "A-1", "C-1"])


def test_route_command_for_several_lists(tmp_path, layout_file):
    results = route_command(layout_file, write_picks(tmp_path, [["A-1"], ["C-1", "B-1"], []]))
    assert [r["distance_m"] for r in results] == [20.0, 23.0, 0.0]
    assert [r["sequence"] for r in results][0] == ["A-1"]


def test_route_command_names_the_file_and_the_bad_input(tmp_path, layout_file):
    with pytest.raises(UnknownLocationError) as caught:
        route_command(layout_file, write_picks(tmp_path, [["A-1"], ["Z-9", "B-1"]]))
    assert str(caught.value) == f"{tmp_path / 'picks.json'}: list 1: unknown location codes: Z-9"
    with pytest.raises(RoutingError, match="picks.json: must be a list"):
        route_command(layout_file, write_picks(tmp_path, {"picks": ["A-1"]}))
    with pytest.raises(RoutingError, match="location codes must be text"):
        route_command(layout_file, write_picks(tmp_path, ["A-1", 7]))
    broken = tmp_path / "broken.json"
    broken.write_text('["A-1",\n  "B-1"', encoding="utf-8")
    with pytest.raises(RoutingError, match=r"broken.json:2: not valid JSON"):
        route_command(layout_file, broken)


def test_route_command_reports_a_bad_layout(tmp_path):
    path = tmp_path / "layout.yaml"
    path.write_text(LAYOUT_YAML.replace("{aisle: 2, y: 2.5}", "{aisle: 3, y: 2.5}"),
                    encoding="utf-8")
    with pytest.raises(LayoutError, match=r"layout.yaml:9: locations.C-1.aisle: 3 is outside 0..2"):
        route_command(path, write_picks(tmp_path, ["A-1"]))


def test_wavefloor_route_prints_the_route(tmp_path, layout_file):
    from server.cli import cli
    picks = write_picks(tmp_path, ["B-1"])
    outcome = CliRunner().invoke(cli, ["route", "--layout", str(layout_file), "--picks", str(picks)])
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.output) == {"sequence": ["B-1"], "distance_m": 14.0,
                                          "method": "ratliff-rosenthal"}
    picks = write_picks(tmp_path, ["B-1", "X"])
    outcome = CliRunner().invoke(cli, ["route", "--layout", str(layout_file), "--picks", str(picks)])
    assert outcome.exit_code != 0
    assert "unknown location codes: X" in outcome.output
