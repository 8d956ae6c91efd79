"""Small things the customer modules share: the day in China, and whether a phone can take an SMS."""
from __future__ import annotations

import datetime as dt
import re

from server.channels.values import CHANNEL_TZ

USABLE_PHONE = re.compile(r"\+?[0-9][0-9 \-]{6,30}")


def today() -> dt.date:
    """The day in China: a refresh counts and lists for it."""
    return dt.datetime.now(CHANNEL_TZ).date()


CHINA_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai has kept UTC+8 without summer time since 1991


def local_day(at) -> dt.date:
    """The day in China of a stored time (naive UTC, or the text SQLite gives back)."""
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    if at.tzinfo is not None:
        return at.astimezone(CHANNEL_TZ).date()
    return (at + CHINA_OFFSET).date()


def as_datetime(value):
    """A stored time as a naive datetime, on both engines (SQLite gives text back to raw cursors)."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def usable_phone(phone: str) -> bool:
    """A number an SMS can go to: digits (a +, spaces, dashes of an extension), nothing masked."""
    return bool(phone) and "*" not in phone and USABLE_PHONE.fullmatch(phone.strip()) is not None
