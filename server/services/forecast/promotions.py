"""The merchant's own promotion days (大促 of its own, e.g. 店庆): a table the forecasts read
beside 618, 双11 and 双12, which are promotion days every year without a row."""
from __future__ import annotations

import datetime as dt

from server.db import write_transaction
from server.models import PromotionDay
from server.services.errors import DomainError


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DomainError(f"day: {text!r} is not a date (YYYY-MM-DD)") from None


def add(day: dt.date, name: str) -> None:
    """Mark ``day`` as the merchant's promotion ``name`` (renamed when it is there already)."""
    name = (name or "").strip()[:64]
    if not name:
        raise DomainError("name: give the promotion's name, e.g. 店庆")
    with write_transaction():
        (PromotionDay.insert(day=day, name=name, merchant=True)
         .on_conflict(conflict_target=[PromotionDay.day],
                      update={PromotionDay.name: name, PromotionDay.merchant: True}).execute())


def remove(day: dt.date) -> None:
    with write_transaction():
        PromotionDay.delete().where(PromotionDay.day == day).execute()


def listed() -> list[tuple[dt.date, str]]:
    return [(row.day, row.name) for row in PromotionDay.select().order_by(PromotionDay.day)]
