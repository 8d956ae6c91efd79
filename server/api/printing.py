"""Printers and the print queue over HTTP: status for the wall screen, printer set-up for
supervisors, and the kiosk's reprint / move / cancel."""
from apiflask.fields import Boolean, DateTime, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import current_app

from server.api import api
from server.api.schemas import Schema
from server.guard import current_principal, requires
from server.models.printing import JOB_STATES, PRINTER_CJK
from server.services import printing
from server.services.stock import desk as stockdesk


class PrinterStatusOut(Schema):
    ok = Boolean(allow_none=True)
    faults = List(String())
    warnings = List(String())
    source = String()
    at = DateTime(allow_none=True)


class PrinterOut(Schema):
    code = String()
    name = String()
    url = String()
    dpi = Integer()
    width_in = Float()
    height_in = Float()
    cjk = String()
    font_name = String()
    station = String(allow_none=True)
    active = Boolean()
    status = Nested(PrinterStatusOut)
    queued = Integer()
    failed = Integer()


class PrinterList(Schema):
    items = List(Nested(PrinterOut))


class PrinterIn(Schema):
    name = String(validate=Length(0, 100))
    url = String(validate=Length(1, 300))
    dpi = Integer(validate=OneOf((203, 300, 600)))
    width_in = Float(validate=Range(0.5, 12))
    height_in = Float(validate=Range(0.5, 40))
    cjk = String(validate=OneOf(PRINTER_CJK))
    font_name = String(validate=Length(1, 64))
    station = String(allow_none=True, validate=Length(1, 32))
    active = Boolean()


class JobQuery(Schema):
    printer = String(load_default=None, validate=Length(1, 32))
    state = String(load_default=None, validate=OneOf(JOB_STATES))
    ref = String(load_default=None, validate=Length(1, 100))
    limit = Integer(load_default=100, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class JobOut(Schema):
    id = Integer()
    printer = String()
    template = String()
    ref = String()
    state = String()
    attempts = Integer()
    next_attempt_at = DateTime()
    last_error = String()
    created_at = DateTime()
    sent_at = DateTime(allow_none=True)
    created_by = String(allow_none=True)
    reprint_of = Integer(allow_none=True)
    zpl = String()


class JobList(Schema):
    items = List(Nested(JobOut))
    total = Integer()


class JobIn(Schema):
    printer = String(required=True, validate=Length(1, 32))
    template = String(required=True, validate=Length(1, 32))
    data = Dict(required=True)
    ref = String(load_default="", validate=Length(0, 100))


class MoveJobsIn(Schema):
    to = String(required=True, validate=Length(1, 32))


class MovedOut(Schema):
    moved = Integer()


def _actor():
    return stockdesk.actor_of(current_principal())


def _spool_dir() -> str:
    return printing.spool_folder(current_app.config["WF"])


@api.get("/printers")
@requires("printers.read")
@api.output(PrinterList)
@api.doc(summary="Printers with their last status and open jobs", security="BearerAuth")
def list_printers():
    return {"items": printing.printer_list()}


@api.put("/printers/<code>")
@requires("printers.manage")
@api.input(PrinterIn)
@api.output(PrinterOut)
@api.doc(summary="Create or update a printer (only the fields given change; a new printer or another URL: "
         "admins only)", security="BearerAuth")
def put_printer(code, json_data):
    return printing.printer_view(printing.save_printer(
        code, json_data, _actor(), spool_dir=_spool_dir(), may_change_url=current_principal().can("printers.url")))


@api.post("/printers/<code>/poll")
@requires("printjobs.write")
@api.output(PrinterStatusOut)
@api.doc(summary="Ask the printer for its status now", security="BearerAuth")
def poll_printer(code):
    return printing.poll_status(printing.printer_by_code(code), spool_dir=_spool_dir())


@api.post("/printers/<code>/move-jobs")
@requires("printjobs.write")
@api.input(MoveJobsIn)
@api.output(MovedOut)
@api.doc(summary="Move queued and failed jobs to another printer", security="BearerAuth")
def move_printer_jobs(code, json_data):
    return {"moved": printing.move_jobs(code, json_data["to"], _actor())}


@api.get("/print-jobs")
@requires("printers.read")
@api.input(JobQuery, location="query")
@api.output(JobList)
@api.doc(summary="Print jobs, newest first", security="BearerAuth")
def list_jobs(query_data):
    return printing.job_list(**query_data)


@api.post("/print-jobs")
@requires("printjobs.write")
@api.input(JobIn)
@api.output(JobOut, status_code=201)
@api.doc(summary="Queue a label for a printer", security="BearerAuth")
def post_job(json_data):
    job = printing.enqueue(json_data["printer"], json_data["template"], json_data["data"], json_data["ref"],
                           _actor())
    return printing.job_view(printing.get_job(job.id))


@api.get("/print-jobs/<int:job_id>")
@requires("printers.read")
@api.output(JobOut)
@api.doc(summary="One print job; its ZPL (which carries the address) for roles that see personal data",
         security="BearerAuth")
def get_job(job_id):
    return printing.job_view(printing.get_job(job_id), with_zpl=current_principal().can("pii.read"))


@api.post("/print-jobs/<int:job_id>/reprint")
@requires("printjobs.write")
@api.output(JobOut, status_code=201)
@api.doc(summary="Print the same label again as a new job", security="BearerAuth")
def reprint_job(job_id):
    return printing.job_view(printing.get_job(printing.reprint(job_id, _actor()).id))


@api.post("/print-jobs/<int:job_id>/retry")
@requires("printjobs.write")
@api.output(JobOut)
@api.doc(summary="Queue a failed job again", security="BearerAuth")
def retry_job(job_id):
    return printing.job_view(printing.retry(job_id, _actor()))


@api.post("/print-jobs/<int:job_id>/cancel")
@requires("printjobs.write")
@api.output(JobOut)
@api.doc(summary="Cancel a queued or failed job", security="BearerAuth")
def cancel_job(job_id):
    return printing.job_view(printing.cancel(job_id, _actor()))
