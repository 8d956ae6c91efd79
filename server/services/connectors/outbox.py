"""The platform outbox (发货回传, 库存同步): every call that changes a platform is a row written in the
transaction of the change it reports, and a worker sends the rows afterwards. Nothing that
changes a platform is ever called inside a floor transaction, so the floor never waits for the
internet, and nothing it did is lost when the internet is down: the rows wait.

Order. A shop's calls go out one at a time, oldest first, under the shop's lease (one process a
shop). A call that cannot go now for a reason that holds for every call of the shop (the platform
unreachable, its rate limit, the session expired) stops the shop's round and is tried again after
a backoff; one the platform refuses for good is ``failed`` and waits for a person (the office's
list, with retry), and the calls about other orders go on. A later call about the same order
never passes an earlier one that has not gone out.

Twice. A worker killed between the platform's answer and its own commit leaves the call
``sending``; once the lease expires it is sent again. A ship confirmation the platform already
has answers "already", which counts as done: the platform holds one confirmation, whatever happens.
A stock figure superseded by a newer one for the same SKU is not sent at all.
"""
from __future__ import annotations

import datetime as dt
import logging

from server import jsontext
from server.connectors.errors import PlatformError, RateLimited, SessionInvalid
from server.db import sql, write_transaction
from server.models import ChannelCall, Order, OrderEvent, Package, Shop, ShopConnection
from server.models.base import as_utc, utcnow
from server.services.connectors import leases
from server.services.connectors.lifecycle import CHANNEL_CALL
from server.services.errors import NotFound

KINDS = ("ship", "stock", "waybill_cancel")
BACKOFF_S = (5, 15, 60, 300, 900, 1800, 3600)  # after each failed try; then hourly
LEASE_S = 60
ROUND = 200          # calls a shop sends before the worker looks at the other shops
CONFIRMED_EVENT = "shipment_confirmed"

log = logging.getLogger(__name__)


def enqueue(shop_id: int, kind: str, order_id: int | None, payload: dict, key: str,
            subject: str = "") -> ChannelCall | None:
    """Write a call in the caller's transaction (or one of its own). A ``key`` already written
    is the same call: nothing new is written and None is answered."""
    with write_transaction(savepoint=False):
        now = utcnow()
        inserted = sql("INSERT INTO channel_call (shop_id, kind, order_id, subject, key, payload, state, attempts, "
                       "next_at, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', ?) "
                       "ON CONFLICT (key) DO NOTHING", shop_id, kind, order_id, subject[:64], key,
                       jsontext.dumps(payload), now, now).rowcount
        if not inserted:
            return None
        return ChannelCall.get_or_none(ChannelCall.key == key)


def ship_confirmations(order: Order, tracking: str, carrier: str, merged: list[Order] = ()) -> int:
    """The ship confirmations of a parcel that leaves (in the scan-out's transaction): one for
    the order and one for each order merged into it, when its shop is connected and pushes
    shipments. The number of calls written."""
    written = 0
    for each in [order, *merged]:
        connection = (ShopConnection.select(ShopConnection.id, ShopConnection.shop, ShopConnection.platform)
                      .join(Shop).where((Shop.code == each.shop) & ShopConnection.push_shipments).first())
        if connection is None:
            continue
        online = connection.platform == "top" and _cainiao_waybill(each)
        payload = {"external_id": each.external_id, "carrier": carrier, "tracking": tracking, "online": online}
        if enqueue(connection.shop_id, "ship", each.id, payload, f"ship:{each.id}:{tracking}",
                   subject=each.external_id):
            written += 1
    return written


def _cainiao_waybill(order: Order) -> bool:
    found = sql("SELECT 1 FROM waybill WHERE order_id = ? AND state = 'assigned' AND source = 'cainiao'",
                order.id).fetchone()
    return found is not None


def stock_figures(shop_id: int, figures: list[tuple[str, str, str, int]], stamp: str) -> int:
    """Stock uploads, one call a SKU: (sku_code, item_id, sku_id, qty). ``stamp`` (the time of
    the figures) makes two runs' calls distinct; an older figure still waiting is superseded."""
    written = 0
    with write_transaction():
        for sku, item_id, sku_id, qty in figures:
            payload = {"sku": sku, "item_id": item_id, "sku_id": sku_id, "qty": int(qty)}
            if enqueue(shop_id, "stock", None, payload, f"stock:{shop_id}:{sku}:{stamp}", subject=sku):
                written += 1
    return written


# --- the worker's side -------------------------------------------------------------------------------

def due_shops(now: dt.datetime | None = None) -> list[int]:
    """Shops with a call to send now: pending and due, or left sending by a worker whose claim ran out."""
    now = now or utcnow()
    rows = sql("SELECT DISTINCT shop_id FROM channel_call WHERE (state = 'pending' AND next_at <= ?) "
               "OR (state = 'sending' AND claimed_until < ?) ORDER BY shop_id", now, now).fetchall()
    return [row[0] for row in rows]


def send_shop(shop_id: int, client, worker: str, sender=None, limit: int = ROUND) -> dict:
    """Send a shop's due calls in order, holding its lease: {"done", "failed", "waiting", "stopped"}.
    ``sender(client, call) -> str`` does one call (:func:`send_one` by default)."""
    sender = sender or send_one
    counts = {"done": 0, "failed": 0, "waiting": 0, "stopped": ""}
    name = f"outbox:{shop_id}"
    if not leases.take(name, worker, LEASE_S):
        counts["stopped"] = "leased"
        return counts
    try:
        for _ in range(limit):
            call = _next_call(shop_id, worker)
            if call is None:
                break
            if _superseded(call):
                _finish(call, worker, "done", "superseded by a newer figure")
                continue
            try:
                outcome = sender(client, call)
            except SessionInvalid as error:
                _again(call, worker, error)
                mark_reauthorise(shop_id, str(error))
                counts["stopped"] = "session"
                break
            except PlatformError as error:
                if error.retry:
                    wait = error.wait_s if isinstance(error, RateLimited) else None
                    _again(call, worker, error, wait_s=wait)
                    counts["waiting"] += 1
                    counts["stopped"] = type(error).__name__
                    break
                _finish(call, worker, "failed", str(error))
                counts["failed"] += 1
                continue
            _finish(call, worker, "done", "" if outcome == "sent" else outcome)
            counts["done"] += 1
            leases.take(name, worker, LEASE_S)
    finally:
        leases.release(name, worker)
    return counts


def send_one(client, call: ChannelCall) -> str:
    payload = jsontext.loads(call.payload)
    if call.kind == "ship":
        return client.ship(payload["external_id"], payload["carrier"], payload["tracking"],
                           online=bool(payload.get("online")))
    if call.kind == "stock":
        client.upload_stock(payload["item_id"], payload.get("sku_id", ""), int(payload["qty"]))
        return "sent"
    raise ValueError(f"unknown call kind {call.kind!r}")


def _next_call(shop_id: int, worker: str) -> ChannelCall | None:
    """Claim the shop's oldest due call whose order has no earlier call still to go."""
    now = utcnow()
    until = now + dt.timedelta(seconds=LEASE_S)
    rows = (ChannelCall.select().where(
        (ChannelCall.shop == shop_id)
        & (((ChannelCall.state == "pending") & (ChannelCall.next_at <= now))
           | ((ChannelCall.state == "sending") & (ChannelCall.claimed_until < now))))
        .order_by(ChannelCall.id).limit(20))
    for call in rows:
        if call.order_id is not None and ChannelCall.select().where(
                (ChannelCall.order == call.order_id) & (ChannelCall.id < call.id)
                & (ChannelCall.state != "done")).exists():
            continue
        with write_transaction():
            if call.state == "pending":
                claimed = CHANNEL_CALL.move_if(call.id, "pending", "sending", claimed_by=worker, claimed_until=until)
            else:  # its worker died: the call passes to this one
                claimed = ChannelCall.update(claimed_by=worker, claimed_until=until).where(
                    (ChannelCall.id == call.id) & (ChannelCall.state == "sending")
                    & (ChannelCall.claimed_until < now)).execute() == 1
        if claimed:
            return ChannelCall.get_by_id(call.id)
    return None


def _superseded(call: ChannelCall) -> bool:
    return call.kind == "stock" and ChannelCall.select().where(
        (ChannelCall.shop == call.shop_id) & (ChannelCall.kind == "stock") & (ChannelCall.subject == call.subject)
        & (ChannelCall.id > call.id)).exists()


def _finish(call: ChannelCall, worker: str, state: str, note: str) -> None:
    now = utcnow()
    with write_transaction():
        values = {"claimed_by": None, "claimed_until": None, "attempts": call.attempts + 1}
        if state == "done":
            values.update(sent_at=now, last_error=note)
        else:
            values.update(last_error=note)
        CHANNEL_CALL.move(call.id, "sending", state, guard=("claimed_by = ?", (worker,)), **values)
        if state == "done" and call.kind == "ship" and call.order_id:
            payload = jsontext.loads(call.payload)
            Package.update(exported_at=now).where(
                (Package.order == call.order_id) & Package.exported_at.is_null()).execute()
            OrderEvent.create(order=call.order_id, action=CONFIRMED_EVENT, at=now,
                              detail=f"{payload.get('carrier', '')} {payload.get('tracking', '')} {note}".strip())
    if state == "failed":
        log.warning("channel call %s (%s %s of shop %s) failed: %s", call.id, call.kind, call.subject,
                    call.shop_id, note)


def _again(call: ChannelCall, worker: str, error: PlatformError, wait_s: float | None = None) -> None:
    """Back to pending, due after the backoff of its attempts (or the platform's own wait)."""
    delay = wait_s if wait_s is not None else BACKOFF_S[min(call.attempts, len(BACKOFF_S) - 1)]
    due = utcnow() + dt.timedelta(seconds=delay)
    with write_transaction():
        CHANNEL_CALL.move(call.id, "sending", "pending", guard=("claimed_by = ?", (worker,)),
                          claimed_by=None, claimed_until=None, attempts=call.attempts + 1, last_error=str(error),
                          next_at=due)
        # what stopped this call stops the shop's others too: they wait as long, not hammering the platform
        ChannelCall.update(next_at=due).where((ChannelCall.shop == call.shop_id) & (ChannelCall.state == "pending")
                                              & (ChannelCall.next_at < due)).execute()
    log.info("channel call %s of shop %s waits %.0f s: %s", call.id, call.shop_id, delay, error)


def mark_reauthorise(shop_id: int, reason: str) -> None:
    with write_transaction():
        ShopConnection.update(status="reauthorise", last_error=reason[:2000], updated_at=utcnow()).where(
            ShopConnection.shop == shop_id).execute()


# --- the office's side --------------------------------------------------------------------------------

def listing(state: str | None = None, shop_id: int | None = None, limit: int = 200) -> list[dict]:
    """Calls for the office, newest first: the failed ones (发货回传失败) or any state."""
    query = ChannelCall.select().order_by(ChannelCall.id.desc()).limit(limit)
    if state:
        query = query.where(ChannelCall.state == state)
    if shop_id:
        query = query.where(ChannelCall.shop == shop_id)
    return [view(call) for call in query]


def view(call: ChannelCall) -> dict:
    return {"id": call.id, "shop_id": call.shop_id, "kind": call.kind, "subject": call.subject,
            "order_id": call.order_id, "state": call.state, "attempts": call.attempts,
            "last_error": call.last_error, "created_at": as_utc(call.created_at), "next_at": as_utc(call.next_at),
            "sent_at": as_utc(call.sent_at), "payload": jsontext.loads(call.payload)}


def retry(call_id: int) -> dict:
    """A person asks for another try of a failed call: pending, due now."""
    call = ChannelCall.get_or_none(ChannelCall.id == call_id)
    if call is None:
        raise NotFound(kind="channel_call", id=call_id)
    with write_transaction():
        CHANNEL_CALL.move(call.id, "failed", "pending", next_at=utcnow())
    return view(ChannelCall.get_by_id(call_id))


def counts() -> dict:
    """Calls by state, for the office's and the control room's badges."""
    rows = sql("SELECT state, COUNT(*) FROM channel_call GROUP BY state").fetchall()
    found = {state: 0 for state in ("pending", "sending", "done", "failed")}
    found.update({state: n for state, n in rows})
    return found
