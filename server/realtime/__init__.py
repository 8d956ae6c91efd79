"""Socket.IO namespace ``/floor``: token auth on connect, rooms, ``snapshot``, the ``cmd``
envelope, and delivery of domain events after commit. It decides nothing itself."""
from __future__ import annotations

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from server import events
from server.db import database
from server.realtime.redis_queue import FloorRedisManager
from server.realtime.websocket import FloorWebSocket
from server.realtime.wire import FloorPacket, SocketJson
from server.services import auth
from server.services.device import commands, snapshot

NAMESPACE = "/floor"
socketio = SocketIO()
_principals: dict[str, auth.Principal] = {}


def rooms_for(principal: auth.Principal) -> list[str]:
    rooms = [f"user:{principal.user.id}"] + [f"role:{r}" for r in principal.roles]
    if principal.device is not None:
        rooms.append(f"station:{principal.device.code}")
    if principal.can("wallboard.view"):
        rooms.append("wallboard")
    return rooms


def _deliver(event: str, payload: dict, rooms: tuple[str, ...]) -> None:
    for room in rooms:
        socketio.emit(event, payload, to=room, namespace=NAMESPACE)


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

    @socketio.on("connect", namespace=NAMESPACE)
    def connect(auth_data=None):
        token = auth_data.get("token") if isinstance(auth_data, dict) else None
        with database.connection_context():
            principal = auth.authenticate(token)
            if principal is None or not principal.can("floor.connect"):
                raise ConnectionRefusedError("unauthorized")
            _principals[request.sid] = principal
            for room in rooms_for(principal):
                join_room(room)
            state = snapshot.build(principal)
        socketio.emit("snapshot", state, to=request.sid, namespace=NAMESPACE)

    @socketio.on("disconnect", namespace=NAMESPACE)
    def disconnect(*_):
        _principals.pop(request.sid, None)

    def cmd(sid, command=None):
        """Every scan arrives here, so it is a plain python-socketio handler: Flask-SocketIO's
        per-event request context and session would cost a scan more than its SQL does. The
        scenarios use nothing of Flask's, so no application context is pushed either."""
        principal = _principals.get(sid)
        if principal is None:
            return commands.refusal("unauthorized", None)
        try:
            return commands.execute(principal, command)  # it takes a connection when it needs one
        except Exception as exc:  # the device shows a sentence, never a trace
            app.logger.exception("command failed: %s", exc)
            return commands.refusal("error", principal.user.language or None)

    socketio.server.on("cmd", cmd, namespace=NAMESPACE)

    @socketio.on("snapshot", namespace=NAMESPACE)
    def resync(*_):
        principal = _principals.get(request.sid)
        if principal is None:
            return commands.refusal("unauthorized", None)
        with database.connection_context():
            return snapshot.build(principal)

    @socketio.on_error(NAMESPACE)
    def failed(exc):
        app.logger.exception("socket handler failed: %s", exc)
        return commands.refusal("error", None)

