"""A carrier's waybill account as people set it up (电子面单账号): where its numbers come from
(a number pool, Cainiao through a Taobao shop, SF's own API), the office's view of every carrier
with its pool counts, the waves still waiting for carrier numbers (打单), and what an order's
waybill is. The numbers themselves are packages/waybills.py's.

A secret (SF's checkword) goes one way: sealed into the database when given, kept when left
empty, never read back into a view.
"""
from __future__ import annotations

import re

from peewee import fn

from server.db import write_transaction
from server.models import AuditLog, CarrierAccount, Order, OrderEvent, Shop, ShopConnection, Wave, WaveOrder, Waybill
from server.models.base import as_utc, utcnow
from server.services.connectors.credentials import SealedElsewhere, seal, unseal
from server.services.errors import DomainError, NotFound
from server.services.packages import shipping, waybills
from server.services.stock.inventory import Actor

#: what a person may choose; "local" removes the account (numbers made by this server again)
SOURCES = ("pool", "cainiao", "sf", "local")
SERVICES = ("cainiao", "sf")
CODE = re.compile(r"^[A-Z0-9_-]{2,32}$")
#: waves whose orders may still want numbers before picking or packing
OPEN_WAVES = ("planned", "released", "picking", "paused", "picked")


class BadAccount(DomainError):
    code = "bad_carrier_account"
    http_status = 400


def set_account(carrier: str, source: str, actor: Actor, *, shop: str = "", endpoint: str = "", partner: str = "",
                secret: str | None = None, account: str = "", template_url: str = "") -> CarrierAccount | None:
    """Create or change the carrier's account. An empty ``secret`` keeps the stored one. Each
    source asks for what its service needs: cainiao a shop (whose TOP session it uses), sf the
    endpoint, partner id, checkword and monthly account."""
    carrier = (carrier or "").strip().upper()
    if not CODE.match(carrier):
        raise BadAccount(field="carrier", reason="2 to 32 letters, digits, - or _")
    if source not in SOURCES:
        raise BadAccount(field="source", reason=" | ".join(SOURCES))
    existing = waybills.account_of(carrier)
    values = {"source": source, "shop": None, "endpoint": endpoint.strip(), "partner": partner.strip(),
              "account": account.strip(), "template_url": template_url.strip(), "updated_at": utcnow()}
    if source == "cainiao":
        found = Shop.get_or_none(Shop.code == shop.strip()) if shop.strip() else None
        if found is None:
            raise BadAccount(field="shop", reason="the Taobao / Tmall shop whose session Cainiao uses")
        values["shop"] = found.id
    if source == "sf":
        for field in ("endpoint", "partner", "account"):
            if not values[field]:
                raise BadAccount(field=field, reason="required")
        if not values["endpoint"].startswith(("http://", "https://")):
            raise BadAccount(field="endpoint", reason="an http:// or https:// address")
    kept = existing.secret if existing is not None and existing.source == source else ""
    values["secret"] = seal(secret.strip()) if secret and secret.strip() else kept
    if source == "sf" and not values["secret"]:
        raise BadAccount(field="secret", reason="required")
    with write_transaction():
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="waybill.account", target=carrier,
                        detail=f"{existing.source if existing else 'local'} -> {source}")
        if source == "local":
            if existing is not None:
                CarrierAccount.delete().where(CarrierAccount.id == existing.id).execute()
            return None
        if existing is None:
            return CarrierAccount.create(carrier=carrier, **values)
        CarrierAccount.update(**values).where(CarrierAccount.id == existing.id).execute()
    return CarrierAccount.get_by_id(existing.id)


def views() -> list[dict]:
    """Every known carrier, and every other one with an account or numbers, for the office:
    source, account settings (never the secret), pool counts."""
    counts: dict[str, dict] = {}
    for carrier, state, n in (Waybill.select(Waybill.carrier, Waybill.state, fn.COUNT(Waybill.id))
                              .group_by(Waybill.carrier, Waybill.state).tuples()):
        counts.setdefault(carrier, {"free": 0, "assigned": 0, "cancelled": 0})[state] = n
    accounts = {a.carrier: a for a in CarrierAccount.select()}
    codes = list(shipping.CARRIERS) + sorted((set(accounts) | set(counts)) - set(shipping.CARRIERS))
    return [view(code, accounts.get(code), counts.get(code)) for code in codes]


def view_of(carrier: str) -> dict:
    carrier = carrier.strip().upper()
    return view(carrier, waybills.account_of(carrier), waybills.pool_counts(carrier))


def view(code: str, account: CarrierAccount | None, counts: dict | None) -> dict:
    known = shipping.carrier(code)
    row = {"carrier": code, "name_zh": known.name_zh, "name_en": known.name_en,
           "source": account.source if account else "local", "shop": "", "endpoint": "", "partner": "",
           "account": "", "template_url": "", "secret_set": False, "problem": "",
           "counts": counts or {"free": 0, "assigned": 0, "cancelled": 0}, "updated_at": None}
    if account is None:
        return row
    row.update(shop=account.shop.code if account.shop_id else "", endpoint=account.endpoint,
               partner=account.partner, account=account.account, template_url=account.template_url,
               secret_set=bool(account.secret), updated_at=as_utc(account.updated_at), problem=_problem(account))
    return row


def _problem(account: CarrierAccount) -> str:
    """Why the account cannot give numbers now, in a message code ('' when it can, as far as
    this server can tell without asking the carrier)."""
    if account.source == "cainiao":
        if not account.shop_id or not ShopConnection.select().where(ShopConnection.shop == account.shop_id).exists():
            return "waybill_no_account"
    if account.source == "sf":
        try:
            unseal(account.secret)
        except SealedElsewhere:
            return "credentials_unreadable"
    if account.source == "pool" and not Waybill.select().where(
            (Waybill.carrier == account.carrier) & (Waybill.state == "free")).exists():
        return "waybill_pool_empty"
    return ""


def waves_waiting() -> list[dict]:
    """Open waves with orders whose carrier's numbers come from a service (Cainiao, SF) and that
    have none yet: ``[{"wave_id", "code", "status", "waiting"}]`` (打单 not done, or not all)."""
    services = {a.carrier for a in CarrierAccount.select(CarrierAccount.carrier)
                .where(CarrierAccount.source.in_(SERVICES))}
    if not services:
        return []
    default = shipping.carrier_of(Order(carrier="")).code
    numbered = Waybill.select(Waybill.order).where((Waybill.state == "assigned") & Waybill.order.is_null(False))
    rows = (WaveOrder.select(Wave.id, Wave.code, Wave.status, Order.carrier, fn.COUNT(Order.id))
            .join(Order, on=(WaveOrder.order == Order.id)).switch(WaveOrder).join(Wave, on=(WaveOrder.wave == Wave.id))
            .where(Wave.status.in_(OPEN_WAVES) & Order.status.not_in(waybills.NOT_WAITING)
                   & Order.merged_into.is_null() & Order.id.not_in(numbered))
            .group_by(Wave.id, Wave.code, Wave.status, Order.carrier).order_by(Wave.id).tuples())
    waiting: dict[int, dict] = {}
    for wave_id, code, status, carrier, n in rows:
        if (carrier or default).strip().upper() in services:
            waiting.setdefault(wave_id, {"wave_id": wave_id, "code": code, "status": status, "waiting": 0})
            waiting[wave_id]["waiting"] += n
    return list(waiting.values())


def order_waybill(order_id: int) -> dict:
    """An order's waybill: the number it holds (or none), those cancelled, and why the last
    fetch failed when it did."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise NotFound(f"no order {order_id}", order=order_id)
    carrier = shipping.carrier_of(order).code
    held = waybills.assigned(order.id)
    cancelled = [number for (number,) in Waybill.select(Waybill.number).where(
        (Waybill.order == order.id) & (Waybill.state == "cancelled")).order_by(Waybill.id).tuples()]
    return {"order_id": order.id, "external_id": order.external_id, "carrier": carrier,
            "source": waybills.source_of(carrier), "waybill": _waybill(held) if held else None,
            "cancelled": cancelled, "last_failure": waybills.last_failure(order.id),
            "history": [{"at": e.at, "action": e.action, "detail": e.detail} for e in OrderEvent.select().where(
                (OrderEvent.order == order.id) & OrderEvent.action.in_(
                    (waybills.ASSIGNED_EVENT, waybills.FAILED_EVENT, waybills.CANCELLED_EVENT)))
                .order_by(OrderEvent.id)]}


def _waybill(found: Waybill) -> dict:
    return {"carrier": found.carrier, "number": found.number, "source": found.source, "state": found.state,
            "sort_code": found.sort_code, "batch": found.batch, "assigned_at": found.assigned_at,
            "print_data": waybills.print_data(found)}

