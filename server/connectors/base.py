"""What every platform client hands back, and the small rules they share: Beijing wall-clock
times, windows of whole seconds, and checking the shape of an answer."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from .errors import BadAnswer

BEIJING = ZoneInfo("Asia/Shanghai")
SECOND = timedelta(seconds=1)
TRACE_STATES = ("collected", "in_transit", "delivering", "delivered", "exception")


@dataclass
class Page:
    """One page of a window: ``total`` records in the whole window, ``payload`` as the file
    adapter named by the client's order_adapter / refund_adapter parses it, and the
    (sku_code, item_id, sku_id) of the platform listings its lines name."""
    total: int
    payload: dict | list
    listings: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class TraceEvent:
    """One step of a parcel's journey (物流轨迹) as the platform reports it."""
    at: datetime          # aware UTC
    status: str           # one of TRACE_STATES
    detail: str
    place: str = ""


def aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("platform windows take aware datetimes")
    return moment.astimezone(timezone.utc)


def beijing_text(moment: datetime) -> str:
    """``2026-11-11 08:00:00``: how TOP and JOS want times."""
    return aware_utc(moment).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def from_beijing_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(timezone.utc)


def whole_seconds(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The platforms' windows are whole seconds and include both ends; ours is [start, end).
    The seconds from ceil(start) to ceil(end) - 1 are exactly those in [start, end), so
    windows that meet never share or lose a second. None when the window holds no second."""
    first, after = _ceil(aware_utc(start)), _ceil(aware_utc(end))
    if after <= first:
        return None
    return first, after - SECOND


def _ceil(moment: datetime) -> datetime:
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + SECOND


def dig(data, path: tuple, call: str, *, kind=dict, required: bool = True):
    """``data[path[0]][path[1]]...`` checked to be a ``kind``; a missing step or a value of
    another type is a ``BadAnswer`` naming the call and the path."""
    value = data
    for depth, key in enumerate(path):
        if not isinstance(value, dict) or key not in value:
            if not required and isinstance(value, dict):
                return None
            raise BadAnswer(call, "missing", f"answer has no {'.'.join(map(str, path[:depth + 1]))}")
        value = value[key]
    if not _is(value, kind):
        raise BadAnswer(call, "type", f"{'.'.join(map(str, path))} is {type(value).__name__}, "
                                      f"expected {_name(kind)}")
    return value


def count(value, where: str, call: str) -> int:
    """A record count the platform may write as a number or as digits."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or \
            (isinstance(value, str) and not value.isdigit()):
        raise BadAnswer(call, "type", f"{where} is not a count: {value!r}")
    return int(value)


def records(value, where: str, call: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise BadAnswer(call, "type", f"{where} is not a list of objects")
    return value


def _is(value, kind) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def _name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


class PlatformClient:
    """What the three clients share: credentials, the gateway and how long to wait for it."""
    platform = ""
    order_adapter = ""
    refund_adapter = ""
    max_window = timedelta(days=1)
    page_size_max = 100

    def __init__(self, endpoint: str, app_key: str, secret: str, session: str, *,
                 sign_method: str = "md5", seller_nick: str = "", timeout_s: float = 10.0):
        self.endpoint = endpoint
        self.app_key = app_key
        self._secret = secret
        self._session = session
        self.sign_method = sign_method
        self.seller_nick = seller_nick
        self.timeout_s = timeout_s

    def __repr__(self) -> str:  # never the secret or the session
        return f"<{type(self).__name__} {self.endpoint} app_key={self.app_key}>"

    def _page_size(self, page_size: int) -> int:
        if not 1 <= page_size <= self.page_size_max:
            raise ValueError(f"page_size must be 1..{self.page_size_max}: {page_size}")
        return page_size
