"""Role checks for every HTTP route. A view is either ``@requires(permission)`` or ``@public``;
``tests/test_route_map.py`` fails when a route is neither."""
from __future__ import annotations

from functools import wraps

from flask import g, redirect, request, session, url_for

from server.services import auth
from server.services.errors import Forbidden, Unauthorized


def load_principal() -> None:
    """Find the caller from ``Authorization: Bearer`` or the web session (before each request)."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else session.get("token")
    g.principal = auth.authenticate(token) if token else None


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
