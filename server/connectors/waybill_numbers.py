"""Carriers' waybill numbers (运单号): what a carrier is asked for one parcel and what it answers,
the check-digit rules that are published, and the number-pool files (号段) a carrier hands out.

Check digits. Only one rule is published for the carriers we know: UPU S10, the 13-character
identifier of the postal operators (``EA123456785CN``: service letters, an 8-digit serial, a check
digit, the country), used by China Post and EMS for international items. SF, ZTO, YTO, STO,
Yunda, JD, Deppon, and China Post's 13-digit domestic numbers publish no check-digit rule; their
numbers are checked for shape only (letters and digits a Code 128 label can carry). A pool file
that breaks a rule is reported line by line and nothing of it is guessed.

No database here: the services store what these functions read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
SHAPE = re.compile(r"^[A-Za-z0-9-]{6,40}$")  # what a label's Code 128 carries and a scanner types back
LONGEST_RANGE = 1_000_000  # a "start,end" line bigger than this is a typing mistake, not a pool
POSTAL_CARRIERS = ("EMS",)  # the carriers whose S10 numbers are checked


@dataclass(frozen=True)
class Address:
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    detail: str = ""


@dataclass(frozen=True)
class WaybillRequest:
    """One parcel a carrier is asked a number for. ``ref`` is ours (the order id) and comes back
    on the answer; ``trade_numbers`` are the channel's order numbers (订单号) the parcel carries."""
    ref: str
    trade_numbers: tuple[str, ...]
    receiver: Address
    items: tuple[tuple[str, int], ...] = ()   # (name, quantity)
    weight_g: int = 0
    channel: str = ""                          # tmall | jd | douyin | ... (Cainiao's order channel)


@dataclass(frozen=True)
class WaybillResult:
    """A carrier's answer for one parcel: the number, the sort code printed big on the label
    (大头笔 / 三段码), the print data as the carrier returned it, and the request's ``ref``.
    ``error`` is set instead of a number when the carrier refused this one parcel."""
    ref: str
    number: str = ""
    sort_code: str = ""
    print_data: str = ""
    error: str = ""


# --- check digits ------------------------------------------------------------------------------

def s10_check_digit(serial: str) -> str:
    """UPU S10: the 8 serial digits weighted 8 6 4 2 3 5 9 7, summed; 11 less the sum modulo 11,
    where 10 becomes 0 and 11 becomes 5."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError(f"an S10 serial has 8 digits: {serial!r}")
    check = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS)) % 11
    return {10: "0", 11: "5"}.get(check, str(check))


def s10_number(service: str, serial: int | str, country: str = "CN") -> str:
    serial = f"{int(serial):08d}"
    return f"{service}{serial}{s10_check_digit(serial)}{country}"


def problem(carrier: str, number: str) -> str | None:
    """Why ``number`` cannot be one of ``carrier``'s, or None. A number in S10 form is checked
    whatever the carrier (only postal operators use that form)."""
    if not SHAPE.match(number):
        return f"{number!r} is not a waybill number (6 to 40 letters and digits)"
    found = S10.match(number)
    if found:
        expected = s10_check_digit(found.group(2))
        if found.group(3) != expected:
            return f"{number}: the S10 check digit should be {expected}"
    elif carrier.upper() in POSTAL_CARRIERS and number[:2].isalpha():
        return f"{number}: a postal number with letters is in S10 form (2 letters, 9 digits, 2 letters)"
    return None


# --- pool files (号段) ----------------------------------------------------------------------------

@dataclass
class PoolFile:
    numbers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_text(path: str | Path) -> str:
    """A pool file as the carrier's office sent it: UTF-8 (with or without BOM) or GBK."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gbk", errors="replace")


def parse_pool(text: str, carrier: str, name: str = "pool") -> PoolFile:
    """The numbers of a pool file, in file order, and its problems as ``"name:line: reason"``.
    A line holds one number, or ``start,end``: every number from start to end, both included
    (digits counted up after a shared letter prefix; S10 numbers get each their check digit).
    Blank lines, ``#`` comments and a header line without digits are skipped; a number twice in
    the file is a problem on its second line."""
    out = PoolFile()
    seen: dict[str, int] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().strip("\ufeff")
        if not line or line.startswith("#") or (line_no == 1 and not any(c.isdigit() for c in line)):
            continue
        cells = [cell.strip().strip('"') for cell in re.split(r"[,\t;，]", line)]
        cells = [cell for cell in cells if cell]
        if not cells:
            continue
        try:
            numbers = expand(cells[0], cells[1]) if len(cells) == 2 else cells
            if len(numbers) != 1 and len(cells) != 2:
                raise ValueError("one number a line, or start,end")
        except ValueError as refused:
            out.problems.append(f"{name}:{line_no}: {refused}")
            continue
        for number in numbers:
            reason = problem(carrier, number)
            if reason:
                out.problems.append(f"{name}:{line_no}: {reason}")
                break
            if number in seen:
                out.problems.append(f"{name}:{line_no}: {number} is also on line {seen[number]}")
                continue
            seen[number] = line_no
            out.numbers.append(number)
    return out


def expand(start: str, end: str) -> list[str]:
    """``start`` to ``end`` inclusive. Both ends must have the same shape: the same letters around
    a run of digits of one length."""
    first, last = S10.match(start), S10.match(end)
    if first and last:
        if (first.group(1), first.group(4)) != (last.group(1), last.group(4)):
            raise ValueError(f"{start} and {end} are not of one series")
        low, high = int(first.group(2)), int(last.group(2))
        _check_span(start, end, low, high)
        return [s10_number(first.group(1), n, first.group(4)) for n in range(low, high + 1)]
    shape = re.compile(r"^([A-Za-z]*)(\d+)([A-Za-z]*)$")
    first, last = shape.match(start), shape.match(end)
    if not first or not last or (first.group(1), first.group(3)) != (last.group(1), last.group(3)) \
            or len(first.group(2)) != len(last.group(2)):
        raise ValueError(f"{start} and {end} are not of one series")
    prefix, width, suffix = first.group(1), len(first.group(2)), first.group(3)
    low, high = int(first.group(2)), int(last.group(2))
    _check_span(start, end, low, high)
    return [f"{prefix}{n:0{width}d}{suffix}" for n in range(low, high + 1)]


def _check_span(start: str, end: str, low: int, high: int) -> None:
    if high < low:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    if high - low + 1 > LONGEST_RANGE:
        raise ValueError(f"{start},{end} is {high - low + 1} numbers; at most {LONGEST_RANGE} a line")
