"""Layout files: what loads, and every problem reported with its file, line and field."""
from __future__ import annotations

import json
import textwrap

import pytest

from server.layoutspec import (LayoutError, LayoutSpec, LocationSpec, load_layout,
                               parse_layout)

GOOD = """\
warehouse: WH1
aisles: 10
aisle_length: 20.0
aisle_width: 3.0
blocks: 2
depot: {aisle: 0, y: 0.0}
locations:
  A01-01-1: {aisle: 0, y: 0.5}
  A01-01-2: {aisle: 0, y: 0.5, level: 2, zone: Z1, kind: reserve}
  A10-20-1: {aisle: 9, y: 20}
"""


def write(tmp_path, text, name="layout.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path_or_data):
    with pytest.raises(LayoutError) as caught:
        if isinstance(path_or_data, dict):
            parse_layout(path_or_data, "data")
        else:
            load_layout(path_or_data)
    return [str(problem) for problem in caught.value.problems]


def test_a_good_layout_loads(tmp_path):
    layout = load_layout(write(tmp_path, GOOD))
    assert isinstance(layout, LayoutSpec)
    assert (layout.warehouse, layout.aisles, layout.aisle_length, layout.aisle_width,
            layout.blocks, layout.depot_aisle, layout.depot_y) == ("WH1", 10, 20.0, 3.0, 2, 0, 0.0)
    assert layout.cross_aisles == (0.0, 10.0, 20.0)
    assert layout.locations["A01-01-1"] == LocationSpec("A01-01-1", 0, 0.5)
    assert layout.locations["A01-01-2"] == LocationSpec("A01-01-2", 0, 0.5, 2, "Z1", "reserve")
    assert layout.locations["A10-20-1"].y == 20.0
    assert isinstance(layout.locations["A10-20-1"].y, float)


def test_blocks_default_to_one_and_warehouse_is_optional(tmp_path):
    text = GOOD.replace("blocks: 2\n", "").replace("warehouse: WH1\n", "")
    layout = load_layout(write(tmp_path, text))
    assert layout.blocks == 1
    assert layout.warehouse is None


def test_a_json_layout_loads_and_its_errors_have_lines(tmp_path):
    data = {"aisles": 3, "aisle_length": 10, "aisle_width": 2.5,
            "depot": {"aisle": 1, "y": 0},
            "locations": {"L1": {"aisle": 2, "y": 9.5}, "L2": {"aisle": 5, "y": 1}}}
    text = json.dumps(data, indent=2)
    with pytest.raises(LayoutError) as caught:
        load_layout(write(tmp_path, text, "layout.json"))
    line = text.splitlines().index('    "L2": {') + 1 + 1
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'layout.json'}:{line}: locations.L2.aisle: 5 is outside 0..2"]
    del data["locations"]["L2"]
    layout = load_layout(write(tmp_path, json.dumps(data), "layout.json"))
    assert layout.locations == {"L1": LocationSpec("L1", 2, 9.5)}
    assert layout.depot_aisle == 1


def test_a_problem_names_file_line_and_field(tmp_path):
    path = write(tmp_path, GOOD.replace("A10-20-1: {aisle: 9, y: 20}", "A10-20-1: {aisle: 12, y: 20}"))
    assert problems(path) == [f"{path}:10: locations.A10-20-1.aisle: 12 is outside 0..9"]
    error = pytest.raises(LayoutError, load_layout, path).value
    assert isinstance(error, ValueError)
    (problem,) = error.problems
    assert (problem.source, problem.line, problem.field) == (str(path), 10,
                                                             "locations.A10-20-1.aisle")


def test_every_bad_location_is_reported(tmp_path):
    path = write(tmp_path, """\
        aisles: 4
        aisle_length: 10
        aisle_width: 2
        depot: {aisle: 0, y: 0}
        locations:
          OK-1: {aisle: 0, y: 1}
          BAD-1: {aisle: 4, y: 1}
          BAD-2: {aisle: 1, y: 10.5}
          OK-2: {aisle: 1, y: 10}
          BAD-3: {aisle: 1, y: -1}
          BAD-4: {aisle: two, y: 1}
          BAD-5: {aisle: 1}
          BAD-6: {aisle: 1, y: 1, shelf: 3}
          BAD-7: {aisle: 1, y: 1, kind: bin, level: 0}
          BAD-8: 7
          OK-1: {aisle: 2, y: 2}
          1234: {aisle: 1, y: 1}
          BAD-9: {aisle: true, y: .inf}
        """)
    assert problems(path) == [
        f"{path}:7: locations.BAD-1.aisle: 4 is outside 0..3",
        f"{path}:8: locations.BAD-2.y: 10.5 is outside 0..10",
        f"{path}:10: locations.BAD-3.y: -1 is outside 0..10",
        f"{path}:11: locations.BAD-4.aisle: must be a whole number, not 'two'",
        f"{path}:12: locations.BAD-5.y: is missing",
        f"{path}:13: locations.BAD-6.shelf: unknown key (expected one of aisle, y, level, zone, kind)",
        f"{path}:14: locations.BAD-7.level: 0 must be at least 1",
        f"{path}:14: locations.BAD-7.kind: 'bin' is not a location kind (pick, reserve, receiving, "
        "qc, staging, tote, pack, shipped, returns)",
        f"{path}:15: locations.BAD-8: must be a mapping (aisle and y), not 7",
        f"{path}:16: locations.OK-1: duplicate key (first on line 6)",
        f"{path}:17: locations.1234: location code 1234 must be text (quote it in YAML)",
        f"{path}:18: locations.BAD-9.aisle: must be a whole number, not true (a yes/no value)",
        f"{path}:18: locations.BAD-9.y: must be a number, not inf",
    ]


def test_the_top_level_is_checked(tmp_path):
    path = write(tmp_path, """\
        aisles: 0
        aisle_length: -5
        aisle_width: wide
        blocks: 1.5
        depot: {aisle: 3}
        colour: red
        locations: {}
        """)
    assert problems(path) == [
        f"{path}:1: aisles: 0 must be at least 1",
        f"{path}:2: aisle_length: -5 must be greater than 0",
        f"{path}:3: aisle_width: must be a number, not 'wide'",
        f"{path}:4: blocks: must be a whole number, not 1.5",
        f"{path}:5: depot.y: is missing",
        f"{path}:6: colour: unknown key (expected one of warehouse, aisles, aisle_length, "
        "aisle_width, blocks, depot, locations)",
        f"{path}:7: locations: has no locations",
    ]


def test_depot_must_be_inside_the_layout(tmp_path):
    path = write(tmp_path, GOOD.replace("depot: {aisle: 0, y: 0.0}", "depot: {aisle: 10, y: 21}"))
    assert problems(path) == [f"{path}:6: depot.aisle: 10 is outside 0..9",
                              f"{path}:6: depot.y: 21 is outside 0..20"]


def test_missing_fields_point_at_the_enclosing_line(tmp_path):
    path = write(tmp_path, "warehouse: WH1\naisles: 3\n")
    assert problems(path) == [f"{path}:1: aisle_length: is missing",
                              f"{path}:1: aisle_width: is missing",
                              f"{path}:1: depot: is missing",
                              f"{path}:1: locations: is missing"]


def test_a_file_that_is_not_yaml_or_not_a_mapping(tmp_path):
    path = write(tmp_path, "aisles: 3\nlocations: {A: [\n")
    (message,) = problems(path)
    assert message.startswith(f"{path}:3: (file): not valid YAML")
    path = write(tmp_path, "- just\n- a list\n")
    assert problems(path) == [f"{path}:1: (file): must be a mapping (the layout), not a list"]
    path = tmp_path / "missing.yaml"
    (message,) = problems(path)
    assert message.startswith(f"{path}: (file): cannot read the file")


def test_parse_layout_checks_data_without_lines():
    data = {"aisles": 2, "aisle_length": 5, "aisle_width": 2, "depot": {"aisle": 0, "y": 0},
            "locations": {"X": {"aisle": 3, "y": 1}, "Y": {"aisle": 1, "y": 6}}}
    assert problems(data) == ["data: locations.X.aisle: 3 is outside 0..1",
                              "data: locations.Y.y: 6 is outside 0..5"]
    data["locations"] = {"X": {"aisle": 1, "y": 1}}
    assert parse_layout(data).locations["X"] == LocationSpec("X", 1, 1.0)
