"""Camera scanning at the packing kiosk (打包台摄像头扫码).

OpenCV reads frames from a camera (a device index such as ``0``, a device path such as
``/dev/video2``, a stream URL) or from a video file. Each frame is decoded with zxing-cpp when
it is installed (fast, and it reads DataMatrix and GS1 codes with FNC1) or else with pyzbar
(which needs Debian's ``libzbar0``). A code held in front of the camera is reported once, not
once per frame; when it leaves the view and comes back it is reported again.

GS1 codes arrive in their human-readable form with bracketed application identifiers, e.g.
``(01)09501101530003(17)261231(10)AB12``, which the server's GS1 resolver parses.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)

DECODERS = ("zxing", "pyzbar")

# The symbologies found on a warehouse floor. Fewer formats make each frame cheaper to decode.
ZXING_FORMAT_NAMES = ("Code128", "EAN13", "EAN8", "UPCA", "UPCE", "ITF", "Code39", "QRCode",
                      "DataMatrix", "DataBar", "DataBarExpanded")
PYZBAR_SYMBOL_NAMES = ("CODE128", "EAN13", "EAN8", "UPCA", "UPCE", "I25", "CODE39", "QRCODE",
                       "DATABAR", "DATABAR_EXP")

# Waits between attempts to reach a camera that is missing or stopped sending frames.
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
# Frame rate assumed for a video file that does not state one.
FILE_FPS_FALLBACK = 25.0


class DecoderUnavailable(RuntimeError):
    """The requested barcode decoder cannot be imported on this machine."""


def _zxing_reader():
    import zxingcpp

    formats = tuple(getattr(zxingcpp.BarcodeFormat, name) for name in ZXING_FORMAT_NAMES
                    if hasattr(zxingcpp.BarcodeFormat, name))

    def read(gray) -> list[str]:
        return [barcode.text for barcode in zxingcpp.read_barcodes(gray, formats=formats)]

    return read


def _pyzbar_reader():
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError) as exc:  # OSError: libzbar0 is missing
        raise ImportError(str(exc)) from exc

    symbols = [getattr(pyzbar.ZBarSymbol, name) for name in PYZBAR_SYMBOL_NAMES
               if hasattr(pyzbar.ZBarSymbol, name)]

    def read(gray) -> list[str]:
        return [symbol.data.decode("utf-8", errors="replace")
                for symbol in pyzbar.decode(gray, symbols=symbols)]

    return read


_READER_FACTORIES = {"zxing": _zxing_reader, "pyzbar": _pyzbar_reader}
_readers: dict[str, Callable] = {}
_HINTS = {"zxing": "pip install zxing-cpp",
          "pyzbar": "pip install pyzbar and apt-get install libzbar0"}


def load_decoder(name: str = "auto") -> Callable:
    """The frame reader called ``name`` ('zxing', 'pyzbar', or 'auto': zxing, else pyzbar)."""
    names = DECODERS if name == "auto" else (name,)
    if name != "auto" and name not in _READER_FACTORIES:
        raise ValueError(f"unknown decoder {name!r}; choose one of auto, {', '.join(DECODERS)}")
    reasons = []
    for candidate in names:
        if candidate not in _readers:
            try:
                _readers[candidate] = _READER_FACTORIES[candidate]()
            except ImportError as exc:
                reasons.append(f"{candidate}: {exc} ({_HINTS[candidate]})")
                continue
        return _readers[candidate]
    raise DecoderUnavailable("no barcode decoder available; " + "; ".join(reasons))


def available_decoders() -> list[str]:
    found = []
    for name in DECODERS:
        try:
            load_decoder(name)
        except DecoderUnavailable:
            continue
        found.append(name)
    return found


def _gray(frame):
    import cv2

    if frame.ndim == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY if frame.shape[2] == 3
                            else cv2.COLOR_BGRA2GRAY)
    return frame


def decode_frame(frame, decoder: str | Callable = "auto") -> list[str]:
    """The codes readable in one BGR or grayscale frame, each once, in the decoder's order."""
    read = load_decoder(decoder) if isinstance(decoder, str) else decoder
    codes = []
    for code in read(_gray(frame)):
        if code and code not in codes:
            codes.append(code)
    return codes


class HoldOff:
    """Tells a code that has just come into view from the same code still being in view.

    A code counts as still in view while it was last decoded less than ``seconds`` ago, so a
    frame or two where the decoder misses it (motion blur, glare) does not report it twice.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._last_seen: dict[str, float] = {}

    def arrivals(self, codes: list[str], now: float) -> list[str]:
        arrived = [code for code in codes
                   if now - self._last_seen.get(code, float("-inf")) > self.seconds]
        for code in codes:
            self._last_seen[code] = now
        for code, seen in list(self._last_seen.items()):
            if now - seen > self.seconds:
                del self._last_seen[code]
        return arrived


def parse_source(source: int | str) -> int | str:
    """A device index for digits ('0' -> 0), otherwise the path or URL unchanged."""
    if isinstance(source, str) and source.strip().isdigit():
        return int(source)
    return source


def is_live(source: int | str) -> bool:
    """Cameras and streams are retried when they fail; a video file simply ends."""
    return isinstance(source, int) or source.startswith("/dev/") or "://" in source


class CameraScanner:
    """Reads frames from ``source`` in a thread and calls ``on_code(code)`` per new code.

    ``status`` is one of idle, running, retrying (a camera that failed; tried again with a
    growing wait), ended (a video file played to its end), failed (a file that cannot be read)
    or stopped; ``error`` holds the last failure in words. ``on_status(status, error)`` is
    called on each change.
    """

    def __init__(self, source: int | str, on_code: Callable[[str], None],
                 decoder: str = "auto", holdoff_s: float = 1.5,
                 on_status: Callable[[str, str | None], None] | None = None):
        self.source = parse_source(source)
        self.on_code = on_code
        self.on_status = on_status
        self._read = load_decoder(decoder)
        self._holdoff = HoldOff(holdoff_s)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera-scanner", daemon=True)
        self.status = "idle"
        self.error: str | None = None

    def start(self) -> "CameraScanner":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the scanner to finish (a video file ends by itself; a camera does not)."""
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _set_status(self, status: str, error: str | None = None) -> None:
        if (status, error) == (self.status, self.error):
            return
        self.status, self.error = status, error
        if error:
            log.warning("camera %s: %s", self.source, error)
        if self.on_status:
            try:
                self.on_status(status, error)
            except Exception:
                log.exception("camera status callback failed")

    def _run(self) -> None:
        try:
            if is_live(self.source):
                self._run_live()
            else:
                self._run_file()
        finally:
            if self.status not in ("ended", "failed"):
                self._set_status("stopped", self.error if self.status == "retrying" else None)

    def _run_file(self) -> None:
        import cv2

        capture = cv2.VideoCapture(self.source)
        try:
            if not capture.isOpened():
                self._set_status("failed", f"cannot open video file {self.source}")
                return
            self._set_status("running")
            fps = capture.get(cv2.CAP_PROP_FPS) or FILE_FPS_FALLBACK
            index = 0
            while not self._stopping.is_set():
                ok, frame = capture.read()
                if not ok:
                    self._set_status("ended")
                    return
                # The file's own clock, so the hold-off means the same as with a live camera.
                self._handle(frame, index / fps)
                index += 1
        finally:
            capture.release()

    def _run_live(self) -> None:
        import cv2

        wait = RETRY_FIRST_S
        while not self._stopping.is_set():
            capture = cv2.VideoCapture(self.source)
            try:
                if not capture.isOpened():
                    error = f"cannot open camera {self.source}"
                elif self._read_live(capture):
                    error = f"camera {self.source} stopped sending frames"
                    wait = RETRY_FIRST_S  # it worked until now: try again soon
                else:
                    error = f"camera {self.source} sends no frames"
            finally:
                capture.release()
            if self._stopping.is_set():
                return
            self._set_status("retrying", f"{error}; trying again in {wait:g} s")
            if self._stopping.wait(wait):
                return
            wait = min(wait * 2, RETRY_MAX_S)

    def _read_live(self, capture) -> bool:
        """Read frames until stopped or until the camera fails; whether any frame came."""
        got_frame = False
        while not self._stopping.is_set():
            ok, frame = capture.read()
            if not ok:
                break
            if not got_frame:
                got_frame = True
                self._set_status("running")
            self._handle(frame, time.monotonic())
        return got_frame

    def _handle(self, frame, now: float) -> None:
        try:
            codes = decode_frame(frame, self._read)
        except Exception:
            log.exception("decoding a frame failed")
            return
        for code in self._holdoff.arrivals(codes, now):
            try:
                self.on_code(code)
            except Exception:
                log.exception("scan callback failed for %r", code)
