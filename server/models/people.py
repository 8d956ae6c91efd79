"""People and devices: users with roles, device registrations, tokens, login attempts, audit."""
from peewee import (AutoField, BigAutoField, BooleanField, CharField, ForeignKeyField, TextField)

from server.models.base import BaseModel, UtcDateTimeField, utcnow

ROLES = ("admin", "supervisor", "office", "picker", "packer", "receiver")


class Role(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)
    name_zh = CharField(max_length=50, default="")
    name_en = CharField(max_length=50, default="")


class User(BaseModel):
    id = AutoField()
    code = CharField(max_length=32, unique=True)  # login name / badge code
    name = CharField(max_length=100)
    phone = CharField(max_length=32, default="")
    password_hash = CharField(max_length=200, default="")
    pin_hash = CharField(max_length=200, default="")
    language = CharField(max_length=16, default="")
    active = BooleanField(default=True)
    created_at = UtcDateTimeField(default=utcnow)

    @property
    def role_codes(self) -> list[str]:
        return [ur.role.code for ur in self.user_roles.join(Role)]


class UserRole(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="user_roles", on_delete="CASCADE")
    role = ForeignKeyField(Role, on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "role"), True),)


class Device(BaseModel):
    """A handheld, kiosk or wall screen, known by the code it reports at login."""
    id = AutoField()
    code = CharField(max_length=64, unique=True)
    kind = CharField(max_length=16, default="handheld")  # handheld | kiosk | wallboard | pc | program
    name = CharField(max_length=100, default="")
    last_seen_at = UtcDateTimeField(null=True)


class ApiToken(BaseModel):
    """A bearer token; only its SHA-256 is stored."""
    id = AutoField()
    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL")
    kind = CharField(max_length=16, default="session")  # session | program
    label = CharField(max_length=100, default="")
    created_at = UtcDateTimeField(default=utcnow)
    expires_at = UtcDateTimeField(null=True)
    revoked = BooleanField(default=False)


class LoginAttempt(BaseModel):
    id = BigAutoField()
    user_code = CharField(max_length=32, index=True)
    device_code = CharField(max_length=64, default="", index=True)
    remote_addr = CharField(max_length=64, default="")
    ok = BooleanField()
    at = UtcDateTimeField(default=utcnow, index=True)


class AuditLog(BaseModel):
    id = BigAutoField()
    at = UtcDateTimeField(default=utcnow, index=True)
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    device = ForeignKeyField(Device, null=True, on_delete="SET NULL")
    action = CharField(max_length=64, index=True)
    target = CharField(max_length=200, default="")
    detail = TextField(default="")
