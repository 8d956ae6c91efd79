"""``/healthz`` and ``/metrics``: how this server process and the parts it needs are doing.

``/healthz`` is for load balancers and people: 200 while the database answers (parts that
are down are listed under ``degraded``), 503 when it does not. It says only up or down per
part, never a host name, an error text or a printer's address.

``/metrics`` is the Prometheus text format for this process. Open on the LAN unless the
``METRICS_TOKEN`` setting is set; then Prometheus sends it as ``Authorization: Bearer``.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from peewee import DatabaseError, InterfaceError, fn

from server import db, metrics
from server.db import database
from server.guard import public

health = Blueprint("health", __name__)

REDIS_TIMEOUT_S = 0.5
OPEN_TASK_STATES = ("open", "assigned", "in_progress")


# --- the parts ---------------------------------------------------------------------------

def database_up() -> bool:
    try:
        with database.connection_context():
            database.execute_sql("SELECT 1").fetchone()
        return True
    except (DatabaseError, InterfaceError):
        _discard_broken_connection()
        return False


def _discard_broken_connection() -> None:
    # a connection the server dropped (a restart) must not go back to the pool as if sound
    try:
        if not database.is_closed():
            database.close()
    except (DatabaseError, InterfaceError):
        pass


def redis_state(url: str) -> str:
    """``up``, ``down``, or ``off`` when this process runs without Redis."""
    if not url:
        return "off"
    import redis
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                      socket_timeout=REDIS_TIMEOUT_S)
        try:
            client.ping()
        finally:
            client.close()
        return "up"
    except (redis.RedisError, OSError):
        return "down"


def printer_counts() -> dict:
    """Active printers by their last polled status: ok, faulted, or not yet polled."""
    from server.models import Printer
    from server.services.printing import status_of
    counts = {"ok": 0, "faulted": 0, "unknown": 0}
    with database.connection_context():
        for printer in Printer.select().where(Printer.active == True):  # noqa: E712
            ok = status_of(printer)["ok"]
            counts["unknown" if ok is None else "ok" if ok else "faulted"] += 1
    return counts


def connected_devices() -> int:
    """Sockets on ``/floor`` held by this process."""
    from server import realtime
    return len(realtime._principals)


def health_report(settings: dict) -> tuple[dict, int]:
    if not database_up():
        return {"status": "down", "parts": {"database": "down"}, "degraded": ["database"]}, 503
    parts = {"database": "up", "redis": redis_state(settings["REDIS_URL"])}
    degraded = ["redis"] if parts["redis"] == "down" else []
    printers = printer_counts()
    parts["printers"] = printers
    if printers["faulted"]:
        degraded.append("printers")
    return {"status": "degraded" if degraded else "ok", "parts": parts, "degraded": degraded}, 200


# --- Prometheus text ---------------------------------------------------------------------

def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(str(value))}"' for name, value in labels.items()) + "}"


class Exposition:
    """Lines of the text format, one ``# HELP`` and ``# TYPE`` per metric family."""

    def __init__(self):
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value, **labels) -> None:
        self.lines.append(f"{name}{_labels(**labels)} {value}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _queue_depths(out: Exposition) -> None:
    from server.models import PickTask, PrintJob
    from server.models.printing import JOB_STATES
    with database.connection_context():
        jobs = dict(PrintJob.select(PrintJob.state, fn.COUNT(PrintJob.id)).group_by(PrintJob.state).tuples())
        tasks = dict(PickTask.select(PickTask.status, fn.COUNT(PickTask.id))
                     .where(PickTask.status.in_(OPEN_TASK_STATES)).group_by(PickTask.status).tuples())
    out.family("wavefloor_print_jobs", "gauge", "Print jobs by state.")
    for state in JOB_STATES:
        out.sample("wavefloor_print_jobs", jobs.get(state, 0), state=state)
    out.family("wavefloor_pick_tasks_open", "gauge", "Pick tasks not yet done, by status.")
    for state in OPEN_TASK_STATES:
        out.sample("wavefloor_pick_tasks_open", tasks.get(state, 0), status=state)


def _commands(out: Exposition) -> None:
    out.family("wavefloor_commands_total", "counter",
               "Floor commands (scans) answered by this process, by scenario, action and outcome.")
    for (scenario, action, outcome), count in sorted(metrics.command_counts().items()):
        out.sample("wavefloor_commands_total", count, scenario=scenario, action=action, outcome=outcome)
    buckets, total, seconds = metrics.latency()
    out.family("wavefloor_command_seconds", "histogram", "Time from a command's receipt to its answer.")
    for bound, count in buckets:
        out.sample("wavefloor_command_seconds_bucket", count, le=repr(bound))
    out.sample("wavefloor_command_seconds_bucket", total, le="+Inf")
    out.sample("wavefloor_command_seconds_sum", f"{seconds:.6f}")
    out.sample("wavefloor_command_seconds_count", total)
    out.family("wavefloor_grouped_commits_total", "counter",
               "Commits shared by commands arriving together: SQLite's write commands, PostgreSQL's"
               " picking scans (commands per commit: divide the next).")
    out.sample("wavefloor_grouped_commits_total", db.grouped["groups"])
    out.family("wavefloor_grouped_commands_total", "counter", "Commands committed in those shared commits.")
    out.sample("wavefloor_grouped_commands_total", db.grouped["commands"])
    out.family("wavefloor_transactions_retried_total", "counter",
               "Command transactions PostgreSQL aborted to break a deadlock, run again.")
    out.sample("wavefloor_transactions_retried_total", db.retried["transactions"])


def exposition(settings: dict) -> str:
    out = Exposition()
    db_up = database_up()
    out.family("wavefloor_up", "gauge", "1 when the part answers (database, redis), else 0.")
    out.sample("wavefloor_up", int(db_up), part="database")
    redis = redis_state(settings["REDIS_URL"])
    if redis != "off":
        out.sample("wavefloor_up", int(redis == "up"), part="redis")
    out.family("wavefloor_connected_devices", "gauge", "Devices connected to this process over Socket.IO.")
    out.sample("wavefloor_connected_devices", connected_devices())
    _commands(out)
    if db_up:
        printers = printer_counts()
        out.family("wavefloor_printers", "gauge", "Active printers by last polled status.")
        for status, count in printers.items():
            out.sample("wavefloor_printers", count, status=status)
        _queue_depths(out)
    return out.text()


# --- the views ---------------------------------------------------------------------------

@health.get("/healthz")
@public
def healthz():
    body, status = health_report(current_app.config["WF"])
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@health.get("/metrics", endpoint="metrics")
@public  # guarded by its own METRICS_TOKEN (Prometheus has no user); open on the LAN when empty
def metrics_view():
    wanted = current_app.config["WF"]["METRICS_TOKEN"]
    if wanted:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(given.encode(), wanted.encode()):
            return "unauthorized\n", 401, {"Content-Type": "text/plain; charset=utf-8",
                                           "WWW-Authenticate": "Bearer"}
    return exposition(current_app.config["WF"]), 200, {
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store"}


@health.errorhandler(DatabaseError)
@health.errorhandler(InterfaceError)
def database_unreachable(_exc):
    # the database failed before the view ran (opening the request's connection)
    _discard_broken_connection()
    if request.endpoint == "health.healthz":
        return jsonify({"status": "down", "parts": {"database": "down"}, "degraded": ["database"]}), 503
    return "wavefloor_up{part=\"database\"} 0\n", 503, {"Content-Type": "text/plain; version=0.0.4"}
