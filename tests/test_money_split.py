"""The fee split (分摊) to the fen, with no database: the largest-remainder rule, and for any order
every line share sums exactly to the order's fee or discount, no line is negative, and refunds
reverse exactly (hypothesis)."""
from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from server.services.money.figures import LineIn, OrderIn, margin, order_figures
from server.services.money.rates import Rate
from server.services.money.split import half_up, part, split, vat_inside


class Fees:
    def __init__(self, commission: dict, payment: int, refundable: bool):
        self.commission, self.payment, self.refundable = commission, payment, refundable

    def find(self, kind, shop, category=""):
        if kind == "payment":
            return Rate(self.payment, self.refundable)
        return Rate(self.commission.get(category, 0), self.refundable)


def test_worked_examples():
    assert split(100, [1, 1, 1]) == [34, 33, 33]
    assert split(1000, [11800, 3900]) == [752, 248]       # 751.59 and 248.41
    assert split(5, [0, 0]) == [3, 2]                    # no weights: evenly
    assert split(-7, [1, 1]) == [-4, -3]
    assert split(3, [10, 10, 1], caps=[1, 5, 5]) == [1, 2, 0]
    assert vat_inside(11300, 1300) == 1300 and vat_inside(10900, 900) == 900 and vat_inside(500, 0) == 0
    assert half_up(5, 2) == 3 and half_up(-5, 2) == -3 and half_up(4, 3) == 1
    assert part(99, 1, 1) == 99 and part(99, 0, 5) == 0 and part(100, 1, 3) == 33
    # a return booked as a negative line, a line with no price: nothing is negative, nothing raises
    odd = order_figures(OrderIn(channel="csv", shop="s", paid_fen=1000), [
        LineIn(qty=-1, unit_price_fen=1000, weight_g=100), LineIn(qty=1, unit_price_fen=1000, weight_g=100),
        LineIn(qty=2, unit_price_fen=0)], Fees({}, 60, True))
    assert [r["paid_fen"] for r in odd] == [0, 1000, 0] and all(v >= 0 for r in odd for k, v in r.items()
                                                              if k.endswith("_fen") and v is not None)


@settings(max_examples=300, deadline=None)
@given(total=st.integers(0, 10 ** 7), weights=st.lists(st.integers(0, 10 ** 6), min_size=1, max_size=12))
def test_shares_sum_exactly_and_each_is_its_exact_share_rounded(total, weights):
    shares = split(total, weights)
    assert sum(shares) == total
    whole = sum(weights) or len(weights)
    for share, weight in zip(shares, weights if sum(weights) else [1] * len(weights)):
        exact = Fraction(total * weight, whole)
        assert exact - 1 < share < exact + 1 and share >= 0


line_strategy = st.tuples(st.integers(1, 20),                 # qty
                          st.integers(0, 200000),             # unit price, fen
                          st.sampled_from(["服装", "家居", ""]),  # category
                          st.sampled_from([1300, 900, 600, 0]),  # VAT
                          st.integers(0, 3000),               # weight g
                          st.floats(0, 1))                    # share of the line refunded


@st.composite
def orders(draw):
    lines = draw(st.lists(line_strategy, min_size=1, max_size=8))
    listed = sum(q * p for q, p, *_ in lines)
    goods_paid = draw(st.integers(1, listed + 5000))            # may be above list: a surcharge; 0 paid = unknown
    platform = draw(st.integers(0, max(listed - goods_paid, 0) + 2000))  # may exceed the reduction
    coupon = draw(st.integers(0, platform))
    freight = draw(st.integers(0, 3000))
    charges = {}
    if draw(st.booleans()):
        charges["commission"] = draw(st.integers(0, 50000))
    if draw(st.booleans()):
        m = draw(st.integers(0, listed))
        charges["merchant_discount"] = m
        charges["platform_subsidy"] = draw(st.integers(0, listed - m))
    order = OrderIn(channel="tmall", shop="s", paid_fen=goods_paid + freight, freight_fen=freight,
                    coupon_fen=coupon, discount_fen=platform - coupon, charges=charges,
                    freight_paid_fen=draw(st.integers(0, 5000)))
    fees = Fees({"服装": draw(st.integers(0, 2000)), "家居": draw(st.integers(0, 2000))},
                draw(st.integers(0, 100)), draw(st.booleans()))
    return order, lines, fees


def _inputs(lines, refunded: bool):
    return [LineIn(qty=q, unit_price_fen=p, category=c, vat_rate_bp=v, weight_g=w,
                   refund_fen=10 ** 9 if refunded else 0, cogs_fen=q * 100) for q, p, c, v, w, _ in lines]


@settings(max_examples=400, deadline=None)
@given(orders())
def test_for_any_order_the_lines_sum_to_each_figure_none_negative_and_refunds_reverse_exactly(case):
    order, lines, fees = case
    rows = order_figures(order, _inputs(lines, False), fees)
    listed = sum(q * p for q, p, *_ in lines)
    for row in rows:
        for name, value in row.items():
            if name.endswith("_fen") and name != "margin_fen":
                assert value >= 0, (name, row)
        assert row["paid_fen"] == row["price_fen"] - row["merchant_discount_fen"] - row["platform_subsidy_fen"] \
            or sum(r["merchant_discount_fen"] + r["platform_subsidy_fen"] for r in rows) == 0
    total = {name: sum(r[name] for r in rows) for name in rows[0] if name.endswith("_fen") and name != "margin_fen"}
    assert total["freight_charged_fen"] == order.freight_fen
    # the postage's VAT at the rate of the largest line (paid + subsidy; the earlier on a tie)
    bases = [r["paid_fen"] + r["platform_subsidy_fen"] for r in rows]
    largest = bases.index(max(bases))
    assert total["freight_tax_fen"] == vat_inside(order.freight_fen, rows[largest]["vat_rate_bp"])
    assert total["freight_paid_fen"] == order.freight_paid_fen
    if "merchant_discount" in order.charges:
        assert total["merchant_discount_fen"] == order.charges["merchant_discount"]
        assert total["platform_subsidy_fen"] == order.charges["platform_subsidy"]
    else:
        goods_paid = order.paid_fen - order.freight_fen
        assert total["paid_fen"] == goods_paid          # the lines sum to what the buyer paid
        reduction = max(listed - goods_paid, 0)
        assert total["platform_subsidy_fen"] == min(order.coupon_fen + order.discount_fen, reduction)
        assert total["merchant_discount_fen"] == reduction - total["platform_subsidy_fen"]
    if "commission" in order.charges:
        assert total["commission_fen"] == order.charges["commission"]
    else:
        exact = sum(Fraction((r["paid_fen"] + r["platform_subsidy_fen"]) * fees.commission.get(line[2], 0), 10000)
                    for r, line in zip(rows, lines))
        assert abs(total["commission_fen"] - exact) <= Fraction(1, 2)
    assert total["payment_fee_fen"] == half_up((total["paid_fen"] + order.freight_fen) * fees.payment, 10000)

    # every line refunded in full: each reversal equals its figure, nothing left of the revenue or tax
    back = order_figures(order, _inputs(lines, True), fees)
    for sold, row in zip(rows, back):
        assert row["refund_fen"] == sold["paid_fen"]
        assert row["refund_subsidy_fen"] == sold["platform_subsidy_fen"] or sold["paid_fen"] == 0
        assert row["refund_tax_fen"] == row["tax_fen"] or sold["paid_fen"] == 0
        if fees.refundable and sold["paid_fen"]:
            assert row["refund_commission_fen"] == sold["commission_fen"]
            assert row["refund_payment_fee_fen"] == sold["payment_fee_fen"]
        if sold["paid_fen"]:
            assert row["revenue_fen"] == 0


@settings(max_examples=200, deadline=None)
@given(orders())
def test_a_partial_refund_never_reverses_more_than_was_there(case):
    order, lines, fees = case
    partial = [LineIn(qty=q, unit_price_fen=p, category=c, vat_rate_bp=v, weight_g=w, cogs_fen=0)
               for q, p, c, v, w, _ in lines]
    sold = order_figures(order, partial, fees)
    for line, row, (*_, share) in zip(partial, sold, lines):
        line.refund_fen = int(row["paid_fen"] * share)
    back = order_figures(order, partial, fees)
    for row, was in zip(back, sold):
        for name in ("subsidy", "commission", "payment_fee", "tax"):
            figure = was["platform_subsidy_fen" if name == "subsidy" else f"{name}_fen"]
            assert 0 <= row[f"refund_{name}_fen"] <= figure
        assert row["revenue_fen"] >= 0 and row["tax_fen"] - row["refund_tax_fen"] <= row["revenue_fen"]
        assert margin(row) == (row["revenue_fen"] - row["tax_fen"] + row["refund_tax_fen"] - row["cogs_fen"]
                               - row["commission_fen"] + row["refund_commission_fen"] - row["payment_fee_fen"]
                               + row["refund_payment_fee_fen"] - row["freight_paid_fen"] + row["freight_charged_fen"]
                               - row["freight_tax_fen"])


def test_jd_and_douyin_keep_the_platforms_part_apart():
    lines = [LineIn(qty=1, unit_price_fen=20000), LineIn(qty=1, unit_price_fen=11700)]
    for channel in ("jd", "douyin"):   # 31700 listed, 10.00 off by the shop and 10.00 by the platform
        rows = order_figures(OrderIn(channel=channel, shop="s", paid_fen=29700, discount_fen=1000, coupon_fen=1000),
                             lines, Fees({}, 0, True))
        assert sum(r["merchant_discount_fen"] for r in rows) == 1000
        assert sum(r["platform_subsidy_fen"] for r in rows) == 1000
