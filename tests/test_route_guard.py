"""No route is open by accident: every view is public on purpose or names a permission, and
every guarded route refuses a caller without a token and a role without the permission."""
import re

import pytest

from server.services.auth import PERMISSIONS

# Public on purpose: the login endpoints, the OpenAPI document, the login page, the language
# switch, the front page (it only redirects), order webhooks (they carry an HMAC signature) and
# the handheld app and the pack-station page (shells that log in by PIN before they ask for any data).
PUBLIC = {"api.login", "api.login_pin", "api.channel_orders", "openapi.spec", "web.index", "web.login",
          "web.set_language", "web.handheld_root", "web.handheld_index", "web.handheld_file", "web.pack"}
SAMPLE = {"int": "1", "string": "X1", "default": "X1", "path": "x"}


def views(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue  # files shipped with the app: CSS, JS, vendor libraries; no data behind them
        yield rule, app.view_functions[rule.endpoint]


def url_for_rule(rule) -> str:
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: SAMPLE.get(m.group(1) or "default", "X1"),
                  rule.rule)


def test_every_view_is_public_on_purpose_or_names_a_permission(app):
    public, unknown, unmarked = [], [], []
    for rule, view in views(app):
        if getattr(view, "wf_public", None) is True:
            public.append(rule.endpoint)
        elif getattr(view, "wf_permission", None) in PERMISSIONS:
            continue
        elif hasattr(view, "wf_permission"):
            unknown.append(rule.endpoint)
        else:
            unmarked.append(rule.endpoint)
    assert unmarked == [] and unknown == []
    assert set(public) <= PUBLIC, set(public) - PUBLIC


def test_guarded_routes_refuse_anonymous_callers_and_roles_without_the_permission(app, client, token_for):
    picker = token_for("picker")
    picker_roles = {"picker"}
    checked = 0
    for rule, view in views(app):
        if getattr(view, "wf_public", False):
            continue
        url = url_for_rule(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            anonymous = client.open(url, method=method, json={})
            if rule.endpoint.startswith("api."):
                assert anonymous.status_code == 401, (method, url, anonymous.status_code)
            else:
                assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"], (method, url)
            if not PERMISSIONS[view.wf_permission] & picker_roles:
                refused = client.open(url, method=method, json={}, headers={"Authorization": f"Bearer {picker}"})
                assert refused.status_code == 403, (method, url, refused.status_code)
            checked += 1
    assert checked > 40


@pytest.mark.parametrize("engine", ["sqlite"])
def test_socket_events_check_roles(app):
    """Socket.IO: connect needs a valid token (floor.connect); every `cmd` names a scenario whose
    permission is checked before it runs (tests/test_realtime.py drives both over a real socket)."""
    from server.services.commands import scenarios
    registered = scenarios()
    assert registered and all(s.permission in PERMISSIONS for s in registered.values())
