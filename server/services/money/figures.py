"""An order's money split over its lines (分摊), with no database: the rules, in one place.

For an order with lines at list price ``price_i`` (unit price × qty):

1. The buyer paid ``goods_paid`` for the goods (the order's 实付 less the postage). The
   reduction ``price - goods_paid`` is every discount; the platform pays the part the channel
   names as its own (Tmall: 天猫卡券 and 集分宝; TOP: coupon_fee; mapped CSV: the coupon
   column; JD: what the buyer paid below orderSellerPrice; 抖店: promotion_platform_amount), the merchant the rest (店铺优惠, 满减). An order charge of that kind (a bill, the
   office) replaces either estimate.
2. The total discount is split over the lines by list price; the merchant's part of it is
   split by list price too, capped by each line's discount, so a line's two parts never exceed
   its price: ``paid_i = price_i - merchant_i - platform_i >= 0``.
3. Postage the buyer paid is split by what the lines paid; commission by each line's
   ``(paid + platform subsidy) × rate of its category`` (the order's commission is the sum,
   rounded once); the payment fee (a rate of what the buyer paid, postage included) by paid +
   postage; the carrier's charge by the lines' weight (by list price when weights are unknown).
4. VAT is inside the revenue (价税合计): ``tax = revenue × rate / (1 + rate)``. Postage the
   buyer paid is charged with the goods and taxed at the order's goods rate, the rate of its
   largest line (by paid + platform subsidy; the earlier line on a tie): the order's
   ``freight_tax = vat_inside(postage, that rate)``, split over the lines as the postage is.
5. A refund reverses in proportion to ``refund / paid`` of the line, rounded half up, and
   exactly the whole figure when the whole line is refunded; the VAT reversed is the tax at sale
   less the tax of the revenue that remains. Units back in stock from the returns bench reverse
   their share of the cost of goods sold (``returned / qty`` of it, half up).
Every split is by largest remainder (split.py): the lines sum to the order's figure to the fen.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from server.services.money.split import half_up, part, split, vat_inside

# the order columns that hold the platform's part of the discount, per channel
PLATFORM_PAID = {"tmall": ("coupon_fen", "discount_fen"), "top": ("coupon_fen",), "csv": ("coupon_fen",),
                 "jd": ("coupon_fen",), "douyin": ("coupon_fen",)}


@dataclass
class OrderIn:
    channel: str
    shop: str
    paid_fen: int = 0        # what the buyer paid, postage included (0: unknown)
    freight_fen: int = 0     # postage the buyer paid
    discount_fen: int = 0
    coupon_fen: int = 0
    charges: dict = field(default_factory=dict)  # kind -> fen, from OrderCharge rows (they replace estimates)
    freight_paid_fen: int = 0  # the carrier's charge (estimate or bill), 0 before shipment


@dataclass
class LineIn:
    qty: int
    unit_price_fen: int
    paid_fen: int = 0        # the channel's own figure for the line, used only when the order has no total
    refund_fen: int = 0
    category: str = ""
    vat_rate_bp: int = 0
    weight_g: int = 0
    returned_qty: int = 0    # units back in stock from the returns bench
    cogs_fen: int | None = None


def _platform_estimate(order: OrderIn) -> int:
    return sum(getattr(order, name) for name in PLATFORM_PAID.get(order.channel, ()))


def _discounts(order: OrderIn, prices: list[int], lines: list[LineIn]) -> tuple[int, int, int]:
    """(merchant, platform, surcharge) of the order's goods."""
    listed = sum(prices)
    if order.paid_fen > 0:
        goods_paid = max(order.paid_fen - order.freight_fen, 0)
    else:
        goods_paid = sum(line.paid_fen for line in lines) or listed
    if "merchant_discount" in order.charges or "platform_subsidy" in order.charges:
        merchant = max(order.charges.get("merchant_discount", 0), 0)
        platform = max(order.charges.get("platform_subsidy", 0), 0)
        if merchant + platform > listed:  # a bill above the list price: the platform's part stands
            platform = min(platform, listed)
            merchant = listed - platform
        return merchant, platform, 0
    reduction = listed - goods_paid
    if reduction <= 0:
        return 0, 0, -reduction
    platform = min(max(_platform_estimate(order), 0), reduction)
    return reduction - platform, platform, 0


def order_figures(order: OrderIn, lines: list[LineIn], fees) -> list[dict]:
    """Each line's money (the LineMoney columns that do not name the line), in the lines' order.
    ``fees.find(kind, shop, category)`` gives a rate (rates.FeeTable)."""
    if not lines:
        return []
    prices = [max(line.unit_price_fen * line.qty, 0) for line in lines]  # a negative line (a return) sells nothing
    merchant, platform, surcharge = _discounts(order, prices, lines)
    discount = split(merchant + platform, prices, caps=prices)
    merchant_i = split(merchant, prices, caps=discount)
    platform_i = [d - m for d, m in zip(discount, merchant_i)]
    extra = split(surcharge, prices) if surcharge else [0] * len(lines)
    paid = [p - d + e for p, d, e in zip(prices, discount, extra)]

    freight = order.charges.get("freight_charged", order.freight_fen)
    freight_i = split(max(freight, 0), paid if any(paid) else prices)

    rates = [fees.find("commission", order.shop, line.category) for line in lines]
    bases = [p + s for p, s in zip(paid, platform_i)]
    freight_tax_i = split(vat_inside(sum(freight_i), freight_rate(lines, bases)), freight_i)
    weights = [b * r.rate_bp for b, r in zip(bases, rates)]
    if "commission" in order.charges:
        commission_i = split(max(order.charges["commission"], 0), weights if any(weights) else bases)
    else:
        commission_i = split(half_up(sum(weights), 10000), weights)

    pay_rate = fees.find("payment", order.shop, "")
    pay_base = [p + f for p, f in zip(paid, freight_i)]
    if "payment_fee" in order.charges:
        fee_total = max(order.charges["payment_fee"], 0)
    else:
        fee_total = half_up(sum(pay_base) * pay_rate.rate_bp, 10000)
    fee_i = split(fee_total, pay_base)

    carrier = order.charges.get("freight_paid", order.freight_paid_fen)
    heavy = [max(line.weight_g * line.qty, 0) for line in lines]
    carrier_i = split(max(carrier, 0), heavy if all(heavy) else prices)

    out = []
    for i, line in enumerate(lines):
        refund = min(max(line.refund_fen, 0), paid[i])
        tax = vat_inside(bases[i], line.vat_rate_bp)
        refund_subsidy = part(platform_i[i], refund, paid[i])
        revenue = bases[i] - refund - refund_subsidy
        refund_tax = tax - vat_inside(revenue, line.vat_rate_bp)
        refund_commission = part(commission_i[i], refund, paid[i]) if rates[i].refundable else 0
        refund_fee = part(fee_i[i], refund, paid[i]) if pay_rate.refundable else 0
        returned_cogs = part(line.cogs_fen, min(line.returned_qty, line.qty), line.qty) if line.cogs_fen else 0
        row = {"qty": line.qty, "price_fen": prices[i], "paid_fen": paid[i],
               "merchant_discount_fen": merchant_i[i], "platform_subsidy_fen": platform_i[i],
               "commission_fen": commission_i[i], "payment_fee_fen": fee_i[i],
               "freight_charged_fen": freight_i[i], "freight_tax_fen": freight_tax_i[i],
               "freight_paid_fen": carrier_i[i],
               "vat_rate_bp": line.vat_rate_bp, "tax_fen": tax, "refund_fen": refund,
               "refund_subsidy_fen": refund_subsidy, "refund_commission_fen": refund_commission,
               "refund_payment_fee_fen": refund_fee, "refund_tax_fen": refund_tax,
               "returned_cogs_fen": returned_cogs, "revenue_fen": revenue,
               "cogs_fen": line.cogs_fen}
        row["margin_fen"] = margin(row)
        out.append(row)
    return out


def freight_rate(lines: list[LineIn], bases: list[int]) -> int:
    """The VAT rate of postage charged with the goods: the rate of the order's largest line."""
    largest = max(range(len(lines)), key=lambda i: (bases[i], -i))
    return lines[largest].vat_rate_bp


def margin(row: dict) -> int | None:
    """Gross margin (毛利) of a line, None before its cost is fixed at shipment."""
    if row["cogs_fen"] is None:
        return None
    return (row["revenue_fen"] - (row["tax_fen"] - row["refund_tax_fen"])
            - (row["cogs_fen"] - row.get("returned_cogs_fen", 0))
            - (row["commission_fen"] - row["refund_commission_fen"])
            - (row["payment_fee_fen"] - row["refund_payment_fee_fen"])
            - row["freight_paid_fen"] + row["freight_charged_fen"] - row.get("freight_tax_fen", 0))
