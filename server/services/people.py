"""Reading users and the audit log, with personal data shown as the caller's role allows."""
from __future__ import annotations

from peewee import JOIN

from server.models import AuditLog, Device, User
from server.models.base import as_utc
from server.services.auth import Principal, personal, roles_of


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
