"""Printer status from ``~HS`` (host status) and ``~HQES`` (extended error status).

Both parse into :class:`PrinterStatus`: ``ok`` and a list of stable fault codes that the print
queue stores and the supervisor screen translates. A printer that does not answer is a status
too (``no_answer``): a Zebra in MEDIA OUT, HEAD OPEN or RIBBON OUT may stay silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from printers.exceptions import PrinterNoAnswer, PrinterOffline, PrinterTimeout

STX, ETX = "\x02", "\x03"

NO_ANSWER = "no_answer"
OFFLINE = "offline"

PRINT_MODES = {
    "0": "rewind", "1": "peel_off", "2": "tear_off", "3": "cutter", "4": "applicator",
    "5": "delayed_cut", "6": "linerless_peel", "7": "linerless_rewind", "8": "partial_cutter",
    "9": "rfid", "K": "kiosk", "S": "stream",
}

# ~HQES error flags, group 1: (nibble index from the right, bit value) -> code
HQES_ERRORS = {
    (1, 0x1): "paper_out",
    (1, 0x2): "ribbon_out",
    (1, 0x4): "head_open",
    (1, 0x8): "cutter_fault",
    (2, 0x1): "over_temperature",
    (2, 0x2): "motor_over_temperature",
    (2, 0x4): "bad_printhead_element",
    (2, 0x8): "printhead_detection_error",
    (3, 0x1): "invalid_firmware_config",
    (3, 0x2): "printhead_thermistor_open",
    (4, 0x1): "paper_jam_during_retract",
    (4, 0x2): "presenter_not_running",
    (4, 0x4): "paper_feed_error",
    (4, 0x8): "clear_paper_path_failed",
    (5, 0x4): "black_mark_calibrate_error",
    (5, 0x8): "black_mark_not_found",
}
HQES_WARNINGS = {
    (1, 0x1): "need_to_calibrate_media",
    (1, 0x2): "clean_printhead",
    (1, 0x4): "replace_printhead",
    (1, 0x8): "paper_near_end",
}


@dataclass
class HostStatus:
    """Every field of the three ``~HS`` strings."""

    # string 1
    communication_settings: int
    paper_out: bool
    paused: bool
    label_length_dots: int
    formats_in_buffer: int
    buffer_full: bool
    comms_diagnostic_mode: bool
    partial_format: bool
    corrupt_ram: bool
    under_temperature: bool
    over_temperature: bool
    # string 2
    function_settings: int
    head_up: bool
    ribbon_out: bool
    thermal_transfer: bool
    print_mode: str
    print_width_mode: str
    label_waiting: bool
    labels_remaining_in_batch: int
    format_while_printing: bool
    graphics_stored: int
    # string 3
    password: str
    static_ram_installed: bool


@dataclass
class PrinterStatus:
    """What the queue needs to know: can it print, and if not, why."""

    ok: bool
    faults: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    host: HostStatus | None = None
    raw: str = ""

    @classmethod
    def no_answer(cls, source: str = "~HS", raw: str = "") -> "PrinterStatus":
        return cls(ok=False, faults=[NO_ANSWER], source=source, raw=raw)

    @classmethod
    def offline(cls, source: str = "~HS") -> "PrinterStatus":
        return cls(ok=False, faults=[OFFLINE], source=source)


class StatusParseError(ValueError):
    pass


def split_frames(reply: str) -> list[str]:
    """The STX...ETX framed strings of a reply, in order."""
    return re.findall(r"\x02(.*?)\x03", reply, flags=re.S)


def _flag(value: str) -> bool:
    return value.strip() == "1"


def parse_hs(reply: str | list[str]) -> PrinterStatus:
    """Parse the three framed strings a printer sends for ``~HS``."""
    frames = split_frames(reply) if isinstance(reply, str) else list(reply)
    raw = reply if isinstance(reply, str) else "".join(f"{STX}{frame}{ETX}\r\n" for frame in frames)
    if not frames:
        return PrinterStatus.no_answer("~HS", raw)
    if len(frames) < 3:
        raise StatusParseError(f"~HS needs three framed strings, got {len(frames)}: {raw!r}")
    one = [part.strip() for part in frames[0].split(",")]
    two = [part.strip() for part in frames[1].split(",")]
    three = [part.strip() for part in frames[2].split(",")]
    if len(one) < 12 or len(two) < 11 or len(three) < 2:
        raise StatusParseError(f"~HS strings are too short: {frames!r}")
    try:
        host = HostStatus(
            communication_settings=int(one[0]),
            paper_out=_flag(one[1]),
            paused=_flag(one[2]),
            label_length_dots=int(one[3]),
            formats_in_buffer=int(one[4]),
            buffer_full=_flag(one[5]),
            comms_diagnostic_mode=_flag(one[6]),
            partial_format=_flag(one[7]),
            corrupt_ram=_flag(one[9]),
            under_temperature=_flag(one[10]),
            over_temperature=_flag(one[11]),
            function_settings=int(two[0]),
            head_up=_flag(two[2]),
            ribbon_out=_flag(two[3]),
            thermal_transfer=_flag(two[4]),
            print_mode=PRINT_MODES.get(two[5], two[5]),
            print_width_mode=two[6],
            label_waiting=_flag(two[7]),
            labels_remaining_in_batch=int(two[8]),
            format_while_printing=_flag(two[9]),
            graphics_stored=int(two[10]),
            password=three[0],
            static_ram_installed=_flag(three[1]),
        )
    except ValueError as error:
        raise StatusParseError(f"~HS field is not a number: {frames!r}") from error
    faults = [
        code
        for code, present in (
            ("paper_out", host.paper_out),
            ("paused", host.paused),
            ("head_open", host.head_up),
            ("ribbon_out", host.ribbon_out),
            ("buffer_full", host.buffer_full),
            ("corrupt_ram", host.corrupt_ram),
            ("under_temperature", host.under_temperature),
            ("over_temperature", host.over_temperature),
            ("comms_diagnostic_mode", host.comms_diagnostic_mode),
        )
        if present
    ]
    warnings = ["label_waiting"] if host.label_waiting else []
    return PrinterStatus(ok=not faults, faults=faults, warnings=warnings, source="~HS", host=host, raw=raw)


_HQES_LINE = re.compile(r"(ERRORS|WARNINGS):\s*([01])\s+([0-9A-Fa-f]{8})\s+([0-9A-Fa-f]{8})")


def _decode_flags(group1: str, table: dict, prefix: str) -> list[str]:
    value = int(group1, 16)
    codes = []
    for nibble in range(1, 9):
        bits = (value >> (4 * (nibble - 1))) & 0xF
        for bit in (0x1, 0x2, 0x4, 0x8):
            if bits & bit:
                codes.append(table.get((nibble, bit), f"{prefix}_{bit << (4 * (nibble - 1)):08x}"))
    return codes


def parse_hqes(reply: str) -> PrinterStatus:
    """Parse ``PRINTER STATUS / ERRORS: F GGGGGGGG HHHHHHHH / WARNINGS: ...``."""
    if not reply or not reply.strip(STX + ETX + " \r\n"):
        return PrinterStatus.no_answer("~HQES", reply or "")
    lines = {match.group(1): match.groups()[1:] for match in _HQES_LINE.finditer(reply)}
    if "ERRORS" not in lines:
        raise StatusParseError(f"~HQES reply has no ERRORS line: {reply!r}")
    flag, _group2, group1 = lines["ERRORS"]
    faults = _decode_flags(group1, HQES_ERRORS, "error") if flag == "1" else []
    if flag == "1" and not faults:
        faults = ["error"]
    warnings = []
    if "WARNINGS" in lines and lines["WARNINGS"][0] == "1":
        warnings = _decode_flags(lines["WARNINGS"][2], HQES_WARNINGS, "warning")
    return PrinterStatus(ok=not faults, faults=faults, warnings=warnings, source="~HQES", raw=reply)


def read_status(transport, command: str = "~HS") -> PrinterStatus:
    """Ask a printer for its status through a transport; silence is ``no_answer``."""
    try:
        if command == "~HS":
            return parse_hs(transport.query("~HS", frames=3))
        if command == "~HQES":
            return parse_hqes("".join(f"{STX}{frame}{ETX}" for frame in transport.query("~HQES", frames=1)))
    except (PrinterNoAnswer, PrinterTimeout):
        return PrinterStatus.no_answer(command)
    except PrinterOffline:
        return PrinterStatus.offline(command)
    raise ValueError(f"unknown status command {command!r}; use ~HS or ~HQES")
