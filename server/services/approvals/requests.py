"""Approval requests: asked by one person, decided level by level by others.

A decision is one guarded update of the request (its status and level as the decider read them)
with its step and its audit row in the same transaction: two approvers pressing at once decide
one level once, and the second is told the request moved on. The requester never decides their
own request, and one person decides at most one level of a request.
"""
from __future__ import annotations

import json

from server.db import write_transaction
from server.models import ApprovalRequest, ApprovalStep, AuditLog, User
from server.models.base import as_utc, utcnow
from server.services.approvals import flows
from server.services.approvals.lifecycle import APPROVAL
from server.services.auth import roles_of
from server.services.errors import DomainError, InvalidTransition, NotFound


class OwnRequest(DomainError):
    code = "own_request"
    http_status = 403


class NotYourLevel(DomainError):
    code = "not_your_level"
    http_status = 403


class AlreadyDecided(DomainError):
    code = "already_decided"
    http_status = 409


def get(request_id: int) -> ApprovalRequest:
    row = ApprovalRequest.get_or_none(ApprovalRequest.id == request_id)
    if row is None:
        raise NotFound(kind="approval", code=str(request_id))
    return row


def needed(subject: str, amount_fen: int) -> bool:
    return flows.levels_for(subject, amount_fen) is not None


def open_request(subject: str, ref: str, amount_fen: int, payload: dict, summary: str, actor) -> ApprovalRequest | None:
    """Ask for approval of a change when its subject's flow covers ``amount_fen``; None when it
    needs none (the caller goes on and makes the change). Call inside the caller's transaction
    or alone."""
    levels = flows.levels_for(subject, amount_fen)
    if levels is None:
        return None
    with write_transaction():
        request = ApprovalRequest.create(subject=subject, ref=str(ref)[:100], amount_fen=amount_fen,
                                         payload=json.dumps(payload, ensure_ascii=False), summary=summary[:300],
                                         levels=json.dumps(levels), requested_by=actor.user_id,
                                         device=actor.device_id)
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="approval.request",
                        target=f"{subject}:{ref}"[:200], detail=f"#{request.id} {summary}"[:2000])
    return request


def pending_for(subject: str, ref: str) -> ApprovalRequest | None:
    return (ApprovalRequest.select().where((ApprovalRequest.subject == subject) & (ApprovalRequest.ref == str(ref))
                                           & (ApprovalRequest.status == "pending"))
            .order_by(ApprovalRequest.id.desc()).first())


def granted(subject: str, ref: str) -> bool:
    """Whether an approved request for ``subject`` and ``ref`` exists (a closed period's export)."""
    return (ApprovalRequest.select(ApprovalRequest.id)
            .where((ApprovalRequest.subject == subject) & (ApprovalRequest.ref == str(ref))
                   & (ApprovalRequest.status == "approved")).exists())


def decide(request_id: int, actor, *, approve: bool, comment: str = "") -> ApprovalRequest:
    """Approve (or reject) the level the request waits at; the last level's approval approves it."""
    request = get(request_id)
    if request.status != "pending":
        raise AlreadyDecided(f"approval #{request.id} is {request.status}", status=request.status)
    comment = (comment or "").strip()
    if not approve and not comment:
        raise DomainError("comment: say why the request is rejected")
    if actor.user_id is not None and request.requested_by_id == actor.user_id:
        raise OwnRequest(f"approval #{request.id}: nobody approves their own request")
    decided_before = {step.user_id for step in request.steps if step.decision == "approved"}
    if actor.user_id in decided_before:
        raise NotYourLevel(f"approval #{request.id}: you approved an earlier level; another person decides this one")
    levels = json.loads(request.levels)
    wanted = levels[request.level]
    held = [role for role in roles_of(User.get_by_id(actor.user_id)) if role in wanted]
    if not held:
        raise NotYourLevel(f"approval #{request.id}: level {request.level + 1} is decided by "
                           f"{' or '.join(wanted)}", level=request.level + 1, roles=wanted)
    last = request.level + 1 == len(levels)
    target = ("approved" if last else "pending") if approve else "rejected"
    values = {"level": request.level + 1} if approve and not last else {}
    if target != "pending":
        values["decided_at"] = utcnow()
    with write_transaction():
        if not APPROVAL.move_if(request.id, "pending", target, guard=("level = ?", (request.level,)), **values):
            raise InvalidTransition("approval", "pending", target)
        ApprovalStep.create(request=request.id, level=request.level, user=actor.user_id, device=actor.device_id,
                            role=held[0], decision="approved" if approve else "rejected", comment=comment[:2000])
        AuditLog.create(user=actor.user_id, device=actor.device_id,
                        action="approval.approve" if approve else "approval.reject",
                        target=f"{request.subject}:{request.ref}"[:200],
                        detail=f"#{request.id} level {request.level + 1} as {held[0]}"
                               + (f": {comment}" if comment else ""))
    return get(request.id)


def cancel(request_id: int, actor) -> ApprovalRequest:
    """The requester withdraws a pending request."""
    request = get(request_id)
    if request.requested_by_id != actor.user_id:
        raise NotYourLevel(f"approval #{request.id}: only its requester withdraws it")
    with write_transaction():
        APPROVAL.move(request.id, "pending", "cancelled", decided_at=utcnow())
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="approval.cancel",
                        target=f"{request.subject}:{request.ref}"[:200], detail=f"#{request.id}")
    return get(request.id)


def record_outcome(request_id: int, outcome: str) -> None:
    with write_transaction():
        ApprovalRequest.update(outcome=outcome[:2000]).where(ApprovalRequest.id == request_id).execute()


def as_dict(request: ApprovalRequest) -> dict:
    levels = json.loads(request.levels)
    return {"id": request.id, "subject": request.subject, "ref": request.ref, "amount_fen": request.amount_fen,
            "summary": request.summary, "status": request.status, "level": request.level + 1,
            "levels": levels, "waiting_for": levels[request.level] if request.status == "pending" else [],
            "requested_by": request.requested_by.code if request.requested_by_id else "",
            "requested_at": as_utc(request.requested_at), "decided_at": as_utc(request.decided_at),
            "outcome": request.outcome,
            "steps": [{"level": s.level + 1, "user": s.user.code if s.user_id else "", "role": s.role,
                       "decision": s.decision, "comment": s.comment, "at": as_utc(s.at)}
                      for s in request.steps.order_by(ApprovalStep.id)]}


def listing(*, status: str | None = "pending", for_user: int | None = None, limit: int = 200) -> list[dict]:
    """Requests, newest first; ``for_user``: only those waiting at a level that user may decide
    (and did not ask for)."""
    query = ApprovalRequest.select().order_by(ApprovalRequest.id.desc()).limit(limit)
    if status:
        query = query.where(ApprovalRequest.status == status)
    rows = list(query)
    if for_user is not None:
        roles = set(roles_of(User.get_by_id(for_user)))
        rows = [r for r in rows if r.status == "pending" and r.requested_by_id != for_user
                and roles & set(json.loads(r.levels)[r.level])]
    return [as_dict(r) for r in rows]
