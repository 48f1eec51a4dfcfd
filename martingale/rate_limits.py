"""Request budgets, one definition each, shared by the HTTP routes and the socket events.

HTTP routes apply them with Flask-Limiter's decorator; socket events are not HTTP requests, so they
count against the same limiter storage through ``spend``, in a scope of their own.

Reads are counted per client (the player when authenticated, else the address) so that one client
looping on a GET cannot take the process from everyone else and from the tick: the light reads
share one budget (a page load asks about 25 of them at once), and the one read whose cost grows with
what it is asked for (performance history, up to 600 points) has a smaller budget of its own.
"""

from __future__ import annotations

import logging

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from .errors import RateLimited
from .extensions import limiter

log = logging.getLogger(__name__)

TRADES = "50 per second;2000 per minute"  # per player
# per address, on every route that creates or checks a password
ACCOUNT_WRITES = "10 per minute"
REFRESHES = "30 per minute"  # per address
READS = "40 per second;600 per minute"  # per client, shared by the market and account GET routes
READS_SCOPE = "reads"
HEAVY_READS = "5 per second;60 per minute"  # per client: performance history (the page asks once)

_TRADE_ITEMS = parse_many(TRADES)
# while the shared storage (Redis) is unreachable, this process counts on its own, as Flask-Limiter's
# in-memory fallback does for HTTP routes: a limit never turns into a failed trade
_FALLBACK = FixedWindowRateLimiter(MemoryStorage())


def spend_socket_trade(player_id: int) -> None:
    """Count one socket trade against the player's budget; refuse it when the budget is spent."""
    if not limiter.enabled:
        return
    try:
        allowed = all(
            limiter.limiter.hit(item, "socket-trade", str(player_id)) for item in _TRADE_ITEMS
        )
    except Exception:  # the storage's own errors (redis-py's) vary by backend: any of them
        log.warning("rate-limit storage unreachable; counting socket trades in this process")
        allowed = all(_FALLBACK.hit(item, "socket-trade", str(player_id)) for item in _TRADE_ITEMS)
    if not allowed:
        raise RateLimited(f"too many trades: at most {TRADES.replace(';', ' and ')}")
