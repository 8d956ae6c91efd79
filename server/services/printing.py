"""The print queue (打印队列): printers, label jobs, the worker that sends them, printer status.

A job is rendered to ZPL for its printer when it is queued, so it needs nothing else to print.
A worker sends each job in three short steps, none of which holds a transaction during I/O:

    claim (one guarded UPDATE)  ->  send (network)  ->  done | queued | failed

Order: a printer has at most one job in flight and the worker always takes the printer's
oldest open job, so a job never overtakes an older one; a job waiting for its retry holds up
the jobs behind it, as the labels of one packing bench must come out in the order they were
asked for.

Printed: a job whose every byte went to the printer (written to its socket, accepted by lpr,
written to the spool file) is ``done`` at once, and is never sent again unless a person asks
for a reprint (补打). Only a send that fails before that (no connection, a send that times
out) puts the job back in the queue with a backoff (2, 4, 8 ... 60 s); after ``max_attempts``
it fails, to be retried or moved to another printer by a person.

Status is optional: after a label, and every ``poll_interval_s``, the worker asks ``~HS`` (and
``~HQES`` where that tells more). A reported fault (paper out, head open ...) holds the
printer's jobs until it clears: a Zebra keeps what it was sent in its buffer, and held jobs can
still be moved. A printer that does not answer, or answers nothing readable, is ``unknown``
(``ok`` None): no failure, many printers and print servers never answer. Its jobs still go;
it is asked again only every ``silent_poll_s``, never after each label, where a wait for an
answer that will not come would slow every label down.

Lanes: a started worker serves each active printer in a lane of its own (a thread, a greenlet
under gevent), so a printer that is slow to connect, to take bytes or to answer holds up only
its own labels. A lane holds no database connection while it waits on a printer.

URLs: a printer's URL is checked when it is saved (``printers.transport.check_url``): a
``file://`` printer writes only inside the spool folder, and only an admin sets or changes a
URL, which decides where labels with buyers' addresses go. A worker given the spool folder
holds the jobs of a stored URL outside it, and a printer whose URL fails costs only itself.

Lease and at-least-once: the claim sets ``claimed_by`` and ``claimed_until`` (now + lease).
A worker that dies leaves its job in ``sending``; once the lease has expired any worker claims
it again, so nothing is lost across a restart. The edge: a worker that dies after the printer
took the bytes but before ``done`` committed causes a second print of the same label. We keep
that window small and rare: ``done`` is one UPDATE right after the bytes went, before any
status is read; the lease is longer than the worst send (timeouts included), so a live worker
never loses its job to another; and a worker checks it still holds the lease right before it
sends, so a worker that stalled past its lease never sends a job someone else has taken over.
A duplicate is a second copy of the same label (same tracking number), never a different
parcel's label.

It is one module because the printers, the jobs' verbs and the worker share the ordering,
"printed" and lease rules above, which stay right only when they are read in one place.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

from peewee import JOIN, fn

from printers.exceptions import BadPrinterUrl, OutsideSpool, PrinterError, StatusUnsupported, UnknownTransport
from printers.labels import render_label
from printers.status import NO_ANSWER, OFFLINE, PrinterStatus, StatusParseError, read_status
from printers.transport import check_url, open_transport
from printers.zpl import PrinterProfile
from server import events
from server.db import after_commit, database, write_transaction
from server.models import AuditLog, PrintJob, Printer, User
from server.models.base import utcnow
from server.models.printing import OPEN_STATES, PRINTER_CJK, TRANSITIONS
from server.services.errors import DomainError, Forbidden, InvalidTransition, NotFound
from server.services.states import Lifecycle
from server.services.stock.inventory import Actor

log = logging.getLogger(__name__)

JOB = Lifecycle("print_job", PrintJob, TRANSITIONS, column="state")

MAX_ATTEMPTS = 8
BACKOFF_CAP_S = 60
LEASE_S = 60
BAD_STATUS = "bad_status"
# the printer said nothing that can be read: its state is unknown, which is not a failure
UNKNOWN = (NO_ANSWER, BAD_STATUS)
# ... and one that cannot be reached may be a blip: the jobs of either are tried, not held
NOT_HOLDING = UNKNOWN + (OFFLINE,)
TCP_OPTIONS = {"connect_timeout": 3.0, "send_timeout": 10.0, "read_timeout": 2.0}


class _Bell:
    """Wakes the lanes of this process: the lane of a printer that was given a job, or all of
    them; ``None`` is the worker's own watch over which printers are active."""

    def __init__(self):
        self._rung = threading.Condition()
        self._counts: dict[int | None, int] = {}

    def count(self, key: int | None) -> int:
        with self._rung:
            return self._counts.setdefault(key, 0)

    def ring(self, printer_id: int | None = None) -> None:
        with self._rung:
            keys = list(self._counts) if printer_id is None else [printer_id, None]
            for key in keys:
                self._counts[key] = self._counts.get(key, 0) + 1
            self._rung.notify_all()

    def wait(self, key: int | None, seen: int, timeout: float) -> int:
        """Until ``key`` is rung past ``seen`` or ``timeout`` passes; returns its count."""
        with self._rung:
            self._rung.wait_for(lambda: self._counts.get(key, 0) != seen, timeout)
            return self._counts.get(key, 0)


_bell = _Bell()


class PrinterSettingsError(DomainError):
    code = "invalid_printer"


class PrinterUrlRejected(PrinterSettingsError):
    code = "printer_url_rejected"


class PrinterUrlOutsideSpool(PrinterSettingsError):
    code = "printer_url_outside_spool"


class PrinterUrlForbidden(Forbidden):
    code = "printer_url_admin_only"


class LabelRejected(DomainError):
    code = "label_rejected"


class PrinterInactive(DomainError):
    code = "printer_inactive"
    http_status = 409


# --- printers ------------------------------------------------------------------------------

def printer_by_code(code: str) -> Printer:
    found = Printer.get_or_none(Printer.code == code)
    if found is None:
        raise NotFound(f"unknown printer {code!r}", code=code)
    return found


def profile_of(printer: Printer) -> PrinterProfile:
    return PrinterProfile(dpi=printer.dpi, width_in=printer.width_in, height_in=printer.height_in,
                          cjk=printer.cjk, font_name=printer.font_name)


PRINTER_FIELDS = ("name", "url", "dpi", "width_in", "height_in", "cjk", "font_name", "station", "active")


def spool_folder(settings: Mapping) -> str:
    """The folder ``file://`` printers may write in: the PRINT_SPOOL_DIR setting, or ``spool``
    in the instance folder."""
    return os.path.abspath(settings.get("PRINT_SPOOL_DIR") or os.path.join(settings["INSTANCE_DIR"], "spool"))


def save_printer(code: str, values: Mapping, actor: Actor, *, spool_dir: str | None = None,
                 may_change_url: bool = True) -> Printer:
    """Create or update a printer; only the fields given change.

    A new or changed URL is checked first: with ``spool_dir`` (the HTTP API and the CLI give the
    configured one) a ``file://`` printer must write inside it. Without ``may_change_url`` (a
    supervisor) a new printer or another URL is refused: the URL decides where labels, with
    buyers' names and addresses, go. A stored URL is not checked again when other fields
    change, so a printer with a bad one can still be switched off."""
    changes = {key: values[key] for key in PRINTER_FIELDS if key in values}
    with write_transaction():
        printer = Printer.get_or_none(Printer.code == code)
        if printer is None:
            if not changes.get("url"):
                raise PrinterSettingsError("a new printer needs a url", field="url")
            printer = Printer(code=code)
        url_changed = printer.id is None or changes.get("url", printer.url) != printer.url
        if url_changed and not may_change_url:
            raise PrinterUrlForbidden(f"only an admin may set or change the URL of printer {code}",
                                      field="url", printer=code)
        for key, value in changes.items():
            setattr(printer, key, value)
        _validate(printer, url_changed, spool_dir)
        printer.updated_at = utcnow()
        printer.save()
        _audit(actor, "printer.save", code, json.dumps(changes, ensure_ascii=False, default=str))
    return printer


def _validate(printer: Printer, url_changed: bool, spool_dir: str | None) -> None:
    if url_changed:
        try:
            check_url(printer.url or "", spool_dir)
        except OutsideSpool as error:
            raise PrinterUrlOutsideSpool(str(error), field="url", spool=os.path.realpath(spool_dir)) from None
        except UnknownTransport as error:
            raise PrinterSettingsError(str(error), field="url") from None
        except BadPrinterUrl as error:
            raise PrinterUrlRejected(str(error), field="url") from None
    if printer.cjk not in PRINTER_CJK:
        raise PrinterSettingsError(f"cjk must be one of {', '.join(PRINTER_CJK)}", field="cjk")
    try:
        profile_of(printer)
    except ValueError as error:
        raise PrinterSettingsError(str(error)) from None


def status_of(printer: Printer) -> dict:
    """The stored status: ``{ok, faults, warnings, source, at}``; ``ok`` is None before a poll
    and while the printer does not answer (unknown)."""
    stored = json.loads(printer.last_status) if printer.last_status else {}
    return {"ok": stored.get("ok"), "faults": stored.get("faults", []),
            "warnings": stored.get("warnings", []), "source": stored.get("source", ""),
            "at": printer.last_status_at}


def holds_jobs(status: Mapping) -> bool:
    """A reported fault (paper out, head open, a URL outside the spool ...) holds jobs back;
    silence and an unreachable printer do not."""
    return any(fault not in NOT_HOLDING for fault in status.get("faults") or ())


def printer_list() -> list[dict]:
    counts = {}
    for printer_id, state, count in (PrintJob.select(PrintJob.printer, PrintJob.state, fn.COUNT(PrintJob.id))
                                     .where(PrintJob.state.in_(("queued", "sending", "failed")))
                                     .group_by(PrintJob.printer, PrintJob.state).tuples()):
        counts.setdefault(printer_id, {})[state] = count
    return [printer_view(p, counts.get(p.id, {})) for p in Printer.select().order_by(Printer.code)]


def printer_view(printer: Printer, counts: Mapping | None = None) -> dict:
    counts = counts or {}
    return {"code": printer.code, "name": printer.name, "url": printer.url, "dpi": printer.dpi,
            "width_in": printer.width_in, "height_in": printer.height_in, "cjk": printer.cjk,
            "font_name": printer.font_name, "station": printer.station, "active": printer.active,
            "status": status_of(printer), "queued": counts.get("queued", 0) + counts.get("sending", 0),
            "failed": counts.get("failed", 0)}


# --- jobs: the office's and the kiosk's verbs ----------------------------------------------

def _render(template: str, data: Mapping, printer: Printer) -> str:
    try:
        return render_label(template, data, profile_of(printer))
    except PrinterError as error:
        raise LabelRejected(str(error), reason=error.code, template=template) from None


def enqueue(printer_code: str, template: str, data: Mapping, ref: str = "",
            actor: Actor | None = None) -> PrintJob:
    """Queue one label; its ZPL is rendered now, for this printer."""
    printer = printer_by_code(printer_code)
    if not printer.active:
        raise PrinterInactive(f"printer {printer_code} is not in use", printer=printer_code)
    zpl = _render(template, data, printer)
    with write_transaction():
        job = PrintJob.create(printer=printer.id, template=template,
                              data=json.dumps(data, ensure_ascii=False, default=str), zpl=zpl,
                              ref=ref, created_by=actor.user_id if actor else None)
        after_commit(lambda: _bell.ring(printer.id))
    return job


def get_job(job_id: int) -> PrintJob:
    job = PrintJob.get_or_none(PrintJob.id == job_id)
    if job is None:
        raise NotFound(f"no print job {job_id}", job=job_id)
    return job


def _transition(job: PrintJob, target: str, guard: tuple[str, tuple] = ("", ()), **changes) -> None:
    """Move ``job`` to ``target`` if TRANSITIONS allow it and nobody moved it first (and the job
    still meets ``guard``: the worker's own lease)."""
    JOB.move(job.id, job.state, target, guard=guard, **changes)
    job.state = target
    for key, value in changes.items():
        setattr(job, key, value)


def cancel(job_id: int, actor: Actor) -> PrintJob:
    with write_transaction():
        job = get_job(job_id)
        _transition(job, "cancelled", claimed_by=None, claimed_until=None)
        _audit(actor, "print.cancel", f"job:{job.id}", job.ref)
    return job


def retry(job_id: int, actor: Actor) -> PrintJob:
    """A failed job goes back to the queue with a fresh count of attempts."""
    with write_transaction():
        job = get_job(job_id)
        if job.state != "failed":  # sending -> queued is the worker's, not a person's
            raise InvalidTransition("print_job", job.state, "queued")
        _transition(job, "queued", attempts=0, next_attempt_at=utcnow(), last_error="")
        _audit(actor, "print.retry", f"job:{job.id}", job.ref)
        after_commit(lambda: _bell.ring(job.printer_id))
    return job


def reprint(job_id: int, actor: Actor) -> PrintJob:
    """A new job with the same label (补打), on the printer the original is assigned to now."""
    with write_transaction():
        original = get_job(job_id)
        job = PrintJob.create(printer=original.printer_id, template=original.template, data=original.data,
                              zpl=original.zpl, ref=original.ref, reprint_of=original.id,
                              created_by=actor.user_id if actor else None)
        _audit(actor, "print.reprint", f"job:{original.id}", f"new job {job.id}")
        after_commit(lambda: _bell.ring(original.printer_id))
    return job


def move_jobs(from_printer: str, to_printer: str, actor: Actor) -> int:
    """Queued and failed jobs go to another printer, rendered again for its head and media."""
    source, target = printer_by_code(from_printer), printer_by_code(to_printer)
    if source.id == target.id:
        raise PrinterSettingsError("choose a different printer to move the jobs to")
    if not target.active:
        raise PrinterInactive(f"printer {to_printer} is not in use", printer=to_printer)
    jobs = list(PrintJob.select().where((PrintJob.printer == source.id)
                                        & PrintJob.state.in_(("queued", "failed"))).order_by(PrintJob.id))
    rendered = {job.id: _render(job.template, json.loads(job.data or "{}"), target) for job in jobs}
    moved = 0
    now = utcnow()
    with write_transaction():
        for job in jobs:
            changes = {"printer": target.id, "zpl": rendered[job.id], "attempts": 0, "next_attempt_at": now,
                       "last_error": ""}
            # a job a worker claimed meanwhile stays where it is
            if job.state == "failed":
                moved += JOB.move_if(job.id, "failed", "queued", guard=("printer_id = ?", (source.id,)), **changes)
            else:
                moved += (PrintJob.update(**changes)
                          .where((PrintJob.id == job.id) & (PrintJob.state == "queued")
                                 & (PrintJob.printer == source.id)).execute())
        _audit(actor, "print.move", f"{from_printer}->{to_printer}", f"{moved} job(s)")
        after_commit(lambda: _bell.ring(target.id))
    return moved


def job_list(printer: str | None = None, state: str | None = None, ref: str | None = None,
             limit: int = 100, offset: int = 0) -> dict:
    query = (PrintJob.select(PrintJob, Printer.code.alias("printer_code"), User.code.alias("creator_code"))
             .join(Printer).switch(PrintJob)
             .join(User, JOIN.LEFT_OUTER, on=(PrintJob.created_by == User.id)).objects())
    if printer:
        query = query.where(Printer.code == printer)
    if state:
        query = query.where(PrintJob.state == state)
    if ref:
        query = query.where(PrintJob.ref == ref)
    total = query.count()
    items = [job_view(job) for job in query.order_by(PrintJob.id.desc()).limit(limit).offset(offset)]
    return {"items": items, "total": total}


def job_view(job: PrintJob, with_zpl: bool = False) -> dict:
    printer = getattr(job, "printer_code", None) or job.printer.code
    creator = getattr(job, "creator_code", None) or (job.created_by.code if job.created_by_id else None)
    view = {"id": job.id, "printer": printer, "template": job.template, "ref": job.ref,
            "state": job.state, "attempts": job.attempts, "next_attempt_at": job.next_attempt_at,
            "last_error": job.last_error, "created_at": job.created_at, "sent_at": job.sent_at,
            "created_by": creator,
            "reprint_of": job.reprint_of_id}
    if with_zpl:
        view["zpl"] = job.zpl
    return view


def _audit(actor: Actor | None, action: str, target: str, detail: str) -> None:
    AuditLog.create(user=actor.user_id if actor else None, device=actor.device_id if actor else None,
                    action=action, target=target[:200], detail=detail)


# --- the worker's steps ----------------------------------------------------------------------

def backoff_s(attempts: int) -> int:
    """Seconds before the next try after ``attempts`` failed ones: 2, 4, 8 ... capped at 60."""
    return min(2 ** max(attempts, 1), BACKOFF_CAP_S)


def claim_next(printer: Printer, worker_id: str, lease_s: float = LEASE_S,
               now: dt.datetime | None = None) -> PrintJob | None:
    """Claim the printer's oldest open job if it is due and nobody holds it; else None.

    The claim is one guarded UPDATE whose row count is checked, so two workers never get the
    same job, on SQLite and PostgreSQL alike. A ``sending`` job whose lease expired (its
    worker died) is claimed again.
    """
    now = now or utcnow()
    with write_transaction():
        head = (PrintJob.select().where((PrintJob.printer == printer.id) & PrintJob.state.in_(OPEN_STATES))
                .order_by(PrintJob.id).first())
        if head is None:
            return None
        in_flight = (PrintJob.select(PrintJob.id)
                     .where((PrintJob.printer == printer.id) & (PrintJob.state == "sending")
                            & (PrintJob.claimed_until >= now)).exists())
        if in_flight:
            return None
        until = now + dt.timedelta(seconds=lease_s)
        if head.state == "queued":
            if head.next_attempt_at > now:
                return None  # waiting for its retry; the jobs behind it wait too
            due = ("next_attempt_at <= ?", (PrintJob.next_attempt_at.db_value(now),))
            claimed = JOB.move_if(head.id, "queued", "sending", guard=due, claimed_by=worker_id, claimed_until=until)
        else:  # its worker died: the lease passes to this one, the job stays sending
            claimed = (PrintJob.update(claimed_by=worker_id, claimed_until=until)
                       .where((PrintJob.id == head.id) & (PrintJob.state == "sending")
                              & (PrintJob.claimed_until < now)).execute()) == 1
        if not claimed:
            return None
    if head.state == "sending":
        log.warning("print job %s: lease of %s expired, claimed again by %s", head.id, head.claimed_by,
                    worker_id)
    head.state, head.claimed_by, head.claimed_until = "sending", worker_id, until
    return head


def _holds_lease(job: PrintJob, worker_id: str) -> bool:
    return (PrintJob.select(PrintJob.id)
            .where((PrintJob.id == job.id) & (PrintJob.state == "sending") & (PrintJob.claimed_by == worker_id)
                   & (PrintJob.claimed_until >= utcnow())).exists())


def _release_connection() -> None:
    """Give this thread's pooled connection back before waiting on a printer: each printer has
    a lane of its own, and connections held through their sends would be the ones the floor's
    requests wait for."""
    if not database.is_closed() and not database.in_transaction():
        database.close()


def transport_options(url: str, options: Mapping | None = None) -> dict:
    """Timeouts for the URL's transport (only TCP and CUPS take them)."""
    scheme = urlsplit(url).scheme
    if scheme == "tcp":
        return {**TCP_OPTIONS, **(options or {})}
    if scheme == "cups":
        return {"timeout": (options or {}).get("send_timeout", 30.0)}
    return {}


def send_job(job: PrintJob, worker_id: str, transport=None, max_attempts: int = MAX_ATTEMPTS,
             options: Mapping | None = None) -> str:
    """Send a claimed job and record the outcome: ``done`` (every byte went to the printer: the
    label is printed, and is not sent again whatever the printer says next), ``queued`` (the
    send failed before that: retried after a backoff), ``failed`` (... for the last time), or
    ``lost`` (this worker no longer holds the job; nothing was sent)."""
    printer = job.printer
    if not _holds_lease(job, worker_id):
        return "lost"
    _release_connection()
    own = transport is None
    try:
        if own:
            transport = open_transport(printer.url, **transport_options(printer.url, options))
        transport.send(job.zpl)
    except PrinterError as error:
        if transport is not None:
            transport.close()  # a printer in trouble gets a fresh connection next time
        return _requeue(job, worker_id, f"{error.code}: {error}", max_attempts)
    try:
        outcome = _finish(job, worker_id)
        if status_of(printer)["ok"] is not None:  # it answers: learn now whether it can take the next
            status = confirm_status(transport)
            if status is not None:
                record_status(printer, status)
                if set(status.faults) & set(UNKNOWN):
                    transport.close()
    finally:
        if own:
            transport.close()
    return outcome


def confirm_status(transport) -> PrinterStatus | None:
    """``~HS`` (then ``~HQES`` if that tells more); None for one-way transports."""
    try:
        status = read_status(transport, "~HS")
    except StatusUnsupported:
        return None
    except StatusParseError as error:
        return PrinterStatus(ok=False, faults=[BAD_STATUS], source="~HS", raw=str(error))
    if status.ok or status.faults == [OFFLINE]:
        return status
    try:
        extended = read_status(transport, "~HQES")
    except (StatusUnsupported, StatusParseError):
        return status
    if set(extended.faults) <= set(NOT_HOLDING):
        return status
    if set(status.faults) <= set(NOT_HOLDING):
        return extended  # newer firmware: silent to ~HS in MEDIA OUT, answers ~HQES
    faults = status.faults + [f for f in extended.faults if f not in status.faults]
    return PrinterStatus(ok=False, faults=faults, warnings=status.warnings + extended.warnings,
                         source="~HS+~HQES", host=status.host)


def _leased_by(worker_id: str) -> tuple[str, tuple]:
    return "claimed_by = ?", (worker_id,)


def _finish(job: PrintJob, worker_id: str) -> str:
    now = utcnow()
    changes = {"sent_at": now, "attempts": job.attempts + 1, "last_error": "", "claimed_by": None,
               "claimed_until": None}
    with write_transaction():
        if not JOB.move_if(job.id, "sending", "done", guard=_leased_by(worker_id), **changes):
            log.warning("print job %s: sent by %s after its lease passed to another worker", job.id, worker_id)
            return "lost"
    job.state = "done"
    for key, value in changes.items():
        setattr(job, key, value)
    return "done"


def _requeue(job: PrintJob, worker_id: str, error: str, max_attempts: int) -> str:
    attempts = job.attempts + 1
    mine = _leased_by(worker_id)
    with write_transaction():
        if attempts >= max_attempts:
            _transition(job, "failed", guard=mine, attempts=attempts, last_error=error[:2000],
                        claimed_by=None, claimed_until=None)
            printer = job.printer
            events.publish("alert", {"code": "print_job_failed", "printer": printer.code, "job": job.id,
                                     "ref": job.ref, "error": error[:200]},
                           rooms=_rooms(printer))
        else:
            _transition(job, "queued", guard=mine, attempts=attempts, last_error=error[:2000],
                        next_attempt_at=utcnow() + dt.timedelta(seconds=backoff_s(attempts)),
                        claimed_by=None, claimed_until=None)
    return job.state


# --- status ----------------------------------------------------------------------------------

def _rooms(printer: Printer) -> list[str]:
    return ["wallboard"] + ([f"station:{printer.station}"] if printer.station else [])


def poll_status(printer: Printer, transport=None, options: Mapping | None = None,
                spool_dir: str | None = None) -> dict:
    """Ask the printer how it is (``~HS``, ``~HQES`` where answered), store it, and publish
    ``printer.status`` when it changed. Silence is the unknown status (``ok`` None,
    ``no_answer``); a URL that fails its check (outside ``spool_dir``) is a fault, and asks
    nothing."""
    try:
        check_url(printer.url, spool_dir)
    except PrinterError as error:
        return record_status(printer, PrinterStatus(ok=False, faults=[error.code], source="url"))
    own = transport is None
    try:
        if own:
            transport = open_transport(printer.url, **transport_options(printer.url, options))
        status = confirm_status(transport)
    except PrinterError as error:
        status = PrinterStatus(ok=False, faults=[getattr(error, "code", OFFLINE)], source="open")
    finally:
        if own and transport is not None:
            transport.close()
    if status is None:
        status = PrinterStatus(ok=True, source="one_way")
    return record_status(printer, status)


def record_status(printer: Printer, status: PrinterStatus) -> dict:
    now = utcnow()
    unknown = bool(status.faults) and set(status.faults) <= set(UNKNOWN)
    stored = {"ok": None if unknown else status.ok, "faults": list(status.faults),
              "warnings": list(status.warnings), "source": status.source}
    with write_transaction():
        previous = (Printer.select(Printer.last_status).where(Printer.id == printer.id).scalar()) or ""
        before = json.loads(previous) if previous else {}
        Printer.update(last_status=json.dumps(stored), last_status_at=now).where(Printer.id == printer.id).execute()
        changed = (before.get("ok"), before.get("faults")) != (stored["ok"], stored["faults"])
        if changed:
            events.publish("printer.status", {"printer": printer.code, "ok": stored["ok"],
                                              "faults": list(status.faults), "at": now.isoformat() + "Z"},
                           rooms=_rooms(printer))
    printer.last_status, printer.last_status_at = json.dumps(stored), now
    return dict(stored, at=now, changed=changed)


# --- the worker ------------------------------------------------------------------------------

class PrintWorker:
    """Serves every active printer: polls status, claims due jobs in order, sends them.

    ``run_once()`` serves the active printers one after another, once (tests call it).
    ``start()`` gives each active printer a lane until ``stop()``: a thread (a greenlet under
    gevent) that serves it again and again, waking early when a job for it is queued in this
    process, so that one slow printer delays only its own labels. A printer set up later gets
    its lane within ``idle_s``; a printer switched off ends its own.
    The lease must outlast the worst send: connect, send and two status reads.
    """

    def __init__(self, worker_id: str | None = None, *, lease_s: float = LEASE_S,
                 max_attempts: int = MAX_ATTEMPTS, poll_interval_s: float = 15.0, fault_poll_s: float = 3.0,
                 silent_poll_s: float = 60.0, idle_s: float = 1.0, batch: int = 50,
                 options: Mapping | None = None, spool_dir: str | None = None):
        self.worker_id = worker_id or f"print-{uuid.uuid4().hex[:8]}"
        self.options = {**TCP_OPTIONS, **(options or {})}
        worst = self.options["connect_timeout"] + self.options["send_timeout"] + 2 * self.options["read_timeout"]
        if lease_s <= worst:
            raise ValueError(f"lease_s ({lease_s}) must be longer than the worst send ({worst} s)")
        self.lease_s, self.max_attempts = lease_s, max_attempts
        self.poll_interval_s, self.fault_poll_s, self.silent_poll_s = poll_interval_s, fault_poll_s, silent_poll_s
        self.idle_s, self.batch = idle_s, batch
        self.spool_dir = spool_dir
        self._transports: dict[int, tuple[str, object]] = {}
        self._lanes: dict[int, threading.Thread] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def _transport(self, printer: Printer):
        url, transport = self._transports.get(printer.id, (None, None))
        if transport is None or url != printer.url:
            if transport is not None:
                transport.close()
            transport = open_transport(printer.url, **transport_options(printer.url, self.options))
            self._transports[printer.id] = (printer.url, transport)
        return transport

    def _drop_transport(self, printer_id: int) -> None:
        _url, transport = self._transports.pop(printer_id, (None, None))
        if transport is not None:
            transport.close()

    def _poll_due(self, printer: Printer, now: dt.datetime) -> bool:
        status = status_of(printer)
        if status["at"] is None:
            return True
        interval = (self.silent_poll_s if status["ok"] is None
                    else self.poll_interval_s if status["ok"] else self.fault_poll_s)
        return (now - status["at"]).total_seconds() >= interval

    def run_once(self, now: dt.datetime | None = None) -> int:
        """One round over the active printers; returns the number of jobs printed."""
        printed = 0
        for printer in list(Printer.select().where(Printer.active == True).order_by(Printer.id)):  # noqa: E712
            printed += self._serve_alone(printer, now)
        return printed

    def _serve_alone(self, printer: Printer, now: dt.datetime | None) -> int:
        """:meth:`_serve`, with whatever goes wrong kept to this printer."""
        try:
            return self._serve(printer, now)
        except PrinterError as error:
            log.warning("printer %s: %s", printer.code, error)
        except Exception:
            log.exception("print worker %s: printer %s", self.worker_id, printer.code)
        self._drop_transport(printer.id)
        return 0

    def _serve(self, printer: Printer, now: dt.datetime | None) -> int:
        try:
            check_url(printer.url, self.spool_dir)
        except PrinterError as error:  # a URL stored before it was checked: hold its jobs, say why
            if status_of(printer)["faults"] != [error.code]:
                record_status(printer, PrinterStatus(ok=False, faults=[error.code], source="url"))
            return 0
        if self._poll_due(printer, now or utcnow()):
            _release_connection()
            poll_status(printer, self._transport(printer), spool_dir=self.spool_dir)
        if holds_jobs(status_of(printer)):
            return 0
        printed = 0
        for _ in range(self.batch):
            job = claim_next(printer, self.worker_id, self.lease_s, now)
            if job is None:
                break
            job.printer = printer
            outcome = send_job(job, self.worker_id, self._transport(printer), self.max_attempts, self.options)
            if outcome != "done":
                break
            printed += 1
            if holds_jobs(status_of(printer)):
                break
        return printed

    def start(self) -> "PrintWorker":
        self._stopping.clear()
        self._thread = threading.Thread(target=self._watch, name=self.worker_id, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        """Keep a lane running for each active printer."""
        seen = _bell.count(None)
        try:
            while not self._stopping.is_set():
                try:
                    active = [row.id for row in Printer.select(Printer.id).where(Printer.active == True)]  # noqa: E712
                except Exception:  # the watch outlives a database restart
                    log.exception("print worker %s: cannot list the printers", self.worker_id)
                    active = []
                finally:
                    _release_connection()
                for printer_id in active:
                    lane = self._lanes.get(printer_id)
                    if lane is None or not lane.is_alive():
                        lane = threading.Thread(target=self._lane, args=(printer_id,), daemon=True,
                                                name=f"{self.worker_id}-printer-{printer_id}")
                        self._lanes[printer_id] = lane
                        lane.start()
                seen = _bell.wait(None, seen, self.idle_s)
        finally:
            _release_connection()

    def _lane(self, printer_id: int) -> None:
        """Serve one printer until it is switched off or the worker stops."""
        seen = _bell.count(printer_id)
        try:
            while not self._stopping.is_set():
                try:
                    printer = Printer.get_or_none(Printer.id == printer_id)
                    if printer is None or not printer.active:
                        return
                    printed = self._serve_alone(printer, None)
                except Exception:  # the lane outlives a bad round (database restart, ...)
                    log.exception("print worker %s: round of printer %s failed", self.worker_id, printer_id)
                    printed = 0
                finally:
                    _release_connection()
                if not printed and not self._stopping.is_set():
                    seen = _bell.wait(printer_id, seen, self.idle_s)
        finally:
            self._drop_transport(printer_id)
            if not database.is_closed():
                database.close()  # give this thread's connection back to the pool

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        _bell.ring()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for lane in list(self._lanes.values()):
            lane.join(timeout)
        self._lanes.clear()
        self.close()

    def close(self) -> None:
        for printer_id in list(self._transports):
            self._drop_transport(printer_id)
