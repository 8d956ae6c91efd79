"""The demo's goods in: three suppliers with what they sell us from the demo catalogue, and
purchase orders for 杭州仓 WH-HZ: two approved (在途, one with its supplier's delivery note
number for the receiving dock to scan) and one waiting for approval. Loading again changes
nothing: suppliers and items are saved only when they differ, an order only when its code is new.

Receivers log in on a handheld as R001 with the demo PIN (services/demo.py's DEMO_USERS).
"""
from __future__ import annotations

import datetime as dt

from server.channels.values import CHANNEL_TZ
from server.models import Product, PurchaseOrder, User
from server.services.purchasing import approvals, orders, suppliers
from server.services.stock import inventory

#: code, name, contact, phone, lead days, over-receipt %, blind, QC plan, AQL, SKU prefixes, MOQ, pack
SUPPLIERS = [
    ("SUP-HZTX", "杭州天祥服饰有限公司", "沈国华", "13857100001", 7, 5, False, "sample", "1.0",
     ("TS", "HD", "JN", "SK"), 20, 10),
    ("SUP-JDZ", "景德镇青瓷日用瓷厂", "余春梅", "13979800002", 10, 0, True, "full", "1.0", ("MG", "TB"), 24, 12),
    ("SUP-YWPJ", "义乌市优品数码配件行", "骆建军", "13957900003", 3, 10, False, "none", "1.0",
     ("PH", "CB", "LP", "FM"), 50, 50),
]
#: code, supplier, status, delivery note, [(SKU, qty)]
PURCHASE_ORDERS = [
    ("PO-DEMO-0001", "SUP-HZTX", "approved", "SN-HZTX-20261206",
     [("TS-11-1", 60), ("TS-12-1", 80), ("TS-21-1", 40), ("HD-11-1", 30)]),
    ("PO-DEMO-0002", "SUP-JDZ", "approved", "", [("MG-11-1", 48), ("MG-21-1", 36), ("TB-11-1", 24)]),
    ("PO-DEMO-0003", "SUP-YWPJ", "submitted", "", [("PH-11-1", 200), ("CB-11-1", 150)]),
]
WAREHOUSE = "WH-HZ"


def _items(prefixes, moq: int, pack: int) -> dict[str, dict]:
    found = {}
    for product in Product.select().order_by(Product.sku):
        if product.sku.split("-", 1)[0] in prefixes:
            found[product.sku] = {"unit_cost_fen": product.cost_fen, "moq": moq, "pack_size": pack}
    return found


def load() -> dict:
    actor = inventory.system_actor()
    approvals.limits()
    items = 0
    for code, name, contact, phone, lead, over, blind, plan, aql, prefixes, moq, pack in SUPPLIERS:
        suppliers.save_supplier(code, {"name": name, "contact_name": contact, "contact_phone": phone,
                                       "lead_time_days": lead, "over_receipt_pct": over, "blind_receiving": blind,
                                       "qc_plan": plan, "aql": aql}, actor)
        for sku, values in _items(prefixes, moq, pack).items():
            suppliers.save_item(code, sku, values, actor)
            items += 1
    boss = User.get_or_none(User.code == "boss")
    approver = inventory.Actor(boss.id) if boss else actor
    today = dt.datetime.now(CHANNEL_TZ).date()
    for code, supplier_code, status, note, lines in PURCHASE_ORDERS:
        if PurchaseOrder.select().where(PurchaseOrder.code == code).exists():
            continue
        lead = suppliers.supplier(supplier_code).lead_time_days
        orders.create(supplier_code, WAREHOUSE, [{"sku": sku, "qty": qty} for sku, qty in lines], actor,
                      expected_on=today + dt.timedelta(days=lead), delivery_note=note, code=code,
                      note="演示采购单 demo purchase order")
        orders.submit(code, actor)
        if status == "approved":
            orders.approve(code, approver)
    return {"suppliers": len(SUPPLIERS), "supplier_items": items,
            "purchase_orders": {code: PurchaseOrder.get(PurchaseOrder.code == code).status
                                for code, *_ in PURCHASE_ORDERS}}
