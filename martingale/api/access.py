"""Who is calling, and the one place domain errors become HTTP replies."""

from __future__ import annotations

import re
from typing import Any

from flask import g, jsonify, request
from flask_login import current_user

from ..app import current_game
from ..auth import Principal, principal_for_access_token
from ..errors import MartingaleError, Unauthorized

_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() also accepts "²" and "٣"
MAX_DB_INT = 2**31 - 1  # ids and ticks are 32-bit INTEGER columns


def error_response(code: str, message: str, status: int, **headers: str) -> Any:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    response.headers.update(headers)
    return response


def domain_error(exc: MartingaleError) -> Any:
    return error_response(exc.code, exc.message, exc.status)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal(optional: bool = False) -> Principal | None:
    """The caller, by bearer access token or by the session cookie; cached per request."""
    if "principal" not in g:
        token = bearer_token()
        if token is not None:
            g.principal = principal_for_access_token(current_game(), token)
        elif current_user.is_authenticated:
            g.principal = current_user.principal
        else:
            g.principal = None
    if g.principal is None and not optional:
        raise Unauthorized("log in, or send Authorization: Bearer <access token>")
    return g.principal


def json_body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser's stack: not a request we serve
        raise BadJson("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadJson("the body must be a JSON object")
    return body


class BadJson(MartingaleError):
    code = "invalid_json"
    status = 400


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidParameter(f"{name} must be an integer from {low} to {high}")
    return int(raw)


def optional_int_arg(name: str, low: int = 0, high: int = MAX_DB_INT) -> int | None:
    return None if request.args.get(name) in (None, "") else int_arg(name, 0, low, high)


class InvalidParameter(MartingaleError):
    code = "invalid_parameter"
    status = 400
