"""Shared fixtures. Every database test runs twice: on a SQLite file and on PostgreSQL."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PG_ADMIN_URL = os.environ.get("WAVEFLOOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# the test process and the servers it starts seal and open shops' credentials with one key
os.environ.setdefault("WAVEFLOOR_CREDENTIALS_KEY", "wavefloor-test-credentials-key")
# the nightly jobs (forecasts, count plans, replenishment) would change what a test set up: a test runs them itself
os.environ.setdefault("WAVEFLOOR_NIGHTLY_JOBS", "false")
ENGINES = ("sqlite", "postgres")


def _pg_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database of this test session's own, dropped at the end."""
    name = f"wf_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    from server.db import database
    if database.obj is not None:
        database.obj.close_all()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_pg(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


# A database test on PostgreSQL starts from every table, empty. Dropping the schema and creating
# the tables again took 0.5 to 0.7 s a test; emptying the tables that hold rows takes tens of
# milliseconds. That is done only while the schema is the one create_all made: event triggers
# note every statement that changes it (a test's own tables, a migration test), and the next
# test builds it again.
WATCH_SCHEMA = """
DROP EVENT TRIGGER IF EXISTS wf_test_ddl_end; DROP EVENT TRIGGER IF EXISTS wf_test_sql_drop;
DROP SCHEMA IF EXISTS wf_test CASCADE;
CREATE SCHEMA wf_test;
CREATE TABLE wf_test.changed (tag text);
CREATE FUNCTION wf_test.note() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO wf_test.changed VALUES (tg_tag); END $$;
CREATE EVENT TRIGGER wf_test_ddl_end ON ddl_command_end EXECUTE FUNCTION wf_test.note();
CREATE EVENT TRIGGER wf_test_sql_drop ON sql_drop EXECUTE FUNCTION wf_test.note();
"""
# Truncated, not deleted from: new rows then lie in the order they are written, as in a new
# table (a test that reads rows without ORDER BY found them in another order after a DELETE).
EMPTY_TABLES = """
DO $$
DECLARE name text; holds boolean; holding text[] := '{}';
BEGIN
  IF EXISTS (SELECT 1 FROM wf_test.changed) THEN
    RAISE EXCEPTION 'the schema changed since its tables were made';
  END IF;
  FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM public.%I)', name) INTO holds;
    IF holds THEN
      holding := holding || format('public.%I', name);
    END IF;
  END LOOP;
  IF cardinality(holding) > 0 THEN
    EXECUTE 'TRUNCATE ' || array_to_string(holding, ', ') || ' CASCADE';
  END IF;
  FOR name IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
    PERFORM setval(format('public.%I', name), 1, false);
  END LOOP;
  PERFORM pg_stat_reset();  -- a test may read when a table was last analyzed
END $$;
"""


def empty_pg_tables(url: str) -> bool:
    """Every table emptied and every sequence back at 1; False (nothing done) when the schema is
    not known to be the one create_all made."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(EMPTY_TABLES)
        return True
    except psycopg.Error:
        return False


def fresh_pg_tables(url: str) -> None:
    """The schema dropped, every table and function made again, and its changes watched."""
    from server.schema import create_all
    reset_pg(url)
    create_all()
    with psycopg.connect(url, autocommit=True) as conn:
        with suppress(psycopg.errors.InsufficientPrivilege):  # event triggers are a superuser's: every test builds it
            conn.execute(WATCH_SCHEMA)


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


@pytest.fixture
def db_url(engine, tmp_path, request):
    """An empty database of the engine under test (no tables)."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path}/wavefloor.db"
    url = request.getfixturevalue("pg_database")
    from server.db import database
    if database.obj is not None:
        database.obj.close_all()
    if "db" not in request.fixturenames:  # db makes the tables, or empties them
        reset_pg(url)
    return url


@pytest.fixture
def db(db_url):
    """The shared database proxy pointed at a fresh database with every table."""
    from server.db import database, init_database
    from server.schema import create_all
    from server import events
    init_database(db_url)
    if db_url.startswith("sqlite"):
        create_all()
    elif not empty_pg_tables(db_url):
        fresh_pg_tables(db_url)
    yield database
    events.settle()  # a wall-screen update still on its timer must not read a closed database
    database.obj.close_all()


@pytest.fixture
def app(db, db_url, tmp_path):
    from server.app import create_app
    app = create_app({"DATABASE_URL": db_url, "INSTANCE_DIR": str(tmp_path / "instance"),
                      "SECRET_KEY": "test-secret"})
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def secret_hashes():
    """Argon2 is slow on purpose; hash the test secrets once per session."""
    from server.services import auth
    return auth.hash_secret("secret-pass"), auth.hash_secret("2468")


@pytest.fixture
def people(db, secret_hashes):
    """A user per role with known secrets: password 'secret-pass', PIN '2468'."""
    from server.models import User
    from server.services import auth
    users = {}
    for role in ("admin", "supervisor", "office", "picker", "packer", "receiver"):
        user = auth.add_user(f"u-{role}", f"User {role}", [role], phone="13800138000")
        User.update(password_hash=secret_hashes[0], pin_hash=secret_hashes[1]).where(User.id == user.id).execute()
        users[role] = User.get_by_id(user.id)
    return users


@pytest.fixture
def token_for(client, people):
    """``token_for(role)`` logs that role's user in through the API and returns its bearer token."""
    cache = {}

    def login(role: str, device: str | None = None) -> str:
        if (role, device) not in cache:
            if device:
                body = {"user": f"u-{role}", "pin": "2468", "device": device}
                response = client.post("/api/v1/auth/pin", json=body)
            else:
                response = client.post("/api/v1/auth/login", json={"user": f"u-{role}", "password": "secret-pass"})
            assert response.status_code == 200, response.get_json()
            cache[(role, device)] = response.get_json()["token"]
        return cache[(role, device)]
    return login


@pytest.fixture
def small_warehouse(db):
    """One warehouse, a few locations and two products with barcodes."""
    from server.models import Barcode, Location, Product, Warehouse
    wh = Warehouse.create(code="WH1", name="测试仓", aisles=2, aisle_length_m=10, aisle_width_m=3)
    locs = {code: Location.create(warehouse=wh, code=code, kind=kind, aisle=a, y_m=y, pick_seq=i)
            for i, (code, kind, a, y) in enumerate([("A-01", "pick", 0, 1.0), ("A-02", "pick", 1, 5.0),
                                                    ("R-01", "reserve", None, None),
                                                    ("QC-1", "qc", None, None), ("T-001", "tote", None, None)])}
    tee = Product.create(sku="TS-01", name="纯棉T恤 白 M", weight_g=180, price_fen=5900)
    mug = Product.create(sku="MG-01", name="马克杯", weight_g=380, price_fen=3900)
    Barcode.create(code="6900000000014", product=tee)
    Barcode.create(code="16900000000011", product=tee, multiplier=12, kind="case")
    Barcode.create(code="6900000000021", product=mug)
    return {"warehouse": wh, "locations": locs, "tee": tee, "mug": mug}


@pytest.fixture
def heard():
    """Every event delivered after commit: ``[(event, payload, rooms), ...]``."""
    from server import events
    seen = []

    def listen(event, payload, rooms):
        seen.append((event, payload, rooms))
    events.subscribe(listen)
    yield seen
    events.unsubscribe(listen)


# --- a real server process -------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``wavefloor serve`` in a subprocess on a free port (gevent, real WebSockets)."""

    def __init__(self, db_url: str, instance_dir: Path, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(instance_dir),
                        WAVEFLOOR_SECRET_KEY="test-secret", **(extra_env or {}))
        self.log = instance_dir / f"server-{self.port}.log"
        self.proc = None

    def start(self):
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(self.port)],
                                     cwd=ROOT, env=self.env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def live_server(db, db_url, tmp_path, people):
    server = ServerProcess(db_url, tmp_path / "instance").start()
    yield server
    server.stop()
