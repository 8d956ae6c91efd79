"""Leases: one process at a time on a piece of background work (a shop's pull, a shop's outbox),
however many servers share the database. A lease is a row with its holder and an expiry; the
holder renews it while it works, and once it has expired any process may take it over (so a
killed process holds nothing for longer than its lease)."""
from __future__ import annotations

import datetime as dt

from server.db import write_transaction
from server.models import Lease
from server.models.base import utcnow


def take(name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease ``name`` for ``seconds``: whether ``holder`` has it now."""
    now = utcnow()
    until = now + dt.timedelta(seconds=seconds)
    with write_transaction():
        Lease.insert(name=name, holder="", until=now - dt.timedelta(seconds=1)).on_conflict_ignore().execute()
        return Lease.update(holder=holder, until=until).where(
            (Lease.name == name) & ((Lease.holder == holder) | (Lease.until < now))).execute() == 1


def release(name: str, holder: str) -> None:
    """Give the lease up at once (only its holder can)."""
    with write_transaction():
        Lease.update(until=utcnow() - dt.timedelta(seconds=1)).where(
            (Lease.name == name) & (Lease.holder == holder)).execute()


def holder_of(name: str) -> str | None:
    """Who holds ``name`` now (None when nobody does)."""
    row = Lease.get_or_none(Lease.name == name)
    return row.holder if row is not None and row.until >= utcnow() and row.holder else None
