"""Role checks for every HTTP route. A view is either ``@requires(permission)`` or ``@public``;
``tests/test_route_map.py`` fails when a route is neither."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for

from server.services import auth
from server.services.errors import Forbidden, Unauthorized


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def load_principal() -> None:
    """Find the caller from ``Authorization: Bearer`` or the web session (before each request).
    The session cookie does not count for a write sent by a page of another host (a forged
    form or script on some other machine of the LAN): the browser sends the cookie anyway."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    else:
        token = session.get("token")
        if token and request.method in WRITES and from_another_host():
            token = None
    g.principal = auth.authenticate(token) if token else None


def from_another_host() -> bool:
    """The request's Origin (or, without one, its Referer) names another host than this
    server's. A request with neither (a program, an old browser) is not judged here."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return False
    try:
        origin, here = urlsplit(source), urlsplit(f"//{request.host}")
        if origin.hostname is None or origin.hostname != here.hostname:
            return True  # includes Origin: null (a sandboxed frame, a file)
        # behind the proxy Host may come without its port; compare ports only when it has one
        return here.port is not None and (origin.port or DEFAULT_PORTS.get(origin.scheme)) != here.port
    except ValueError:  # a malformed header: not a page of this server
        return True


def current_principal():
    return g.get("principal")


def public(view):
    view.wf_permission = None
    view.wf_public = True
    return view


def requires(permission: str):
    if permission not in auth.PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                if request.blueprint == "web":
                    return redirect(url_for("web.login", next=request.full_path))
                raise Unauthorized("authentication required")
            if not principal.can(permission):
                raise Forbidden(f"{principal.user.code} may not {permission}")
            return view(*args, **kwargs)

        guarded.wf_permission = permission
        guarded.wf_public = False
        return guarded
    return decorate
