"""The kiosk window as a packer sees it: a real pywebview (GTK, WebKit) window under Xvfb.

A local page stands in for the server's packing page. It records what reaches it (the station
from the bridge, each ``window.wavefloorScan`` call, keys typed into its scan field) and posts
that back to the test's HTTP server.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
STATION = "PACK-07"
WAIT_S = 60  # an upper bound for a slow machine, not a measurement

PACK_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>pack</title>
<style>body{font:32px sans-serif;background:#f4f1e8;margin:40px} input{font-size:32px}</style>
</head><body>
<h1 id="title">Packing</h1>
<input id="scan" autofocus placeholder="scan">
<ol id="scans"></ol>
<script>
var received = [];
function report(kind, value) {
  return fetch('/record', {method: 'POST', headers: {'Content-Type': 'application/json'},
                           body: JSON.stringify({kind: kind, value: value})});
}
window.wavefloorScan = function (code) {
  received.push(code);
  var item = document.createElement('li');
  item.textContent = code;
  document.getElementById('scans').appendChild(item);
  report('scans', received.slice());
  var count = received.length;
  requestAnimationFrame(function () {
    requestAnimationFrame(function () { report('painted', count); });
  });
};
window.wavefloorCamera = function (camera) { report('camera', camera); };
document.getElementById('scan').addEventListener('keydown', function (event) {
  if (event.key === 'Enter') { report('typed', event.target.value); event.target.value = ''; }
});
async function greet() {
  var station = await window.pywebview.api.station();
  document.getElementById('title').textContent = 'Packing at ' + station;
  await report('station', station);
  await report('ready', await window.pywebview.api.ready());
}
if (window.pywebview && window.pywebview.api && window.pywebview.api.station) greet();
else window.addEventListener('pywebviewready', greet);
report('query', location.search);
</script></body></html>
"""


class PackPage:
    """The stand-in packing page and the record of everything the page reported."""

    def __init__(self, port=0):
        self.records: list[tuple[str, object]] = []
        self.changed = threading.Condition()
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.split("?")[0] != "/pack":
                    self.send_error(404)
                    return
                body = PACK_PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                record = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with page.changed:
                    page.records.append((record["kind"], record["value"]))
                    page.changed.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, kind, check=lambda value: True, kiosk=None):
        """The latest value of ``kind`` that passes ``check``, waiting for it to arrive."""
        def found():
            for record_kind, value in reversed(self.records):
                if record_kind == kind and check(value):
                    return [value]
            if kiosk is not None and kiosk.poll() is not None:
                return ["kiosk exited"]
            return None

        result = None
        with self.changed:
            for _ in range(WAIT_S):  # wake each second to notice a kiosk that died
                result = self.changed.wait_for(found, timeout=1)
                if result:
                    break
        if kiosk is not None and kiosk.poll() is not None:
            pytest.fail(f"the kiosk exited with {kiosk.returncode}:\n{kiosk_output(kiosk)}")
        assert result, f"the page never reported {kind!r}; it reported {self.records}"
        return result[0]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def start_display():
    """Xvfb on a display number of its own choosing (-displayfd) and a full-screen window manager."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as numbers:
        number = numbers.readline().strip()
    if not number:
        xvfb.kill()
        pytest.fail("Xvfb did not start")
    display = f":{number}"
    window_manager = subprocess.Popen(["matchbox-window-manager", "-use_titlebar", "no"],
                                      env={**os.environ, "DISPLAY": display},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return display, [window_manager, xvfb]


@pytest.fixture(scope="module")
def display():
    for program, package in (("Xvfb", "xvfb"), ("matchbox-window-manager",
                                                "matchbox-window-manager")):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is missing (apt-get install {package})")
    # Checked in a child process: loading GTK here would change this process's locale and
    # fonts for every test that runs after it.
    probe = subprocess.run([sys.executable, "-c", "import gi; gi.require_version('WebKit2', '4.1'); "
                            "from gi.repository import WebKit2; import webview"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"the kiosk's GTK backend is not installed: {probe.stderr.strip()[-300:]} (pip install "
                    "'pywebview[gtk]'; apt-get install gir1.2-webkit2-4.1)")
    number, processes = start_display()
    yield number
    for process in processes:
        process.terminate()
        process.wait(10)


@pytest.fixture
def pack_page():
    page = PackPage()
    yield page
    page.close()


def kiosk_output(kiosk):
    return kiosk.stdout.read().decode(errors="replace") if kiosk.stdout else ""


@pytest.fixture
def start_kiosk(display, pack_page):
    started = []

    def start(*options, server=pack_page.url):
        kiosk = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--server", server, "--station", STATION,
             "--verbose", *options],
            cwd=ROOT, env={**os.environ, "DISPLAY": display},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        started.append(kiosk)
        return kiosk

    yield start
    for kiosk in started:
        if kiosk.poll() is None:
            kiosk.send_signal(signal.SIGTERM)
            try:
                kiosk.wait(10)
            except subprocess.TimeoutExpired:
                kiosk.kill()
                kiosk.wait()


def screenshot(display, name):
    """Keep a picture of the screen in tests/artifacts/ when ImageMagick is installed."""
    if shutil.which("import") is None:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["import", "-display", display, "-window", "root", str(ARTIFACTS / name)],
                   check=False, timeout=30)


# Quotes, a backslash, a closing script tag and Chinese: each must reach the page unchanged.
AWKWARD_CODES = ["TOTE-0001", 'SKU "6901234567892"', "a'b\\c</script><b>x", "中文-拣货单-01"]


def test_the_page_gets_the_station_from_the_bridge_and_every_scan_in_order(
        tmp_path, display, pack_page, start_kiosk):
    fifo = tmp_path / "scan"
    kiosk = start_kiosk("--scan-fifo", str(fifo))

    assert pack_page.wait_for("ready", kiosk=kiosk) is True
    assert pack_page.wait_for("station") == STATION
    assert pack_page.wait_for("query") == f"?station={STATION}"

    with open(fifo, "w", encoding="utf-8") as scanner:
        for code in AWKWARD_CODES:
            scanner.write(code + "\n")
            scanner.flush()

    scans = pack_page.wait_for("scans", lambda scans: len(scans) >= len(AWKWARD_CODES),
                               kiosk=kiosk)
    assert scans == AWKWARD_CODES
    pack_page.wait_for("painted", lambda count: count == len(AWKWARD_CODES), kiosk=kiosk)
    screenshot(display, "kiosk_window.png")


def test_a_kiosk_started_before_the_server_waits_for_it_and_keeps_early_scans(
        tmp_path, display, start_kiosk):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fifo = tmp_path / "scan"
    kiosk = start_kiosk("--scan-fifo", str(fifo), server=f"http://127.0.0.1:{port}")
    # Wait until the kiosk has found no server, then scan before the server is up.
    no_answer = threading.Event()

    def watch_log():
        for line in kiosk.stdout:
            if b"no answer from" in line:
                no_answer.set()
                return

    threading.Thread(target=watch_log, daemon=True).start()
    assert no_answer.wait(WAIT_S), "the kiosk never reported the missing server"
    with open(fifo, "w", encoding="utf-8") as scanner:
        scanner.write("TOTE-EARLY\n")

    late_page = PackPage(port)
    try:
        assert late_page.wait_for("station", kiosk=kiosk) == STATION
        assert late_page.wait_for("scans", kiosk=kiosk) == ["TOTE-EARLY"]
    finally:
        late_page.close()


def test_a_wedge_scanner_types_into_the_focused_scan_field(display, pack_page, start_kiosk):
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is missing (apt-get install xdotool)")
    kiosk = start_kiosk()
    pack_page.wait_for("ready", kiosk=kiosk)

    # A wedge scanner is a keyboard: it types the code and Return into whatever has focus.
    for keys in (["type", "--delay", "20", "TOTE-0042"], ["key", "Return"]):
        subprocess.run(["xdotool", *keys], env={**os.environ, "DISPLAY": display},
                       check=True, timeout=60)

    assert pack_page.wait_for("typed", kiosk=kiosk) == "TOTE-0042"


def window_state(display):
    """The _NET_WM_STATE of the kiosk window, as the window manager sees it."""
    env = {**os.environ, "DISPLAY": display}
    window = subprocess.run(["xdotool", "search", "--name", "Wavefloor packing"], env=env,
                            capture_output=True, text=True, timeout=30).stdout.split()[0]
    return subprocess.run(["xprop", "-id", window, "_NET_WM_STATE"], env=env,
                          capture_output=True, text=True, timeout=30).stdout


@pytest.mark.parametrize("option, full_screen", [((), True), (("--windowed",), False)])
def test_the_kiosk_fills_the_screen_unless_windowed(display, pack_page, start_kiosk,
                                                     option, full_screen):
    if shutil.which("xdotool") is None or shutil.which("xprop") is None:
        pytest.skip("xdotool or xprop is missing (apt-get install xdotool x11-utils)")
    pack_page.wait_for("ready", kiosk=start_kiosk(*option))
    assert ("_NET_WM_STATE_FULLSCREEN" in window_state(display)) is full_screen


def test_camera_scans_reach_the_page(tmp_path, display, pack_page, start_kiosk):
    from tests.test_kiosk_camera import PACKAGE, SKU, TOTE, blank, held, write_video

    video = write_video(tmp_path / "bench.avi",
                        [blank(5), held(TOTE), blank(), held(SKU), blank(), held(PACKAGE)])
    kiosk = start_kiosk("--camera", video)

    scans = pack_page.wait_for("scans", lambda scans: len(scans) >= 3, kiosk=kiosk)
    assert scans == ["TOTE-0001", "6901234567892", "SF1234567890"]
    assert pack_page.wait_for("camera", lambda camera: camera["status"] == "ended") == {
        "source": video, "status": "ended", "error": None}
