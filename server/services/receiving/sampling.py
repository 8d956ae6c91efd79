"""Sampling plans for the quality check of a received lot (入库质检抽样): ISO 2859-1
(the same tables as ANSI/ASQ Z1.4), single sampling, normal inspection, general
inspection level II.

A lot's size gives its sample size code letter (Table 1), the letter gives a sample size,
and Table 2-A gives the acceptance number (Ac) for the lot's AQL. Where the table holds an
arrow instead of a number, the plan is the first one below (``DOWN``) or above (``UP``) the
arrow in the same AQL column, and that plan's sample size applies. When the sample size
reaches the lot size, the whole lot is inspected (100 %), still against that plan's Ac.

A lot of one unit is not in the standard's table (it starts at 2); it is taken as letter A,
so the unit itself is checked.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

# (largest lot size of the band, code letter); the last band is open ended.
LOT_SIZE_LETTERS: tuple[tuple[int, str], ...] = (
    (8, "A"), (15, "B"), (25, "C"), (50, "D"), (90, "E"), (150, "F"), (280, "G"),
    (500, "H"), (1200, "J"), (3200, "K"), (10000, "L"), (35000, "M"), (150000, "N"),
    (500000, "P"),
)
LAST_LETTER = "Q"

SAMPLE_SIZES: dict[str, int] = {
    "A": 2, "B": 3, "C": 5, "D": 8, "E": 13, "F": 20, "G": 32, "H": 50,
    "J": 80, "K": 125, "L": 200, "M": 315, "N": 500, "P": 800, "Q": 1250, "R": 2000,
}
LETTERS = tuple(SAMPLE_SIZES)

AQLS: tuple[str, ...] = ("0.065", "0.10", "0.15", "0.25", "0.40", "0.65", "1.0", "1.5", "2.5", "4.0", "6.5")

DOWN = "v"   # use the first plan below the arrow
UP = "^"     # use the first plan above the arrow
_ = DOWN
U = UP

# Table 2-A, single sampling, normal inspection: Ac per code letter (rows) and AQL
# (columns, in the order of AQLS). The rejection number is always Ac + 1.
TABLE_2A: dict[str, tuple] = {
    #      0.065 0.10 0.15 0.25 0.40 0.65 1.0  1.5  2.5  4.0  6.5
    "A": (_,    _,   _,   _,   _,   _,   _,   _,   _,   _,   0),
    "B": (_,    _,   _,   _,   _,   _,   _,   _,   _,   0,   U),
    "C": (_,    _,   _,   _,   _,   _,   _,   _,   0,   U,   _),
    "D": (_,    _,   _,   _,   _,   _,   _,   0,   U,   _,   1),
    "E": (_,    _,   _,   _,   _,   _,   0,   U,   _,   1,   2),
    "F": (_,    _,   _,   _,   _,   0,   U,   _,   1,   2,   3),
    "G": (_,    _,   _,   _,   0,   U,   _,   1,   2,   3,   5),
    "H": (_,    _,   _,   0,   U,   _,   1,   2,   3,   5,   7),
    "J": (_,    _,   0,   U,   _,   1,   2,   3,   5,   7,   10),
    "K": (_,    0,   U,   _,   1,   2,   3,   5,   7,   10,  14),
    "L": (0,    U,   _,   1,   2,   3,   5,   7,   10,  14,  21),
    "M": (U,    _,   1,   2,   3,   5,   7,   10,  14,  21,  U),
    "N": (_,    1,   2,   3,   5,   7,   10,  14,  21,  U,   U),
    "P": (1,    2,   3,   5,   7,   10,  14,  21,  U,   U,   U),
    "Q": (2,    3,   5,   7,   10,  14,  21,  U,   U,   U,   U),
    "R": (3,    5,   7,   10,  14,  21,  U,   U,   U,   U,   U),
}
del _, U


class SamplingError(ValueError):
    """A lot size or AQL the sampling tables cannot answer."""


def code_letter(lot_size: int) -> str:
    """The sample size code letter of a lot (general inspection level II)."""
    size = _lot_size(lot_size)
    for largest, letter in LOT_SIZE_LETTERS:
        if size <= largest:
            return letter
    return LAST_LETTER


def normalise_aql(aql) -> str:
    """The AQL as the table writes it ("1" and "1.00" are "1.0"); SamplingError if unknown."""
    if isinstance(aql, bool) or not isinstance(aql, (str, int, float, Decimal)):
        raise SamplingError(f"aql: expected one of {', '.join(AQLS)}, got {aql!r}")
    try:
        value = Decimal(str(aql).strip())
    except InvalidOperation:
        raise SamplingError(f"aql: expected one of {', '.join(AQLS)}, got {aql!r}") from None
    for known in AQLS:
        if Decimal(known) == value:
            return known
    raise SamplingError(f"aql: {aql!r} is not a supported AQL (one of {', '.join(AQLS)})")


def table_plan(letter: str, aql) -> tuple[str, int, int]:
    """(code letter, sample size, Ac) of the plan Table 2-A gives for a code letter and AQL,
    with the arrows followed; the sample size is not yet capped at the lot size."""
    if letter not in TABLE_2A:
        raise SamplingError(f"code letter: {letter!r} is not one of {''.join(LETTERS)}")
    column = AQLS.index(normalise_aql(aql))
    row = LETTERS.index(letter)
    cell = TABLE_2A[letter][column]
    if cell in (DOWN, UP):
        step = 1 if cell == DOWN else -1
        row += step
        while TABLE_2A[LETTERS[row]][column] in (DOWN, UP):
            row += step
        letter = LETTERS[row]
        cell = TABLE_2A[letter][column]
    return letter, SAMPLE_SIZES[letter], cell


def plan(lot_size: int, aql: str) -> tuple[int, int]:
    """(sample size, acceptance number) for a lot at an AQL; the sample never exceeds the lot
    (a plan whose sample reaches the lot size inspects all of it)."""
    size = _lot_size(lot_size)
    _letter, sample_size, accept_number = table_plan(code_letter(size), aql)
    return min(sample_size, size), accept_number


def _lot_size(lot_size) -> int:
    if isinstance(lot_size, bool) or not isinstance(lot_size, int):
        raise SamplingError(f"lot_size: expected a whole number of units, got {lot_size!r}")
    if lot_size < 1:
        raise SamplingError(f"lot_size: must be at least 1 unit, got {lot_size}")
    return lot_size
