"""Splitting an order's amount over its lines to the fen (分摊), and the rounding rules.

The largest-remainder rule (最大余额法): each line first gets the whole fen of its exact share
``total * weight / sum(weights)``; the fen left over go one each to the lines with the largest
remainders (ties to the earlier line). The shares always sum to the total exactly, and each is
its exact share rounded down or up. A cap per line (a discount never above the line's price)
is honoured by giving a left-over fen to the next line that has room.
"""
from __future__ import annotations

from collections.abc import Sequence


def half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero (四舍五入), for a positive denominator."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def split(total: int, weights: Sequence[int], caps: Sequence[int] | None = None) -> list[int]:
    """``total`` fen split over the lines in proportion to ``weights`` (non-negative integers).

    With all weights zero the total is split evenly (the earlier lines take the odd fen). With
    ``caps``, no share goes above its cap (``sum(caps) >= total`` is required)."""
    n = len(weights)
    if n == 1 and caps is None:  # the common cases first: one line takes it all, nothing to split
        return [total]
    if total == 0:
        return [0] * n
    if n == 0:
        if total:
            raise ValueError(f"cannot split {total} over no lines")
        return []
    if total < 0:
        return [-share for share in split(-total, weights, caps)]
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    whole = sum(weights)
    if whole == 0:
        weights, whole = [1] * n, n
    if caps is not None and sum(caps) < total:
        raise ValueError(f"caps {sum(caps)} below the total {total}")
    shares = [total * w // whole for w in weights]
    if caps is not None:
        shares = [min(share, cap) for share, cap in zip(shares, caps)]
    left = total - sum(shares)
    if left:
        order = sorted(range(n), key=lambda i: (-(total * weights[i] % whole), i))
        for i in order:
            if left == 0:
                break
            if caps is None or shares[i] < caps[i]:
                shares[i] += 1
                left -= 1
        if left:  # every high remainder was capped: the rest go to whoever still has room
            for i in range(n):
                room = caps[i] - shares[i]
                give = min(room, left)
                shares[i] += give
                left -= give
    return shares


def vat_inside(gross_fen: int, rate_bp: int) -> int:
    """The VAT inside a tax-inclusive amount (价税合计): gross × rate / (1 + rate), half up."""
    if rate_bp <= 0 or gross_fen == 0:
        return 0
    return half_up(gross_fen * rate_bp, 10000 + rate_bp)


def part(amount: int, numerator: int, denominator: int) -> int:
    """``amount × numerator / denominator`` half up; the whole amount when numerator ≥ denominator."""
    if denominator <= 0 or numerator <= 0:
        return 0
    if numerator >= denominator:
        return amount
    return half_up(amount * numerator, denominator)
