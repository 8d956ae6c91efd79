"""Daily accounting vouchers (记账凭证) from the day's money, one voucher per kind:

    sales     Dr 应收-平台待结算 (paid + postage)      Cr 主营业务收入 (paid − its VAT), 其他业务收入-运费
                                                    (postage − its VAT), 应交增值税(销项) (the VAT inside
                                                    paid, and inside the postage)
    subsidy   Dr 应收-平台补贴 (platform subsidies)    Cr 主营业务收入-平台补贴 (net), 销项税 (VAT inside)
    fees      Dr 销售费用-平台佣金, 财务费用-支付手续费   Cr 应收-平台待结算 (the platform keeps them)
              Dr 销售费用-快递费                       Cr 应付账款-快递公司
    cogs      Dr 主营业务成本                           Cr 库存商品          (lines shipped that day)
    refund    Dr 主营业务收入 (net), 销项税 (VAT inside) Cr 应收-平台待结算   (refunds that succeeded that day)
              Dr 主营业务收入-平台补贴 (net), 销项税      Cr 应收-平台补贴     (the subsidy the platform takes back)
              Dr 应收-平台待结算                        Cr 销售费用-平台佣金, 财务费用-支付手续费
                                                                         (the fees it gives back)
    returned  Dr 库存商品                               Cr 主营业务成本      (units back in stock that day)
    receipt   Dr 库存商品 (cost + inbound freight)      Cr 应付账款-供应商   (goods received that day)

Sales, subsidy and fee figures are line_money's (server/models/money.py) of the lines paid on
the day (Beijing time); VAT of a line is line_money.tax_fen, the part inside the subsidy is
``vat_inside(subsidy, rate)`` and the rest is the sales part, so the day's VAT is exactly
line_money's; the postage's VAT is line_money.freight_tax_fen. A refund's subsidy, commission
and payment fee are its share of its line's ``refund_subsidy_fen``, ``refund_commission_fen``
and ``refund_payment_fee_fen``, and a returned unit's cost its share of ``returned_cogs_fen``:
the shares of a line's refunds (returned units) in time order sum to line_money's figure. Every
voucher is balanced by construction; :func:`check` proves it again before an export, and an
unbalanced voucher (edited by hand, a bug) is never exported.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from peewee import JOIN, fn

from server.db import write_transaction
from server.models.finance import VOUCHER_KINDS, Voucher, VoucherLine
from server.models.money import CostChange, LineMoney
from server.models.returns import Refund, ReturnUnit
from server.services.errors import DomainError
from server.services.finance import accounts
from server.services.money.lines import day_bounds
from server.services.money.split import part, vat_inside

KIND_NAMES = {"sales": "销售收入", "subsidy": "平台补贴收入", "fees": "平台费用及运费", "cogs": "结转销售成本",
              "refund": "销售退款", "returned": "退货入库冲减成本", "receipt": "采购入库"}
CHUNK = 500


class VoucherExported(DomainError):
    code = "voucher_exported"
    http_status = 409


class Unbalanced(DomainError):
    code = "voucher_unbalanced"


def _sales_figures(day: dt.date, shop: str) -> dict:
    lm = LineMoney
    query = (lm.select(lm.vat_rate_bp, fn.SUM(lm.paid_fen), fn.SUM(lm.freight_charged_fen),
                       fn.SUM(lm.platform_subsidy_fen), fn.SUM(lm.tax_fen), fn.SUM(lm.commission_fen),
                       fn.SUM(lm.payment_fee_fen), fn.SUM(lm.freight_paid_fen), fn.SUM(lm.freight_tax_fen))
             .where(lm.day == day).group_by(lm.vat_rate_bp))
    if shop:
        query = query.where(lm.shop == shop)
    total = defaultdict(int)
    for rate, paid, freight, subsidy, tax, commission, fee, carrier, freight_tax in query.tuples():
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
        total["freight_tax"] += int(freight_tax or 0)
    return total


def _cogs(start, end, shop: str) -> int:
    query = LineMoney.select(fn.SUM(LineMoney.cogs_fen)).where(LineMoney.shipped_at >= start,
                                                               LineMoney.shipped_at < end,
                                                               LineMoney.cogs_fen.is_null(False))
    if shop:
        query = query.where(LineMoney.shop == shop)
    return int(query.scalar() or 0)


def _refunds(start, end, shop: str) -> dict:
    """The refunds that succeeded in [start, end): ``refunded`` and ``tax`` (the VAT inside it, at
    each line's rate), and each refund's share of what its line's money reverses with it: the
    platform's subsidy taken back (``subsidy``, its VAT ``subsidy_tax``), the commission and the
    payment fee given back (``commission``, ``payment_fee``)."""
    when = fn.COALESCE(Refund.modified_at, Refund.imported_at)   # a refund the channel gave no time: its import
    query = (Refund.select(Refund.id, Refund.line, Refund.refund_fen, LineMoney.vat_rate_bp)
             .join(LineMoney, on=(LineMoney.line == Refund.line), join_type=JOIN.LEFT_OUTER)
             .where(Refund.state == "success", when >= start, when < end))
    if shop:
        query = query.where(Refund.shop == shop)
    by_rate, subsidy_by_rate = defaultdict(int), defaultdict(int)
    day_refunds = list(query.tuples())
    lines = sorted({line for _, line, _, _ in day_refunds if line is not None})
    shares = _refund_shares(lines)
    total = defaultdict(int)
    for refund_id, _, fen, rate in day_refunds:
        by_rate[int(rate or 0)] += int(fen or 0)
        subsidy, commission, payment_fee = shares.get(refund_id, (0, 0, 0))
        subsidy_by_rate[int(rate or 0)] += subsidy
        total["commission"] += commission
        total["payment_fee"] += payment_fee
    total["refunded"] = sum(by_rate.values())
    total["tax"] = sum(vat_inside(fen, rate) for rate, fen in by_rate.items())
    total["subsidy"] = sum(subsidy_by_rate.values())
    total["subsidy_tax"] = sum(vat_inside(fen, rate) for rate, fen in subsidy_by_rate.items())
    return total


def _refund_shares(line_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """refund -> its share of its line's (refund_subsidy, refund_commission, refund_payment_fee):
    the line's successful refunds in time order, each the difference of the cumulative shares, so
    that the shares of all of a line's refunds are the line's figures to the fen."""
    when = fn.COALESCE(Refund.modified_at, Refund.imported_at)
    found = {}
    for start in range(0, len(line_ids), CHUNK):
        chunk = line_ids[start:start + CHUNK]
        money = {line: (subsidy, commission, fee) for line, subsidy, commission, fee in
                 LineMoney.select(LineMoney.line, LineMoney.refund_subsidy_fen, LineMoney.refund_commission_fen,
                                  LineMoney.refund_payment_fee_fen).where(LineMoney.line.in_(chunk)).tuples()}
        refunds = defaultdict(list)
        for refund_id, line, fen, at in (Refund.select(Refund.id, Refund.line, Refund.refund_fen, when)
                                         .where(Refund.state == "success", Refund.line.in_(chunk)).tuples()):
            refunds[line].append((str(at), refund_id, int(fen or 0)))
        for line, rows in refunds.items():
            if line not in money:
                continue
            whole = sum(fen for *_, fen in rows)
            before = 0
            for _, refund_id, fen in sorted(rows):
                after = before + fen
                found[refund_id] = tuple(part(figure, after, whole) - part(figure, before, whole)
                                         for figure in money[line])
                before = after
    return found


def _returned_cogs(start, end, shop: str) -> int:
    """The cost of goods sold reversed by the units back at the returns bench in [start, end):
    each unit's share of its line's ``returned_cogs_fen`` (its line's units in time order, so that
    they sum to line_money's figure)."""
    lm = LineMoney
    query = ReturnUnit.select(ReturnUnit.line).where(ReturnUnit.line.is_null(False), ReturnUnit.at >= start,
                                                     ReturnUnit.at < end).distinct()
    line_ids = sorted(line for (line,) in query.tuples())
    total = 0
    for first in range(0, len(line_ids), CHUNK):
        chunk = line_ids[first:first + CHUNK]
        money = lm.select(lm.line, lm.qty, lm.cogs_fen).where(lm.line.in_(chunk), lm.cogs_fen.is_null(False))
        if shop:
            money = money.where(lm.shop == shop)
        cost = {line: (qty, cogs) for line, qty, cogs in money.tuples()}
        units = defaultdict(list)
        for line, at, unit_id, qty in (ReturnUnit.select(ReturnUnit.line, ReturnUnit.at, ReturnUnit.id, ReturnUnit.qty)
                                       .where(ReturnUnit.line.in_(list(cost))).tuples()):
            units[line].append((at, unit_id, qty))
        for line, rows in units.items():
            qty, cogs = cost[line]
            back = 0
            for at, _, n in sorted(rows):
                share = part(cogs, min(back + n, qty), qty) - part(cogs, min(back, qty), qty)
                if start <= at < end:
                    total += share
                back += n
    return total


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
                    (f"{label}买家支付运费", "freight_income", 0, s["freight_charged"] - s["freight_tax"]),
                    (f"{label}销项税额", "output_vat", 0, s["sales_tax"]),
                    (f"{label}运费销项税额", "output_vat", 0, s["freight_tax"])]
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
    r = _refunds(start, end, shop)
    out["refund"] = [(f"{label}销售退款", "revenue", r["refunded"] - r["tax"], 0),
                     (f"{label}退款冲减销项税额", "output_vat", r["tax"], 0),
                     (f"{label}销售退款", "platform_receivable", 0, r["refunded"]),
                     (f"{label}退款冲减平台补贴收入", "subsidy_revenue", r["subsidy"] - r["subsidy_tax"], 0),
                     (f"{label}退款冲减补贴销项税额", "output_vat", r["subsidy_tax"], 0),
                     (f"{label}平台收回补贴", "subsidy_receivable", 0, r["subsidy"]),
                     (f"{label}平台退还佣金及手续费", "platform_receivable", r["commission"] + r["payment_fee"], 0),
                     (f"{label}退款冲减平台佣金", "commission", 0, r["commission"]),
                     (f"{label}退款冲减支付手续费", "payment_fee", 0, r["payment_fee"])]
    returned = _returned_cogs(start, end, shop)
    out["returned"] = [(f"{label}退货入库", "inventory", returned, 0),
                       (f"{label}退货冲减销售成本", "cogs", 0, returned)]
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

