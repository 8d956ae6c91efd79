"""ISO 2859-1 single sampling, normal inspection, general inspection level II (= ANSI/ASQ Z1.4
Table I and Table II-A): code letters, sample sizes, acceptance numbers and the arrows."""
from __future__ import annotations

import pytest

from server.services.receiving import sampling
from server.services.receiving.sampling import SamplingError, code_letter, plan, table_plan


def test_the_issue_s_lot_of_500():
    assert code_letter(500) == "H"
    assert plan(500, "1.0") == (50, 1)


@pytest.mark.parametrize("last, first_of_next", [
    (8, "A"), (15, "B"), (25, "C"), (50, "D"), (90, "E"), (150, "F"), (280, "G"), (500, "H"),
    (1200, "J"), (3200, "K"), (10000, "L"), (35000, "M"), (150000, "N"), (500000, "P")])
def test_each_lot_size_band_ends_where_the_standard_says(last, first_of_next):
    letters = "ABCDEFGHJKLMNPQ"
    assert code_letter(last) == first_of_next
    assert code_letter(last + 1) == letters[letters.index(first_of_next) + 1]


def test_the_open_ends():
    assert code_letter(2) == "A" and code_letter(1) == "A"
    assert code_letter(10_000_000) == "Q"
    assert plan(10_000_000, "0.065") == (1250, 2)


@pytest.mark.parametrize("lot, aql, expected", [
    (281, "2.5", (50, 3)), (280, "2.5", (32, 2)),
    (501, "1.0", (80, 2)), (500, "1.0", (50, 1)),
    (1201, "0.65", (125, 2)), (1200, "0.65", (80, 1)),
    (3201, "4.0", (200, 14)), (3200, "4.0", (125, 10)),
    (10001, "1.5", (315, 10)), (35001, "0.40", (500, 5)), (150001, "0.25", (800, 5)),
    (500001, "0.10", (1250, 3)), (91, "6.5", (20, 3)), (151, "4.0", (32, 3)),
])
def test_plans_at_the_band_edges(lot, aql, expected):
    assert plan(lot, aql) == expected


@pytest.mark.parametrize("letter, aql, expected", [
    ("A", "1.0", ("E", 13, 0)),      # arrow down to the first plan with a number
    ("A", "6.5", ("A", 2, 0)),
    ("B", "6.5", ("A", 2, 0)),       # arrow up
    ("C", "6.5", ("D", 8, 1)),       # the arrow below a 0/↑ pair points down again
    ("E", "1.5", ("D", 8, 0)),       # up to the 0 just above
    ("F", "1.5", ("G", 32, 1)),      # down past itself to Ac 1
    ("H", "0.40", ("G", 32, 0)),
    ("L", "0.065", ("L", 200, 0)),
    ("M", "0.065", ("L", 200, 0)),
    ("N", "0.065", ("P", 800, 1)),
    ("M", "6.5", ("L", 200, 21)),    # beyond Ac 21 the arrow points up
    ("R", "6.5", ("L", 200, 21)),
    ("R", "0.065", ("R", 2000, 3)),
    ("Q", "1.0", ("Q", 1250, 21)),
    ("R", "1.0", ("Q", 1250, 21)),
])
def test_arrows_lead_to_the_first_plan_with_a_number(letter, aql, expected):
    assert table_plan(letter, aql) == expected


def test_the_zero_acceptance_plans_sit_on_the_diagonal():
    zero = {aql: table_plan("A", aql) for aql in sampling.AQLS}
    assert [zero[a][1] for a in sampling.AQLS] == [200, 125, 80, 50, 32, 20, 13, 8, 5, 3, 2]
    assert all(ac == 0 for _, _, ac in zero.values())


def test_every_column_climbs_through_the_standard_acceptance_numbers():
    for column, aql in enumerate(sampling.AQLS):
        numbers = [sampling.TABLE_2A[letter][column] for letter in sampling.LETTERS]
        ints = [n for n in numbers if isinstance(n, int)]
        assert ints == [0, 1, 2, 3, 5, 7, 10, 14, 21][:len(ints)], aql
        zero = numbers.index(0)
        assert numbers[zero + 1] == sampling.UP and all(n == sampling.DOWN for n in numbers[:zero])


def test_a_sample_never_exceeds_its_lot():
    assert plan(2, "1.0") == (2, 0)      # the 13-unit plan on a lot of 2: inspect both
    assert plan(20, "0.065") == (20, 0)  # the 200-unit plan: the whole lot
    assert plan(8, "6.5") == (2, 0)
    for lot in (1, 2, 3, 7, 15, 40, 90, 200):
        for aql in sampling.AQLS:
            sample, accept = plan(lot, aql)
            assert 1 <= sample <= lot and 0 <= accept < max(sample, 2)


@pytest.mark.parametrize("aql, expected", [("1", "1.0"), ("1.00", "1.0"), ("0.1", "0.10"), (" 2.5 ", "2.5"),
                                          ("0.4", "0.40"), (4, "4.0")])
def test_aqls_are_read_as_numbers(aql, expected):
    assert sampling.normalise_aql(aql) == expected
    assert plan(500, aql) == plan(500, expected)


@pytest.mark.parametrize("lot, aql, says", [
    (0, "1.0", "lot_size: must be at least 1"), (-5, "1.0", "lot_size: must be at least 1"),
    (12.5, "1.0", "lot_size: expected a whole number"), ("500", "1.0", "lot_size: expected a whole number"),
    (True, "1.0", "lot_size: expected a whole number"),
    (500, "1.1", "aql: '1.1' is not a supported AQL"), (500, "abc", "aql: expected one of"),
    (500, "", "aql: expected one of"), (500, None, "aql: expected one of"), (500, "10", "not a supported AQL"),
])
def test_bad_input_is_refused_with_the_field_and_reason(lot, aql, says):
    with pytest.raises(SamplingError) as error:
        plan(lot, aql)
    assert says in str(error.value)
    assert isinstance(error.value, ValueError)


def test_an_unknown_code_letter_is_refused():
    with pytest.raises(SamplingError, match="code letter"):
        table_plan("I", "1.0")
