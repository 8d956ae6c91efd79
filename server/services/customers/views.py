"""What a caller sees of the customers: lists and one customer, the tag trend, opt-outs and the
live-stream windows. Every row goes through :func:`customer_view`, which masks the phone, the
receiver's name and the nick for a caller without ``pii.read``; such a caller cannot search by
phone either (a search would tell the number digit by digit)."""
from __future__ import annotations

import datetime as dt
import json

from peewee import Value, fn

from server.db import write_transaction
from server.models import AuditLog
from server.models.base import as_utc, utcnow
from server.models.customers import Customer, CustomerTagCount, LiveStream, ReorderDue
from server.services.auth import mask_name, mask_phone
from server.services.customers import tagrules
from server.services.customers.common import today
from server.services.errors import DomainError, NotFound

SORTS = {"spent": (Customer.spent_fen.desc(),), "recent": (Customer.last_order_at.desc(),),
         "orders": (Customer.orders.desc(),), "rfm": (Customer.r_score.desc(), Customer.f_score.desc(),
                                                      Customer.m_score.desc())}


class BadLiveStream(DomainError):
    code = "bad_live_stream"


def customer_view(c: Customer, pii: bool) -> dict:
    """One customer as the caller may see it."""
    return {
        "id": c.id, "channel": c.channel, "shop": c.shop, "province": c.province,
        "nick": c.nick if pii else mask_name(c.nick), "name": c.name if pii else mask_name(c.name),
        "phone": c.phone if pii else mask_phone(c.phone),
        "first_order_at": as_utc(c.first_order_at), "last_order_at": as_utc(c.last_order_at),
        "orders": c.orders, "units": c.units, "spent_fen": c.spent_fen, "coupon_orders": c.coupon_orders,
        "live_orders": c.live_orders, "r_score": c.r_score, "f_score": c.f_score, "m_score": c.m_score,
        "rfm": f"{c.r_score}{c.f_score}{c.m_score}", "tags": [t for t in c.tags.split(",") if t],
        "opt_out": c.opt_out, "opt_out_at": as_utc(c.opt_out_at),
    }


def listing(pii: bool, *, tag: str | None = None, channel: str | None = None, text: str | None = None,
            sort: str = "spent", limit: int = 100, offset: int = 0, opt_out: bool | None = None) -> tuple[list, int]:
    query = Customer.select().where(Customer.orders > 0)
    if tag:
        query = query.where(Value(",").concat(Customer.tags).concat(",").contains(f",{tag},"))
    if channel:
        query = query.where(Customer.channel == channel)
    if opt_out is not None:
        query = query.where(Customer.opt_out == opt_out)
    if text:
        match = Customer.nick.contains(text) | Customer.buyer.contains(text)
        if pii:
            match = match | Customer.phone.contains(text) | Customer.name.contains(text)
        else:  # the buyer key of a customer without a nick is its phone
            match = Customer.nick.contains(text) | (Customer.buyer.contains(text) & ~Customer.buyer.startswith("tel:"))
        query = query.where(match)
    total = query.count()
    rows = query.order_by(*SORTS.get(sort, SORTS["spent"]), Customer.id).limit(limit).offset(offset)
    return [customer_view(c, pii) for c in rows], total


def one(customer_id: int, pii: bool) -> dict:
    c = Customer.get_or_none(Customer.id == customer_id)
    if c is None:
        raise NotFound(f"no customer {customer_id}", customer=customer_id)
    view = customer_view(c, pii)
    view["due"] = [{"sku": d.sku_code, "due_on": d.due_on, "made_on": d.made_on}
                   for d in ReorderDue.select().where(ReorderDue.customer == c.id).order_by(ReorderDue.made_on.desc())
                   .limit(50)]
    return view


def tag_names(lang: str | None) -> dict[str, str]:
    """Each tag rule's name in the language (zh unless English is asked for)."""
    try:
        rules = tagrules.current()
    except Exception:  # a broken rule file: codes stand for names  # noqa: BLE001
        return {}
    return {rule.code: (rule.name_en if lang == "en" else rule.name_zh) for rule in rules.tags}


def tag_trend(days: int = 90, until: dt.date | None = None) -> dict:
    """Customers per tag per refresh day: {dates, series {tag: [n or None]}}."""
    until = until or today()
    since = until - dt.timedelta(days=days - 1)
    rows = list(CustomerTagCount.select(CustomerTagCount.day, CustomerTagCount.tag, CustomerTagCount.customers)
                .where(CustomerTagCount.day.between(since, until)).order_by(CustomerTagCount.day).tuples())
    dates = sorted({_date(d) for d, _, _ in rows})
    index = {d: i for i, d in enumerate(dates)}
    series: dict[str, list] = {}
    for day, tag, n in rows:
        series.setdefault(tag, [None] * len(dates))[index[_date(day)]] = n
    return {"dates": [d.isoformat() for d in dates], "series": series}


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def summary() -> dict:
    """Customers, repeat buyers, opted out; the RFM cells (r, f) with their customers."""
    base = Customer.select().where(Customer.orders > 0)
    cells = {f"{r}{f}": n for r, f, n in (Customer.select(Customer.r_score, Customer.f_score, fn.COUNT(Customer.id))
                                          .where(Customer.orders > 0)
                                          .group_by(Customer.r_score, Customer.f_score).tuples())}
    return {"customers": base.count(), "repeat": base.where(Customer.orders >= 2).count(),
            "opted_out": base.where(Customer.opt_out == True).count(), "rfm_cells": cells}  # noqa: E712


def set_opt_out(actor, customer_ids: list[int], opt_out: bool, note: str = "") -> int:
    """Mark customers as opted out of reminders (or back in); an AuditLog row each. Returns how
    many changed."""
    with write_transaction():
        found = list(Customer.select().where(Customer.id.in_(customer_ids) & (Customer.opt_out != opt_out)))
        if not found and not Customer.select().where(Customer.id.in_(customer_ids)).exists():
            raise NotFound(f"no customer {customer_ids}", customer=customer_ids[0] if customer_ids else None)
        for c in found:
            (Customer.update(opt_out=opt_out, opt_out_at=utcnow() if opt_out else None)
             .where(Customer.id == c.id).execute())
            AuditLog.create(user=getattr(actor, "user_id", None), device=getattr(actor, "device_id", None),
                            action="customer.opt_out" if opt_out else "customer.opt_in", target=str(c.id),
                            detail=json.dumps({"channel": c.channel, "note": note[:200]}, ensure_ascii=False))
    return len(found)


def find_for_opt_out(*, buyer: str | None = None, channel: str | None = None, phone: str | None = None) -> list[int]:
    """Customers named by buyer (nick) and channel, or by phone (an SMS tool's 退订 list)."""
    query = Customer.select(Customer.id)
    if phone:
        digits = phone.strip()
        query = query.where((Customer.phone == digits) | (Customer.buyer == f"tel:{digits}"))
    elif buyer:
        query = query.where(Customer.buyer == buyer.strip())
    else:
        return []
    if channel:
        query = query.where(Customer.channel == channel)
    return [cid for (cid,) in query.tuples()]


# --- live-stream windows --------------------------------------------------------------------

def live_view(s: LiveStream) -> dict:
    return {"id": s.id, "channel": s.channel, "shop": s.shop, "title": s.title, "starts_at": as_utc(s.starts_at),
            "ends_at": as_utc(s.ends_at)}


def live_streams(limit: int = 200) -> list[dict]:
    return [live_view(s) for s in LiveStream.select().order_by(LiveStream.starts_at.desc()).limit(limit)]


def add_live_stream(actor, starts_at: dt.datetime, ends_at: dt.datetime, title: str = "", channel: str = "",
                    shop: str = "") -> dict:
    """A live-stream window; times aware or naive UTC."""
    starts, ends = _naive_utc(starts_at), _naive_utc(ends_at)
    if ends <= starts or ends - starts > dt.timedelta(days=2):
        raise BadLiveStream("a live stream ends after it starts, within two days", starts_at=str(starts_at))
    with write_transaction():
        stream = LiveStream.create(starts_at=starts, ends_at=ends, title=title[:100], channel=channel[:16],
                                   shop=shop[:64])
        AuditLog.create(user=getattr(actor, "user_id", None), device=getattr(actor, "device_id", None),
                        action="customer.live_stream", target=str(stream.id), detail=title[:200])
    return live_view(stream)


def _naive_utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.timezone.utc).replace(tzinfo=None) if at.tzinfo else at

