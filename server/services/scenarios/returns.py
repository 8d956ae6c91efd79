"""The ``returns`` floor scenario (退货入库): a receiver at the returns bench opens a buyer's
parcel, scans each unit, chooses its condition and closes the parcel.

The bench is the device the page logged in with (like a packing station); its open parcel is
the one it opened last. States (the bench page shows one panel each)::

    scan_parcel ──scan return tracking | our tracking | order no.──> scan_unit
        │  (names no order: return_not_found; open_unknown keeps it     │  ^
        │   as an unknown parcel 无头件 with a note)                     │  │ condition {code, condition}:
        │                                                              scan│  │ restock | damaged | scrap
        │                                                                 v  │
        │                                                               condition
        └<───────────────────────────── close ─────────────── scan_unit

    device (bench)                            server
      | cmd returns/scan {code}                 |  Refund.return_tracking | Package.tracking | order number
      |---------------------------------------->|  return_not_found (nothing named) | the parcel open for that
      |<----------------------------------------|  order resumes; scan_unit {parcel, lines[qty, returned], units}
      | cmd returns/open_unknown {code, note}   |  an unknown parcel (无头件), no order; scan_unit
      | cmd returns/scan {code: item}           |  not_on_order | already_returned | unknown_barcode
      |<----------------------------------------|  condition {item} (nothing written yet)
      | cmd returns/condition {code, condition} |  guarded UPDATE order_line.returned_qty (<= qty);
      |                                         |  ledger: receive -> returns location (available,
      |                                         |  qc_pending with RETURNS_QC, damaged; scrap: issued)
      |<----------------------------------------|  scan_unit (unit_returned)
      | cmd returns/note {note}                 |  the parcel's note (note_saved)
      | cmd returns/close                       |  RETURN_PARCEL open -> done; scan_parcel (parcel_done)
      | cmd returns/search {text}  (read only)  |  orders by buyer or number, masked without pii.read

Keep this diagram (and the one in docs/protocol.md) current with the code.

A scanned unit is checked (on the order, not all back) when it is scanned and received when its
condition is chosen: the device holds the scanned code between the two, so a reload or a lost
answer asks again and nothing is half-received. A unit scanned again, or at two benches at once,
is received once (services/returns/bench.py: the guarded update of ``returned_qty``).
"""
from __future__ import annotations

from flask import current_app, has_app_context

from server.models import Device, ReturnParcel
from server.services.auth import Principal
from server.services.device import scan, snapshot
from server.services.device.commands import at_station, envelope, scenario
from server.services.errors import Refused
from server.services.returns import bench
from server.services.stock.desk import actor_of

CONDITIONS = ("restock", "damaged", "scrap")


def returns_qc() -> bool:
    """The RETURNS_QC setting: restocked returns go to QC first."""
    return bool(has_app_context() and current_app.config.get("WF", {}).get("RETURNS_QC", False))


def view(station: str) -> tuple[str, dict]:
    """The bench's state: its open parcel (scan_unit) or nothing open (scan_parcel)."""
    device = Device.get_or_none(Device.code == station)
    parcel = bench.open_parcel_of(None, device.id) if device is not None else None
    if parcel is None:
        return "scan_parcel", {"station": station}
    return "scan_unit", {"station": station, "parcel": bench.parcel_view(parcel)}


def answer(station: str, code: str, lang, level: str = "info", state: str | None = None, **extra) -> dict:
    current, data = view(station)
    return envelope(True, state or current, dict(data, **extra), code=code, lang=lang, level=level)


@snapshot.provider
def returns_snapshot(principal: Principal) -> dict:
    if principal.device is None or not principal.can("returns.write"):
        return {}
    state, data = view(principal.device.code)
    return {"returns": {"state": state, "data": data}}


@scenario("returns", permission="returns.write", reads_only=("current", "search"))
def returns(principal: Principal, action: str, params: dict) -> dict:
    return at_station(principal, action, params, ACTIONS, view, no_station="no_bench")


def do_current(principal, params, lang, station) -> dict:
    state, data = view(station)
    return envelope(True, state, data, code="ok", lang=lang)


def _open(principal) -> ReturnParcel | None:
    return bench.open_parcel_of(principal.user.id, principal.device.id)


def do_scan(principal, params, lang, station) -> dict:
    code = str(params.get("code") or "").strip()
    parcel = _open(principal)
    if parcel is None:
        bench.open_parcel(code, actor=actor_of(principal))
        return answer(station, "return_opened", lang)
    found = scan.item(code) if code else None
    if found is None:
        raise Refused("unknown_barcode", scanned=code[:64])
    check_unit(parcel, found.id)
    return answer(station, "choose_condition", lang, state="condition",
                  item={"code": code, **bench.product_brief(found.id), "qty": found.per_scan})


def check_unit(parcel: ReturnParcel, product_id: int) -> None:
    """Refuse, before anything is written, a unit the parcel's order does not take any more."""
    if parcel.order_id is None:
        return
    room = bench.room_on_order(parcel.order_id, product_id)
    if room is None:
        raise Refused("not_on_order", product=product_id)
    if room <= 0:
        raise Refused("already_returned", product=product_id)


def do_open_unknown(principal, params, lang, station) -> dict:
    if _open(principal) is not None:
        raise Refused("parcel_closed")
    code = str(params.get("code") or "").strip()
    bench.open_parcel(code, actor=actor_of(principal), unknown_ok=True,
                      note=str(params.get("note") or ""))
    return answer(station, "unknown_parcel_opened", lang)


def do_condition(principal, params, lang, station) -> dict:
    parcel = _open(principal)
    if parcel is None:
        raise Refused("no_open_parcel")
    condition = params.get("condition")
    if condition not in CONDITIONS:
        raise Refused("bad_condition")
    code = str(params.get("code") or "").strip()
    found = scan.item(code) if code else None
    if found is None:
        raise Refused("unknown_barcode", scanned=code[:64])
    bench.receive_unit(parcel, found.id, condition, actor=actor_of(principal), qty=found.per_scan,
                       lot=found.lot, qc=returns_qc())
    return answer(station, "unit_returned", lang)


def do_note(principal, params, lang, station) -> dict:
    parcel = _open(principal)
    if parcel is None:
        raise Refused("no_open_parcel")
    bench.set_note(parcel, str(params.get("note") or ""))
    return answer(station, "note_saved", lang)


def do_close(principal, params, lang, station) -> dict:
    parcel = _open(principal)
    if parcel is None:
        raise Refused("no_open_parcel")
    bench.close_parcel(parcel, actor=actor_of(principal))
    return answer(station, "parcel_done", lang, parcel_closed=parcel.code)


def do_search(principal, params, lang, station) -> dict:
    orders = bench.search_orders(str(params.get("text") or ""), pii=principal.can("pii.read"))
    state, data = view(station)
    return envelope(True, state, dict(data, found=orders), code="orders_found" if orders else "no_orders_found",
                    level="info" if orders else "warning", lang=lang)


ACTIONS = {"current": do_current, "scan": do_scan, "open_unknown": do_open_unknown, "condition": do_condition,
           "note": do_note, "close": do_close, "search": do_search}
