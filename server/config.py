"""Settings: one table of name, default and help.

Values come, in order of precedence, from the environment (``WAVEFLOOR_<NAME>``), from
``instance/wavefloor.toml`` and from the defaults below. ``wavefloor config`` prints the table.
"""
from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS = (
    Setting("INSTANCE_DIR", "instance", "Folder for the SQLite file, the secret key and local state."),
    Setting("DATABASE_URL", "", "sqlite:///path/to.db or postgresql://user@host:5432/db; empty means "
            "instance/wavefloor.db."),
    Setting("DB_POOL_SIZE", 6, "Database connections a process keeps for reuse (PostgreSQL: also the most "
            "open at once; a serving process works on one core, and more connections than it needs to keep "
            "that core busy only interleave its transactions, each then holding its locks longer)."),
    Setting("PG_SYNCHRONOUS_COMMIT", "on", "PostgreSQL: whether a commit waits for its write-ahead log on disk (on) "
            "or not (off: a power cut or a crash of PostgreSQL may take the last half second of answered scans, "
            "as a power cut may on SQLite; docs/capacity.md measures both). on, off or local."),
    Setting("SQLITE_BUSY_TIMEOUT_MS", 10000, "How long a SQLite writer waits for another process's lock."),
    Setting("REDIS_URL", "", "redis://host:6379/0 to share Socket.IO events between server processes."),
    Setting("SECRET_KEY", "", "Signs web sessions; empty means a key generated once into the instance folder."),
    Setting("HOST", "127.0.0.1", "Address the server listens on."),
    Setting("PORT", 5000, "Port the server listens on."),
    Setting("TIMEZONE", "Asia/Shanghai", "Time zone of the warehouse, used to show times."),
    Setting("DEFAULT_LANGUAGE", "zh_Hans_CN", "Language when neither the user nor the browser names one."),
    Setting("TOKEN_TTL_HOURS", 12, "Lifetime of a device or web session token (one shift and a margin)."),
    Setting("LOGIN_MAX_FAILURES", 5, "Failed logins of one user or device within the window before a lock."),
    Setting("LOGIN_WINDOW_S", 300, "Window in seconds for counting failed logins."),
    Setting("LOGIN_LOCK_S", 300, "How long a user or device stays locked after too many failures."),
    Setting("PASSWORD_MIN_LENGTH", 8, "Minimum length of a web password."),
    Setting("PIN_MIN_LENGTH", 4, "Fewest digits of a PIN (4 to 8). A shorter PIN is refused when it is set and, "
            "without being checked, at login: after raising it, users with shorter PINs need a new one."),
    Setting("LOGIN_ADDRESS_MAX_FAILURES", 20, "Failed logins from one network address within LOGIN_WINDOW_S before "
            "that address is refused, without its secret being checked, for LOGIN_LOCK_S; 0 turns the limit off."),
    Setting("LOGIN_VERIFY_AT_ONCE", 2, "Password and PIN checks a server process runs at once, in threads beside "
            "its event loop (each takes a core for about 0.15 s); more wait up to 10 s, then are refused (429, "
            "login_busy)."),
    Setting("TRUSTED_PROXIES", "127.0.0.1,::1", "Addresses of the reverse proxies (nginx) whose X-Forwarded-For and "
            "X-Forwarded-Proto are believed: the login limits count the device's own address, and the session "
            "cookie is sent only over TLS when the proxy says the browser came by TLS."),
    Setting("SESSION_CHECK_S", 3, "Seconds between a server process's checks of its open sockets' sessions "
            "(logout, expiry, role change, deactivation, a released device); a socket whose session ended is sent "
            "to its login screen and closed."),
    Setting("RULES_DIR", "", "Folder of the site's rule files (review, routing, carriers, waves); empty means "
            "the shipped defaults. Files are reloaded when they change."),
    Setting("SHIP_BY_HOURS", 48, "Promised ship-by time after payment when the channel gives none."),
    Setting("CREDENTIALS_KEY", "", "Key sealing the shops' platform secrets and sessions and the carriers' keys at "
            "rest; empty means one generated once into the instance folder (credentials_key). Every server process "
            "of a site needs the same key: a different one cannot read the connections (the office says so)."),
    Setting("CONNECTOR_WORKER", True, "Pull orders and refunds from the connected shops, and send the platform "
            "outbox (ship confirmations, stock), from this server process; a lease in the database keeps one "
            "process on each shop whatever the number of servers."),
    Setting("NIGHTLY_JOBS", True, "Run the nightly jobs from this server process (the day's demand forecasts and stock "
            "alerts, cycle counts of flagged and due locations, replenishment of pick faces below their minimum); a "
            "lease in the database runs each job once a day whatever the number of servers."),
    Setting("NIGHTLY_HOUR", 2, "Hour of the day (0-23, the warehouse's TIMEZONE) after which the nightly jobs run."),
    Setting("RETURNS_QC", False, "Returned units chosen for restock go to QC (待检, qc_pending) in the returns "
            "location instead of straight to available."),
    Setting("PRINT_WORKER", True, "Send queued labels to the printers from this server process."),
    Setting("PRINT_SPOOL_DIR", "", "Folder inside which file:// printers may write their labels (each printer a "
            "folder in it); empty means spool/ in the instance folder. A file:// URL outside it is refused."),
    Setting("SSCC_COMPANY_PREFIX", "6901234", "The site's GS1 company prefix (6 to 10 digits) in the SSCC of each "
            "licence plate received (receiving labels); the serial reference fills the rest of its 16 digits."),
    Setting("SSCC_EXTENSION_DIGIT", 0, "The extension digit (0-9) leading every SSCC this site makes."),
    Setting("DEMO_PRINTER_PORT", 9100, "TCP port of the demo's printer emulator (the demo printer points there)."),
    Setting("COMMAND_KEY_TTL_H", 72, "How long stored command results (idempotency keys) are kept; the server "
            "forgets older ones every minute (`wavefloor commands forget` does it at once)."),
    Setting("REDIS_CHANNEL", "wavefloor", "Redis channel of this site's Socket.IO events; server processes of one "
            "site share it, another site on the same Redis needs its own."),
    Setting("METRICS_TOKEN", "", "Bearer token Prometheus must send for /metrics; empty leaves /metrics open "
            "on the LAN."),
    Setting("MAX_BODY_MB", 50, "Largest request body `wavefloor serve` takes, in MB (as the nginx site's "
            "client_max_body_size); a larger one is answered 413 before it is read, a chunked one once it passes."),
    Setting("MAX_CONNECTIONS_PER_ADDRESS", 1000, "Connections `wavefloor serve` holds open from one address; more "
            "are closed as they are accepted. Behind nginx every connection comes from 127.0.0.1."),
    Setting("HEAD_TIMEOUT_S", 10, "Seconds a client of `wavefloor serve` has to send a request's line and headers "
            "(on a new connection, from its opening); then the connection is closed."),
    Setting("IDLE_TIMEOUT_S", 75, "Seconds `wavefloor serve` keeps a connection waiting for its next request, "
            "and the longest one read or write of a request may wait, before closing it."),
    Setting("TRACKING_PUSH_SECRET", "", "Secret the carriers sign their tracking pushes with (HMAC-SHA256 of the "
            "body, POST /api/v1/carriers/<carrier>/tracking); empty refuses every push (docs/tracking.md)."),
    Setting("COUNT_RECOUNT_UNITS", 2, "A cycle count off by more units than this (all its lines together) is counted "
            "again by another counter before a supervisor decides (docs/counts.md)."),
    Setting("COUNT_RECOUNT_FEN", 10000, "A cycle count off by more than this value at cost, in fen (100 = 1 yuan), is "
            "counted again by another counter before a supervisor decides (docs/counts.md)."),
    # demand forecasts and purchase plans (docs/forecast.md)
    Setting("FORECAST_HORIZON_DAYS", 28, "Days ahead each SKU's demand is forecast (7 to 30)."),
    Setting("FORECAST_HISTORY_DAYS", 730, "Days of order history a forecast reads (60 to 1500)."),
    Setting("FORECAST_SERVICE_LEVEL", 95, "Service level of the safety stock, in %: the chance of not running out "
            "while an order is on its way (95 gives z = 1.645)."),
    Setting("FORECAST_COVER_DAYS", 14, "Days of demand a purchase suggestion buys beyond the reorder point."),
    Setting("FORECAST_OVERSTOCK_DAYS", 90, "Stock lasting more days than this raises an overstock alert."),
    Setting("FORECAST_SLOW_DAYS", 30, "Stock on hand with no sale in this many days raises a slow mover alert."),
    Setting("FORECAST_DROP_PCT", 30, "A forecast this many % below the last 28 days' demand (or last year's same "
            "weeks falling as much) raises a demand drop alert, while the stock still lasts 14 days or more."),
    Setting("FORECAST_WORKERS", 1, "Processes a forecast run of `wavefloor forecast run` uses (one a core)."),
    # reports (docs/reports.md)
    Setting("REPORTS_REFRESH_S", 60, "The report pages bring the daily sales aggregate up to date first when its last "
            "refresh is older than this many seconds (0: before every page)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, raw):
    if isinstance(setting.default, bool):
        return str(raw).lower() in ("1", "true", "yes", "on")
    if isinstance(setting.default, int):
        return int(raw)
    return str(raw)


def load_settings(overrides: dict | None = None, environ=None) -> dict:
    """Resolve every setting; ``overrides`` (tests, create_app) win over everything."""
    environ = os.environ if environ is None else environ
    overrides = {k.upper(): v for k, v in (overrides or {}).items()}
    instance_dir = Path(overrides.get("INSTANCE_DIR") or environ.get("WAVEFLOOR_INSTANCE_DIR")
                        or _BY_NAME["INSTANCE_DIR"].default)
    from_file = {}
    toml_path = instance_dir / "wavefloor.toml"
    if toml_path.exists():
        with toml_path.open("rb") as fh:
            from_file = {k.upper(): v for k, v in tomllib.load(fh).items()}
    values = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            raw = overrides[setting.name]
        elif f"WAVEFLOOR_{setting.name}" in environ:
            raw = environ[f"WAVEFLOOR_{setting.name}"]
        elif setting.name in from_file:
            raw = from_file[setting.name]
        else:
            raw = setting.default
        values[setting.name] = _coerce(setting, raw)
    values["INSTANCE_DIR"] = str(instance_dir)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{(instance_dir / 'wavefloor.db').resolve()}"
    if not values["SECRET_KEY"]:
        values["SECRET_KEY"] = _instance_secret(instance_dir)
    if not values["CREDENTIALS_KEY"]:
        values["CREDENTIALS_KEY"] = _instance_secret(instance_dir, "credentials_key")
    return values


def _instance_secret(instance_dir: Path, name: str = "secret_key") -> str:
    path = instance_dir / name
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
