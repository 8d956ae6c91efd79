"""The transaction list of a period (交易明细): one row per order line paid in the period, with
what the buyer paid, the merchant's discounts, the platform's subsidy and where it came from
(天猫红包/卡券, 集分宝, 京豆 ...), the VAT rate applied and the VAT amount, and the line's share
of the postage the buyer paid with the VAT inside it. What the tax office
asks for when it checks that platform subsidies were declared.

The subsidy's source of an order is, first, what its charges (order_charge, entered from a bill
or the channel) name; else what the settlement bill lines of the order name; else the channel's
own fields (Tmall: 天猫卡券抵扣 → 天猫卡券, 集分宝抵扣 → 集分宝)."""
from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

from openpyxl import Workbook

from server.models.finance import BillLine
from server.models.money import LineMoney, OrderCharge
from server.models.orders import Order
from server.services.errors import DomainError

CHUNK = 500
XLSX_ROWS = 1_048_575   # a worksheet's rows, less the header


class TooManyRows(DomainError):
    code = "too_many_rows"
COLUMNS = (("day", "日期 day"), ("shop", "店铺 shop"), ("channel", "渠道 channel"), ("order", "订单号 order"),
           ("sku", "SKU"), ("qty", "数量 qty"), ("price_fen", "标价 list (fen)"), ("paid_fen", "实付 paid (fen)"),
           ("merchant_discount_fen", "商家优惠 merchant discount (fen)"),
           ("platform_subsidy_fen", "平台补贴 platform subsidy (fen)"), ("subsidy_source", "补贴来源 subsidy source"),
           ("vat_rate_bp", "税率 VAT rate (bp)"), ("tax_fen", "税额 VAT (fen)"), ("refund_fen", "退款 refund (fen)"),
           ("freight_charged_fen", "运费 postage (fen)"), ("freight_tax_fen", "运费税额 postage VAT (fen)"))


def _sources(order_ids: list[int]) -> dict[int, str]:
    named: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start:start + CHUNK]
        for order_id, name in (OrderCharge.select(OrderCharge.order, OrderCharge.name)
                               .where(OrderCharge.order.in_(chunk), OrderCharge.kind == "platform_subsidy",
                                      OrderCharge.name != "").tuples()):
            if name not in named[order_id]:
                named[order_id].append(name)
        for order_id, name in (BillLine.select(BillLine.order, BillLine.subsidy_source)
                               .where(BillLine.order.in_(chunk), BillLine.kind == "subsidy",
                                      BillLine.subsidy_source != "").tuples()):
            if order_id not in named or name not in named[order_id]:
                named.setdefault(order_id, [])
                if name not in named[order_id]:
                    named[order_id].append(name)
        for order_id, channel, coupon, points in (Order.select(Order.id, Order.channel, Order.coupon_fen,
                                                               Order.discount_fen)
                                                  .where(Order.id.in_(chunk)).tuples()):
            if named.get(order_id):
                continue
            guess = []
            if coupon:
                guess.append({"tmall": "天猫卡券", "top": "淘宝卡券"}.get(channel, "平台券"))
            if points and channel == "tmall":
                guess.append("集分宝")
            named[order_id] = guess
    return {order_id: "、".join(names) for order_id, names in named.items()}


def rows(first: dt.date, last: dt.date, shop: str | None = None, limit: int | None = None,
         offset: int = 0) -> tuple[list[dict], int]:
    lm = LineMoney
    query = (lm.select(lm, Order.id, Order.external_id).join(Order, on=(lm.order == Order.id))
             .where(lm.day >= first, lm.day <= last))
    if shop:
        query = query.where(lm.shop == shop)
    total = query.count()
    query = query.order_by(lm.day, lm.order, lm.line)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    found = list(query)
    sources = _sources(sorted({m.order.id for m in found}))
    out = []
    for m in found:
        out.append({"day": m.day, "shop": m.shop, "channel": m.channel, "order": m.order.external_id,
                    "sku": m.sku_code, "qty": m.qty, "price_fen": m.price_fen, "paid_fen": m.paid_fen,
                    "merchant_discount_fen": m.merchant_discount_fen, "platform_subsidy_fen": m.platform_subsidy_fen,
                    "subsidy_source": sources.get(m.order.id, "") if m.platform_subsidy_fen else "",
                    "vat_rate_bp": m.vat_rate_bp, "tax_fen": m.tax_fen, "refund_fen": m.refund_fen,
                    "freight_charged_fen": m.freight_charged_fen, "freight_tax_fen": m.freight_tax_fen})
    return out, total


def xlsx(first: dt.date, last: dt.date, shop: str | None = None) -> bytes:
    _, total = rows(first, last, shop, limit=1)
    if total > XLSX_ROWS:
        raise TooManyRows(f"{total} lines are more than one worksheet holds ({XLSX_ROWS}): choose fewer days or "
                          "one shop", lines=total)
    items, _ = rows(first, last, shop)
    book = Workbook()
    sheet = book.active
    sheet.title = "交易明细"
    sheet.append([title for _, title in COLUMNS])
    for item in items:
        sheet.append([item[key].isoformat() if key == "day" else item[key] for key, _ in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
