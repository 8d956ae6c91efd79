"""Reading single values as channels write them: yuan strings, local times, masked cells."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from .base import BadValue

CHANNEL_TZ = ZoneInfo("Asia/Shanghai")
#: the most an integer column holds on PostgreSQL: an amount, quantity or flag beyond it either
#: way is refused here, by its field, rather than by the database
LARGEST_WHOLE = 2**31 - 1

_WRAP_STARTS = frozenset("='\t \r\n\u3000")
_PLAIN_YUAN = re.compile(r"(\d{1,15})(?:\.(\d{1,2}))?")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－，", "0123456789.-,")


def clean_cell(text: str | None) -> str:
    """Undo what spreadsheet-proofing does to a cell.

    Exports wrap long numbers as ``="3700..."``, prefix them with ``'`` or a tab, so that Excel
    keeps every digit; none of that is part of the value.
    """
    if not text:
        return ""
    if text[0] not in _WRAP_STARTS and not text[-1].isspace():
        return text
    value = text.strip()
    if value.startswith('="') and value.endswith('"') and len(value) >= 3:
        value = value[2:-1].strip()
    elif value.startswith("'"):
        value = value[1:].strip()
    return value


def yuan_to_fen(text, field: str | None = None, *, allow_blank: bool = True) -> int:
    """``"338.00"`` -> 33800, exactly (Decimal, never float)."""
    if isinstance(text, bool):
        raise BadValue(field, f"not an amount: {text!r}")
    if isinstance(text, int):
        return _bounded(text * 100, field, "amount", shown=text)
    if isinstance(text, float):
        text = repr(text)
    plain = _PLAIN_YUAN.fullmatch(text) if isinstance(text, str) else None
    if plain:
        cents = plain.group(2)
        return _bounded(int(plain.group(1)) * 100 + (int(cents.ljust(2, "0")) if cents else 0),
                        field, "amount", shown=text)
    value = clean_cell(text).translate(_FULL_WIDTH).replace(",", "")
    for mark in ("¥", "￥", "元", "RMB"):
        value = value.replace(mark, "")
    value = value.strip()
    if not value:
        if allow_blank:
            return 0
        raise BadValue(field, "amount is missing")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise BadValue(field, f"not an amount: {text!r}") from None
    if not amount.is_finite():
        raise BadValue(field, f"not an amount: {text!r}")
    if amount.copy_abs() > Decimal(LARGEST_WHOLE) / 100:  # copy_abs: no context, no overflow to trap
        raise BadValue(field, f"amount is too large: {_cut(value)}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise BadValue(field, f"amount has fractions of a fen: {text!r}")
    return int(fen)


def fen_value(value, field: str | None = None) -> int:
    """An amount that the channel already gives in fen (an int, or digits in a string)."""
    if isinstance(value, bool):
        raise BadValue(field, f"not an amount in fen: {value!r}")
    if isinstance(value, int):
        return _bounded(value, field, "amount in fen")
    if value is None or value == "":
        return 0
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return _digits(text, field, "amount in fen")
    raise BadValue(field, f"not an amount in fen: {value!r}")


def parse_qty(text, field: str | None = None) -> int:
    if isinstance(text, bool):
        raise BadValue(field, f"not a quantity: {text!r}")
    if isinstance(text, int):
        qty = text
    elif isinstance(text, str) and text.isascii() and text.isdigit():
        qty = _digits(text, field, "quantity")
    else:
        value = clean_cell(str(text) if text is not None else "").translate(_FULL_WIDTH)
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise BadValue(field, f"not a quantity: {text!r}") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise BadValue(field, f"not a whole quantity: {text!r}")
        if number.copy_abs() > LARGEST_WHOLE:  # copy_abs: no context, so no overflow to trap
            raise BadValue(field, f"quantity is too large: {_cut(value)}")
        qty = int(number)
    if qty <= 0:
        raise BadValue(field, f"quantity must be positive: {text!r}")
    return _bounded(qty, field, "quantity")


def parse_int(value, field: str | None = None, default: int = 0) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BadValue(field, f"not a whole number: {value!r}")
    if isinstance(value, int):
        return _bounded(value, field, "whole number")
    text = clean_cell(str(value))
    if re.fullmatch(r"-?\d+", text):
        return _digits(text, field, "whole number")
    raise BadValue(field, f"not a whole number: {value!r}")


def _bounded(number: int, field: str | None, what: str, shown=None) -> int:
    if abs(number) > LARGEST_WHOLE:
        raise BadValue(field, f"{what} is too large: {_cut(str(number if shown is None else shown))}")
    return number


def _digits(text: str, field: str | None, what: str) -> int:
    """Digits (an optional minus first) as a bounded whole number; a run too long for ``int``
    to read is too large all the same."""
    if len(text.lstrip("-").lstrip("0")) > len(str(LARGEST_WHOLE)):
        raise BadValue(field, f"{what} is too large: {_cut(text)}")
    return _bounded(int(text), field, what)


def _cut(text: str, most: int = 40) -> str:
    return text if len(text) <= most else f"{text[:most]}... ({len(text)} characters)"


_LOOSE_TIME = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def local_time(text, field: str | None = None, tz=CHANNEL_TZ, fmt: str | None = None):
    """A channel's local wall-clock time as an aware UTC datetime; blank gives None."""
    value = clean_cell(text) if isinstance(text, str) else text
    if value is None or value == "":
        return None
    if fmt:
        try:
            moment = datetime.strptime(value, fmt)
        except ValueError:
            raise BadValue(field, f"not a time in the form {fmt}: {text!r}") from None
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            match = _LOOSE_TIME.match(value)
            if not match:
                raise BadValue(field, f"not a time: {text!r}") from None
            parts = [int(p) if p else 0 for p in match.groups()]
            try:
                moment = datetime(*parts)
            except ValueError:
                raise BadValue(field, f"not a time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise BadValue(field, f"not a time: {text!r}") from None


def unix_time(value, field: str | None = None):
    """Unix seconds (Douyin) as an aware UTC datetime; 0 or blank gives None."""
    if value in (None, "", 0, "0"):
        return None
    try:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=int(value))
    except (TypeError, ValueError, OverflowError):
        raise BadValue(field, f"not a unix time: {value!r}") from None


def text_value(value) -> str:
    if value is None:
        return ""
    return str(value).strip()
