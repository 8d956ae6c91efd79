"""Purchasing, on both engines: suppliers and their items, purchase orders through their states
(approval by amount, audited), MOQ and pack size, 在途 in the stock views, the PO CSV import with
broken rows, and channel stock with and without presale against inbound."""
import datetime as dt
import json

import pytest

from server.models import (ApprovalLimit, AuditLog, PurchaseOrder, PurchaseOrderLine, Shop, Supplier,
                           SupplierItem)
from server.services import auth
from server.services.errors import InvalidTransition, NotFound
from server.services.orders import channel_stock
from server.services.orders.facts import rules_view
from server.services.purchasing import approvals, intransit, orders, po_file, suppliers
from server.services.purchasing.lifecycle import settle, take_receipt
from server.services.stock import desk, inventory


@pytest.fixture
def buying(small_warehouse, people):
    """Two suppliers: 杭州织造 sells T-shirts (MOQ 24, packs of 12) and mugs; 景德镇瓷业 mugs."""
    admin = inventory.Actor(people["admin"].id)
    suppliers.save_supplier("SUP-A", {"name": "杭州织造", "contact_name": "陈经理", "contact_phone": "13912345678",
                                      "lead_time_days": 5, "over_receipt_pct": 10, "qc_plan": "sample"}, admin)
    suppliers.save_item("SUP-A", "TS-01", {"unit_cost_fen": 2500, "moq": 24, "pack_size": 12}, admin)
    suppliers.save_item("SUP-A", "MG-01", {"unit_cost_fen": 1800}, admin)
    suppliers.save_supplier("SUP-B", {"name": "景德镇瓷业", "blind_receiving": True}, admin)
    suppliers.save_item("SUP-B", "6900000000021", {"unit_cost_fen": 1500, "moq": 10}, admin)
    return {"admin": admin, "supervisor": inventory.Actor(people["supervisor"].id),
            "office": inventory.Actor(people["office"].id), "picker": inventory.Actor(people["picker"].id),
            **small_warehouse}


def _principal(people, role):
    return auth.Principal(people[role], [role])


# --- suppliers ----------------------------------------------------------------------------------

def test_suppliers_and_items_are_saved_audited_and_masked(buying, people):
    sup = Supplier.get(Supplier.code == "SUP-A")
    assert (sup.lead_time_days, sup.over_receipt_pct, sup.qc_plan, sup.blind_receiving) == (5, 10, "sample", False)
    item = SupplierItem.get(SupplierItem.supplier == sup, SupplierItem.product == buying["tee"])
    assert (item.unit_cost_fen, item.moq, item.pack_size) == (2500, 24, 12)
    assert SupplierItem.get(SupplierItem.supplier == Supplier.get(code="SUP-B")).product_id == buying["mug"].id

    office = suppliers.supplier_view(sup, _principal(people, "office"), with_items=True)
    assert office["contact_phone"] == "13912345678" and [i["sku"] for i in office["items"]] == ["MG-01", "TS-01"]
    receiver = suppliers.supplier_view(sup, _principal(people, "receiver"))
    assert receiver["contact_phone"] == "139****5678"

    saves = list(AuditLog.select().where(AuditLog.action == "supplier.save").order_by(AuditLog.id))
    assert [a.target for a in saves] == ["SUP-A", "SUP-B"] and "13912345678" not in saves[0].detail
    # saving the same again writes nothing
    suppliers.save_supplier("SUP-A", {"lead_time_days": 5}, buying["admin"])
    assert AuditLog.select().where(AuditLog.action == "supplier.save").count() == 2
    suppliers.save_supplier("SUP-A", {"lead_time_days": 9}, buying["admin"])
    assert Supplier.get(code="SUP-A").lead_time_days == 9


@pytest.mark.parametrize("values, field", [({"lead_time_days": -1}, "lead_time_days"), ({"qc_plan": "half"}, "qc_plan"),
                                           ({"aql": "3.3"}, "aql"), ({"colour": "red"}, "colour"),
                                           ({"name": ""}, "name")])
def test_bad_supplier_values_name_their_field(buying, values, field):
    with pytest.raises(suppliers.InvalidValue) as refused:
        suppliers.save_supplier("SUP-A", values, buying["admin"])
    assert refused.value.field == field and refused.value.code == "bad_request"
    with pytest.raises(suppliers.InvalidValue) as refused:
        suppliers.save_supplier("SUP-NEW", {"contact_name": "x"}, buying["admin"])
    assert refused.value.field == "name"


def test_supplier_csv_with_chinese_headers_in_gbk(buying, tmp_path):
    path = tmp_path / "suppliers.csv"
    path.write_bytes(("供应商编码,供应商名称,联系人,联系电话,交期,超收比例(%),盲收,质检方案,商家编码,采购价,起订量,箱规\n"
                      "SUP-C,义乌小商品,王五,13800001111,3,5,是,抽检,TS-01,19.50,12,6\n"
                      "SUP-C,,,,,,,,MG-01,8,,\n"
                      "SUP-C,,,,,,,,NOPE-1,8,,\n"
                      "SUP-D,,,,,,,,MG-01,8,,\n"
                      "SUP-C,,,,,,,,TS-01,19.50,12,0\n").encode("gbk"))
    report = suppliers.import_suppliers(path, buying["admin"])
    assert report.created == 2
    assert [(p.line, p.field) for p in report.problems] == [(4, "sku"), (5, "name"), (6, "pack_size")]
    assert str(report.problems[1]) == "suppliers.csv:5: name: a new supplier needs a name"
    assert "NOPE-1" in str(report.problems[0])
    sup = Supplier.get(code="SUP-C")
    assert (sup.name, sup.contact_phone, sup.lead_time_days, sup.over_receipt_pct, sup.blind_receiving,
            sup.qc_plan) == ("义乌小商品", "13800001111", 3, 5, True, "sample")
    tee = SupplierItem.get(SupplierItem.supplier == sup, SupplierItem.product == buying["tee"])
    assert (tee.unit_cost_fen, tee.moq, tee.pack_size) == (1950, 12, 6)
    again = suppliers.import_suppliers(path, buying["admin"])
    assert again.created == 0 and again.unchanged == 2


# --- purchase orders ----------------------------------------------------------------------------

def _po(buying, lines=None, supplier="SUP-A", **kw):
    lines = lines if lines is not None else [{"sku": "TS-01", "qty": 48}, {"sku": "MG-01", "qty": 5, "unit_cost_fen": 2000}]
    return orders.create(supplier, "WH1", lines, buying["office"], **kw)


def test_a_po_is_priced_numbered_and_moves_through_its_states(buying):
    po = _po(buying, expected_on=dt.date(2026, 12, 20))
    assert po.status == "draft" and po.code.startswith("PO-") and len(po.code) == len("PO-20261206-0001")
    assert po.total_fen == 48 * 2500 + 5 * 2000
    second = _po(buying)
    assert second.code != po.code and int(second.code[-4:]) == int(po.code[-4:]) + 1
    lines = {l["sku"]: l for l in orders.order_view(po)["lines"]}
    assert lines["TS-01"]["unit_cost_fen"] == 2500 and lines["MG-01"]["unit_cost_fen"] == 2000

    assert orders.submit(po.code, buying["office"]).status == "submitted"
    assert orders.reject(po.code, buying["supervisor"], "价格太高").status == "draft"
    orders.update(po.code, {"lines": [{"sku": "TS-01", "qty": 36}]}, buying["office"])
    assert PurchaseOrder.get_by_id(po.id).total_fen == 36 * 2500
    orders.submit(po.code, buying["office"])
    approved = orders.approve(po.code, buying["supervisor"])
    assert approved.status == "approved" and approved.approved_by_id == buying["supervisor"].user_id
    with pytest.raises(InvalidTransition):
        orders.submit(po.code, buying["office"])
    with pytest.raises(orders.ReasonRequired):
        orders.cancel(po.code, buying["office"])
    # receiving counts units with the guarded update; settle moves the order on
    line = PurchaseOrderLine.get(PurchaseOrderLine.po == po.id)
    assert take_receipt(line.id, 12, 10) and settle(po.id) == "partially_received"
    assert not take_receipt(line.id, 28, 10)  # 12 + 28 > 36 * 110 %
    closed = orders.close_short(po.code, buying["supervisor"], "供应商断货")
    assert closed.status == "closed_short" and closed.close_reason == "供应商断货"
    actions = [a.action for a in AuditLog.select().where(AuditLog.target == po.code).order_by(AuditLog.id)]
    assert actions == ["po.create", "po.submit", "po.reject", "po.update", "po.submit", "po.approve",
                       "po.close_short"]
    close = AuditLog.get(AuditLog.target == po.code, AuditLog.action == "po.close_short")
    assert close.detail == "24 units short: 供应商断货" and close.user_id == buying["supervisor"].user_id

    # a draft, a submitted and an approved order may be cancelled; a received one may not
    assert orders.cancel(second.code, buying["office"]).status == "cancelled"
    third = _po(buying)
    orders.submit(third.code, buying["office"])
    orders.approve(third.code, buying["admin"])
    assert orders.cancel(third.code, buying["office"], "重复下单").status == "cancelled"
    with pytest.raises(InvalidTransition):
        orders.close_short(third.code, buying["office"], "x")


def test_approval_by_amount_per_role(buying, people):
    assert approvals.limits() == {"supervisor": 2_000_000, "admin": None}  # seeded once
    big = _po(buying, [{"sku": "TS-01", "qty": 1200, "unit_cost_fen": 2000}])  # ¥24,000
    small = _po(buying, [{"sku": "TS-01", "qty": 1200, "unit_cost_fen": 1600}])  # ¥19,200
    for po in (big, small):
        orders.submit(po.code, buying["office"])
    with pytest.raises(approvals.OverApprovalLimit) as refused:
        orders.approve(big.code, buying["supervisor"])
    assert refused.value.code == "over_approval_limit" and refused.value.http_status == 403
    assert PurchaseOrder.get_by_id(big.id).status == "submitted"
    with pytest.raises(approvals.OverApprovalLimit):
        orders.approve(big.code, buying["office"])  # no row for office: no approval at all
    assert orders.approve(small.code, buying["supervisor"]).status == "approved"
    assert orders.approve(big.code, buying["admin"]).status == "approved"
    audit = {(a.action, a.target): a for a in AuditLog.select().where(AuditLog.action.startswith("po.approve"))}
    assert audit[("po.approve", big.code)].detail == "total 2400000 fen as admin"
    assert audit[("po.approve", small.code)].detail == "total 1920000 fen as supervisor"
    refused_by = [a.user_id for a in AuditLog.select().where(AuditLog.action == "po.approve_refused").order_by(AuditLog.id)]
    assert refused_by == [buying["supervisor"].user_id, buying["office"].user_id]

    # a site raises the supervisor's limit; a user with two roles approves under the better one
    approvals.set_limit("supervisor", 3_000_000, buying["admin"])
    assert ApprovalLimit.get(ApprovalLimit.role == "supervisor").max_fen == 3_000_000
    assert approvals.covering_role(["office", "supervisor"], 2_400_000) == "supervisor"
    assert approvals.covering_role(["supervisor", "admin"], 10**12) == "admin"
    approvals.set_limit("office", None, buying["admin"], remove=True)
    assert "office" not in approvals.limits()
    assert AuditLog.select().where(AuditLog.action == "approval_limit.set").count() == 2


def test_moq_pack_size_and_unknown_items_are_refused_clearly(buying):
    with pytest.raises(orders.BelowMoq) as refused:
        _po(buying, [{"sku": "TS-01", "qty": 12}])
    assert refused.value.code == "below_moq" and "minimum order quantity of 24" in refused.value.text
    assert refused.value.params == {"sku": "TS-01", "qty": 12, "moq": 24}
    with pytest.raises(orders.NotPackMultiple) as refused:
        _po(buying, [{"sku": "TS-01", "qty": 30}])
    assert refused.value.code == "not_pack_multiple" and "packs of 12" in refused.value.text
    with pytest.raises(orders.NotSupplied):
        _po(buying, [{"sku": "TS-01", "qty": 30}], supplier="SUP-B")
    assert _po(buying, [{"sku": "TS-01", "qty": 7, "unit_cost_fen": 3000}], supplier="SUP-B").total_fen == 21000
    with pytest.raises(orders.EmptyOrder):
        _po(buying, [])
    with pytest.raises(suppliers.InvalidValue):
        _po(buying, [{"sku": "TS-01", "qty": 24}, {"sku": "6900000000014", "qty": 24}])
    with pytest.raises(NotFound):
        _po(buying, [{"sku": "NOPE", "qty": 24}])
    with pytest.raises(suppliers.InvalidValue) as refused:
        _po(buying, code="PO-20260101-0007")  # the server's own numbering
    assert refused.value.field == "code"
    assert _po(buying, code="SUP-A-2026-01").code == "SUP-A-2026-01"
    with pytest.raises(suppliers.InvalidValue, match="exists"):
        _po(buying, code="SUP-A-2026-01")
    assert PurchaseOrder.select().count() == 2


# --- in transit ---------------------------------------------------------------------------------

def test_in_transit_is_open_approved_quantity_by_sku_warehouse_and_date(buying):
    dated = _po(buying, [{"sku": "TS-01", "qty": 48, "expected_on": "2026-12-18"}, {"sku": "MG-01", "qty": 10}],
                expected_on="2026-12-20", delivery_note="SN-889")
    undated = _po(buying, [{"sku": "TS-01", "qty": 24}])
    draft = _po(buying, [{"sku": "TS-01", "qty": 240}])
    for po in (dated, undated):
        orders.submit(po.code, buying["office"])
        orders.approve(po.code, buying["supervisor"])
    tee, mug = buying["tee"], buying["mug"]
    assert intransit.by_product() == {tee.id: 72, mug.id: 10}  # the draft is not in transit
    line = PurchaseOrderLine.get(PurchaseOrderLine.po == dated.id, PurchaseOrderLine.product == tee)
    take_receipt(line.id, 20, 0)
    settle(dated.id)
    assert intransit.by_product([tee.id]) == {tee.id: 52}
    assert intransit.by_date([tee.id])[tee.id] == [(dt.date(2026, 12, 18), 28), (None, 24)]
    assert intransit.by_date([mug.id])[mug.id] == [(dt.date(2026, 12, 20), 10)]  # the order's date
    assert intransit.by_warehouse([tee.id]) == {(tee.id, buying["warehouse"].id): 52}

    inventory.receive(tee, buying["locations"]["A-01"], 30, actor=buying["admin"])
    inventory.reserve(tee, buying["locations"]["A-01"], 4, actor=buying["admin"])
    view = desk.stock_view(sku="TS-01")
    assert (view["total_qty"], view["total_reserved"], view["total_free"], view["in_transit"]) == (30, 4, 26, 52)
    assert [(r["po"], r["qty"], r["expected_on"]) for r in view["in_transit_items"]] == [
        (dated.code, 28, "2026-12-18"), (undated.code, 24, None)]
    assert desk.stock_view(location="A-01")["in_transit"] == 0  # 在途 is at no location
    assert desk.stock_view(sku="TS-01", location="A-01")["in_transit"] == 0
    from server.services.scenarios.stock import lookup_code  # what a handheld's lookup shows
    assert [(r["po"], r["qty"]) for r in lookup_code("16900000000011")["in_transit"]] == [(dated.code, 28),
                                                                                          (undated.code, 24)]
    orders.close_short(undated.code, buying["supervisor"], "不再补货")
    orders.cancel(draft.code, buying["office"])
    assert desk.stock_view(sku="TS-01")["in_transit"] == 28


def test_channel_stock_counts_available_only_and_presale_shops_see_in_transit_apart(buying):
    tee = buying["tee"]
    inventory.receive(tee, buying["locations"]["A-01"], 20, actor=buying["admin"])
    inventory.receive(tee, buying["locations"]["QC-1"], 50, actor=buying["admin"], state="qc_pending")
    po = _po(buying, [{"sku": "TS-01", "qty": 48, "expected_on": "2026-12-18"},
                      {"sku": "MG-01", "qty": 10, "expected_on": "2026-12-24"}])
    orders.submit(po.code, buying["office"])
    orders.approve(po.code, buying["supervisor"])
    channel_stock.save_shop("tm1", {"channel": "tmall", "stock_ratio_pct": 50, "safety_buffer": 2}, buying["admin"])
    channel_stock.save_shop("pre", {"channel": "douyin", "stock_ratio_pct": 50, "safety_buffer": 2,
                                    "sell_in_transit": True}, buying["admin"])
    plain = {r["sku"]: r for r in channel_stock.available_to_sell("tm1")}
    assert plain["TS-01"] == {"sku": "TS-01", "barcode": "6900000000014", "quantity": 9}
    presale = {r["sku"]: r for r in channel_stock.available_to_sell("pre")}
    assert presale["TS-01"]["quantity"] == 9  # the available units only
    assert presale["TS-01"]["in_transit"] == [{"expected_on": "2026-12-18", "quantity": 24}]
    assert presale["MG-01"] == {"sku": "MG-01", "barcode": "6900000000021", "quantity": 0,
                                "in_transit": [{"expected_on": "2026-12-24", "quantity": 5}]}
    assert channel_stock.upload_csv("tm1").splitlines()[0] == "商家编码,条码,可售库存"
    assert channel_stock.upload_csv("pre").splitlines() == [
        "商家编码,条码,可售库存,预售库存,预计到货日期",
        "MG-01,6900000000021,0,0,", "MG-01,6900000000021,,5,2026-12-24",
        "TS-01,6900000000014,9,0,", "TS-01,6900000000014,,24,2026-12-18"]
    assert channel_stock.shop_view(Shop.get(Shop.code == "pre"))["sell_in_transit"] is True


def test_the_rules_see_in_transit_where_an_order_is_routed(buying, monkeypatch):
    from rules.order import OrderContext
    from server.channels.base import ParseResult
    from server.models import Order
    from server.services.orders import allocation, intake
    from server.services.rulebook import book
    from tests.test_orders import parsed
    po = _po(buying, [{"sku": "TS-01", "qty": 24}])
    orders.submit(po.code, buying["office"])
    orders.approve(po.code, buying["supervisor"])
    Shop.create(code="s1", channel="tmall", sell_in_transit=True)
    inventory.receive(buying["tee"], buying["locations"]["A-01"], 2, actor=buying["admin"])
    seen = []
    routing = type(book().routing)
    original = routing.route

    def spy(self, order):
        seen.append(order.order if isinstance(order, OrderContext) else order)
        return original(self, order)
    monkeypatch.setattr(routing, "route", spy)
    intake.import_parsed(ParseResult([parsed("P1", [("TS-01", 10, "none")]), parsed("P2", [("TS-01", 30, "none")])]))
    by_order = {ctx["external_id"]: ctx for ctx in seen}
    assert by_order["P1"]["warehouses_with_stock"] == [] and by_order["P1"]["shop_sells_in_transit"] is True
    assert by_order["P1"]["warehouses_with_stock_or_in_transit"] == ["WH1"]  # 2 free + 24 inbound >= 10
    assert by_order["P2"]["warehouses_with_stock_or_in_transit"] == []       # 26 < 30
    # the order-by-order path (a backorder tried again) sees the same
    seen.clear()
    allocation.allocate(Order.get(Order.external_id == "P1"), buying["admin"])
    assert seen[-1]["warehouses_with_stock_or_in_transit"] == ["WH1"] and seen[-1]["shop_sells_in_transit"]
    Shop.update(sell_in_transit=False).execute()
    allocation.allocate(Order.get(Order.external_id == "P1"), buying["admin"])
    assert seen[-1]["shop_sells_in_transit"] is False
    assert rules_view(Order.get(Order.external_id == "P1"), "paid", [])["warehouses_with_stock_or_in_transit"] == []


# --- the PO file ---------------------------------------------------------------------------------

PO_CSV = ("采购单号,供应商编码,仓库,商家编码,数量,采购价,预计到货日期,送货单号,备注\n"
          "PO-A1,SUP-A,WH1,TS-01,48,,2026-12-18,SN-1,首批\n"
          "PO-A1,SUP-A,WH1,MG-01,6,20.00,,,\n"
          "PO-A1,SUP-A,WH1,TS-01,24,,,,\n"          # the same SKU twice
          "PO-A2,SUP-A,WH1,TS-01,30,,,,\n"          # not whole packs
          "PO-A2,SUP-A,WH1,MG-01,abc,,,,\n"         # not a number
          "PO-B1,SUP-B,WH1,MG-01,12,,2026-13-01,,\n"  # bad date
          "PO-B2,SUP-X,WH1,MG-01,12,,,,\n"          # unknown supplier
          "PO-B3,SUP-B,WH9,MG-01,12,,,,\n"          # unknown warehouse
          "PO-B4,SUP-B,WH1,MG-01,12,,,SN-9,\n"
          "PO-B4,SUP-A,WH1,TS-01,24,,,,\n"          # another supplier on the same PO
          "PO-B4,SUP-B,WH1,NOPE,12,,,,\n")          # unknown SKU


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_po_csv_imports_good_rows_and_names_each_bad_one(buying, tmp_path, encoding):
    path = tmp_path / "po.csv"
    path.write_bytes(PO_CSV.encode(encoding))
    report = po_file.import_orders(path, buying["office"])
    problems = [str(p) for p in report.problems]
    assert report.created == 2, problems
    assert [p.split(": ")[0] + ": " + p.split(": ")[1] for p in problems] == [
        "po.csv:4: sku", "po.csv:5: qty", "po.csv:6: qty", "po.csv:7: expected_on", "po.csv:8: supplier",
        "po.csv:9: warehouse", "po.csv:11: supplier", "po.csv:12: sku"]
    assert "already on line 2" in problems[0] and "packs of 12" in problems[1]
    a1 = orders.order_view(orders.get("PO-A1"))
    assert (a1["status"], a1["delivery_note"], a1["note"], a1["total_fen"]) == ("draft", "SN-1", "首批", 48 * 2500 + 2000 * 6)
    assert [(l["sku"], l["qty"], l["expected_on"]) for l in a1["lines"]] == [("TS-01", 48, "2026-12-18"), ("MG-01", 6, None)]
    assert orders.get("SN-9").code == "PO-B4" and len(orders.order_view(orders.get("PO-B4"))["lines"]) == 1
    for ref in ("PO-A2", "PO-B1", "PO-B2", "PO-B3"):  # every row bad: nothing half-imported
        assert not PurchaseOrder.select().where(PurchaseOrder.code == ref).exists()
    again = po_file.import_orders(path, buying["office"], submit=True)
    assert again.created == 0 and again.unchanged == 2 and len(again.problems) == 8


def test_po_csv_in_english_submitted_and_a_broken_header(buying, tmp_path):
    path = tmp_path / "po-en.csv"
    path.write_text("po,supplier,warehouse,sku,qty,unit_cost_fen,expected_on\n"
                    "X-1,SUP-B,WH1,MG-01,10,,2026-12-30\n", encoding="utf-8")
    report = po_file.import_orders(path, buying["office"], submit=True)
    assert (report.created, report.problems) == (1, [])
    assert orders.get("X-1").status == "submitted"
    bad = tmp_path / "bad.csv"
    bad.write_text("po,supplier,sku\nX-2,SUP-B,MG-01\n", encoding="utf-8")
    report = po_file.import_orders(bad, buying["office"])
    assert [str(p) for p in report.problems] == [
        "bad.csv:1: missing column(s) warehouse, qty; the header has po, supplier, sku"]


def test_cli_po_commands(buying, db_url, tmp_path):
    from tests.test_cli import wavefloor
    path = tmp_path / "po.csv"
    path.write_bytes(PO_CSV.encode("gbk"))
    result = wavefloor(db_url, "po", "import", str(path), "--submit", "--json", tmp_path=tmp_path, check=False)
    assert result.returncode == 2 and json.loads(result.stdout)["created"] == 2
    listed = wavefloor(db_url, "po", "list", "--status", "submitted", tmp_path=tmp_path).stdout
    assert "PO-A1" in listed and "PO-B4" in listed and "2 of 2" in listed
    refused = wavefloor(db_url, "po", "approve", "PO-A1", "--user", "u-office", tmp_path=tmp_path, check=False)
    assert refused.returncode == 1 and "may approve up to none" in refused.stderr
    assert wavefloor(db_url, "po", "approve", "PO-A1", "--user", "u-supervisor", tmp_path=tmp_path).stdout.strip() \
        == "PO-A1 approved"
    shown = json.loads(wavefloor(db_url, "po", "show", "SN-1", tmp_path=tmp_path).stdout)
    assert shown["code"] == "PO-A1" and shown["approved_by"] == "u-supervisor"
    limits = wavefloor(db_url, "po", "limits", tmp_path=tmp_path).stdout
    assert "supervisor   ¥20,000.00" in limits and "admin        no limit" in limits
    sup_csv = tmp_path / "sup.csv"
    sup_csv.write_text("supplier,name,phone,sku,unit_cost,moq,pack_size\nSUP-Z,Zhejiang Paper,13700000000,TS-01,3.5,10,5\n")
    assert "created 1" in wavefloor(db_url, "suppliers", "import", str(sup_csv), tmp_path=tmp_path).stdout
    assert "SUP-Z" in wavefloor(db_url, "suppliers", "list", tmp_path=tmp_path).stdout
    shop = json.loads(wavefloor(db_url, "shop", "set", "pre", "--channel", "jd", "--sell-in-transit",
                                tmp_path=tmp_path).stdout)
    assert shop["sell_in_transit"] is True
    upload = wavefloor(db_url, "stock", "sync", "--shop", "pre", tmp_path=tmp_path).stdout.splitlines()
    assert upload[0] == "商家编码,条码,可售库存,预售库存,预计到货日期" and "TS-01,6900000000014,,48,2026-12-18" in upload


def test_demo_goods_load_twice_changes_nothing(db, people):
    from server.models import Product, Warehouse
    from server.services import demo_goods
    Warehouse.create(code="WH-HZ", name="杭州仓")
    auth.add_user("boss", "主管", ["supervisor"])
    for sku in {sku for *_, lines in demo_goods.PURCHASE_ORDERS for sku, _ in lines} | {"JN-11-1"}:
        Product.create(sku=sku, name=sku, cost_fen=4000)
    first = demo_goods.load()
    assert first["purchase_orders"] == {"PO-DEMO-0001": "approved", "PO-DEMO-0002": "approved",
                                        "PO-DEMO-0003": "submitted"}
    assert orders.get("SN-HZTX-20261206").code == "PO-DEMO-0001"
    assert Supplier.get(code="SUP-JDZ").blind_receiving and orders.get("PO-DEMO-0001").approved_by.code == "boss"
    counts = (AuditLog.select().count(), PurchaseOrder.select().count(), SupplierItem.select().count())
    assert demo_goods.load() == first
    assert (AuditLog.select().count(), PurchaseOrder.select().count(), SupplierItem.select().count()) == counts
    assert sum(intransit.by_product().values()) == 60 + 80 + 40 + 30 + 48 + 36 + 24


WORKER = """
from gevent import monkey
monkey.patch_all()
import json, sys, time
import gevent
from server.db import init_database
from server.services.errors import DomainError
from server.services.purchasing import orders
from server.services.stock import inventory

url, user_id, target, start_at = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
init_database(url, pool_size=8)
actor = inventory.Actor(user_id)
out = {"codes": [], "approved": 0, "refused": [], "errors": []}

def create():
    for _ in range(3):
        try:
            out["codes"].append(orders.create("SUP-A", "WH1", [{"sku": "MG-01", "qty": 5}], actor).code)
        except Exception as exc:
            out["errors"].append(f"{type(exc).__name__}: {exc}")

def approve():
    try:
        orders.approve(target, actor)
        out["approved"] += 1
    except DomainError as exc:
        out["refused"].append(exc.code)
    except Exception as exc:
        out["errors"].append(f"{type(exc).__name__}: {exc}")

time.sleep(max(0.0, start_at - time.time()))
gevent.joinall([gevent.spawn(create) for _ in range(4)] + [gevent.spawn(approve) for _ in range(2)])
print(json.dumps(out))
"""


def test_numbering_and_approval_hold_under_concurrent_writers(buying, db, db_url):
    import subprocess
    import sys
    import time
    from tests.test_concurrency import ROOT
    target = _po(buying)
    orders.submit(target.code, buying["office"])
    db.close()
    start_at = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, db_url, str(buying["supervisor"].user_id), target.code,
                               str(start_at)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()[-3000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert [e for r in results for e in r["errors"]] == []
    codes = [c for r in results for c in r["codes"]]
    assert len(codes) == 3 * 4 * 3 == len(set(codes))  # every order numbered, no number twice
    assert PurchaseOrder.select().count() == len(codes) + 1
    assert sum(r["approved"] for r in results) == 1  # six approvers at once: one approval
    assert sorted({c for r in results for c in r["refused"]}) == ["invalid_transition"]
    assert AuditLog.select().where((AuditLog.action == "po.approve") & (AuditLog.target == target.code)).count() == 1
