"""The REST API for products and stock, and its OpenAPI document, through the test client on
both database engines."""
from __future__ import annotations

import re

import pytest

from server.models import AuditLog, Product, Quant, StockMove

TEE_UNIT = "6900000000014"
TEE_CASE = "16900000000011"
MUG_UNIT = "6900000000021"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def as_role(client, token_for, small_warehouse):
    """``as_role(role, device=None)`` -> request helpers carrying that role's token."""

    class Caller:
        def __init__(self, role, device):
            self.headers = bearer(token_for(role, device))

        def get(self, url, **kw):
            return client.get(url, headers=self.headers, **kw)

        def post(self, url, json):
            return client.post(url, json=json, headers=self.headers)

        def put(self, url, json):
            return client.put(url, json=json, headers=self.headers)

    return lambda role, device=None: Caller(role, device)


def stock_snapshot() -> list[tuple]:
    return sorted((q.product.sku, q.location.code, q.state, q.lot, q.qty, q.reserved)
                  for q in Quant.select())


def validation_fields(response) -> set[str]:
    assert response.status_code == 422, response.get_json()
    return set(response.get_json()["detail"]["json"])


# --- products ------------------------------------------------------------------------------

def test_product_list_and_search(as_role):
    picker = as_role("picker")
    everything = picker.get("/api/v1/products").get_json()
    assert everything["total"] == 2
    assert [p["sku"] for p in everything["items"]] == ["MG-01", "TS-01"]

    by_name = picker.get("/api/v1/products", query_string={"q": "T恤"}).get_json()
    assert [p["sku"] for p in by_name["items"]] == ["TS-01"]
    by_barcode = picker.get("/api/v1/products", query_string={"q": MUG_UNIT}).get_json()
    assert [p["sku"] for p in by_barcode["items"]] == ["MG-01"]
    by_sku = picker.get("/api/v1/products", query_string={"q": "MG-"}).get_json()
    assert [p["sku"] for p in by_sku["items"]] == ["MG-01"]

    page = picker.get("/api/v1/products", query_string={"limit": 1, "offset": 1}).get_json()
    assert page["total"] == 2 and [p["sku"] for p in page["items"]] == ["TS-01"]


def test_get_one_product_with_its_barcodes(as_role):
    body = as_role("packer").get("/api/v1/products/TS-01").get_json()
    assert body["name"] == "纯棉T恤 白 M" and body["weight_g"] == 180 and body["price_fen"] == 5900
    assert body["barcodes"] == [{"code": TEE_UNIT, "multiplier": 1, "kind": "unit"},
                                {"code": TEE_CASE, "multiplier": 12, "kind": "case"}]


def test_unknown_product_is_404(as_role):
    response = as_role("office").get("/api/v1/products/NOPE-1")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_office_creates_and_updates_a_product(as_role):
    office = as_role("office")
    created = office.put("/api/v1/products/SK-9", {"name": "帆布袋", "weight_g": 90,
                                                  "barcodes": ["6900000000038"]})
    assert created.status_code == 200, created.get_json()
    assert created.get_json()["barcodes"] == [{"code": "6900000000038", "multiplier": 1, "kind": "unit"}]

    updated = office.put("/api/v1/products/SK-9", {"name": "帆布袋 大", "price_fen": 1500})
    assert updated.get_json()["name"] == "帆布袋 大" and updated.get_json()["price_fen"] == 1500
    fetched = office.get("/api/v1/products/SK-9").get_json()
    assert fetched["name"] == "帆布袋 大" and len(fetched["barcodes"]) == 1
    assert [a.action for a in AuditLog.select().where(AuditLog.target == "SK-9").order_by(AuditLog.id)] == \
        ["product.created", "product.updated"]


@pytest.mark.parametrize("role", ["picker", "packer", "receiver", "supervisor"])
def test_floor_roles_may_not_edit_products(as_role, role):
    response = as_role(role).put("/api/v1/products/TS-01", {"name": "changed"})
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"
    assert Product.get(Product.sku == "TS-01").name == "纯棉T恤 白 M"


def test_product_edit_needs_a_name(as_role):
    assert validation_fields(as_role("office").put("/api/v1/products/SK-9", {"weight_g": 5})) == {"name"}
    assert validation_fields(as_role("office").put("/api/v1/products/SK-9",
                                                   {"name": "x", "weight_g": -1})) == {"weight_g"}
    assert Product.get_or_none(Product.sku == "SK-9") is None


def test_a_barcode_of_another_product_is_refused(as_role):
    response = as_role("office").put("/api/v1/products/SK-9", {"name": "x", "barcodes": [MUG_UNIT]})
    assert 400 <= response.status_code < 500
    assert Product.get_or_none(Product.sku == "SK-9") is None


# --- stock lookups -------------------------------------------------------------------------

@pytest.fixture
def stocked(as_role):
    """10 tees and 3 mugs on A-01, 5 tees in reserve, received by the receiver."""
    receiver = as_role("receiver")
    for sku, location, qty in (("TS-01", "A-01", 10), ("MG-01", "A-01", 3), ("TS-01", "R-01", 5)):
        response = receiver.post("/api/v1/stock/receive", {"sku": sku, "location": location, "qty": qty})
        assert response.status_code == 201, response.get_json()
    return as_role


def test_stock_by_sku_unit_barcode_and_case_barcode_agree(stocked):
    picker = stocked("picker")
    by_sku = picker.get("/api/v1/stock", query_string={"sku": "TS-01"}).get_json()
    assert [(i["location"], i["qty"], i["free"]) for i in by_sku["items"]] == [("A-01", 10, 10), ("R-01", 5, 5)]
    assert by_sku["total_qty"] == 15 and by_sku["total_free"] == 15
    for code in (TEE_UNIT, TEE_CASE):
        assert picker.get("/api/v1/stock", query_string={"barcode": code}).get_json() == by_sku


def test_only_available_units_are_free(stocked):
    receiver = stocked("receiver")
    assert receiver.post("/api/v1/stock/receive", {"sku": "TS-01", "location": "A-01", "qty": 4,
                                                   "state": "qc_pending"}).status_code == 201
    assert receiver.post("/api/v1/stock/state", {"sku": "TS-01", "location": "R-01", "qty": 2,
                                                 "from_state": "available", "to_state": "frozen"}).status_code == 201
    body = stocked("picker").get("/api/v1/stock", query_string={"sku": "TS-01"}).get_json()
    assert sorted((i["location"], i["state"], i["qty"], i["free"]) for i in body["items"]) == [
        ("A-01", "available", 10, 10), ("A-01", "qc_pending", 4, 0), ("R-01", "available", 3, 3),
        ("R-01", "frozen", 2, 0)]
    assert (body["total_qty"], body["total_free"]) == (19, 13)


def test_stock_by_location(stocked):
    body = stocked("picker").get("/api/v1/stock", query_string={"location": "A-01"}).get_json()
    assert [(i["sku"], i["qty"], i["state"]) for i in body["items"]] == [("MG-01", 3, "available"),
                                                                       ("TS-01", 10, "available")]
    assert body["items"][1]["name"] == "纯棉T恤 白 M"
    both = stocked("picker").get("/api/v1/stock", query_string={"location": "A-01", "sku": "MG-01"})
    assert [(i["sku"], i["qty"]) for i in both.get_json()["items"]] == [("MG-01", 3)]


def test_stock_lookup_of_unknown_codes_is_404(stocked):
    picker = stocked("picker")
    for query in ({"sku": "NOPE"}, {"barcode": "6999999999999"}, {"location": "Z-99"}):
        response = picker.get("/api/v1/stock", query_string=query)
        assert response.status_code == 404, query
        assert response.get_json()["code"] == "not_found"


def test_stock_lookup_needs_a_code(stocked):
    response = stocked("picker").get("/api/v1/stock")
    assert response.status_code == 400
    assert response.get_json()["detail"] == "name a sku, a barcode or a location"


# --- stock changes and the ledger ----------------------------------------------------------

def ledger(caller, **query) -> list[dict]:
    response = caller.get("/api/v1/stock/moves", query_string=query)
    assert response.status_code == 200
    return response.get_json()["items"]


def test_receive_move_adjust_and_state_leave_attributed_ledger_lines(as_role):
    receiver = as_role("receiver", device="HH-21")
    office = as_role("office")
    assert receiver.post("/api/v1/stock/receive", {"sku": "TS-01", "location": "A-01", "qty": 10,
                                                   "ref": "PO-1"}).status_code == 201
    assert receiver.post("/api/v1/stock/move", {"sku": TEE_UNIT, "from": "A-01", "to": "R-01",
                                                "qty": 4}).status_code == 201
    assert office.post("/api/v1/stock/adjust", {"sku": "TS-01", "location": "R-01", "delta": -1,
                                                "reason": "count"}).status_code == 201
    assert office.post("/api/v1/stock/state", {"sku": "TS-01", "location": "A-01", "qty": 2,
                                               "from_state": "available", "to_state": "frozen",
                                               "reason": "recall"}).status_code == 201

    assert stock_snapshot() == [("TS-01", "A-01", "available", "", 4, 0),
                                ("TS-01", "A-01", "frozen", "", 2, 0),
                                ("TS-01", "R-01", "available", "", 3, 0)]
    lines = ledger(as_role("picker"), sku="TS-01")
    assert [(m["reason"], m["qty"], m["from_location"], m["from_state"], m["to_location"], m["to_state"],
             m["user"], m["device"]) for m in lines] == [
        ("recall", 2, "A-01", "available", "A-01", "frozen", "u-office", None),
        ("count", 1, "R-01", "available", None, None, "u-office", None),
        ("move", 4, "A-01", "available", "R-01", "available", "u-receiver", "HH-21"),
        ("receive", 10, None, None, "A-01", "available", "u-receiver", "HH-21"),
    ]
    assert lines[-1]["ref"] == "PO-1" and lines[0]["at"]
    assert [m["reason"] for m in ledger(office, ref="PO-1")] == ["receive"]
    assert [m["reason"] for m in ledger(office, location="R-01")] == ["count", "move"]
    assert len(ledger(office, limit=1)) == 1


def test_qc_receipt_released_to_available(as_role):
    receiver = as_role("receiver")
    assert receiver.post("/api/v1/stock/receive", {"sku": "MG-01", "location": "QC-1", "qty": 6,
                                                   "state": "qc_pending", "lot": "L1"}).status_code == 201
    assert receiver.post("/api/v1/stock/state", {"sku": "MG-01", "location": "QC-1", "qty": 6, "lot": "L1",
                                                 "from_state": "qc_pending", "to_state": "available"}
                         ).status_code == 201
    assert stock_snapshot() == [("MG-01", "QC-1", "available", "L1", 6, 0),
                                ("MG-01", "QC-1", "qc_pending", "L1", 0, 0)]


def test_insufficient_stock_is_409_and_changes_nothing(stocked):
    office = stocked("office")
    before, moves_before = stock_snapshot(), StockMove.select().count()
    attempts = [
        ("/api/v1/stock/move", {"sku": "TS-01", "from": "A-01", "to": "T-001", "qty": 11}),
        ("/api/v1/stock/adjust", {"sku": "MG-01", "location": "A-01", "delta": -4, "reason": "count"}),
        ("/api/v1/stock/state", {"sku": "TS-01", "location": "R-01", "qty": 6,
                                 "from_state": "available", "to_state": "damaged"}),
        ("/api/v1/stock/move", {"sku": "MG-01", "from": "R-01", "to": "A-01", "qty": 1}),
    ]
    for url, body in attempts:
        response = office.post(url, body)
        assert response.status_code == 409, (url, response.get_json())
        assert response.get_json()["code"] == "insufficient_stock"
        assert response.get_json()["message"] == "可用库存不足。"
    assert stock_snapshot() == before
    assert StockMove.select().count() == moves_before


@pytest.mark.parametrize("url, body, field", [
    ("/api/v1/stock/receive", {"sku": "TS-01", "location": "A-01"}, "qty"),
    ("/api/v1/stock/receive", {"sku": "TS-01", "location": "A-01", "qty": 0}, "qty"),
    ("/api/v1/stock/receive", {"sku": "TS-01", "location": "A-01", "qty": "many"}, "qty"),
    ("/api/v1/stock/receive", {"sku": "TS-01", "location": "A-01", "qty": 1, "state": "lost"}, "state"),
    ("/api/v1/stock/receive", {"location": "A-01", "qty": 1}, "sku"),
    ("/api/v1/stock/move", {"sku": "TS-01", "from": "A-01", "qty": 1}, "to"),
    ("/api/v1/stock/move", {"sku": "TS-01", "from": "A-01", "to": "R-01", "qty": 1, "to_state": "gone"},
     "to_state"),
    ("/api/v1/stock/adjust", {"sku": "TS-01", "location": "A-01", "delta": 1}, "reason"),
    ("/api/v1/stock/state", {"sku": "TS-01", "location": "A-01", "qty": 1, "from_state": "available",
                             "to_state": "sold"}, "to_state"),
])
def test_invalid_bodies_are_422_naming_the_field(stocked, url, body, field):
    before = stock_snapshot()
    response = stocked("office").post(url, body)
    assert validation_fields(response) == {field}
    assert stock_snapshot() == before


def test_a_zero_adjustment_is_refused(stocked):
    response = stocked("office").post("/api/v1/stock/adjust", {"sku": "TS-01", "location": "A-01",
                                                               "delta": 0, "reason": "count"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_quantity"


@pytest.mark.parametrize("body", [
    {"sku": "NOPE", "location": "A-01", "qty": 1},
    {"sku": "TS-01", "location": "Z-99", "qty": 1},
])
def test_unknown_sku_or_location_is_404(stocked, body):
    before = stock_snapshot()
    response = stocked("receiver").post("/api/v1/stock/receive", body)
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    assert stock_snapshot() == before


@pytest.mark.parametrize("role", ["picker", "packer"])
def test_floor_roles_read_stock_but_do_not_change_it(stocked, role):
    caller = stocked(role)
    assert caller.get("/api/v1/stock", query_string={"sku": "TS-01"}).status_code == 200
    response = caller.post("/api/v1/stock/receive", {"sku": "TS-01", "location": "A-01", "qty": 1})
    assert response.status_code == 403
    assert stock_snapshot()[-1] == ("TS-01", "R-01", "available", "", 5, 0)


# --- OpenAPI -------------------------------------------------------------------------------

def api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_openapi_document_is_public_and_complete(app, client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Wavefloor API"
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops
                  if method in {"get", "post", "put", "patch", "delete"}}
    routes = api_routes(app) - {("/api/v1/openapi.json", "get")}
    assert len(routes) > 30
    assert documented == routes


def request_schema(spec, path, method="post") -> dict:
    body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
    return spec["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]


def test_openapi_declares_request_schemas(client, db):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    receive = schemas["ReceiveIn"]
    assert set(receive["required"]) == {"sku", "location", "qty"}
    assert receive["properties"]["state"]["enum"] == ["available", "qc_pending", "frozen", "damaged"]
    assert receive["properties"]["qty"]["minimum"] == 1
    assert request_schema(spec, "/api/v1/stock/receive") == receive
    assert set(request_schema(spec, "/api/v1/stock/move")["required"]) == {"sku", "from", "to", "qty"}
    assert set(request_schema(spec, "/api/v1/products/{sku}", "put")["required"]) == {"name"}
    assert set(schemas["PinIn"]["required"]) == {"user", "pin", "device"}
    assert spec["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/stock/receive"]["post"]["security"] == [{"BearerAuth": []}]


def test_every_reference_in_the_openapi_document_resolves(client, db):
    spec = client.get("/api/v1/openapi.json").get_json()
    refs = set(re.findall(r'"\$ref":\s*"#/components/schemas/([^"]+)"', client.get("/api/v1/openapi.json")
                          .get_data(as_text=True)))
    assert refs and refs <= set(spec["components"]["schemas"])


def test_building_the_openapi_document_warns_of_nothing(db, db_url, tmp_path):
    """apispec warns of each schema met twice; the copies are merged (see the test below), so
    the server's log stays free of those warnings."""
    import warnings

    from server.app import create_app
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = create_app({"DATABASE_URL": db_url, "INSTANCE_DIR": str(tmp_path / "instance"),
                          "SECRET_KEY": "test-secret"})
        assert app.test_client().get("/api/v1/openapi.json").status_code == 200
    assert [str(w.message) for w in caught if "already been added" in str(w.message)] == []


def test_each_schema_has_one_name_in_the_openapi_document(client, db):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    copies = [name for name in schemas if re.sub(r"\d+$", "", name) in schemas.keys() - {name}]
    assert not copies
    assert {"JobOut", "PrinterOut", "PrinterStatusOut", "ProductOut"} <= set(schemas)
