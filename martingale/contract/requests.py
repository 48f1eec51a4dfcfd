"""What a request may carry: JSON bodies and integer query parameters, checked and documented.

A body's fields are checked in the order they are declared, and the first failure answers with
the domain refusal its parser raises (the order the services check in: upstream spec 5.1). Every
declared member is looked at, present or not, so a missing one gets its field's own code
(``invalid_side``), not a generic one; members nobody declared are ignored.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Self, cast

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.datastructures import MultiDict

from .. import auth, names, validators
from ..errors import InvalidJson, InvalidParameter
from ..leaderboard import MAX_TOP
from .types import (
    DISPLAY_NAME,
    Checked,
    DisplayName,
    NewPassword,
    OrderAmount,
    OrderLimitPrice,
    OrderQuantity,
    OrderSide,
    OrderSymbol,
    optional,
)

_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() also accepts "²" and "٣"
MAX_DB_INT = 2**31 - 1  # ids and ticks are 32-bit INTEGER columns


class Body(BaseModel):
    """A JSON object body; anything else is 400 ``invalid_json``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def parse(cls, data: object) -> Self:
        if not isinstance(data, dict):
            raise InvalidJson("the body must be a JSON object")
        return cls.model_validate({name: data.get(name) for name in cls.model_fields})


class Query(BaseModel):
    """Integer query parameters: ASCII digits within the field's bounds; absent or empty means
    the default; anything else is 400 ``invalid_parameter``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def parse(cls, args: MultiDict[str, str]) -> Self:
        values: dict[str, int] = {}
        for name, field in cls.model_fields.items():
            given = args.getlist(name)
            low, high = bounds(field.metadata)
            if len(given) > 1:  # one value is documented: which of several would we obey?
                raise InvalidParameter(f"{name} must be given once")
            raw = given[0] if given else ""
            if raw == "":
                continue
            if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
                raise InvalidParameter(f"{name} must be an integer from {low} to {high}")
            values[name] = int(raw)
        return cls.model_validate(values)


def bounds(metadata: list[Any]) -> tuple[int, int]:
    """A query field's ``ge`` and ``le``: the one place its range is written."""
    low = next(m.ge for m in metadata if isinstance(m, Ge))
    high = next(m.le for m in metadata if isinstance(m, Le))
    return cast(int, low), cast(int, high)


def rows(default: int, high: int) -> Any:
    """A page size from 1 to ``high``."""
    return Field(default, ge=1, le=high, description=(
        f"How many rows, 1 to {high} (default {default}). Digits only; an empty value means the"
        " default; anything else answers 400 invalid_parameter."
    ))  # fmt: skip


def row_id(description: str) -> Any:
    return Field(None, ge=0, le=MAX_DB_INT, description=(
        f"{description} Digits only; otherwise 400 invalid_parameter."
    ))  # fmt: skip


# -- bodies ---------------------------------------------------------------------------------
class RegisterRequest(Body):
    username: Annotated[object, Checked({
        "type": "string", "pattern": f"^\\s*{validators.USERNAME.pattern}\\s*$",
        "description": "3 to 20 letters, digits or underscores (surrounding whitespace is"
                       " trimmed); unique case-insensitively; a few names are reserved (admin,"
                       " root, system, ...). Otherwise 422 invalid_username.",
    }, validators.parse_username)]  # fmt: skip
    display_name: Annotated[object, Checked({
        "allOf": [DISPLAY_NAME],
        "description": "Optional: omitted (or null), a random one such as Trader-7F3K2 is given,"
                       " taken from nothing in the username. Changeable later with PATCH"
                       " /api/v1/account.",
    }, optional(names.parse_display_name))] = None  # fmt: skip
    password: Annotated[object, Checked({
        "type": "string", "minLength": validators.MIN_PASSWORD,
        "maxLength": validators.MAX_PASSWORD,
        "description": f"{validators.MIN_PASSWORD} to {validators.MAX_PASSWORD} characters, not"
                       " only whitespace, not containing the username, and hard to guess (zxcvbn"
                       f" score {validators.MIN_STRENGTH} or more of 4: a few uncommon words"
                       " work well). Otherwise 422 invalid_password, whose message gives the"
                       " estimator's advice.",
    }, validators.check_password_shape)]  # fmt: skip


class LoginRequest(Body):
    username: Annotated[object, Checked({"type": "string", "description": "Case-insensitive."})]
    password: Annotated[object, Checked({"type": "string", "maxLength": validators.MAX_PASSWORD})]


class RefreshRequest(Body):
    refresh_token: Annotated[object, Checked({
        "type": "string",
        "minLength": auth.MIN_REFRESH_TOKEN, "maxLength": auth.MAX_REFRESH_TOKEN,
    })]  # fmt: skip


class PasswordChangeRequest(Body):
    current_password: Annotated[object, Checked({"type": "string"})]
    new_password: NewPassword = Field(description=(
        "Checked first: 422 invalid_password when it is not"
        f" {validators.MIN_PASSWORD} to {validators.MAX_PASSWORD} characters, only whitespace,"
        " contains the username or is easy to guess (zxcvbn score below"
        f" {validators.MIN_STRENGTH}), with the estimator's advice in the message; 422"
        " invalid_password too when it equals the current password."
    ))  # fmt: skip


class AccountDeletion(Body):
    password: Annotated[object, Checked({
        "type": "string", "maxLength": validators.MAX_PASSWORD,
        "description": "The account's current password; wrong: 403 wrong_password, counted"
                       " against the account's guessing budget as a wrong login is.",
    })]  # fmt: skip


class TradeRequest(Body):
    """Checked in this order, the first failure answers: side, symbol, quantity, amount,
    limit_price, then the Idempotency-Key header (all 422). Exactly one of quantity and amount.
    Other members are ignored."""

    side: OrderSide
    symbol: OrderSymbol
    quantity: OrderQuantity = None
    amount: OrderAmount = None
    limit_price: OrderLimitPrice = None


class AccountUpdate(Body):
    display_name: DisplayName


# -- query parameters -----------------------------------------------------------------------
class HistoryQuery(Query):
    since_tick: int | None = row_id("Only ticks strictly after this one.")
    limit: int = rows(300, 2000)


class TapeQuery(Query):
    limit: int = rows(50, 200)


class TradesQuery(Query):
    limit: int = rows(50, 500)
    before: int | None = row_id("Only trades with a smaller id (the last id of the previous page).")


class LeaderboardQuery(Query):
    limit: int = rows(25, MAX_TOP)


class SettlementsQuery(Query):
    limit: int = rows(50, 200)


class PerformanceQuery(Query):
    points: int = Field(120, ge=2, le=600, description=(
        "How many samples, 2 to 600 (default 120); samples are at least one second apart, so a"
        " young account gets fewer. Digits only; otherwise 400 invalid_parameter."
    ))  # fmt: skip
