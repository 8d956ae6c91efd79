"""Logins, locks, tokens, hashed secrets, masked personal data and the audit trail."""
import datetime as dt

from server.models import ApiToken, AuditLog, Device, LoginAttempt, User
from server.services import auth


def login(client, user="u-office", password="secret-pass"):
    return client.post("/api/v1/auth/login", json={"user": user, "password": password})


def pin(client, user="u-picker", code="2468", device="HH-01"):
    return client.post("/api/v1/auth/pin", json={"user": user, "pin": code, "device": device})


def test_password_and_pin_logins(client, people):
    ok = login(client).get_json()
    assert ok["roles"] == ["office"] and ok["user"]["code"] == "u-office" and ok["expires_at"]
    device_login = pin(client).get_json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {device_login['token']}"}).get_json()
    assert me["device"] == "HH-01" and "floor.picking" in me["permissions"]
    assert Device.get(Device.code == "HH-01").last_seen_at is not None
    wrong = login(client, password="nope")
    unknown = login(client, user="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["code"] == unknown.get_json()["code"] == "bad_credentials"
    assert "token" not in wrong.get_json()
    assert pin(client, code="1111").status_code == 401


def test_secrets_are_argon2_hashes(db):
    user = auth.add_user("u-x", "X", ["packer"], password="long-enough", pin="9753")
    assert user.password_hash.startswith("$argon2") and user.pin_hash.startswith("$argon2")
    assert "long-enough" not in user.password_hash and "9753" not in user.pin_hash


def test_five_failures_lock_the_user_then_the_lock_expires(client, people):
    for _ in range(5):
        assert login(client, password="bad").status_code == 401
    locked = login(client)
    assert locked.status_code == 429 and locked.get_json()["code"] == "locked_out"
    assert locked.headers["Retry-After"]
    for attempt in LoginAttempt.select():  # six minutes pass
        LoginAttempt.update(at=attempt.at - dt.timedelta(minutes=6)).where(LoginAttempt.id == attempt.id).execute()
    assert login(client).status_code == 200


def test_a_device_that_guesses_is_locked_for_every_user(client, people):
    for user in ("u-picker", "u-packer", "u-receiver", "u-picker", "u-packer"):
        assert pin(client, user=user, code="0000", device="HH-EVIL").status_code == 401
    assert pin(client, user="u-receiver", device="HH-EVIL").status_code == 429
    assert pin(client, user="u-receiver", device="HH-GOOD").status_code == 200


def test_expired_and_revoked_tokens_are_refused(client, people):
    token = login(client).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    other = login(client).get_json()["token"]
    ApiToken.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer made-up"}).status_code == 401


def test_program_tokens_only_by_admin_and_audited(client, token_for):
    admin = {"Authorization": f"Bearer {token_for('admin')}"}
    office = {"Authorization": f"Bearer {token_for('office')}"}
    assert client.post("/api/v1/tokens", json={"user": "u-office", "label": "erp"}, headers=office).status_code == 403
    issued = client.post("/api/v1/tokens", json={"user": "u-office", "label": "erp", "days": 30}, headers=admin)
    assert issued.status_code == 201
    program = {"Authorization": f"Bearer {issued.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=program).get_json()["user"]["code"] == "u-office"
    actions = [row["action"] for row in client.get("/api/v1/audit", headers=admin).get_json()["items"]]
    assert "token.issue" in actions and "login" in actions


def test_personal_data_is_masked_for_roles_that_do_not_need_it(db, people):
    picker = auth.Principal(people["picker"], ["picker"])
    office = auth.Principal(people["office"], ["office"])
    assert auth.personal(office, "13812345678") == "13812345678"
    assert auth.personal(picker, "13812345678") == "138****5678"
    assert auth.personal(picker, "张三丰", "name") == "张**"
    assert auth.personal(picker, "浙江省杭州市文三路100号3单元", "address").endswith("****")
    assert "100号" not in auth.personal(picker, "浙江省杭州市文三路100号3单元", "address")


def test_logins_and_failures_are_in_the_audit_log(client, people):
    login(client)
    login(client, password="bad")
    actions = [a.action for a in AuditLog.select().order_by(AuditLog.id)]
    assert actions == ["login", "login.failed"]
    assert AuditLog.get(AuditLog.action == "login").user_id == User.get(User.code == "u-office").id
