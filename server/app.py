"""``create_app(config)``: the Flask application with its API, pages and Socket.IO."""
from __future__ import annotations

import json
import re
import warnings

from apiflask import APIFlask
from flask import g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from server.config import load_settings
from server.db import database, init_database
from server.messages import normalise_language, set_default_language, text
from server.services.errors import DomainError


def create_app(config: dict | None = None) -> APIFlask:
    settings = load_settings(config)
    app = APIFlask(__name__, title="Wavefloor API", version="1",
                   spec_path="/api/v1/openapi.json", docs_path=None,
                   static_folder="web/static", template_folder="web/templates")
    app.config.update(SECRET_KEY=settings["SECRET_KEY"], WF=settings,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      JSON_AS_ASCII=False, AUTO_404_RESPONSE=False)
    app.json.ensure_ascii = False
    app.security_schemes = {"BearerAuth": {"type": "http", "scheme": "bearer"}}
    init_database(settings["DATABASE_URL"], settings["DB_POOL_SIZE"], settings["SQLITE_BUSY_TIMEOUT_MS"],
                  settings["PG_SYNCHRONOUS_COMMIT"])
    set_default_language(settings["DEFAULT_LANGUAGE"])

    from server import guard
    from server.api import api
    from server.web import init_web

    app.session_interface = guard.SessionCookie()  # Secure behind TLS (nginx's X-Forwarded-Proto)

    @app.before_request
    def _open():
        database.connect(reuse_if_open=True)
        guard.load_principal()

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()

    app.register_blueprint(api)
    from server.health import health
    app.register_blueprint(health)
    init_web(app)
    _errors(app)

    spec_view = app.view_functions.get("openapi.spec")
    if spec_view is not None:
        guard.public(spec_view)
    app.spec_processor(one_name_per_schema)
    # apispec warns of each such copy as it builds the document; one_name_per_schema merges them
    warnings.filterwarnings("ignore", message=r".* has already been added to the spec", category=UserWarning,
                            module=r"apispec\.ext\.marshmallow")

    import server.services.orders.allocation  # noqa: F401  (retries backorders when stock arrives)
    import server.services.scenarios  # noqa: F401  (registers every floor scenario and its snapshot)
    from server.realtime import init_realtime
    init_realtime(app, settings)
    return app


def one_name_per_schema(spec: dict) -> dict:
    """A schema met nested in another one before it is a route's output is registered a second
    time as ``Name1``: point every reference at the first name and drop the copy, so a client
    generated from the document has one ``JobOut``, not three."""
    schemas = spec.get("components", {}).get("schemas", {})
    copies = {name: re.sub(r"\d+$", "", name) for name in schemas}
    copies = {name: base for name, base in copies.items() if base != name and schemas.get(base) == schemas[name]}
    if not copies:
        return spec
    for name in copies:
        del schemas[name]
    ref = re.compile('"#/components/schemas/(%s)"' % "|".join(map(re.escape, copies)))
    return json.loads(ref.sub(lambda m: f'"#/components/schemas/{copies[m.group(1)]}"', json.dumps(spec)))


def _lang() -> str:
    principal = g.get("principal")
    if principal is not None and principal.user.language:
        return principal.user.language
    return normalise_language(request.accept_languages.best_match(["zh", "zh-CN", "en"]) or "zh")


def _errors(app: APIFlask) -> None:
    """API errors are JSON ``{code, message, detail}``; nothing leaks a stack trace."""

    def wants_json() -> bool:
        return request.path.startswith("/api/")

    @app.error_processor
    def http_error(error):
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                422: "bad_request"}.get(error.status_code, "error")
        return ({"code": code, "message": error.message, "detail": error.detail},
                error.status_code, error.headers)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if not wants_json():
            # a page (a picker following a link to /orders): a page answer, not JSON
            from server.web import select_locale
            return render_template("message.html", message=text(exc.code, select_locale())), exc.http_status
        body = {"code": exc.code, "message": text(exc.code, _lang()), "detail": exc.text}
        if exc.params:
            body["params"] = {k: v for k, v in exc.params.items()
                              if isinstance(v, (str, int, float, bool, type(None)))}
        response = jsonify(body)
        response.status_code = exc.http_status
        if exc.code == "locked_out":
            response.headers["Retry-After"] = str(exc.params.get("retry_after_s", 300))
        return response

    @app.errorhandler(OverflowError)
    def id_out_of_range(exc: OverflowError):
        # a number in the URL larger than any row id: nothing can be there
        response = jsonify({"code": "not_found", "message": text("not_found", _lang()), "detail": {}})
        response.status_code = 404
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            if wants_json():
                response = jsonify({"code": exc.name.lower().replace(" ", "_"), "message": exc.description,
                                    "detail": {}})
                response.status_code = exc.code or 500
                return response
            return exc
        app.logger.exception("unhandled error on %s", request.path)
        response = jsonify({"code": "error", "message": text("error", _lang()), "detail": {}})
        response.status_code = 500
        return response


def start_serving_tasks(app) -> None:
    """What a serving process runs beside its requests, whether `wavefloor serve` or gunicorn
    (deploy/gunicorn.conf.py) started it: forgetting old command results, telling its devices
    the events of processes without devices (server/services/outbox.py), and on SQLite the WAL
    checkpoints in a thread of their own (so no scan's commit does one)."""
    import sys

    from server.db import is_sqlite
    from server.realtime import NAMESPACE, socketio
    from server.realtime.redis_queue import here_only
    from server.services import outbox
    from server.services.device.commands import forget_forever
    settings = app.config["WF"]
    socketio.start_background_task(forget_forever, settings["COMMAND_KEY_TTL_H"])
    socketio.start_background_task(outbox.tail_forever, here_only(socketio, NAMESPACE))
    told = f"command results older than {settings['COMMAND_KEY_TTL_H']:g} h are forgotten every minute"
    told += "; events of the command line and the print worker are read from the database"
    if settings.get("CONNECTOR_WORKER", True):
        from server.services.connectors import worker as connectors
        socketio.start_background_task(connectors.run_forever)
        told += "; connected shops are pulled and the platform outbox is sent"
    if settings.get("NIGHTLY_JOBS", True):
        from server import jobs
        socketio.start_background_task(jobs.run_forever, settings)
        told += f"; the nightly jobs run after {settings['NIGHTLY_HOUR']}:00"
    if is_sqlite():
        database.obj.checkpoint_in_background()
        told += "; SQLite checkpoints run in a thread of their own"
    print(f"Wavefloor: {told}", file=sys.stderr, flush=True)
