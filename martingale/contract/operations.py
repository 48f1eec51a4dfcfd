"""One route's entry in the document, declared on its view with ``@operation``.

What every route of a kind shares is added by document.py, not declared: 414 and 500 everywhere;
a write's CSRF header, 403 and 413; a body's 400 invalid_json; a query's 400 invalid_parameter;
a required or optional caller's 401; a rate limit's 429 and headers. A refusal's codes and status
come from the domain errors themselves (errors.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from .. import password_attempts, rate_limits
from ..errors import MartingaleError
from .requests import Body, Query

F = TypeVar("F", bound=Callable[..., Any])
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")


@dataclass(frozen=True)
class Reply:
    """A success: its body's model (several: any one of them) and headers beyond the limit's."""

    models: type[BaseModel] | tuple[type[BaseModel], ...]
    description: str
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """An error reply: its status and the codes it may carry; ``name`` shares it as a component."""

    status: int
    description: str
    codes: tuple[str, ...]
    name: str | None = None
    headers: tuple[str, ...] = ()


def refusal(
    description: str, *errors: type[MartingaleError], also: tuple[str, ...] = ()
) -> Refusal:
    """The reply to these domain errors, which must share one status; ``also``: codes the HTTP
    layer gives with that status (``csrf_failed``)."""
    (status,) = {e.status for e in errors}
    return Refusal(status, description, tuple(e.code for e in errors) + also)


@dataclass(frozen=True)
class RateLimit:
    """A budget: what the operation says of it, whether its replies carry the headers, its 429."""

    description: str
    refusal: Refusal
    headers: bool = True


@dataclass(frozen=True)
class Param:
    """A path or header parameter, shared under components/parameters."""

    name: str
    schema: dict[str, Any]


class Auth:
    PUBLIC = "public"  # no caller needed; credentials, if sent, are not looked at
    OPTIONAL = "optional"  # anyone; a caller who sends credentials must send valid ones
    REQUIRED = "required"


@dataclass(frozen=True)
class Operation:
    id: str
    tag: str
    replies: dict[int, Reply | Refusal]
    auth: str = Auth.PUBLIC
    body: type[Body] | None = None
    query: type[Query] | None = None
    limit: RateLimit | None = None
    params: tuple[str, ...] = ()  # names in components/parameters
    description: str | None = None
    summary: str = field(default="")


def operation(
    op_id: str, tag: str, replies: dict[int, Reply | Refusal], **more: Any
) -> Callable[[F], F]:
    """Declare ``view``'s entry in the document (its summary is the docstring's first line)."""

    def declare(view: F) -> F:
        summary = (view.__doc__ or "").strip().split("\n")[0]
        view.openapi = Operation(op_id, tag, replies, summary=summary, **more)  # type: ignore[attr-defined]
        return view

    return declare


def operation_of(view: Callable[..., Any]) -> Operation | None:
    found: Operation | None = getattr(view, "openapi", None)
    return found


def _per(limit: str) -> str:
    return limit.replace(";", " and ")


RATE_LIMITED = Refusal(429, "Too many requests from this client.", ("rate_limited",),
                       name="RateLimited", headers=RATE_HEADERS)  # fmt: skip
PASSWORD_RATE_LIMITED = Refusal(
    429,
    "Too many requests from this client address (rate_limited), or too many wrong passwords for"
    f" this account from anywhere (too_many_attempts: after {password_attempts.THRESHOLD}"
    f" failures the account is locked for {password_attempts.BASE_S} s, doubling with each"
    f" further failure up to {password_attempts.CAP_S // 60} minutes; attempts while locked are"
    " refused unchecked and uncounted, the right password after the lock always works and clears"
    " the count, and an unknown username is treated the same). Retry-After says when to try"
    " again.",
    ("rate_limited", "too_many_attempts"),
    name="PasswordRateLimited",
    headers=RATE_HEADERS,
)
ACCOUNT_WRITES = RateLimit(
    f"Rate limited to {_per(rate_limits.ACCOUNT_WRITES)} per client address.", RATE_LIMITED
)
PASSWORD_CHECKS = RateLimit(
    f"Rate limited to {_per(rate_limits.ACCOUNT_WRITES)} per client address, and to"
    f" {password_attempts.THRESHOLD} wrong passwords per account before a lock (shared with every"
    " route that checks a password: 429 too_many_attempts).",
    PASSWORD_RATE_LIMITED,
)
REFRESHES = RateLimit(
    f"Rate limited to {_per(rate_limits.REFRESHES)} per client address.", RATE_LIMITED
)
TRADES = RateLimit(f"Rate limited to {_per(rate_limits.TRADES)} per player.", RATE_LIMITED)
READS = RateLimit(
    "Rate limited per client (the player when authenticated, else the address): the market and"
    f" account reads share {_per(rate_limits.READS)}.",
    RATE_LIMITED,
    headers=False,
)
HEAVY_READS = RateLimit(
    f"Rate limited to {_per(rate_limits.HEAVY_READS)} per client (the player).",
    RATE_LIMITED,
    headers=False,
)
