"""Every route of the app is either public on purpose or guarded by a named permission, and the
guard answers as it should: 401 (API) or a redirect to /login (pages) without a token, 403 for a
role that lacks the permission. The routes come from ``app.url_map``, so a new route is checked
the day it is added."""
from __future__ import annotations

import re

import pytest

from server.services import auth

# Flask's own ``static`` endpoint serves server/web/static: the style sheet and the vendored
# browser libraries. Nothing there is data; the login page needs the style sheet before anyone
# has logged in, and send_from_directory refuses paths outside the folder.
UNGUARDED = {"static"}

PUBLIC = {
    "openapi.spec",  # the API description, so integrators can read it before they have a token
    "api.login", "api.login_pin",  # how a token is obtained
    "api.channel_orders",  # channel pushes, authenticated by the shop's signature instead
    "api.carrier_tracking",  # carriers' tracking pushes, authenticated by their signature instead
    "web.index", "web.login", "web.set_language",
    # the handheld app's static files; it logs in itself (PIN) and holds no data
    "web.handheld_root", "web.handheld_index", "web.handheld_file",
    "web.pack",  # the packing station's page shell; the packer logs in on the page
    # load balancers and Prometheus: up/down per part, no data (/metrics may ask for its own token)
    "health.healthz", "health.metrics",
}

# plausible values for URL parameters, by parameter name
URL_VALUES = {"order_id": "1", "job_id": "1", "wave_id": "1", "task_id": "1", "code": "P-01", "sku": "TS-01",
              "shop": "tmall-1", "action": "approve", "verb": "pause", "filename": "wavefloor.css", "name": "app.js",
              "tracking": "SF1000000001", "call_id": "1", "customer_id": "1"}
URL_VALUES.update({"request_id": "1", "subject": "price_change"})  # approvals
URL_VALUES.update({"rate_id": "1"})  # money
URL_VALUES.update({"run_id": "1"})  # refresh runs (customers, money)
URL_VALUES.update({"report": "sales"})  # reports
URL_VALUES.update({"key": "revenue"})  # finance: an account of the mapping


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def concrete(rule) -> str:
    def value(match):
        name = match.group(1)
        assert name in URL_VALUES, f"give tests/test_route_map.py a value for <{name}> ({rule.rule})"
        return URL_VALUES[name]
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule.rule)


LOGOUTS = {"api.logout", "web.logout"}


def guarded_routes(app):
    """(endpoint, method, url, permission) for every route behind a permission; logging out
    comes last."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in LOGOUTS, r.rule, r.endpoint)):
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in UNGUARDED or getattr(view, "wf_public", False):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, concrete(rule), view.wf_permission


def call(client, method, url, headers=None):
    kwargs = {"headers": headers or {}}
    if method in {"POST", "PUT", "PATCH"} and url.startswith("/api/"):
        kwargs["json"] = {}
    return client.open(url, method=method, **kwargs)


def test_every_route_is_public_or_names_a_known_permission(app):
    public, unmarked = set(), []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in UNGUARDED:
            assert not hasattr(view, "wf_public")
            continue
        if getattr(view, "wf_public", None) is True:
            assert view.wf_permission is None, rule.endpoint
            public.add(rule.endpoint)
        elif getattr(view, "wf_public", None) is False and view.wf_permission in auth.PERMISSIONS:
            continue
        else:
            unmarked.append(rule.rule)
    assert unmarked == []
    assert public == PUBLIC


def test_the_static_folder_is_open_and_holds_only_files(client, db):
    assert client.get("/static/wavefloor.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404


def test_without_a_token_api_routes_are_401_and_pages_redirect_to_login(app, db):
    client = app.test_client()
    wrong = []
    routes = list(guarded_routes(app))
    assert len(routes) > 40
    for endpoint, method, url, _ in routes:
        response = call(client, method, url)
        if url.startswith("/api/"):
            ok = response.status_code == 401 and response.get_json()["code"] == "unauthorized"
        else:
            ok = response.status_code == 302 and response.headers["Location"].startswith("/login")
        if not ok:
            wrong.append((method, url, response.status_code))
    assert wrong == []


def test_an_unknown_token_is_the_same_as_none(app, db):
    client = app.test_client()
    for endpoint, method, url, _ in guarded_routes(app):
        if url.startswith("/api/"):
            response = call(client, method, url, bearer("forged-token"))
            assert response.status_code == 401, (method, url)


def test_a_page_redirect_comes_back_to_the_page_after_login(app, people):
    client = app.test_client()
    response = client.get("/orders?status=held")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    back = client.post(login_url, data={"user": "u-office", "password": "secret-pass"})
    assert back.status_code == 302
    assert back.headers["Location"] == "/orders?status=held"


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example/x", "https://evil.example/"])
def test_login_never_redirects_off_the_server(app, people, target):
    client = app.test_client()
    response = client.post("/login", query_string={"next": target},
                           data={"user": "u-office", "password": "secret-pass"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/stock"


def test_a_picker_gets_403_wherever_the_role_lacks_the_permission(app, token_for):
    picker = bearer(token_for("picker", device="HH-01"))
    client = app.test_client()
    refused, wrong = 0, []
    for endpoint, method, url, permission in guarded_routes(app):
        # logging out ends the token, so each logout gets a token of its own
        headers = bearer(token_for("picker", device=endpoint)) if endpoint in LOGOUTS else picker
        response = call(client, method, url, headers)
        if not auth.can(["picker"], permission):
            refused += 1
            if response.status_code != 403:
                wrong.append((method, url, permission, response.status_code))
            elif url.startswith("/api/") and response.get_json()["code"] != "forbidden":
                wrong.append((method, url, permission, response.get_json()))
        elif (response.status_code in (401, 403) or response.status_code >= 500
              or response.headers.get("Location", "").startswith("/login?")):
            # the picker holds the permission: whatever the answer, the guard did not refuse it
            wrong.append((method, url, permission, response.status_code))
    assert refused > 20
    assert wrong == []


def test_a_forbidden_page_is_a_page_not_json(app, people):
    client = app.test_client()
    client.post("/login", data={"user": "u-picker", "password": "secret-pass"})
    response = client.get("/orders", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Your role may not do this." in response.get_data(as_text=True)
