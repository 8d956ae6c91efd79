"""Who may do what: users, roles, hashed secrets, tokens, logins and their limits, masking.

Secrets are argon2 hashes, checked in threads beside the event loop, ``LOGIN_VERIFY_AT_ONCE`` at
a time; only a token's SHA-256 is stored. A login is refused unchecked (429) while its user, its
device or its address is locked: ``LOGIN_MAX_FAILURES`` failures of a user or a device
(``LOGIN_ADDRESS_MAX_FAILURES`` of an address) within ``LOGIN_WINDOW_S`` lock it for
``LOGIN_LOCK_S``; a success clears only its own user's failures. Attempts are rows, so every
server process sees the same count. A device holds one user's session at a time, until it ends
(logout, expiry) or a supervisor releases the device or logs in there; a session that ends is
announced as ``session.ended`` to the rooms of its sockets, which the realtime layer closes.

It is one module because the permission table, the sessions and the masking answer one question
(may this caller see or do this?) and are read together by every route and event.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import time
from contextlib import suppress
from dataclasses import dataclass, field

import gevent
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from gevent import monkey
from gevent.lock import BoundedSemaphore

from server import events
from server.db import write_transaction
from server.messages import text
from server.models import ApiToken, AuditLog, Device, LoginAttempt, Role, User, UserRole
from server.models.base import utcnow
from server.models.people import ROLES
from server.services.errors import AuthError, DeviceInUse, DomainError, Forbidden, LockedOut, LoginBusy, PinTooShort

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
    "receiving.close_short": {"supervisor", "admin"},  # end a receipt closing its order short
    "wallboard.view": {"supervisor", "admin"},
    "floor.control": {"supervisor", "admin"},
    "waves.read": {"admin", "supervisor", "office"},
    "waves.manage": {"admin", "supervisor"},
    "printers.read": _ALL,
    "printers.manage": {"admin", "supervisor"},
    "printers.url": {"admin"},  # where labels (buyers' addresses) go: a printer's URL, a new printer
    "printjobs.write": {"admin", "supervisor", "packer", "office"},
    "shipping.export": {"admin", "supervisor", "office"},
    "purchasing.read": {"admin", "supervisor", "office"},
    "purchasing.write": {"admin", "supervisor", "office"},
    "purchasing.approve": {"admin", "supervisor"},
    "quality.write": {"receiver", "supervisor", "admin"},  # QC checks and decisions (入库质检)
    "returns.write": {"receiver", "supervisor", "admin", "office"},  # the returns bench, refund imports (退货入库)
    "returns.read": {"admin", "supervisor", "office", "receiver"},
    "finance.read": {"admin", "supervisor", "office"},  # fees, cost, margin, bills, vouchers (财务)
    "finance.write": {"admin", "office"},  # commission rates, account mapping, bill imports
    "customers.read": {"admin", "supervisor", "office"},  # customers, tags, due-to-reorder lists (CRM)
    "customers.write": {"admin", "office"},  # opt-outs, tag rules reloaded
    "reports.read": {"admin", "supervisor", "office"},  # the BI pages and their exports
    "approvals.decide": {"admin", "supervisor", "office"},  # 多级审批: which level a role may take is in the flow
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
    language: str | None = None  # the device's language (its login or its last command), before the user's

    @property
    def lang(self) -> str | None:
        """The language the device's messages are in: the device's own, else the user's."""
        return self.language or self.user.language or None

    def __post_init__(self):
        self.permissions = {p for p, holders in PERMISSIONS.items() if holders & set(self.roles)}

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"{self.user.code} may not {permission}", permission=permission)


# --- secrets -------------------------------------------------------------------------------

VERIFY_WAIT_S = 10.0  # a login waits this long for a free check (a shift starting), then is refused as busy
REFUSAL_DELAY_S = 0.5  # a locked login is answered this late: a client that floods waits for each answer
HASHING_NICE = 10  # the threads that hash give way to the event loop's thread on a busy core


def hash_secret(secret: str) -> str:
    return _in_a_thread(_hasher.hash, secret)


def _verify(hash_: str, secret: str) -> bool:
    if not hash_:
        _hasher.hash(secret)  # same cost whether or not the user exists
        return False
    try:
        return _hasher.verify(hash_, secret)
    except (VerificationError, InvalidHashError):
        return False


_gates: dict[int, BoundedSemaphore] = {}


def verification_gate(at_once: int) -> BoundedSemaphore:
    """The semaphore that lets ``at_once`` checks run at a time in this process."""
    return _gates.setdefault(at_once, BoundedSemaphore(max(1, at_once)))


def verify_secret(settings: dict, hash_: str, secret: str) -> bool:
    """Whether ``secret`` matches ``hash_`` (an empty hash costs as much and says no): checked in
    a thread, at most ``LOGIN_VERIFY_AT_ONCE`` at a time; :class:`LoginBusy` when none frees up
    within ``VERIFY_WAIT_S``."""
    gate = verification_gate(settings["LOGIN_VERIFY_AT_ONCE"])
    if not gate.acquire(timeout=VERIFY_WAIT_S):
        raise LoginBusy("too many logins are being checked")
    try:
        return _in_a_thread(_verify, hash_, secret)
    finally:
        gate.release()


def _in_a_thread(function, *args):
    """``function(*args)`` in gevent's pool of real threads where greenlets share this thread
    (a serving process), so that they go on running meanwhile; here otherwise."""
    if monkey.is_module_patched("threading") or isinstance(gevent.getcurrent(), gevent.Greenlet):
        return gevent.get_hub().threadpool.apply(_giving_way, (function, *args))
    return function(*args)


def _giving_way(function, *args):
    """Hash in a thread of a lower priority (nice 10: a tenth of the event loop's share of a
    core both want), so a flood of logins takes little of the scans' time. Not Linux's
    SCHED_IDLE, which runs a thread only on a core nothing else wants: on a machine kept busy by
    anything (PostgreSQL, an import, a report) a PIN login then took 4 to 46 s."""
    with suppress(AttributeError, OSError):  # a thread's own nice value (who=0: the calling thread)
        os.setpriority(os.PRIO_PROCESS, 0, HASHING_NICE)
    return function(*args)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- users ---------------------------------------------------------------------------------

def ensure_roles() -> None:
    for code, (zh, en) in ROLE_NAMES.items():
        Role.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en})


def add_user(code: str, name: str, roles: list[str], *, password: str | None = None,
             pin: str | None = None, phone: str = "", language: str = "",
             min_password: int = 8, min_pin: int = 4) -> User:
    """Create a user, or update the secrets and roles of an existing one (a change of roles
    ends the user's sessions: they log in again with the new ones)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise DomainError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if password is not None and len(password) < min_password:
        raise DomainError(f"password must have at least {min_password} characters")
    fewest = min(8, max(4, min_pin))
    if pin is not None and not (pin.isascii() and pin.isdigit() and fewest <= len(pin) <= 8):
        raise DomainError(f"PIN must be {fewest} to 8 digits")
    password_hash = hash_secret(password) if password is not None else None
    pin_hash = hash_secret(pin) if pin is not None else None
    with write_transaction():
        ensure_roles()
        user, created = User.get_or_create(code=code, defaults={"name": name})
        roles_before = [] if created else roles_of(user)
        user.name = name or user.name
        user.phone = phone or user.phone
        user.language = language or user.language
        user.active = True
        if password_hash is not None:
            user.password_hash = password_hash
        if pin_hash is not None:
            user.pin_hash = pin_hash
        user.save()
        UserRole.delete().where(UserRole.user == user).execute()
        for role in Role.select().where(Role.code.in_(roles)):
            UserRole.create(user=user, role=role)
        if not created and roles_before != sorted(set(roles)):
            end_sessions_of(user, "role_changed")
    return user


def roles_of(user: User) -> list[str]:
    return sorted(r.code for r in Role.select(Role.code).join(UserRole).where(UserRole.user == user))


# --- login ---------------------------------------------------------------------------------

def _lock_holds(settings: dict, failures: list[dt.datetime], limit: int, now: dt.datetime) -> bool:
    """``failures`` (newest first): the newest ``limit`` of them fall within the window, and the
    lock time since the newest has not run out."""
    if limit <= 0 or len(failures) < limit:
        return False
    newest, oldest = failures[0], failures[limit - 1]
    return ((newest - oldest).total_seconds() <= settings["LOGIN_WINDOW_S"]
            and (now - newest).total_seconds() < settings["LOGIN_LOCK_S"])


def _user_locked(settings: dict, user_code: str, now: dt.datetime) -> bool:
    """The user's failures since their last success."""
    if not user_code:
        return False
    limit = settings["LOGIN_MAX_FAILURES"]
    last_ok = (LoginAttempt.select(LoginAttempt.at).where((LoginAttempt.user_code == user_code) & LoginAttempt.ok)
               .order_by(LoginAttempt.at.desc()).limit(1).scalar())
    query = LoginAttempt.select(LoginAttempt.at).where((LoginAttempt.user_code == user_code) & ~LoginAttempt.ok)
    if last_ok is not None:
        query = query.where(LoginAttempt.at > last_ok)
    failures = [at for (at,) in query.order_by(LoginAttempt.at.desc()).limit(limit).tuples()]
    return _lock_holds(settings, failures, limit, now)


def _device_locked(settings: dict, device_code: str, now: dt.datetime) -> bool:
    """The device's failures, whoever made them; a user's success there clears only that user's."""
    if not device_code:
        return False
    since = now - dt.timedelta(seconds=settings["LOGIN_WINDOW_S"] + settings["LOGIN_LOCK_S"])  # older: no lock now
    rows = (LoginAttempt.select(LoginAttempt.user_code, LoginAttempt.ok, LoginAttempt.at)
            .where((LoginAttempt.device_code == device_code) & (LoginAttempt.at > since))
            .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(500).tuples())
    succeeded, failures = set(), []
    for user_code, ok, at in rows:
        if ok:
            succeeded.add(user_code)
        elif user_code not in succeeded:
            failures.append(at)
    return _lock_holds(settings, failures, settings["LOGIN_MAX_FAILURES"], now)


def _address_locked(settings: dict, address: str, now: dt.datetime) -> bool:
    """The failures from one network address, whatever the user or device; no success clears them."""
    limit = settings["LOGIN_ADDRESS_MAX_FAILURES"]
    if not address or limit <= 0:
        return False
    since = now - dt.timedelta(seconds=settings["LOGIN_WINDOW_S"] + settings["LOGIN_LOCK_S"])
    failures = [at for (at,) in LoginAttempt.select(LoginAttempt.at)
                .where((LoginAttempt.remote_addr == address) & ~LoginAttempt.ok & (LoginAttempt.at > since))
                .order_by(LoginAttempt.at.desc()).limit(limit).tuples()]
    return _lock_holds(settings, failures, limit, now)


def _refused(error: DomainError) -> DomainError:
    """``error``, late: a client that sends its next attempt when the answer comes cannot send many."""
    time.sleep(REFUSAL_DELAY_S)
    return error


def _login(settings: dict, user_code: str, secret: str, kind: str, device_code: str = "",
           device_kind: str = "handheld", remote_addr: str = "") -> dict:
    now = utcnow()
    user_code = (user_code or "").strip()
    device_code = (device_code or "").strip()[:64]
    remote_addr = (remote_addr or "")[:64]
    secret = secret or ""
    if "\x00" in user_code + secret + device_code + remote_addr:  # no user, device or secret holds one
        raise AuthError("a login may not hold a NUL character")
    if kind == "pin" and len(secret) < settings["PIN_MIN_LENGTH"]:
        raise _refused(PinTooShort(f"a PIN has at least {settings['PIN_MIN_LENGTH']} digits here"))
    if (_address_locked(settings, remote_addr, now) or _user_locked(settings, user_code, now)
            or _device_locked(settings, device_code, now)):
        raise _refused(LockedOut("too many failed logins; try again later", retry_after_s=settings["LOGIN_LOCK_S"]))
    user = User.get_or_none((User.code == user_code) & User.active)
    hash_ = "" if user is None else (user.password_hash if kind == "password" else user.pin_hash)
    if not verify_secret(settings, hash_, secret):
        # the failure must be committed before it is reported: the count is what locks
        with write_transaction():
            LoginAttempt.create(user_code=user_code[:32], device_code=device_code,
                                remote_addr=remote_addr, ok=False, at=now)
            AuditLog.create(user=user.id if user else None, action="login.failed",
                            target=user_code[:200], detail=f"{kind} device={device_code}")
        raise AuthError("wrong user or " + ("password" if kind == "password" else "PIN"))
    roles, holders = roles_of(user), []
    try:
        with write_transaction():
            device = None
            if device_code:
                device, _ = Device.get_or_create(code=device_code, defaults={"kind": device_kind})
                # written first: a second login on the device waits here until this one is done
                Device.update(last_seen_at=now).where(Device.id == device.id).execute()
                holders = sessions_on(device_code, now, other_than=user)
            if holders and not can(roles, "floor.control"):
                raise DeviceInUse(f"{device_code} is in use by another user")
            LoginAttempt.create(user_code=user_code[:32], device_code=device_code, remote_addr=remote_addr,
                                ok=True, at=now)
            if holders:  # a supervisor at the device takes it over: that is the release
                end_sessions(holders, "device_released")
                AuditLog.create(user=user, device=device, action="device.release", target=device.code,
                                detail="took over from " + ", ".join(sorted({h[2] for h in holders})))
            token = secrets.token_urlsafe(32)
            expires = now + dt.timedelta(hours=settings["TOKEN_TTL_HOURS"])
            ApiToken.create(token_hash=token_hash(token), user=user, device=device, kind="session",
                            expires_at=expires)
            AuditLog.create(user=user, device=device, action="login", target=user.code,
                            detail=f"{kind} from {remote_addr}".strip())
    except DeviceInUse:
        with write_transaction():
            AuditLog.create(user=user, device=Device.get(Device.code == device_code), action="login.refused",
                            target=user.code, detail=f"in use by {', '.join(sorted({h[2] for h in holders}))}")
        raise
    return {"token": token, "user": {"code": user.code, "name": user.name, "language": user.language},
            "roles": roles, "expires_at": expires.replace(tzinfo=dt.timezone.utc).isoformat()}


def login_password(settings: dict, user_code: str, password: str, remote_addr: str = "") -> dict:
    return _login(settings, user_code, password, "password", device_kind="pc", remote_addr=remote_addr)


def login_pin(settings: dict, user_code: str, pin: str, device_code: str, remote_addr: str = "") -> dict:
    if not device_code:
        raise AuthError("a device code is required for PIN login")
    return _login(settings, user_code, pin, "pin", device_code=device_code, remote_addr=remote_addr)


def authenticate(token: str | None) -> Principal | None:
    """The principal behind a bearer token, or None for a missing, unknown, revoked or expired one."""
    if not isinstance(token, str) or not token:
        return None
    row = (ApiToken.select(ApiToken, User).join(User)
           .where((ApiToken.token_hash == token_hash(token)) & ~ApiToken.revoked & User.active)
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
        if principal.token_id is not None:
            _announce_end("logged_out", principal.lang, [f"session:{principal.token_id}"])


# --- sessions that end ---------------------------------------------------------------------
# A socket is in the rooms ``session:<token id>`` and ``user:<user id>``: the realtime layer closes
# the sockets ``session.ended`` is sent to, and every few seconds those whose session no longer
# stands (people.ended_sessions: a change another process made).

def _announce_end(code: str, language: str, rooms: list[str]) -> None:
    events.publish("session.ended", ended_payload(code, language), rooms)


def ended_payload(code: str, language: str | None) -> dict:
    """What ``session.ended`` says: why, in the user's language (``text``) and in each language a
    device may speak (``texts``), since the event may reach devices the server no longer asks."""
    return {"code": code, "text": text(code, language or None),
            "texts": {"en": text(code, "en"), "zh-CN": text(code, "zh_Hans_CN")}}


def sessions_on(device_code: str, now: dt.datetime, other_than: User | None = None) -> list[tuple]:
    """(token id, user id, user code, language) of each live session on the device."""
    query = (ApiToken.select(ApiToken.id, User.id, User.code, User.language).join(User).switch(ApiToken)
             .join(Device).where((Device.code == device_code) & (ApiToken.kind == "session") & ~ApiToken.revoked
                                 & User.active & (ApiToken.expires_at.is_null(True) | (ApiToken.expires_at > now))))
    if other_than is not None:
        query = query.where(ApiToken.user != other_than.id)
    return list(query.tuples())


def end_sessions(sessions: list[tuple], code: str) -> None:
    """Revoke these sessions (rows of :func:`sessions_on`) and tell their sockets why; inside
    the caller's write transaction."""
    ApiToken.update(revoked=True).where(ApiToken.id.in_([s[0] for s in sessions])).execute()
    for token_id, _user_id, _user_code, language in sessions:
        _announce_end(code, language, [f"session:{token_id}"])


def end_sessions_of(user: User, code: str) -> None:
    """Revoke the user's sessions (a program token reads the user anew at each request) and tell
    all the user's sockets why; inside the caller's write transaction."""
    ApiToken.update(revoked=True).where((ApiToken.user == user.id) & (ApiToken.kind == "session")
                                        & ~ApiToken.revoked).execute()
    _announce_end(code, user.language, [f"user:{user.id}"])


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
