"""The approval flow table: per subject, the amount from which a change waits for approval and
the levels that approve it, each level a list of roles (one person of any of them decides it).
A subject without an active flow needs no approval beyond what its own service asks."""
from __future__ import annotations

import json

from server.db import write_transaction
from server.models import ApprovalFlow, AuditLog
from server.models.base import utcnow
from server.models.people import ROLES
from server.services.errors import DomainError

#: subject -> what its amount is
SUBJECTS = {
    "stock_adjustment": "a manual stock adjustment (库存调整); amount: the units' value at cost",
    "purchase_order": "a purchase order's approval (采购审批); amount: the order's total",
    "price_change": "a product's sale price (改价); amount: the change per unit",
    "cost_change": "a product's cost (改成本); amount: the change per unit",
    "voucher_export": "exporting the vouchers of a closed period (已结账期间导出凭证); amount: 0",
}


class UnknownSubject(DomainError):
    code = "unknown_subject"


def _check_levels(levels) -> list[list[str]]:
    if not isinstance(levels, list) or not levels:
        raise DomainError("levels: give at least one level, each a list of roles")
    checked = []
    for number, level in enumerate(levels, 1):
        roles = [level] if isinstance(level, str) else level
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
            raise DomainError(f"levels: level {number} is not a list of roles")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise DomainError(f"levels: level {number} names unknown role(s) {', '.join(unknown)}; "
                              f"roles are {', '.join(ROLES)}")
        checked.append(sorted(set(roles)))
    return checked


def _subject(subject: str) -> str:
    if subject not in SUBJECTS:
        raise UnknownSubject(f"subject: {subject!r} is not one of {', '.join(SUBJECTS)}", subject=subject)
    return subject


def flows() -> list[dict]:
    rows = {row.subject: row for row in ApprovalFlow.select()}
    return [{"subject": subject, "means": means, "active": bool(rows[subject].active) if subject in rows else False,
             "over_fen": rows[subject].over_fen if subject in rows else 0,
             "levels": json.loads(rows[subject].levels) if subject in rows else []}
            for subject, means in SUBJECTS.items()]


def set_flow(subject: str, levels, over_fen: int, actor, *, active: bool = True) -> dict:
    """Write ``subject``'s flow (audited); requests already asked keep the levels they were asked with."""
    _subject(subject)
    levels = _check_levels(levels)
    if not isinstance(over_fen, int) or isinstance(over_fen, bool) or over_fen < 0:
        raise DomainError(f"over_fen: {over_fen!r} is not a whole number of fen from 0")
    with write_transaction():
        values = {"over_fen": over_fen, "levels": json.dumps(levels), "active": active, "updated_at": utcnow()}
        (ApprovalFlow.insert(subject=subject, **values)
         .on_conflict(conflict_target=[ApprovalFlow.subject],
                      update={getattr(ApprovalFlow, k): v for k, v in values.items()}).execute())
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="approval_flow.set", target=subject,
                        detail=f"from {over_fen} fen: " + " -> ".join("/".join(level) for level in levels)
                        + ("" if active else " (inactive)"))
    return next(flow for flow in flows() if flow["subject"] == subject)


def remove_flow(subject: str, actor) -> None:
    _subject(subject)
    with write_transaction():
        ApprovalFlow.delete().where(ApprovalFlow.subject == subject).execute()
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="approval_flow.remove", target=subject)


def levels_for(subject: str, amount_fen: int) -> list[list[str]] | None:
    """The levels a change of ``amount_fen`` must pass, or None when it needs no approval."""
    row = ApprovalFlow.get_or_none((ApprovalFlow.subject == _subject(subject)) & (ApprovalFlow.active == True))  # noqa: E712
    if row is None or abs(amount_fen) < row.over_fen:
        return None
    return json.loads(row.levels) or None
