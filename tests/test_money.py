import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from martingale import money
from martingale.errors import InvalidQuantity, InvalidSide, InvalidSymbol
from martingale.validators import parse_order, parse_quantity


def test_buys_round_up_and_sales_round_down_to_a_micro_dollar():
    # 0.00000001 units at $1.23456789 is $0.0000000123456789
    assert money.value_ceil(1, 123456789) == 1
    assert money.value_floor(1, 123456789) == 0
    # exact values are not rounded either way
    assert money.value_ceil(2 * money.QTY_SCALE, 50 * money.PRICE_SCALE) == 100 * money.USD_SCALE
    assert money.value_floor(2 * money.QTY_SCALE, 50 * money.PRICE_SCALE) == 100 * money.USD_SCALE


def test_prorata_rounds_to_nearest_with_ties_up():
    assert money.prorata(10, 1, 3) == 3
    assert money.prorata(10, 1, 4) == 3  # 2.5 -> 3
    assert money.prorata(10, 2, 3) == 7


def test_formatting_keeps_every_decimal():
    assert money.usd(12_500_000) == "12.500000"
    assert money.qty(1) == "0.00000001"
    assert money.price(-150) == "-0.00000150"


@pytest.mark.parametrize(
    ("text", "atoms"),
    [
        ("1", 10**8),
        ("0.00000001", 1),
        ("2.5", 250_000_000),
        ("007.10", 710_000_000),
        ("1000000000", 10**17),
        ("1000000000.00000000", 10**17),
        (3, 3 * 10**8),  # a JSON integer, as documented
    ],
)
def test_quantities_parse_exactly(text, atoms):
    assert parse_quantity(text) == atoms


@pytest.mark.parametrize(
    "bad",
    [
        0.1,
        "0",
        "-1",
        "0.000000001",
        "1000000000.00000001",
        "nan",
        "inf",
        "abc",
        "",
        None,
        True,
        "1" * 80,
    ],
)
def test_bad_quantities_are_refused(bad):
    with pytest.raises(InvalidQuantity):
        parse_quantity(bad)


def test_order_validation_checks_side_first_then_symbol():
    with pytest.raises(InvalidSide):
        parse_order("abc1", "hold", "x", "k")
    with pytest.raises(InvalidSymbol):
        parse_order("abc1", "buy", "x", "k")
    order = parse_order(" abc ", "BUY", "1.5", "k")
    assert (order.symbol, order.side, order.quantity) == ("ABC", "buy", 150_000_000)


# One ASCII grammar for every quantity on the wire: digits, then optionally a point and 1-8 digits.
GRAMMAR = re.compile(r"[0-9]+(\.[0-9]{1,8})?")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("\uff11", "digits 0-9"),  # full-width one
        ("\u0663", "digits 0-9"),  # Arabic-Indic three
        ("1_000", "digits 0-9"),
        ("+1", "digits 0-9"),
        ("-1", "digits 0-9"),
        ("1e2", "digits 0-9"),
        ("1E-8", "digits 0-9"),
        (" 0.5 ", "digits 0-9"),
        ("\t1\n", "digits 0-9"),
        ("1.", "digits 0-9"),
        (".5", "digits 0-9"),
        ("1.2.3", "digits 0-9"),
        ("0x10", "digits 0-9"),
        ("1,000", "digits 0-9"),
        ("NaN", "digits 0-9"),
        ("", "digits 0-9"),
        ("0.123456789", "at most 8 decimal places"),
        ("0", "more than zero"),
        ("0.00000000", "more than zero"),
        (0, "more than zero"),
        (-1, "more than zero"),
        ("1000000000.00000001", "at most 1,000,000,000"),
        (10**12, "at most 1,000,000,000"),
        ("1" * 65, "at most 64 characters"),
        (1.0, "decimal string"),
        (Decimal("1"), "decimal string"),
        (True, "decimal string"),
        (None, "decimal string"),
    ],
)
def test_each_kind_of_bad_quantity_says_what_is_wrong(text, says):
    with pytest.raises(InvalidQuantity) as refused:
        parse_quantity(text)
    assert says in refused.value.message


def test_each_kind_of_problem_has_its_own_message():
    messages = set()
    for bad in ("1e2", "0.123456789", "0", "2000000000", "1" * 65, 1.5):
        with pytest.raises(InvalidQuantity) as refused:
            parse_quantity(bad)
        messages.add(refused.value.message)
    assert len(messages) == 6


# characters a quantity parser might be tempted by: every Unicode digit and space, signs, separators
_TEMPTING = st.sampled_from(
    "0123456789.+-_eE ,\t\n\u00a0\u2007\uff10\uff11\u0660\u0663\u06f5\u0966\u00b2\u2155"
)


@settings(max_examples=3000, deadline=None, database=None)
@given(
    st.one_of(
        st.text(_TEMPTING, max_size=14),
        st.text(max_size=14),
        st.from_regex(GRAMMAR, fullmatch=True),
        st.decimals(allow_nan=True).map(str),
        st.integers(min_value=-(10**10), max_value=10**10).map(str),
    )
)
def test_anything_accepted_matches_the_grammar_and_parses_exactly(text):
    try:
        atoms = parse_quantity(text)
    except InvalidQuantity:
        return
    assert GRAMMAR.fullmatch(text), text
    assert Decimal(atoms) / money.QTY_SCALE == Decimal(text)
    assert 0 < atoms <= 10**17


@settings(max_examples=500, deadline=None, database=None)
@given(st.integers(min_value=1, max_value=10**17), st.integers(min_value=0, max_value=3))
def test_every_quantity_in_range_written_in_the_grammar_is_accepted(atoms, zeros):
    text = f"{Decimal(atoms).scaleb(-8):f}"
    assert GRAMMAR.fullmatch(text) and parse_quantity(text) == atoms
    assert parse_quantity("0" * zeros + text) == atoms
