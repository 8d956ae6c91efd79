"""Approval by amount (按金额审批): the ``approval_limit`` table names, per role, the largest
purchase order total in fen that role may approve; ``max_fen`` null is no limit, no row is no
approval at all. A user may approve an order when one of their roles' limits covers its total.

The table is a setting of the site, not of the code: an empty table is given
:data:`DEFAULT_LIMITS` (a supervisor up to ¥20,000, an admin without limit) the first time it
is read, and ``wavefloor po limit ROLE`` changes a row (audited).
"""
from __future__ import annotations

from server.db import write_transaction
from server.models import ApprovalLimit, AuditLog, User
from server.models.people import ROLES
from server.services.auth import roles_of
from server.services.errors import DomainError

#: role -> the largest total it may approve, in fen (None: no limit)
DEFAULT_LIMITS = {"supervisor": 2_000_000, "admin": None}


class OverApprovalLimit(DomainError):
    """The order's total is above every limit of the approver's roles."""
    code = "over_approval_limit"
    http_status = 403


def limits() -> dict[str, int | None]:
    """role -> max_fen, the defaults written first when the table is empty."""
    rows = dict(ApprovalLimit.select(ApprovalLimit.role, ApprovalLimit.max_fen).tuples())
    if rows:
        return rows
    with write_transaction():  # two first readers at once: the second one's rows are ignored
        ApprovalLimit.insert_many([{"role": role, "max_fen": max_fen} for role, max_fen in DEFAULT_LIMITS.items()]
                                  ).on_conflict_ignore().execute()
    return dict(ApprovalLimit.select(ApprovalLimit.role, ApprovalLimit.max_fen).tuples())


def set_limit(role: str, max_fen: int | None, actor, *, remove: bool = False) -> dict[str, int | None]:
    """Give ``role`` a limit (``None``: unlimited), or take its row away with ``remove``."""
    if role not in ROLES:
        raise DomainError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if max_fen is not None and (not isinstance(max_fen, int) or isinstance(max_fen, bool) or max_fen < 0):
        raise DomainError(f"max_fen: {max_fen!r} is not a whole number of fen from 0")
    limits()  # the defaults first, so that one change does not leave the other roles without a row
    with write_transaction():
        if remove:
            ApprovalLimit.delete().where(ApprovalLimit.role == role).execute()
            detail = "removed"
        else:
            ApprovalLimit.insert(role=role, max_fen=max_fen).on_conflict(
                conflict_target=[ApprovalLimit.role], update={ApprovalLimit.max_fen: max_fen}).execute()
            detail = "no limit" if max_fen is None else f"max {max_fen} fen"
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="approval_limit.set", target=role,
                        detail=detail)
    return limits()


def covering_role(roles, total_fen: int) -> str | None:
    """The role of ``roles`` whose limit covers ``total_fen`` (an unlimited one first), else None."""
    table = limits()
    able = [role for role in roles if role in table and (table[role] is None or table[role] >= total_fen)]
    able.sort(key=lambda role: (table[role] is not None, -(table[role] or 0)))
    return able[0] if able else None


def check(user_id: int, total_fen: int) -> str:
    """The role under which the user approves ``total_fen``; raises :class:`OverApprovalLimit`."""
    user = User.get_by_id(user_id)
    roles = roles_of(user)
    role = covering_role(roles, total_fen)
    if role is None:
        table = limits()
        best = [table[r] for r in roles if r in table]
        shown = "none" if not best else ("no limit" if None in best else f"{max(best)} fen")
        raise OverApprovalLimit(f"{user.code} may approve up to {shown}; the order's total is {total_fen} fen",
                                total_fen=total_fen, limit=shown)
    return role
