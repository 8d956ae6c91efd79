"""The reports' figures equal the same sums computed straight from the order, refund, package,
ledger and line-money tables with plain SQL written here (independent of the report code), on
both engines; the daily aggregate stays exact through changes; the filters narrow every report.

The data (fixture ``shop_data``): 3 shops on 2 channels, orders paid over November 2026 and the
same weeks of 2025 (for last year's line) to 5 provinces, one paid at 01:30 Beijing time (the
previous day in UTC), a cancelled order, refunds with reasons, parcels with tracking events,
pick and ship ledger lines by two people, and line money with margins for the shipped lines.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest

from server.db import is_sqlite, sql
from tests.conftest import ENGINES, reset_pg

UTC_DAY = dt.timedelta(days=1)
ZONE = "Asia/Shanghai"
SINCE, UNTIL = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
SHOPS = (("tm-1", "tmall"), ("tm-2", "tmall"), ("jd-1", "jd"))
PROVINCES = ("浙江省", "上海市", "广东省", "北京市", "四川省")
REASONS = ("尺码不合适", "质量问题", "七天无理由")


def bj_midnight_utc(day: dt.date) -> dt.datetime:
    """Midnight of a Beijing day, as naive UTC (UTC+8, no summer time)."""
    return dt.datetime.combine(day, dt.time()) - dt.timedelta(hours=8)


def bounds(since=SINCE, until=UNTIL):
    return bj_midnight_utc(since), bj_midnight_utc(until + UTC_DAY)


@pytest.fixture(scope="module", params=ENGINES)
def shop_data(request, tmp_path_factory):
    """One database per engine for the whole module (the reports only read it; the test that
    changes orders runs last)."""
    from server.db import database, init_database
    from server.schema import create_all
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('reports')}/wavefloor.db"
    else:
        url = request.getfixturevalue("pg_database")
        if database.obj is not None:
            database.obj.close_all()
        reset_pg(url)
    init_database(url)
    create_all()
    with database.atomic():
        data = _make(rng=random.Random(28))
    yield data
    database.obj.close_all()


def _make(rng):
    from server.models import (LineMoney, Location, Order, OrderLine, Package, PickLine, PickTask, Product, Refund,
                               StockMove, TrackingEvent, User, Wave, Warehouse)
    wh = Warehouse.create(code="WH1", name="一号仓")
    pick = Location.create(warehouse=wh, code="A-01", kind="pick")
    tote = Location.create(warehouse=wh, code="T-01", kind="tote")
    sink = Location.create(warehouse=wh, code="WH1-SHIPPED", kind="shipped")
    pickers = [User.create(code=f"p{i}", name=f"拣货员{i}") for i in (1, 2)]
    packer = User.create(code="k1", name="打包员1")
    products = [Product.create(sku=f"SKU-{i:02d}", name=f"商品{i}", price_fen=1000 * (i + 1)) for i in range(8)]
    for product in products:  # opening stock, received before the period
        StockMove.create(product=product, qty=500, to_location=pick, to_state="available", reason="receive",
                         at=dt.datetime(2026, 10, 1, 2))
    wave = Wave.create(code="W1", warehouse=wh, strategy="cluster")
    task = PickTask.create(wave=wave, code="PT1")
    orders = []
    serial = 0
    for year_back in (0, 364):
        for n in range(90 if year_back == 0 else 40):
            serial += 1
            shop, channel = SHOPS[n % 3]
            day = SINCE + dt.timedelta(days=rng.randrange(30)) - dt.timedelta(days=year_back)
            paid = bj_midnight_utc(day) + dt.timedelta(hours=rng.choice((1.5, 9, 13.25, 20, 23.9)))
            status = "cancelled" if n == 7 else ("shipped" if n % 4 else "allocated")
            order = Order.create(channel=channel, shop=shop, external_id=f"E{serial}", status=status,
                                 receiver_province=PROVINCES[n % 5], paid_at=paid, carrier="SF" if n % 2 else "ZTO",
                                 updated_at=dt.datetime(2026, 12, 1))
            orders.append(order)
            for k in range(1 + n % 3):
                product = products[(n + k * 3) % 8]
                qty = 1 + (n + k) % 4
                line = OrderLine.create(order=order, external_line_id=f"L{k}", sku_code=product.sku, product=product,
                                        qty=qty, price_fen=product.price_fen * qty,
                                        paid_fen=product.price_fen * qty - 100 * k, returned_qty=1 if n % 9 == 0 else 0)
                if n % 6 == 0:
                    if n % 12 == 0:  # paid back: the line's refund_fen says so (returns/refunds.py)
                        sql("UPDATE order_line SET refund_fen = ? WHERE id = ?", product.price_fen, line.id)
                    Refund.create(channel=channel, shop=shop, refund_id=f"R{serial}-{k}", order_external_id=order.external_id,
                                  order=order, line=line, sku_code=product.sku, qty=1, refund_fen=product.price_fen,
                                  state="success" if n % 12 == 0 else ("agreed" if n % 4 else "refused"),
                                  reason=REASONS[(n // 6 + k) % 3], imported_at=dt.datetime(2026, 12, 1))
                shipped = order.status == "shipped"
                LineMoney.create(line=line, order=order, shop=shop, channel=channel, day=day,
                                 province=order.receiver_province, sku_code=product.sku, product=product, qty=qty,
                                 price_fen=line.price_fen, paid_fen=line.paid_fen, commission_fen=line.paid_fen // 20,
                                 payment_fee_fen=line.paid_fen // 100, freight_paid_fen=300, freight_charged_fen=0,
                                 revenue_fen=line.paid_fen, cogs_fen=qty * 400 if shipped else None,
                                 margin_fen=(line.paid_fen - qty * 400 - line.paid_fen // 20 - line.paid_fen // 100 - 300)
                                 if shipped else None)
                if year_back == 0 and order.status in ("shipped", "allocated"):
                    pl = PickLine.create(task=task, seq=serial * 10 + k, order=order, order_line=line, product=product,
                                         location=pick, qty=qty)
                    StockMove.create(product=product, qty=qty, from_location=pick, from_state="available",
                                     to_location=tote, to_state="available", reason="pick", ref=f"pick:{pl.id}",
                                     user=pickers[n % 2], at=paid + dt.timedelta(hours=2, minutes=k))
                    if shipped:
                        StockMove.create(product=product, qty=qty, from_location=tote, from_state="available",
                                         to_location=sink, to_state="available", reason="ship",
                                         ref=f"ship:{order.id}", user=packer, at=paid + dt.timedelta(hours=5))
            if order.status == "shipped":
                shipped_at = paid + dt.timedelta(hours=5 + n % 40)
                delivered = shipped_at + dt.timedelta(hours=30 + n % 50) if n % 7 != 3 else None
                parcel = Package.create(order=order, state="shipped", carrier="" if n % 7 == 0 else order.carrier,
                                        tracking=f"T{serial}", shipped_at=shipped_at, delivered_at=delivered)
                if delivered:
                    TrackingEvent.create(package=parcel, at=shipped_at + dt.timedelta(hours=2), status="collected")
                    TrackingEvent.create(package=parcel, at=delivered, status="delivered")
    return {"orders": orders, "products": products}


def filters(**kw):
    from server.services.reports import filters as flt
    known = [p for (p,) in sql('SELECT DISTINCT receiver_province FROM "order"').fetchall()]
    return flt.make(kw.pop("since", SINCE), kw.pop("until", UNTIL), zone=ZONE, known_provinces=known, **kw)


def raw_days(since, until, extra="", params=()):
    """Orders, lines, units, revenue and refunds of each Beijing day, one plain query a day."""
    out = {}
    day = since
    while day <= until:
        start, end = bounds(day, day)
        row = sql('SELECT COUNT(DISTINCT o.id), COUNT(l.id), COALESCE(SUM(l.qty), 0), COALESCE(SUM(l.paid_fen), 0), '
                  'COALESCE(SUM(l.refund_fen), 0) FROM "order" o JOIN order_line l ON l.order_id = o.id '
                  "WHERE o.status <> 'cancelled' AND o.paid_at >= ? AND o.paid_at < ?" + extra,
                  start, end, *params).fetchone()
        out[day] = tuple(int(v) for v in row)
        day += UTC_DAY
    return out


CASES = [({}, "", ()), ({"shop": "tm-2"}, " AND o.shop = ?", ("tm-2",)),
         ({"channel": "jd"}, " AND o.channel = ?", ("jd",)),
         ({"province": "广东省"}, " AND o.receiver_province = ?", ("广东省",)),
         ({"region": "east"}, " AND o.receiver_province IN (?, ?)", ("上海市", "浙江省"))]


@pytest.mark.parametrize("asked,extra,params", CASES)
def test_sales_trend_by_day_equals_the_lines_with_last_years_line(shop_data, asked, extra, params):
    from server.services.reports import facts, sales
    facts.refresh(ZONE)
    result = sales.trend(filters(**asked), "day")
    this = raw_days(SINCE, UNTIL, extra, params)
    back = raw_days(SINCE - dt.timedelta(days=364), UNTIL - dt.timedelta(days=364), extra, params)
    assert [r["period"] for r in result["rows"]] == [d.isoformat() for d in this]
    for row in result["rows"]:
        day = dt.date.fromisoformat(row["period"])
        assert (row["orders"], row["lines"], row["units"], row["revenue_fen"], row["refund_fen"]) == this[day]
        assert row["last_year_revenue_fen"] == back[day - dt.timedelta(days=364)][3]
        assert row["last_year_orders"] == back[day - dt.timedelta(days=364)][0]
    assert result["totals"]["revenue_fen"] == sum(v[3] for v in this.values()) > 0


def test_sales_trend_by_week_and_month_sums_the_days(shop_data):
    from server.services.reports import facts, sales
    facts.refresh(ZONE)
    this = raw_days(SINCE, UNTIL)
    weeks = sales.trend(filters(), "week")
    for row in weeks["rows"]:
        monday = dt.date.fromisoformat(row["period"])
        assert monday.weekday() == 0
        assert row["revenue_fen"] == sum(v[3] for d, v in this.items() if monday <= d < monday + dt.timedelta(days=7))
    months = sales.trend(filters(), "month")
    assert [r["period"] for r in months["rows"]] == ["2026-11-01"]
    start, end = bounds(dt.date(2025, 11, 1), dt.date(2025, 11, 30))
    last = sql('SELECT SUM(l.paid_fen) FROM "order" o JOIN order_line l ON l.order_id = o.id '
               "WHERE o.status <> 'cancelled' AND o.paid_at >= ? AND o.paid_at < ?", start, end).fetchone()[0]
    assert months["rows"][0]["revenue_fen"] == sum(v[3] for v in this.values())
    assert months["rows"][0]["last_year_revenue_fen"] == int(last)


def test_sku_ranking_units_revenue_margin_and_abc(shop_data):
    from server.services.reports import skus
    start, end = bounds()
    result = skus.ranking(filters(), "revenue")
    raw = {sku: (int(u), int(r)) for sku, u, r in sql(
        'SELECT l.sku_code, SUM(l.qty), SUM(l.paid_fen) FROM order_line l JOIN "order" o ON o.id = l.order_id '
        "WHERE o.status <> 'cancelled' AND o.paid_at >= ? AND o.paid_at < ? GROUP BY l.sku_code", start, end)}
    margin = {sku: (int(m), int(c), round(int(m) * 100 / int(r), 1)) for sku, m, c, r in sql(
        'SELECT m.sku_code, SUM(m.margin_fen), SUM(m.cogs_fen), SUM(m.revenue_fen) FROM line_money m '
        'JOIN "order" o ON o.id = m.order_id '
        "WHERE o.status <> 'cancelled' AND o.paid_at >= ? AND o.paid_at < ? AND m.margin_fen IS NOT NULL "
        "GROUP BY m.sku_code", start, end)}
    assert {r["sku"]: (r["units"], r["revenue_fen"]) for r in result["rows"]} == raw
    assert {r["sku"]: (r["margin_fen"], r["cogs_fen"], r["margin_pct"]) for r in result["rows"]
            if r["margin_fen"] is not None} == margin
    revenues = [r["revenue_fen"] for r in result["rows"]]
    assert revenues == sorted(revenues, reverse=True)
    total, before = sum(revenues), 0
    for row in result["rows"]:  # A while the share before it is under 80 %, B under 95 %
        assert row["abc"] == ("A" if before * 100 < 80 * total else "B" if before * 100 < 95 * total else "C")
        before += row["revenue_fen"]
    assert result["classes"]["A"]["skus"] >= 1 and result["classes"]["C"]["skus"] >= 1
    by_units = skus.ranking(filters(shop="jd-1"), "units")
    units = [r["units"] for r in by_units["rows"]]
    assert units == sorted(units, reverse=True)
    assert sum(units) == int(sql('SELECT SUM(l.qty) FROM order_line l JOIN "order" o ON o.id = l.order_id '
                                 "WHERE o.status <> 'cancelled' AND o.shop = 'jd-1' AND o.paid_at >= ? "
                                 "AND o.paid_at < ?", start, end).fetchone()[0])


def test_margin_trend_equals_the_line_money(shop_data):
    from server.services.reports import margin
    result = margin.trend(filters(channel="tmall"), "day")
    for row in result["rows"]:
        day = dt.date.fromisoformat(row["period"])
        start, end = bounds(day, day)
        m, shipped_rev, revenue, cogs, fees = sql(
            "SELECT COALESCE(SUM(m.margin_fen), 0), COALESCE(SUM(CASE WHEN m.margin_fen IS NOT NULL "
            "THEN m.revenue_fen ELSE 0 END), 0), COALESCE(SUM(m.revenue_fen), 0), COALESCE(SUM(m.cogs_fen), 0), "
            "COALESCE(SUM(CASE WHEN m.margin_fen IS NOT NULL THEN m.commission_fen + m.payment_fee_fen END), 0) "
            "FROM line_money m "
            'JOIN "order" o ON o.id = m.order_id WHERE o.status <> \'cancelled\' AND o.channel = \'tmall\' '
            "AND o.paid_at >= ? AND o.paid_at < ?", start, end).fetchone()
        assert (row["margin_fen"], row["shipped_revenue_fen"], row["revenue_fen"], row["cogs_fen"], row["fees_fen"]) \
            == (int(m), int(shipped_rev), int(revenue), int(cogs), int(fees))
    assert result["totals"]["margin_fen"] > 0 and 0 < result["totals"]["margin_pct"] < 100


def _hours(a, b):
    return f"(julianday({b}) - julianday({a})) * 24" if is_sqlite() else f"EXTRACT(EPOCH FROM {b} - {a}) / 3600"


def test_logistics_timeliness_by_carrier_and_province(shop_data):
    from server.services.reports import logistics
    start, end = bounds()
    result = logistics.timeliness(filters())
    base = ('FROM package k JOIN "order" o ON o.id = k.order_id WHERE o.status <> \'cancelled\' '
            "AND o.paid_at >= ? AND o.paid_at < ?")
    expected = {c: (int(n), float(a)) for c, n, a in sql(
        f"SELECT CASE WHEN k.carrier = '' THEN o.carrier ELSE k.carrier END, COUNT(*), "
        f"AVG({_hours('o.paid_at', 'k.shipped_at')}) {base} GROUP BY 1", start, end)}
    got = {r["key"]: (r["shipped"], r["paid_to_shipped_h"]) for r in result["by_carrier"]}
    assert got.keys() == expected.keys() == {"SF", "ZTO"}
    for carrier, (n, avg) in expected.items():
        assert got[carrier][0] == n and got[carrier][1] == pytest.approx(avg, abs=1e-6)
    signed = {p: (int(n), float(a)) for p, n, a in sql(
        f"SELECT o.receiver_province, COUNT(*), AVG({_hours('k.shipped_at', 'k.delivered_at')}) {base} "
        "AND k.delivered_at IS NOT NULL GROUP BY o.receiver_province", start, end)}
    for row in result["by_province"]:
        n, avg = signed[row["key"]]
        assert row["signed"] == n and row["shipped_to_signed_h"] == pytest.approx(avg, abs=1e-6)
    assert {r["key"] for r in result["by_province"]} == set(signed) == {short for short in PROVINCES}
    within = sql(f"SELECT COUNT(*) {base} AND {_hours('o.paid_at', 'k.shipped_at')} <= 24", start, end).fetchone()[0]
    total = result["totals"]
    assert total["shipped_24h_pct"] == round(within * 100 / total["shipped"], 1)
    tracked = sql(f"SELECT COUNT(*) {base} AND EXISTS (SELECT 1 FROM tracking_event t WHERE t.package_id = k.id)",
                  start, end).fetchone()[0]
    assert total["tracked"] == tracked == total["signed"]


def test_return_rate_by_sku_and_reason(shop_data):
    from server.services.reports import returns
    start, end = bounds()
    result = returns.rates(filters(region="east"))
    where = ("o.status <> 'cancelled' AND o.receiver_province IN ('上海市', '浙江省') "
             "AND o.paid_at >= ? AND o.paid_at < ?")
    sold = {s: int(u) for s, u in sql('SELECT l.sku_code, SUM(l.qty) FROM order_line l JOIN "order" o '
                                      f"ON o.id = l.order_id WHERE {where} GROUP BY l.sku_code", start, end)}
    refunded = {s: int(u) for s, u in sql(
        'SELECT l.sku_code, SUM(r.qty) FROM refund r JOIN order_line l ON l.id = r.line_id JOIN "order" o '
        f"ON o.id = l.order_id WHERE r.state IN ('agreed', 'success') AND {where} GROUP BY l.sku_code", start, end)}
    by_reason = {s: int(u) for s, u in sql(
        'SELECT r.reason, SUM(r.qty) FROM refund r JOIN order_line l ON l.id = r.line_id JOIN "order" o '
        f"ON o.id = l.order_id WHERE r.state IN ('agreed', 'success') AND {where} GROUP BY r.reason", start, end)}
    assert {r["sku"]: r["sold"] for r in result["rows"]} == sold
    assert {r["sku"]: r["refunded"] for r in result["rows"] if r["refunded"]} == refunded
    assert {r["reason"]: r["refunded"] for r in result["by_reason"]} == by_reason and by_reason
    for row in result["rows"]:
        assert row["rate_pct"] == round(refunded.get(row["sku"], 0) * 100 / sold[row["sku"]], 2)


def test_pick_and_pack_productivity_per_person_and_hour(shop_data):
    from server.services.reports import productivity
    start, end = bounds()
    result = productivity.productivity(filters())
    hour = ("strftime('%Y-%m-%d %H', m.at, '+8 hours')" if is_sqlite()
            else "to_char(m.at + interval '8 hours', 'YYYY-MM-DD HH24')")
    for kind, reason in (("pick", "pick"), ("pack", "ship")):
        expected = {code: (int(n), int(u), int(h)) for code, n, u, h in sql(
            f'SELECT u.code, COUNT(*), SUM(m.qty), COUNT(DISTINCT {hour}) FROM stock_move m JOIN "user" u '
            "ON u.id = m.user_id WHERE m.reason = ? AND m.at >= ? AND m.at < ? GROUP BY u.code", reason, start, end)}
        got = {r["user"]: (r["lines"], r["units"], r["hours"]) for r in result["rows"] if r["kind"] == kind}
        assert got == expected and got
    assert sum(sum(v) for k, v in result["by_hour"].items() if k.startswith("pick:")) == result["totals"]["pick"]["units"]
    # one shop: only its orders' lines
    shop = productivity.productivity(filters(shop="tm-1"))
    shipped = sql('SELECT SUM(m.qty) FROM stock_move m JOIN "order" o ON m.ref = \'ship:\' || CAST(o.id AS VARCHAR(20)) '
                  "WHERE m.reason = 'ship' AND o.shop = 'tm-1' AND m.at >= ? AND m.at < ?", start, end).fetchone()[0]
    assert shop["totals"]["pack"]["units"] == int(shipped) < result["totals"]["pack"]["units"]


def test_inventory_turnover_and_days_of_cover(shop_data):
    from server.services.reports import inventory
    start, end = bounds()
    result = inventory.turnover(filters())

    def on_hand(at):
        return {pid: int(q) for pid, q in sql(
            "SELECT p.id, COALESCE((SELECT SUM(m.qty) FROM stock_move m JOIN location l ON l.id = m.to_location_id "
            "WHERE m.product_id = p.id AND l.kind <> 'shipped' AND m.at < ?), 0) - COALESCE((SELECT SUM(m.qty) "
            "FROM stock_move m JOIN location l ON l.id = m.from_location_id WHERE m.product_id = p.id "
            "AND l.kind <> 'shipped' AND m.at < ?), 0) FROM product p", at, at)}
    opening, closing = on_hand(start), on_hand(end)
    out = {pid: int(q) for pid, q in sql("SELECT product_id, SUM(qty) FROM stock_move WHERE reason = 'ship' "
                                         "AND at >= ? AND at < ? GROUP BY product_id", start, end)}
    skus = {pid: sku for pid, sku in sql("SELECT id, sku FROM product")}
    assert len(result["rows"]) == len(skus)
    for row in result["rows"]:
        pid = next(p for p, s in skus.items() if s == row["sku"])
        assert (row["opening"], row["closing"], row["shipped"]) == (opening[pid], closing[pid], out.get(pid, 0))
        assert row["turnover"] == round(out.get(pid, 0) / ((opening[pid] + closing[pid]) / 2), 2)
        if out.get(pid):
            assert row["days_of_cover"] == round(closing[pid] / (out[pid] / 30), 1)
    assert result["totals"]["shipped"] == sum(out.values()) > 0


def test_every_report_exports_an_xlsx_with_its_rows(shop_data):
    import io

    from openpyxl import load_workbook

    from server.services import reports
    from server.services.reports import facts
    from server.web.reports import export_bytes
    facts.refresh(ZONE)
    for name in reports.REPORTS:
        result = reports.run(name, filters())
        data = export_bytes(name, result, "en")
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        values = [row for row in sheet.iter_rows(values_only=True)]
        assert values[0][0] and len(values) >= len(result["rows"]) + 3, name


def test_filters_refuse_a_bad_period_and_region():
    from server.services.reports import filters as flt
    with pytest.raises(flt.BadFilter):
        flt.make(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    with pytest.raises(flt.BadFilter):
        flt.make(dt.date(2026, 2, 1), dt.date(2026, 3, 1), region="mars")
    assert flt.region_of("广西壮族自治区") == "south" and flt.short_province("上海市") == "上海"


def test_the_aggregate_stays_exact_through_changes(shop_data, monkeypatch):
    """Cancel an order, change a line, add an order and a refund: the incremental refresh
    recomputes the changed days only, and the aggregate equals the lines again."""
    from server.models import Order, OrderLine, Refund
    from server.models.base import utcnow
    from server.services.reports import facts
    assert facts.refresh(ZONE, full=True)["full"] is True
    assert facts.verify(ZONE)["exact"]
    assert facts.refresh(ZONE)["days"] == 0  # nothing changed since
    first, second = shop_data["orders"][0], shop_data["orders"][1]
    Order.update(status="cancelled", updated_at=utcnow()).where(Order.id == first.id).execute()
    sql("UPDATE order_line SET paid_fen = paid_fen + 7 WHERE order_id = ?", second.id)
    Order.update(updated_at=utcnow()).where(Order.id == second.id).execute()
    line = OrderLine.select().where(OrderLine.order == shop_data["orders"][2].id).first()
    sql("UPDATE order_line SET refund_fen = 123 WHERE id = ?", line.id)  # as refunds.summarise_line does
    Refund.create(channel="tmall", shop="tm-1", refund_id="R-new", order_external_id="x", order=line.order_id,
                  line=line, qty=1, refund_fen=123, state="success")
    new = Order.create(channel="jd", shop="jd-1", external_id="NEW", status="approved", receiver_province="浙江省",
                       paid_at=bj_midnight_utc(dt.date(2026, 11, 3)) + dt.timedelta(hours=10))
    OrderLine.create(order=new, external_line_id="1", sku_code="SKU-01", qty=2, paid_fen=999)
    assert not facts.verify(ZONE)["exact"]
    done = facts.refresh(ZONE)
    assert done["full"] is False and 1 <= done["days"] <= 4
    assert facts.verify(ZONE) == {"keys": facts.verify(ZONE)["keys"], "differ": [], "exact": True}
    # days scattered wide are found by each order's day rather than by time ranges: the same sums
    monkeypatch.setattr(facts, "MAX_RUNS", 0)
    sql("UPDATE order_line SET qty = qty + 1 WHERE order_id IN (?, ?)", shop_data["orders"][5].id,
        shop_data["orders"][40].id)
    Order.update(updated_at=utcnow()).where(Order.id.in_([shop_data["orders"][5].id,
                                                          shop_data["orders"][40].id])).execute()
    assert facts.refresh(ZONE)["days"] >= 2 and facts.verify(ZONE)["exact"]
