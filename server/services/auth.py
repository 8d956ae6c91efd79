"""Who may do what: users, roles, hashed secrets, tokens, login rate limiting, masking.

Secrets are argon2 hashes. Tokens are random; only their SHA-256 is stored. A user or a
device that fails ``LOGIN_MAX_FAILURES`` times within ``LOGIN_WINDOW_S`` is locked for
``LOGIN_LOCK_S`` seconds; attempts are rows, so every server process sees the same count.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.db import write_transaction
from server.models import ApiToken, AuditLog, Device, LoginAttempt, Role, User, UserRole
from server.models.base import utcnow
from server.models.people import ROLES
from server.services.errors import AuthError, DomainError, Forbidden, LockedOut, NotFound

_hasher = PasswordHasher()

ROLE_NAMES = {
    "admin": ("管理员", "Administrator"),
    "supervisor": ("主管", "Supervisor"),
    "office": ("文员", "Office"),
    "picker": ("拣货员", "Picker"),
    "packer": ("打包员", "Packer"),
    "receiver": ("收货员", "Receiver"),
}

_ALL = set(ROLES)
# permission -> roles that hold it. Every route and Socket.IO event names one of these.
PERMISSIONS: dict[str, set[str]] = {
    "stock.read": _ALL,
    "stock.write": {"admin", "supervisor", "office", "receiver"},
    "products.read": _ALL,
    "products.write": {"admin", "office"},
    "users.read": {"admin", "supervisor"},
    "users.write": {"admin"},
    "tokens.write": {"admin"},
    "pii.read": {"admin", "supervisor", "office"},  # buyer phone and address unmasked
    "audit.read": {"admin", "supervisor"},
    "orders.read": {"admin", "supervisor", "office"},
    "orders.write": {"admin", "supervisor", "office"},
    "shops.manage": {"admin", "office"},
    "floor.connect": _ALL,
    "floor.picking": {"picker", "supervisor", "admin"},
    "floor.packing": {"packer", "supervisor", "admin"},
    "floor.putwall": {"packer", "picker", "supervisor", "admin"},
    "floor.receiving": {"receiver", "supervisor", "admin"},
    "wallboard.view": {"supervisor", "admin"},
    "floor.control": {"supervisor", "admin"},
    "waves.read": {"admin", "supervisor", "office"},
    "waves.manage": {"admin", "supervisor"},
    "printers.read": _ALL,
    "printers.manage": {"admin", "supervisor"},
    "printjobs.write": {"admin", "supervisor", "packer", "office"},
    "shipping.export": {"admin", "supervisor", "office"},
}


def can(roles, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return bool(PERMISSIONS[permission] & set(roles))


@dataclass
class Principal:
    """An authenticated caller: a user, the device it logged in from, and its roles."""
    user: User
    roles: list[str]
    device: Device | None = None
    token_id: int | None = None
    permissions: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.permissions = {p for p, holders in PERMISSIONS.items() if holders & set(self.roles)}

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"{self.user.code} may not {permission}", permission=permission)


# --- secrets -------------------------------------------------------------------------------

def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def _verify(hash_: str, secret: str) -> bool:
    if not hash_:
        _hasher.hash(secret)  # same cost whether or not the user exists
        return False
    try:
        return _hasher.verify(hash_, secret)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- users ---------------------------------------------------------------------------------

def ensure_roles() -> None:
    for code, (zh, en) in ROLE_NAMES.items():
        Role.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en})


def add_user(code: str, name: str, roles: list[str], *, password: str | None = None,
             pin: str | None = None, phone: str = "", language: str = "",
             min_password: int = 8) -> User:
    """Create a user, or update the secrets and roles of an existing one."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise DomainError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if password is not None and len(password) < min_password:
        raise DomainError(f"password must have at least {min_password} characters")
    if pin is not None and not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        raise DomainError("PIN must be 4 to 8 digits")
    with write_transaction():
        ensure_roles()
        user, created = User.get_or_create(code=code, defaults={"name": name})
        user.name = name or user.name
        user.phone = phone or user.phone
        user.language = language or user.language
        user.active = True
        if password is not None:
            user.password_hash = hash_secret(password)
        if pin is not None:
            user.pin_hash = hash_secret(pin)
        user.save()
        UserRole.delete().where(UserRole.user == user).execute()
        for role in Role.select().where(Role.code.in_(roles)):
            UserRole.create(user=user, role=role)
    return user


def roles_of(user: User) -> list[str]:
    return sorted(r.code for r in Role.select(Role.code).join(UserRole).where(UserRole.user == user))


# --- login ---------------------------------------------------------------------------------

def _locked(settings: dict, column, value: str, now: dt.datetime) -> bool:
    if not value:
        return False
    limit = settings["LOGIN_MAX_FAILURES"]
    last_ok = (LoginAttempt.select(LoginAttempt.at).where((column == value) & LoginAttempt.ok)
               .order_by(LoginAttempt.at.desc()).limit(1).scalar())
    query = LoginAttempt.select(LoginAttempt.at).where((column == value) & ~LoginAttempt.ok)
    if last_ok is not None:
        query = query.where(LoginAttempt.at > last_ok)
    failures = [row.at for row in query.order_by(LoginAttempt.at.desc()).limit(limit)]
    if len(failures) < limit:
        return False
    newest, oldest = failures[0], failures[-1]
    return ((newest - oldest).total_seconds() <= settings["LOGIN_WINDOW_S"]
            and (now - newest).total_seconds() < settings["LOGIN_LOCK_S"])


def _login(settings: dict, user_code: str, secret: str, kind: str, device_code: str = "",
           device_kind: str = "handheld", remote_addr: str = "") -> dict:
    now = utcnow()
    user_code = (user_code or "").strip()
    device_code = (device_code or "").strip()[:64]
    if _locked(settings, LoginAttempt.user_code, user_code, now) or \
            _locked(settings, LoginAttempt.device_code, device_code, now):
        raise LockedOut("too many failed logins; try again later",
                        retry_after_s=settings["LOGIN_LOCK_S"])
    user = User.get_or_none((User.code == user_code) & User.active)
    hash_ = "" if user is None else (user.password_hash if kind == "password" else user.pin_hash)
    ok = _verify(hash_, secret or "")
    if not ok:
        # the failure must be committed before it is reported: the count is what locks
        with write_transaction():
            LoginAttempt.create(user_code=user_code[:32], device_code=device_code,
                                remote_addr=remote_addr, ok=False, at=now)
            AuditLog.create(user=user.id if user else None, action="login.failed",
                            target=user_code[:200], detail=f"{kind} device={device_code}")
        raise AuthError("wrong user or " + ("password" if kind == "password" else "PIN"))
    with write_transaction():
        LoginAttempt.create(user_code=user_code[:32], device_code=device_code, remote_addr=remote_addr,
                            ok=True, at=now)
        device = None
        if device_code:
            device, _ = Device.get_or_create(code=device_code, defaults={"kind": device_kind})
            device.last_seen_at = now
            device.save()
        token = secrets.token_urlsafe(32)
        expires = now + dt.timedelta(hours=settings["TOKEN_TTL_HOURS"])
        ApiToken.create(token_hash=_token_hash(token), user=user, device=device, kind="session",
                        expires_at=expires)
        AuditLog.create(user=user, device=device, action="login", target=user.code,
                        detail=f"{kind} from {remote_addr}".strip())
    roles = roles_of(user)
    return {"token": token, "user": {"code": user.code, "name": user.name, "language": user.language},
            "roles": roles, "expires_at": expires.replace(tzinfo=dt.timezone.utc).isoformat()}


def login_password(settings: dict, user_code: str, password: str, remote_addr: str = "") -> dict:
    return _login(settings, user_code, password, "password", device_kind="pc", remote_addr=remote_addr)


def login_pin(settings: dict, user_code: str, pin: str, device_code: str, remote_addr: str = "") -> dict:
    if not device_code:
        raise AuthError("a device code is required for PIN login")
    return _login(settings, user_code, pin, "pin", device_code=device_code, remote_addr=remote_addr)


def issue_program_token(user_code: str, label: str, *, by: Principal, days: int | None = 365) -> str:
    """A long-lived token for a program (an ERP connector, a script), shown once."""
    user = User.get_or_none(User.code == user_code)
    if user is None:
        raise NotFound(f"no user {user_code!r}")
    token = secrets.token_urlsafe(32)
    with write_transaction():
        ApiToken.create(token_hash=_token_hash(token), user=user, kind="program", label=label,
                        expires_at=utcnow() + dt.timedelta(days=days) if days else None)
        AuditLog.create(user=by.user, device=by.device, action="token.issue", target=user.code,
                        detail=label)
    return token


def authenticate(token: str | None) -> Principal | None:
    """The principal behind a bearer token, or None for a missing, unknown, revoked or expired one."""
    if not token:
        return None
    row = (ApiToken.select(ApiToken, User).join(User)
           .where((ApiToken.token_hash == _token_hash(token)) & ~ApiToken.revoked & User.active)
           .first())
    if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    device = Device.get_by_id(row.device_id) if row.device_id else None
    return Principal(row.user, roles_of(row.user), device, row.id)


def logout(principal: Principal) -> None:
    with write_transaction():
        ApiToken.update(revoked=True).where(ApiToken.id == principal.token_id).execute()
        AuditLog.create(user=principal.user, device=principal.device, action="logout",
                        target=principal.user.code)


# --- personal data -------------------------------------------------------------------------

def mask_phone(phone: str) -> str:
    """138****5678: enough to tell two buyers apart on the floor, not enough to call them."""
    digits = phone or ""
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) < 8:
        return digits[:1] + "*" * (len(digits) - 3) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str) -> str:
    return (name[:1] + "*" * (len(name) - 1)) if name else ""


def mask_address(address: str) -> str:
    """Keep the first few characters (the street), hide the house number and the rest."""
    if not address:
        return ""
    keep = min(6, max(1, len(address) // 3))
    return address[:keep] + "****"


def personal(principal: Principal, value: str, kind: str = "phone") -> str:
    """``value`` as this principal may see it."""
    if principal.can("pii.read"):
        return value
    return {"phone": mask_phone, "name": mask_name, "address": mask_address}[kind](value)
