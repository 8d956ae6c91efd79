"""Demand replenishment (按需补货): a wave about to be released whose orders were promised units in
reserve, for SKUs that have a pick face, gets its replenishment tasks before its picks.

Allocation reserves pick faces first, so units promised in reserve are the demand the faces'
free stock could not cover. At release those picks are moved to the face (:func:`to_faces`,
before the wave is batched, so walks and pick lines name the face), and one ``demand`` task per
SKU, source, face and lot carries exactly the promised units there (:func:`for_wave`, in the
release's transaction, before the pick tasks are made). The tasks come first in every
replenisher's list (their priority), and a picker reaching the face before them waits
(tasks.must_wait).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from server.db import insert_rows
from server.models import Location, PickFace
from server.models.stockcontrol import ReplenishmentTask
from server.models.base import utcnow
from server.services.replenishment.tasks import DEMAND_PRIORITY, announce
from server.services.waves.wave_facts import Facts, Pick


@dataclass
class FacePick(Pick):
    """A pick moved from the reserve location its units are promised at (``source``) to the SKU's face."""
    source: int = 0


def faces_of(warehouse_id: int) -> dict[int, tuple[int, str, int | None]]:
    """Each SKU's pick face in the warehouse: (location id, code, zone); the first in walking order
    when it has several."""
    rows = (PickFace.select(PickFace.product, Location.id, Location.code, Location.zone).join(Location)
            .where((Location.warehouse == warehouse_id) & (Location.active == True))  # noqa: E712
            .order_by(Location.pick_seq.desc(), Location.id.desc()).tuples())
    return {product: (location, code, zone) for product, location, code, zone in rows}


def to_faces(facts: list[Facts], warehouse_id: int) -> list[Facts]:
    """The wave's facts with every pick promised in reserve, of a SKU with a face, at the face."""
    faces = faces_of(warehouse_id)
    if not faces:
        return facts
    reserve = {location for (location,) in Location.select(Location.id).where(
        (Location.warehouse == warehouse_id) & (Location.kind == "reserve")).tuples()}
    for fact in facts:
        for n, pick in enumerate(fact.picks):
            face = faces.get(pick.product)
            if face is not None and pick.location in reserve:
                location, code, zone = face
                fact.picks[n] = FacePick(pick.allocation, pick.line, pick.product, location, code, zone, pick.lot,
                                         pick.qty, source=pick.location)
    return facts


def demand_of(facts: list[Facts]) -> dict[tuple[int, int, int, str], int]:
    """Units to bring per (SKU, source, face, lot)."""
    demand: dict[tuple[int, int, int, str], int] = defaultdict(int)
    for fact in facts:
        for pick in fact.picks:
            if isinstance(pick, FacePick):
                demand[(pick.product, pick.source, pick.location, pick.lot)] += pick.qty
    return demand


def for_wave(wave, facts: list[Facts]) -> int:
    """The wave's demand tasks (``<wave>-R<n>``), in the release's transaction; returns how many."""
    demand = demand_of(facts)
    if not demand:
        return 0
    now = utcnow()
    rows = [{"code": f"{wave.code}-R{n}", "warehouse": wave.warehouse_id, "product": product, "source": source,
             "face": face, "lot": lot, "qty": qty, "moved_qty": 0, "status": "open", "trigger": "demand",
             "wave": wave.id, "priority": DEMAND_PRIORITY, "created_at": now}
            for n, ((product, source, face, lot), qty) in enumerate(sorted(demand.items()), 1)]
    insert_rows(ReplenishmentTask, rows)
    announce(wave.warehouse_id)
    return len(rows)
