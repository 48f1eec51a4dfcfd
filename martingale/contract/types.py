"""The wire's scalar types, each a named schema of the document (``#/components/schemas/<name>``).

Patterns are built from the constants that format or parse the values (money.py, validators.py,
names.py), so a bound is written once. Reply types only describe what wire.py writes; request
types also check, by calling the parser the services use, and keep the raw value: the service
parses it again (it is shared with the socket path and the forms), the same function both times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import CoreSchema, core_schema

from .. import money, names, validators

COMPONENT = "x-component"  # a marker the document turns into a $ref (pydantic owns "$ref")
SCALARS: dict[str, dict[str, Any]] = {}  # name -> schema: the document's scalar components


def component(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Register ``schema`` as a named component; what refers to it."""
    SCALARS[name] = schema
    return {COMPONENT: name}


@dataclass(frozen=True, eq=False)
class Schema:
    """Annotated metadata: this type is documented as ``schema`` (pydantic's own is dropped)."""

    schema: dict[str, Any] = field(default_factory=dict)

    def __get_pydantic_json_schema__(
        self, core: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return dict(self.schema)


@dataclass(frozen=True, eq=False)
class Checked(Schema):
    """A request value checked by ``check`` (a validators.parse_*, raising the domain refusal,
    which pydantic lets through unwrapped) and kept as sent; without ``check``, the service alone
    judges it (a credential: every refusal must read the same)."""

    check: Callable[[object], object] | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def validate(self, value: object) -> object:
        if self.check is not None:
            self.check(value)
        return value


def optional(check: Callable[[object], object]) -> Callable[[object], object]:
    """``check``, except that null (or a missing member) is allowed."""
    return lambda value: None if value is None else check(value)


def _places(scale: int) -> int:
    return len(str(scale)) - 1


def _decimal(scale: int, *, signed: bool = False) -> str:
    return f"^{'-?' if signed else ''}[0-9]+\\.[0-9]{{{_places(scale)}}}$"


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" for c in word)


# -- replies --------------------------------------------------------------------------------
Usd = Annotated[str, Schema(component("Usd", {
    "type": "string", "pattern": _decimal(money.USD_SCALE, signed=True),
    "description": f"US dollars as a decimal string with exactly {_places(money.USD_SCALE)} places"
                   " (micro-dollars).",
    "examples": [money.usd(100_000 * money.USD_SCALE)],
}))]  # fmt: skip
Price = Annotated[str, Schema(component("Price", {
    "type": "string", "pattern": _decimal(money.PRICE_SCALE),
    "description": "USD per unit as a decimal string with exactly"
                   f" {_places(money.PRICE_SCALE)} places.",
    "examples": [money.price(10125 * money.PRICE_SCALE // 100)],
}))]  # fmt: skip
Quantity = Annotated[str, Schema(component("Quantity", {
    "type": "string", "pattern": _decimal(money.QTY_SCALE),
    "description": f"Units as a decimal string with exactly {_places(money.QTY_SCALE)} places.",
    "examples": [money.qty(3 * money.QTY_SCALE // 2)],
}))]  # fmt: skip
Timestamp = Annotated[str, Schema(component("Timestamp", {
    "type": "string", "format": "date-time",
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
    "description": "ISO 8601 in UTC with milliseconds and a Z suffix.",
    "examples": ["2026-01-01T00:00:00.000Z"],
}))]  # fmt: skip
DecimalText = Annotated[str, Schema(component("DecimalText", {
    "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?(E[-+]?[0-9]+)?$",
    "description": "An exact per-tick model parameter as Python's Decimal prints it (the recipe"
                   " uses exactly this text); values very close to zero may use exponent"
                   " notation.",
    "examples": ["-0.001000000000", "0.050000000000"],
}))]  # fmt: skip
Symbol = Annotated[str, Schema(component("Symbol", {
    "type": "string", "pattern": f"^[A-Z]{{1,{validators.MAX_SYMBOL}}}$",
    "description": "Ticker, upper case (issued tickers have 3 letters).",
}))]  # fmt: skip
Sha256Hex = Annotated[
    str, Schema(component("Sha256Hex", {"type": "string", "pattern": "^[0-9a-f]{64}$"}))
]
Side = Annotated[str, Schema(component("Side", {"type": "string", "enum": list(validators.SIDES)}))]

# -- requests -------------------------------------------------------------------------------
DISPLAY_NAME = component("DisplayName", {
    "type": "string", "minLength": names.MIN_LENGTH, "maxLength": names.MAX_LENGTH,
    "description": f"{names.MIN_LENGTH} to {names.MAX_LENGTH} characters after NFKC normalisation"
                   " and trimming: letters (any script), digits, spaces and _ - . ; starts and"
                   " ends with a letter or digit; no two separators in a row; a few names are"
                   " reserved (admin, system, martingale, ...): otherwise 422"
                   " invalid_display_name. Names are compared by what they look like (case,"
                   " accents, separators, 0/o, 1/l/i, rn/m, Cyrillic and Greek look-alikes of"
                   " Latin letters): a name that looks like another player's display name or"
                   " username is 409 display_name_taken, one that looks like the player's own"
                   " username 422 display_name_is_username.",
})  # fmt: skip
DisplayName = Annotated[object, Checked(DISPLAY_NAME, names.parse_display_name)]
OrderSymbol = Annotated[object, Checked({
    "type": "string", "pattern": f"^\\s*[A-Za-z]{{1,{validators.MAX_SYMBOL}}}\\s*$",
    "description": "Case-insensitive, trimmed; names the live asset (422 invalid_symbol, 404"
                   " unknown_asset, 409 asset_not_tradable once it has ended).",
}, validators.parse_symbol)]  # fmt: skip
OrderSide = Annotated[object, Checked({
    "type": "string",
    "pattern": f"^\\s*({'|'.join(_any_case(side) for side in validators.SIDES)})\\s*$",
    "description": "buy or sell, case-insensitive, trimmed (422 invalid_side).",
}, validators.parse_side)]  # fmt: skip
OrderQuantity = Annotated[object, Checked({
    "description": "A decimal string of ASCII digits with at most one decimal point and 1 to 8"
                   ' digits after it ("2", "0.5", "1.25"; not "1.", ".5", "+1", "1e2", "1_000",'
                   " spaces or other scripts' digits), at most"
                   f" {validators.MAX_QUANTITY_TEXT} characters; or a JSON integer. From"
                   f" {money.qty(1)} to {money.MAX_QUANTITY // money.QTY_SCALE}. JSON numbers"
                   " with a fraction or exponent (0.1, 1.0, 1e3) are refused: they are floats."
                   " Otherwise 422 invalid_quantity, whose message says which rule failed."
                   " Required unless the order gives amount.",
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": validators.MAX_QUANTITY_TEXT,
         "pattern": f"^{validators.QUANTITY.pattern}$"},
        {"type": "integer", "minimum": 1, "maximum": money.MAX_QUANTITY // money.QTY_SCALE},
    ],
}, validators.optional_quantity)]  # fmt: skip
OrderAmount = Annotated[object, Checked({
    "description": "Buys only, instead of quantity: dollars to spend, as a decimal string of"
                   ' ASCII digits with at most 6 places ("250", "99.5") or a JSON integer, from'
                   f" {money.usd(1)} to {money.MAX_TRADE_VALUE // money.USD_SCALE}. The order"
                   " buys the most units (in steps of 0.00000001) whose cost, rounded up to a"
                   " micro-dollar, is at most the amount at the trade's own price: cost <="
                   " amount, the rest stays cash. 422 invalid_amount when malformed, given"
                   " with quantity, or on a sell (a sell is sized in units: all of a holding"
                   " is its exact quantity); 422 amount_too_small when it buys nothing.",
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": validators.MAX_QUANTITY_TEXT,
         "pattern": f"^{validators.AMOUNT.pattern}$"},
        {"type": "integer", "minimum": 1, "maximum": money.MAX_TRADE_VALUE // money.USD_SCALE},
    ],
}, validators.optional_amount)]  # fmt: skip
OrderLimitPrice = Annotated[object, Checked({
    "description": "Optional, the most slippage the trader accepts: a buy's highest, a sell's"
                   " lowest price per unit, as a decimal string with at most 8 places or a JSON"
                   " integer. A trade whose price is beyond it is refused with 409 price_moved"
                   " (its details give price and limit_price) and nothing changes. A retry of"
                   " an Idempotency-Key that already executed replays, whatever the price now."
                   " Otherwise 422 invalid_limit_price.",
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": validators.MAX_QUANTITY_TEXT,
         "pattern": f"^{validators.LIMIT_PRICE.pattern}$"},
        {"type": "integer", "minimum": 1, "maximum": money.MAX_PRICE // money.PRICE_SCALE},
    ],
}, optional(validators.parse_limit_price))]  # fmt: skip
NewPassword = Annotated[object, Checked({
    "type": "string", "minLength": validators.MIN_PASSWORD, "maxLength": validators.MAX_PASSWORD,
}, validators.check_password_shape)]  # fmt: skip
