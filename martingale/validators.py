"""Parse and check untrusted input into exact domain values; the first failure wins.

Order as in the upstream game (spec 5.1): side, symbol, quantity, then the idempotency key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from zxcvbn import zxcvbn

from .errors import (
    InvalidIdempotencyKey,
    InvalidPassword,
    InvalidQuantity,
    InvalidSide,
    InvalidSymbol,
    InvalidUsername,
)
from .money import MAX_QUANTITY, QTY_SCALE

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
PASSWORD_LENGTH = (
    f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters and not only spaces"
)


@dataclass(frozen=True)
class Order:
    side: str
    symbol: str
    quantity: int  # atoms of 10**-8
    idempotency_key: str

    @property
    def fingerprint(self) -> str:
        """What makes two requests "the same" for idempotency."""
        canonical = f"{self.side}|{self.symbol}|{self.quantity}"
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


def parse_order(symbol: object, side: object, quantity: object, idempotency_key: object) -> Order:
    return Order(
        side=parse_side(side),
        symbol=parse_symbol(symbol),
        quantity=parse_quantity(quantity),
        idempotency_key=parse_idempotency_key(idempotency_key),
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
