"""A living demo floor (`wavefloor demo --live`): orders keep coming in, waves are planned and
released as they gather, and simulated pickers and packers work beside people.

The simulated workers are clients of the running server like any handheld or pack station: a
PIN login over REST (`POST /api/v1/auth/pin`), a Socket.IO connection to `/floor` with
`auth {token, lang}`, and `cmd` envelopes with a fresh key for each physical action
(docs/protocol.md). They know nothing the protocol does not tell them, except what a person on
the floor would know too: which totes they filled (a picker hands them to packing). They wait a
few seconds before each scan, so a person with a handheld shares the floor with them.

This module is a client: it imports nothing of the server's services. The supervisor plans and
releases waves through the REST API, as the control room does (:class:`Supervisor`); the order
feed and the demo's restocking come in as functions (``feed``, ``supervise``) from the command
line.
"""
from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

import socketio

NAMESPACE = "/floor"
# a slot's first tote refused: not an empty tote of this warehouse (still full, or another's)
TOTE_TAKEN = ("wrong_tote", "empty_tote_for_slot", "empty_tote")
log = logging.getLogger("wavefloor.live")


class Refused(Exception):
    """The server would not log the worker in."""


class SessionEnded(Exception):
    """The server ended the worker's session (logout elsewhere, a supervisor released the device)."""


def command_key() -> str:
    """A key that grows with time (the milliseconds first, as a UUID version 7 does)."""
    return f"{int(time.time() * 1000):012x}-{uuid.uuid4().hex[:20]}"


def pin_login(base_url: str, user: str, pin: str, device: str, lang: str = "en") -> str:
    body = json.dumps({"user": user, "pin": pin, "device": device}).encode()
    request = urllib.request.Request(f"{base_url}/api/v1/auth/pin", data=body, method="POST", headers={
        "Content-Type": "application/json", "Accept-Language": lang})
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return json.loads(answer.read())["token"]
    except urllib.error.HTTPError as exc:
        raise Refused(f"{user}@{device}: {exc.code} {exc.read()[:200].decode(errors='replace')}") from None


def api(base_url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    """One call of the REST API (docs/api.md) with the token; its JSON answer."""
    request = urllib.request.Request(f"{base_url}/api/v1{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


class Supervisor:
    """The supervisor's rounds, made as the control room makes them: through the REST API of
    the running server, which plans the waiting orders into waves and releases every planned
    wave, the oldest first (the server does the writing, as it does for a person)."""

    def __init__(self, base_url: str, user: str, password: str):
        self.base_url, self.user, self.password, self.token = base_url, user, password, None

    def _login(self) -> str:
        body = json.dumps({"user": self.user, "password": self.password}).encode()
        request = urllib.request.Request(f"{self.base_url}/api/v1/auth/login", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=15) as answer:
            return json.loads(answer.read())["token"]

    def round(self) -> list[dict]:
        try:
            return self._round()
        except urllib.error.HTTPError as exc:
            if exc.code != 401:
                raise
            self.token = None  # the session ended (expired, released): log in again next round
            raise

    def _round(self) -> list[dict]:
        self.token = self.token or self._login()
        for warehouse in api(self.base_url, self.token, "GET", "/waves/plannable")["items"]:
            if warehouse["waiting"]:
                api(self.base_url, self.token, "POST", "/waves/plan", {"warehouse": warehouse["code"]})
        planned = api(self.base_url, self.token, "GET", "/waves?status=planned&limit=500")["items"]
        released = []
        for wave in sorted(planned, key=lambda w: w["id"]):
            try:
                released.append(api(self.base_url, self.token, "POST", f"/waves/{wave['id']}/release")["wave"])
            except urllib.error.HTTPError as exc:
                if exc.code != 409:  # 409: an order left the wave meanwhile; the next round plans it again
                    raise
        return released


def logout(base_url: str, token: str) -> None:
    request = urllib.request.Request(f"{base_url}/api/v1/auth/logout", data=b"{}", method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        urllib.request.urlopen(request, timeout=5).close()
    except OSError:
        pass  # the session expires by itself


def wait_for_server(base_url: str, stop: threading.Event, timeout_s: float = 120.0) -> bool:
    """Wait until the server answers ``/healthz`` (`make run LIVE=1` starts both at once)."""
    deadline = time.monotonic() + timeout_s
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base_url}/healthz", timeout=2).close()
            return True
        except urllib.error.HTTPError:
            return True  # it answers: a part it watches is down, the floor still serves
        except OSError:
            stop.wait(0.5)
    return False


@dataclass
class Tote:
    """A tote a simulated picker filled and handed to packing."""
    code: str
    strategy: str
    units: dict = field(default_factory=dict)  # sku -> units put in


class Worker(threading.Thread):
    """One simulated person on one device: logs in, connects, sends commands, paces itself."""

    scenario = ""

    def __init__(self, base_url: str, user: str, pin: str, device: str, stop: threading.Event,
                 pace_s: float, lang: str = "en"):
        super().__init__(name=f"{user}@{device}", daemon=True)
        self.base_url, self.user, self.pin, self.device = base_url, user, pin, device
        self.stop, self.pace_s, self.lang = stop, pace_s, lang
        self.rng = random.Random(user)
        self.token = ""
        self.sio: socketio.Client | None = None
        self.ended = threading.Event()

    def connect(self) -> None:
        self.ended.clear()
        self.token = pin_login(self.base_url, self.user, self.pin, self.device, self.lang)
        self.sio = socketio.Client(reconnection=True, reconnection_delay=1, reconnection_delay_max=5)
        self.sio.on("session.ended", self._session_ended, namespace=NAMESPACE)
        self.sio.connect(self.base_url, namespaces=[NAMESPACE], transports=["websocket"],
                         auth={"token": self.token, "lang": self.lang}, wait_timeout=15)
        log.info("%s logged in on %s", self.user, self.device)

    def _session_ended(self, event) -> None:
        log.info("%s on %s: session ended (%s)", self.user, self.device, event.get("code"))
        self.ended.set()

    def close(self) -> None:
        if self.sio is not None:
            self.sio.disconnect()
            self.sio = None
        if self.token:
            logout(self.base_url, self.token)
            self.token = ""

    def cmd(self, scenario: str, action: str, **params) -> dict:
        payload = {"key": command_key(), "scenario": scenario, "action": action, **params}
        for _ in range(3):
            if self.ended.is_set():
                raise SessionEnded(self.device)
            try:
                return self.sio.call("cmd", payload, namespace=NAMESPACE, timeout=20)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                if self.stop.wait(2):
                    break  # the same key again: a command the server did take is not done twice
        log.info("%s on %s: no answer from the server", self.user, self.device)
        return {"ok": False, "next_state": "error", "data": {}, "message": {}}  # as a refusal: ask for `current`

    def pause(self, factor: float = 1.0) -> bool:
        """Wait as a person would before the next scan; true when the floor is closing."""
        return self.stop.wait(self.pace_s * factor * self.rng.uniform(0.7, 1.3))

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.connect()
                self.work()
            except Refused as exc:
                log.warning("cannot log in: %s", exc)
                self.stop.wait(30)
            except SessionEnded:
                self.stop.wait(5)
            except Exception:  # a worker that fails starts again; the floor goes on
                log.exception("%s on %s failed; starting again", self.user, self.device)
                self.stop.wait(5)
            finally:
                self.close()

    def work(self) -> None:
        raise NotImplementedError


def _state(answer: dict) -> tuple[str, dict]:
    state = answer.get("next_state") or "error"
    return state, (answer.get("data") or {}).get(state) or {}


#: refusals that mean the units are not where the line says: after a few, the line is short-picked
NOT_THERE = {"wrong_location", "wrong_item", "wrong_lot", "unknown_barcode", "over_pick"}


class Picker(Worker):
    """Claims pick tasks and walks them: location, item (scanned once, the rest typed), tote."""

    def __init__(self, *args, totes: list[str], handover: queue.Queue, **kwargs):
        super().__init__(*args, **kwargs)
        self.totes, self.handover = totes, handover

    def work(self) -> None:
        while not self.stop.is_set():
            answer = self.cmd("picking", "get_work")
            state, data = _state(answer)
            if state in ("start", "error") or "task" not in data:
                if self.pause(3):
                    return
                continue
            task = data["task"]
            log.info("%s took %s (%s, %s lines, %s units)", self.user, task["code"], task["strategy"],
                     task["lines_total"], task["units_total"])
            self.walk(answer, task)

    def walk(self, answer: dict, task: dict) -> None:
        filled: dict[str, Tote] = {}
        refusals = 0
        while not self.stop.is_set():
            state, data = _state(answer)
            line = data.get("line") or {}
            message = answer.get("message") or {}
            if state == "start":  # the task was handed to someone else, or cancelled
                log.info("%s: %s is no longer theirs (%s)", self.user, task["code"], message.get("code"))
                return
            if state == "task_done":
                for tote in filled.values():
                    self.handover.put(tote)
                log.info("%s finished %s: totes %s to packing", self.user, task["code"],
                         ", ".join(filled) or "none")
                return
            if state == "paused":  # the supervisor paused the wave: nothing is confirmed until it resumes
                if self.pause(5):
                    return
                answer = self.cmd("picking", "current")
                continue
            if not answer.get("ok") and message.get("code") in TOTE_TAKEN:
                if self.pause(2):  # every tote of ours is full: packing empties them
                    return
            elif not answer.get("ok"):
                refusals += 1
                if refusals >= 4 and line and message.get("code") in NOT_THERE:
                    log.info("%s: %s refused (%s); short pick", self.user, line.get("location"), message.get("code"))
                    answer, refusals = self.cmd("picking", "short", reason="not_found"), 0
                    continue
                if state == "error" or message.get("code") not in NOT_THERE:
                    # a refusal that is not about the shelf (a paused wave, a lost answer): wait, then ask
                    log.info("%s: %s (%s)", self.user, message.get("code") or "no answer", task["code"])
                    if self.pause(5):
                        return
                    answer = self.cmd("picking", "current")
                    continue
            if self.pause():
                return
            if state == "scan_location":
                answer = self.cmd("picking", "scan", code=line["location"])
            elif state == "scan_item":
                answer = self.cmd("picking", "scan", code=line["sku"])
            elif state == "qty":
                answer = self.cmd("picking", "qty", qty=line["remaining"])
            elif state == "scan_tote":
                tote = line.get("tote") or self.free_tote(filled, line)
                answer = self.cmd("picking", "scan", code=tote)
                if answer.get("ok"):
                    refusals = 0
                    bin_ = filled.setdefault(tote, Tote(tote, task["strategy"]))
                    bin_.units[line["sku"]] = bin_.units.get(line["sku"], 0) + line["counted"]
                    log.info("%s picked %s x%s from %s into %s", self.user, line["sku"], line["counted"],
                             line["location"], tote)
                elif (answer.get("message") or {}).get("code") in TOTE_TAKEN and not line.get("tote"):
                    self.totes.remove(tote)  # still full, or another picker took it: try it last
                    self.totes.append(tote)
            else:
                answer = self.cmd("picking", "current")

    def free_tote(self, filled: dict, line: dict) -> str:
        """The tote for a slot that has none yet: the first of this picker's totes in the line's
        warehouse (its codes begin as the location's do) not filled in this task."""
        prefix = line["location"].split("-", 1)[0] + "-"
        mine = [code for code in self.totes if code.startswith(prefix)] or self.totes
        return next((code for code in mine if code not in filled), mine[0])


class Packer(Worker):
    """Packs the totes the simulated pickers hand over; a put wall tote is sorted first."""

    def __init__(self, *args, handover: queue.Queue, wall_station: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.handover, self.wall_station = handover, wall_station
        self.wall: Worker | None = None

    def work(self) -> None:
        answer = self.cmd("packing", "current")
        state, data = _state(answer)
        if state in ("verify", "weigh", "ship"):
            self.pack_open(answer)
        while not self.stop.is_set():
            try:
                tote = self.handover.get(timeout=1)
            except queue.Empty:
                continue
            if tote.strategy in ("batch_putwall", "batch_put_wall"):
                for label in self.sort(tote):
                    self.pack(label)
            else:
                self.pack(tote.code, repeat=True)

    def close(self) -> None:
        if self.wall is not None:
            self.wall.close()
        super().close()

    def sort(self, tote: Tote) -> list[str]:
        """Sort a batch tote into the put wall from a second device, the wall station; answer the
        labels of the slots it completed."""
        if self.wall is None:
            self.wall = Worker(self.base_url, self.user, self.pin, self.wall_station, self.stop, self.pace_s,
                               self.lang)
            self.wall.connect()
        answer = self.wall.cmd("putwall", "scan", code=tote.code)
        if not answer.get("ok"):
            log.info("%s: put wall refused %s (%s)", self.user, tote.code, (answer.get("message") or {}).get("code"))
            return []
        log.info("%s sorting %s at %s", self.user, tote.code, self.wall_station)
        complete = []
        for sku, units in tote.units.items():
            for _ in range(units):
                if self.pause(0.6):
                    return complete
                answer = self.wall.cmd("putwall", "scan", code=sku)
                state, data = _state(answer)
                if state != "put":
                    break
                put = data["put"]
                if self.pause(0.6):
                    return complete
                answer = self.wall.cmd("putwall", "scan", code=put["label"])
                code = (answer.get("message") or {}).get("code")
                if code in ("slot_complete", "tote_done", "wave_sorted") and put["label"] not in complete:
                    complete.append(put["label"])
                    log.info("%s: slot %s complete (order %s)", self.user, put["label"], put["order"])
        return complete

    def pack(self, code: str, repeat: bool = False) -> None:
        """Open the order a tote or slot label names, check it, weigh and ship; a tote of several
        orders is scanned again until nothing in it waits for packing."""
        while not self.stop.is_set():
            if self.pause():
                return
            answer = self.cmd("packing", "scan", code=code)
            state, _ = _state(answer)
            if state not in ("verify", "weigh", "ship"):
                if (answer.get("message") or {}).get("code") not in ("nothing_to_pack", "already_shipped"):
                    log.info("%s: %s not packed (%s)", self.user, code, (answer.get("message") or {}).get("code"))
                return
            self.pack_open(answer)
            if not repeat:
                return

    def pack_open(self, answer: dict) -> None:
        refusals = 0
        while not self.stop.is_set():
            state, data = _state(answer)
            if not answer.get("ok"):
                refusals += 1
                log.info("%s at %s: %s", self.user, self.device, (answer.get("message") or {}).get("code"))
                if state not in ("verify", "weigh", "ship") or refusals >= 3:
                    self.cmd("packing", "close")  # put aside: a person takes it from here
                    return
            if state == "scan_order":
                shipped = data.get("shipped") or {}
                log.info("%s shipped order %s (%s) at %s", self.user, shipped.get("order"),
                         shipped.get("tracking"), self.device)
                return
            if self.pause(0.8):
                return
            if state == "verify":
                line = next((l for l in data["lines"] if l["verified"] < l["expected"]), None)
                if line is None:
                    answer = self.cmd("packing", "current")
                    continue
                answer = self.cmd("packing", "scan", code=line["sku"])
            elif state == "weigh":
                weight = data.get("weight") or {}
                grams = weight.get("expected_g") or 500
                answer = self.cmd("packing", "weight", grams=int(grams))
            elif state == "ship":
                answer = self.cmd("packing", "ship")
            else:
                return


@dataclass
class LiveFloor:
    """What `wavefloor demo --live` runs: the feed, the supervisor's rounds, the workers."""
    base_url: str
    feed: object          # feed(count) -> report dict: sends ``count`` new orders in
    supervise: object     # supervise() -> [wave summaries released]
    rate_per_min: float = 6.0
    wave_every_s: float = 60.0
    pickers: list = field(default_factory=list)   # (user, totes)
    packers: list = field(default_factory=list)   # (user, station, wall station)
    pin: str = "1234"
    pace_s: float = 3.0
    lang: str = "en"
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        if not wait_for_server(self.base_url, self.stop):
            log.error("no server answers at %s; start it with `wavefloor serve`", self.base_url)
            return
        handover: queue.Queue = queue.Queue()
        workers = [Picker(self.base_url, user, self.pin, f"SIM-HH-{user}", self.stop, self.pace_s, self.lang,
                          totes=list(totes), handover=handover) for user, totes in self.pickers]
        workers += [Packer(self.base_url, user, self.pin, station, self.stop, self.pace_s, self.lang,
                           handover=handover, wall_station=wall) for user, station, wall in self.packers]
        for worker in workers:
            worker.start()
        log.info("live floor: %.1f orders/min, waves every %.0f s, %d picker(s), %d packer(s), %s",
                 self.rate_per_min, self.wave_every_s, len(self.pickers), len(self.packers), self.base_url)
        owed, next_wave = 0.0, 0.0
        last = time.monotonic()
        while not self.stop.wait(1.0):
            now = time.monotonic()
            owed += (now - last) * self.rate_per_min / 60.0
            last = now
            if owed >= 1:
                count, owed = int(owed), owed - int(owed)
                self._round("orders in", lambda: self.feed(count))
            if now >= next_wave:
                next_wave = now + self.wave_every_s
                self._round("waves", self.supervise)
        log.info("live floor stopping")
        for worker in workers:
            worker.join(timeout=10)
        log.info("live floor stopped")

    def _round(self, what: str, step) -> None:
        try:
            result = step()
        except Exception as exc:  # one failed round must not end the floor: the next one tries again
            log.warning("%s: failed (%s: %s); again next round", what, type(exc).__name__, exc)
            log.debug("%s failed", what, exc_info=True)
            return
        if isinstance(result, dict):
            counts = {k: v for k, v in result.items() if v and k != "problems"}
            log.info("%s: %s", what, ", ".join(f"{k} {v}" for k, v in counts.items()) or "none")
        elif result:
            for wave in result:
                log.info("released %s %s at %s: %s orders, %s units", wave["code"], wave["strategy"],
                         wave["warehouse"], wave["orders"], wave["units"])
