"""Warehouse layouts: importing a layout file into locations, and the layout of a warehouse
back out of the database for the route planner."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import yaml

from server.db import write_transaction
from server.layoutspec import LayoutError, LayoutSpec, LocationSpec, load_layout, parse_layout
from server.models import Location, Warehouse, Zone
from server.models.layout import LOCATION_KINDS
from server.services.csvin import ImportReport, Problem


def _without_bad_locations(path: Path, error: LayoutError):
    """When only some locations are wrong, the rest of the layout still goes in."""
    bad = set()
    for problem in error.problems:
        parts = problem.field.split(".")
        if parts[0] != "locations" or len(parts) < 2:
            return None
        bad.add(parts[1])
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    data["locations"] = {code: row for code, row in data["locations"].items() if str(code) not in bad}
    try:
        return parse_layout(data, str(path))
    except LayoutError:  # no good location is left: the problems already named say why
        return None


def serpentine_sequence(spec: LayoutSpec) -> dict[str, int]:
    """A default pick sequence: up one aisle, down the next (the S-shape walk)."""
    def key(loc: LocationSpec):
        return (loc.aisle, loc.y if loc.aisle % 2 == 0 else -loc.y, loc.level, loc.code)
    return {loc.code: i + 1 for i, loc in enumerate(sorted(spec.locations.values(), key=key))}


def import_layout(path) -> ImportReport:
    path = Path(path)
    report = ImportReport()
    try:
        spec = load_layout(path)
    except LayoutError as exc:
        report.problems.extend(Problem(p.source.rsplit("/", 1)[-1], p.line, p.field or None, p.message)
                               for p in exc.problems)
        spec = _without_bad_locations(path, exc)
        if spec is None:
            return report
    if not spec.warehouse:
        report.problems.append(Problem(path.name, None, "warehouse", "missing: name the warehouse code"))
        return report
    return apply_layout(spec, report, path.name)


def apply_layout(spec: LayoutSpec, report: ImportReport | None = None, name: str = "<layout>") -> ImportReport:
    """Create or update the warehouse geometry and every location of ``spec``."""
    report = report or ImportReport()
    path = Path(name)
    unknown_kinds = {l.kind for l in spec.locations.values()} - set(LOCATION_KINDS)
    if unknown_kinds:
        report.problems.append(Problem(path.name, None, "kind", f"unknown location kind(s) "
                                       f"{', '.join(sorted(unknown_kinds))}; one of {', '.join(LOCATION_KINDS)}"))
        return report
    with write_transaction():
        warehouse, _ = Warehouse.get_or_create(code=spec.warehouse, defaults={"name": spec.warehouse})
        # the walk is numbered over the warehouse's locations and the file's together, so a file
        # that adds an aisle neither repeats a number nor leaves the others out of order
        placed = dict(layout_of(warehouse).locations, **spec.locations)
        sequence = serpentine_sequence(dataclasses.replace(spec, locations=placed))
        _renumber(warehouse, {code: n for code, n in sequence.items() if code not in spec.locations})
        geometry = {"aisles": spec.aisles, "aisle_length_m": spec.aisle_length,
                    "aisle_width_m": spec.aisle_width, "blocks": spec.blocks,
                    "depot_aisle": spec.depot_aisle, "depot_y_m": spec.depot_y}
        if any(getattr(warehouse, k) != v for k, v in geometry.items()):
            Warehouse.update(**geometry).where(Warehouse.id == warehouse.id).execute()
        zones = {z.code: z.id for z in Zone.select().where(Zone.warehouse == warehouse)}
        existing = {l.code: l for l in Location.select().where(Location.code.in_(list(spec.locations)))}
        for loc in spec.locations.values():
            zone_id = None
            if loc.zone:
                if loc.zone not in zones:
                    zones[loc.zone] = Zone.create(warehouse=warehouse, code=loc.zone, name=loc.zone).id
                zone_id = zones[loc.zone]
            values = {"warehouse": warehouse.id, "zone": zone_id, "kind": loc.kind, "aisle": loc.aisle,
                      "y_m": loc.y, "level": loc.level, "pick_seq": sequence[loc.code]}
            row = existing.get(loc.code)
            if row is None:
                Location.create(code=loc.code, **values)
                report.created += 1
                continue
            current = {"warehouse": row.warehouse_id, "zone": row.zone_id, "kind": row.kind,
                       "aisle": row.aisle, "y_m": row.y_m, "level": row.level, "pick_seq": row.pick_seq}
            if current != values:
                Location.update(**values).where(Location.id == row.id).execute()
                report.updated += 1
            else:
                report.unchanged += 1
    return report


def _renumber(warehouse: Warehouse, sequence: dict[str, int]) -> None:
    """Give the warehouse's locations outside the file their place in the new walk."""
    current = dict(Location.select(Location.code, Location.pick_seq).where(Location.warehouse == warehouse).tuples())
    for code, n in sequence.items():
        if current.get(code) != n:
            Location.update(pick_seq=n).where((Location.warehouse == warehouse) & (Location.code == code)).execute()


def layout_of(warehouse: Warehouse) -> LayoutSpec:
    """The picking-area layout of a warehouse, built from its located locations."""
    zones = dict(Zone.select(Zone.id, Zone.code).where(Zone.warehouse == warehouse).tuples())
    locations = {}
    placed = (Location.select(Location.code, Location.aisle, Location.y_m, Location.level, Location.zone,
                              Location.kind)
              .where((Location.warehouse == warehouse) & Location.aisle.is_null(False)).tuples())
    for code, aisle, y_m, level, zone_id, kind in placed:  # rows, not models: a wave's release reads them all
        locations[code] = LocationSpec(code, aisle, y_m, level, zones.get(zone_id), kind)
    return LayoutSpec(warehouse.aisles, warehouse.aisle_length_m, warehouse.aisle_width_m, warehouse.blocks,
                      warehouse.depot_aisle, warehouse.depot_y_m, locations, warehouse.code)
