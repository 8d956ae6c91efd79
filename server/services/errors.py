"""Named domain errors. Each carries a stable ``code`` that devices and API clients rely on;
the translated sentence is looked up from the code (server/messages.py)."""
from __future__ import annotations


class DomainError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, text: str = "", **params):
        super().__init__(text or self.code)
        self.text = text or self.code
        self.params = params


class Refused(DomainError):
    """A scan or step a floor scenario does not take, named by its code (``wrong_location``).
    Raised only before anything is written, so the answer can carry the device's unchanged
    state and the device stays on its step."""

    def __init__(self, code: str, **params):
        super().__init__(code, **params)
        self.code = code


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    http_status = 409


class InvalidState(DomainError):
    code = "invalid_stock_state"


class InvalidQuantity(DomainError):
    code = "invalid_quantity"


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409

    def __init__(self, noun: str, current: str, target: str):
        super().__init__(f"{noun} cannot go from {current} to {target}", noun=noun,
                         current=current, target=target)


class AuthError(DomainError):
    code = "bad_credentials"
    http_status = 401


class Unauthorized(AuthError):
    code = "unauthorized"


class LockedOut(AuthError):
    code = "locked_out"
    http_status = 429


class LoginBusy(DomainError):
    """Every login check of the process is taken, and none freed up in time."""
    code = "login_busy"
    http_status = 429


class PinTooShort(AuthError):
    code = "pin_too_short"


class DeviceInUse(DomainError):
    """Another user holds a live session on the device."""
    code = "device_in_use"
    http_status = 409


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403
