"""The kiosk's camera scanner, run over video files made in the test."""
from __future__ import annotations

import threading

import pytest

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless is a kiosk extra")
np = pytest.importorskip("numpy")
zxingcpp = pytest.importorskip("zxingcpp")

from kiosk.camera import (CameraScanner, DecoderUnavailable, HoldOff, available_decoders,  # noqa: E402
                          decode_frame, load_decoder)

FPS = 10
FRAME_SIZE = (640, 480)
GAP = 20  # blank frames between codes: 2 s at 10 fps, longer than the 1.5 s hold-off

TOTE = ("TOTE-0001", "Code128")
SKU = ("6901234567892", "EAN13")
PACKAGE = ("SF1234567890", "QRCode")
GS1_LOT = ("(01)09501101530003(17)261231(10)AB12", "DataMatrix")

DECODERS = available_decoders()


def barcode_frame(text: str | None, symbology: str | None) -> np.ndarray:
    """A white BGR frame with the barcode centred, as a camera above the bench would see it."""
    frame = np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), 255, np.uint8)
    if text is None:
        return frame
    options = "gs1" if text.startswith("(01)") else ""
    barcode = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, symbology),
                                      options=options)
    scale = 3 if symbology in ("Code128", "EAN13") else 6
    image = np.array(zxingcpp.write_barcode_to_image(barcode, scale=scale))
    height, width = image.shape
    top, left = (FRAME_SIZE[1] - height) // 2, (FRAME_SIZE[0] - width) // 2
    frame[top:top + height, left:left + width] = image[:, :, None]
    return frame


def write_video(path, segments) -> str:
    """An MJPG/AVI file of ``segments``: (text, symbology, frames); text None is an empty bench."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, FRAME_SIZE)
    assert writer.isOpened(), "opencv cannot write MJPG/AVI here"
    for text, symbology, frames in segments:
        frame = barcode_frame(text, symbology)
        for _ in range(frames):
            writer.write(frame)
    writer.release()
    return str(path)


def held(code, frames=8):
    return (code[0], code[1], frames)


def blank(frames=GAP):
    return (None, None, frames)


def scan_file(path, decoder, holdoff_s=1.5):
    codes = []
    statuses = []
    scanner = CameraScanner(path, codes.append, decoder=decoder, holdoff_s=holdoff_s,
                            on_status=lambda status, error: statuses.append((status, error)))
    scanner.start()
    scanner.join(timeout=120)
    assert not scanner.running
    return codes, statuses


@pytest.fixture(params=DECODERS or ["none"])
def decoder(request):
    if request.param == "none":
        pytest.skip("neither zxing-cpp nor pyzbar can be loaded")
    return request.param


def test_both_decoders_are_installed_on_a_kiosk():
    missing = {"zxing", "pyzbar"} - set(DECODERS)
    if missing:
        pytest.skip(f"not installed: {', '.join(sorted(missing))} (the other one is tested)")
    assert DECODERS == ["zxing", "pyzbar"]


def test_decode_frame_reads_a_code128_frame(decoder):
    assert decode_frame(barcode_frame(*TOTE), decoder) == ["TOTE-0001"]
    assert decode_frame(cv2.cvtColor(barcode_frame(*SKU), cv2.COLOR_BGR2GRAY), decoder) \
        == ["6901234567892"]
    assert decode_frame(barcode_frame(None, None), decoder) == []


def test_zxing_reads_gs1_datamatrix_with_application_identifiers():
    if "zxing" not in DECODERS:
        pytest.skip("zxing-cpp is not installed")
    assert decode_frame(barcode_frame(*GS1_LOT), "zxing") == [GS1_LOT[0]]


def test_each_appearance_of_a_code_is_reported_once_in_order(tmp_path, decoder):
    segments = [
        held(TOTE), blank(),
        held(SKU), held(PACKAGE),        # one item swapped straight for the next
        blank(),
        held(TOTE),                      # the same tote again after it left the view
        blank(3), held(TOTE, 5),         # a blink shorter than the hold-off: still in view
        blank(),
    ]
    expected = ["TOTE-0001", "6901234567892", "SF1234567890", "TOTE-0001"]
    if decoder == "zxing":
        segments += [held(GS1_LOT), blank()]
        expected.append(GS1_LOT[0])
    video = write_video(tmp_path / "bench.avi", segments)

    codes, statuses = scan_file(video, decoder)

    assert codes == expected
    assert [status for status, _ in statuses] == ["running", "ended"]


def test_a_short_holdoff_reports_a_code_back_after_a_blink(tmp_path, decoder):
    video = write_video(tmp_path / "blink.avi", [held(TOTE), blank(3), held(TOTE), blank(3)])

    assert scan_file(video, decoder, holdoff_s=1.5)[0] == ["TOTE-0001"]
    assert scan_file(video, decoder, holdoff_s=0.25)[0] == ["TOTE-0001", "TOTE-0001"]


def test_holdoff_counts_a_code_as_in_view_until_it_is_missed_for_longer_than_the_holdoff():
    holdoff = HoldOff(1.5)
    seen = [holdoff.arrivals(codes, now) for now, codes in [
        (0.0, ["A"]), (0.1, ["A"]), (1.0, ["A", "B"]), (2.0, ["A"]),   # B decoded alongside A
        (2.4, ["B"]),                                                  # B back within 1.5 s
        (4.0, ["A"]),                                                  # A gone for 2 s
        (9.0, ["A", "B"]),
    ]]
    assert seen == [["A"], [], ["B"], [], [], ["A"], ["A", "B"]]


def test_an_unreadable_file_fails_and_ends_without_codes(tmp_path):
    codes, statuses = scan_file(str(tmp_path / "missing.avi"), "auto")
    assert codes == []
    assert statuses == [("failed", f"cannot open video file {tmp_path / 'missing.avi'}")]


def test_a_missing_camera_is_retried_until_stopped():
    retrying = threading.Event()
    statuses = []

    def on_status(status, error):
        statuses.append((status, error))
        if status == "retrying":
            retrying.set()

    scanner = CameraScanner("/dev/video-wavefloor-missing", lambda code: None,
                            on_status=on_status).start()
    try:
        assert retrying.wait(30)
    finally:
        scanner.stop()
    assert not scanner.running
    assert statuses[0] == ("retrying", "cannot open camera /dev/video-wavefloor-missing; "
                                       "trying again in 1 s")
    assert statuses[-1][0] == "stopped"


def test_a_failing_callback_does_not_stop_the_scanner(tmp_path):
    video = write_video(tmp_path / "two.avi", [held(TOTE), blank(), held(SKU), blank()])
    codes = []

    def on_code(code):
        codes.append(code)
        raise RuntimeError("the page is gone")

    scanner = CameraScanner(video, on_code).start()
    scanner.join(timeout=120)
    assert codes == ["TOTE-0001", "6901234567892"]


def test_an_unknown_or_missing_decoder_is_refused_before_scanning():
    with pytest.raises(ValueError, match="unknown decoder 'zbar'"):
        load_decoder("zbar")
    for name in {"zxing", "pyzbar"} - set(DECODERS):
        with pytest.raises(DecoderUnavailable, match=name):
            CameraScanner(0, lambda code: None, decoder=name)
