"""The ``receiving`` floor scenario (入库): a receiver counts a purchase order in at the dock.

States (the handheld mirrors them one screen each)::

    start ──start {code}──> scan_item ──scan {item}──> qty ──scan (more, or another item)──> qty
      ^  (po_not_found,         ^  (not_on_po,          │  qty {qty}: the plate in hand holds qty
      │   po_not_receivable)    │   unknown_barcode,    │  (over_receipt: the most still allowed)
      │                         │   over_receipt)       │
      │                         └──── label ────────────┘ the plate in hand closed: QC plan, label printed
      └──────────── finish {reason?} ── open plates closed and labelled; the rest stays in transit,
                                        or the order is closed short (receiving.close_short)

    device                                  server
      | cmd receiving/start {code, dock?}    |  PO by code or delivery note, approved | partially received;
      |-------------------------------------->|  a receipt at the dock (first active receiving location)
      |<--------------------------------------|  scan_item {receipt, lines (no ordered qty when blind)}
      | cmd receiving/scan {code}             |  SKU code, barcode, case code (x pack), GS1 (lot, expiry):
      |                                       |  guarded received_qty += n within the tolerance, units
      |                                       |  qc_pending at the dock, the SKU+lot's open plate (SSCC)
      |<--------------------------------------|  qty {lpn, lines}; after commit, coalesced: receipt.progress
      |                                       |  -> wallboard, warehouse:<code>
      | cmd receiving/qty {qty}               |  the plate in hand holds qty units in all
      | cmd receiving/label                   |  plate closed: plan none -> units available, plate ready
      |                                       |  (putaway.waiting -> role:receiver, wallboard); else qc_pending;
      |<--------------------------------------|  label (ZPL, SSCC as GS1-128) on the dock's printer
      | cmd receiving/finish {reason?}        |  every open plate closed; receipt closed; with a reason
      |<--------------------------------------|  the order closed short; start {finished}

Keep this diagram (and the one in docs/protocol.md) current with the code.

Every scan is one transaction: the order line's count, the ledger line, the plate and the
order's status commit together or not at all, and the command's key stores its answer with them.
"""
from __future__ import annotations

from server.services.auth import Principal
from server.services.device import scan, snapshot
from server.services.device.commands import envelope, refusal, refused_step, scenario
from server.services.errors import Refused
from server.services.receiving import lpn as plates
from server.services.receiving import receipts
from server.services.stock.desk import actor_of
from server.services.stock.inventory import MAX_QTY


def receipt_view(receipt: receipts.Held, open_plates: list) -> dict:
    progress = receipts.progress(receipt)
    data = {"receipt": {"id": receipt.id, "code": receipt.code, "po": receipt.po_code,
                        "supplier": receipt.supplier_name, "dock": receipt.dock_code, "blind": receipt.blind,
                        "units_received": progress["units_received"],
                        "lines_received": progress["lines_received"], "lines_ordered": progress["lines_ordered"]},
            "lines": receipts.lines_view(receipt),
            "plates": [plates.view(p) for p in open_plates]}
    if not receipt.blind:
        data["receipt"]["units_ordered"] = progress["units_ordered"]
    return data


def view(receipt: receipts.Held | None, counted: plates.Filled | None = None) -> tuple[str, dict]:
    """The receiver's screen; ``counted``: the plate a scan just counted into (the one in hand)."""
    if receipt is None:
        return "start", {}
    open_plates = receipts.open_plates_of(receipt)
    data = receipt_view(receipt, open_plates)
    if counted is not None:
        plate = next((p for p in open_plates if p.id == counted.id), None)
    else:
        plate = receipts.in_hand(receipt, open_plates)
    if plate is None:
        return "scan_item", data
    data["lpn"] = plates.view(plate)
    return "qty", data


# the refusals whose sentence names the code scanned
NAMES_SCANNED = ("unknown_barcode", "not_on_po", "po_not_found")


@snapshot.provider
def receiving_snapshot(principal: Principal) -> dict:
    """A reloaded or reconnected handheld returns to its open receipt."""
    if not principal.can("floor.receiving"):
        return {}
    state, data = view(receipts.current(principal.user.id))
    return {"receiving": {"state": state, **data}}


@snapshot.provider
def goods_in_snapshot(principal: Principal) -> dict:
    """A wall screen shows the open receipts' progress (kept current by ``receipt.progress``)."""
    if not principal.can("wallboard.view"):
        return {}
    return {"goods_in": receipts.open_progress()}


@scenario("receiving", permission="floor.receiving", reads_only=("current",))
def receiving(principal: Principal, action: str, params: dict) -> dict:
    lang = principal.lang
    handler = ACTIONS.get(action)
    if handler is None:
        return refusal("unknown_action", lang)
    receipt = receipts.current(principal.user.id)
    try:
        if action in ("current", "start"):
            return handler(principal, params, lang, receipt)
        if receipt is None:
            return envelope(False, "start", {}, code="no_receipt", lang=lang, level="warning")
        return handler(principal, params, lang, receipt)
    except Refused as exc:
        state, data = view(receipts.current(principal.user.id))
        return refused_step(exc, lang, state, data, NAMES_SCANNED)


def answer(receipt: receipts.Held | None, code: str, lang, level: str = "info", counted=None, **extra) -> dict:
    state, data = view(receipt, counted)
    return envelope(True, state, dict(data, **extra), code=code, lang=lang, level=level)


def do_current(principal, params, lang, receipt) -> dict:
    return answer(receipt, "ok", lang)


def do_start(principal, params, lang, receipt) -> dict:
    """Scan the purchase order's barcode or the delivery note's number."""
    code = str(params.get("code", "")).strip()
    dock = str(params.get("dock", "") or "").strip()
    receipt = receipts.open_receipt(code, actor_of(principal), dock)
    return answer(receipt, "receipt_opened", lang)


def do_scan(principal, params, lang, receipt) -> dict:
    """One scan of an item: the units its code counts (a case code its pack)."""
    code = str(params.get("code", "")).strip()
    if not code:
        raise Refused("unknown_barcode", scanned=code)
    item = scan.item(code)
    if item is None:
        raise Refused("unknown_barcode", scanned=code[:64])
    plate = receipts.receive(receipt, item.id, item.per_scan, actor_of(principal), lot=item.lot,
                             expiry=item.expiry, scanned=code[:64])
    return answer(receipt, "item_received", lang, counted=plate)


def do_qty(principal, params, lang, receipt) -> dict:
    """Type how many units the plate in hand holds instead of scanning each one."""
    plate = receipts.in_hand(receipt)
    if plate is None:
        raise Refused("scan_item_before_qty", sku="")
    qty = params.get("qty")
    if isinstance(qty, str) and qty.strip().isdecimal() and len(qty.strip()) <= len(str(MAX_QTY)):
        qty = int(qty.strip())
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 <= qty <= MAX_QTY:
        raise Refused("invalid_quantity", qty=str(qty)[:20])
    plate = receipts.count_to(receipt, plate, qty, actor_of(principal))
    return answer(receipt, "item_received", lang, counted=plate)


def do_label(principal, params, lang, receipt) -> dict:
    """Close the plate in hand (or the one named by ``sscc``): QC plan, label on the dock's printer."""
    sscc = str(params.get("sscc", "") or "").strip()
    if not sscc:
        plate = receipts.in_hand(receipt)
        if plate is None:
            raise Refused("no_open_lpn")
        sscc = plate.sscc
    closed = receipts.close_plate(receipt, sscc, actor_of(principal))
    labelled = {"sscc": closed.sscc, "status": closed.status, "qty": closed.qty, "printer": closed.printed}
    code, level = ("lpn_labelled", "info") if closed.printed else ("no_dock_printer", "warning")
    return answer(receipt, code, lang, level, labelled=labelled)


def do_finish(principal, params, lang, receipt) -> dict:
    """The receipt is done: open plates closed and labelled; with ``reason``, the order closed short."""
    reason = str(params.get("reason", "") or "").strip()
    closed = receipts.finish(receipt, actor_of(principal), short_reason=reason,
                             may_close_short=principal.can("receiving.close_short"))
    finished = {"receipt": receipt.code, **receipts.progress(receipt),
                "plates": [{"sscc": p.sscc, "status": p.status, "qty": p.qty, "printer": p.printed} for p in closed]}
    return envelope(True, "start", {"finished": finished}, code="receipt_finished", lang=lang)


ACTIONS = {"current": do_current, "start": do_start, "scan": do_scan, "qty": do_qty, "label": do_label,
           "finish": do_finish}
