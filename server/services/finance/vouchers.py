"""Daily accounting vouchers (记账凭证) from the day's money, one voucher per kind:

    sales     Dr 应收-平台待结算 (paid + postage)      Cr 主营业务收入 (paid − its VAT), 其他业务收入-运费,
                                                    应交增值税(销项) (the VAT inside paid)
    subsidy   Dr 应收-平台补贴 (platform subsidies)    Cr 主营业务收入-平台补贴 (net), 销项税 (VAT inside)
    fees      Dr 销售费用-平台佣金, 财务费用-支付手续费   Cr 应收-平台待结算 (the platform keeps them)
              Dr 销售费用-快递费                       Cr 应付账款-快递公司
    cogs      Dr 主营业务成本                           Cr 库存商品          (lines shipped that day)
    refund    Dr 主营业务收入 (net), 销项税 (VAT inside) Cr 应收-平台待结算   (refunds that succeeded that day)
    receipt   Dr 库存商品 (cost + inbound freight)      Cr 应付账款-供应商   (goods received that day)

Sales, subsidy and fee figures are line_money's (server/models/money.py) of the lines paid on
the day (Beijing time); VAT of a line is line_money.tax_fen, the part inside the subsidy is
``vat_inside(subsidy, rate)`` and the rest is the sales part, so the day's VAT is exactly
line_money's. Every voucher is balanced by construction; :func:`check` proves it again before
an export, and an unbalanced voucher (edited by hand, a bug) is never exported.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from peewee import JOIN, fn

from server.db import write_transaction
from server.models.finance import VOUCHER_KINDS, Voucher, VoucherLine
from server.models.money import CostChange, LineMoney
from server.models.returns import Refund
from server.services.errors import DomainError
from server.services.finance import accounts
from server.services.money.lines import day_bounds
from server.services.money.split import vat_inside

KIND_NAMES = {"sales": "销售收入", "subsidy": "平台补贴收入", "fees": "平台费用及运费", "cogs": "结转销售成本",
              "refund": "销售退款", "receipt": "采购入库"}


class VoucherExported(DomainError):
    code = "voucher_exported"
    http_status = 409


class Unbalanced(DomainError):
    code = "voucher_unbalanced"


def _sales_figures(day: dt.date, shop: str) -> dict:
    lm = LineMoney
    query = (lm.select(lm.vat_rate_bp, fn.SUM(lm.paid_fen), fn.SUM(lm.freight_charged_fen),
                       fn.SUM(lm.platform_subsidy_fen), fn.SUM(lm.tax_fen), fn.SUM(lm.commission_fen),
                       fn.SUM(lm.payment_fee_fen), fn.SUM(lm.freight_paid_fen))
             .where(lm.day == day).group_by(lm.vat_rate_bp))
    if shop:
        query = query.where(lm.shop == shop)
    total = defaultdict(int)
    for rate, paid, freight, subsidy, tax, commission, fee, carrier in query.tuples():
        paid, freight, subsidy, tax = int(paid or 0), int(freight or 0), int(subsidy or 0), int(tax or 0)
        # the subsidy's VAT by the rate; the rest of the lines' VAT is the sales part (per rate,
        # so the day's VAT is line_money's to the fen)
        subsidy_tax = min(vat_inside(subsidy, int(rate or 0)), tax)
        total["paid"] += paid
        total["freight_charged"] += freight
        total["subsidy"] += subsidy
        total["subsidy_tax"] += subsidy_tax
        total["sales_tax"] += tax - subsidy_tax
        total["commission"] += int(commission or 0)
        total["payment_fee"] += int(fee or 0)
        total["freight_paid"] += int(carrier or 0)
    return total


def _cogs(start, end, shop: str) -> int:
    query = LineMoney.select(fn.SUM(LineMoney.cogs_fen)).where(LineMoney.shipped_at >= start,
                                                               LineMoney.shipped_at < end,
                                                               LineMoney.cogs_fen.is_null(False))
    if shop:
        query = query.where(LineMoney.shop == shop)
    return int(query.scalar() or 0)


def _refunds(start, end, shop: str) -> tuple[int, int]:
    """(refunded, VAT inside it) of the refunds that succeeded in [start, end), at each line's rate."""
    when = fn.COALESCE(Refund.modified_at, Refund.imported_at)   # a refund the channel gave no time: its import
    query = (Refund.select(Refund.refund_fen, LineMoney.vat_rate_bp)
             .join(LineMoney, on=(LineMoney.line == Refund.line), join_type=JOIN.LEFT_OUTER)
             .where(Refund.state == "success", when >= start, when < end))
    if shop:
        query = query.where(Refund.shop == shop)
    by_rate = defaultdict(int)
    for fen, rate in query.tuples():
        by_rate[int(rate or 0)] += int(fen or 0)
    return sum(by_rate.values()), sum(vat_inside(fen, rate) for rate, fen in by_rate.items())


def _receipts(start, end) -> int:
    return int(CostChange.select(fn.SUM(CostChange.value_in_fen))
               .where(CostChange.reason == "receipt", CostChange.at >= start, CostChange.at < end).scalar() or 0)


def entries_of_day(day: dt.date, shop: str = "") -> dict[str, list[tuple[str, str, int, int]]]:
    """kind -> [(summary, account key, debit, credit)] for the day; zero lines left out."""
    start, end = day_bounds(day, day)
    s = _sales_figures(day, shop)
    label = day.strftime("%m月%d日")
    out: dict[str, list] = {}
    receivable = s["paid"] + s["freight_charged"]
    out["sales"] = [(f"{label}销售收入", "platform_receivable", receivable, 0),
                    (f"{label}销售收入", "revenue", 0, s["paid"] - s["sales_tax"]),
                    (f"{label}买家支付运费", "freight_income", 0, s["freight_charged"]),
                    (f"{label}销项税额", "output_vat", 0, s["sales_tax"])]
    out["subsidy"] = [(f"{label}平台补贴(天猫红包/卡券/集分宝)", "subsidy_receivable", s["subsidy"], 0),
                      (f"{label}平台补贴收入", "subsidy_revenue", 0, s["subsidy"] - s["subsidy_tax"]),
                      (f"{label}平台补贴销项税额", "output_vat", 0, s["subsidy_tax"])]
    out["fees"] = [(f"{label}平台佣金", "commission", s["commission"], 0),
                   (f"{label}支付手续费", "payment_fee", s["payment_fee"], 0),
                   (f"{label}平台扣费", "platform_receivable", 0, s["commission"] + s["payment_fee"]),
                   (f"{label}快递费", "freight_out", s["freight_paid"], 0),
                   (f"{label}应付快递费", "carrier_payable", 0, s["freight_paid"])]
    cogs = _cogs(start, end, shop)
    out["cogs"] = [(f"{label}结转销售成本", "cogs", cogs, 0), (f"{label}结转销售成本", "inventory", 0, cogs)]
    refunded, refund_tax = _refunds(start, end, shop)
    out["refund"] = [(f"{label}销售退款", "revenue", refunded - refund_tax, 0),
                     (f"{label}退款冲减销项税额", "output_vat", refund_tax, 0),
                     (f"{label}销售退款", "platform_receivable", 0, refunded)]
    received = _receipts(start, end) if not shop else 0
    out["receipt"] = [(f"{label}采购入库", "inventory", received, 0),
                      (f"{label}采购入库应付", "supplier_payable", 0, received)]
    return {kind: [e for e in lines if e[2] or e[3]] for kind, lines in out.items()}


def build_days(first: dt.date, last: dt.date | None = None, shop: str = "") -> list[dict]:
    """Make (or make again) the vouchers of the days ``first`` .. ``last``. A day whose vouchers
    were exported keeps them: making them again is refused."""
    last = last or first
    made = []
    day = first
    while day <= last:
        made.extend(_build_day(day, shop))
        day += dt.timedelta(days=1)
    return made


def _build_day(day: dt.date, shop: str) -> list[dict]:
    entries = entries_of_day(day, shop)
    names = accounts.mapping(shop)
    with write_transaction():
        old = list(Voucher.select().where(Voucher.day == day, Voucher.shop == shop))
        exported = [v for v in old if v.exported_at is not None]
        if exported:
            raise VoucherExported(f"the vouchers of {day} were exported; they are not made again", day=str(day))
        if old:
            VoucherLine.delete().where(VoucherLine.voucher.in_([v.id for v in old])).execute()
            Voucher.delete().where(Voucher.id.in_([v.id for v in old])).execute()
        made = []
        for kind in VOUCHER_KINDS:
            lines = entries.get(kind) or []
            if not lines:
                continue
            debit, credit = sum(e[2] for e in lines), sum(e[3] for e in lines)
            voucher = Voucher.create(day=day, kind=kind, shop=shop, number=0, summary=lines[0][0][:100],
                                     debit_fen=debit, credit_fen=credit)
            VoucherLine.insert_many([{"voucher": voucher.id, "seq": i, "summary": summary[:100], "account_key": key,
                                      "account_code": names[key][0], "account_name": names[key][1],
                                      "debit_fen": dr, "credit_fen": cr}
                                     for i, (summary, key, dr, cr) in enumerate(lines, 1)]).execute()
            made.append(voucher.id)
        _renumber(day, shop)
    return [voucher_view(v) for v in Voucher.select().where(Voucher.id.in_(made)).order_by(Voucher.number)] \
        if made else []


def _renumber(day: dt.date, shop: str) -> None:
    """Number the month's vouchers not yet exported in the order of their days and kinds, after
    the exported ones (whose numbers are in the accounting system already and never change)."""
    month = day.replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    in_month = Voucher.select().where(Voucher.day >= month, Voucher.day < next_month, Voucher.shop == shop)
    vouchers = list(in_month)
    number = max((v.number for v in vouchers if v.exported_at is not None), default=0)
    order = {kind: i for i, kind in enumerate(VOUCHER_KINDS)}
    for v in sorted((v for v in vouchers if v.exported_at is None), key=lambda v: (v.day, order[v.kind], v.id)):
        number += 1
        if v.number != number:
            Voucher.update(number=number).where(Voucher.id == v.id).execute()


def voucher_view(voucher: Voucher) -> dict:
    lines = list(VoucherLine.select().where(VoucherLine.voucher == voucher.id).order_by(VoucherLine.seq))
    debit, credit = sum(v.debit_fen for v in lines), sum(v.credit_fen for v in lines)
    return {"id": voucher.id, "day": voucher.day, "kind": voucher.kind, "kind_name": KIND_NAMES[voucher.kind],
            "shop": voucher.shop, "word": voucher.word, "number": voucher.number, "summary": voucher.summary,
            "debit_fen": debit, "credit_fen": credit, "balanced": debit == credit and debit > 0,
            "exported_at": voucher.exported_at,
            "lines": [{"seq": v.seq, "summary": v.summary, "account_key": v.account_key,
                       "account_code": v.account_code, "account_name": v.account_name,
                       "debit_fen": v.debit_fen, "credit_fen": v.credit_fen} for v in lines]}


def vouchers_between(first: dt.date, last: dt.date, shop: str | None = None) -> list[dict]:
    query = Voucher.select().where(Voucher.day >= first, Voucher.day <= last)
    if shop is not None:
        query = query.where(Voucher.shop == shop)
    return [voucher_view(v) for v in query.order_by(Voucher.day, Voucher.number)]


def check(views: list[dict]) -> None:
    """Refuse unless every voucher has lines and its debits equal its credits, and every line is
    on one side only."""
    wrong = []
    for v in views:
        one_sided = all((line["debit_fen"] == 0) != (line["credit_fen"] == 0) for line in v["lines"])
        if not v["lines"] or v["debit_fen"] != v["credit_fen"] or not one_sided:
            wrong.append(f"{v['day']} {v['word']}-{v['number']} ({v['kind']}): debit {v['debit_fen']} fen, "
                         f"credit {v['credit_fen']} fen")
    if wrong:
        raise Unbalanced("unbalanced voucher(s), nothing exported: " + "; ".join(wrong), vouchers=wrong)

