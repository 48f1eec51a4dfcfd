"""Per-client budgets for the API's GET routes (rate_limits.py holds the numbers)."""

from __future__ import annotations

import time

from flask import Response, current_app, g, request

from .. import rate_limits
from ..errors import MartingaleError
from ..extensions import limiter
from .access import optional_caller, trade_limit_key
from .blueprint import bp


def client_key() -> str:
    """The player when the request is authenticated, else the client's address.

    A bad token counts against the address: the route itself decides whether it refuses it.
    """
    try:
        who = optional_caller()
    except MartingaleError:
        who = None
    return f"player:{who.player_id}" if who else f"addr:{request.remote_addr or 'unknown'}"


# the light reads share one budget per client; each heavy read has its own, smaller one (read
# from rate_limits.py at each request)
read_limit = limiter.shared_limit(
    lambda: rate_limits.READS, scope=rate_limits.READS_SCOPE, key_func=client_key
)
heavy_read_limit = limiter.limit(lambda: rate_limits.HEAVY_READS, key_func=client_key)


def spend_trade_budget() -> None:
    """Count this REST trade against its player's budget (one round trip); 429 when spent."""
    spent = rate_limits.budget_of(current_app).spend(rate_limits.REST_TRADES, trade_limit_key())
    if spent is not None:
        g.trade_budget = spent  # every reply of the request carries its headers, a refusal too
        if not spent.allowed:
            raise spent.refusal()


@bp.after_request
def trade_budget_headers(response: Response) -> Response:
    spent: rate_limits.Spent | None = g.get("trade_budget")
    if spent is not None:
        response.headers.update(spent.headers(time.time()))
    return response
