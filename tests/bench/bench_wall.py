"""The wall screen under a storm of events (DESIGN section 11: 1,000 scans/s reach the wall).

Run: python tests/bench/bench_wall.py [--rate 1000] [--seconds 10]

A fresh SQLite floor (8 aisles, released waves, totes), Redis, and `wavefloor serve` sharing
Redis as its Socket.IO message queue. The wall screen is open in headless Chromium at 1920x1080.
Two phases of the same length:

  idle   the page connected, no events (the baseline);
  storm  a separate process emits `wave.progress` to the `wallboard` room through the same Redis
         queue at --rate events/s (what a floor of many servers sends), while a picker's device
         confirms real picks through the picking scenario.

Measured in the page: main-thread busy time per second (CDP Performance.getMetrics TaskDuration)
and long tasks (PerformanceObserver 'longtask'); for each real pick, the delay from the moment
the server acknowledged the tote scan (the pick is committed before the acknowledgement) to the
first redraw of the wall that shows it (a MutationObserver logs every redraw). Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.keys import time_ordered_key  # noqa: E402
from tests.bench.ports import free_port, wait_port  # noqa: E402

# the servers started here serve the floor only: no nightly jobs or platform pulls beside the scans
os.environ.setdefault("WAVEFLOOR_NIGHTLY_JOBS", "false")
os.environ.setdefault("WAVEFLOOR_CONNECTOR_WORKER", "false")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# --- the storm: a separate process that emits through the shared Redis queue -------------------

def emit_storm(redis_url: str, channel: str, rate: int, seconds: float, wave_id: int) -> None:
    """Emit wave.progress to the wall at ``rate`` per second for ``seconds``, on the server's channel."""
    import socketio
    manager = socketio.RedisManager(redis_url, channel=channel, write_only=True)
    start = time.perf_counter()
    sent = 0
    while True:
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
        due = int(elapsed * rate) + 1
        while sent < due:
            sent += 1
            manager.emit("wave.progress", {
                "wave": wave_id, "code": f"STORM-{wave_id}", "status": "picking", "strategy": "cluster",
                "tasks": 40, "tasks_done": sent // 1000, "lines_total": 10 ** 7, "lines_done": sent,
                "units_total": 10 ** 7, "units_done": sent, "version": time.time_ns() // 1000},
                room="wallboard", namespace="/floor")
        time.sleep(0.001)
    print(json.dumps({"sent": sent, "seconds": time.perf_counter() - start}), flush=True)


# --- the floor ----------------------------------------------------------------------------------

def build_floor(db_url: str) -> dict:
    from server.db import init_database
    from server.schema import create_all
    init_database(db_url)
    create_all()
    from server.layoutspec import parse_layout
    from server.models import Location, PickLine, PickTask, User
    from server.services import auth
    from server.services.stock import catalog, inventory
    from server.services.stock.layout import apply_layout
    from server.services.waves import planning as waves
    from tests.test_waves import place, sku
    from tests.test_orders import stock

    spec = parse_layout({
        "warehouse": "WH-HZ", "aisles": 8, "aisle_length": 20.0, "aisle_width": 3.0,
        "depot": {"aisle": 0, "y": 0.0},
        "locations": {f"HZ-{a}-{i}": {"aisle": a, "y": y, "zone": "B" if a == 7 else "A"}
                      for a in range(8) for i, y in enumerate((2.0, 5.0, 8.0, 11.0, 14.0, 17.0))}})
    apply_layout(spec)
    actor = inventory.system_actor()
    for a in range(8):
        for i in range(6):
            catalog.upsert(sku(a, i), {"name": f"商品 {a}-{i}", "weight_g": 100}, actor=actor)
            stock(sku(a, i), f"HZ-{a}-{i}", 500)
    place(*[(f"S{n}", [(sku(n % 8, n % 6), 1)]) for n in range(200)])
    released = [waves.release_wave(w.id, actor) for w in waves.plan_waves("WH-HZ", actor=actor)]
    for task in PickTask.select():
        for (slot,) in PickLine.select(PickLine.slot).where(PickLine.task == task.id).distinct().tuples():
            Location.get_or_create(code=f"TOTE-{task.code}-{slot}",
                                   defaults={"warehouse": task.wave.warehouse_id, "kind": "tote"})
    auth.add_user("boss", "主管", ["supervisor"], pin="1234")
    auth.add_user("P001", "拣货员", ["picker"], pin="1234")
    User.get_or_create(code="system", defaults={"name": "System", "active": False})
    return {"waves": [w.id for w in released]}


def pin_login(url: str, user: str, device: str) -> str:
    import requests
    response = requests.post(f"{url}/api/v1/auth/pin", json={"user": user, "pin": "1234", "device": device},
                             timeout=10)
    response.raise_for_status()
    return response.json()["token"]


class Picker:
    """A handheld over Socket.IO walking its task with real scans."""

    def __init__(self, url: str, token: str):
        import socketio
        self.sio = socketio.Client(reconnection=False)
        self.sio.connect(url, namespaces=["/floor"], auth={"token": token}, transports=["websocket"],
                         wait_timeout=10)
        self.result = self.cmd("get_work")

    def cmd(self, action, **params):
        return self.sio.call("cmd", {"key": time_ordered_key(), "scenario": "picking", "action": action, **params},
                             namespace="/floor", timeout=10)

    def next_pick(self) -> tuple[int, int, float]:
        """Scan until one line is in a tote; (wave, units done after it, time of the acknowledgement)."""
        while True:
            state = self.result["next_state"]
            if state in ("task_done", "start"):
                self.result = self.cmd("get_work")
                continue
            line = self.result["data"][state]["line"]
            if state == "scan_location":
                self.result = self.cmd("scan", code=line["location"])
            elif state == "scan_item":
                self.result = self.cmd("scan", code=line["sku"])
            else:
                task = self.result["data"][state]["task"]
                self.result = self.cmd("scan", code=f"TOTE-{task['code']}-{line['slot']}")
                acked = time.time()
                assert self.result["ok"], self.result
                return task["wave"], acked

    def close(self):
        self.sio.disconnect()


# every redraw of the wave table, with the time it happened: (ms since the epoch, {wave: units})
DRAWS = """window.benchDraws = [];
document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver(() => {
        const units = {};
        document.querySelectorAll('#wave-rows tr[data-wave]').forEach(tr => {
            units[tr.dataset.wave] = +tr.querySelector('.units-done').textContent.replace(/,/g, '');
        });
        window.benchDraws.push([Date.now(), units]);  // the wall clock, as Python's time.time()
        if (window.benchDraws.length > 20000) window.benchDraws.splice(0, 10000);
    }).observe(document.getElementById('wave-rows'), {childList: true});
});"""

FIRST_SHOWN = """(target) => {
    const hit = window.benchDraws.find(([t, units]) => (units[target.wave] || 0) >= target.units);
    return hit ? hit[0] : null;
}"""


def measure_picks(page, picker: Picker, url: str, token: str, count: int) -> list[float]:
    """Milliseconds from a pick's acknowledgement to the first redraw that shows its number."""
    import requests
    delays = []
    for _ in range(count):
        wave_code, acked = picker.next_pick()
        summary = requests.get(f"{url}/api/v1/floor/summary", headers={"Authorization": f"Bearer {token}"},
                               timeout=10).json()
        (wave,) = [w for w in summary["waves"] if w["code"] == wave_code]
        target = {"wave": wave["wave"], "units": wave["units_done"]}
        deadline = time.time() + 10
        shown = page.evaluate(FIRST_SHOWN, target)
        while shown is None and time.time() < deadline:
            time.sleep(0.02)
            shown = page.evaluate(FIRST_SHOWN, target)
        if shown is not None:
            delays.append(max(0.0, shown - acked * 1000))
        time.sleep(0.2)
    return delays


def busy(cdp) -> float:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["TaskDuration"]


def phase(page, cdp, seconds: float, work=None) -> dict:
    page.evaluate("() => { window.benchLong = []; }")
    before, start = busy(cdp), time.perf_counter()
    result = work() if work else None
    remaining = seconds - (time.perf_counter() - start)
    if remaining > 0:
        time.sleep(remaining)
    elapsed = time.perf_counter() - start
    spent = busy(cdp) - before
    longtasks = page.evaluate("() => window.benchLong.slice()")
    return {"seconds": round(elapsed, 2), "busy_ms_per_s": round(1000 * spent / elapsed, 1),
            "busy_pct": round(100 * spent / elapsed, 1), "long_tasks": len(longtasks),
            "long_task_ms_max": round(max(longtasks, default=0.0), 1)}, result


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {"n": len(values), "p50_ms": round(statistics.median(ordered), 1),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
            "max_ms": round(ordered[-1], 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--picks", type=int, default=15)
    parser.add_argument("--emit", nargs=3, metavar=("REDIS_URL", "CHANNEL", "WAVE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emit:
        return emit_storm(args.emit[0], args.emit[1], args.rate, args.seconds, int(args.emit[2]))

    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="bench-wall-"))
    redis_port, http_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    channel = f"bench-wall-{uuid.uuid4().hex[:8]}"  # the server's WAVEFLOOR_REDIS_CHANNEL, which the storm uses too
    db_url = f"sqlite:///{workdir}/wavefloor.db"
    procs = []
    try:
        redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(redis_port),
                                  "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(redis)
        wait_port(redis_port, redis)
        floor = build_floor(db_url)
        env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(workdir / "instance"),
                   WAVEFLOOR_SECRET_KEY="bench", WAVEFLOOR_REDIS_URL=redis_url, WAVEFLOOR_REDIS_CHANNEL=channel,
                   WAVEFLOOR_PRINT_WORKER="0")
        log = (workdir / "server.log").open("wb")
        server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(http_port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(server)
        wait_port(http_port, server)
        url = f"http://127.0.0.1:{http_port}"
        wall_token = pin_login(url, "boss", "WALL-1")
        picker = Picker(url, pin_login(url, "P001", "HH-01"))

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
            page.add_init_script(DRAWS)
            page.add_init_script("""window.benchLong = [];
                new PerformanceObserver(list => list.getEntries().forEach(e => window.benchLong.push(e.duration)))
                    .observe({entryTypes: ['longtask']});""")
            page.goto(f"{url}/wall?token={wall_token}")
            page.wait_for_selector("body.live")
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            time.sleep(1.0)

            idle, _ = phase(page, cdp, args.seconds)
            idle_delays = measure_picks(page, picker, url, wall_token, max(3, args.picks // 3))

            storm_wave = 10 ** 6
            emitter = subprocess.Popen([sys.executable, __file__, "--emit", redis_url, channel, str(storm_wave),
                                        "--rate", str(args.rate), "--seconds", str(args.seconds)],
                                       cwd=ROOT, stdout=subprocess.PIPE, text=True)
            procs.append(emitter)
            page.wait_for_selector(f'#wave-rows tr[data-wave="{storm_wave}"]', timeout=10000)
            storm, storm_delays = phase(page, cdp, args.seconds - 1.0,
                                        lambda: measure_picks(page, picker, url, wall_token, args.picks))
            sent = json.loads(emitter.communicate(timeout=60)[0].strip().splitlines()[-1])
            shown = page.evaluate(f"""() => +document.querySelector('#wave-rows tr[data-wave="{storm_wave}"] '
                                      + '.units-done').textContent.replace(/,/g, '')""")
            browser.close()
        picker.close()
        print(json.dumps({
            "bench": "wall",
            "machine": {"python": platform.python_version(), "platform": platform.platform(),
                        "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
            "setup": {"waves": len(floor["waves"]), "rate_target": args.rate, "seconds": args.seconds,
                      "database": "sqlite", "message_queue": "redis"},
            "storm": {"events_sent": sent["sent"], "events_per_s": round(sent["sent"] / sent["seconds"]),
                      "last_number_on_screen": shown, "page": storm,
                      "pick_to_screen": stats(storm_delays)},
            "baseline_idle": {"page": idle, "pick_to_screen": stats(idle_delays)},
            "ratio_busy_storm_over_idle": round(storm["busy_ms_per_s"] / max(idle["busy_ms_per_s"], 0.1), 1),
        }, indent=2))
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
