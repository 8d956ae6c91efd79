"""Fee rates (费率): platform commission per shop and category, payment fee per shop, and what
carriers charge per parcel (运费价目). The most specific row wins; no row: no fee."""
from __future__ import annotations

from dataclasses import dataclass

from peewee import EXCLUDED

from server.db import write_transaction
from server.models import FeeRate, FreightRate
from server.models.base import utcnow
from server.models.money import FEE_KINDS
from server.services.errors import DomainError, NotFound


class BadRate(DomainError):
    code = "bad_rate"


@dataclass(frozen=True)
class Rate:
    rate_bp: int
    refundable: bool


NO_RATE = Rate(0, True)


class FeeTable:
    """Every fee rate, held in memory for one computation (the table is small)."""

    def __init__(self):
        self.rows = {(r.kind, r.shop, r.category): Rate(r.rate_bp, r.refundable) for r in FeeRate.select()}
        self.found: dict[tuple[str, str, str], Rate] = {}

    def find(self, kind: str, shop: str, category: str = "") -> Rate:
        asked = (kind, shop, category)
        rate = self.found.get(asked)
        if rate is None:
            rate = next((self.rows[key] for key in (asked, (kind, shop, ""), (kind, "", category), (kind, "", ""))
                         if key in self.rows), NO_RATE)
            self.found[asked] = rate
        return rate


class FreightTable:
    def __init__(self):
        self.rows = {(r.carrier, r.province): r for r in FreightRate.select()}

    def charge(self, carrier: str, province: str, weight_g: int) -> int | None:
        """What the carrier charges for a parcel of ``weight_g`` (first weight, then each step begun);
        None when no rate applies."""
        for key in ((carrier, province), (carrier, ""), ("", province), ("", "")):
            rate = self.rows.get(key)
            if rate is not None:
                extra = max(weight_g - rate.first_g, 0)
                steps = -(-extra // rate.step_g) if rate.step_g > 0 else 0
                return rate.first_fen + steps * rate.step_fen
        return None


def _check_bp(rate_bp: int) -> None:
    if not 0 <= rate_bp <= 10000:
        raise BadRate(f"a rate is 0 to 10000 bp, not {rate_bp}", rate_bp=rate_bp)


def set_fee_rate(kind: str, rate_bp: int, *, shop: str = "", category: str = "", refundable: bool = True) -> dict:
    if kind not in FEE_KINDS:
        raise BadRate(f"fee kind is one of {', '.join(FEE_KINDS)}, not {kind!r}", kind=kind)
    if kind == "payment" and category:
        raise BadRate("a payment fee is per shop, not per category", kind=kind)
    _check_bp(rate_bp)
    with write_transaction():
        (FeeRate.insert(kind=kind, shop=shop, category=category, rate_bp=rate_bp, refundable=refundable,
                        updated_at=utcnow())
         .on_conflict(conflict_target=[FeeRate.kind, FeeRate.shop, FeeRate.category],
                      update={FeeRate.rate_bp: EXCLUDED.rate_bp, FeeRate.refundable: EXCLUDED.refundable,
                              FeeRate.updated_at: EXCLUDED.updated_at})
         .execute())
    return fee_rate_row(FeeRate.get((FeeRate.kind == kind) & (FeeRate.shop == shop) & (FeeRate.category == category)))


def delete_fee_rate(rate_id: int) -> None:
    with write_transaction():
        if not FeeRate.delete().where(FeeRate.id == rate_id).execute():
            raise NotFound(f"no fee rate {rate_id}", id=rate_id)


def fee_rate_row(rate: FeeRate) -> dict:
    return {"id": rate.id, "kind": rate.kind, "shop": rate.shop, "category": rate.category,
            "rate_bp": rate.rate_bp, "refundable": rate.refundable}


def fee_rates() -> list[dict]:
    return [fee_rate_row(r) for r in FeeRate.select().order_by(FeeRate.kind, FeeRate.shop, FeeRate.category)]


def set_freight_rate(*, carrier: str = "", province: str = "", first_g: int = 1000, first_fen: int = 0,
                     step_g: int = 1000, step_fen: int = 0) -> dict:
    if first_g < 0 or step_g <= 0 or first_fen < 0 or step_fen < 0:
        raise BadRate("freight weights and amounts must not be negative, and the step above zero")
    with write_transaction():
        (FreightRate.insert(carrier=carrier, province=province, first_g=first_g, first_fen=first_fen,
                            step_g=step_g, step_fen=step_fen)
         .on_conflict(conflict_target=[FreightRate.carrier, FreightRate.province],
                      update={FreightRate.first_g: EXCLUDED.first_g, FreightRate.first_fen: EXCLUDED.first_fen,
                              FreightRate.step_g: EXCLUDED.step_g, FreightRate.step_fen: EXCLUDED.step_fen})
         .execute())
    return freight_rate_row(FreightRate.get((FreightRate.carrier == carrier) & (FreightRate.province == province)))


def freight_rate_row(rate: FreightRate) -> dict:
    return {"id": rate.id, "carrier": rate.carrier, "province": rate.province, "first_g": rate.first_g,
            "first_fen": rate.first_fen, "step_g": rate.step_g, "step_fen": rate.step_fen}


def freight_rates() -> list[dict]:
    return [freight_rate_row(r) for r in FreightRate.select().order_by(FreightRate.carrier, FreightRate.province)]
