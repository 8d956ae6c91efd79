"""Money per order line, unit cost and margin on a real database (SQLite and PostgreSQL): the
line_money rows, the moving average taken in the receipt's transaction, COGS fixed at the
scan-out, refunds reversed, margins equal to straight SQL sums, stock value from the ledger."""
from __future__ import annotations

import datetime as dt

import pytest

from server.db import sql, write_transaction
from server.models import (CostChange, LineMoney, Location, Order, OrderLine, Package, Product, PurchaseOrderLine,
                           Refund, UnitCost)
from server.services.money import costing, margin, rates
from server.services.money import lines as line_money
from server.services.stock import inventory
from tests.receiving_floor import goods_in

PAID_AT = dt.datetime(2026, 11, 10, 16, 30)     # 00:30 on 11 November in China
DAY = dt.date(2026, 11, 11)


def tmall_order(external_id: str, products, *, paid_fen: int, freight_fen: int = 0, coupon_fen: int = 0,
                points_fen: int = 0, warehouse=None, status: str = "approved", shop: str = "tm1",
                paid_at=PAID_AT) -> Order:
    """A Tmall order: ``products`` is [(product, qty, unit price fen)]."""
    order = Order.create(channel="tmall", shop=shop, external_id=external_id, status=status, paid_at=paid_at,
                         paid_fen=paid_fen, freight_fen=freight_fen, coupon_fen=coupon_fen, discount_fen=points_fen,
                         goods_fen=sum(q * p for _, q, p in products), receiver_province="浙江省",
                         warehouse=warehouse, carrier="yto")
    for n, (product, qty, price) in enumerate(products, 1):
        OrderLine.create(order=order, external_line_id=f"{external_id}-{n}", sku_code=product.sku, product=product,
                         qty=qty, price_fen=price)
    return order


@pytest.fixture
def shop(small_warehouse):
    """Categories and VAT on the two products, Tmall's rates: 5 % on clothes, 2 % on the rest,
    payment 0.6 %; a carrier price list."""
    tee, mug = small_warehouse["tee"], small_warehouse["mug"]
    Product.update(category="服装", vat_rate_bp=1300, cost_fen=2000).where(Product.id == tee.id).execute()
    Product.update(category="家居", vat_rate_bp=900, cost_fen=1000).where(Product.id == mug.id).execute()
    rates.set_fee_rate("commission", 200, shop="tm1")
    rates.set_fee_rate("commission", 500, shop="tm1", category="服装")
    rates.set_fee_rate("payment", 60, shop="tm1", refundable=False)
    rates.set_freight_rate(carrier="yto", first_g=1000, first_fen=500, step_g=1000, step_fen=200)
    return dict(small_warehouse, tee=Product.get_by_id(tee.id), mug=Product.get_by_id(mug.id))


def money_of(order: Order) -> list[LineMoney]:
    return list(LineMoney.select().where(LineMoney.order == order.id).order_by(LineMoney.line))


def test_each_line_gets_its_money_and_the_lines_sum_to_the_order(shop):
    tee, mug = shop["tee"], shop["mug"]
    # list 2 × 59.00 + 39.00 = 157.00; the shop took 10.00 off (满减), 天猫卡券 5.00 and 集分宝 1.00:
    # the buyer paid 141.00 for the goods and 8.00 postage
    order = tmall_order("T1", [(tee, 2, 5900), (mug, 1, 3900)], paid_fen=14900, freight_fen=800,
                        coupon_fen=500, points_fen=100)
    assert line_money.refresh_days(DAY) == {"first": "2026-11-11", "last": "2026-11-11", "orders": 1, "lines": 2}
    t, m = money_of(order)
    assert (t.day, t.shop, t.channel, t.province, t.sku_code, t.category) == (DAY, "tm1", "tmall", "浙江省", "TS-01", "服装")
    assert (t.price_fen, m.price_fen) == (11800, 3900)
    assert t.merchant_discount_fen + m.merchant_discount_fen == 1000
    assert t.platform_subsidy_fen + m.platform_subsidy_fen == 600
    assert t.paid_fen + m.paid_fen == 14100
    # 分摊 by list price, largest remainder: 1000 × 118/157 = 751.59 -> 752, 248.41 -> 248
    assert (t.merchant_discount_fen, m.merchant_discount_fen) == (752, 248)
    assert (t.platform_subsidy_fen, m.platform_subsidy_fen) == (451, 149)
    assert t.freight_charged_fen + m.freight_charged_fen == 800
    # commission: 5 % of (paid + subsidy) on clothes, 2 % on the mug, rounded once for the order
    exact = (t.paid_fen + t.platform_subsidy_fen) * 500 + (m.paid_fen + m.platform_subsidy_fen) * 200
    assert t.commission_fen + m.commission_fen == round(exact / 10000)
    assert t.payment_fee_fen + m.payment_fee_fen == round(14900 * 0.006)
    # VAT inside the revenue (paid + the platform's subsidy): 13 % and 9 %
    assert t.tax_fen == round((t.paid_fen + t.platform_subsidy_fen) * 1300 / 11300)
    assert m.tax_fen == round((m.paid_fen + m.platform_subsidy_fen) * 900 / 10900)
    assert t.revenue_fen == t.paid_fen + t.platform_subsidy_fen
    assert (t.cogs_fen, t.margin_fen, t.shipped_at, t.freight_paid_fen) == (None, None, None, 0)
    # an order closed before it was paid is no sale, and one cancelled since loses its rows
    unpaid = tmall_order("T1-unpaid", [(tee, 1, 5900)], paid_fen=0, paid_at=None, status="new")
    Order.update(created_at=PAID_AT).where(Order.id == unpaid.id).execute()
    Order.update(status="cancelled").where(Order.id == order.id).execute()
    assert line_money.refresh_days(DAY)["lines"] == 0
    assert money_of(order) == [] and money_of(unpaid) == []


def test_a_bills_charge_replaces_the_estimate_and_the_most_specific_rate_wins(shop):
    tee, mug = shop["tee"], shop["mug"]
    order = tmall_order("T2", [(tee, 1, 5900), (mug, 1, 3900)], paid_fen=9800)
    line_money.refresh_orders([order.id])
    assert sum(r.platform_subsidy_fen for r in money_of(order)) == 0
    line_money.add_charge(order.id, "platform_subsidy", 300, payer="platform", name="天猫红包")
    line_money.add_charge(order.id, "merchant_discount", 200, payer="merchant", name="店铺优惠券")
    line_money.add_charge(order.id, "commission", 333, source="bill:2026-11")
    rows = money_of(order)
    assert sum(r.platform_subsidy_fen for r in rows) == 300
    assert sum(r.merchant_discount_fen for r in rows) == 200
    assert sum(r.paid_fen for r in rows) == 9800 - 500
    assert sum(r.commission_fen for r in rows) == 333
    assert [c["name"] for c in line_money.charges_of(order.id)] == ["天猫红包", "店铺优惠券", ""]
    assert line_money.clear_charges(order.id, "commission") == 1
    assert sum(r.commission_fen for r in money_of(order)) != 333
    with pytest.raises(line_money.BadCharge):
        line_money.add_charge(order.id, "tip", 1)

    # the most specific fee rate wins
    table = rates.FeeTable()
    assert table.find("commission", "tm1", "服装").rate_bp == 500
    assert table.find("commission", "tm1", "玩具").rate_bp == 200
    assert table.find("commission", "jd1", "服装").rate_bp == 0
    rates.set_fee_rate("commission", 800, category="服装")
    assert rates.FeeTable().find("commission", "jd1", "服装").rate_bp == 800
    rates.set_fee_rate("commission", 450, shop="tm1", category="服装")     # the same row, changed
    assert [r["rate_bp"] for r in rates.fee_rates() if r["shop"] == "tm1" and r["category"] == "服装"] == [450]
    with pytest.raises(rates.BadRate):
        rates.set_fee_rate("commission", 10001)
    with pytest.raises(rates.BadRate):
        rates.set_fee_rate("payment", 60, category="服装")
    assert rates.FreightTable().charge("yto", "浙江省", 2500) == 500 + 2 * 200


def receive(floor, people, product, qty):
    from server.services.receiving import receipts
    actor = inventory.Actor(people["receiver"].id)
    held = receipts.open_receipt("PO-001", actor)
    receipts.receive(held, product.id, qty, actor)
    return held


def test_the_moving_average_moves_in_the_receipts_own_transaction(shop, people, monkeypatch):
    floor = goods_in(shop, tee_qty=40)
    tee, wh = floor["tee"], floor["warehouse"]
    inventory.receive(tee, floor["locations"]["A-01"], 10, actor=inventory.system_actor())  # 10 on hand at 20.00
    PurchaseOrderLine.update(unit_cost_fen=2600).where(PurchaseOrderLine.product == tee.id).execute()
    costing.set_inbound_freight(floor["po"].id, 1100)   # split by value: tees 40 × 26.00, mugs 10 × 15.00
    assert costing.freight_per_line(floor["po"].id) == {
        PurchaseOrderLine.get(product=tee).id: 961, PurchaseOrderLine.get(product=floor["mug"]).id: 139}
    receive(floor, people, tee, 20)
    # 20 × 26.00 + 961 × 20/40 (480.5 -> 481) = 52481; (10 × 20.00 + 524.81) / 30 = 24.1603 -> 2416
    assert costing.unit_cost(tee, wh) == 2416
    change = CostChange.get()
    assert (change.qty_before, change.cost_before_fen, change.qty_in, change.value_in_fen, change.unit_cost_fen) == \
        (10, 2000, 20, 52481, 2416)
    assert change.ref.startswith("receipt:")

    def broken(*args, **kwargs):
        raise RuntimeError("the ledger is down")
    monkeypatch.setattr(inventory, "receive", broken)
    with pytest.raises(RuntimeError):
        receive(floor, people, tee, 5)
    assert costing.unit_cost(tee, wh) == 2416 and CostChange.select().count() == 1   # undone with the receipt


def test_two_receipts_of_one_sku_at_once_both_count(shop, monkeypatch):
    """Each transaction locks the SKU's cost row before it reads the stock: on PostgreSQL the
    second waits for the first and starts from its cost, so the result is the sequential one."""
    import threading
    import time
    from server.db import write_transaction as writing
    from server.models import PurchaseOrder, Supplier
    tee, wh, dock = shop["tee"], shop["warehouse"], shop["locations"]["R-01"]
    supplier = Supplier.create(code="S1", name="供应商")
    lines = [PurchaseOrderLine.create(po=PurchaseOrder.create(code=f"PO-{n}", supplier=supplier, warehouse=wh,
                                                              status="approved"),
                                      product=tee, qty=10, unit_cost_fen=cost).id for n, cost in ((1, 1000), (2, 2000))]
    costing.set_unit_cost(tee.id, wh.id, 2000)   # the row exists: only its lock orders the two
    counted = costing.on_hand

    def slow_count(*args):                       # each holds its count a while: they would overlap
        held = counted(*args)
        time.sleep(0.3)
        return held
    monkeypatch.setattr(costing, "on_hand", slow_count)
    start, failures = threading.Barrier(2), []

    def receipt(line_id):
        try:
            start.wait()
            with writing():
                costing.received(tee.id, wh.id, 10, line_id, ref=f"line:{line_id}")
                inventory.receive(tee, dock, 10, actor=inventory.system_actor(), state="qc_pending")
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)
    threads = [threading.Thread(target=receipt, args=(line_id,)) for line_id in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert costing.unit_cost(tee, wh) == (10 * 1000 + 10 * 2000) // 20
    assert sorted(c.qty_before for c in CostChange.select().where(CostChange.reason == "receipt")) == [0, 10]


def ship(order: Order, pack: Location):
    """Puts the order's units on the pack bench and scans its labelled parcel out."""
    from server.services.packages import shipping
    actor = inventory.system_actor()
    for line in order.lines:
        inventory.receive(line.product, pack, line.qty, actor=actor)
    Order.update(status="packed").where(Order.id == order.id).execute()
    parcel = Package.create(order=order, state="labelled", carrier="yto", tracking=f"YT{order.id:08d}", weight_g=2300)
    order = Order.get_by_id(order.id)
    with write_transaction():
        shipping.scan_out(order, parcel, shipping.units_plan(order), actor)


def test_cogs_is_fixed_at_shipment_a_later_cost_does_not_change_it_and_refunds_reverse(shop):
    tee, mug, wh = shop["tee"], shop["mug"], shop["warehouse"]
    pack = Location.create(warehouse=wh, code="PK-1", kind="pack")
    costing.set_unit_cost(tee.id, wh.id, 2100)
    order = tmall_order("T3", [(tee, 2, 5900), (mug, 1, 3900)], paid_fen=15700 + 800, freight_fen=800, warehouse=wh)
    line_money.refresh_orders([order.id])
    ship(order, pack)
    t, m = money_of(order)
    assert (t.unit_cost_fen, t.cogs_fen, m.unit_cost_fen, m.cogs_fen) == (2100, 4200, 1000, 1000)
    assert t.shipped_at is not None and t.warehouse_id == wh.id
    # the carrier's charge from the price list: 2.3 kg = 5.00 + 2 × 2.00, split by the lines' weight
    assert (t.freight_paid_fen + m.freight_paid_fen) == 900
    assert t.freight_paid_fen == round(900 * 360 / 740)
    # the postage's VAT: 8.00 at the rate of the order's largest line (the tees, 13 %; the mug is 9 %),
    # 92 fen, split as the postage is (6.01 and 1.99)
    assert (t.freight_charged_fen, m.freight_charged_fen) == (601, 199)
    assert (t.freight_tax_fen, m.freight_tax_fen) == (69, 23) and 69 + 23 == round(800 * 13 / 113)
    for row in (t, m):
        assert row.margin_fen == (row.revenue_fen - row.tax_fen - row.cogs_fen - row.commission_fen
                                  - row.payment_fee_fen - row.freight_paid_fen
                                  + row.freight_charged_fen - row.freight_tax_fen)
    costing.set_unit_cost(tee.id, wh.id, 9900)
    line_money.refresh_days(DAY)
    assert money_of(order)[0].cogs_fen == 4200 and money_of(order)[0].unit_cost_fen == 2100

    # a refund from the channel reverses its line: half, then all of it (the cost stays fixed)
    from server.services.returns import refunds
    before = money_of(order)
    tee_line = OrderLine.get((OrderLine.order == order.id) & (OrderLine.sku_code == "TS-01"))
    half = before[0].paid_fen // 2
    refund = Refund.create(channel="tmall", shop="tm1", refund_id="R1", order_external_id="T3", order=order,
                           line=tee_line, refund_fen=half, state="success")
    refunds.summarise_line(tee_line.id)
    t, m = money_of(order)
    assert t.refund_fen == half and m.refund_fen == 0 and m.revenue_fen == before[1].revenue_fen
    assert t.refund_subsidy_fen == round(before[0].platform_subsidy_fen * half / before[0].paid_fen)
    assert t.refund_commission_fen == round(before[0].commission_fen * half / before[0].paid_fen)
    assert t.refund_payment_fee_fen == 0   # the payment fee rate says it is not given back
    assert t.margin_fen < before[0].margin_fen and t.cogs_fen == 4200
    Refund.update(refund_fen=before[0].paid_fen).where(Refund.id == refund.id).execute()
    refunds.summarise_line(tee_line.id)
    t = money_of(order)[0]
    assert (t.refund_fen, t.refund_subsidy_fen, t.refund_commission_fen, t.refund_tax_fen, t.revenue_fen) == \
        (t.paid_fen, t.platform_subsidy_fen, t.commission_fen, t.tax_fen, 0)
    assert t.margin_fen == (-t.cogs_fen - t.payment_fee_fen - t.freight_paid_fen
                            + t.freight_charged_fen - t.freight_tax_fen)


def test_units_back_in_stock_from_the_returns_bench_reverse_their_cost_of_goods_sold(shop):
    from server.models import ReturnParcel
    from server.services.returns import bench
    tee, mug, wh = shop["tee"], shop["mug"], shop["warehouse"]
    pack = Location.create(warehouse=wh, code="PK-1", kind="pack")
    costing.set_unit_cost(tee.id, wh.id, 2100)
    order = tmall_order("T4", [(tee, 2, 5900), (mug, 1, 3900)], paid_fen=15700, warehouse=wh)
    ship(order, pack)
    shipped = money_of(order)[0]
    assert (shipped.cogs_fen, shipped.returned_cogs_fen) == (4200, 0)
    parcel = ReturnParcel.create(code="RP-T4", warehouse=wh, order=order)
    bench.receive_unit(parcel, tee.id, "restock", actor=inventory.system_actor())
    back = money_of(order)[0]
    assert (back.cogs_fen, back.returned_cogs_fen) == (4200, 2100)   # the cost stays fixed; half of it came back
    assert back.margin_fen == shipped.margin_fen + 2100
    bench.receive_unit(parcel, tee.id, "damaged", actor=inventory.system_actor())
    assert money_of(order)[0].returned_cogs_fen == 4200   # damaged units are stock too, written off apart
    assert money_of(order)[1].returned_cogs_fen == 0


def test_a_returned_unit_reenters_the_moving_average_at_its_shipment_cost(shop):
    """Its COGS is reversed at the cost fixed at shipment; the stock takes it back at that same
    cost, not at the average of the day it came back. Scrapped units leave again: no cost."""
    from server.models import ReturnParcel
    from server.services.money.split import half_up
    from server.services.returns import bench
    tee, wh = shop["tee"], shop["warehouse"]
    actor = inventory.system_actor()
    pack = Location.create(warehouse=wh, code="PK-1", kind="pack")
    costing.set_unit_cost(tee.id, wh.id, 2100)
    order = tmall_order("T5", [(tee, 2, 5900)], paid_fen=11800, warehouse=wh)
    ship(order, pack)
    inventory.receive(tee, shop["locations"]["A-01"], 4, actor=actor)
    costing.set_unit_cost(tee.id, wh.id, 3000)     # dearer since the shipment
    parcel = ReturnParcel.create(code="RP-T5", warehouse=wh, order=order)
    bench.receive_unit(parcel, tee.id, "restock", actor=actor)
    assert money_of(order)[0].returned_cogs_fen == 2100
    change = CostChange.get(CostChange.reason == "return")
    assert (change.qty_before, change.cost_before_fen, change.qty_in, change.value_in_fen) == (4, 3000, 1, 2100)
    assert change.ref == "return:RP-T5"
    assert costing.unit_cost(tee, wh) == half_up(4 * 3000 + 1 * 2100, 5) == 2820
    # what the stock holds now is what it held plus exactly what the margin took back
    assert costing.on_hand(tee.id, wh.id) == 5
    bench.receive_unit(parcel, tee.id, "scrap", actor=actor)
    assert costing.unit_cost(tee, wh) == 2820 and CostChange.select().where(CostChange.reason == "return").count() == 1
    assert costing.on_hand(tee.id, wh.id) == 5


def straight_sums(where: str = "", *params) -> dict:
    """The same figures summed straight from the orders (order_line x order), no line_money."""
    return dict(zip(("qty", "price"), sql(
        f"SELECT COALESCE(SUM(l.qty), 0), COALESCE(SUM(l.qty * l.price_fen), 0) FROM order_line l "
        f'JOIN "order" o ON o.id = l.order_id {where}', *params).fetchone()))


def test_margins_by_each_group_equal_straight_sums(shop):
    tee, mug, wh = shop["tee"], shop["mug"], shop["warehouse"]
    pack = Location.create(warehouse=wh, code="PK-1", kind="pack")
    orders = [tmall_order(f"M{n}", [(tee, 1 + n % 3, 5900), (mug, 1, 3900)], paid_fen=9000 + 5900 * (n % 3) + n,
                          coupon_fen=100 * n, warehouse=wh, shop="tm1" if n % 2 else "tm2",
                          paid_at=PAID_AT + dt.timedelta(days=n % 2)) for n in range(6)]
    line_money.refresh_days(DAY, DAY + dt.timedelta(days=1))
    for order in orders[:4]:
        ship(order, pack)
    by_sku = {row["sku"]: row for row in margin.margin_by("sku")}
    assert by_sku["TS-01"]["qty"] == straight_sums("WHERE l.sku_code = ?", "TS-01")["qty"]
    assert by_sku["TS-01"]["price_fen"] == straight_sums("WHERE l.sku_code = ?", "TS-01")["price"]
    everything = margin.totals()
    assert everything["lines"] == 12 and everything["shipped_lines"] == 8
    assert everything["paid_fen"] == sum(o.paid_fen for o in orders)
    shipped_margin = sum(r.margin_fen for r in LineMoney.select().where(LineMoney.cogs_fen.is_null(False)))
    for group in margin.GROUPS:
        rows = margin.margin_by(group)
        assert sum(r["margin_fen"] for r in rows) == shipped_margin == everything["margin_fen"], group
        assert sum(r["revenue_fen"] for r in rows) == everything["revenue_fen"], group
    by_day = margin.margin_by("day")
    assert [r["day"] for r in by_day] == [DAY, DAY + dt.timedelta(days=1)] and [r["lines"] for r in by_day] == [6, 6]
    by_shop = {r["shop"]: r for r in margin.margin_by("shop", {"first": DAY, "last": DAY})}
    assert set(by_shop) == {"tm2"}
    assert by_shop["tm2"]["margin_bp"] == round(by_shop["tm2"]["margin_fen"] * 10000
                                                / by_shop["tm2"]["shipped_revenue_fen"])
    one = margin.margin_by("order", {"order": orders[0].id})
    assert len(one) == 1 and one[0]["external_id"] == "M0" and one[0]["lines"] == 2
    assert len(margin.margin_by("line", {"shipped": True})) == 8
    with pytest.raises(margin.BadGroup):
        margin.margin_by("colour")


def test_stock_value_at_a_date_comes_from_the_ledger(shop):
    tee, mug, wh = shop["tee"], shop["mug"], shop["warehouse"]
    a01 = shop["locations"]["A-01"]
    actor = inventory.system_actor()
    day1, day2 = dt.datetime(2026, 11, 1, 4), dt.datetime(2026, 11, 2, 4)   # noon in China

    def at(moment, work):
        work()
        sql("UPDATE stock_move SET at = ? WHERE at > ?", moment, moment)
        sql("UPDATE cost_change SET at = ? WHERE at > ?", moment, moment)
    at(day1, lambda: (inventory.receive(tee, a01, 10, actor=actor), costing.set_unit_cost(tee.id, wh.id, 2000),
                      inventory.receive(mug, a01, 4, actor=actor)))
    at(day2, lambda: (costing.set_unit_cost(tee.id, wh.id, 2600), inventory.issue(tee, a01, 3, actor=actor)))
    assert costing.stock_value(dt.date(2026, 10, 31)) == 0
    assert costing.stock_value(dt.date(2026, 11, 1)) == 10 * 2000 + 4 * 1000   # the mug at its catalogue cost
    assert costing.stock_value(dt.date(2026, 11, 2), wh) == 7 * 2600 + 4 * 1000
    rows = costing.stock_values(dt.date(2026, 11, 2))
    assert [(r["sku"], r["qty"], r["unit_cost_fen"]) for r in rows] == [("MG-01", 4, 1000), ("TS-01", 7, 2600)]
    # the ledger's own answer for today: the quants
    held = sum(q.qty for q in inventory.quants(product=tee, warehouse=wh))
    assert costing.quantities_at(dt.datetime(2030, 1, 1))[(tee.id, wh.id)] == held == 7


def test_the_interface_columns_other_modules_read():
    names = {f.column_name for f in LineMoney._meta.sorted_fields}
    assert {"line_id", "order_id", "shop", "channel", "day", "province", "sku_code", "product_id", "qty", "price_fen",
            "paid_fen", "merchant_discount_fen", "platform_subsidy_fen", "commission_fen", "payment_fee_fen",
            "freight_charged_fen", "freight_tax_fen", "freight_paid_fen", "vat_rate_bp", "tax_fen", "refund_fen",
            "cogs_fen",
            "shipped_at", "margin_fen"} <= names
    assert UnitCost._meta.table_name == "unit_cost" and LineMoney._meta.table_name == "line_money"
