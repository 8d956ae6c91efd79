"""The parcel's lifecycle: the only writer of ``Package.state``, and what a parcel is now.

Each verb moves a parcel along an edge of ``PACKAGE_TRANSITIONS`` (models/packages.py) with a
guarded update (services/states.py) that also names the station the caller read it at, writes
who did it on the parcel, and adds the step to its order's history (the lines the order page
shows: ``pack_open``, ``pack_close``, ``pack_unit``, ``label``, ``label_reprint``,
``label_confirmed``, ``weighed``). The history is for people to read; what a parcel is, is read
from its row. A refused step raises ``InvalidTransition``.
"""
from __future__ import annotations

import json

from server.models import Order, OrderEvent, Package, PackageUnit
from server.models.base import utcnow
from server.models.packages import AT_STATION, PACKAGE_TRANSITIONS
from server.services.errors import InvalidTransition
from server.services.states import Lifecycle
from server.services.stock.inventory import Actor
from server.services.waves.wall import AT_PACKING

PACKAGE = Lifecycle("package", Package, PACKAGE_TRANSITIONS, column="state")


# --- reading ------------------------------------------------------------------------------------

def of_order(order_id: int) -> Package | None:
    return Package.get_or_none(Package.order == order_id)


def by_tracking(tracking: str) -> Package | None:
    """The parcel with this tracking number (one index entry), or None."""
    tracking = (tracking or "").strip()
    if not tracking:
        return None
    return Package.get_or_none((Package.tracking == tracking) & (Package.tracking != ""))


def open_at(station: str) -> Package | None:
    """The parcel open at the station, with its order (``parcel.order``), or None. A parcel whose
    order the office cancelled meanwhile is open nowhere."""
    return (Package.select(Package, Order).join(Order)
            .where((Package.station == station) & Package.state.in_(AT_STATION)
                   & Order.status.in_(AT_PACKING))
            .order_by(Package.id.desc()).first())


def checking_at(order_id: int) -> str | None:
    """The station checking the order's units now (its parcel is open there), or None."""
    return (Package.select(Package.station)
            .where((Package.order == order_id) & (Package.state == "open")).scalar())


def verified(parcel: Package) -> dict[int, int]:
    """product id -> units checked into the parcel."""
    return dict(PackageUnit.select(PackageUnit.product, PackageUnit.qty)
                .where(PackageUnit.package == parcel.id).tuples())


# --- the verbs ----------------------------------------------------------------------------------

def open(order: Order, station: str, actor: Actor) -> Package:
    """The order's parcel opens at ``station``: a new one, one put aside (checked again from its
    first unit), or a labelled one taken here to be weighed and shipped (a weighed one is weighed
    again). A parcel another station is checking is refused."""
    parcel = of_order(order.id)
    if parcel is None:
        parcel = Package.create(order=order.id, station=station, state="open", carrier=order.carrier,
                                **_by(actor))
    elif parcel.state == "aside":
        _move(parcel, "open", station=station, **_by(actor))
        PackageUnit.delete().where(PackageUnit.package == parcel.id).execute()
    elif parcel.state == "weighed":
        _move(parcel, "labelled", station=station, weight_g=None, expected_g=None, weighed_at=None, **_by(actor))
    elif parcel.state == "labelled":
        _take(parcel, station, actor)
    else:
        raise InvalidTransition("package", parcel.state, "open")
    _record(parcel, "pack_open", station, actor)
    return parcel


def put_aside(parcel: Package, station: str, actor: Actor) -> None:
    """The station lets the parcel go (挂起, or it opens another order): a parcel being checked
    is put aside; a labelled one stays labelled with no station, a weighed one is weighed again."""
    if parcel.state == "open":
        _move(parcel, "aside", station=None, **_by(actor))
    elif parcel.state == "weighed":
        _move(parcel, "labelled", station=None, weight_g=None, expected_g=None, weighed_at=None, **_by(actor))
    elif parcel.state == "labelled":
        _take(parcel, None, actor)
    else:
        raise InvalidTransition("package", parcel.state, "aside")
    _record(parcel, "pack_close", station, actor)


def check_unit(parcel: Package, product_id: int, sku: str, qty: int, actor: Actor) -> None:
    """``qty`` units of a product checked into a parcel being checked."""
    _set(parcel, ("open",), **_by(actor))  # still open where the caller read it
    added = (PackageUnit.update(qty=PackageUnit.qty + qty)
             .where((PackageUnit.package == parcel.id) & (PackageUnit.product == product_id)).execute())
    if not added:
        PackageUnit.create(package=parcel.id, product=product_id, qty=qty)
    _record(parcel, "pack_unit", json.dumps({"product": product_id, "sku": sku, "qty": qty}), actor)


def label(parcel: Package, carrier: str, tracking: str, job_id: int, station: str, actor: Actor) -> None:
    """open -> labelled: every unit checked; the parcel has its carrier, tracking number and
    label job."""
    _move(parcel, "labelled", carrier=carrier, tracking=tracking, label_job=job_id, label_confirmed=False,
          packed_at=utcnow(), **_by(actor))
    _record(parcel, "label", json.dumps({"tracking": tracking, "carrier": carrier, "job": job_id,
                                         "station": station}), actor)


def reprint(parcel: Package, job_id: int, actor: Actor) -> None:
    """The label printed again: the parcel's label is the new job (the same tracking number)."""
    _set(parcel, ("labelled", "weighed"), label_job=job_id, **_by(actor))
    _record(parcel, "label_reprint", str(job_id), actor)


def confirm_label(parcel: Package, actor: Actor) -> None:
    """The printed label's tracking number was scanned: the label on the box is this parcel's."""
    _set(parcel, ("labelled", "weighed"), label_confirmed=True, **_by(actor))
    _record(parcel, "label_confirmed", parcel.tracking, actor)


def weigh(parcel: Package, grams: int, expected_g: int | None, actor: Actor) -> None:
    """labelled | weighed -> weighed: a weight in the band (the last one counts)."""
    _move(parcel, "weighed", weight_g=grams, expected_g=expected_g, weighed_at=utcnow(), **_by(actor))
    _record(parcel, "weighed", json.dumps({"grams": grams, "expected_g": expected_g}), actor)


def ship(parcel: Package, actor: Actor) -> None:
    """-> shipped: scanned out (出库). The order's history has its ``shipped`` line from the order."""
    _move(parcel, "shipped", shipped_at=utcnow(), **_by(actor))


def mark_exported(package_ids: list[int]) -> None:
    """Their tracking numbers went back to the channel (the first time counts)."""
    if package_ids:
        (Package.update(exported_at=utcnow())
         .where(Package.id.in_(package_ids) & Package.exported_at.is_null()).execute())


# --- helpers ------------------------------------------------------------------------------------

def _by(actor: Actor | None) -> dict:
    return {"user": actor.user_id if actor else None, "device": actor.device_id if actor else None}


def _keep(parcel: Package, values: dict) -> None:
    for name, value in values.items():
        setattr(parcel, name + "_id" if name in ("user", "device", "label_job") else name, value)


def _where(parcel: Package) -> tuple[str, tuple]:
    """The station the caller read the parcel at: of two stations acting on one parcel, the
    second finds it moved (or taken elsewhere) and is refused."""
    return ("station IS NULL", ()) if parcel.station is None else ("station = ?", (parcel.station,))


def _move(parcel: Package, target: str, **values) -> None:
    PACKAGE.move(parcel.id, parcel.state, target, guard=_where(parcel), **values)
    parcel.state = target
    _keep(parcel, values)


def _set(parcel: Package, states: tuple[str, ...], **values) -> None:
    """Columns other than the state, only while the parcel is still where the caller read it, in
    one of ``states``."""
    at = Package.station.is_null() if parcel.station is None else (Package.station == parcel.station)
    if parcel.state not in states or not (Package.update(**values)
                                          .where((Package.id == parcel.id) & (Package.state == parcel.state) & at)
                                          .execute()):
        raise InvalidTransition("package", parcel.state, parcel.state)
    _keep(parcel, values)


def _take(parcel: Package, station: str | None, actor: Actor) -> None:
    """A labelled parcel changes station (or is left by its station): no step of its own."""
    _set(parcel, ("labelled",), station=station, **_by(actor))


def _record(parcel: Package, action: str, detail: str, actor: Actor | None) -> None:
    OrderEvent.create(order=parcel.order_id, action=action, detail=detail[:2000],
                      user=actor.user_id if actor else None)
