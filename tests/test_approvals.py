"""Approvals (多级审批): a flow table per subject, requests decided level by level by people
other than the requester, each decision in the audit log, and the held change made once the
last level approves it. Both engines."""
from __future__ import annotations

import json

import pytest

from server.models import ApprovalRequest, AuditLog, Product, PurchaseOrder, Quant, StockMove
from server.services.approvals import apply, flows, requests
from server.services.errors import DomainError
from server.services.purchasing import orders
from server.services.stock import catalog, desk
from tests.test_cli import wavefloor
from tests.test_purchasing import _po, buying  # noqa: F401  (two suppliers, WH1, TS-01 and MG-01)
from tests.test_purchasing_pages import login, page


def actions(prefix: str) -> list[tuple[str, str]]:
    return [(a.action, a.detail) for a in AuditLog.select().where(AuditLog.action.startswith(prefix))
            .order_by(AuditLog.id)]


def test_a_purchase_order_over_its_flow_passes_each_level_by_another_person(buying):
    flows.set_flow("purchase_order", [["supervisor"], ["admin"]], 2_000_000, buying["admin"])
    big = _po(buying, [{"sku": "TS-01", "qty": 1200, "unit_cost_fen": 2000}])     # ¥24,000: two levels
    small = _po(buying, [{"sku": "TS-01", "qty": 1200, "unit_cost_fen": 1600}])   # ¥19,200: the limits, as before
    for po in (big, small):
        orders.submit(po.code, buying["office"])
    assert requests.pending_for("purchase_order", small.code) is None
    assert orders.approve(small.code, buying["supervisor"]).status == "approved"

    with pytest.raises(requests.NotYourLevel):
        orders.approve(big.code, buying["admin"])          # level 1 is the supervisor's
    assert orders.approve(big.code, buying["supervisor"], comment="价格已核").status == "submitted"
    with pytest.raises(requests.NotYourLevel):
        orders.approve(big.code, buying["supervisor"])     # one person, one level
    approved = orders.approve(big.code, buying["admin"])
    assert approved.status == "approved" and approved.approved_by_id == buying["admin"].user_id
    request = ApprovalRequest.get(ApprovalRequest.ref == big.code)
    assert request.status == "approved" and request.level == 1 and request.decided_at is not None
    assert [a for a, _ in actions("approval.")] == ["approval.request", "approval.approve", "approval.approve"]
    assert "level 1 as supervisor: 价格已核" in actions("approval.approve")[0][1]

    # a rejection needs its reason, sends the order back to draft and ends the request
    third = _po(buying, [{"sku": "TS-01", "qty": 1200, "unit_cost_fen": 2000}])
    orders.submit(third.code, buying["office"])
    with pytest.raises(DomainError):
        requests.decide(requests.pending_for("purchase_order", third.code).id, buying["supervisor"], approve=False)
    assert orders.reject(third.code, buying["supervisor"], "数量太多").status == "draft"
    assert ApprovalRequest.get(ApprovalRequest.ref == third.code).status == "rejected"
    assert actions("approval.reject")[-1][1].endswith("数量太多")


def test_nobody_approves_their_own_request(buying):
    flows.set_flow("purchase_order", [["supervisor", "admin"]], 0, buying["admin"])
    po = _po(buying)
    orders.submit(po.code, buying["supervisor"])
    with pytest.raises(requests.OwnRequest) as refused:
        orders.approve(po.code, buying["supervisor"])
    assert refused.value.code == "own_request" and refused.value.http_status == 403
    assert PurchaseOrder.get_by_id(po.id).status == "submitted"
    with pytest.raises(requests.OwnRequest):
        apply.decide(requests.pending_for("purchase_order", po.code).id, buying["supervisor"], approve=True)
    assert orders.approve(po.code, buying["admin"]).status == "approved"
    with pytest.raises(requests.AlreadyDecided):
        apply.decide(ApprovalRequest.get().id, buying["admin"], approve=True)


def test_a_stock_adjustment_worth_more_waits_and_is_posted_as_its_requester_asked(buying):
    tee = Product.get(Product.sku == "TS-01")
    Product.update(cost_fen=2500).where(Product.id == tee.id).execute()
    desk.receive(actor=buying["admin"], sku="TS-01", location="A-01", qty=50)
    flows.set_flow("stock_adjustment", [["supervisor"]], 10_000, buying["admin"])
    assert desk.adjust(actor=buying["office"], sku="TS-01", location="A-01", delta=-3, reason="damaged") is None
    request = desk.adjust(actor=buying["office"], sku="TS-01", location="A-01", delta=-10, reason="damaged")
    assert request.amount_fen == 25_000 and json.loads(request.payload)["delta"] == -10
    qty = lambda: Quant.get((Quant.product == tee.id) & (Quant.state == "available")).qty  # noqa: E731
    assert qty() == 47  # nothing posted while it waits
    with pytest.raises(requests.OwnRequest):
        apply.decide(request.id, buying["office"], approve=True)
    done = apply.decide(request.id, buying["supervisor"], approve=True)
    assert done.status == "approved" and done.outcome.startswith("posted") and qty() == 37
    move = StockMove.select().where(StockMove.reason == "damaged").order_by(StockMove.id.desc()).get()
    assert move.qty == -10 or move.qty == 10
    assert move.user_id == buying["office"].user_id  # the ledger names who asked; the approval who allowed it
    assert requests.as_dict(done)["steps"][0]["user"] == "u-supervisor"


def test_a_price_change_waits_while_the_rest_of_the_edit_goes_in(buying):
    flows.set_flow("price_change", [["admin"]], 100, buying["admin"])
    product = catalog.upsert("TS-01", {"name": "纯棉T恤 白 M 新款", "price_fen": 6900}, actor=buying["office"])
    assert product.name == "纯棉T恤 白 M 新款" and product.price_fen == 5900 and len(product.held_for_approval) == 1
    assert catalog.upsert("TS-01", {"price_fen": 5950}, actor=buying["office"]).price_fen == 5950  # under 100 fen
    apply.decide(product.held_for_approval[0], buying["admin"], approve=True)
    assert Product.get(Product.sku == "TS-01").price_fen == 6900


def test_a_price_change_from_the_product_file_waits_too(buying, tmp_path):
    flows.set_flow("price_change", [["admin"]], 0, buying["admin"])
    path = tmp_path / "products.csv"
    path.write_text("sku,name,price_fen\nTS-01,纯棉T恤 白 M,7900\nMG-01,马克杯 大,3900\n", encoding="utf-8")
    report = catalog.import_products(path)
    held = ApprovalRequest.get(ApprovalRequest.ref == "TS-01")
    assert [str(p) for p in report.problems] == [f"products.csv:2: waits for approval #{held.id}"]
    assert Product.get(Product.sku == "TS-01").price_fen == 5900 and Product.get(Product.sku == "MG-01").name == "马克杯 大"
    apply.decide(held.id, buying["admin"], approve=True)
    assert Product.get(Product.sku == "TS-01").price_fen == 7900


def test_flows_are_checked_and_listed(buying):
    with pytest.raises(DomainError, match="unknown role"):
        flows.set_flow("purchase_order", [["boss"]], 0, buying["admin"])
    with pytest.raises(flows.UnknownSubject):
        flows.set_flow("holiday", [["admin"]], 0, buying["admin"])
    with pytest.raises(DomainError, match="at least one level"):
        flows.set_flow("price_change", [], 0, buying["admin"])
    flows.set_flow("voucher_export", [["office"], ["admin"]], 0, buying["admin"], active=False)
    listed = {f["subject"]: f for f in flows.flows()}
    assert listed["voucher_export"]["levels"] == [["office"], ["admin"]] and not listed["voucher_export"]["active"]
    assert not requests.needed("voucher_export", 0)  # switched off
    assert listed["stock_adjustment"]["levels"] == []


def test_over_http_and_on_the_page(client, buying, token_for):
    flows.set_flow("stock_adjustment", [["supervisor"], ["admin"]], 0, buying["admin"])
    office = {"Authorization": f"Bearer {token_for('office')}"}
    posted = client.post("/api/v1/stock/adjust", headers=office,
                         json={"sku": "MG-01", "location": "A-02", "delta": 4, "reason": "found"})
    assert posted.status_code == 201 and posted.get_json()["approval"] > 0
    request_id = posted.get_json()["approval"]
    supervisor = {"Authorization": f"Bearer {token_for('supervisor')}"}
    mine = client.get("/api/v1/approvals?mine=true", headers=supervisor).get_json()
    assert [r["id"] for r in mine] == [request_id] and mine[0]["waiting_for"] == ["supervisor"]
    assert client.get("/api/v1/approvals", headers={"Authorization": f"Bearer {token_for('picker')}"}
                      ).status_code == 403
    refused = client.post(f"/api/v1/approvals/{request_id}/approve", headers=office, json={})
    assert refused.status_code == 403 and refused.get_json()["code"] == "own_request"
    first = client.post(f"/api/v1/approvals/{request_id}/approve", headers=supervisor, json={"comment": "ok"})
    assert first.status_code == 200 and first.get_json()["status"] == "pending" and first.get_json()["level"] == 2

    login(client, "admin", "en")
    shown = page(client, "/approvals")
    assert f'data-request="{request_id}"' in shown and "Waiting for you" in shown
    answer = client.post(f"/approvals/{request_id}", data={"decision": "approve", "comment": ""})
    assert answer.status_code == 200 and f'data-done="{request_id}"' in answer.data.decode()
    assert ApprovalRequest.get_by_id(request_id).status == "approved"
    login(client, "office")
    again = client.post(f"/approvals/{request_id}", data={"decision": "approve"})
    assert again.status_code == 409 and "该申请已处理" in again.data.decode()


def test_the_command_line(buying, db_url, tmp_path):
    wavefloor(db_url, "approvals", "flow", "cost_change", "--level", "supervisor,admin", "--level", "admin",
              "--over", "500", tmp_path=tmp_path)
    listed = wavefloor(db_url, "approvals", "flows", tmp_path=tmp_path).stdout
    assert "cost_change" in listed and "admin/supervisor -> admin" in listed
    refused = wavefloor(db_url, "approvals", "flow", "cost_change", "--level", "boss", tmp_path=tmp_path, check=False)
    assert refused.returncode != 0 and "unknown role(s) boss" in refused.stderr
    product = catalog.upsert("MG-01", {"cost_fen": 2000}, actor=buying["office"])
    assert product.held_for_approval
    shown = wavefloor(db_url, "approvals", "list", "--for", "u-supervisor", tmp_path=tmp_path).stdout
    assert f"#{product.held_for_approval[0]} pending" in shown and "waits for admin/supervisor (level 1)" in shown
    wavefloor(db_url, "approvals", "approve", str(product.held_for_approval[0]), "--user", "u-supervisor",
              tmp_path=tmp_path)
    done = wavefloor(db_url, "approvals", "approve", str(product.held_for_approval[0]), "--user", "u-admin",
                     tmp_path=tmp_path).stdout
    assert "approved: changed: cost_fen 2000" in done and Product.get(Product.sku == "MG-01").cost_fen == 2000
