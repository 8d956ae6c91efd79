"""Bad input against every REST operation: schemathesis generates requests from the app's own
/api/v1/openapi.json and sends them to the WSGI app with an admin's bearer token. No answer may
be a server error (5xx), and every documented answer must match its schema.

Left out: logging the admin out (it would end the run's own session) and the two operations
that make the server open connections or files at an address taken from the request
(setting a printer's URL, polling it), which a fuzzer must not aim at this machine.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

SKIPPED = {("POST", "/api/v1/auth/logout"), ("PUT", "/api/v1/printers/{code}"),
           ("POST", "/api/v1/printers/{code}/poll")}


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory, secret_hashes):
    """One SQLite warehouse with stock, an order-free floor and an admin, for every generated call."""
    from server.app import create_app
    from server.db import database, init_database
    from server.models import Barcode, Location, Product, User, Warehouse
    from server.schema import create_all
    from server.services import auth
    from server.services.stock import inventory
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder}/wavefloor.db"
    init_database(url)
    create_all()
    admin = auth.add_user("u-admin", "Admin", ["admin"])
    User.update(password_hash=secret_hashes[0], pin_hash=secret_hashes[1]).where(User.id == admin.id).execute()
    warehouse = Warehouse.create(code="WH1", name="测试仓", aisles=2, aisle_length_m=10, aisle_width_m=3)
    pick = Location.create(warehouse=warehouse, code="A-01", kind="pick", aisle=0, y_m=1.0, pick_seq=1)
    Location.create(warehouse=warehouse, code="R-01", kind="reserve")
    tee = Product.create(sku="TS-01", name="纯棉T恤 白 M", weight_g=180, price_fen=5900)
    Barcode.create(code="6900000000014", product=tee)
    inventory.receive(tee, pick, 50, actor=inventory.system_actor())
    app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": str(folder / "instance"), "SECRET_KEY": "fuzz"})
    app.config["TESTING"] = True
    login = app.test_client().post("/api/v1/auth/login", json={"user": "u-admin", "password": "secret-pass"})
    assert login.status_code == 200, login.get_json()
    yield app, login.get_json()["token"]
    database.obj.close_all()


@pytest.fixture(scope="module")
def api_schema(fuzzed_app):
    app, _token = fuzzed_app
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture(scope="module")
def admin_token(fuzzed_app):
    return fuzzed_app[1]


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_no_server_errors_and_answers_match_the_schema(case, admin_token):
    if (case.method.upper(), case.path) in SKIPPED or (case.method.upper(), case.operation.full_path) in SKIPPED:
        pytest.skip("not aimed at from a fuzzer (see the module's docstring)")
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {admin_token}"}  # over a generated one
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
