"""deploy/: the backup and restore scripts give back equal data (SQLite and PostgreSQL), the
shell scripts parse and pass shellcheck, the systemd units verify, the nginx site passes
``nginx -t``, the gunicorn settings serve Socket.IO over WebSockets, and a device reaches them
through the nginx site over TLS with the installer's certificate."""
from __future__ import annotations

import configparser
import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import sysconfig
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
import socketio

from tests.conftest import PG_ADMIN_URL, ROOT, _pg_url, free_port
from tests.test_faults import hang_up

DEPLOY = ROOT / "deploy"
SCRIPTS = sorted(DEPLOY.glob("*.sh"))
UNITS = sorted((DEPLOY / "systemd").iterdir())
VENV_BIN = Path(sys.executable).parent


def run(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **(env or {})), **kwargs)


def table_contents(url: str) -> dict[str, list[tuple]]:
    """Every row of every Wavefloor table, sorted, through a fresh connection."""
    from server.db import make_database
    from server.models import ALL_MODELS
    database = make_database(url)
    contents = {}
    with database.connection_context():
        for model in ALL_MODELS:
            columns = ", ".join(f'"{f.column_name}"' for f in model._meta.sorted_fields)
            rows = database.execute_sql(f'SELECT {columns} FROM "{model._meta.table_name}"').fetchall()
            contents[model._meta.table_name] = sorted(tuple(map(str, row)) for row in rows)
    database.close_all()
    return contents


@pytest.fixture
def floor_data(db, small_warehouse, people):
    """Some of everything the backup has to carry: stock and its ledger, users, a command key."""
    from server.services.stock import inventory
    actor = inventory.Actor(people["receiver"].id)
    inventory.receive(small_warehouse["tee"], small_warehouse["locations"]["A-01"], 40, actor=actor)
    inventory.move(small_warehouse["tee"], small_warehouse["locations"]["A-01"], small_warehouse["locations"]["R-01"],
                   7, actor=actor)
    inventory.reserve(small_warehouse["tee"], small_warehouse["locations"]["A-01"], 3, actor=actor, ref="TM1")
    return small_warehouse


@pytest.fixture
def second_database(engine, tmp_path):
    """An empty database of the same engine to restore into."""
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path}/restored/wavefloor.db"
        return
    name = f"wf_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_and_restore_give_back_equal_data(db_url, floor_data, second_database, tmp_path):
    before = table_contents(db_url)
    assert len(before["stock_move"]) == 3 and before["user"]
    env = {"WAVEFLOOR_ENV_FILE": str(tmp_path / "none.env"), "KEEP": "2"}
    made = run(DEPLOY / "backup.sh", tmp_path / "backups", env={**env, "WAVEFLOOR_DATABASE_URL": db_url})
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip().splitlines()[-1])
    assert backup.is_file() and backup.parent == tmp_path / "backups"

    refused = run(DEPLOY / "restore.sh", backup, env={**env, "WAVEFLOOR_DATABASE_URL": second_database})
    assert refused.returncode != 0 and "--yes" in refused.stderr  # never replaces a database by accident
    restored = run(DEPLOY / "restore.sh", backup, "--yes", env={**env, "WAVEFLOOR_DATABASE_URL": second_database})
    assert restored.returncode == 0, restored.stderr
    assert table_contents(second_database) == before

    # the restored database is a working one: the ledger still explains every quant
    audit = run(VENV_BIN / "wavefloor", "stock", "audit", cwd=ROOT,
                env={"WAVEFLOOR_DATABASE_URL": second_database, "WAVEFLOOR_INSTANCE_DIR": str(tmp_path / "i")})
    assert audit.returncode == 0, audit.stdout + audit.stderr


@pytest.mark.parametrize("engine", ["sqlite"])
def test_backups_are_rotated(db_url, floor_data, tmp_path):
    env = {"WAVEFLOOR_ENV_FILE": str(tmp_path / "none.env"), "WAVEFLOOR_DATABASE_URL": db_url, "KEEP": "2"}
    out = tmp_path / "backups"
    for stamp in ("20200101T000000Z", "20200102T000000Z", "20200103T000000Z"):
        (out / f"wavefloor-{stamp}.sqlite").parent.mkdir(exist_ok=True)
        (out / f"wavefloor-{stamp}.sqlite").write_bytes(b"old")
    newest = run(DEPLOY / "backup.sh", out, env=env).stdout.strip()
    assert sorted(p.name for p in out.iterdir()) == ["wavefloor-20200103T000000Z.sqlite", Path(newest).name]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shell_scripts_parse_and_pass_shellcheck(script):
    assert os.access(script, os.X_OK), f"{script.name} is not executable"
    parsed = run("bash", "-n", script)
    assert parsed.returncode == 0, parsed.stderr
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    checked = run("shellcheck", script)
    assert checked.returncode == 0, checked.stdout


def installed(tmp_path: Path, name: str, *pip_args) -> tuple[Path, dict]:
    """The project copied as install.sh copies it, installed into a venv of its own by
    ``pip install *pip_args <copy>``; the packages it needs come from this test's venv."""
    app = tmp_path / "app"
    if not app.exists():
        shutil.copytree(ROOT, app, ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "instance",
                                                                 "__pycache__", ".pytest_cache", "*.mo"))
    venv = tmp_path / name
    made = run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    # pip, setuptools and the dependencies come from this test's venv, on the path after the new
    # venv's own packages (a .pth is read in name order): this venv's editable install of the
    # checkout must not stand in for the copy's
    own = run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    (Path(own.stdout.strip()) / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
              "--no-index", *pip_args, app, cwd=tmp_path)
    assert pip.returncode == 0, pip.stderr
    return venv, {"WAVEFLOOR_INSTANCE_DIR": str(tmp_path / "instance"), "WAVEFLOOR_SECRET_KEY": "t",
                  "WAVEFLOOR_DATABASE_URL": f"sqlite:///{tmp_path}/{name}.db"}


def test_the_installed_command_runs_the_application_folder(tmp_path):
    """install.sh installs the copy in /opt/wavefloor/app with ``pip install -e``: the
    ``wavefloor`` command then finds the migrations and the handheld app beside its code, from
    any folder. A plain install copies only the Python packages; its ``wavefloor migrate``
    created no table at all and said the schema was up to date. It now says what is missing.
    The script's own step compiles the translation catalogs (the service user may not)."""
    assert 'pip" install --quiet -e "$PREFIX/app"' in (DEPLOY / "install.sh").read_text()
    venv, env = installed(tmp_path, "venv", "-e")  # $PREFIX/venv and $PREFIX/app, as install.sh has them
    migrated = run(venv / "bin" / "wavefloor", "migrate", env=env, cwd="/")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("applied: 0001_initial, 0002_orders")
    where = run(venv / "bin" / "python", "-c", "from server.web.handheld import HANDHELD; print(HANDHELD)",
                env=env, cwd="/")
    assert Path(where.stdout.strip()) == tmp_path / "app" / "handheld", where.stderr
    assert (tmp_path / "app" / "handheld" / "index.html").exists()
    catalog = tmp_path / "app" / "server" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
    assert not catalog.exists()  # a release made from git holds none
    step = next(line for line in (DEPLOY / "install.sh").read_text().splitlines() if "compile_translations()" in line)
    compiled = run("bash", "-c", step, env={"PREFIX": str(tmp_path), **env}, cwd="/")
    assert compiled.returncode == 0 and catalog.stat().st_size > 0, compiled.stderr

    venv, env = installed(tmp_path, "plain")
    refused = run(venv / "bin" / "wavefloor", "migrate", env=env, cwd="/")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "no migrations in" in refused.stderr and "pip install -e" in refused.stderr


def test_the_self_signed_certificate_names_the_site_so_a_device_that_trusts_it_connects(tmp_path):
    """A device that installs the installer's certificate must then accept the site by the
    names and addresses it uses. Chrome matches only the subject alternative names (Python's
    ssl is told to do the same here): the certificate made with a common name alone was refused
    even when trusted, and by an address in any case."""
    assert '"$PREFIX/app/deploy/make-certificate.sh" "$CONF_DIR/tls" $TLS_NAMES' in (
        DEPLOY / "install.sh").read_text()
    made = run(DEPLOY / "make-certificate.sh", tmp_path, "wavefloor.lan")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "wavefloor.key").stat().st_mode & 0o777 == 0o600
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(tmp_path / "wavefloor.crt", tmp_path / "wavefloor.key")
    device = ssl.create_default_context(cafile=str(tmp_path / "wavefloor.crt"))  # the device trusts it
    device.hostname_checks_common_name = False
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve(count):
            for _ in range(count):
                conn, _ = listener.accept()
                try:
                    with server_side.wrap_socket(conn, server_side=True):
                        pass
                except (ssl.SSLError, OSError):
                    pass
        threading.Thread(target=serve, args=(3,), daemon=True).start()
        for name in ("wavefloor.lan", "127.0.0.1"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with device.wrap_socket(raw, server_hostname=name) as tls:
                    assert tls.version() in ("TLSv1.2", "TLSv1.3")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with pytest.raises(ssl.SSLCertVerificationError):
                device.wrap_socket(raw, server_hostname="elsewhere.lan")


def unit_sections(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


def test_systemd_units_name_what_they_need():
    server = unit_sections(DEPLOY / "systemd" / "wavefloor@.service")
    assert "%i" in server["Service"]["ExecStart"] and "gunicorn.conf.py" in server["Service"]["ExecStart"]
    assert server["Service"]["User"] == "wavefloor" and server["Service"]["Restart"] == "always"
    assert "WAVEFLOOR_PRINT_WORKER=false" in server["Service"]["Environment"]
    worker = unit_sections(DEPLOY / "systemd" / "wavefloor-printworker.service")
    assert worker["Service"]["ExecStart"].endswith("wavefloor printers work")
    for unit in (server, worker):
        assert unit["Service"]["EnvironmentFile"] == "/etc/wavefloor/wavefloor.env"
        assert unit["Install"]["WantedBy"] == "wavefloor.target"
    assert unit_sections(DEPLOY / "systemd" / "wavefloor.target")["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify(tmp_path):
    """The units as installed, with this checkout standing in for /opt/wavefloor."""
    env_file = tmp_path / "wavefloor.env"
    env_file.write_text("WAVEFLOOR_DATABASE_URL=sqlite:////tmp/x.db\n")
    names = []
    for unit in UNITS:
        text = (unit.read_text().replace("/opt/wavefloor/venv/bin", str(VENV_BIN))
                .replace("/opt/wavefloor/app", str(ROOT)).replace("/etc/wavefloor/wavefloor.env", str(env_file)))
        name = unit.name.replace("@.service", "@5001.service")
        (tmp_path / name).write_text(text)
        names.append(f"./{name}")
    verified = run("systemd-analyze", "verify", "--man=no", *names, cwd=tmp_path)
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr


NEEDS_NGINX = pytest.mark.skipif(shutil.which("nginx") is None,
                                 reason="nginx is not installed (apt-get install nginx-light)")


def nginx_site(tmp_path: Path, upstream_port: int | None = None) -> tuple[Path, int]:
    """deploy/nginx/wavefloor.conf made to run from ``tmp_path``: the installer's certificate,
    free ports, and the upstream at ``upstream_port`` when given; returns nginx.conf and the
    TLS port."""
    tls = tmp_path / "tls"
    tls.mkdir()
    made = run(DEPLOY / "make-certificate.sh", tls, "wavefloor.lan")
    assert made.returncode == 0, made.stderr
    tls_port = free_port()
    site = (DEPLOY / "nginx" / "wavefloor.conf").read_text().replace("/etc/wavefloor/tls", str(tls))
    site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};").replace("listen 443", f"listen 127.0.0.1:{tls_port}")
    lines = [line for line in site.splitlines() if "[::]" not in line]  # the test box may lack IPv6
    if upstream_port is not None:  # the upstream's two server lines become the one test server
        servers = [n for n, line in enumerate(lines) if line.strip().startswith("server 127.0.0.1:")]
        lines[servers[0]] = f"    server 127.0.0.1:{upstream_port};"
        del lines[servers[1]:servers[-1] + 1]
    (tmp_path / "site.conf").write_text("\n".join(lines))
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + "events {}\nhttp {\n"
        f"  access_log off;\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf;\n}}\n")
    return tmp_path / "nginx.conf", tls_port


@NEEDS_NGINX
def test_nginx_site_passes_nginx_t(tmp_path):
    conf, _ = nginx_site(tmp_path)
    checked = run("nginx", "-t", "-p", tmp_path, "-c", conf)
    assert checked.returncode == 0, checked.stderr
    site = (tmp_path / "site.conf").read_text()
    assert "syntax is ok" in checked.stderr and "ip_hash" in site and "Upgrade $http_upgrade" in site


@contextlib.contextmanager
def gunicorn_server(db_url: str, tmp_path: Path):
    """The unit's command line: gunicorn with deploy/gunicorn.conf.py on a free port, once it
    answers /healthz; yields its port and the text it logged while starting."""
    port = free_port()
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"),
               WAVEFLOOR_SECRET_KEY="test-secret", WAVEFLOOR_PRINT_WORKER="false")
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen([VENV_BIN / "gunicorn", "--config", DEPLOY / "gunicorn.conf.py",
                               "--bind", f"127.0.0.1:{port}", "server.app:create_app()"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        from tests.test_faults import wait_until

        def healthy():
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except (requests.ConnectionError, requests.Timeout):  # the worker is still starting
                return False
        assert wait_until(healthy, timeout=30), (tmp_path / "gunicorn.log").read_text()[-2000:]
        yield port, (tmp_path / "gunicorn.log").read_text()
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def lookup_over_the_floor_socket(url: str, device_code: str, authority: Path | None = None) -> None:
    """A picker's PIN login and a Socket.IO device over a WebSocket at ``url``, both trusting
    ``authority`` (a certificate file) when given: the snapshot names the device, and a
    command is answered."""
    session = requests.Session()
    if authority is not None:
        session.verify = str(authority)  # python-engineio hands it to its WebSocket as ca_certs
    token = session.post(f"{url}/api/v1/auth/pin", timeout=10, verify=session.verify,  # over REQUESTS_CA_BUNDLE
                         json={"user": "u-picker", "pin": "2468", "device": device_code}).json()["token"]
    device = socketio.Client(reconnection=False, http_session=session)
    snapshots = []
    device.on("snapshot", snapshots.append, namespace="/floor")
    device.connect(url, namespaces=["/floor"], auth={"token": token}, transports=["websocket"], wait_timeout=10)
    try:
        assert device.transport() == "websocket"
        answer = device.call("cmd", {"key": uuid.uuid4().hex, "scenario": "stock", "action": "lookup",
                                     "code": "nothing-here"}, namespace="/floor", timeout=10)
        assert answer["message"]["code"] == "unknown_barcode"
        assert snapshots and snapshots[0]["device"] == device_code
    finally:
        hang_up(device)
        session.close()


@pytest.mark.parametrize("engine", ["sqlite"])
def test_gunicorn_settings_serve_websockets(db, db_url, people, tmp_path):
    """One gevent worker, Socket.IO over a real WebSocket, and the serving process's tasks."""
    with gunicorn_server(db_url, tmp_path) as (port, started):
        assert "command results older than 72 h are forgotten every minute" in started, started[-2000:]
        assert ("SQLite checkpoints run in a thread of their own" in started) == db_url.startswith("sqlite"), started
        lookup_over_the_floor_socket(f"http://127.0.0.1:{port}", "HH-G")


@NEEDS_NGINX
@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_device_reaches_the_server_through_the_nginx_site_over_tls(db, db_url, people, tmp_path):
    """The whole way a handheld comes in: TLS with the installer's certificate at nginx, the
    site's WebSocket upgrade and sticky upstream, gunicorn's gevent worker, and the server's
    own WebSocket. The login and the socket both check the certificate, as a device that
    installed it does."""
    with gunicorn_server(db_url, tmp_path) as (port, _):
        conf, tls_port = nginx_site(tmp_path, upstream_port=port)
        proxy = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            from tests.test_faults import wait_until

            def listening():
                try:
                    socket.create_connection(("127.0.0.1", tls_port), timeout=1).close()
                    return True
                except OSError:
                    return proxy.poll() is not None  # nginx gave up: its error is read below
            assert wait_until(listening, timeout=15) and proxy.poll() is None, proxy.stderr.read().decode()
            lookup_over_the_floor_socket(f"https://127.0.0.1:{tls_port}", "HH-N", tmp_path / "tls" / "wavefloor.crt")
        finally:
            proxy.terminate()
            proxy.wait(30)
