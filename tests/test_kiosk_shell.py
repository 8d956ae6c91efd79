"""The kiosk shell's parts that need no screen: the page URL, the scan script, the page
channel, the scan pipe and the command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kiosk.fifo import FifoScanner
from kiosk.shell import KioskBridge, PageChannel, page_url, scan_script

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 30


class RecordingWindow:
    """Stands in for a pywebview window: keeps every script it is asked to run."""

    def __init__(self, refuse=()):
        self.scripts: list[str] = []
        self.refuse = refuse
        self.changed = threading.Condition()

    def evaluate_js(self, script):
        with self.changed:
            self.scripts.append(script)
            self.changed.notify_all()
        if any(code in script for code in self.refuse):
            raise RuntimeError("JavascriptException")

    def wait_for_count(self, count):
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.scripts) >= count, timeout=WAIT_S)
        return list(self.scripts)


def test_page_url_names_the_station():
    assert page_url("http://wavefloor.lan:5000/", "PACK 03&x") \
        == "http://wavefloor.lan:5000/pack?station=PACK+03%26x"
    with pytest.raises(ValueError, match="http:// or https://"):
        page_url("wavefloor.lan:5000", "PACK-03")


@pytest.mark.parametrize("code", ['TOTE-1', 'a"b', "a'b", "a\\b", "</script>", "中文",
                                  "\u2028line", "(01)09501101530003\x1d10AB"])
def test_scan_script_carries_the_code_as_one_ascii_json_string(code):
    script = scan_script(code)
    prefix = "window.wavefloorScan && window.wavefloorScan("
    assert script.startswith(prefix) and script.endswith(")")
    argument = script[len(prefix):-1]
    assert argument.isascii()
    assert json.loads(argument) == code


def test_scans_wait_for_the_page_and_arrive_in_order():
    window = RecordingWindow(refuse=["BROKEN"])
    channel = PageChannel(window).start()
    try:
        for code in ("TOTE-1", "BROKEN", "SKU-2"):
            channel.scan(code)
        channel.page_ready()
        scripts = window.wait_for_count(3)
        channel.page_loading()
        channel.scan("TOTE-3")
        channel.camera({"source": "0", "status": "running", "error": None})
        assert window.scripts == scripts  # nothing goes to a page that is loading
        channel.page_ready()
        scripts = window.wait_for_count(5)
    finally:
        channel.close()
    assert scripts == [scan_script("TOTE-1"), scan_script("BROKEN"), scan_script("SKU-2"),
                       scan_script("TOTE-3"),
                       'window.wavefloorCamera && window.wavefloorCamera('
                       '{"source": "0", "status": "running", "error": null})']


def test_bridge_answers_the_station_and_ready_releases_held_scans():
    window = RecordingWindow()
    bridge = KioskBridge("PACK-07", camera_source="0")
    bridge._channel = PageChannel(window).start()
    try:
        bridge._channel.scan("TOTE-1")
        assert bridge.station() == "PACK-07"
        assert bridge.camera() == {"source": "0", "status": "idle", "error": None}
        assert bridge.ready() is True
        assert window.wait_for_count(1) == [scan_script("TOTE-1")]
    finally:
        bridge._channel.close()


def test_the_scan_fifo_turns_lines_into_scans(tmp_path):
    codes = []
    arrived = threading.Condition()

    def on_code(code):
        with arrived:
            codes.append(code)
            arrived.notify_all()

    path = tmp_path / "scan"
    scanner = FifoScanner(str(path), on_code).start()
    try:
        for text in ("TOTE-1\n", "\n", "中文-2\r\nPART", "IAL-3\n"):
            with open(path, "w", encoding="utf-8") as writer:  # each write a new writer
                writer.write(text)
        with arrived:
            assert arrived.wait_for(lambda: len(codes) >= 3, timeout=WAIT_S)
    finally:
        scanner.stop()
    assert codes == ["TOTE-1", "中文-2", "PARTIAL-3"]


def test_the_scan_fifo_refuses_a_regular_file(tmp_path):
    path = tmp_path / "scan.txt"
    path.write_text("")
    with pytest.raises(ValueError, match="not a named pipe"):
        FifoScanner(str(path), lambda code: None)


def run_kiosk(*args):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("WAVEFLOOR_") and key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_command_line_documents_every_option():
    result = run_kiosk("--help")
    assert result.returncode == 0
    for option in ("--server", "--station", "--camera", "--decoder", "--holdoff",
                   "--scan-fifo", "--fullscreen / --windowed"):
        assert option in result.stdout


def test_the_command_line_refuses_a_server_that_is_not_a_url():
    result = run_kiosk("--server", "wavefloor.lan", "--station", "PACK-03")
    assert result.returncode == 2
    assert "server must be an http:// or https:// URL" in result.stderr
    assert run_kiosk("--station", "PACK-03").returncode == 2


def test_the_kiosk_says_so_when_there_is_no_screen():
    result = run_kiosk("--server", "http://127.0.0.1:9", "--station", "PACK-03")
    assert result.returncode == 1
    assert "no screen: DISPLAY is not set" in result.stderr
