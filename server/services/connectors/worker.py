"""The connectors' background work in a serving process (setting CONNECTOR_WORKER): every few
seconds, pull the connected shops that are due and send the platform outbox. Every step holds a
lease in the database, so several server processes share the work and none does a shop twice;
a process that dies holds nothing longer than its lease. Nothing here runs inside a floor
transaction: the floor never waits for a platform."""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time

from server import jsontext
from server.connectors.errors import PlatformError
from server.db import database
from server.models import ChannelCall, ShopConnection, SyncCheckpoint
from server.models.base import utcnow
from server.services.connectors import outbox, pull, tracking
from server.services.connectors.connections import client_for
from server.services.connectors.credentials import SealedElsewhere
from server.services.packages import waybills

EVERY_S = 5.0

log = logging.getLogger(__name__)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def send(client, call: ChannelCall) -> str:
    """One outbox call: waybill cancellations go to the carrier's service, the rest to the shop's platform."""
    if call.kind == "waybill_cancel":
        return waybills.send_cancel(jsontext.loads(call.payload))
    return outbox.send_one(client, call)


def due(connection: ShopConnection, operation: str, now: dt.datetime) -> bool:
    mark = SyncCheckpoint.get_or_none((SyncCheckpoint.shop == connection.shop_id)
                                      & (SyncCheckpoint.operation == operation))
    return mark is None or mark.last_run_at is None or (now - mark.last_run_at).total_seconds() >= connection.pull_every_s


def run_once(holder: str | None = None, now: dt.datetime | None = None, sleep=time.sleep) -> dict:
    """One round: the due pulls of every connected shop, then the due outbox calls."""
    holder = holder or holder_name()
    now = now or utcnow()
    done = {"pulls": [], "sent": {}}
    connections = {c.shop_id: c for c in ShopConnection.select().where(ShopConnection.status == "ok")}
    for connection in connections.values():
        for operation in pull.OPERATIONS:
            if not due(connection, operation, now):
                continue
            try:
                client = client_for(connection)
            except SealedElsewhere as error:
                log.error("shop %s: %s", connection.shop_id, error.params.get("reason"))
                break
            report = pull.pull(connection.shop.code, operation, client, holder=holder, sleep=sleep)
            done["pulls"].append(report.as_dict())
    for shop_id in outbox.due_shops():
        connection = connections.get(shop_id)
        try:
            client = client_for(connection) if connection is not None else None
        except SealedElsewhere:
            continue
        if client is None and not _only_waybills(shop_id):
            continue  # not connected, paused or to re-authorise: its calls wait
        done["sent"][shop_id] = outbox.send_shop(shop_id, client, holder, sender=send)
    # tracking (物流轨迹) last: the outbox never waits for it
    for connection in connections.values():
        if tracking.due(connection, now):
            try:
                client = client_for(connection)
            except SealedElsewhere:
                continue
            done.setdefault("traces", []).append(
                tracking.pull_traces(connection.shop.code, client, now=now, holder=holder).as_dict())
    return done


def _only_waybills(shop_id: int) -> bool:
    return not ChannelCall.select().where((ChannelCall.shop == shop_id) & (ChannelCall.kind != "waybill_cancel")
                                          & (ChannelCall.state.in_(("pending", "sending")))).exists()


def run_forever(every_s: float = EVERY_S) -> None:
    """The serving process's loop (a background task); an error is logged and the loop goes on."""
    holder = holder_name()
    while True:
        try:
            with database.connection_context():
                run_once(holder)
        except (PlatformError, OSError) as error:
            log.warning("connectors: %s", error)
        except Exception:  # the loop must outlive any one shop's trouble
            log.exception("connectors round failed")
        time.sleep(every_s)
