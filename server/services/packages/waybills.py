"""Electronic waybills (电子面单): the carrier's own number for a parcel, from where the carrier's
account says (a ``CarrierAccount`` row): a number pool the carrier handed out (号段), Cainiao
through a Taobao shop's session, or SF's own API. A carrier without an account keeps the
numbers this server makes (shipping.tracking_number), as the demo does.

The network is never called inside a transaction: :func:`fetch` asks the carriers from a
bounded pool of workers (greenlets when gevent has patched the process, else threads) and
stores each answer in a short transaction of its own, so a slow carrier holds no lock and a
wave's thousand numbers arrive in a few seconds. An order whose request fails is left without a
number and with the reason, on the report and in its history: a number is never made up.

A pool number is taken in the caller's transaction by a guarded update (free -> assigned), so
two stations never get the same one. A cancelled number is never given again; Cainiao's and
SF's are given back to the carrier by a call in the platform outbox.

It is one module because the pool, the services' fetch and the pack bench's wait for a number
share one rule: a carrier with an account never gets a number made up here.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import gevent.pool
from gevent import monkey
from peewee import fn

from server import jsontext
from server.connectors import cainiao
from server.connectors.errors import PlatformError, Refused
from server.connectors.sf import SfClient
from server.connectors.waybill_numbers import (Address, WaybillRequest, WaybillResult, parse_pool, problem,
                                               read_text)
from server.db import database, write_transaction
from server.models import (AuditLog, CarrierAccount, Order, OrderEvent, OrderLine, Shop, ShopConnection,
                           Warehouse, Wave, WaveOrder, Waybill)
from server.models.base import utcnow
from server.services.connectors import connections, credentials, outbox
from server.services.errors import DomainError, InvalidTransition, NotFound
from server.services.packages import shipping
from server.services.stock.inventory import Actor

LABEL_TEMPLATE = "waybill_76x130"
SOURCES = ("local", "pool", "cainiao", "sf")
ASSIGNED_EVENT = "waybill_assigned"
FAILED_EVENT = "waybill_failed"
CANCELLED_EVENT = "waybill_cancelled"
POOL_TRIES = 50          # free numbers another station may take under our hands before we give up
INSERT_CHUNK = 500
TIMEOUT_S = 10.0
NOT_WAITING = ("shipped", "cancelled")

log = logging.getLogger(__name__)


class PoolEmpty(DomainError):
    code = "waybill_pool_empty"
    http_status = 409


class NoAccount(DomainError):
    code = "waybill_no_account"
    http_status = 409


# --- where numbers come from ---------------------------------------------------------------------

def account_of(carrier_code: str) -> CarrierAccount | None:
    return CarrierAccount.get_or_none(CarrierAccount.carrier == carrier_code.strip().upper())


def source_of(carrier_code: str) -> str:
    """local | pool | cainiao | sf: local for a carrier without an account."""
    account = account_of(carrier_code)
    return account.source if account is not None else "local"


def assigned(order_id: int) -> Waybill | None:
    return (Waybill.select().where((Waybill.order == order_id) & (Waybill.state == "assigned"))
            .order_by(Waybill.id.desc()).first())


# --- number pools (号段) ---------------------------------------------------------------------------

def import_pool(carrier: str, path: str | Path, actor: Actor) -> dict:
    """Add a pool file's numbers as free waybills: ``{"added", "duplicates", "problems"}``. A number
    the database has already (free, used or cancelled) is a duplicate and stays as it is."""
    carrier = carrier.strip().upper()
    name = Path(path).name
    parsed = parse_pool(read_text(path), carrier, name)
    added = 0
    with write_transaction():
        for start in range(0, len(parsed.numbers), INSERT_CHUNK):
            chunk = parsed.numbers[start:start + INSERT_CHUNK]
            known = {number for (number,) in Waybill.select(Waybill.number).where(
                (Waybill.carrier == carrier) & Waybill.number.in_(chunk)).tuples()}
            rows = [{"carrier": carrier, "number": number, "source": "pool", "state": "free", "batch": name[:100]}
                    for number in chunk if number not in known]
            if rows:
                Waybill.insert_many(rows).execute()
            added += len(rows)
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="waybill.pool_import", target=carrier,
                        detail=f"{name}: {added} added, {len(parsed.numbers) - added} duplicates, "
                               f"{len(parsed.problems)} problems")
    return {"added": added, "duplicates": len(parsed.numbers) - added, "problems": parsed.problems}


def take_from_pool(order: Order, carrier: str | None = None) -> Waybill:
    """The order's pool number, taken in the caller's transaction: the order's own if it has one,
    else the oldest free one, by an update that only succeeds while the number is still free."""
    carrier = (carrier or shipping.carrier_of(order).code).upper()
    with write_transaction(savepoint=False):
        mine = assigned(order.id)
        if mine is not None and mine.carrier == carrier:
            return mine
        after = 0
        for _ in range(POOL_TRIES):
            candidate = (Waybill.select(Waybill.id).where((Waybill.carrier == carrier) & (Waybill.state == "free")
                                                         & (Waybill.id > after))
                         .order_by(Waybill.id).limit(1).scalar())
            if candidate is None:
                break
            taken = (Waybill.update(state="assigned", order=order.id, assigned_at=utcnow())
                     .where((Waybill.id == candidate) & (Waybill.state == "free")).execute())
            if taken:
                found = Waybill.get_by_id(candidate)
                OrderEvent.create(order=order.id, action=ASSIGNED_EVENT, detail=f"{carrier} {found.number}")
                return found
            after = candidate   # another station took it first
        raise PoolEmpty(f"no free {carrier} waybill numbers", carrier=carrier)


def pool_counts(carrier: str) -> dict:
    rows = (Waybill.select(Waybill.state, fn.COUNT(Waybill.id)).where(Waybill.carrier == carrier.upper())
            .group_by(Waybill.state).tuples())
    return {state: 0 for state in ("free", "assigned", "cancelled")} | dict(rows)


# --- fetching from the carriers' services -------------------------------------------------------

@dataclass
class _Outcome:
    ref: str
    result: WaybillResult | None = None
    error: str = ""          # the kind of failure: Unreachable, Refused, ... (errors.py), or not_asked
    reason: str = ""


def fetch_for_wave(wave_id: int, concurrency: int = 8) -> dict:
    wave = Wave.get_or_none(Wave.id == wave_id)
    if wave is None:
        raise NotFound(f"no wave {wave_id}", wave=wave_id)
    orders = list(Order.select().join(WaveOrder, on=(WaveOrder.order == Order.id))
                  .where(WaveOrder.wave == wave_id).order_by(Order.id))
    report = fetch(orders, concurrency, batch=f"wave:{wave.code}")
    report["wave_id"] = wave_id
    return report


def fetch(orders: list[Order], concurrency: int = 8, batch: str = "") -> dict:
    """A number for each order that has none: from its carrier's service (Cainiao, SF) or pool.
    ``{"asked", "assigned", "skipped", "failed", "failures": [{"order_id", "order", "carrier",
    "error", "reason"}], "seconds"}``; orders of carriers without an account are skipped."""
    if database.in_transaction():
        raise RuntimeError("waybills.fetch calls the carriers: it must not run inside a transaction")
    began = time.monotonic()
    report = {"asked": len(orders), "assigned": 0, "skipped": 0, "failed": 0, "failures": []}
    have = {order_id for (order_id,) in Waybill.select(Waybill.order).where(
        Waybill.order.in_([o.id for o in orders] or [0]) & (Waybill.state == "assigned")).tuples()}
    groups: dict[tuple[str, int | None], list[Order]] = {}   # one sender (warehouse) a request
    for order in orders:
        if order.id in have or order.merged_into_id or order.status in NOT_WAITING:
            report["skipped"] += 1
            continue
        groups.setdefault((shipping.carrier_of(order).code, order.warehouse_id), []).append(order)
    for (carrier, _), waiting in groups.items():
        account = account_of(carrier)
        if account is None:
            report["skipped"] += len(waiting)
        elif account.source == "pool":
            _fetch_from_pool(carrier, waiting, report)
        else:
            _fetch_from_service(account, waiting, concurrency, report, batch)
    report["seconds"] = round(time.monotonic() - began, 3)
    return report


def _fetch_from_pool(carrier: str, orders: list[Order], report: dict) -> None:
    for order in orders:
        try:
            with write_transaction():
                take_from_pool(order, carrier)
            report["assigned"] += 1
        except PoolEmpty as empty:
            _failed(report, order, carrier, "pool_empty", empty.text)
            with write_transaction():
                OrderEvent.create(order=order.id, action=FAILED_EVENT, detail=f"{carrier}: {empty.text}")


def _fetch_from_service(account: CarrierAccount, orders: list[Order], concurrency: int, report: dict,
                        batch: str) -> None:
    requests = requests_for(orders)
    by_ref = {str(order.id): order for order in orders}
    try:
        ask = _asker(account, Address(**sender_of(orders[0])))
    except (DomainError, PlatformError) as unusable:
        for order in orders:
            _failed(report, order, account.carrier, type(unusable).__name__, str(unusable))
        _note_failures(account.carrier, [(order, str(unusable)) for order in orders])
        return
    size = cainiao.BATCH if account.source == "cainiao" else 1
    jobs = [requests[start:start + size] for start in range(0, len(requests), size)]
    refused: list[str] = []   # a session the platform refused fails every later call too: not asked

    def work(job):
        if refused:
            return [_Outcome(r.ref, error="not_asked", reason=f"not asked: {refused[0]}") for r in job]
        outcomes = _attempt(ask, job)
        refused.extend(o.reason for o in outcomes if o.error == "SessionInvalid")
        return outcomes

    for outcomes in _bounded(work, jobs, concurrency):
        _store(account, outcomes, by_ref, report, batch)


def _attempt(ask, job: list[WaybillRequest]) -> list[_Outcome]:
    """One call for ``job``; a batch the carrier refuses is asked again one parcel at a time, so
    one bad address does not fail its nine neighbours."""
    try:
        return [_Outcome(r.ref, r) if r.number else _Outcome(r.ref, error="Refused", reason=r.error)
                for r in ask(job)]
    except Refused as refused:
        if len(job) > 1:
            return [outcome for request in job for outcome in _attempt(ask, [request])]
        return [_Outcome(job[0].ref, error="Refused", reason=str(refused))]
    except PlatformError as error:
        return [_Outcome(r.ref, error=type(error).__name__, reason=str(error)) for r in job]
    except Exception as error:  # a fault of ours must not lose the other parcels' answers
        log.exception("waybill request failed")
        return [_Outcome(r.ref, error="internal", reason=f"{type(error).__name__}: {error}") for r in job]


def _bounded(work, jobs: list, concurrency: int):
    """``work(job)`` for every job, at most ``concurrency`` at a time; answers as they come."""
    concurrency = max(1, min(concurrency, len(jobs) or 1))
    if monkey.is_module_patched("socket"):
        yield from gevent.pool.Pool(concurrency).imap_unordered(work, jobs)
        return
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="waybills") as workers:
        for done in as_completed([workers.submit(work, job) for job in jobs]):
            yield done.result()


def _store(account: CarrierAccount, outcomes: list[_Outcome], by_ref: dict, report: dict, batch: str) -> None:
    """One short transaction for one answer: its numbers, or each order's reason."""
    carrier = account.carrier
    with write_transaction():
        orders = [by_ref[o.ref] for o in outcomes]
        have = {order_id for (order_id,) in Waybill.select(Waybill.order).where(
            Waybill.order.in_([o.id for o in orders]) & (Waybill.state == "assigned")).tuples()}
        numbers = [o.result.number for o in outcomes if o.result is not None]
        used = dict(Waybill.select(Waybill.number, Waybill.order).where(
            (Waybill.carrier == carrier) & Waybill.number.in_(numbers or [""])).tuples())
        now = utcnow()
        for outcome, order in zip(outcomes, orders):
            if outcome.result is None:
                _failed(report, order, carrier, outcome.error, outcome.reason)
                OrderEvent.create(order=order.id, action=FAILED_EVENT, detail=f"{carrier}: {outcome.reason}"[:500])
                continue
            number = outcome.result.number
            if order.id in have:          # another fetch stored one meanwhile
                report["skipped"] += 1
                continue
            reason = problem(carrier, number) or (
                f"the carrier answered {number}, which is already used" if number in used else "")
            if reason:
                _failed(report, order, carrier, "BadAnswer", reason)
                OrderEvent.create(order=order.id, action=FAILED_EVENT, detail=f"{carrier}: {reason}")
                continue
            Waybill.create(carrier=carrier, number=number, source=account.source, state="assigned", order=order.id,
                           sort_code=outcome.result.sort_code[:64], print_data=outcome.result.print_data,
                           batch=(batch or f"order:{order.id}")[:100], assigned_at=now)
            OrderEvent.create(order=order.id, action=ASSIGNED_EVENT, detail=f"{carrier} {number}")
            used[number] = order.id
            report["assigned"] += 1


def _failed(report: dict, order: Order, carrier: str, error: str, reason: str) -> None:
    report["failed"] += 1
    report["failures"].append({"order_id": order.id, "order": order.external_id, "carrier": carrier,
                               "error": error, "reason": reason})


def _note_failures(carrier: str, failures: list[tuple[Order, str]]) -> None:
    with write_transaction():
        for order, reason in failures:
            OrderEvent.create(order=order.id, action=FAILED_EVENT, detail=f"{carrier}: {reason}"[:500])


def _asker(account: CarrierAccount, sender: Address):
    """``ask(requests) -> [WaybillResult]`` for the account's service (a client made once)."""
    if account.source == "cainiao":
        client = cainiao_client(account)
        return lambda job: cainiao.waybill_get(client, job, carrier=account.carrier, sender=sender,
                                               template_url=account.template_url)
    if account.source == "sf":
        client = sf_client(account)
        return lambda job: [client.create_order(job[0], sender)]
    raise NoAccount(f"{account.carrier} numbers come from {account.source!r}, not a service",
                    carrier=account.carrier)


def cainiao_client(account: CarrierAccount):
    """The TOP client of the shop whose session the Cainiao account uses."""
    connection = ShopConnection.get_or_none(ShopConnection.shop == account.shop_id) if account.shop_id else None
    if connection is None:
        raise NoAccount(f"the {account.carrier} Cainiao account has no connected Taobao shop",
                        carrier=account.carrier)
    return connections.client_for(connection, timeout_s=TIMEOUT_S)


def sf_client(account: CarrierAccount) -> SfClient:
    return SfClient(account.endpoint, account.partner, credentials.unseal(account.secret), account.account,
                    timeout_s=TIMEOUT_S)


def requests_for(orders: list[Order]) -> list[WaybillRequest]:
    """What the carrier is told about each order's parcel: receiver, channel order numbers (with
    those of the orders merged into it, 合单) and what it holds."""
    ids = [order.id for order in orders] or [0]
    items: dict[int, list[tuple[str, int]]] = {}
    for order_id, sku, title, qty, short in (OrderLine.select(OrderLine.order, OrderLine.sku_code, OrderLine.title,
                                                              OrderLine.qty, OrderLine.short_qty)
                                             .where(OrderLine.order.in_(ids)).order_by(OrderLine.id).tuples()):
        if qty - short > 0:
            items.setdefault(order_id, []).append((title or sku, qty - short))
    merged: dict[int, list[str]] = {}
    for into, external_id in (Order.select(Order.merged_into, Order.external_id)
                              .where(Order.merged_into.in_(ids)).order_by(Order.id).tuples()):
        merged.setdefault(into, []).append(external_id)
    return [WaybillRequest(
        ref=str(order.id), trade_numbers=(order.external_id, *merged.get(order.id, ())),
        receiver=Address(order.receiver_name, order.receiver_phone, order.receiver_province, order.receiver_city,
                         order.receiver_district, order.receiver_address),
        items=tuple(items.get(order.id, ())), channel=order.channel) for order in orders]


def sender_of(order: Order) -> dict:
    """The warehouse that sends the parcel, as the carrier's sender (寄件人)."""
    warehouse = Warehouse.get_or_none(Warehouse.id == order.warehouse_id) if order.warehouse_id else None
    if warehouse is None:
        return {}
    return {"name": warehouse.name, "province": warehouse.province, "detail": warehouse.address}


# --- cancelling -----------------------------------------------------------------------------------

def cancel(order: Order, actor: Actor) -> Waybill:
    """The order's number voided (a label torn up, the order cancelled): never given again. A
    Cainiao or SF number is given back to the carrier by a call in the outbox."""
    found = assigned(order.id)
    if found is None:
        raise NotFound(f"order {order.external_id} has no waybill", order=order.id)
    with write_transaction():
        voided = (Waybill.update(state="cancelled", cancelled_at=utcnow())
                  .where((Waybill.id == found.id) & (Waybill.state == "assigned")).execute())
        if not voided:
            raise InvalidTransition("waybill", Waybill.get_by_id(found.id).state, "cancelled")
        OrderEvent.create(order=order.id, action=CANCELLED_EVENT, detail=f"{found.carrier} {found.number}",
                          user=actor.user_id)
        if found.source in ("cainiao", "sf"):
            shop_id = _cancel_shop(found, order)
            payload = {"carrier": found.carrier, "number": found.number, "source": found.source,
                       "order_ref": str(order.id)}
            if shop_id is None:
                log.warning("waybill %s %s cancelled here only: no shop to send the cancel from",
                            found.carrier, found.number)
            else:
                outbox.enqueue(shop_id, "waybill_cancel", order.id, payload,
                               f"waybill_cancel:{found.carrier}:{found.number}", subject=found.number)
    return Waybill.get_by_id(found.id)


def _cancel_shop(waybill: Waybill, order: Order) -> int | None:
    """Cainiao's cancel goes through the account's shop session; SF's from the order's shop."""
    account = account_of(waybill.carrier)
    if waybill.source == "cainiao" and account is not None and account.shop_id:
        return account.shop_id
    return Shop.select(Shop.id).where(Shop.code == order.shop).scalar()


def send_cancel(payload: dict) -> str:
    """The outbox's ``waybill_cancel`` call (network; never inside a transaction): the number given
    back to Cainiao (through the account's shop session) or to SF. "sent", or "already" when the
    carrier had it cancelled; errors.py's exceptions otherwise."""
    account = account_of(payload["carrier"])
    if account is None or account.source != payload["source"]:
        raise Refused("waybill_cancel", "no_account",
                      f"no {payload['source']} account for {payload['carrier']} any more")
    if payload["source"] == "cainiao":
        return cainiao.waybill_cancel(cainiao_client(account), payload["carrier"], payload["number"])
    return sf_client(account).cancel(payload["order_ref"], payload["number"])


# --- the label -------------------------------------------------------------------------------------

def label_data(order: Order) -> dict | None:
    """The ``waybill_76x130`` label's data for the order's number, or None when it has none."""
    found = assigned(order.id)
    if found is None:
        return None
    data = shipping.label_data(order, shipping.carrier(found.carrier), found.number)
    data["sort_code"] = found.sort_code or data["sort_code"]
    return data


def print_data(waybill: Waybill):
    """The carrier's print data as it came, decoded when it is JSON."""
    try:
        return jsontext.loads(waybill.print_data) if waybill.print_data else None
    except ValueError:
        return waybill.print_data



# --- at the pack bench: a number not fetched yet ----------------------------------------------------

_fetching: set[int] = set()   # orders whose number is being fetched by this process now


def last_failure(order_id: int) -> str:
    """Why the order's latest fetch failed ('' when none did since its last number)."""
    event = (OrderEvent.select(OrderEvent.action, OrderEvent.detail)
             .where((OrderEvent.order == order_id) & OrderEvent.action.in_((FAILED_EVENT, ASSIGNED_EVENT)))
             .order_by(OrderEvent.id.desc()).first())
    return event.detail if event is not None and event.action == FAILED_EVENT else ""


def fetch_soon(order_id: int) -> None:
    """Fetch the order's number in the background (a greenlet when gevent has patched the
    process, else a thread), once at a time: the bench that asked scans again in a moment."""
    if order_id in _fetching:
        return
    _fetching.add(order_id)

    def work():
        try:
            with database.connection_context():
                order = Order.get_or_none(Order.id == order_id)
                if order is not None:
                    fetch([order], concurrency=1, batch="bench")
        except Exception:  # the bench sees the failure on its next scan, from the order's history
            log.exception("fetching the waybill of order %s failed", order_id)
        finally:
            _fetching.discard(order_id)

    threading.Thread(target=work, name=f"waybill-{order_id}", daemon=True).start()
