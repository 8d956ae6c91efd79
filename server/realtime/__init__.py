"""Socket.IO namespace ``/floor``: token auth on connect, rooms, ``snapshot``, the ``cmd``
envelope, and delivery of domain events after commit. It decides nothing itself.

A socket's session is checked again while it is open: every ``SESSION_CHECK_S`` seconds for all
the process's sockets at once (two statements), and by a command itself when that check is late,
so no scan pays for it. A session that ended (``session.ended`` from this process, or found by the
check: a logout, an expiry, a change of roles, a deactivation or a release made anywhere) gets its
sockets told why, their commands refused with that code, and each closed a moment later."""
from __future__ import annotations

import time

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from server import events
from server.db import database
from server.messages import normalise_language
from server.realtime.redis_queue import FloorRedisManager
from server.realtime.websocket import FloorWebSocket
from server.realtime.wire import FloorPacket, SocketJson
from server.services import auth, people
from server.services.device import commands, snapshot

NAMESPACE = "/floor"
CLOSE_AFTER_S = 1.0  # a socket told its session ended is closed this much later (the event goes first)
socketio = SocketIO()
_principals: dict[str, auth.Principal] = {}
_checked: dict[str, float] = {}  # sid -> when its session was last found standing (time.monotonic())
_ended: dict[str, str] = {}  # sid -> why its session ended, until the socket is gone
_watching: list = []  # the process's session check, once started


def rooms_for(principal: auth.Principal) -> list[str]:
    rooms = [f"user:{principal.user.id}", f"session:{principal.token_id}"] + [f"role:{r}" for r in principal.roles]
    if principal.device is not None:
        rooms.append(f"station:{principal.device.code}")
    if principal.can("wallboard.view"):
        rooms.append("wallboard")
    return rooms


def _deliver(event: str, payload: dict, rooms: tuple[str, ...]) -> None:
    for room in rooms:
        socketio.emit(event, payload, to=room, namespace=NAMESPACE)
    if event == "session.ended":  # the event reaches the sockets of other processes through Redis
        sids = {sid for room in rooms for sid, _ in socketio.server.manager.get_participants(NAMESPACE, room)}
        _close_later(sids, payload["code"])


def _close_later(sids, code: str) -> None:
    """Refuse these sockets' commands with ``code`` from now on, and close them a moment later."""
    sids = [sid for sid in sids if sid in _principals and sid not in _ended]
    for sid in sids:
        _ended[sid] = code
    if sids:
        socketio.start_background_task(_close, sids)


def _close(sids) -> None:
    socketio.sleep(CLOSE_AFTER_S)
    for sid in sids:
        if sid in _principals:
            socketio.server.disconnect(sid, namespace=NAMESPACE)


def _check_sessions(sockets: list[tuple[str, auth.Principal]]) -> None:
    """Tell and close the sockets whose session no longer stands (one check for them all)."""
    sockets = [(sid, principal) for sid, principal in sockets if sid not in _ended]
    if not sockets:
        return
    began = time.monotonic()
    with database.connection_context():
        ended = people.ended_sessions([principal for _, principal in sockets])
    for sid, principal in sockets:
        code = ended.get(principal.token_id)
        if code is None:
            _checked[sid] = began
        elif sid in _principals and sid not in _ended:
            _close_later([sid], code)  # closed a moment after the event, even if it cannot be sent
            socketio.emit("session.ended", dict(auth.ended_payload(code, principal.lang), version=events.version()),
                          to=sid, namespace=NAMESPACE)


def _session_ended(sid: str, principal: auth.Principal, every_s: float) -> str | None:
    """Why the socket's session ended, or None; checks it here when the process's check is late."""
    if sid not in _ended and time.monotonic() - _checked.get(sid, 0.0) > 2 * every_s:
        _check_sessions([(sid, principal)])
    return _ended.get(sid)


def _watch_sessions(app, every_s: float) -> None:
    """The process's check of its open sockets' sessions, every ``every_s`` seconds."""
    failing = False
    while True:
        socketio.sleep(every_s)
        try:
            _check_sessions(list(_principals.items()))
            failing = False
        except Exception:  # the database is away: the next round tries again, no socket is closed for it
            if not failing:  # once, not every few seconds while it lasts
                app.logger.exception("checking the sockets' sessions failed")
            failing = True


def init_realtime(app, settings: dict) -> None:
    try:
        from gevent import monkey
        async_mode = "gevent" if monkey.is_module_patched("socket") else "threading"
    except ImportError:  # pragma: no cover
        async_mode = "threading"
    # async_handlers=False: a device's events run one after another in its socket's own greenlet,
    # in the order sent (an offline queue's replay stays in order), without a greenlet per scan
    queue = (FloorRedisManager(settings["REDIS_URL"], channel=settings["REDIS_CHANNEL"])
             if settings["REDIS_URL"] else None)  # None: this process's own devices only
    socketio.init_app(app, async_mode=async_mode, client_manager=queue, cors_allowed_origins=[], json=SocketJson,
                      serializer=FloorPacket, ping_interval=10, ping_timeout=20, async_handlers=False)
    if async_mode == "gevent":  # each WebSocket read and written in its own greenlet (realtime.websocket)
        eio = socketio.server.eio
        eio._async = dict(eio._async, websocket=FloorWebSocket)
    events.subscribe(_deliver)

    every_s = float(settings["SESSION_CHECK_S"])

    def refuse(why: str):
        """Refuse the namespace connect and close the Engine.IO session with it: a client that goes
        on answering pings would otherwise hold it open for nothing."""
        eio_sid = socketio.server.manager.eio_sid_from_sid(request.sid, NAMESPACE)
        if eio_sid is not None:
            socketio.start_background_task(_close_session, eio_sid)
        return ConnectionRefusedError(why)

    def _close_session(eio_sid: str) -> None:
        socketio.sleep(0.2)  # the refusal goes out first
        try:
            socketio.server.eio.disconnect(eio_sid)
        except KeyError:  # the client left by itself
            pass

    @socketio.on("connect", namespace=NAMESPACE)
    def connect(auth_data=None):
        token = auth_data.get("token") if isinstance(auth_data, dict) else None
        if not isinstance(token, str) or not token:
            raise refuse("unauthorized")
        try:
            with database.connection_context():
                principal = auth.authenticate(token)
                if principal is None or not principal.can("floor.connect"):
                    raise refuse("unauthorized")
                if isinstance(auth_data.get("lang"), str) and auth_data["lang"]:
                    principal.language = normalise_language(auth_data["lang"])
                _principals[request.sid] = principal
                _checked[request.sid] = time.monotonic()
                for room in rooms_for(principal):
                    join_room(room)
                state = snapshot.build(principal)
        except ConnectionRefusedError:
            raise
        except Exception as exc:  # the device is told to try again, never shown a trace
            app.logger.exception("connect failed: %s", exc)
            _forget(request.sid)
            raise refuse("error") from None
        if not _watching:
            _watching.append(socketio.start_background_task(_watch_sessions, app, every_s))
        socketio.emit("snapshot", state, to=request.sid, namespace=NAMESPACE)

    def _forget(sid: str) -> None:
        _principals.pop(sid, None)
        _checked.pop(sid, None)
        _ended.pop(sid, None)

    @socketio.on("disconnect", namespace=NAMESPACE)
    def disconnect(*_):
        _forget(request.sid)

    def cmd(sid, command=None):
        """Every scan arrives here, so it is a plain python-socketio handler: Flask-SocketIO's
        per-event request context and session would cost a scan more than its SQL does. The
        scenarios use nothing of Flask's, so no application context is pushed either."""
        principal = _principals.get(sid)
        if principal is None:
            return commands.refusal("unauthorized", None)
        try:
            ended = _session_ended(sid, principal, every_s)
            if ended is not None:
                return commands.refusal(ended, principal.lang)
            return commands.execute(principal, command)  # it takes a connection when it needs one
        except Exception as exc:  # the device shows a sentence, never a trace
            app.logger.exception("command failed: %s", exc)
            return commands.refusal("error", principal.lang)

    socketio.server.on("cmd", cmd, namespace=NAMESPACE)

    @socketio.on("snapshot", namespace=NAMESPACE)
    def resync(*_):
        principal = _principals.get(request.sid)
        if principal is None:
            return commands.refusal("unauthorized", None)
        ended = _session_ended(request.sid, principal, every_s)
        if ended is not None:
            return commands.refusal(ended, principal.lang)
        with database.connection_context():
            return snapshot.build(principal)

    @socketio.on_error(NAMESPACE)
    def failed(exc):
        app.logger.exception("socket handler failed: %s", exc)
        return commands.refusal("error", None)
