"""Request budgets, one definition each, shared by the HTTP routes and the socket events.

HTTP routes apply them with Flask-Limiter's decorator; socket events are not HTTP requests, so they
count against the same limiter storage through ``spend``, in a scope of their own.
"""

from __future__ import annotations

from limits import parse_many

from .errors import RateLimited
from .extensions import limiter

TRADES = "50 per second;2000 per minute"  # per player
# per address, on every route that creates or checks a password
ACCOUNT_WRITES = "10 per minute"
REFRESHES = "30 per minute"  # per address

_TRADE_ITEMS = parse_many(TRADES)


def spend_socket_trade(player_id: int) -> None:
    """Count one socket trade against the player's budget; refuse it when the budget is spent."""
    if limiter.enabled and not all(
        limiter.limiter.hit(item, "socket-trade", str(player_id)) for item in _TRADE_ITEMS
    ):
        raise RateLimited(f"too many trades: at most {TRADES.replace(';', ' and ')}")
