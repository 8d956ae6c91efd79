"""Logins and sessions under attack: password and PIN checks off the event loop and bounded, limits
per address and device, sessions that end when they are revoked (logout, role change,
deactivation, a released device) on every open socket, one live session per device, and the web
login's redirects, origin checks and cookie. Through the real HTTP surface, real Socket.IO
clients against a live server, and a real Chromium for the handheld; both engines."""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import uuid

import pytest
import requests
import socketio

from server.models import ApiToken, AuditLog, LoginAttempt, Quant, Role, User, UserRole
from server.models.base import utcnow
from server.services import auth
from server.services.stock import inventory
from tests.conftest import ServerProcess
from tests.test_handheld_browser import ARTIFACTS, browser  # noqa: F401  (headless chromium)
from tests.test_realtime import Device, pin_login

PIN = "/api/v1/auth/pin"
ZH_SENTENCES = {"logged_out": "您已退出登录，请重新登录。", "role_changed": "您的角色已变更，请重新登录。",
                "user_deactivated": "您的账号已停用，请联系主管。", "device_released": "主管已释放此设备，请重新登录。"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_row(token: str) -> ApiToken:
    return ApiToken.get(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest())


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def ended(device: Device, timeout: float = 10.0) -> dict:
    """The ``session.ended`` the device was sent, once the server has also closed its socket."""
    payload = device.wait_for("session.ended", timeout)
    wait_until(lambda: not device.sio.connected, timeout, "the server closes the socket")
    return payload


def add_user(code: str, role: str, pin_hash: str) -> User:
    user = User.create(code=code, name=code, pin_hash=pin_hash)
    UserRole.create(user=user, role=Role.get(Role.code == role))
    return user


@pytest.fixture
def stocked(small_warehouse, people):
    inventory.receive(small_warehouse["tee"], small_warehouse["locations"]["A-01"], 10,
                      actor=inventory.Actor(people["receiver"].id))
    return small_warehouse


# --- 1. checks off the event loop, bounded, and a failing address refused before hashing -----------

def test_pin_checks_leave_the_server_answering_other_requests(live_server):
    """Eight PIN logins at once for made-up users: while they are checked, a page of the
    handheld is fetched again and again. Checked on the event loop (~0.15 s each), the page
    came back about once per check; checked in threads, many times."""
    served, logins = [], []
    busy = threading.Event()

    def fetch_pages():
        with requests.Session() as http:
            while not busy.is_set():
                time.sleep(0.005)
            while busy.is_set():
                assert http.get(f"{live_server.url}/handheld/dom.js", timeout=10).status_code == 200
                served.append(1)

    def login(n):
        response = requests.post(f"{live_server.url}{PIN}", timeout=30,
                                 json={"user": f"ghost-{n}", "pin": "135790", "device": f"HH-G{n}"})
        logins.append(response.status_code)

    pager = threading.Thread(target=fetch_pages)
    pager.start()
    attempts = [threading.Thread(target=login, args=(n,)) for n in range(8)]
    busy.set()
    for attempt in attempts:
        attempt.start()
    for attempt in attempts:
        attempt.join(60)
    busy.clear()
    pager.join(15)
    assert set(logins) <= {401, 429} and 401 in logins  # 429: login_busy, on a machine busy with more than this
    assert len(served) >= 25, f"only {len(served)} pages served while 8 PINs were checked"


def test_a_check_in_a_greenlet_lets_the_other_greenlets_run():
    """Four checks from four greenlets while a fifth sleeps 10 ms at a time: it keeps waking."""
    gevent = pytest.importorskip("gevent")
    stored = auth.hash_secret("2468")
    settings = {"LOGIN_VERIFY_AT_ONCE": 2}
    wakes, running = [0], [True]

    def ticker():
        while running[0]:
            gevent.sleep(0.01)
            wakes[0] += 1

    tick = gevent.spawn(ticker)
    checks = [gevent.spawn(auth.verify_secret, settings, stored, pin) for pin in ("2468", "0000", "2468", "1111")]
    gevent.joinall(checks, raise_error=True)
    running[0] = False
    tick.join()
    assert [check.value for check in checks] == [True, False, True, False]
    # on the loop the ticker could only run between two checks (at most 4 times)
    assert wakes[0] >= 10, wakes[0]


def test_more_checks_than_the_bound_wait_then_are_refused_as_busy(app, client, people, monkeypatch):
    monkeypatch.setitem(app.config["WF"], "LOGIN_VERIFY_AT_ONCE", 1)
    monkeypatch.setattr(auth, "VERIFY_WAIT_S", 0.2)
    gate = auth.verification_gate(1)
    assert gate.acquire(timeout=1)  # another login is being checked
    try:
        busy = client.post(PIN, json={"user": "u-picker", "pin": "2468", "device": "HH-01"},
                           headers={"Accept-Language": "en"})
    finally:
        gate.release()
    assert busy.status_code == 429 and busy.get_json()["code"] == "login_busy"
    assert busy.get_json()["message"] == "The server is busy checking logins. Try again in a moment."
    assert client.post(PIN, json={"user": "u-picker", "pin": "2468", "device": "HH-01"}).status_code == 200


def test_an_address_that_sprays_pins_is_refused_without_checking(app, client, people, monkeypatch):
    """One or two guesses per user, each from a fresh device: the address's failures add up.
    Once refused, not even the right PIN is checked."""
    limit = app.config["WF"]["LOGIN_ADDRESS_MAX_FAILURES"]
    assert limit == 20
    users = [f"u-{role}" for role in ("picker", "packer", "receiver", "supervisor", "office", "admin")]
    for n in range(limit):
        sprayed = client.post(PIN, json={"user": users[n % len(users)], "pin": f"{n:04d}", "device": f"HH-S{n}"})
        assert sprayed.status_code == 401, (n, sprayed.get_json())
    checked = []
    monkeypatch.setattr(auth, "_verify", lambda stored, secret: checked.append(secret) or True)
    refused = client.post(PIN, json={"user": "u-picker", "pin": "2468", "device": "HH-S99"})
    assert refused.status_code == 429 and refused.get_json()["code"] == "locked_out"
    assert refused.headers["Retry-After"] == str(app.config["WF"]["LOGIN_LOCK_S"])
    assert checked == []
    # another address (behind the proxy, which names it) is not affected
    other = client.post(PIN, json={"user": "u-picker", "pin": "2468", "device": "HH-S98"},
                        headers={"X-Forwarded-For": "10.0.3.7"})
    assert other.status_code == 200 and checked == ["2468"]


def test_only_the_proxy_may_name_the_address(app, client, people, monkeypatch):
    monkeypatch.setitem(app.config["WF"], "LOGIN_ADDRESS_MAX_FAILURES", 2)
    lan = {"REMOTE_ADDR": "10.0.3.66"}
    for n in range(2):
        response = client.post(PIN, json={"user": "u-nobody", "pin": "0000", "device": f"HH-P{n}"},
                               headers={"X-Forwarded-For": f"10.9.9.{n}"}, environ_base=lan)
        assert response.status_code == 401
    # a device on the LAN cannot pose as another address: its own is the one counted
    refused = client.post(PIN, json={"user": "u-picker", "pin": "2468", "device": "HH-P9"},
                          headers={"X-Forwarded-For": "10.9.9.200"}, environ_base=lan)
    assert refused.status_code == 429
    assert {row.remote_addr for row in LoginAttempt.select()} == {"10.0.3.66"}


# --- 6. per-device failures across users, longer PINs --------------------------------------------

def test_a_success_does_not_clear_a_devices_failures_for_other_users(client, people):
    for role in ("packer", "receiver", "office", "admin"):
        assert client.post(PIN, json={"user": f"u-{role}", "pin": "0000", "device": "HH-X"}).status_code == 401
    assert client.post(PIN, json={"user": "u-picker", "pin": "2468", "device": "HH-X"}).status_code == 200
    assert client.post(PIN, json={"user": "u-supervisor", "pin": "0000", "device": "HH-X"}).status_code == 401
    locked = client.post(PIN, json={"user": "u-picker", "pin": "2468", "device": "HH-X"})
    assert locked.status_code == 429 and locked.get_json()["code"] == "locked_out"


def test_the_admin_may_require_longer_pins(app, client, people, monkeypatch):
    with pytest.raises(auth.DomainError):
        auth.add_user("u-short", "Short", ["picker"], pin="1234", min_pin=6)
    assert auth.add_user("u-long", "Long", ["picker"], pin="135792", min_pin=6).pin_hash.startswith("$argon2id$")
    monkeypatch.setitem(app.config["WF"], "PIN_MIN_LENGTH", 6)
    checked = []
    monkeypatch.setattr(auth, "_verify", lambda stored, secret: checked.append(secret) or True)
    short = client.post(PIN, json={"user": "u-picker", "pin": "2468", "device": "HH-01"},
                        headers={"Accept-Language": "en"})
    assert short.status_code == 401 and short.get_json()["code"] == "pin_too_short"
    assert "new PIN" in short.get_json()["message"] and checked == []
    assert client.post(PIN, json={"user": "u-long", "pin": "135792", "device": "HH-02"}).status_code == 200


# --- 3 and 7. what a socket may offer at connect --------------------------------------------------

def test_a_token_that_is_not_text_is_refused(live_server):
    for token in (12345, ["a-token"], {"token": "x"}, True):
        sio = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(live_server.url, namespaces=["/floor"], auth={"token": token}, transports=["websocket"],
                        wait_timeout=5)
        sio.disconnect()
    assert "Traceback" not in live_server.log.read_text()


def test_a_refused_connect_closes_the_engineio_session(live_server):
    """A client that keeps answering pings after its namespace connect was refused is closed."""
    import engineio
    heard, closed = [], threading.Event()
    eio = engineio.Client()
    eio.on("message", heard.append)
    eio.on("disconnect", lambda *args: closed.set())
    eio.connect(live_server.url, transports=["websocket"], engineio_path="socket.io")
    try:
        eio.send('0/floor,{"token":"made-up"}')
        wait_until(lambda: any(m.startswith("4/floor") for m in heard), 5, "the refusal")
        assert closed.wait(5), "the session stays open after a refused connect"
    finally:
        eio.disconnect()


# --- 4. sessions end on every open socket ---------------------------------------------------------

def test_logout_ends_the_sockets_of_that_session_and_stock_no_longer_moves(live_server, stocked):
    token = pin_login(live_server, "u-receiver", "HH-L1")
    other = pin_login(live_server, "u-receiver", "HH-L2")
    device, second = Device(live_server, token), Device(live_server, other)
    try:
        device.wait_for("snapshot")
        move = {"scenario": "stock", "action": "move", "sku": "TS-01", "from": "A-01", "to": "A-02", "qty": 1}
        assert device.cmd(**move)["ok"]
        logout = requests.post(f"{live_server.url}/api/v1/auth/logout", headers=bearer(token), timeout=10)
        assert logout.status_code == 204
        refused = device.cmd(**move)  # sent at once, before the server closes the socket
        assert refused["ok"] is False and refused["message"]["code"] == "logged_out"
        payload = ended(device)
        assert (payload["code"], payload["text"]) == ("logged_out", ZH_SENTENCES["logged_out"])
        assert second.cmd(scenario="stock", action="lookup", code="A-01")["ok"]  # the other session goes on
        assert [e for e, _ in second.events if e == "session.ended"] == []
    finally:
        device.close()
        second.close()
    assert Quant.get(Quant.location == stocked["locations"]["A-01"]).qty == 9
    with pytest.raises(socketio.exceptions.ConnectionError):
        Device(live_server, token)


def test_a_role_change_and_a_deactivation_end_the_users_sockets(live_server, people):
    admin = pin_login(live_server, "u-admin", "PC-ADMIN")
    picker = Device(live_server, pin_login(live_server, "u-picker", "HH-R1"))
    receiver = Device(live_server, pin_login(live_server, "u-receiver", "HH-R2"))
    try:
        picker.wait_for("snapshot")
        changed = requests.put(f"{live_server.url}/api/v1/users/u-picker/roles", json={"roles": ["picker", "receiver"]},
                               headers=bearer(admin), timeout=10)
        assert changed.status_code == 200, changed.text
        assert changed.json()["roles"] == ["picker", "receiver"]
        assert ended(picker)["text"] == ZH_SENTENCES["role_changed"]
        off = requests.post(f"{live_server.url}/api/v1/users/u-receiver/deactivate", headers=bearer(admin), timeout=10)
        assert off.status_code == 200 and off.json()["active"] is False
        assert ended(receiver)["code"] == "user_deactivated"
    finally:
        picker.close()
        receiver.close()
    # the picker logs in again and has the new role
    again = Device(live_server, pin_login(live_server, "u-picker", "HH-R1"))
    try:
        assert again.wait_for("snapshot")["roles"] == ["picker", "receiver"]
    finally:
        again.close()
    actions = {(a.action, a.target) for a in AuditLog.select()}
    assert {("user.roles", "u-picker"), ("user.deactivate", "u-receiver")} <= actions


def test_a_session_ended_outside_the_process_reaches_its_socket_within_seconds(live_server, people):
    """Revoked by the command line (or another process) and expired: each socket is told and closed."""
    revoked, expiring = pin_login(live_server, "u-picker", "HH-E1"), pin_login(live_server, "u-packer", "HH-E2")
    first, second = Device(live_server, revoked), Device(live_server, expiring)
    try:
        ApiToken.update(revoked=True).where(ApiToken.id == token_row(revoked).id).execute()
        ApiToken.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(
            ApiToken.id == token_row(expiring).id).execute()
        assert ended(first)["code"] == "logged_out"
        assert ended(second)["code"] == "session_expired"
    finally:
        first.close()
        second.close()


def test_a_logout_on_one_process_reaches_a_socket_on_another(db, db_url, tmp_path, people):
    env = {"WAVEFLOOR_REDIS_URL": "redis://127.0.0.1:6379/0", "WAVEFLOOR_REDIS_CHANNEL": f"wf-{uuid.uuid4().hex[:8]}",
           "WAVEFLOOR_PRINT_WORKER": "0"}
    a, b = (ServerProcess(db_url, tmp_path / "instance", env).start() for _ in range(2))
    try:
        token = pin_login(b, "u-picker", "HH-M1")
        device = Device(b, token)
        try:
            device.wait_for("snapshot")
            assert requests.post(f"{a.url}/api/v1/auth/logout", headers=bearer(token), timeout=10).status_code == 204
            assert ended(device)["code"] == "logged_out"
        finally:
            device.close()
    finally:
        a.stop()
        b.stop()


# --- 5. one live session a device -----------------------------------------------------------------

def test_a_second_user_cannot_take_a_station_in_use_until_a_supervisor_releases_it(live_server, people,
                                                                                     secret_hashes):
    add_user("u-packer2", "packer", secret_hashes[1])
    first = pin_login(live_server, "u-packer", "PK-01")
    station = Device(live_server, first)
    try:
        station.wait_for("snapshot")
        taken = requests.post(f"{live_server.url}{PIN}", json={"user": "u-packer2", "pin": "2468", "device": "PK-01"},
                              headers={"Accept-Language": "en"}, timeout=10)
        assert taken.status_code == 409 and taken.json()["code"] == "device_in_use"
        assert "token" not in taken.json()
        assert pin_login(live_server, "u-packer", "PK-01")  # the same packer again: their own station
        assert station.cmd(scenario="stock", action="lookup", code="A-01")["message"]["code"] != "device_released"

        boss = pin_login(live_server, "u-supervisor", "PC-BOSS")
        picker = pin_login(live_server, "u-picker", "HH-P1")
        assert requests.post(f"{live_server.url}/api/v1/devices/PK-01/release", headers=bearer(picker),
                             timeout=10).status_code == 403
        released = requests.post(f"{live_server.url}/api/v1/devices/PK-01/release", headers=bearer(boss), timeout=10)
        assert released.status_code == 200 and released.json()["released"] == ["u-packer"]
        assert ended(station)["text"] == ZH_SENTENCES["device_released"]
    finally:
        station.close()
    assert requests.get(f"{live_server.url}/api/v1/me", headers=bearer(first), timeout=10).status_code == 401
    assert pin_login(live_server, "u-packer2", "PK-01")

    audit = {(a.action, a.user.code if a.user else None, a.device.code if a.device else None): a.detail
             for a in AuditLog.select()}
    assert ("login.refused", "u-packer2", "PK-01") in audit
    assert "u-packer" in audit[("device.release", "u-supervisor", "PK-01")]
    assert ("login", "u-packer2", "PK-01") in audit


def test_logging_out_frees_the_station_and_a_supervisor_may_take_it_over(client, people, secret_hashes):
    add_user("u-packer2", "packer", secret_hashes[1])
    token = client.post(PIN, json={"user": "u-packer", "pin": "2468", "device": "PK-02"}).get_json()["token"]
    assert client.post(PIN, json={"user": "u-packer2", "pin": "2468", "device": "PK-02"}).status_code == 409
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert client.post(PIN, json={"user": "u-packer2", "pin": "2468", "device": "PK-02"}).status_code == 200
    # a supervisor at the station takes it over: that is the release
    assert client.post(PIN, json={"user": "u-supervisor", "pin": "2468", "device": "PK-02"}).status_code == 200
    assert ApiToken.select().join(User).where((User.code == "u-packer2") & ~ApiToken.revoked).count() == 0


# --- 7. the web login: redirects, origins, links with a token, the cookie --------------------------

@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0a/evil.example", "/%0d%0aSet-Cookie:%20x=1",
                                    "/%5c/evil.example", "%2f%2fevil.example"])
def test_language_links_and_the_login_stay_on_the_server(client, people, target):
    switched = client.get(f"/lang/en?next={target}")
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    logged_in = client.post(f"/login?next={target}", data={"user": "u-office", "password": "secret-pass"})
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/stock"
    assert client.get("/lang/en?next=/orders%3Fstatus%3Dheld").headers["Location"] == "/orders?status=held"


def test_a_login_form_sent_from_another_site_is_refused(client, people):
    forged = client.post("/login", data={"user": "u-office", "password": "secret-pass"},
                         headers={"Origin": "http://evil.example", "Accept-Language": "en"})
    assert forged.status_code == 403
    assert "sent from another site" in forged.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401  # no session was started
    assert ApiToken.select().count() == 0
    same = client.post("/login", data={"user": "u-office", "password": "secret-pass"},
                       headers={"Origin": "http://localhost"})
    assert same.status_code == 302 and client.get("/api/v1/me").get_json()["user"]["code"] == "u-office"


def test_a_link_with_a_token_does_not_swap_a_browsers_session(client, people, token_for):
    client.post("/login", data={"user": "u-supervisor", "password": "secret-pass"})
    theirs = token_for("admin", device="WALL-9")
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Referer": "http://evil.example/mail"}, {}):
        client.get(f"/wall?token={theirs}", headers=headers)
        assert client.get("/api/v1/me").get_json()["user"]["code"] == "u-supervisor", headers
    # a wall screen with no session of someone else's takes its token from the address
    fresh = client.application.test_client()
    moved = fresh.get(f"/wall?token={theirs}", headers={"Sec-Fetch-Site": "none"})
    assert (moved.status_code, moved.headers["Location"]) == (302, "/wall")
    assert fresh.get("/api/v1/me").get_json()["user"]["code"] == "u-admin"
    refused = client.application.test_client().get(f"/wall?token={theirs}", headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")


def test_the_session_cookie_is_secure_behind_tls(client, people):
    behind_tls = client.post("/login", data={"user": "u-office", "password": "secret-pass"},
                             headers={"X-Forwarded-Proto": "https"})
    cookie = behind_tls.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = client.application.test_client().post("/login", data={"user": "u-office", "password": "secret-pass"})
    assert "Secure" not in plain.headers["Set-Cookie"]  # plain HTTP on a test bench: no TLS to require
    # only the proxy is believed
    spoofed = client.application.test_client().post("/login", data={"user": "u-office", "password": "secret-pass"},
                                                    headers={"X-Forwarded-Proto": "https"},
                                                    environ_base={"REMOTE_ADDR": "10.0.3.66"})
    assert "Secure" not in spoofed.headers["Set-Cookie"]


# --- the handheld in a real browser ----------------------------------------------------------------

@pytest.mark.browser
def test_the_handheld_goes_to_its_login_screen_with_the_reason(live_server, people, browser):
    admin = pin_login(live_server, "u-admin", "PC-ADMIN")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/handheld/")
        page.get_by_test_id("login-user").fill("u-picker")
        page.get_by_test_id("login-pin").fill("2468")
        page.get_by_test_id("login-device").fill("HH-CR1")
        page.get_by_test_id("login-submit").click()
        page.wait_for_selector("[data-testid=link][data-online=true]")
        changed = requests.put(f"{live_server.url}/api/v1/users/u-picker/roles", json={"roles": ["picker", "packer"]},
                               headers=bearer(admin), timeout=10)
        assert changed.status_code == 200
        page.wait_for_selector("main[data-state=login]", timeout=10000)
        notice = page.get_by_test_id("login-error")
        assert notice.get_attribute("data-code") == "role_changed"
        assert notice.inner_text() == ZH_SENTENCES["role_changed"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "handheld_session_ended.png"))

        # logging in again, then out with the button, ends the session on the server too
        page.get_by_test_id("login-user").fill("u-picker")
        page.get_by_test_id("login-pin").fill("2468")
        page.get_by_test_id("login-submit").click()
        page.wait_for_selector("[data-testid=link][data-online=true]")
        token = page.evaluate("localStorage.getItem('wf.token')")
        page.get_by_role("button", name="退出").click()
        page.wait_for_selector("main[data-state=login]")
        wait_until(lambda: token_row(token).revoked, 10, "the handheld's logout revokes its token")
    finally:
        context.close()


@pytest.mark.browser
def test_the_packing_station_goes_to_its_login_with_the_reason(live_server, people, browser):
    boss = pin_login(live_server, "u-supervisor", "PC-BOSS")
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
    try:
        page.goto(f"{live_server.url}/pack?station=PK-07")
        page.fill("#user", "u-packer")
        page.fill("#pin", "2468")
        page.click("button[type=submit]")
        page.wait_for_selector("#link.on")
        released = requests.post(f"{live_server.url}/api/v1/devices/PK-07/release", headers=bearer(boss), timeout=10)
        assert released.json()["released"] == ["u-packer"]
        page.wait_for_selector("#login:not([hidden])", timeout=10000)
        page.wait_for_selector("#banner.error[data-code=device_released]")
        assert page.inner_text("#banner") == ZH_SENTENCES["device_released"]
        assert page.is_hidden("#work")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "pack_station_released.png"))
    finally:
        page.close()
