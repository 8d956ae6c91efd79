"""Vouchers and the settlement bill for a day of 50,000 orders (issue 28: margins and vouchers for
a day in under 10 s).

The day is bench_margins.py's: 50,000 Tmall orders over 4 shops, about 90,000 lines, every line
shipped (cost fixed) the next day. Set up, not timed: the orders.

Timed, ours:
- ``margins_and_vouchers``: the day's line money with COGS at shipment (``lines.refresh_orders``,
  the line money step, the same call bench_margins.py times), then ``vouchers.build_days`` for the day and
  the next (sales, subsidy, fees on the day; COGS on the next), then the 金蝶 and 用友 U8 xlsx
  exports of both days (balance check included); the issue's limit (10 s) is on this total;
- ``bill``: an Alipay 账务明细 CSV (GBK, ="…" cells, # lines) with a payment and a commission line
  per order (100,000 lines) made for the day: ``settlement.import_bill`` (parse, store, reconcile
  every line against the orders and line_money).

Baselines, measured in the same run on the same database: for vouchers, the day's grouped sums
straight on line_money (one SELECT … GROUP BY vat_rate_bp, as plain SQL); for the bill, reading
the same CSV file with the csv module alone (decode + split, nothing stored). ``ratio`` is ours /
baseline. Prints one JSON object.

    .venv/bin/python tests/bench/bench_vouchers.py [--orders 50000] [--database sqlite|postgres]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench.bench_margins import DAY, build  # noqa: E402
from tests.bench.databases import bench_database  # noqa: E402

LIMIT_S = 10.0
HEADER = "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注"


def make_bill() -> bytes:
    """A payment and a commission line per order, as the Alipay export writes them."""
    from server.db import sql
    rows = sql("SELECT o.external_id, o.paid_fen, SUM(m.commission_fen) FROM \"order\" o "
               "JOIN line_money m ON m.order_id = o.id GROUP BY o.id, o.external_id, o.paid_fen ORDER BY o.id").fetchall()
    lines = ["#支付宝账务明细查询", "#账号：[20880000000000000001]", HEADER]
    serial = 0
    for external_id, paid, commission in rows:
        serial += 1
        lines.append(f'="{serial:017d}",="B{serial:020d}",="T200P{external_id}",商品,2026-11-18 10:00:00,buyer,'
                     f'{paid / 100:.2f},,,支付宝,在线支付,')
        serial += 1
        lines.append(f'="{serial:017d}",="B{serial:020d}",,,2026-11-18 10:00:01,,,{int(commission) / 100:.2f},,'
                     f'支付宝,软件服务费,天猫佣金（类目）{{{external_id}}}扣款')
    lines.append("#导出时间：[2026年11月19日 09:00:00]")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def voucher_baseline() -> float:
    from server.db import sql
    began = time.perf_counter()
    sql("SELECT vat_rate_bp, SUM(paid_fen), SUM(freight_charged_fen), SUM(platform_subsidy_fen), SUM(tax_fen), "
        "SUM(commission_fen), SUM(payment_fee_fen), SUM(freight_paid_fen) FROM line_money WHERE day = ? "
        "GROUP BY vat_rate_bp", DAY).fetchall()
    return time.perf_counter() - began


def bill_baseline(raw: bytes) -> float:
    began = time.perf_counter()
    rows = list(csv.reader(io.StringIO(raw.decode("gbk"))))
    assert len(rows) > 2
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=50000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    from server.db import init_database
    from server.schema import create_all
    with tempfile.TemporaryDirectory() as folder, bench_database(args.database, folder, "vouchers") as url:
        init_database(url)
        create_all()
        began = time.perf_counter()
        size = build(args.orders)
        setup_s = time.perf_counter() - began
        from server.services.finance import export, settlement, vouchers

        from server.services.money import lines as money_lines
        began = time.perf_counter()
        ids = money_lines.orders_of_days(DAY, DAY)
        money_lines.refresh_orders(ids, shipping={i: (size["warehouse"], size["shipped_at"]) for i in ids})
        money_s = time.perf_counter() - began
        raw = make_bill()
        v_base = min(voucher_baseline() for _ in range(3))
        began = time.perf_counter()
        made = vouchers.build_days(DAY, DAY + dt.timedelta(days=1))
        built_s = time.perf_counter() - began
        rows = 0
        for layout in ("kingdee", "u8"):
            content, _ = export.export_xlsx(layout, DAY, DAY + dt.timedelta(days=1))
            rows += len(content)
        v_seconds = time.perf_counter() - began

        b_base = min(bill_baseline(raw) for _ in range(3))
        began = time.perf_counter()
        imported = settlement.import_bill("alipay", "tm-flagship", raw, name="bench.csv")
        b_seconds = time.perf_counter() - began

        total = money_s + v_seconds
        result = {"bench": "vouchers_and_bill_day", "database": args.database, "orders": size["orders"],
                  "lines": size["lines"], "setup_s": round(setup_s, 2),
                  "margins_and_vouchers": {"seconds": round(total, 3), "limit_s": LIMIT_S, "passed": total < LIMIT_S,
                                           "line_money_s": round(money_s, 3)},
                  "vouchers": {"seconds": round(v_seconds, 3), "build_s": round(built_s, 3), "made": len(made),
                               "balanced": all(v["balanced"] for v in made), "baseline_s": round(v_base, 4),
                               "baseline": "the day's grouped sums straight on line_money",
                               "ratio": round(v_seconds / v_base, 1) if v_base else None},
                  "bill": {"seconds": round(b_seconds, 3), "lines": imported["lines"],
                           "counts": imported["reconciliation"]["counts"], "problems": len(imported["problems"]),
                           "baseline_s": round(b_base, 3), "baseline": "csv.reader over the decoded file, nothing stored",
                           "ratio": round(b_seconds / b_base, 1) if b_base else None,
                           "lines_per_s": round(imported["lines"] / b_seconds)}}
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
