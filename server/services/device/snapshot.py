"""What a device sees when it (re)connects: the whole current state for that device.

Scenarios add their part with :func:`provider`; clients replace local state with it."""
from __future__ import annotations

from server.events import version
from server.services.auth import Principal

_providers = []


def provider(fn):
    """Register ``fn(principal) -> dict`` whose keys are merged into every snapshot."""
    _providers.append(fn)
    return fn


def build(principal: Principal) -> dict:
    state = {"version": version(),
             "user": {"code": principal.user.code, "name": principal.user.name,
                      "language": principal.lang or ""},
             "roles": principal.roles,
             "device": principal.device.code if principal.device else None}
    for fn in _providers:
        state.update(fn(principal))
    return state
