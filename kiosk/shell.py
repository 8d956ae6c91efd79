"""The packing kiosk's window (打包台): the server's packing page in a full-screen pywebview.

The page talks to Python through ``window.pywebview.api`` (the ``KioskBridge`` below) and
receives each scan from a camera or a scan pipe as a call to ``window.wavefloorScan(code)``.
Keyboard-wedge scanners need none of this: they type into the page's focused scan field.
"""
from __future__ import annotations

import collections
import html
import json
import logging
import sys
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit

log = logging.getLogger(__name__)

TITLE = "Wavefloor packing"
WINDOWED_SIZE = (1280, 800)
# Waits between attempts to reach a server that is not up yet (the kiosk may boot first).
SERVER_RETRY_FIRST_S = 1.0
SERVER_RETRY_MAX_S = 10.0
WAITING_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head>
<body style="font:28px sans-serif;background:#222;color:#eee;margin:60px">
<p>正在连接服务器 Connecting to the Wavefloor server…</p><p style="color:#999">{url}</p>
</body></html>"""
# Scans made while the page is loading wait for it; beyond this many the oldest are dropped.
PENDING_MAX = 100


def page_url(server: str, station: str) -> str:
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"server must be an http:// or https:// URL, not {server!r}")
    return f"{server.rstrip('/')}/pack?{urlencode({'station': station})}"


def scan_script(code: str) -> str:
    """The JavaScript that hands ``code`` to the page; the code travels as a JSON string."""
    return f"window.wavefloorScan && window.wavefloorScan({json.dumps(code, ensure_ascii=True)})"


def camera_script(status: dict) -> str:
    return ("window.wavefloorCamera && window.wavefloorCamera("
            f"{json.dumps(status, ensure_ascii=True)})")


class PageChannel:
    """Carries scans (and camera news) to the page in order, once the page can take them.

    One thread does all the calls into the page, so a slow page never holds up a scanner.
    """

    def __init__(self, window):
        self._window = window
        self._pending: collections.deque = collections.deque(maxlen=PENDING_MAX)
        self._page_ready = False
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="scan-channel", daemon=True)

    def start(self) -> "PageChannel":
        self._thread.start()
        return self

    def scan(self, code: str) -> None:
        log.info("scan %r", code)
        self._send(scan_script(code))

    def camera(self, status: dict) -> None:
        self._send(camera_script(status))

    def _send(self, script: str) -> None:
        with self._changed:
            self._pending.append(script)
            self._changed.notify()

    def page_loading(self) -> None:
        with self._changed:
            self._page_ready = False

    def page_ready(self) -> None:
        with self._changed:
            self._page_ready = True
            self._changed.notify()

    def close(self, timeout: float = 5.0) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(
                    lambda: self._closed or (self._page_ready and self._pending))
                if self._closed:
                    return
                script = self._pending.popleft()
            try:
                self._window.evaluate_js(script)
            except Exception:
                log.exception("the page refused %s", script)


class KioskBridge:
    """What the packing page may call as ``window.pywebview.api.<name>()``.

    Only public methods are reachable from the page; state stays in private attributes.
    """

    def __init__(self, station: str, camera_source: str | None = None):
        self._station = station
        self._channel: PageChannel | None = None
        self._camera = {"source": camera_source, "status": "off" if camera_source is None
                        else "idle", "error": None}

    def station(self) -> str:
        """The station code this kiosk was started for."""
        return self._station

    def ready(self) -> bool:
        """The page has installed ``window.wavefloorScan``: scans held back are sent now."""
        if self._channel is not None:
            self._channel.page_ready()
        return True

    def camera(self) -> dict:
        """The camera scanner's state: {source, status, error}."""
        return dict(self._camera)

    def _camera_changed(self, status: str, error: str | None) -> None:
        self._camera.update(status=status, error=error)
        if self._channel is not None:
            self._channel.camera(self.camera())


def server_answers(url: str) -> bool:
    """Whether a web server answers at ``url`` at all (any HTTP status counts)."""
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def wait_for_server(url: str, closing: threading.Event) -> bool:
    """Try ``url`` with a growing wait until it answers (True) or the kiosk closes (False)."""
    wait = SERVER_RETRY_FIRST_S
    while not server_answers(url):
        log.warning("no answer from %s; trying again in %g s", url, wait)
        if closing.wait(wait):
            return False
        wait = min(wait * 2, SERVER_RETRY_MAX_S)
    return True


def run(server: str, station: str, camera: str | None = None, fullscreen: bool = True,
        decoder: str = "auto", holdoff_s: float = 1.5, scan_fifo: str | None = None,
        debug: bool = False) -> None:
    """Open the packing page and feed it scans until the window is closed."""
    import webview

    url = page_url(server, station)
    bridge = KioskBridge(station, camera)
    width, height = WINDOWED_SIZE
    # Not frameless: a frameless GTK window stayed blank over WebKit, and a full-screen
    # window has no frame to hide anyway.
    window = webview.create_window(TITLE, html=WAITING_PAGE.format(url=html.escape(url)),
                                   js_api=bridge, fullscreen=fullscreen,
                                   width=width, height=height,
                                   focus=True, text_select=False, zoomable=False)
    channel = PageChannel(window)
    bridge._channel = channel
    closing = threading.Event()
    window.events.closing += closing.set

    feeders = []
    if camera is not None:
        from kiosk.camera import CameraScanner
        feeders.append(CameraScanner(
            camera, channel.scan, decoder=decoder, holdoff_s=holdoff_s,
            on_status=bridge._camera_changed))
    if scan_fifo is not None:
        from kiosk.fifo import FifoScanner
        feeders.append(FifoScanner(scan_fifo, channel.scan))

    def started():
        channel.start()
        for feeder in feeders:
            feeder.start()
        # Scans made meanwhile are held until the packing page itself has loaded.
        if wait_for_server(url, closing):
            window.events.before_load += channel.page_loading
            window.events.loaded += channel.page_ready
            window.load_url(url)

    log.info("kiosk %s opening %s", station, url)
    try:
        webview.start(started, gui="gtk" if sys.platform.startswith("linux") else None,
                      debug=debug)
    finally:
        for feeder in feeders:
            feeder.stop()
        channel.close()
