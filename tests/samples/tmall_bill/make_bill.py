"""Make the Alipay 账务明细 export (bill.csv, GBK) that settles the shared Tmall order sample
(../shared/samples/tmall), and expected.json with the figures a reconciliation must find.

Run from the repository root:  .venv/bin/python tests/samples/tmall_bill/make_bill.py [SAMPLE_DIR]

What the bill holds, per order of the sample (all paid, none refunded):
  在线支付      + the buyer's paid amount (商户订单号 T200P<order>)
  软件服务费    − the Tmall commission, 5 % (500 bp) of the goods (买家应付货款: paid − postage +
                  the platform's coupon), half up to the fen
                  (备注 天猫佣金（类目）{<order>}扣款); order 3700000000010055433 is charged 1.00 yuan
                  too much on purpose: the one mismatched fee
  其他          + the platform's coupon (天猫卡券抵扣) paid back to the merchant (备注 天猫卡券补贴)
and three lines that are not the sample's: a withdrawal (提现, ignored), a payment of an order
the sample does not have (unmatched) and a row with an unreadable amount (a problem, line and
field named). Cells of long numbers are ="…" as the real export writes them.

expected.json also holds the gross margin per SKU once every order has shipped at the
catalogue's costs (products.csv), worked out here by the rules of docs/money.md written out
again: the reduction below list price is the platform's as far as the order's coupons go and
the merchant's beyond; both are split over the lines by list price with the largest-remainder
rule; commission is 5 % of (paid + platform subsidy), rounded once per order and split by the
same rule; VAT 13 % is inside the revenue and inside the postage the buyer paid (the rate of
the order's goods), split over the lines as the postage is; no payment fee and no carrier
charge are set.
"""
from __future__ import annotations

import csv
import json
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from server.channels.registry import get_adapter  # noqa: E402

RATE_BP = 500
WRONG_ORDER = "3700000000010055433"
WRONG_BY_FEN = 100
UNKNOWN_ORDER = "3700000000099999999"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def half_up(fen: int, bp: int) -> int:
    return (fen * bp + 5000) // 10000


def cell(text: str) -> str:
    return f'="{text}"'


def largest_remainder(total: int, weights: list[int], caps: list[int] | None = None) -> list[int]:
    """``total`` split by ``weights``: whole shares, then a fen each to the largest remainders
    (ties to the earlier line), never above a cap."""
    whole = sum(weights) or len(weights)
    weights = weights if sum(weights) else [1] * len(weights)
    shares = [total * w // whole for w in weights]
    if caps:
        shares = [min(s, c) for s, c in zip(shares, caps)]
    left = total - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i)):
        if left and (not caps or shares[i] < caps[i]):
            shares[i] += 1
            left -= 1
    for i in range(len(weights)):
        give = min(left, caps[i] - shares[i]) if caps else 0
        shares[i] += give
        left -= give
    assert left == 0
    return shares


def margins_by_sku(orders, costs: dict[str, int]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for order in orders:
        prices = [line.price_fen * line.qty for line in order.lines]
        reduction = sum(prices) - (order.paid_fen - order.freight_fen)
        assert reduction >= 0, order.external_id
        platform = min(order.coupon_fen + order.discount_fen, reduction)
        discount = largest_remainder(reduction, prices, prices)
        merchant = largest_remainder(reduction - platform, prices, discount)
        paid = [p - d for p, d in zip(prices, discount)]
        base = [p + d - m for p, d, m in zip(paid, discount, merchant)]  # paid + platform subsidy
        postage = largest_remainder(order.freight_fen, paid)
        commission = largest_remainder((sum(base) * RATE_BP + 5000) // 10000,
                                       [b * RATE_BP for b in base])
        postage_tax = largest_remainder((order.freight_fen * 1300 * 2 + 11300) // (2 * 11300), postage)
        for line, b, c, f, ft in zip(order.lines, base, commission, postage, postage_tax):
            tax = (b * 1300 * 2 + 11300) // (2 * 11300)
            cogs = costs[line.sku_code] * line.qty
            row = found.setdefault(line.sku_code, {"revenue_fen": 0, "tax_fen": 0, "cogs_fen": 0, "commission_fen": 0,
                                                   "margin_fen": 0})
            row["revenue_fen"] += b
            row["tax_fen"] += tax
            row["cogs_fen"] += cogs
            row["commission_fen"] += c
            row["margin_fen"] += b - tax - cogs - c + f - ft
    return dict(sorted(found.items()))


def main(sample: Path) -> None:
    parsed = get_adapter("tmall_csv").parse([str(sample / "orders.csv"), str(sample / "items.csv")])
    orders = sorted(parsed.orders, key=lambda o: o.external_id)
    with open(sample / "products.csv", encoding="utf-8") as handle:
        costs = {row["sku"]: int(row["cost_fen"]) for row in csv.DictReader(handle)}
    header = ["账务流水号", "业务流水号", "商户订单号", "商品名称", "发生时间", "对方账号", "收入金额（+元）",
              "支出金额（-元）", "账户余额（元）", "交易渠道", "业务类型", "备注"]
    rows: list[list[str]] = []
    serial = 20261117000000000
    balance = 0
    expected_lines = []

    def add(order_id, biz_type, memo, amount, when, title="", kind=""):
        nonlocal serial, balance
        serial += 1
        balance += amount
        rows.append([cell(str(serial)), cell(f"2026111722001{serial % 10**9:09d}"),
                     cell(f"T200P{order_id}") if order_id and biz_type == "在线支付" else "",
                     title, when.strftime("%Y-%m-%d %H:%M:%S"), "tmall_buyer@alipay" if amount > 0 else "",
                     f"{amount / 100:.2f}" if amount > 0 else "", f"{-amount / 100:.2f}" if amount < 0 else "",
                     f"{balance / 100:.2f}", "支付宝", biz_type, memo])
        expected_lines.append({"serial": str(serial), "order": order_id, "kind": kind, "amount_fen": amount})

    totals = {"payment": 0, "commission": 0, "subsidy": 0}
    for order in orders:
        oid = order.external_id
        when = order.paid_at.astimezone(SHANGHAI) + timedelta(days=7)
        add(oid, "在线支付", "", order.paid_fen, when, order.lines[0].title, "payment")
        totals["payment"] += order.paid_fen
        # the commission's base is the goods before the platform's coupon (买家应付货款): what the
        # buyer paid for the goods plus what the platform paid for them, postage left out
        fee = half_up(order.goods_fen, RATE_BP) + (WRONG_BY_FEN if oid == WRONG_ORDER else 0)
        add(oid, "软件服务费", f"天猫佣金（类目）{{{oid}}}扣款", -fee, when + timedelta(seconds=1), "", "commission")
        totals["commission"] -= fee
        if order.coupon_fen:
            add(oid, "其他", f"天猫卡券补贴 T200P{oid}", order.coupon_fen, when + timedelta(seconds=2), "", "subsidy")
            totals["subsidy"] += order.coupon_fen
    last = orders[-1].paid_at.astimezone(SHANGHAI) + timedelta(days=8)
    add("", "提现", "提现到银行卡", -100000, last, "", "transfer")
    add(UNKNOWN_ORDER, "在线支付", "", 9900, last, "陶瓷马克杯", "payment")
    lines = [
        "#支付宝账务明细查询",
        "#账号：[20880123456789010156]",
        "#起始日期：[2026年11月17日 00:00:00]   终止日期：[2026年11月19日 00:00:00]",
        "#-----------------------------------------账务明细列表----------------------------------------",
        ",".join(header),
    ]
    lines += [",".join(row) for row in rows]
    bad_line = len(lines) + 1
    lines.append(",".join([cell("20261117999999999"), "", "", "", "2026-11-18 10:00:00", "", "12.3.4", "", "",
                           "支付宝", "在线支付", ""]))
    income = sum(r["amount_fen"] for r in expected_lines if r["amount_fen"] > 0)
    outgo = -sum(r["amount_fen"] for r in expected_lines if r["amount_fen"] < 0)
    lines += [
        "#-----------------------------------------账务明细列表结束------------------------------------",
        f"#收入合计：{sum(1 for r in expected_lines if r['amount_fen'] > 0)}笔，共{income / 100:.2f}元",
        f"#支出合计：{sum(1 for r in expected_lines if r['amount_fen'] < 0)}笔，共{outgo / 100:.2f}元",
        "#导出时间：[2026年11月19日 09:12:33]",
    ]
    (HERE / "bill.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    n = len(orders)
    subsidies = sum(1 for o in orders if o.coupon_fen)
    expected = {
        "commission_rate_bp": RATE_BP,
        "orders": n,
        "lines": len(expected_lines),
        "bad_rows": [[bad_line, "收入金额", "amount"]],
        "totals_fen": totals,
        "mismatched": [{"order": WRONG_ORDER, "kind": "commission", "diff_fen": -WRONG_BY_FEN}],
        # without line_money the fee lines cannot be compared
        "states_without_fees": {"matched": n, "unchecked": n + subsidies, "unmatched": 1, "ignored": 1},
        "states_with_fees": {"matched": n + (n - 1) + subsidies, "mismatched": 1, "unmatched": 1, "ignored": 1},
        "lines_detail": expected_lines,
        "margin_by_sku": margins_by_sku(orders, costs),
    }
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"bill.csv: {len(expected_lines)} lines + 1 bad row for {n} orders")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "samples" / "tmall")
