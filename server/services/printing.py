"""The print queue (打印队列): printers, label jobs, the worker that sends them, printer status.

A job is rendered to ZPL for its printer when it is queued, so it needs nothing else to print.
A worker sends each job in three short steps, none of which holds a transaction during I/O:

    claim (one guarded UPDATE)  ->  send + confirm (network)  ->  done | queued | failed

Order: a printer has at most one job in flight and the worker always takes the printer's
oldest open job, so a job never overtakes an older one; a job waiting for its retry holds up
the jobs behind it, as the labels of one packing bench must come out in the order they were
asked for.

Confirmation: after the bytes the worker asks ``~HS`` on the same connection. The printer
reads its input in order, so an answer means it took the job (into its buffer if it has a
fault: a Zebra prints buffered formats once the fault clears). No answer means a hung printer
may have thrown the job away: it goes back to the queue with a backoff (2, 4, 8 ... 60 s) and
fails after ``max_attempts``, to be retried or moved to another printer by a person.

Lease and at-least-once: the claim sets ``claimed_by`` and ``claimed_until`` (now + lease).
A worker that dies leaves its job in ``sending``; once the lease has expired any worker claims
it again, so nothing is lost across a restart. The edge: a worker that dies after the printer
took the bytes but before ``done`` committed causes a second print of the same label. We keep
that window small and rare: ``done`` is one UPDATE right after the confirmation; the lease is
longer than the worst send (timeouts included), so a live worker never loses its job to
another; and a worker checks it still holds the lease right before it sends, so a worker
that stalled past its lease never sends a job someone else has taken over. A duplicate is a
second copy of the same label (same tracking number), never a different parcel's label.

It is one module of about 600 lines because the printers, the jobs' verbs and the worker share
the ordering and lease rules above, which stay right only when they are read in one place.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

from peewee import JOIN, fn

from printers.exceptions import PrinterError, StatusUnsupported
from printers.labels import render_label
from printers.status import NO_ANSWER, OFFLINE, PrinterStatus, StatusParseError, read_status
from printers.transport import TRANSPORTS, open_transport
from printers.zpl import PrinterProfile
from server import events
from server.db import after_commit, database, write_transaction
from server.models import AuditLog, PrintJob, Printer, User
from server.models.base import utcnow
from server.models.printing import OPEN_STATES, PRINTER_CJK, TRANSITIONS
from server.services.errors import DomainError, InvalidTransition, NotFound
from server.services.states import Lifecycle
from server.services.stock.inventory import Actor

log = logging.getLogger(__name__)

JOB = Lifecycle("print_job", PrintJob, TRANSITIONS, column="state")

MAX_ATTEMPTS = 8
BACKOFF_CAP_S = 60
LEASE_S = 60
# a printer that does not answer may be a blip: its jobs are tried (with backoff), not held
UNREACHABLE = (NO_ANSWER, OFFLINE)
TCP_OPTIONS = {"connect_timeout": 3.0, "send_timeout": 10.0, "read_timeout": 2.0}

_work_arrived = threading.Event()


class PrinterSettingsError(DomainError):
    code = "invalid_printer"


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


def save_printer(code: str, values: Mapping, actor: Actor) -> Printer:
    """Create or update a printer; only the fields given change."""
    changes = {key: values[key] for key in PRINTER_FIELDS if key in values}
    with write_transaction():
        printer = Printer.get_or_none(Printer.code == code)
        if printer is None:
            if not changes.get("url"):
                raise PrinterSettingsError("a new printer needs a url", field="url")
            printer = Printer(code=code)
        for key, value in changes.items():
            setattr(printer, key, value)
        _validate(printer)
        printer.updated_at = utcnow()
        printer.save()
        _audit(actor, "printer.save", code, json.dumps(changes, ensure_ascii=False, default=str))
    return printer


def _validate(printer: Printer) -> None:
    scheme = urlsplit(printer.url or "").scheme
    if scheme not in TRANSPORTS:
        raise PrinterSettingsError(f"printer url {printer.url!r}: scheme must be one of "
                                   f"{', '.join(sorted(TRANSPORTS))}", field="url")
    if printer.cjk not in PRINTER_CJK:
        raise PrinterSettingsError(f"cjk must be one of {', '.join(PRINTER_CJK)}", field="cjk")
    try:
        profile_of(printer)
    except ValueError as error:
        raise PrinterSettingsError(str(error)) from None


def status_of(printer: Printer) -> dict:
    """The stored status: ``{ok, faults, warnings, source, at}``; ``ok`` is None before a poll."""
    stored = json.loads(printer.last_status) if printer.last_status else {}
    return {"ok": stored.get("ok"), "faults": stored.get("faults", []),
            "warnings": stored.get("warnings", []), "source": stored.get("source", ""),
            "at": printer.last_status_at}


def holds_jobs(status: Mapping) -> bool:
    """A reported fault (paper out, head open, ...) holds jobs back; silence does not."""
    return any(fault not in UNREACHABLE for fault in status.get("faults") or ())


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
        after_commit(_work_arrived.set)
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
        after_commit(_work_arrived.set)
    return job


def reprint(job_id: int, actor: Actor) -> PrintJob:
    """A new job with the same label (补打), on the printer the original is assigned to now."""
    with write_transaction():
        original = get_job(job_id)
        job = PrintJob.create(printer=original.printer_id, template=original.template, data=original.data,
                              zpl=original.zpl, ref=original.ref, reprint_of=original.id,
                              created_by=actor.user_id if actor else None)
        _audit(actor, "print.reprint", f"job:{original.id}", f"new job {job.id}")
        after_commit(_work_arrived.set)
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
        after_commit(_work_arrived.set)
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
    """Send a claimed job and record the outcome: ``done``, ``queued`` (retry later),
    ``failed``, or ``lost`` (this worker no longer holds the job; nothing was sent)."""
    if not _holds_lease(job, worker_id):
        return "lost"
    printer = job.printer
    own = transport is None
    error = None
    try:
        if own:
            transport = open_transport(printer.url, **transport_options(printer.url, options))
        transport.send(job.zpl)
        status = confirm_status(transport)
        if status is not None:
            record_status(printer, status)
            if not status.ok and set(status.faults) & set(UNREACHABLE):
                error = f"{status.faults[0]}: no answer after the label was sent"
    except PrinterError as exc:
        error = f"{exc.code}: {exc}"
    finally:
        if transport is not None and (own or error is not None):
            transport.close()  # a printer in trouble gets a fresh connection next time
    if error is None:
        return _finish(job, worker_id)
    return _requeue(job, worker_id, error, max_attempts)


def confirm_status(transport) -> PrinterStatus | None:
    """``~HS`` (then ``~HQES`` if that tells more); None for one-way transports."""
    try:
        status = read_status(transport, "~HS")
    except StatusUnsupported:
        return None
    except StatusParseError as error:
        return PrinterStatus(ok=False, faults=["bad_status"], source="~HS", raw=str(error))
    if status.ok:
        return status
    try:
        extended = read_status(transport, "~HQES")
    except (StatusUnsupported, StatusParseError):
        return status
    if set(extended.faults) <= set(UNREACHABLE):
        return status
    if set(status.faults) <= set(UNREACHABLE):
        return extended  # newer firmware: silent to ~HS in MEDIA OUT, answers ~HQES
    faults = status.faults + [f for f in extended.faults if f not in status.faults]
    return PrinterStatus(ok=False, faults=faults, warnings=status.warnings + extended.warnings,
                         source="~HS+~HQES", host=status.host)


def _leased_by(worker_id: str) -> tuple[str, tuple]:
    return "claimed_by = ?", (worker_id,)


def _finish(job: PrintJob, worker_id: str) -> str:
    now = utcnow()
    with write_transaction():
        _transition(job, "done", guard=_leased_by(worker_id), sent_at=now,
                    attempts=job.attempts + 1, last_error="", claimed_by=None, claimed_until=None)
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


def poll_status(printer: Printer, transport=None, options: Mapping | None = None) -> dict:
    """Ask the printer how it is (``~HS``, ``~HQES`` where answered), store it, and publish
    ``printer.status`` when it changed. Silence is the status ``no_answer``."""
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
    stored = {"ok": status.ok, "faults": list(status.faults), "warnings": list(status.warnings),
              "source": status.source}
    with write_transaction():
        previous = (Printer.select(Printer.last_status).where(Printer.id == printer.id).scalar()) or ""
        before = json.loads(previous) if previous else {}
        Printer.update(last_status=json.dumps(stored), last_status_at=now).where(Printer.id == printer.id).execute()
        changed = (before.get("ok"), before.get("faults")) != (stored["ok"], stored["faults"])
        if changed:
            events.publish("printer.status", {"printer": printer.code, "ok": status.ok,
                                              "faults": list(status.faults), "at": now.isoformat() + "Z"},
                           rooms=_rooms(printer))
    printer.last_status, printer.last_status_at = json.dumps(stored), now
    return dict(stored, at=now, changed=changed)


# --- the worker ------------------------------------------------------------------------------

class PrintWorker:
    """Serves every active printer: polls status, claims due jobs in order, sends them.

    ``run_once()`` does one round (tests call it); ``start()`` runs rounds in a thread (a
    greenlet under gevent) until ``stop()``, waking early when a job is queued in this process.
    The lease must outlast the worst send: connect, send and two status reads.
    """

    def __init__(self, worker_id: str | None = None, *, lease_s: float = LEASE_S,
                 max_attempts: int = MAX_ATTEMPTS, poll_interval_s: float = 15.0, fault_poll_s: float = 3.0,
                 idle_s: float = 1.0, batch: int = 50, options: Mapping | None = None):
        self.worker_id = worker_id or f"print-{uuid.uuid4().hex[:8]}"
        self.options = {**TCP_OPTIONS, **(options or {})}
        worst = self.options["connect_timeout"] + self.options["send_timeout"] + 2 * self.options["read_timeout"]
        if lease_s <= worst:
            raise ValueError(f"lease_s ({lease_s}) must be longer than the worst send ({worst} s)")
        self.lease_s, self.max_attempts = lease_s, max_attempts
        self.poll_interval_s, self.fault_poll_s = poll_interval_s, fault_poll_s
        self.idle_s, self.batch = idle_s, batch
        self._transports: dict[int, tuple[str, object]] = {}
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

    def _poll_due(self, printer: Printer, now: dt.datetime) -> bool:
        status = status_of(printer)
        if status["at"] is None:
            return True
        interval = self.poll_interval_s if status["ok"] else self.fault_poll_s
        return (now - status["at"]).total_seconds() >= interval

    def run_once(self, now: dt.datetime | None = None) -> int:
        """One round over the active printers; returns the number of jobs printed."""
        printed = 0
        for printer in list(Printer.select().where(Printer.active == True)):  # noqa: E712
            try:
                printed += self._serve(printer, now)
            except PrinterError as error:  # a bad URL must not stop the other printers
                log.warning("printer %s: %s", printer.code, error)
        return printed

    def _serve(self, printer: Printer, now: dt.datetime | None) -> int:
        if self._poll_due(printer, now or utcnow()):
            poll_status(printer, self._transport(printer))
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
        self._thread = threading.Thread(target=self._loop, name=self.worker_id, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            while not self._stopping.is_set():
                _work_arrived.clear()
                try:
                    printed = self.run_once()
                except Exception:  # the worker outlives a bad round (database restart, ...)
                    log.exception("print worker %s: round failed", self.worker_id)
                    printed = 0
                if not printed and not self._stopping.is_set():
                    _work_arrived.wait(self.idle_s)
        finally:
            if not database.is_closed():
                database.close()  # give this thread's connection back to the pool

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        _work_arrived.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.close()

    def close(self) -> None:
        for _url, transport in self._transports.values():
            transport.close()
        self._transports.clear()
