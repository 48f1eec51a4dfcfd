from decimal import Decimal

import pytest

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
    [("1", 10**8), ("0.00000001", 1), ("1e-8", 1), (" 2.5 ", 250_000_000), ("1000000000", 10**17)],
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
    order = parse_order(" abc ", "BUY", Decimal("1.5"), "k")
    assert (order.symbol, order.side, order.quantity) == ("ABC", "buy", 150_000_000)
