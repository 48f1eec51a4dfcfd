"""Parse and check untrusted input into exact domain values; the first failure wins.

Order as in the upstream game (spec 5.1): side, symbol, quantity, then the idempotency key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from zxcvbn import zxcvbn

from .errors import (
    InvalidAmount,
    InvalidIdempotencyKey,
    InvalidLimitPrice,
    InvalidPassword,
    InvalidQuantity,
    InvalidSide,
    InvalidSymbol,
    InvalidUsername,
)
from .money import MAX_PRICE, MAX_QUANTITY, MAX_TRADE_VALUE, PRICE_SCALE, QTY_SCALE, USD_SCALE

# Never issued as a ticker: words with a meaning elsewhere in the product or in finance.
RESERVED_SYMBOLS = frozenset({"USD", "NUL", "NAN", "INF", "ALL", "API", "BUY", "SEL", "CEO", "SEC"})
RESERVED_NAMES = frozenset(
    {"null", "none", "cash", "usd", "system", "admin", "test", "house", "root", "martingale"}
)
SIDES = ("buy", "sell")
MAX_SYMBOL = 10
_SYMBOL = re.compile(f"[A-Z]{{1,{MAX_SYMBOL}}}")
USERNAME = re.compile(r"[A-Za-z0-9_]{3,20}")
MAX_KEY = 255
IDEMPOTENCY_KEY = re.compile(f"[\\x21-\\x7e]{{1,{MAX_KEY}}}")
MAX_QUANTITY_TEXT = 64
MIN_PASSWORD, MAX_PASSWORD = 8, 128
# zxcvbn's score, 0-4: 3 means about 10^8 guesses or more ("safely unguessable" against online
# attacks, some protection offline with scrypt); 4 would refuse many passphrases people remember
MIN_STRENGTH = 3
# Every decimal on the wire: ASCII digits, then optionally one point and 1 to 8 digits ("1.5",
# "0.5"; not "1.", ".5", "+1", "1e2", "1_000", " 1"). Published as the OpenAPI pattern.
QUANTITY = re.compile(r"[0-9]+(\.[0-9]{1,8})?")
# the same shape with any number of decimals, so too many places gets a message of its own
_QUANTITY_SHAPE = re.compile(r"[0-9]+(\.[0-9]+)?")
# one message per kind of problem: clients may show them as they are
QUANTITY_TYPE = 'quantity must be a decimal string such as "1.5", or a JSON integer'
QUANTITY_TOO_LONG = f"quantity must be at most {MAX_QUANTITY_TEXT} characters"
QUANTITY_SYNTAX = (
    "quantity must be written with the digits 0-9 and at most one decimal point with digits on"
    ' both sides, such as "2" or "0.5": no sign, exponent, separator or space'
)
QUANTITY_PLACES = "quantity must have at most 8 decimal places"
QUANTITY_NOT_POSITIVE = "quantity must be more than zero"
QUANTITY_TOO_LARGE = "quantity must be at most 1,000,000,000"
# a buy sized in dollars: the same shape, at most 6 places (a micro-dollar)
AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,6})?")
AMOUNT_SYNTAX = (
    'amount must be dollars written like "250" or "99.5": digits 0-9, at most one decimal point'
    " and at most 6 places; no sign, exponent, separator, currency symbol or space"
)
AMOUNT_NOT_POSITIVE = "amount must be more than zero"
AMOUNT_TOO_LARGE = "amount must be at most $10,000,000,000"
AMOUNT_SELL = "amount is for buys: size a sell in units (quantity)"
BOTH_SIZES = "give either quantity (units) or amount (dollars), not both"
# a price per unit: up to 8 places
LIMIT_PRICE = re.compile(r"[0-9]+(\.[0-9]{1,8})?")
LIMIT_PRICE_SYNTAX = (
    'limit_price must be a price per unit written like "4.1" or "575.85": digits 0-9, at most'
    " one decimal point and at most 8 places"
)
LIMIT_PRICE_RANGE = "limit_price must be more than zero and at most 1,000,000,000"
PASSWORD_LENGTH = (
    f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters and not only spaces"
)


@dataclass(frozen=True)
class Order:
    side: str
    symbol: str
    quantity: int | None  # atoms of 10**-8; None when the order names an ``amount``
    idempotency_key: str
    amount: int | None = None  # a buy's budget in micro-dollars: as many units as it pays for
    limit_price: int | None = None  # price atoms: a buy's highest, a sell's lowest fill price

    @property
    def fingerprint(self) -> str:
        """What makes two requests "the same" for idempotency: what was asked, not what it came
        to (an amount buys another quantity at each tick). An order of units without a limit
        hashes as it always did, so a retry across an upgrade still replays."""
        size = f"amount={self.amount}" if self.quantity is None else str(self.quantity)
        canonical = f"{self.side}|{self.symbol}|{size}"
        if self.limit_price is not None:
            canonical += f"|limit={self.limit_price}"
        return hashlib.sha256(canonical.encode()).hexdigest()


def parse_side(value: object) -> str:
    if not isinstance(value, str) or value.strip().lower() not in SIDES:
        raise InvalidSide("side must be 'buy' or 'sell'")
    return value.strip().lower()


def parse_symbol(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidSymbol("symbol must be a string")
    symbol = value.strip().upper()
    if not _SYMBOL.fullmatch(symbol):
        raise InvalidSymbol("symbol must be 1 to 10 letters A-Z")
    return symbol


def parse_quantity(value: object) -> int:
    """A quantity as atoms of 10**-8: a string in ``QUANTITY`` or a JSON integer, above zero and
    at most 1e9. Never via float, and never through ``Decimal(text)``, which also reads Unicode
    digits, signs, "_", exponents and surrounding whitespace."""
    if isinstance(value, int) and not isinstance(value, bool):  # a JSON integer, as documented
        return _quantity_in_range(value * QTY_SCALE)
    if not isinstance(value, str):
        # a JSON number with a fraction or exponent is a float: 0.1 as a float is not 0.1
        raise InvalidQuantity(QUANTITY_TYPE)
    if len(value) > MAX_QUANTITY_TEXT:
        raise InvalidQuantity(QUANTITY_TOO_LONG)
    if not _QUANTITY_SHAPE.fullmatch(value):
        raise InvalidQuantity(QUANTITY_SYNTAX)
    whole, _, fraction = value.partition(".")
    if len(fraction) > 8:
        raise InvalidQuantity(QUANTITY_PLACES)
    return _quantity_in_range(int(whole) * QTY_SCALE + int(fraction.ljust(8, "0") or "0"))


def _quantity_in_range(atoms: int) -> int:
    if atoms <= 0:
        raise InvalidQuantity(QUANTITY_NOT_POSITIVE)
    if atoms > MAX_QUANTITY:
        raise InvalidQuantity(QUANTITY_TOO_LARGE)
    return atoms


def parse_idempotency_key(value: object) -> str:
    if not isinstance(value, str) or not IDEMPOTENCY_KEY.fullmatch(value):
        raise InvalidIdempotencyKey("idempotency key must be 1 to 255 printable ASCII characters")
    return value


def parse_amount(value: object) -> int:
    """A buy's budget as micro-dollars: a string in ``AMOUNT`` or a JSON integer (never a
    float), above zero and at most the largest trade value."""
    if isinstance(value, int) and not isinstance(value, bool):
        atoms = value * USD_SCALE
    elif isinstance(value, str) and len(value) <= MAX_QUANTITY_TEXT and AMOUNT.fullmatch(value):
        whole, _, fraction = value.partition(".")
        atoms = int(whole) * USD_SCALE + int(fraction.ljust(6, "0") or "0")
    else:
        raise InvalidAmount(AMOUNT_SYNTAX)
    if atoms <= 0:
        raise InvalidAmount(AMOUNT_NOT_POSITIVE)
    if atoms > MAX_TRADE_VALUE:
        raise InvalidAmount(AMOUNT_TOO_LARGE)
    return atoms


def parse_limit_price(value: object) -> int:
    """A limit price as price atoms (10**-8 dollars per unit)."""
    if isinstance(value, int) and not isinstance(value, bool):
        atoms = value * PRICE_SCALE
    elif (
        isinstance(value, str) and len(value) <= MAX_QUANTITY_TEXT and LIMIT_PRICE.fullmatch(value)
    ):
        whole, _, fraction = value.partition(".")
        atoms = int(whole) * PRICE_SCALE + int(fraction.ljust(8, "0") or "0")
    else:
        raise InvalidLimitPrice(LIMIT_PRICE_SYNTAX)
    if not 0 < atoms <= MAX_PRICE:
        raise InvalidLimitPrice(LIMIT_PRICE_RANGE)
    return atoms


def optional_quantity(value: object) -> int | None:
    """A request's quantity as the body sees it: absent is fine when an amount is given
    (``parse_size`` judges the pair)."""
    return None if value is None else parse_quantity(value)


def optional_amount(value: object) -> int | None:
    return None if value is None else parse_amount(value)


def parse_size(side: str, quantity: object, amount: object) -> tuple[int | None, int | None]:
    """(quantity, amount): exactly one is given; an amount sizes buys only. Nothing at all is
    a missing quantity, as it always was."""
    if amount is None:
        return parse_quantity(quantity), None
    if quantity is not None:
        raise InvalidAmount(BOTH_SIZES)
    if side != "buy":
        # a sell is sized by what is held (25/50/100% of the units, 100% exactly all of them):
        # dollars would leave dust behind or ask for more than is held as the price moves
        raise InvalidAmount(AMOUNT_SELL)
    return None, parse_amount(amount)


def parse_order(
    symbol: object,
    side: object,
    quantity: object,
    idempotency_key: object,
    amount: object = None,
    limit_price: object = None,
) -> Order:
    checked_side = parse_side(side)
    checked_symbol = parse_symbol(symbol)
    units, dollars = parse_size(checked_side, quantity, amount)
    limit = None if limit_price is None else parse_limit_price(limit_price)
    return Order(
        side=checked_side,
        symbol=checked_symbol,
        quantity=units,
        idempotency_key=parse_idempotency_key(idempotency_key),
        amount=dollars,
        limit_price=limit,
    )


def parse_username(value: object) -> str:
    if not isinstance(value, str) or not USERNAME.fullmatch(value.strip()):
        raise InvalidUsername("username must be 3 to 20 letters, digits or underscores")
    name = value.strip()
    if name.lower() in RESERVED_NAMES:
        raise InvalidUsername("that username is reserved")
    return name


def check_password_shape(value: object) -> str:
    """What a password to set must be whoever sets it: the part a JSON Schema can say."""
    if not isinstance(value, str) or not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise InvalidPassword(PASSWORD_LENGTH)
    if not value.strip():  # eight spaces are no password
        raise InvalidPassword(PASSWORD_LENGTH)
    return value


def parse_password(password: object, username: str) -> str:
    """A password to set: 8 to 128 characters, not only whitespace (spec 9), not containing the
    username, and hard to guess (``MIN_STRENGTH``)."""
    value = check_password_shape(password)
    if not is_encodable(value):
        raise InvalidPassword("password must be valid Unicode text")
    if username.lower() in value.lower():
        raise InvalidPassword("password must not contain the username")
    # zxcvbn refuses more than 72 characters; a prefix that is hard to guess makes the whole so
    found = zxcvbn(value[:72], user_inputs=[username, "martingale"])
    if found["score"] < MIN_STRENGTH:
        feedback = found["feedback"]
        advice = " ".join(filter(None, [feedback["warning"], *feedback["suggestions"]]))
        raise InvalidPassword(
            f"password is too easy to guess: {advice or 'add another word or two.'}"
        )
    return value


def is_encodable(value: str) -> bool:
    """False for strings no client could have typed: lone surrogates, NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value
