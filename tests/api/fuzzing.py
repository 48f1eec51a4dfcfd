"""What the schemathesis run of the API needs around each generated case, in process or over HTTP.

test_schemathesis.py drives the app in process; bench/fuzz.py drives a running server with the same
targets, the same steering of cases and the same tally. Nothing here knows how requests are sent.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schemathesis import checks as st_checks
from schemathesis.core import NotSet

# Every reply below 500, with a documented status, content type, body and headers; a request the
# document forbids (a value outside its schema, a required header missing, a method it does not
# list) is refused. Not the converse, positive_data_acceptance: the 422 for a weak but schema-valid
# password is right (zxcvbn's verdict is no JSON Schema), as is the 409 for a taken name.
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
    st_checks.unsupported_method,
    st_checks.missing_required_header,
    st_checks.negative_data_rejection,
]


def configure(schema: Any) -> Any:
    """A request refused for its size (413 body, 414 request line: both in the document) has been
    rejected, as a 400 has: negative_data_rejection must count it so."""
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = sorted({*rejection.expected_statuses, "413", "414"})
    return schema


SYMBOL = re.compile(r"\s*[A-Za-z]{1,10}\s*")
REF = re.compile(r"[0-9]+|[A-Za-z]+")
QUANTITY = re.compile(r"[0-9]+(\.[0-9]{1,8})?")
KEY = re.compile(r"[\x21-\x7e]{1,255}")
SMALL = ["1", "0.5", "2.25", "0.00000001", 3, "10"]  # within a player's cash at $5-$500 a unit


@dataclass
class Targets:
    """What a generated case may be steered to: live names, a player's tokens, its password.

    ``token`` authenticates every case that brings no Authorization header of its own;
    ``fresh_token`` and ``fresh_refresh_token`` log in again (a logout must not end the session
    every other case uses; a refresh token works once).
    """

    token: str
    fresh_token: Callable[[], str]
    fresh_refresh_token: Callable[[], str]
    username: str
    password: str
    symbols: list[str]  # live first, then settled
    asset_ids: list[int]


def _pick(value: Any, every: int) -> int | None:
    """Deterministically, about one value in ``every``: a number to steer by, else None. Callers
    hash the whole generated case: the coverage phase sends one value in many cases."""
    digest = zlib.crc32(repr(value).encode("utf-8", "surrogatepass"))
    return digest // every if digest % every == 0 else None


def prepare(case: Any, targets: Targets) -> dict[str, str]:
    """The headers to send with ``case``, after steering it now and then toward what exists (a
    live symbol, an asset id, the player's name and password, a live refresh token), so that
    generated requests also get past the lookups into the books. Only values the document allows
    are replaced: an invalid one stays invalid."""
    label = f"{case.method.upper()} {case.path}"
    body = None if isinstance(case.body, NotSet) else case.body  # NotSet's repr has an address
    generated = (case.method, case.headers, case.query, body, case.path_parameters, case.cookies)
    own = any(name.lower() == "authorization" for name in case.headers or {})
    headers: dict[str, str] = {}
    if not own or _pick(generated, 5) is None:  # else the case's own credentials, not valid
        # a logout must not end the session every other case uses
        fresh = label == "POST /api/v1/auth/logout"
        headers["Authorization"] = f"Bearer {targets.fresh_token() if fresh else targets.token}"
    fields = body if isinstance(body, dict) else {}
    if label == "POST /api/v1/trades":
        symbol = fields.get("symbol")
        valid = isinstance(symbol, str) and SYMBOL.fullmatch(symbol) and targets.symbols
        if valid and (n := _pick(generated, 2)):
            name = targets.symbols[n % len(targets.symbols)]
            fields["symbol"] = symbol.replace(symbol.strip(), name.lower() if n % 3 else name)
        quantity = fields.get("quantity")
        valid = (isinstance(quantity, str) and QUANTITY.fullmatch(quantity)) or (
            type(quantity) is int and 1 <= quantity <= 10**9  # not a bool, not a float
        )
        if valid and (n := _pick((generated, "quantity"), 2)) is not None:
            fields["quantity"] = SMALL[n % len(SMALL)]
        # the coverage phase sends one key with many orders: mostly duplicate_request without this
        key = (case.headers or {}).get("Idempotency-Key")
        if isinstance(key, str) and KEY.fullmatch(key) and (n := _pick((generated, "key"), 2)):
            headers["Idempotency-Key"] = f"fuzz-{n}"
    elif label == "POST /api/v1/auth/login":
        if isinstance(fields.get("username"), str) and _pick(generated, 2) is not None:
            fields["username"] = targets.username
            password = fields.get("password")
            valid = isinstance(password, str) and len(password) <= 128
            if valid and _pick((generated, "pw"), 2) is not None:
                fields["password"] = targets.password
    elif label == "POST /api/v1/auth/refresh":
        token = fields.get("refresh_token")
        if isinstance(token, str) and 16 <= len(token) <= 128 and _pick(generated, 2) is not None:
            fields["refresh_token"] = targets.fresh_refresh_token()
    ref = (case.path_parameters or {}).get("ref")
    refs = [*targets.symbols, *map(str, targets.asset_ids)]
    if isinstance(ref, str) and REF.fullmatch(ref) and refs and (n := _pick(generated, 2)):
        case.path_parameters["ref"] = refs[n % len(refs)]
    return headers


@dataclass
class Tally:
    """Cases per operation and their replies (status and error code): what a run covered."""

    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    replies: dict[str, Counter[str]] = field(default_factory=dict)

    def record(self, case: Any, status: int, body: Any) -> None:
        label = case.operation.label  # a case of the coverage phase may use another method
        self.cases[label] += 1
        self.statuses[status] += 1
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        reply = f"{status} {code}" if isinstance(code, str) else str(status)
        self.replies.setdefault(label, Counter())[reply] += 1

    @property
    def total(self) -> int:
        return sum(self.cases.values())

    def report(self) -> str:
        lines = [f"{self.total} cases; statuses {dict(sorted(self.statuses.items()))}"]
        for label in sorted(self.cases):
            replies = ", ".join(f"{r}: {n}" for r, n in sorted(self.replies[label].items()))
            lines.append(f"  {self.cases[label]:6d}  {label}  {replies}")
        return "\n".join(lines)
