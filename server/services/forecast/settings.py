"""The forecast's settings (FORECAST_* in server/config.py) as one value, checked."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from server.channels.values import CHANNEL_TZ
from server.services.errors import DomainError
from server.services.forecast import alerts

DEFAULT_LEAD_DAYS = 7   # a SKU no supplier sells us: the supplier table's default lead time


class BadForecastSetting(DomainError):
    code = "bad_forecast_setting"


@dataclass(frozen=True)
class Settings:
    horizon_days: int = 28
    history_days: int = 730
    service_level_pct: float = 95.0
    cover_days: int = 14
    workers: int = 1
    limits: alerts.Limits = field(default_factory=alerts.Limits)

    @classmethod
    def of(cls, values: dict) -> "Settings":
        """From the site's settings (server/config.py, FORECAST_*)."""
        made = cls(horizon_days=int(values.get("FORECAST_HORIZON_DAYS", 28)),
                   history_days=int(values.get("FORECAST_HISTORY_DAYS", 730)),
                   service_level_pct=float(values.get("FORECAST_SERVICE_LEVEL", 95)),
                   cover_days=int(values.get("FORECAST_COVER_DAYS", 14)),
                   workers=int(values.get("FORECAST_WORKERS", 1)),
                   limits=alerts.Limits(int(values.get("FORECAST_OVERSTOCK_DAYS", 90)),
                                        int(values.get("FORECAST_SLOW_DAYS", 30)),
                                        int(values.get("FORECAST_DROP_PCT", 30))))
        if not 7 <= made.horizon_days <= 30:
            raise BadForecastSetting("FORECAST_HORIZON_DAYS must be 7 to 30", setting="FORECAST_HORIZON_DAYS")
        if not 60 <= made.history_days <= 1500:
            raise BadForecastSetting("FORECAST_HISTORY_DAYS must be 60 to 1500", setting="FORECAST_HISTORY_DAYS")
        if not 50 <= made.service_level_pct < 100:
            raise BadForecastSetting("FORECAST_SERVICE_LEVEL must be 50 to 99.9", setting="FORECAST_SERVICE_LEVEL")
        return made


def today() -> dt.date:
    """The day in China: forecasts are made for the days after it."""
    return dt.datetime.now(CHANNEL_TZ).date()
