"""Approvals (多级审批) over HTTP: the flow table, the requests waiting, approve and reject.
See docs/approvals.md."""
from apiflask.fields import Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from server.api import api
from server.api.schemas import Schema
from server.guard import current_principal, requires
from server.models.people import ROLES
from server.services.approvals import apply, flows, requests
from server.services.stock import desk as stockdesk


def _actor():
    return stockdesk.actor_of(current_principal())


class ApprovalFlowOut(Schema):
    subject = String()
    means = String()
    active = String()
    over_fen = Integer()
    levels = List(List(String()), metadata={"description": "each level's roles, in order"})


class ApprovalFlowIn(Schema):
    levels = List(List(String(validate=OneOf(ROLES))), required=True, validate=Length(1, 10))
    over_fen = Integer(load_default=0, validate=Range(0, 10**15))
    active = String(load_default="true", validate=OneOf(["true", "false"]))


class ApprovalStepOut(Schema):
    level = Integer()
    user = String()
    role = String()
    decision = String()
    comment = String()
    at = String()


class ApprovalRequestOut(Schema):
    id = Integer()
    subject = String()
    ref = String()
    amount_fen = Integer()
    summary = String()
    status = String(metadata={"description": "pending | approved | rejected | cancelled"})
    level = Integer(metadata={"description": "the level waiting (1-based)"})
    levels = List(List(String()))
    waiting_for = List(String(), metadata={"description": "the roles that may decide the waiting level"})
    requested_by = String()
    requested_at = String()
    decided_at = String(allow_none=True)
    outcome = String(metadata={"description": "what the approved change did, or why it could not be made"})
    steps = List(Nested(ApprovalStepOut))


class ApprovalQuery(Schema):
    status = String(load_default="pending", validate=OneOf(["pending", "approved", "rejected", "cancelled", "all"]))
    mine = String(load_default="false", validate=OneOf(["true", "false"]),
                  metadata={"description": "true: only what the caller may decide now"})


class ApprovalDecisionIn(Schema):
    comment = String(load_default="", validate=Length(0, 2000))


def _out(request) -> dict:
    return requests.as_dict(request)


@api.get("/approvals/flows")
@requires("approvals.decide")
@api.output(ApprovalFlowOut(many=True))
@api.doc(summary="The approval flow table: per subject, from which amount, through which levels",
         security="BearerAuth")
def get_approval_flows():
    return [dict(row, active=str(row["active"]).lower()) for row in flows.flows()]


@api.put("/approvals/flows/<subject>")
@requires("users.write")
@api.input(ApprovalFlowIn)
@api.output(ApprovalFlowOut)
@api.doc(summary="Set a subject's flow (admins)", security="BearerAuth")
def put_approval_flow(subject, json_data):
    row = flows.set_flow(subject, json_data["levels"], json_data["over_fen"], _actor(),
                         active=json_data["active"] == "true")
    return dict(row, active=str(row["active"]).lower())


@api.get("/approvals")
@requires("approvals.decide")
@api.input(ApprovalQuery, location="query")
@api.output(ApprovalRequestOut(many=True))
@api.doc(summary="Approval requests, newest first", security="BearerAuth")
def get_approvals(query_data):
    status = None if query_data["status"] == "all" else query_data["status"]
    mine = current_principal().user.id if query_data["mine"] == "true" else None
    return requests.listing(status=status, for_user=mine)


@api.post("/approvals/<int:request_id>/approve")
@requires("approvals.decide")
@api.input(ApprovalDecisionIn)
@api.output(ApprovalRequestOut)
@api.doc(summary="Approve the level a request waits at; the last level makes the change", security="BearerAuth")
def approve_request(request_id, json_data):
    return _out(apply.decide(request_id, _actor(), approve=True, comment=json_data["comment"]))


@api.post("/approvals/<int:request_id>/reject")
@requires("approvals.decide")
@api.input(ApprovalDecisionIn)
@api.output(ApprovalRequestOut)
@api.doc(summary="Reject a request (a comment is required)", security="BearerAuth")
def reject_request(request_id, json_data):
    return _out(apply.decide(request_id, _actor(), approve=False, comment=json_data["comment"]))
