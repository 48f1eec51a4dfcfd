"""Exact money and quantity units.

Every amount is an integer count of a fixed atom, in Python and in both databases:

- cash: micro-dollars (1 USD = 10**6 atoms), BIGINT columns;
- quantities: 10**-8 units (8 decimal places);
- prices: 10**-8 USD per unit.

A trade's value is quantity x price, which has 16 decimal places; it is rounded to a micro-dollar
**against the player**: a buy's cost rounds up (ceiling), a sell's or settlement's proceeds round
down (floor). Each rounding happens once, at the single place a value is computed, so the house
never pays a rounding error: the sub-micro-dollar remainder always stays with the house.
"""

from __future__ import annotations

from decimal import Decimal

USD_SCALE = 10**6
QTY_SCALE = 10**8
PRICE_SCALE = 10**8
# quantity atoms x price atoms / VALUE_DIVISOR = cash atoms
VALUE_DIVISOR = QTY_SCALE * PRICE_SCALE // USD_SCALE

# Upper bounds shared by validators and CHECK constraints.
MAX_QUANTITY = 10**9 * QTY_SCALE  # one order
MAX_TRADE_VALUE = 10**10 * USD_SCALE  # one order
MAX_CASH = 10**11 * USD_SCALE
MAX_HOLDING = 10**10 * QTY_SCALE
MAX_PRICE = 10**9 * PRICE_SCALE


def value_floor(quantity: int, price: int) -> int:
    """Proceeds of selling ``quantity`` at ``price``, rounded down to a micro-dollar."""
    return quantity * price // VALUE_DIVISOR


def value_ceil(quantity: int, price: int) -> int:
    """Cost of buying ``quantity`` at ``price``, rounded up to a micro-dollar."""
    return -(-quantity * price // VALUE_DIVISOR)


def prorata(total: int, part: int, whole: int) -> int:
    """``total * part / whole`` rounded to the nearest atom, ties up; ``whole`` > 0."""
    return (2 * total * part + whole) // (2 * whole)


def to_atoms(value: Decimal, scale: int) -> int:
    """Exact conversion; the caller has already checked the number of decimals."""
    atoms = value * scale
    if atoms != atoms.to_integral_value():
        raise ValueError(f"{value} has more precision than 1/{scale}")
    return int(atoms)


def fmt(atoms: int, scale: int) -> str:
    """Decimal string with exactly as many places as the scale has (``"12.500000"``)."""
    places = _PLACES.get(scale)
    if places is None:
        places = len(str(scale)) - 1
    sign = "-" if atoms < 0 else ""
    whole, frac = divmod(abs(atoms), scale)
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


_PLACES = {USD_SCALE: 6, QTY_SCALE: 8, 100: 2}  # a trade's reply formats about twenty amounts


def usd(atoms: int) -> str:
    return fmt(atoms, USD_SCALE)


def qty(atoms: int) -> str:
    return fmt(atoms, QTY_SCALE)


def price(atoms: int) -> str:
    return fmt(atoms, PRICE_SCALE)
