"""What can go wrong when a platform is called, sorted by what the caller should do next.

The worker retries the first kinds later (``retry``), asks the office to re-authorise a shop on
``SessionInvalid``, and stops a call for a person to look at on ``Refused`` or ``BadAnswer``.
Messages carry the platform's own code and text, never the app secret or the session.
"""
from __future__ import annotations


class PlatformError(Exception):
    """A platform call that did not do what was asked. ``call`` is the platform method name."""
    retry = False

    def __init__(self, call: str, code: str, message: str):
        super().__init__(call, code, message)
        self.call = call
        self.code = str(code)
        self.message = message

    def __str__(self) -> str:
        return f"{self.call}: {self.code}: {self.message}"


class Unreachable(PlatformError):
    """Refused connection, timeout, HTTP 5xx or the platform's own "remote service" error."""
    retry = True


class RateLimited(PlatformError):
    """The platform's flow control: try again after ``wait_s`` seconds."""
    retry = True

    def __init__(self, call: str, code: str, message: str, wait_s: float = 1.0):
        super().__init__(call, code, message)
        self.wait_s = wait_s


class SessionInvalid(PlatformError):
    """The seller's session (access token) expired or was revoked: the shop must authorise again."""


class BadAnswer(PlatformError):
    """An answer that cannot be read: not JSON, an HTML page, bytes that are not UTF-8, or a
    required field missing or of the wrong type."""


class Refused(PlatformError):
    """A business error the platform will repeat however often it is asked: needs a person."""
