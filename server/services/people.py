"""Users, their roles and devices: reading them and the audit log (personal data shown as the
caller's role allows), changing a user's roles or state, releasing a device, telling which
open sessions no longer stand, and the long-lived tokens of programs.

Changing roles or deactivating a user ends the user's sessions (services/auth.end_sessions_of):
they log in again, with their new roles, or not at all."""
from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict

from peewee import JOIN

from server.db import write_transaction
from server.models import ApiToken, AuditLog, Device, Role, User, UserRole
from server.models.base import as_utc, utcnow
from server.models.people import ROLES
from server.services.auth import (Principal, end_sessions, end_sessions_of, personal, roles_of, sessions_on,
                                  token_hash)
from server.services.errors import DomainError, NotFound


def user_list(principal: Principal) -> list[dict]:
    return [{"code": u.code, "name": u.name, "phone": personal(principal, u.phone, "phone"),
             "roles": roles_of(u), "active": u.active}
            for u in User.select().where(User.code != "system").order_by(User.code)]


def audit_list(action=None, limit=100) -> list[dict]:
    query = (AuditLog.select(AuditLog.at, User.code.alias("user"), Device.code.alias("device"),
                             AuditLog.action, AuditLog.target, AuditLog.detail)
             .join(User, JOIN.LEFT_OUTER).switch(AuditLog).join(Device, JOIN.LEFT_OUTER)
             .order_by(AuditLog.id.desc()).limit(limit))
    if action:
        query = query.where(AuditLog.action == action)
    return [dict(row, at=as_utc(row["at"])) for row in query.dicts()]


def _user(code: str) -> User:
    user = User.get_or_none((User.code == code) & (User.code != "system"))
    if user is None:
        raise NotFound(f"no user {code!r}")
    return user


def _view(user: User) -> dict:
    return {"code": user.code, "name": user.name, "roles": roles_of(user), "active": user.active}


def set_roles(code: str, roles: list[str], *, by: Principal) -> dict:
    """Give the user these roles; when they differ from the user's, the user's sessions end."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise DomainError(f"roles are {', '.join(ROLES)}; not {', '.join(unknown) or 'none'}")
    user, wanted = _user(code), sorted(set(roles))
    before = roles_of(user)
    if before != wanted:
        with write_transaction():
            UserRole.delete().where(UserRole.user == user).execute()
            for role in Role.select().where(Role.code.in_(wanted)):
                UserRole.create(user=user, role=role)
            end_sessions_of(user, "role_changed")
            AuditLog.create(user=by.user, device=by.device, action="user.roles", target=user.code,
                            detail=f"{','.join(before)} -> {','.join(wanted)}")
    return _view(user)


def set_active(code: str, active: bool, *, by: Principal) -> dict:
    """Deactivate a user (their sessions end, no login opens) or activate them again."""
    user = _user(code)
    if user.active != active:
        with write_transaction():
            User.update(active=active).where(User.id == user.id).execute()
            user.active = active
            if not active:
                end_sessions_of(user, "user_deactivated")
            AuditLog.create(user=by.user, device=by.device, action="user.activate" if active else "user.deactivate",
                            target=user.code)
    return _view(user)


def release_device(device_code: str, *, by: Principal) -> list[str]:
    """End every live session on the device, so that another user may log in there; returns the
    codes of the users whose sessions ended. Audited with the releasing user and the device."""
    device = Device.get_or_none(Device.code == device_code)
    if device is None:
        raise NotFound(f"no device {device_code!r}")
    sessions = sessions_on(device_code, utcnow())
    released = sorted({s[2] for s in sessions})
    with write_transaction():
        if sessions:
            end_sessions(sessions, "device_released")
        AuditLog.create(user=by.user, device=device, action="device.release", target=device.code,
                        detail="released " + (", ".join(released) or "nothing"))
    return released


def _chunks(values, size: int = 500):
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def ended_sessions(principals: list[Principal]) -> dict[int, str]:
    """Of these principals' sessions, those that no longer stand, by token id, with the code that
    says why: ``user_deactivated``, ``role_changed`` (for a program token too, whose user's roles
    changed under it), ``logged_out`` (revoked: a logout, a release) or ``session_expired``.
    Two statements for any number of sessions (per 500)."""
    tokens = {p.token_id for p in principals if p.token_id is not None}
    if not tokens:
        return {}
    now, rows, roles = utcnow(), {}, defaultdict(list)
    for chunk in _chunks(tokens):
        query = (ApiToken.select(ApiToken.id, ApiToken.revoked, ApiToken.expires_at, User.active).join(User)
                 .where(ApiToken.id.in_(chunk)))
        for token_id, revoked, expires_at, active in query.tuples():
            rows[token_id] = (revoked, expires_at, active)
    for chunk in _chunks({p.user.id for p in principals}):
        for user_id, role in (UserRole.select(UserRole.user, Role.code).join(Role)
                              .where(UserRole.user.in_(chunk)).tuples()):
            roles[user_id].append(role)
    ended = {}
    for principal in principals:
        if principal.token_id is None:
            continue
        revoked, expires_at, active = rows.get(principal.token_id, (True, None, True))  # a deleted token: revoked
        if not active:
            ended[principal.token_id] = "user_deactivated"
        elif sorted(roles[principal.user.id]) != sorted(principal.roles):
            ended[principal.token_id] = "role_changed"
        elif revoked:
            ended[principal.token_id] = "logged_out"
        elif expires_at is not None and expires_at <= now:
            ended[principal.token_id] = "session_expired"
    return ended


def issue_program_token(user_code: str, label: str, *, by: Principal, days: int | None = 365) -> str:
    """A long-lived token for a program (an ERP connector, a script), shown once."""
    user = User.get_or_none(User.code == user_code)
    if user is None:
        raise NotFound(f"no user {user_code!r}")
    token = secrets.token_urlsafe(32)
    with write_transaction():
        ApiToken.create(token_hash=token_hash(token), user=user, kind="program", label=label,
                        expires_at=utcnow() + dt.timedelta(days=days) if days else None)
        AuditLog.create(user=by.user, device=by.device, action="token.issue", target=user.code,
                        detail=label)
    return token
