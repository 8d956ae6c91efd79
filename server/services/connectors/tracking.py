"""A parcel's journey after it leaves (物流轨迹): collected, in transit, out for delivery,
delivered, or an exception, as the shop's platform reports it (pulled) or the carrier tells us
(pushed to a signed endpoint). Each step is a ``TrackingEvent`` of the package, stored once
(a step is the package, its moment and its status: the same step pulled twice, or pulled and
pushed, is one row), and the package's ``tracking_status``, ``collected_at`` (揽收) and
``delivered_at`` (签收) are worked out again from all its steps in the same short transaction,
so steps that arrive out of order give the same answer.

Pulls ask about the shop's shipped parcels that are not delivered yet and left in the last
:data:`FOLLOW_FOR`, a few hundred a round under the shop's lease. A round goes on where the last
one stopped (the shop's ``trace`` checkpoint is the ship time of the last parcel asked) and
starts again from the oldest once every parcel has been asked, so a shop with more parcels in
the post than a round takes still has each of them asked in turn. A delivered parcel is not
asked again. Errors are sorted as the order pulls sort them: an expired session stops the round
and marks the shop for re-authorisation, an unreachable platform or its rate limit stops the
round (the next one tries again), an answer about one parcel that cannot be read, or a refusal,
is noted and the round goes on with the others.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field

from flask import current_app, has_app_context

from server.config import load_settings
from server.connectors.base import TRACE_STATES, TraceEvent
from server.connectors.errors import PlatformError, RateLimited, SessionInvalid, Unreachable
from server.db import sql, write_transaction
from server.models import Order, Package, Shop, ShopConnection, SyncCheckpoint, TrackingEvent
from server.models.base import utcnow
from server.services.connectors import leases
from server.services.connectors.outbox import mark_reauthorise
from server.services.errors import AuthError, DomainError, NotFound

OPERATION = "trace"              # the checkpoint of a shop's trace pulls
FOLLOW_FOR = dt.timedelta(days=30)   # a parcel not delivered after this is no longer asked about
EVERY = dt.timedelta(minutes=30)     # how often the worker pulls a shop's traces
LEASE_S = 120
LIMIT = 200                      # parcels asked about in one round
#: platforms whose client can answer a trace (JOS and 抖店 leave tracking to the carriers' pushes)
TRACED_PLATFORMS = ("top",)
#: the largest push taken: a carrier sends a batch of steps, a few hundred bytes each
MAX_PUSH_BYTES = 1024 * 1024
BAD_SIGNATURE = "bad or missing signature"
#: a status's name for people, (English, 简体中文)
STATUS_NAMES = {"collected": ("Collected", "已揽收"), "in_transit": ("In transit", "运输中"),
                "delivering": ("Out for delivery", "派送中"), "delivered": ("Delivered", "已签收"),
                "exception": ("Exception", "异常")}
# of two steps at the same moment, the later in this order is the parcel's status
RANK = {status: n for n, status in enumerate(TRACE_STATES)}

log = logging.getLogger(__name__)


class PushUnreadable(DomainError):
    code = "tracking_push_unreadable"
    http_status = 400


@dataclass
class TraceReport:
    shop: str
    asked: int = 0            # parcels asked about
    stored: int = 0           # new steps stored
    delivered: int = 0        # parcels found delivered this round
    stopped: str = ""         # why the round ended early ('' when it asked all it meant to)
    error: str = ""
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# --- storing -----------------------------------------------------------------------------------

def record(package_id: int, events: list[TraceEvent], source: str) -> tuple[int, bool]:
    """Store a parcel's steps (those it has already are skipped) and work its tracking status
    out again: (steps stored, whether it is delivered now)."""
    stored = 0
    with write_transaction():
        for event in events:
            stored += sql("INSERT INTO tracking_event (package_id, at, status, detail, place, source) "
                          "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (package_id, at, status) DO NOTHING",
                          package_id, _naive_second(event.at), event.status, event.detail or "",
                          (event.place or "")[:100], source).rowcount
        summary = _summary(package_id)
        Package.update(**summary).where(Package.id == package_id).execute()
    return stored, summary["delivered_at"] is not None


def _summary(package_id: int) -> dict:
    """The parcel's latest status, first collection (any step but an exception means it was
    taken) and first delivery, from all its steps."""
    steps = list(TrackingEvent.select(TrackingEvent.at, TrackingEvent.status)
                 .where(TrackingEvent.package == package_id).tuples())
    if not steps:
        return {"tracking_status": "", "collected_at": None, "delivered_at": None}
    latest = max(steps, key=lambda step: (step[0], RANK.get(step[1], -1)))
    taken = [at for at, status in steps if status != "exception"]
    delivered = [at for at, status in steps if status == "delivered"]
    return {"tracking_status": latest[1], "collected_at": min(taken) if taken else None,
            "delivered_at": min(delivered) if delivered else None}


def _naive_second(moment: dt.datetime) -> dt.datetime:
    """Naive UTC to the second, as the database keeps it: a pulled and a pushed step of the same
    moment are one step, whatever fraction of a second either carries."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0)


# --- pulling -----------------------------------------------------------------------------------

def due(connection: ShopConnection, now: dt.datetime | None = None) -> bool:
    """Whether the worker should pull the shop's traces now (its platform can answer them and
    the last round is :data:`EVERY` ago)."""
    if connection.platform not in TRACED_PLATFORMS:
        return False
    mark = _checkpoint(connection.shop_id)
    return mark is None or mark.last_run_at is None or (now or utcnow()) - mark.last_run_at >= EVERY


def pull_traces(shop_code: str, client, *, now: dt.datetime | None = None, limit: int = LIMIT,
                holder: str = "trace") -> TraceReport:
    """Ask the shop's platform about up to ``limit`` of its parcels in the post and store what is new."""
    shop = Shop.get_or_none(Shop.code == shop_code)
    if shop is None:
        raise NotFound(kind="shop", code=shop_code)
    now = now or utcnow()
    report = TraceReport(shop_code)
    lease = f"trace:{shop.id}"
    if not leases.take(lease, holder, LEASE_S):
        report.stopped = "leased"
        return report
    try:
        _pull(shop, client, now, limit, holder, lease, report)
    finally:
        leases.release(lease, holder)
    return report


def _pull(shop, client, now, limit, holder, lease, report) -> None:
    mark = _checkpoint(shop.id)
    oldest = now - FOLLOW_FOR
    after = max(mark.until, oldest) if mark is not None else oldest
    parcels = list(_in_the_post(shop.code, after, limit))
    cursor = after
    for package, external_id in parcels:
        try:
            events = client.trace(external_id, package.tracking, package.carrier)
        except SessionInvalid as error:
            _stop(report, "session", error, shop)
            mark_reauthorise(shop.id, str(error))
            break
        except (Unreachable, RateLimited) as error:
            _stop(report, "rate_limited" if isinstance(error, RateLimited) else "unreachable", error, shop)
            break
        except PlatformError as error:    # this parcel's answer: the others are asked all the same
            report.problems.append(f"{external_id} ({package.tracking}): {error}")
            log.warning("trace of %s parcel %s: %s", shop.code, package.tracking, error)
            events = None
        report.asked += 1
        if events:
            stored, delivered = record(package.id, [e for e in events if e.status in RANK], client.platform)
            report.stored += stored
            report.delivered += delivered
        cursor = package.shipped_at
        if not leases.take(lease, holder, LEASE_S):
            report.stopped = "lease_lost"
            break
    if not report.stopped and len(parcels) < limit:
        cursor = oldest   # every parcel in the post was asked: the next round starts again from the oldest
    _note_round(shop.id, cursor, now, report)


def _in_the_post(shop_code: str, after: dt.datetime, limit: int):
    """(package, the order's channel id) of the shop's parcels shipped after ``after`` and not
    delivered, oldest first."""
    query = (Package.select(Package, Order.external_id).join(Order)
             .where((Order.shop == shop_code) & (Package.state == "shipped") & Package.delivered_at.is_null()
                    & (Package.shipped_at > after) & (Package.tracking != ""))
             .order_by(Package.shipped_at, Package.id).limit(limit))
    return ((package, package.order.external_id) for package in query)


def _checkpoint(shop_id: int) -> SyncCheckpoint | None:
    return SyncCheckpoint.get_or_none((SyncCheckpoint.shop == shop_id) & (SyncCheckpoint.operation == OPERATION))


def _note_round(shop_id: int, cursor: dt.datetime, now: dt.datetime, report: TraceReport) -> None:
    """The round's end on the shop's ``trace`` checkpoint: where the next goes on, and what went wrong."""
    error = (report.error or "; ".join(report.problems[:3]))[:2000]
    with write_transaction():
        (SyncCheckpoint.insert(shop=shop_id, operation=OPERATION, until=cursor, last_run_at=now,
                               last_error=error, stored=report.stored)
         .on_conflict(conflict_target=[SyncCheckpoint.shop, SyncCheckpoint.operation],
                      update={SyncCheckpoint.until: cursor, SyncCheckpoint.last_run_at: now,
                              SyncCheckpoint.last_error: error,
                              SyncCheckpoint.stored: SyncCheckpoint.stored + report.stored})
         .execute())


def _stop(report: TraceReport, why: str, error: PlatformError, shop) -> None:
    report.stopped, report.error = why, str(error)
    log.warning("trace pull of %s stopped: %s", shop.code, error)


# --- a carrier's push --------------------------------------------------------------------------

def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def receive_push(carrier_code: str, body: bytes, signature: str, secret: str | None = None) -> dict:
    """A carrier's batch of steps (the body format: docs/tracking.md), signed with the setting
    TRACKING_PUSH_SECRET (``secret`` stands in for it). Nothing is read before the signature
    holds, and with no secret set every push is refused. Every good step is stored; a bad one is
    named by its index and field, a number no parcel of this carrier has is listed as unknown."""
    secret = _push_secret() if secret is None else secret
    if not secret or not hmac.compare_digest(sign(secret, body), signature or ""):
        raise AuthError(BAD_SIGNATURE)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PushUnreadable(f"the body is not JSON: {exc}") from None
    rows = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise PushUnreadable('the body is not {"events": [...]}')
    carrier = carrier_code.upper()
    report = {"carrier": carrier, "received": len(rows), "stored": 0, "duplicates": 0, "unknown": [],
              "problems": []}
    by_number: dict[str, list[TraceEvent]] = {}
    for index, row in enumerate(rows):
        number, event, problem = _push_row(row)
        if problem:
            report["problems"].append(f"events[{index}].{problem}")
        else:
            by_number.setdefault(number, []).append(event)
    parcels = {p.tracking: p for p in Package.select(Package.id, Package.tracking, Package.carrier)
               .where((Package.tracking.in_(list(by_number))) & (Package.tracking != ""))} if by_number else {}
    for number, events in by_number.items():
        package = parcels.get(number)
        if package is None or (package.carrier and package.carrier.upper() != carrier):
            report["unknown"].append(number)
            continue
        stored, _ = record(package.id, events, f"push:{carrier}"[:16])
        report["stored"] += stored
        report["duplicates"] += len(events) - stored
    return report


def _push_secret() -> str:
    if has_app_context() and "WF" in current_app.config:
        return str(current_app.config["WF"].get("TRACKING_PUSH_SECRET", ""))
    return str(load_settings({"SECRET_KEY": "unused"})["TRACKING_PUSH_SECRET"])


def _push_row(row) -> tuple[str, TraceEvent | None, str]:
    """(tracking number, the step, '') or ('', None, 'field: why')."""
    if not isinstance(row, dict):
        return "", None, "row: not an object"
    number = row.get("tracking")
    if not isinstance(number, str) or not number.strip() or len(number.strip()) > 64:
        return "", None, "tracking: a tracking number (1 to 64 characters) is required"
    status = row.get("status")
    if status not in RANK:
        return "", None, f"status: one of {', '.join(TRACE_STATES)}"
    at = row.get("at")
    try:
        moment = dt.datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return "", None, "at: an ISO 8601 time with its zone (2026-11-11T08:00:00+08:00)"
    for name in ("detail", "place"):
        if not isinstance(row.get(name, ""), str):
            return "", None, f"{name}: text"
    return number.strip(), TraceEvent(moment, status, row.get("detail", ""), row.get("place", "")), ""


# --- reading -----------------------------------------------------------------------------------

def order_events(order_id: int) -> list[dict]:
    """The steps of an order's parcel, oldest first, with the status's names."""
    query = (TrackingEvent.select(TrackingEvent, Package.tracking, Package.carrier).join(Package)
             .where(Package.order == order_id).order_by(TrackingEvent.at, TrackingEvent.id))
    return [{"at": e.at, "status": e.status, "status_en": STATUS_NAMES.get(e.status, (e.status,) * 2)[0],
             "status_zh": STATUS_NAMES.get(e.status, (e.status,) * 2)[1], "detail": e.detail, "place": e.place,
             "source": e.source, "tracking": e.package.tracking, "carrier": e.package.carrier} for e in query]
