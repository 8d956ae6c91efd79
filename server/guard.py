"""Role checks for every HTTP route. A view is either ``@requires(permission)`` or ``@public``;
``tests/test_route_map.py`` fails when a route is neither."""
from __future__ import annotations

import ipaddress
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

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


def _trusted_proxies() -> set[str]:
    return {a.strip() for a in current_app.config["WF"]["TRUSTED_PROXIES"].split(",") if a.strip()}


def _from_proxy() -> bool:
    """The request came through one of the ``TRUSTED_PROXIES`` (nginx), whose forwarding headers
    are believed; any other peer could write them."""
    return (request.remote_addr or "") in _trusted_proxies()


def client_address() -> str:
    """The address of the device that sent the request: the peer's, or, behind a trusted proxy,
    the last address of ``X-Forwarded-For`` that is not a trusted proxy (nginx appends the
    address it was reached from; what comes before it the client wrote itself)."""
    peer = request.remote_addr or ""
    if not _from_proxy():
        return peer
    trusted = _trusted_proxies()
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    while forwarded and forwarded[-1] in trusted:
        forwarded.pop()
    if not forwarded:
        return peer
    try:
        return str(ipaddress.ip_address(forwarded[-1]))
    except ValueError:  # not an address: the proxy did not write it
        return peer


def behind_tls() -> bool:
    """The browser reached the server by TLS: directly, or through a trusted proxy that says so."""
    return request.is_secure or (_from_proxy() and request.headers.get("X-Forwarded-Proto", "").lower() == "https")


class SessionCookie(SecureCookieSessionInterface):
    """The signed session cookie, ``Secure`` whenever the browser came by TLS (behind nginx, as
    its ``X-Forwarded-Proto`` says): never sent back over plain HTTP, where anyone on the LAN reads it."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (bool(request) and behind_tls())


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
