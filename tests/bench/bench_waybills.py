"""A wave's electronic waybills from Cainiao (acceptance: 1,000 numbers in < 5 s, bounded concurrency).

Run: python tests/bench/bench_waybills.py [--orders 1000] [--concurrency 8] [--engine sqlite|postgres]
         [--latency-ms 50] [--gevent]
A Tmall shop connected to a fake TOP gateway on 127.0.0.1 with Cainiao's waybill methods, a
Cainiao account for ZTO, a released wave of ``--orders`` orders (written in bulk: set-up, not what
is measured); then the real service fetches the wave's numbers: ten parcels a request, at most
``--concurrency`` requests at a time, each answer stored in its own short transaction. The fake
waits ``--latency-ms`` before each answer, as the real gateway's round trip does.

The baseline, measured in the same run: the same requests to the same fake at the same
concurrency, with nothing read from or stored in the database (the network's floor). The ratio
is baseline / measured: 1.0 would mean storing costs nothing. Prints one JSON object: the
machine, the seconds, the baseline and ratio, requests made and the numbers stored.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

if "--gevent" in sys.argv:
    from gevent import monkey
    monkey.patch_all()

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("WAVEFLOOR_CREDENTIALS_KEY", "bench-credentials-key")

from server.db import init_database, write_transaction  # noqa: E402
from server.models import CarrierAccount, Order, OrderLine, Shop, Warehouse, Wave, WaveOrder, Waybill  # noqa: E402
from server.schema import create_all  # noqa: E402
from server.services.connectors import connections  # noqa: E402
from server.services.packages import waybills  # noqa: E402
from tests.bench.databases import bench_database  # noqa: E402
from tests.fakes.cainiao import FakeCainiao  # noqa: E402
from tests.fakes.top import FakeTop  # noqa: E402


def set_up(count: int, fake: FakeTop) -> int:
    with write_transaction():
        warehouse = Warehouse.create(code="WH-HZ", name="杭州仓", province="浙江省", address="余杭区文一西路 1500 号")
        shop = Shop.create(code="TM-1", channel="tmall", name="天猫旗舰店")
    connections.connect("TM-1", app_key=fake.app_key, secret=fake.secret, session=fake.session, endpoint=fake.url)
    with write_transaction():
        CarrierAccount.create(carrier="ZTO", source="cainiao", shop=shop,
                              template_url="http://cloudprint.cainiao.com/template/standard/101/1")
        Order.insert_many([{"channel": "tmall", "shop": "TM-1", "external_id": f"TM{n:010d}", "status": "waved",
                            "carrier": "ZTO", "warehouse": warehouse.id, "receiver_name": f"收件人{n}",
                            "receiver_phone": "13800138000", "receiver_province": "广东省",
                            "receiver_city": "深圳市", "receiver_district": "南山区",
                            "receiver_address": f"科技园 {n} 号"} for n in range(count)]).execute()
        ids = [order_id for (order_id,) in Order.select(Order.id).order_by(Order.id).tuples()]
        OrderLine.insert_many([{"order": i, "external_line_id": "1", "sku_code": "TS-01", "title": "纯棉T恤",
                                "qty": 1} for i in ids]).execute()
        wave = Wave.create(code="W-BENCH", warehouse=warehouse, strategy="cluster", status="released")
        WaveOrder.insert_many([{"wave": wave.id, "order": i} for i in ids]).execute()
    return wave.id


def network_only(wave_id: int, concurrency: int) -> float:
    """The wave's requests again, asked at the same concurrency and thrown away."""
    orders = list(Order.select().join(WaveOrder, on=(WaveOrder.order == Order.id)).where(WaveOrder.wave == wave_id))
    account = CarrierAccount.get()
    ask = waybills._asker(account, waybills.Address(**waybills.sender_of(orders[0])))
    requests = waybills.requests_for(orders)
    jobs = [requests[start:start + 10] for start in range(0, len(requests), 10)]
    began = time.perf_counter()
    for _ in waybills._bounded(ask, jobs, concurrency):
        pass
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--gevent", action="store_true", help="monkey-patch first: greenlets, not threads")
    args = parser.parse_args()
    fake = FakeTop().start()
    cainiao = FakeCainiao(fake)
    fake.slow_s = args.latency_ms / 1000
    with tempfile.TemporaryDirectory() as folder, bench_database(args.engine, folder, "waybills") as url:
        init_database(url)
        create_all()
        wave_id = set_up(args.orders, fake)
        began = time.perf_counter()
        report = waybills.fetch_for_wave(wave_id, concurrency=args.concurrency)
        seconds = time.perf_counter() - began
        stored = Waybill.select().where(Waybill.state == "assigned").count()
        baseline = network_only(wave_id, args.concurrency)
    fake.stop()
    print(json.dumps({
        "bench": "waybills", "engine": args.engine, "workers": "gevent" if args.gevent else "threads",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.system()},
        "orders": args.orders, "concurrency": args.concurrency, "latency_ms": args.latency_ms,
        "seconds": round(seconds, 3), "baseline_s": round(baseline, 3), "ratio": round(baseline / seconds, 2),
        "requests": fake.calls["cainiao.waybill.ii.get"] // 2,
        "stored": stored, "issued": len(cainiao.issued), "failed": report["failed"],
        "target_s": 5.0, "ok": stored == args.orders and seconds < 5.0,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
