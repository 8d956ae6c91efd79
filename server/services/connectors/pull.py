"""Pulling a shop's orders and refunds from its platform (增量同步).

A pull reads what the platform modified since the shop's checkpoint, a window at a time (at
most the platform's longest, and never across Beijing midnight: TOP answers one day at a time),
starting a few minutes before the checkpoint so that an order the platform wrote late is still
seen. Within a window the pages are read from the last to the first: the platform sorts by
modified time, so an order modified during the pull leaves its page for the end of the list
(outside the window, for the next pull) and the orders behind it move one place forward, into a
page already read. Read from the first page on, one of them would be skipped.

Every page is stored before the next is asked for, each order in its own transaction (the
import dedupes by the channel's order id, so pulling an order again, or importing it later from
a file, changes it and never adds it twice). The checkpoint moves only when a whole window is
stored. A shop's first pull writes its starting point as the checkpoint before it reads
anything, so a first pull killed before its first window is whole starts again from the same
point, not from the default a day back. A pull that stops (the process killed, the internet
gone, an answer that cannot be read) leaves the checkpoint at the last whole window; the next
pull reads the rest again.

The platform's flow control (rate limit) makes a pull wait and go on from the same page; an
expired session stops it and marks the shop for re-authorisation; an answer that cannot be read
stops it with the shop, the call and the reason logged, nothing of that page stored.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from server.channels import get_adapter
from server.channels.refunds import get_refund_adapter
from server.connectors.errors import PlatformError, RateLimited, SessionInvalid
from server.db import write_transaction
from server.models import ChannelListing, Shop, ShopConnection, SyncCheckpoint
from server.models.base import utcnow
from server.services.connectors import leases
from server.services.connectors.outbox import mark_reauthorise
from server.services.errors import NotFound
from server.services.orders import intake
from server.services.returns import refunds
from server.services.stock import inventory

OPERATIONS = ("orders", "refunds")
OVERLAP = dt.timedelta(minutes=5)
FIRST_PULL = dt.timedelta(days=1)     # how far back a shop's first pull reaches, unless told
PAGE_SIZE = 100
LEASE_S = 120
MAX_WAIT_S = 600                      # a rate-limit storm longer than this stops the pull
BEIJING = ZoneInfo("Asia/Shanghai")
#: a pulled order's channel is the one its shop's files give, so that a pulled order and the same
#: order in a file imported later are one order (a Tmall shop's 订单报表 says "tmall")
CHANNEL_OF_SHOP = {"tmall": "tmall", "top": "taobao", "taobao": "taobao", "jd": "jd", "douyin": "douyin"}

log = logging.getLogger(__name__)


@dataclass
class PullReport:
    shop: str
    operation: str
    windows: int = 0
    pages: int = 0
    records: int = 0          # records read from the platform
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    rate_limited: int = 0
    waited_s: float = 0.0
    stopped: str = ""         # why the pull ended before now ('' when it caught up)
    error: str = ""
    until: dt.datetime | None = None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: (v.isoformat() + "Z" if isinstance(v, dt.datetime) else v) for k, v in self.__dict__.items()}


def windows(start: dt.datetime, end: dt.datetime, longest: dt.timedelta) -> list[tuple[dt.datetime, dt.datetime]]:
    """[start, end) cut into windows no longer than ``longest`` and not across Beijing midnight
    (naive UTC in, naive UTC out)."""
    found = []
    while start < end:
        local = start.replace(tzinfo=dt.timezone.utc).astimezone(BEIJING)
        midnight = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        stop = min(end, start + longest, midnight.astimezone(dt.timezone.utc).replace(tzinfo=None))
        found.append((start, stop))
        start = stop
    return found


def checkpoint(shop_id: int, operation: str) -> SyncCheckpoint | None:
    return SyncCheckpoint.get_or_none((SyncCheckpoint.shop == shop_id) & (SyncCheckpoint.operation == operation))


def pull(shop_code: str, operation: str, client, *, holder: str = "pull", now: dt.datetime | None = None,
         since: dt.datetime | None = None, page_size: int = PAGE_SIZE, sleep=time.sleep,
         max_wait_s: float = MAX_WAIT_S, actor: inventory.Actor | None = None) -> PullReport:
    """Pull ``operation`` (orders | refunds) of a shop up to ``now``; ``since`` is where a shop
    with no checkpoint starts (default: a day back)."""
    shop = Shop.get_or_none(Shop.code == shop_code)
    if shop is None:
        raise NotFound(kind="shop", code=shop_code)
    report = PullReport(shop_code, operation)
    lease = f"pull:{shop.id}:{operation}"
    if not leases.take(lease, holder, LEASE_S):
        report.stopped = "leased"
        return report
    try:
        _pull(shop, operation, client, holder, lease, now or utcnow(), since, page_size, sleep, max_wait_s,
              actor or inventory.system_actor(), report)
    finally:
        leases.release(lease, holder)
    _note_run(shop.id, operation, report)
    return report


def _pull(shop, operation, client, holder, lease, now, since, page_size, sleep, max_wait_s, actor, report) -> None:
    mark = checkpoint(shop.id, operation)
    if mark is None:  # the first pull: its starting point is kept before anything is read
        _advance(shop.id, operation, (since or now - FIRST_PULL) + OVERLAP)
        mark = checkpoint(shop.id, operation)
    start = mark.until - OVERLAP
    report.until = mark.until
    fetch = client.order_page if operation == "orders" else client.refund_page
    limits = _Limits(sleep, max_wait_s, report)
    for begin, end in windows(start, now, client.max_window):
        try:
            first = limits.call(fetch, _aware(begin), _aware(end), 1, page_size)
            pages = max(1, math.ceil(first.total / page_size))
            # the last page first; page 1 again at the end, as it may have taken orders from page 2
            for page_no in range(pages, 0, -1):
                page = first if (page_no == 1 and pages == 1) else limits.call(
                    fetch, _aware(begin), _aware(end), page_no, page_size)
                if not _store(shop, operation, client, page, begin, end, page_no, actor, report):
                    return
                report.pages += 1
                if not leases.take(lease, holder, LEASE_S):
                    report.stopped = "lease_lost"
                    return
        except SessionInvalid as error:
            _stop(report, "session", error, shop)
            mark_reauthorise(shop.id, str(error))
            return
        except PlatformError as error:
            _stop(report, "rate_limited" if isinstance(error, RateLimited) else type(error).__name__, error, shop)
            return
        _advance(shop.id, operation, end)
        report.windows += 1
        report.until = end


class _Limits:
    """Calls that wait out the platform's flow control: the platform's own wait when it names
    one, doubling while the storm lasts, and the whole pull gives up after ``max_wait_s``."""

    def __init__(self, sleep, max_wait_s, report):
        self.sleep, self.max_wait_s, self.report = sleep, max_wait_s, report

    def call(self, fetch, *args):
        backoff = 0.5
        while True:
            try:
                return fetch(*args)
            except RateLimited as error:
                self.report.rate_limited += 1
                wait = max(error.wait_s or 0.0, backoff)
                if self.report.waited_s + wait > self.max_wait_s:
                    raise
                self.sleep(wait)
                self.report.waited_s += wait
                backoff = min(backoff * 2, 60.0)


def _store(shop, operation, client, page, begin, end, page_no, actor, report) -> bool:
    """Store one page; False (and the pull stops) when the page cannot be read whole."""
    if page.total == 0:
        return True  # an empty window: its answer holds no list to read
    if operation == "orders":
        result = get_adapter(client.order_adapter).parse(page.payload, shop=shop.code)
        records = result.orders
    else:
        result = get_refund_adapter(client.refund_adapter).parse(page.payload, shop=shop.code)
        records = result.refunds
    if result.problems:
        reason = "; ".join(str(p) for p in result.problems[:5])
        report.stopped, report.error = "bad_answer", f"page {page_no} of {begin:%Y-%m-%d %H:%M}Z: {reason}"
        report.problems.extend(str(p) for p in result.problems)
        log.error("pull of %s (%s, %s window %s..%s page %s) stopped: %s", shop.code, operation, client.platform,
                  begin, end, page_no, reason)
        return False
    channel = CHANNEL_OF_SHOP.get(shop.channel)
    for record in records:
        record.shop = shop.code
        if channel:
            record.channel = channel
    report.records += len(records)
    if operation == "orders":
        stored = intake.import_parsed(result, actor=actor)
        report.created += stored.created
        report.changed += stored.updated
        report.unchanged += stored.unchanged
        report.problems.extend(stored.problems)
    else:
        stored = refunds.import_parsed(result, actor=actor)
        report.created += stored.created
        report.changed += stored.updated
        report.unchanged += stored.unchanged
        report.problems.extend(str(p) for p in stored.problems)
    _learn_listings(shop.id, getattr(page, "listings", ()) or ())
    return True


def _learn_listings(shop_id: int, listings) -> None:
    if not listings:
        return
    with write_transaction():
        for sku, item_id, sku_id in {tuple(x) for x in listings if x[0] and x[1]}:
            (ChannelListing.insert(shop=shop_id, sku_code=sku, item_id=str(item_id), sku_id=str(sku_id or ""),
                                   updated_at=utcnow())
             .on_conflict(conflict_target=[ChannelListing.shop, ChannelListing.sku_code],
                          update={ChannelListing.item_id: str(item_id), ChannelListing.sku_id: str(sku_id or ""),
                                  ChannelListing.updated_at: utcnow()})
             .execute())


def _advance(shop_id: int, operation: str, until: dt.datetime) -> None:
    with write_transaction():
        (SyncCheckpoint.insert(shop=shop_id, operation=operation, until=until, last_run_at=utcnow())
         .on_conflict(conflict_target=[SyncCheckpoint.shop, SyncCheckpoint.operation],
                      update={SyncCheckpoint.until: until})
         .execute())


def _note_run(shop_id: int, operation: str, report: PullReport) -> None:
    with write_transaction():
        SyncCheckpoint.update(last_run_at=utcnow(), last_error=report.error[:2000],
                              stored=SyncCheckpoint.stored + report.created).where(
            (SyncCheckpoint.shop == shop_id) & (SyncCheckpoint.operation == operation)).execute()
        if not report.error and report.stopped in ("", "leased"):
            ShopConnection.update(last_error="").where(
                (ShopConnection.shop == shop_id) & (ShopConnection.status == "ok")).execute()
        elif report.error:
            ShopConnection.update(last_error=report.error[:2000], updated_at=utcnow()).where(
                ShopConnection.shop == shop_id).execute()


def _stop(report: PullReport, why: str, error: PlatformError, shop) -> None:
    report.stopped, report.error = why, str(error)
    log.warning("pull of %s (%s) stopped: %s", shop.code, report.operation, error)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc)
