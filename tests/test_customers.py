"""Customers (CRM) derived from orders on a real database (SQLite and PostgreSQL): totals, RFM by
quantile, tags from rules/customers.yaml, the daily tag counts, the repurchase model per SKU, the
due-to-reorder list with its opt-outs, and the command line."""
from __future__ import annotations

import datetime as dt

import pytest

from rules import load_rules
from rules.customers import CustomerRules
from server.services.customers import derive
from server.services.customers.common import today, usable_phone

TODAY = today()


def paid(days_ago: int, hour: int = 4) -> dt.datetime:
    """Naive UTC; 04:00 UTC is noon in China, the day is the same either way."""
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(hour))


@pytest.fixture
def shop_orders(small_warehouse):
    """Four mothers buying nappies every 30 days (one due now, one long overdue, one opted out
    later, one whose phone the channel masked), a big spender, a live-stream fan, a split order,
    a cancelled order and a refunded line."""
    from server.models import Order, OrderLine, Product
    from server.models.customers import LiveStream
    nappy = Product.create(sku="NAPPY-M", name="纸尿裤 M 码", weight_g=900, price_fen=9900)
    tee = small_warehouse["tee"]
    counter = iter(range(1, 10_000))

    def order(nick, phone, days_ago, lines, *, coupon=0, status="shipped", hour=4, split_from=None, channel="tmall",
              ordered=None):
        n = next(counter)
        o = Order.create(channel=channel, shop="tm-1", external_id=f"E{n}", status=status, buyer_nick=nick,
                         receiver_name=f"{nick}的家", receiver_phone=phone, receiver_province="浙江省",
                         paid_at=paid(days_ago, hour), ordered_at=ordered or paid(days_ago, hour), coupon_fen=coupon,
                         split_from=split_from)
        for i, (product, qty, paid_fen, *rest) in enumerate(lines):
            OrderLine.create(order=o, external_line_id=str(i), sku_code=product.sku, product=product, qty=qty,
                             price_fen=product.price_fen, paid_fen=paid_fen,
                             refund_status=rest[0] if rest else "none")
        return o

    for i, days in enumerate((120, 90, 60, 29)):
        order("mum1", "13800000001", days, [(nappy, 1, 9900)], coupon=500 if i else 0)
    for days in (100, 70, 40):
        order("mum2", "13800000002", days, [(nappy, 2, 19800)])
    for days in (60, 30):
        order("mum3", "13800000003", days, [(nappy, 1, 9900)])
    for days in (58, 28):
        order("mum4", "138****0004", days, [(nappy, 1, 9900)])
    order("boss", "13900000009", 200, [(tee, 50, 300000)])
    start = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(12))
    LiveStream.create(channel="tmall", title="晚间直播", starts_at=start, ends_at=start + dt.timedelta(hours=2))
    order("fan", "13700000007", 3, [(tee, 1, 5900)], hour=13)                       # in the stream
    order("fan", "13700000007", 3, [(tee, 1, 5900)], ordered=start + dt.timedelta(minutes=140))  # 20 min after it
    parent = order("splitter", "13600000006", 10, [(tee, 1, 5900)])
    order("splitter", "13600000006", 10, [(nappy, 1, 9900)], split_from=parent.id)
    order("ghost", "13500000005", 5, [(tee, 9, 53100)], status="cancelled")
    order("refunder", "13400000004", 6, [(tee, 1, 5900), (nappy, 1, 9900, "refunded")])
    return {"nappy": nappy, "tee": tee}


def test_quantile_scores_tie_and_order():
    assert derive.quantile_scores([10, 20, 30, 40, 50], 5) == [1, 2, 3, 4, 5]
    assert derive.quantile_scores([1, 1, 1, 1, 2], 5) == [1, 1, 1, 1, 5]       # equal values, equal scores
    assert derive.quantile_scores([0, 10, 100], 5, higher_is_better=False) == [4, 2, 1]  # recent is best
    assert derive.quantile_scores([], 5) == []
    assert derive.quantile_scores([7], 5) == [1]


def test_usable_phone():
    assert usable_phone("13800138000") and usable_phone("+86 138 0013 8000") and usable_phone("13800138000-1234")
    assert not usable_phone("138****8000") and not usable_phone("") and not usable_phone("abc")


def test_the_shipped_tag_rules_load_and_bad_ones_are_reported(tmp_path):
    from rules import RuleError, default_rules_dir
    shipped = load_rules(default_rules_dir() / "customers.yaml")
    assert isinstance(shipped, CustomerRules)
    assert [t.code for t in shipped.tags] == ["vip", "price_sensitive", "impulse", "dormant", "new"]
    bad = tmp_path / "customers.yaml"
    bad.write_text("kind: customers\nparams: {rfm_bins: 0}\ntags:\n  - code: a\n    name: {zh: 甲, en: A}\n"
                   "    when: 'customer.spent > 1'\n", encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_rules(bad)
    reasons = " | ".join(p.reason for p in caught.value.problems)
    assert "unknown field 'customer.spent'" in reasons and "spent_fen" in reasons   # did you mean
    assert "whole number" in reasons


def test_refresh_derives_customers_scores_and_tags(shop_orders):
    from server.models.customers import Customer
    report = derive.refresh()
    assert report["customers"] == 8  # ghost had only a cancelled order
    by = {c.buyer: c for c in Customer.select()}
    assert "ghost" not in by
    mum1 = by["mum1"]
    assert (mum1.orders, mum1.units, mum1.spent_fen, mum1.coupon_orders) == (4, 4, 39600, 3)
    assert mum1.phone == "13800000001" and mum1.channel == "tmall"
    assert by["splitter"].orders == 1 and by["splitter"].spent_fen == 5900 + 9900   # a split order counts once
    assert by["refunder"].spent_fen == 5900 and by["refunder"].units == 1              # the refunded line left out
    assert by["fan"].live_orders == 2 and by["mum1"].live_orders == 0
    tags = {b: set(c.tags.split(",")) - {""} for b, c in by.items()}
    assert "vip" in tags["boss"] and "price_sensitive" in tags["mum1"] and "impulse" in tags["fan"]
    assert "price_sensitive" not in tags["mum2"] and "impulse" not in tags["mum1"]
    assert "dormant" not in tags["mum1"]
    # RFM: the boss spent most, mum1 bought most often, the fan bought last
    assert by["boss"].m_score == 5 and by["mum1"].f_score == 5 and by["fan"].r_score == 5
    assert by["boss"].r_score == 1
    assert report["tags"]["vip"] >= 1 and set(report["tags"]) == {"vip", "price_sensitive", "impulse", "dormant", "new"}
    # tag counts are kept per day; a second refresh the same day replaces that day's, never doubles them
    from server.models.customers import CustomerTagCount
    from server.services.customers import views
    derive.refresh(TODAY - dt.timedelta(days=1))
    derive.refresh(TODAY)
    assert CustomerTagCount.select().where(CustomerTagCount.day == TODAY).count() == 5
    trend = views.tag_trend(30)
    assert trend["dates"] == [(TODAY - dt.timedelta(days=1)).isoformat(), TODAY.isoformat()]
    assert trend["series"]["impulse"][-1] == 1 and trend["series"]["vip"][-1] == report["tags"]["vip"]
    # as of an earlier day: the orders paid after it do not count (the fan had not bought yet)
    derive.refresh(TODAY - dt.timedelta(days=35))
    assert Customer.get(Customer.buyer == "mum1").orders == 3 and Customer.get(Customer.buyer == "fan").orders == 0


def test_repurchase_model_and_the_due_list(shop_orders):
    from server.models.customers import Customer, RepurchaseModel, ReorderDue
    from server.services.customers import repurchase, views
    Customer.create(channel="tmall", buyer="mum3", opt_out=True)   # opted out before the first refresh
    report = derive.refresh()
    model = RepurchaseModel.get(RepurchaseModel.sku_code == "NAPPY-M")
    # intervals 30, 30, 31 (mum1), 30, 30 (mum2), 30 (mum3), 30 (mum4)
    assert (model.intervals, model.median_days, model.p25_days, model.p75_days) == (7, 30.0, 30.0, 30.0)
    assert model.buyers == 5 and model.repeat_buyers == 4   # the splitter bought it once; the refund does not count
    assert RepurchaseModel.get(RepurchaseModel.sku_code == "TS-01").median_days is None  # too few intervals
    # mum1 is due tomorrow (within the lead days), mum2 long overdue, mum3 opted out, mum4's phone is masked
    due = repurchase.due_rows(TODAY, pii=True)
    assert [(r["nick"], r["sku"], r["due_on"]) for r in due] == [("mum1", "NAPPY-M", TODAY + dt.timedelta(days=1))]
    assert report["due"] == 1 and Customer.get(Customer.buyer == "mum3").opt_out   # the refresh kept the flag
    # the CSV for the SMS tool: the phone and names in full with pii.read, masked without
    plain = repurchase.due_csv(TODAY, pii=True).decode("utf-8-sig")
    masked = repurchase.due_csv(TODAY, pii=False).decode("utf-8-sig")
    assert plain.splitlines()[0] == ",".join(repurchase.CSV_COLUMNS)
    assert "13800000001" in plain and "mum1" in plain and "纸尿裤 M 码" in plain
    assert "13800000001" not in masked and "138****0001" in masked and "mum1" not in masked
    # a second refresh the same day lists nobody twice; the next day mum1 is not listed again
    assert derive.refresh()["due"] == 0 and ReorderDue.select().count() == 1
    assert derive.refresh(TODAY + dt.timedelta(days=1))["due"] == 0
    assert repurchase.due_rows(TODAY + dt.timedelta(days=1), pii=True) == []
    # mum1 opts out after the list was made: the list and its CSV leave her out
    mum1 = Customer.get(Customer.buyer == "mum1")
    assert views.set_opt_out(None, [mum1.id], True, "回T退订") == 1
    assert repurchase.due_rows(TODAY, pii=True) == []
    assert b"13800000001" not in repurchase.due_csv(TODAY, pii=True)


def test_the_command_line(shop_orders, tmp_path, monkeypatch, db_url):
    from click.testing import CliRunner
    from server.cli import cli
    from server.models.customers import Customer
    monkeypatch.setenv("WAVEFLOOR_DATABASE_URL", db_url)
    monkeypatch.setenv("WAVEFLOOR_INSTANCE_DIR", str(tmp_path / "instance"))
    runner = CliRunner()
    done = runner.invoke(cli, ["customers", "refresh"])
    assert done.exit_code == 0, done.output
    assert "8 customers" in done.output and "vip" in done.output
    out = tmp_path / "due.csv"
    listed = runner.invoke(cli, ["customers", "due", "--out", str(out)])
    assert listed.exit_code == 0, listed.output
    assert "13800000001" in out.read_text(encoding="utf-8-sig")
    optouts = tmp_path / "td.txt"
    optouts.write_text("13800000001\n13800000002\n", encoding="utf-8")
    dropped = runner.invoke(cli, ["customers", "optout", "--file", str(optouts)])
    assert dropped.exit_code == 0, dropped.output
    assert {c.buyer for c in Customer.select().where(Customer.opt_out)} == {"mum1", "mum2"}
    again = runner.invoke(cli, ["customers", "optout", "--buyer", "mum2", "--channel", "tmall", "--undo"])
    assert again.exit_code == 0 and "1 customer(s) opted back in" in again.output
    missing = runner.invoke(cli, ["customers", "optout", "--buyer", "nobody"])
    assert missing.exit_code != 0 and "no customer found" in missing.output


def test_a_site_rule_file_wins_and_a_broken_one_stops_only_the_refresh(shop_orders, tmp_path, monkeypatch):
    from rules import RuleError
    from server.models.customers import Customer
    from server.services import rulebook
    site = tmp_path / "rules"
    site.mkdir()
    (site / "customers.yaml").write_text(
        "kind: customers\nparams: {rfm_bins: 3}\ntags:\n  - code: big\n    name: {zh: 大客户, en: Big}\n"
        "    when: 'customer.spent_fen >= 100000'\n", encoding="utf-8")
    monkeypatch.setattr(rulebook, "_book", None)
    rulebook.use(site)
    try:
        report = derive.refresh()
        assert report["tags"] == {"big": 1}
        assert Customer.get(Customer.buyer == "boss").tags == "big"
        assert max(c.r_score for c in Customer.select()) == 3          # the site's bins
        (site / "customers.yaml").write_text("kind: customers\ntags:\n  - code: x\n    name: X\n    when: 'nope'\n",
                                             encoding="utf-8")
        with pytest.raises(RuleError):
            derive.refresh()
        assert rulebook.book().review is not None                         # the order rules are untouched
    finally:
        monkeypatch.setattr(rulebook, "_book", None)
