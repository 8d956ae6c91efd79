"""The ``qc`` floor scenario (入库质检): an inspector checks the sample of a received licence plate
(LPN) unit by unit, and the lot is decided when its sample is complete.

States (the handheld shows one screen each)::

    scan_lpn ──scan {code}──> check ──pass | fail {reason}──> check   (sample not complete)
       ^       (an LPN in        │
       │        qc_pending)      └──the last sampled unit──> decided  (pass: units available, LPN ready;
       │                         └──reject (supervisor, failures            reject: units frozen / damaged,
       │                              already beyond Ac)──> decided         LPN rejected, supplier return)
       └──────────────── scan the next LPN ─────────────────────────────┘

    device (handheld)                         server
      | cmd qc/scan {code: SSCC | (00)SSCC}   |  qc_unknown_lpn | qc_not_pending (decided already)
      |-------------------------------------->|  check {sscc, sku, lot, sample_size, accept_number,
      |<--------------------------------------|         checked, failed, remaining}
      | cmd qc/pass {sscc}                    |  guarded UPDATE lpn SET checked = checked + 1
      | cmd qc/fail {sscc, reason}            |    WHERE checked < sample_size AND status = 'qc_pending'
      |-------------------------------------->|  qc_bad_reason | qc_sample_done (another device took the
      |                                       |  last check) | QcCheck row (user + device)
      |<--------------------------------------|  check (more to check) | decided {decision: pass | reject}:
      |                                       |  guarded LPN move, inventory.change_state qc_pending ->
      |                                       |  available | damaged | frozen (qc_pass, qc_fail, qc_reject)
      | cmd qc/reject {sscc}  (supervisor)    |  qc_not_exceeded while failures <= Ac
      |<--------------------------------------|  decided {decision: reject, supplier_return}
      after a pass commits: putaway.waiting -> role:receiver, wallboard, warehouse:<code>

Keep this diagram (and the one in docs/protocol.md) current with the code.

Every command that checks names its plate (``sscc``): the device's screen holds the plate it is
on, so a check sent from an offline queue after a rescan still counts on the plate it was made for.
"""
from __future__ import annotations

from server.models import Lpn
from server.services.auth import Principal
from server.services.device import snapshot
from server.services.device.commands import envelope, refusal, scenario
from server.services.errors import NotFound, Refused
from server.services.receiving import quality
from server.services.stock.desk import actor_of


def _decided_or_check(view: dict, lang, *, code_if_open: str) -> dict:
    if view["decision"] == "pass":
        return envelope(True, "decided", view, code="qc_passed", lang=lang)
    if view["decision"] == "reject":
        return envelope(True, "decided", view, code="qc_rejected", lang=lang, level="warning")
    return envelope(True, "check", view, code=code_if_open, lang=lang)


def _scan(principal: Principal, params: dict) -> dict:
    lang = principal.lang
    try:
        lpn = quality.find_lpn(str(params.get("code", "")))
    except NotFound:
        return refusal("qc_unknown_lpn", lang, "scan_lpn", {"code": str(params.get("code", ""))[:64]})
    view = quality.view(lpn)
    if lpn.status != "qc_pending":
        return envelope(False, "scan_lpn", view, code="qc_not_pending", lang=lang)
    return envelope(True, "check", view, code="qc_lpn_found", lang=lang)


def _check(principal: Principal, params: dict, passed: bool) -> dict:
    lang = principal.lang
    sscc = str(params.get("sscc", ""))
    try:
        view = quality.record_check(sscc, passed, str(params.get("reason", "")), actor=actor_of(principal))
    except NotFound:
        return refusal("qc_unknown_lpn", lang, "scan_lpn", {"code": sscc[:64]})
    except Refused as exc:
        lpn = quality.find_lpn(sscc)
        state = "check" if lpn.status == "qc_pending" else "scan_lpn"
        return envelope(False, state, dict(quality.view(lpn), reasons=list(quality.DEFECT_REASONS)),
                        code=exc.code, lang=lang)
    return _decided_or_check(view, lang, code_if_open="qc_checked")


def _reject(principal: Principal, params: dict) -> dict:
    lang = principal.lang
    if not principal.can("floor.control"):
        return refusal("forbidden", lang, "check")
    sscc = str(params.get("sscc", ""))
    try:
        view = quality.reject_early(sscc, actor=actor_of(principal))
    except NotFound:
        return refusal("qc_unknown_lpn", lang, "scan_lpn", {"code": sscc[:64]})
    except Refused as exc:
        lpn = quality.find_lpn(sscc)
        return envelope(False, "check" if lpn.status == "qc_pending" else "scan_lpn", quality.view(lpn),
                        code=exc.code, lang=lang)
    return _decided_or_check(view, lang, code_if_open="qc_checked")


@snapshot.provider
def qc_snapshot(principal: Principal) -> dict:
    """An inspector's handheld offers QC (the plate in hand is the device's own): how many plates
    wait, and whether this user may reject a lot early."""
    if not principal.can("quality.write"):
        return {}
    return {"qc": {"state": "scan_lpn", "waiting": Lpn.select().where(Lpn.status == "qc_pending").count(),
                   "can_reject_early": principal.can("floor.control")}}


@scenario("qc", permission="quality.write", reads_only=("scan",))
def qc(principal: Principal, action: str, params: dict) -> dict:
    if action == "scan":
        return _scan(principal, params)
    if action == "pass":
        return _check(principal, params, True)
    if action == "fail":
        return _check(principal, params, False)
    if action == "reject":
        return _reject(principal, params)
    return refusal("unknown_action", principal.lang)
