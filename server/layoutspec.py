"""The warehouse layout file (docs/layout.md): parallel aisles, cross aisles, a depot and the
position of every location along its aisle.

```
warehouse: WH1          # optional, code of the warehouse
aisles: 10              # aisle 0 .. 9, left to right
aisle_length: 20.0      # metres; front cross aisle at y = 0, back at y = aisle_length
aisle_width: 3.0        # centre-to-centre distance between neighbouring aisles
blocks: 1               # cross aisles at y = k * aisle_length / blocks, k = 0..blocks
depot: {aisle: 0, y: 0.0}
locations:
  A01-01-1: {aisle: 0, y: 0.5}    # optional: level (int, default 1), zone, kind (default pick)
```

The file is YAML or JSON. Loading checks every field and reports every problem at once, each
with the file, the line and the field, so a site can fix its layout in one pass. YAML aliases
(``*name``) are refused: a few hundred bytes of nested aliases stand for billions of values.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

#: Location kinds of the stock model.
LOCATION_KINDS = ("pick", "reserve", "receiving", "qc", "staging", "tote", "pack", "shipped",
                  "returns")

_LAYOUT_KEYS = ("warehouse", "aisles", "aisle_length", "aisle_width", "blocks", "depot",
                "locations")
_REQUIRED_KEYS = ("aisles", "aisle_length", "aisle_width", "depot", "locations")
_DEPOT_KEYS = ("aisle", "y")
_LOCATION_KEYS = ("aisle", "y", "level", "zone", "kind")
# bounds of the numbers and codes, all well inside what the warehouse's columns hold
MAX_AISLES = 1000
MAX_BLOCKS = 100
MAX_LEVEL = 1000
CODE_LENGTHS = {"warehouse": 32, "zone": 32, "location": 64}


@dataclass(frozen=True)
class LocationSpec:
    """One location (货位): its aisle and its distance from the front cross aisle."""

    code: str
    aisle: int
    y: float
    level: int = 1
    zone: str | None = None
    kind: str = "pick"


@dataclass(frozen=True)
class LayoutSpec:
    """A picking area of parallel aisles. Treated as immutable: routing caches per-layout data
    keyed on the object, so build a new layout instead of changing `locations` in place."""

    aisles: int
    aisle_length: float
    aisle_width: float
    blocks: int
    depot_aisle: int
    depot_y: float
    locations: dict[str, LocationSpec]
    warehouse: str | None = None

    @property
    def cross_aisles(self) -> tuple[float, ...]:
        """Positions (y) of the cross aisles, front to back."""
        return tuple(k * self.aisle_length / self.blocks for k in range(self.blocks + 1))


@dataclass(frozen=True)
class LayoutProblem:
    """One thing wrong with a layout: the file, the 1-based line (None if unknown), the dotted
    path of the field (empty for the whole file) and the reason."""

    source: str
    line: int | None
    field: str
    message: str

    def __str__(self):
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.field or '(file)'}: {self.message}"


class LayoutError(ValueError):
    """A layout could not be loaded; `problems` lists every error found."""

    code = "bad_layout"

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def load_layout(path) -> LayoutSpec:
    """Read and check a layout file (``.json`` as JSON, anything else as YAML)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError([LayoutProblem(source, None, "", f"cannot read the file: {exc}")])
    if str(path).lower().endswith(".json"):
        data, positions = _read_json(text, source)
    else:
        data, positions = _read_yaml(text, source)
    return _parse(data, source, positions)


def parse_layout(data: dict, source: str = "<layout>") -> LayoutSpec:
    """Check already-decoded layout data (line numbers are unknown here)."""
    return _parse(data, source, _Positions())


class _Positions:
    """Lines of the fields of a decoded document, by path (a tuple of keys)."""

    def __init__(self):
        self.values: dict[tuple, int] = {}
        self.keys: dict[tuple, int] = {}
        self.duplicates: list[tuple[tuple, int, int]] = []

    def record(self, node, path=()):
        self.values[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = _scalar_key(key_node)
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.duplicates.append((path + (key,), line, seen[key]))
                    continue
                seen[key] = line
                self.keys[path + (key,)] = line
                self.record(value_node, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.record(item, path + (index,))

    def line(self, path, *, key=False):
        """The line of a field's key (or value); failing that, of the nearest enclosing field."""
        path = tuple(path)
        while True:
            table = self.keys if key else self.values
            if path in table:
                return table[path]
            if not path:
                return None
            path = path[:-1]
            key = False


_KEY_LOADER = yaml.SafeLoader("")


class _AliasFound(yaml.MarkedYAMLError):
    pass


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: the first one stops the reading, before anything is built of it."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _AliasFound(problem="an alias", problem_mark=self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _scalar_key(node):
    """A mapping key as the decoder turns it into a Python value, for matching paths."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:str":
            return node.value
        try:
            return _KEY_LOADER.construct_object(node)
        except (yaml.YAMLError, TypeError, ValueError):
            return node.value
        finally:
            _KEY_LOADER.constructed_objects.clear()
    return repr(node)


def _read_yaml(text, source):
    loader = _NoAliasLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _AliasFound as exc:
        raise LayoutError([LayoutProblem(source, exc.problem_mark.line + 1, "",
                                         "aliases (*name) are not allowed in a layout; write the values out")])
    except RecursionError:
        raise LayoutError([LayoutProblem(source, None, "", "nested too deeply")])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = exc.problem or str(exc)
        raise LayoutError([LayoutProblem(source, line, "", f"not valid YAML: {reason}")])
    except yaml.YAMLError as exc:
        raise LayoutError([LayoutProblem(source, None, "", f"not valid YAML: {exc}")])
    finally:
        loader.dispose()
    positions = _Positions()
    if node is not None:
        positions.record(node)
    return data, positions


def _read_json(text, source):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LayoutError([LayoutProblem(source, exc.lineno, "", f"not valid JSON: {exc.msg}")])
    except RecursionError:
        raise LayoutError([LayoutProblem(source, None, "", "nested too deeply")])
    positions = _Positions()
    try:
        # JSON is (nearly) YAML, and the YAML composer remembers lines
        node = yaml.compose(text, Loader=_NoAliasLoader)
    except (yaml.YAMLError, RecursionError):
        node = None
    if node is not None:
        positions.record(node)
    return data, positions


def _dotted(path):
    return ".".join(str(part) for part in path)


class _Checker:
    def __init__(self, source, positions):
        self.source = source
        self.positions = positions
        self.problems: list[LayoutProblem] = []

    def problem(self, path, message, *, key=False):
        line = self.positions.line(path, key=key)
        self.problems.append(LayoutProblem(self.source, line, _dotted(path), message))

    def mapping(self, value, path, allowed, required, what):
        """Check that `value` is a mapping with only `allowed` keys and every `required` one."""
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping ({what}), not {_describe(value)}")
            return None
        for key in value:
            if allowed is not None and key not in allowed:
                self.problem(path + (key,), f"unknown key (expected one of {', '.join(allowed)})",
                             key=True)
        for key in required:
            if key not in value:
                self.problem(path + (key,), "is missing")
        return value

    def integer(self, value, path, low, high=None, *, most=None):
        """A whole number in ``low..high``, or from ``low`` up to ``most`` (a cap, not a range)."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, f"must be a whole number, not {_describe(value)}")
            return None
        if value < low or (high is not None and value > high):
            span = f"{low}..{high}" if high is not None else f"at least {low}"
            self.problem(path, f"{value} is outside {span}" if high is not None
                         else f"{value} must be {span}")
            return None
        if most is not None and value > most:
            self.problem(path, f"{value} must be at most {most}")
            return None
        return value

    def number(self, value, path, *, positive=False, low=None, high=None):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.problem(path, f"must be a number, not {_describe(value)}")
            return None
        if positive and value <= 0:
            self.problem(path, f"{value} must be greater than 0")
            return None
        if low is not None and high is not None and not low <= value <= high:
            self.problem(path, f"{value} is outside {_num(low)}..{_num(high)}")
            return None
        return float(value)

    def text(self, value, path, longest):
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"must be non-empty text, not {_describe(value)}")
            return None
        return value if self.code(value, path, longest) else None

    def code(self, value, path, longest, *, key=False) -> bool:
        """Whether a code fits its column: at most ``longest`` characters, no NUL character."""
        if len(value) > longest:
            self.problem(path, f"longer than {longest} characters", key=key)
            return False
        if "\x00" in value:
            self.problem(path, "contains a NUL character", key=key)
            return False
        return True


def _num(value):
    return f"{value:g}"


def _describe(value):
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _parse(data, source, positions) -> LayoutSpec:
    check = _Checker(source, positions)
    for path, line, first in positions.duplicates:
        check.problems.append(LayoutProblem(source, line, _dotted(path),
                                            f"duplicate key (first on line {first})"))
    if check.mapping(data, (), _LAYOUT_KEYS, _REQUIRED_KEYS, "the layout") is None:
        raise LayoutError(check.problems)

    warehouse = data.get("warehouse")
    if warehouse is not None:
        warehouse = check.text(warehouse, ("warehouse",), CODE_LENGTHS["warehouse"])
    aisles = check.integer(data.get("aisles"), ("aisles",), 1, most=MAX_AISLES) if "aisles" in data else None
    length = (check.number(data["aisle_length"], ("aisle_length",), positive=True)
              if "aisle_length" in data else None)
    width = (check.number(data["aisle_width"], ("aisle_width",), positive=True)
             if "aisle_width" in data else None)
    blocks = check.integer(data.get("blocks", 1), ("blocks",), 1, most=MAX_BLOCKS)

    depot = None
    if "depot" in data:
        depot = _check_point(check, data["depot"], ("depot",), _DEPOT_KEYS, aisles, length)

    locations = {}
    if "locations" in data:
        rows = check.mapping(data["locations"], ("locations",), None, (), "code: {aisle, y}")
        if rows is not None and not rows:
            check.problem(("locations",), "has no locations")
        for code, row in (rows or {}).items():
            location = _check_location(check, code, row, aisles, length)
            if location is not None:
                locations[location.code] = location

    if check.problems:
        raise LayoutError(sorted(check.problems, key=lambda problem: problem.line or 0))
    return LayoutSpec(aisles=aisles, aisle_length=length, aisle_width=width, blocks=blocks,
                      depot_aisle=depot[0], depot_y=depot[1], locations=locations,
                      warehouse=warehouse)


def _check_point(check, value, path, allowed, aisles, length):
    """An {aisle, y} position; aisle and y are range-checked when the layout's own are valid."""
    row = check.mapping(value, path, allowed, ("aisle", "y"), "aisle and y")
    if row is None:
        return None
    aisle = y = None
    if "aisle" in row:
        aisle = check.integer(row["aisle"], path + ("aisle",), 0,
                              aisles - 1 if aisles is not None else None)
    if "y" in row:
        if length is None:
            y = check.number(row["y"], path + ("y",))
        else:
            y = check.number(row["y"], path + ("y",), low=0.0, high=length)
    if aisle is None or y is None:
        return None
    return aisle, y


def _check_location(check, code, row, aisles, length):
    path = ("locations", code)
    if not isinstance(code, str) or not code.strip():
        check.problem(path, f"location code {code!r} must be text (quote it in YAML)", key=True)
        return None
    problems_before = len(check.problems)
    check.code(code, path, CODE_LENGTHS["location"], key=True)
    point = _check_point(check, row, path, _LOCATION_KEYS, aisles, length)
    if not isinstance(row, dict):
        return None
    level = check.integer(row.get("level", 1), path + ("level",), 1, most=MAX_LEVEL)
    zone = row.get("zone")
    if zone is not None:
        zone = check.text(zone, path + ("zone",), CODE_LENGTHS["zone"])
    kind = row.get("kind", "pick")
    if kind not in LOCATION_KINDS:
        check.problem(path + ("kind",),
                      f"{_describe(kind)} is not a location kind ({', '.join(LOCATION_KINDS)})")
    if point is None or len(check.problems) != problems_before:
        return None
    return LocationSpec(code=code, aisle=point[0], y=point[1], level=level, zone=zone, kind=kind)
