"""The ``putaway`` floor scenario (上架): a receiver takes a ready licence plate from the dock to
the location the server suggests.

States (the handheld mirrors them one screen each)::

    start ──scan {sscc}──> scan_location ──scan {suggested}──────────────> confirm_qty ──qty──> start
      ^  (waiting plates,      │   │                                           ^     (lpn_stored)
      │   FEFO, each with      │   └──scan {another}──> reason ──reason {r}───┘
      │   its suggestion)      └──release──> start (the plate waits again)

    device                                  server
      | cmd putaway/get_work                  |  ready plates nobody holds, FEFO, each with its
      |<--------------------------------------|  suggestion; start {waiting}
      | (a plate becomes ready)               |  event putaway.waiting -> role:receiver, wallboard, warehouse:<code>
      | cmd putaway/scan {code: SSCC|(00)SSCC}|  unknown_lpn | lpn_not_ready | lpn_taken; the plate is
      |<--------------------------------------|  the receiver's: scan_location {lpn, suggested}
      | cmd putaway/scan {code: location}     |  the suggested one -> confirm_qty; another storage
      |<--------------------------------------|  location -> reason; not_storage_location
      | cmd putaway/reason {location, reason} |  reason_required unless one of the reasons
      | cmd putaway/qty {qty, location, reason?}  putaway_qty_mismatch; StockMove dock -> location
      |                                       |  (available, reason putaway, ref lpn:<sscc>), plate stored,
      |<--------------------------------------|  a reason recorded in the audit log; start {stored, waiting}

Keep this diagram (and the one in docs/protocol.md) current with the code.

The plate a receiver holds is the one whose ``stored_by`` is the receiver while it is still
``ready``: a reloaded device returns to it, and no other receiver can take it. The location
chosen travels with the device's ``reason`` and ``qty`` commands and is checked again there.
"""
from __future__ import annotations

from server.services.auth import Principal
from server.services.device import snapshot
from server.services.device.commands import envelope, refusal, refused_step, scenario
from server.services.errors import Refused
from server.services.receiving import putaway as service
from server.services.receiving.lpn import sscc_of
from server.services.stock.desk import actor_of
from server.services.stock.inventory import MAX_QTY


def plate_view(plate: dict) -> dict:
    return {"id": plate["id"], "sscc": plate["sscc"], "sku": plate["sku"], "name": plate["name"],
            "lot": plate["lot"], "expiry": plate["expiry"].isoformat() if plate["expiry"] else "",
            "qty": plate["qty"], "dock": plate["dock"]}


def waiting_view(principal: Principal) -> list[dict]:
    return [dict(plate_view(p), suggested=p["suggested"]) for p in service.waiting()]


def suggested_view(plate: dict) -> dict:
    found = service.suggestion(plate)
    return {"code": found.code, "why": found.why,
            "distance_m": round(found.distance_m, 1) if found.distance_m != float("inf") else None}


def view(principal: Principal, plate: dict | None) -> tuple[str, dict]:
    if plate is None:
        return "start", {"waiting": waiting_view(principal)}
    return "scan_location", {"lpn": plate_view(plate), "suggested": suggested_view(plate)}


# the refusals whose sentence names the code scanned
NAMES_SCANNED = ("unknown_barcode", "unknown_lpn", "not_storage_location")


@snapshot.provider
def putaway_snapshot(principal: Principal) -> dict:
    """A reloaded or reconnected handheld returns to the plate it holds."""
    if not principal.can("floor.receiving"):
        return {}
    plate = service.in_hand(principal.user.id)
    if plate is None:
        return {"putaway": {"state": "start"}}
    state, data = view(principal, plate)
    return {"putaway": {"state": state, **data}}


@scenario("putaway", permission="floor.receiving", reads_only=("current", "get_work"))
def putaway(principal: Principal, action: str, params: dict) -> dict:
    lang = principal.lang
    handler = ACTIONS.get(action)
    if handler is None:
        return refusal("unknown_action", lang)
    plate = service.in_hand(principal.user.id)
    try:
        return handler(principal, params, lang, plate)
    except Refused as exc:
        state, data = view(principal, service.in_hand(principal.user.id))
        return refused_step(exc, lang, state, data, NAMES_SCANNED)


def do_current(principal, params, lang, plate) -> dict:
    state, data = view(principal, plate)
    return envelope(True, state, data, code="ok", lang=lang)


def do_get_work(principal, params, lang, plate) -> dict:
    state, data = view(principal, plate)
    if state == "start" and not data["waiting"]:
        return envelope(False, "start", data, code="no_putaway_work", lang=lang, level="warning")
    return envelope(True, state, data, code="ok", lang=lang)


def do_scan(principal, params, lang, plate) -> dict:
    code = str(params.get("code", "")).strip()[:64]
    if plate is None:
        taken = service.take(code, principal.user.id)
        state, data = view(principal, taken)
        return envelope(True, state, data, code="lpn_taken_up", lang=lang)
    if sscc_of(code) is not None:
        raise Refused("lpn_in_hand", sscc=plate["sscc"])
    location = service.storage_location(code, plate_warehouse(plate))
    suggested = suggested_view(plate)
    data = {"lpn": plate_view(plate), "suggested": suggested, "location": location.code}
    if location.code == suggested["code"]:
        return envelope(True, "confirm_qty", data, code="putaway_location_ok", lang=lang)
    return envelope(True, "reason", dict(data, reasons=list(service.REASONS)), code="location_not_suggested",
                    lang=lang, level="warning")


def plate_warehouse(plate: dict) -> int:
    return plate["warehouse_id"]


def do_reason(principal, params, lang, plate) -> dict:
    if plate is None:
        raise Refused("no_lpn_in_hand")
    location = service.storage_location(str(params.get("location", "")), plate_warehouse(plate))
    reason = str(params.get("reason", "")).strip()
    if reason not in service.REASONS:
        raise Refused("putaway_reason_required", reasons=",".join(service.REASONS))
    data = {"lpn": plate_view(plate), "suggested": suggested_view(plate), "location": location.code,
            "reason": reason}
    return envelope(True, "confirm_qty", data, code="reason_recorded", lang=lang)


def do_qty(principal, params, lang, plate) -> dict:
    """Confirm the units put away at the location: the move, the plate stored."""
    if plate is None:
        raise Refused("no_lpn_in_hand")
    qty = params.get("qty")
    if isinstance(qty, str) and qty.strip().isdecimal() and len(qty.strip()) <= len(str(MAX_QTY)):
        qty = int(qty.strip())
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 < qty <= MAX_QTY:
        raise Refused("invalid_quantity", qty=str(qty)[:20])
    location = service.storage_location(str(params.get("location", "")), plate_warehouse(plate))
    suggested = suggested_view(plate)["code"]
    service.store(plate, location, qty, actor_of(principal), suggested=suggested,
                  reason=str(params.get("reason", "") or "").strip())
    stored = dict(plate_view(plate), location=location.code)
    state, data = view(principal, None)
    return envelope(True, state, dict(data, stored=stored), code="lpn_stored", lang=lang)


def do_release(principal, params, lang, plate) -> dict:
    """Put the plate back on the waiting list (someone else will take it)."""
    service.let_go(principal.user.id)
    state, data = view(principal, None)
    return envelope(True, state, data, code="lpn_released", lang=lang)


ACTIONS = {"current": do_current, "get_work": do_get_work, "scan": do_scan, "reason": do_reason, "qty": do_qty,
           "release": do_release}
