"""Logging in and out: passwords, PINs, lockout, tokens, hashed secrets, audit and masking,
through the HTTP surface on both database engines."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from server.models import ApiToken, AuditLog, Device, LoginAttempt, User
from server.models.base import utcnow
from server.services import auth

LOGIN = "/api/v1/auth/login"
PIN = "/api/v1/auth/pin"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def password_login(client, user="u-office", password="secret-pass"):
    return client.post(LOGIN, json={"user": user, "password": password})


def pin_login(client, user="u-picker", pin="2468", device="HH-07"):
    return client.post(PIN, json={"user": user, "pin": pin, "device": device})


def fail(response, status, code):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["code"] == code
    assert "token" not in body
    return body


# --- password and PIN login ----------------------------------------------------------------

def test_password_login_gives_a_token_that_opens_the_api(client, people):
    response = password_login(client)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "user", "roles", "expires_at"}
    assert body["user"]["code"] == "u-office"
    assert body["roles"] == ["office"]
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires.tzinfo is not None and expires > dt.datetime.now(dt.timezone.utc)

    me = client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["user"]["code"] == "u-office"
    assert me.get_json()["device"] is None
    assert "orders.read" in me.get_json()["permissions"]


def test_web_login_form_starts_a_session(client, people):
    response = client.post("/login", data={"user": "u-office", "password": "secret-pass"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/stock")
    assert client.get("/stock").status_code == 200
    # the session token is an ordinary token: the API accepts the same session
    assert client.get("/api/v1/me").get_json()["user"]["code"] == "u-office"


def test_web_login_with_a_wrong_password_shows_the_form_again(client, people):
    response = client.post("/login", data={"user": "u-office", "password": "nope-nope"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Wrong user or password." in page
    assert 'value="u-office"' in page
    assert client.get("/stock").status_code == 302


def test_pin_login_registers_the_device_and_the_token_carries_it(client, people):
    assert Device.get_or_none(Device.code == "HH-07") is None
    response = pin_login(client)
    assert response.status_code == 200, response.get_json()
    device = Device.get(Device.code == "HH-07")
    assert device.kind == "handheld"
    assert device.last_seen_at is not None

    me = client.get("/api/v1/me", headers=bearer(response.get_json()["token"])).get_json()
    assert me["device"] == "HH-07"
    assert me["user"]["code"] == "u-picker"
    assert me["roles"] == ["picker"]
    assert ApiToken.get(ApiToken.device == device).user.code == "u-picker"


def test_pin_login_needs_a_device_code(client, people):
    response = client.post(PIN, json={"user": "u-picker", "pin": "2468"})
    assert response.status_code == 422
    assert "device" in response.get_json()["detail"]["json"]


def test_a_password_does_not_open_the_pin_door_nor_the_reverse(client, people):
    fail(pin_login(client, pin="secret-pass"), 401, "bad_credentials")
    fail(password_login(client, password="2468"), 401, "bad_credentials")


# --- wrong secrets -------------------------------------------------------------------------

def test_wrong_password_is_401_and_tells_nothing(client, people):
    body = fail(password_login(client, password="wrong-pass"), 401, "bad_credentials")
    assert set(body) == {"code", "message", "detail"}
    assert "wrong-pass" not in str(body) and "argon2" not in str(body)


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, people):
    wrong = password_login(client, user="u-office", password="wrong-pass")
    unknown = password_login(client, user="u-nobody", password="wrong-pass")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()
    assert set(unknown.headers.keys()) == set(wrong.headers.keys())

    wrong_pin = pin_login(client, user="u-picker", pin="0000")
    unknown_pin = pin_login(client, user="u-nobody", pin="0000")
    assert unknown_pin.get_json() == wrong_pin.get_json()


def test_an_inactive_user_cannot_log_in(client, people):
    User.update(active=False).where(User.code == "u-office").execute()
    fail(password_login(client), 401, "bad_credentials")


# --- lockout -------------------------------------------------------------------------------

def test_five_failures_lock_the_user_even_for_the_right_password(app, client, people):
    limit = app.config["WF"]["LOGIN_MAX_FAILURES"]
    assert limit == 5
    for _ in range(limit):
        fail(password_login(client, password="wrong-pass"), 401, "bad_credentials")
    locked = password_login(client)
    fail(locked, 429, "locked_out")
    assert int(locked.headers["Retry-After"]) == app.config["WF"]["LOGIN_LOCK_S"]
    # the PIN door is the same user
    fail(pin_login(client, user="u-office"), 429, "locked_out")
    # other users are not affected
    assert password_login(client, user="u-supervisor").status_code == 200


def test_a_locked_out_web_login_says_so(client, people):
    for _ in range(5):
        password_login(client, password="wrong-pass")
    response = client.post("/login", data={"user": "u-office", "password": "secret-pass"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert "Too many failed logins" in response.get_data(as_text=True)


def test_five_failures_on_one_device_lock_the_device_across_users(client, people):
    for role in ("picker", "packer", "receiver", "supervisor", "office"):
        fail(pin_login(client, user=f"u-{role}", pin="0000", device="HH-13"), 401, "bad_credentials")
    fail(pin_login(client, user="u-admin", device="HH-13"), 429, "locked_out")
    # the same users still get in from another device, and without a device
    assert pin_login(client, user="u-picker", device="HH-14").status_code == 200
    assert password_login(client, user="u-picker").status_code == 200


def test_the_lock_ends_after_the_lock_time(app, client, people):
    for _ in range(5):
        password_login(client, password="wrong-pass")
    fail(password_login(client), 429, "locked_out")
    lock_s = app.config["WF"]["LOGIN_LOCK_S"]
    for attempt in LoginAttempt.select():
        attempt.at = attempt.at - dt.timedelta(seconds=lock_s + 1)
        attempt.save()
    assert password_login(client).status_code == 200


def test_the_lock_time_is_a_setting(app, client, people, monkeypatch):
    monkeypatch.setitem(app.config["WF"], "LOGIN_LOCK_S", 0)
    for _ in range(6):
        fail(password_login(client, password="wrong-pass"), 401, "bad_credentials")
    assert password_login(client).status_code == 200


def test_failures_spread_wider_than_the_window_do_not_lock(app, client, people):
    window = app.config["WF"]["LOGIN_WINDOW_S"]
    for _ in range(4):
        password_login(client, password="wrong-pass")
    for attempt in LoginAttempt.select():
        attempt.at = attempt.at - dt.timedelta(seconds=window + 1)
        attempt.save()
    fail(password_login(client, password="wrong-pass"), 401, "bad_credentials")
    assert password_login(client).status_code == 200


def test_a_successful_login_resets_the_count(client, people):
    for _ in range(4):
        password_login(client, password="wrong-pass")
    assert password_login(client).status_code == 200
    for _ in range(4):
        fail(password_login(client, password="wrong-pass"), 401, "bad_credentials")
    assert password_login(client).status_code == 200
    assert LoginAttempt.select().where(LoginAttempt.user_code == "u-office").count() == 10


# --- tokens --------------------------------------------------------------------------------

def test_an_expired_token_is_refused(client, token_for):
    token = token_for("office")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    ApiToken.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(
        ApiToken.token_hash == token_hash).execute()
    fail(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")


def test_unknown_or_missing_tokens_are_refused(client, people):
    fail(client.get("/api/v1/me"), 401, "unauthorized")
    fail(client.get("/api/v1/me", headers=bearer("not-a-token")), 401, "unauthorized")


def test_logout_revokes_the_token(client, token_for):
    token = token_for("picker", device="HH-01")
    response = client.post("/api/v1/auth/logout", headers=bearer(token))
    assert response.status_code == 204
    fail(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")
    assert ApiToken.get(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest()).revoked


def test_web_logout_ends_the_session(client, people):
    client.post("/login", data={"user": "u-office", "password": "secret-pass"})
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/stock").status_code == 302
    assert ApiToken.select().where(~ApiToken.revoked).count() == 0


def test_the_session_cookie_does_not_count_for_a_write_sent_from_another_host(client, people, token_for):
    client.post("/login", data={"user": "u-office", "password": "secret-pass"})
    for forged in ({"Origin": "http://10.0.0.66"}, {"Origin": "null"}, {"Origin": "http://localhost.evil.example"},
                   {"Referer": "http://10.0.0.66/form.html"}):
        fail(client.post("/api/v1/auth/logout", headers=forged), 401, "unauthorized")
    other_port = client.post("/api/v1/auth/logout", headers={"Origin": "http://localhost:8081"},
                             base_url="http://localhost:5000")
    fail(other_port, 401, "unauthorized")
    assert ApiToken.select().where(~ApiToken.revoked).count() == 1
    assert client.get("/api/v1/me", headers={"Origin": "http://10.0.0.66"}).status_code == 200  # reads are not writes
    picker = token_for("picker", device="HH-01")  # a token is not sent by the browser on its own
    assert client.post("/api/v1/auth/logout", headers={"Origin": "http://10.0.0.66", **bearer(picker)}).status_code == 204
    assert client.post("/api/v1/auth/logout", headers={"Origin": "http://localhost"}).status_code == 204


def test_admin_issues_a_program_token(client, token_for):
    response = client.post("/api/v1/tokens", json={"user": "u-office", "label": "ERP connector"},
                           headers=bearer(token_for("admin")))
    assert response.status_code == 201, response.get_json()
    token = response.get_json()["token"]
    row = ApiToken.get(ApiToken.kind == "program")
    assert row.label == "ERP connector" and row.user.code == "u-office"
    assert row.expires_at > utcnow() + dt.timedelta(days=364)
    me = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert me["user"]["code"] == "u-office" and me["device"] is None


def test_program_tokens_for_unknown_users_are_404(client, token_for):
    response = client.post("/api/v1/tokens", json={"user": "u-ghost", "label": "x"},
                           headers=bearer(token_for("admin")))
    fail(response, 404, "not_found")


@pytest.mark.parametrize("role", ["supervisor", "office", "picker", "packer", "receiver"])
def test_only_admins_issue_program_tokens(client, token_for, role):
    response = client.post("/api/v1/tokens", json={"user": "u-office", "label": "ERP"},
                           headers=bearer(token_for(role)))
    fail(response, 403, "forbidden")
    assert ApiToken.select().where(ApiToken.kind == "program").count() == 0


# --- stored secrets ------------------------------------------------------------------------

def test_secrets_and_tokens_are_stored_hashed(client, db):
    auth.add_user("u-new", "New Person", ["picker"], password="another-pass", pin="1357")
    user = User.get(User.code == "u-new")
    for stored, plain in ((user.password_hash, "another-pass"), (user.pin_hash, "1357")):
        assert stored.startswith("$argon2id$")
        assert plain not in stored
    token = password_login(client, user="u-new", password="another-pass").get_json()["token"]
    assert pin_login(client, user="u-new", pin="1357").status_code == 200
    stored_tokens = [t.token_hash for t in ApiToken.select()]
    assert token not in stored_tokens
    assert hashlib.sha256(token.encode()).hexdigest() in stored_tokens


def test_weak_secrets_are_refused(db):
    with pytest.raises(auth.DomainError):
        auth.add_user("u-weak", "Weak", ["picker"], password="short")
    with pytest.raises(auth.DomainError):
        auth.add_user("u-weak", "Weak", ["picker"], pin="12ab")
    with pytest.raises(auth.DomainError):  # digits a handheld's keypad cannot type
        auth.add_user("u-weak", "Weak", ["picker"], pin="１２３４")
    assert User.get_or_none(User.code == "u-weak") is None


# --- audit ---------------------------------------------------------------------------------

def test_logins_failures_and_token_issues_are_audited(client, token_for):
    password_login(client, user="u-office", password="wrong-pass")
    pin_login(client, user="u-picker", device="HH-02")
    admin = bearer(token_for("admin"))
    client.post("/api/v1/tokens", json={"user": "u-office", "label": "ERP"}, headers=admin)

    failed = client.get("/api/v1/audit?action=login.failed", headers=admin).get_json()["items"]
    assert [(a["user"], a["target"]) for a in failed] == [("u-office", "u-office")]
    assert "wrong-pass" not in failed[0]["detail"]

    logins = client.get("/api/v1/audit?action=login", headers=admin).get_json()["items"]
    assert {(a["user"], a["device"]) for a in logins} == {("u-picker", "HH-02"), ("u-admin", None)}

    issued = client.get("/api/v1/audit?action=token.issue", headers=admin).get_json()["items"]
    assert [(a["user"], a["target"], a["detail"]) for a in issued] == [("u-admin", "u-office", "ERP")]
    assert AuditLog.select().where(AuditLog.action == "token.issue").count() == 1


def test_the_audit_log_is_for_admins_and_supervisors(client, token_for):
    assert client.get("/api/v1/audit", headers=bearer(token_for("supervisor"))).status_code == 200
    fail(client.get("/api/v1/audit", headers=bearer(token_for("office"))), 403, "forbidden")


# --- personal data -------------------------------------------------------------------------

def test_masking_functions():
    assert auth.mask_phone("13800138000") == "138****8000"
    assert auth.mask_phone("8123456") == "8****56"
    assert auth.mask_phone("1234") == "****"
    assert auth.mask_phone("") == ""
    assert auth.mask_name("张三丰") == "张**"
    assert auth.mask_name("") == ""
    masked = auth.mask_address("浙江省杭州市西湖区文三路 90 号")
    assert masked == "浙江省杭州****"
    assert "90" not in masked
    assert auth.mask_address("") == ""


def test_personal_data_as_each_role_may_see_it(people):
    picker = auth.Principal(people["picker"], ["picker"])
    office = auth.Principal(people["office"], ["office"])
    assert auth.personal(picker, "13800138000") == "138****8000"
    assert auth.personal(picker, "李四", "name") == "李*"
    assert auth.personal(picker, "浙江省杭州市西湖区文三路 90 号", "address") == "浙江省杭州****"
    assert auth.personal(office, "13800138000") == "13800138000"
    assert auth.personal(office, "李四", "name") == "李四"
    assert auth.personal(office, "浙江省杭州市西湖区文三路 90 号", "address") == "浙江省杭州市西湖区文三路 90 号"


def test_user_list_shows_phones_to_supervisors_and_is_closed_to_pickers(client, token_for):
    response = client.get("/api/v1/users", headers=bearer(token_for("supervisor")))
    assert response.status_code == 200
    users = {u["code"]: u for u in response.get_json()["items"]}
    assert set(users) == {f"u-{r}" for r in ("admin", "supervisor", "office", "picker", "packer", "receiver")}
    assert users["u-picker"]["phone"] == "13800138000"
    assert users["u-picker"]["roles"] == ["picker"]
    assert "password_hash" not in users["u-picker"] and "pin_hash" not in users["u-picker"]
    fail(client.get("/api/v1/users", headers=bearer(token_for("picker"))), 403, "forbidden")
