"""500 handhelds against Wavefloor behind nginx: two server processes, and one, in the same run.

The floor: a PostgreSQL database of the bench's own (created on the server of
WAVEFLOOR_TEST_PG and dropped at the end), a redis-server of its own on a free port (the
processes share events through it), `wavefloor serve` processes, and Debian's nginx started
with ``-p`` on a config written to a temporary folder (WebSocket upgrade, sticky sessions).

Each simulated handheld (python-socketio over WebSocket; the devices are spread over two
client processes of threads) sends ``cmd`` in a closed loop with a short pause: mostly
stock/lookup (read-only), one in five a stock/move of one unit between two of its own
locations. Measured per setup: scans/s answered and p50/p99 round trip. The same client
code runs against 1 and 2 server processes, so the ratio is the gain of the second process.
Two phases per setup: ``paced`` (every device pauses PAUSE_S between answer and next scan,
so the floor offers about devices / PAUSE_S scans/s: round trips at that load) and
``saturated`` (no pause: the scans/s the site takes).

Stickiness: production uses ``ip_hash`` (deploy/nginx/wavefloor.conf). Every simulated device
here comes from 127.0.0.1, which ip_hash would send to one process, so the bench pins each
device by its ``device`` query parameter (``hash $arg_device consistent``) instead.

Prints one JSON object.  usage: python tests/bench/bench_load.py [--devices 500] [--seconds 20]
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.bench.keys import time_ordered_key  # noqa: E402
from tests.bench.ports import free_port, wait_port  # noqa: E402

# the servers started here serve the floor only: no nightly jobs or platform pulls beside the scans
os.environ.setdefault("WAVEFLOOR_NIGHTLY_JOBS", "false")
os.environ.setdefault("WAVEFLOOR_CONNECTOR_WORKER", "false")

PG_ADMIN_URL = os.environ.get("WAVEFLOOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PAUSE_S = 0.4           # between one answer and the device's next scan (a person scanning fast)
MOVE_EVERY = 5          # one command in five moves stock
CLIENT_PROCESSES = 2
LOCATIONS = 50


# --- the floor -------------------------------------------------------------------------------

def setup(url: str, devices: int) -> list[dict]:
    """Locations with stock and one receiver token per device; returns each device's token and codes."""
    from server.db import init_database
    from server.models import ApiToken, Barcode, Device, Location, Product, Warehouse
    from server.models.base import utcnow
    from server.schema import create_all
    from server.services import auth
    from server.services.stock import inventory

    init_database(url)
    create_all()
    auth.ensure_roles()
    wh = Warehouse.create(code="B", name="bench", aisles=LOCATIONS, aisle_length_m=20, aisle_width_m=3)
    locations = [Location.create(warehouse=wh, code=f"L-{n:03d}", kind="pick", aisle=n, y_m=1.0, pick_seq=n)
                 for n in range(LOCATIONS)]
    products = []
    for n in range(20):
        product = Product.create(sku=f"SKU-{n:03d}", name=f"bench {n}", weight_g=100, price_fen=100)
        Barcode.create(code=f"690{n:010d}", product=product)
        products.append(product)
    actor = inventory.system_actor()
    receiver = auth.add_user("bench-receiver", "bench", ["receiver"])
    plan = []
    for n in range(devices):
        product = products[n % len(products)]
        src, dst = locations[n % LOCATIONS], locations[(n + 1) % LOCATIONS]
        for location in (src, dst):  # stock at both ends: devices that share a pair never refuse each other
            inventory.receive(product, location, 10_000, actor=actor)
        device = Device.create(code=f"HH-{n:04d}")
        token = secrets.token_urlsafe(32)
        ApiToken.create(token_hash=hashlib.sha256(token.encode()).hexdigest(), user=receiver, device=device,
                        kind="session", expires_at=utcnow() + dt.timedelta(hours=2))
        plan.append({"token": token, "device": device.code, "sku": product.sku, "barcode": f"690{n % 20:010d}",
                     "src": src.code, "dst": dst.code})
    return plan


def nginx_config(folder: str, listen: int, ports: list[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in ports)
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream wavefloor {{
        hash $arg_device consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{listen};
        location /socket.io/ {{
            proxy_pass http://wavefloor;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 600s;
            proxy_buffering off;
        }}
    }}
}}
"""


class Site:
    """n server processes, nginx in front of them."""

    def __init__(self, db_url: str, redis_url: str, folder: str, processes: int):
        self.folder = os.path.join(folder, f"site-{processes}")
        os.makedirs(self.folder)
        self.ports = [free_port() for _ in range(processes)]
        self.listen = free_port()
        env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_REDIS_URL=redis_url,
                   WAVEFLOOR_REDIS_CHANNEL=f"bench-{uuid.uuid4().hex[:8]}", WAVEFLOOR_PRINT_WORKER="false",
                   WAVEFLOOR_INSTANCE_DIR=os.path.join(self.folder, "instance"), WAVEFLOOR_SECRET_KEY="bench")
        self.servers = [subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
                                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                         stderr=open(os.path.join(self.folder, f"server-{port}.log"), "wb"))
                        for port in self.ports]
        for port, proc in zip(self.ports, self.servers):
            wait_port(port, proc)
        with open(os.path.join(self.folder, "nginx.conf"), "w") as fh:
            fh.write(nginx_config(self.folder, self.listen, self.ports))
        subprocess.run(["nginx", "-p", self.folder, "-c", os.path.join(self.folder, "nginx.conf")], check=True)
        wait_port(self.listen)
        self.url = f"http://127.0.0.1:{self.listen}"

    def stop(self) -> None:
        subprocess.run(["nginx", "-p", self.folder, "-c", os.path.join(self.folder, "nginx.conf"), "-s", "quit"],
                       check=False)
        for proc in self.servers:
            proc.terminate()
        for proc in self.servers:
            proc.wait(20)


# --- the devices -----------------------------------------------------------------------------

def drive(url: str, plan: list[dict], seconds: float, pause_s: float, results) -> None:
    """One client process: connect its devices, scan for ``seconds``, report round trips."""
    import socketio

    def connect(item):
        client = socketio.Client(reconnection=False)
        client.connect(f"{url}?device={item['device']}", namespaces=["/floor"], auth={"token": item["token"]},
                       transports=["websocket"], wait_timeout=30)
        return client

    with ThreadPoolExecutor(32) as pool:
        clients = list(pool.map(connect, plan))
    start = threading.Barrier(len(plan) + 1)
    stop_at = [0.0]
    round_trips: list[list[float]] = [[] for _ in plan]
    refused: dict[str, int] = {}

    def scan(n: int):
        item, client, mine = plan[n], clients[n], round_trips[n]
        start.wait()
        count = 0
        while time.perf_counter() < stop_at[0]:
            count += 1
            if count % MOVE_EVERY == 0:
                src, dst = (item["src"], item["dst"]) if count % (2 * MOVE_EVERY) else (item["dst"], item["src"])
                command = {"key": time_ordered_key(), "scenario": "stock", "action": "move", "sku": item["sku"],
                           "from": src, "to": dst, "qty": 1}
            else:
                command = {"key": time_ordered_key(), "scenario": "stock", "action": "lookup",
                           "code": item["barcode"]}
            sent = time.perf_counter()
            answer = client.call("cmd", command, namespace="/floor", timeout=30)
            mine.append(time.perf_counter() - sent)
            if not answer.get("ok"):
                code = answer["message"]["code"]
                refused[code] = refused.get(code, 0) + 1
            if pause_s:
                time.sleep(pause_s)

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(len(plan))]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    start.wait()
    for thread in threads:
        thread.join(seconds + 60)
    results.put({"round_trips": [t for mine in round_trips for t in mine], "refused": refused})
    results.close()
    results.join_thread()
    os._exit(0)  # closes every socket at once; a polite disconnect per client takes seconds each


def measure(url: str, plan: list[dict], seconds: float, pause_s: float) -> dict:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    shares = [plan[i::CLIENT_PROCESSES] for i in range(CLIENT_PROCESSES)]
    workers = [context.Process(target=drive, args=(url, share, seconds, pause_s, results)) for share in shares]
    for worker in workers:
        worker.start()
    parts = [results.get(timeout=seconds + 240) for _ in workers]
    for worker in workers:
        worker.join(30)
    times = sorted(t for part in parts for t in part["round_trips"])
    return {"scans": len(times), "scans_per_s": round(len(times) / seconds, 1),
            "p50_ms": round(statistics.median(times) * 1000, 2),
            "p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 2),
            "refused": {code: sum(part["refused"].get(code, 0) for part in parts)
                        for code in sorted({c for part in parts for c in part["refused"]})}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    options = parser.parse_args()
    if shutil.which("nginx") is None or shutil.which("redis-server") is None:
        sys.exit("needs Debian's nginx (nginx-light) and redis-server")
    import psycopg
    name = f"wf_bench_{uuid.uuid4().hex[:8]}"
    db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    folder = tempfile.mkdtemp(prefix="wf-bench-load-")
    redis_port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    runs = {}
    try:
        wait_port(redis_port, redis)
        plan = setup(db_url, options.devices)
        from server.db import database
        database.obj.close_all()
        for processes in (2, 1):
            site = Site(db_url, f"redis://127.0.0.1:{redis_port}/0", folder, processes)
            try:
                runs[f"{processes}_process"] = {
                    "paced": measure(site.url, plan, options.seconds, PAUSE_S),
                    "saturated": measure(site.url, plan, options.seconds / 2, 0.0)}
            finally:
                site.stop()
    finally:
        redis.terminate()
        redis.wait(10)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)
    two, one = runs["2_process"], runs["1_process"]
    print(json.dumps({
        "bench": "load_behind_nginx",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "devices": options.devices, "seconds_per_run": options.seconds, "pause_s": PAUSE_S,
        "mix": f"lookup, 1 in {MOVE_EVERY} a move", "database": "postgresql",
        "runs": runs,
        "baseline": "1_process",
        "ratio_paced_p99": round(two["paced"]["p99_ms"] / one["paced"]["p99_ms"], 2),
        "ratio_saturated_scans_per_s": round(two["saturated"]["scans_per_s"] / one["saturated"]["scans_per_s"], 2),
    }, indent=1))


if __name__ == "__main__":
    main()
