"""Promotion days (大促): the platforms' every year without a row, the merchant's own kept in the
table from the command line; a bad day named. Both engines."""
from __future__ import annotations

import datetime as dt

from server.models import PromotionDay
from server.services.forecast import history
from tests.test_cli import wavefloor


def test_platform_days_every_year_and_the_merchants_own(db, db_url, tmp_path):
    end = dt.date(2026, 12, 6)
    marked = history.promotion_days(end, 400)
    first = end - dt.timedelta(days=400)
    days = {first + dt.timedelta(days=i) for i, on in enumerate(marked) if on}
    assert days == {dt.date(2025, 11, 11), dt.date(2025, 12, 12), dt.date(2026, 6, 18), dt.date(2026, 11, 11)}

    wavefloor(db_url, "forecast", "promotion", "2026-09-09", "店庆", tmp_path=tmp_path)
    assert PromotionDay.get().name == "店庆" and PromotionDay.get().merchant
    listed = wavefloor(db_url, "forecast", "promotion", tmp_path=tmp_path).stdout
    assert "2026-09-09  店庆" in listed
    assert dt.date(2026, 9, 9) in {first + dt.timedelta(days=i)
                                   for i, on in enumerate(history.promotion_days(end, 400)) if on}
    refused = wavefloor(db_url, "forecast", "promotion", "9/9", "店庆", tmp_path=tmp_path, check=False)
    assert refused.returncode != 0 and "day: '9/9' is not a date" in refused.stderr
    wavefloor(db_url, "forecast", "promotion", "2026-09-09", "--remove", tmp_path=tmp_path)
    assert PromotionDay.select().count() == 0
