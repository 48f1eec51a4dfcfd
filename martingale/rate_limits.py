"""Request budgets, one definition each, shared by the HTTP routes and the socket events.

Most HTTP routes apply them with Flask-Limiter's decorator. The trade budget (REST and socket) is
counted by ``TradeBudget`` instead: both of its windows in one Redis round trip (a Lua script),
where Flask-Limiter spent five (a hit per window, then a read and a TTL for the headers) and about
a third of a trade's CPU. Its replies are Flask-Limiter's: the same 429 body and X-RateLimit-*
headers, fixed windows that open at a player's first trade, both windows counted unless the first
is already spent.

Reads are counted per client (the player when authenticated, else the address) so that one client
looping on a GET cannot take the process from everyone else and from the tick: the light reads
share one budget (a page load asks about 25 of them at once), and the one read whose cost grows with
what it is asked for (performance history, up to 600 points) has a smaller budget of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask
from limits import RateLimitItem, parse_many

from .errors import RateLimited

log = logging.getLogger(__name__)

TRADES = "50 per second;2000 per minute"  # per player
# per address, on every route that creates or checks a password
ACCOUNT_WRITES = "10 per minute"
REFRESHES = "30 per minute"  # per address
READS = "40 per second;600 per minute"  # per client, shared by the market and account GET routes
READS_SCOPE = "reads"
HEAVY_READS = "5 per second;60 per minute"  # per client: performance history (the page asks once)

REST_TRADES, SOCKET_TRADES = "trade", "socket-trade"  # each channel has a budget of its own
EXTENSION = "martingale.trade_budget"
RETRY_STORAGE_S = 1.0  # after a failed call, count in process this long before asking Redis again
_PREFIX = "martingale:budget"

# KEYS: one counter per window, smallest first; ARGV: each window's length (ms), then each limit.
# A counter expires one window after its first hit (a fixed window, as Flask-Limiter's); a window
# already spent stops the count there, as Flask-Limiter stops at the first breach.
_SPEND = """
local n = #KEYS
local out = {}
for i = 1, n do
  local count = redis.call('INCR', KEYS[i])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    ttl = tonumber(ARGV[i])
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
  if count > tonumber(ARGV[n + i]) then
    break
  end
end
return out
"""


@dataclass(frozen=True)
class Spent:
    """One trade counted: the window a client is told about (the spent one, else the smallest)."""

    allowed: bool
    item: RateLimitItem
    remaining: int
    reset_in: float  # seconds until that window closes

    def headers(self, now: float) -> dict[str, str]:
        """Flask-Limiter's headers, to the letter (clients and the tests read them)."""
        reset_at = int(now + self.reset_in + 1)
        return {
            "X-RateLimit-Limit": str(self.item.amount),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(reset_at),
            "Retry-After": str(int(reset_at - now)),
        }

    def refusal(self) -> RateLimited:
        return RateLimited(f"too many requests: {self.item}")


class _Windows:
    """Fixed windows counted in this process: the storage without Redis, and its stand-in."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, closes at, monotonic)
        self._lock = threading.Lock()

    def hit(self, key: str, seconds: int) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            count, closes = self._counts.get(key, (0, 0.0))
            if closes <= now:
                if len(self._counts) > 100_000:  # a window per player and channel: drop closed ones
                    self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                count, closes = 0, now + seconds
            self._counts[key] = (count + 1, closes)
        return count + 1, closes - now

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class TradeBudget:
    """The trade budget per player and channel, in Redis (every worker) or in this process."""

    def __init__(self, storage_uri: str | None, *, enabled: bool = True, spec: str = TRADES):
        self.enabled = enabled
        self.items = sorted(parse_many(spec), key=lambda item: item.get_expiry())
        self._local = _Windows()
        self._redis: Any = None
        self._script: Any = None
        self._down_until = 0.0
        self._no_script: type[Exception] = LookupError  # redis-py's NoScriptError, with Redis
        self._idle: list[Any] = []  # connections between calls (one per trade in flight at most)
        if enabled and storage_uri and not storage_uri.startswith("memory://"):
            import redis  # only deployments with Redis load the client

            self._redis = redis.Redis.from_url(
                storage_uri, socket_timeout=2, socket_connect_timeout=2
            )
            self._script = self._redis.register_script(_SPEND)
            self._no_script = redis.exceptions.NoScriptError

    def spend(self, scope: str, who: str) -> Spent | None:
        """Count one trade of ``who`` on ``scope``; None when budgets are off."""
        if not self.enabled:
            return None
        keys = [f"{_PREFIX}:{scope}:{who}:{item.get_expiry()}" for item in self.items]
        counted = self._in_redis(keys)
        if counted is None:
            counted = self._in_process(keys)
        return self._verdict(counted)

    def reset(self) -> None:
        """Forget every count (tests; Flask-Limiter's ``reset`` for the other budgets)."""
        self._local.clear()
        if self._redis is not None:
            for key in self._redis.scan_iter(f"{_PREFIX}:*"):
                self._redis.delete(key)

    def _in_redis(self, keys: list[str]) -> list[tuple[int, float]] | None:
        if self._script is None or time.monotonic() < self._down_until:
            return None
        windows = [item.get_expiry() * 1000 for item in self.items]
        try:
            out = self._evalsha(keys, [*windows, *(item.amount for item in self.items)])
        except Exception:  # redis-py's errors vary (connection, timeout, response): any of them
            if not self._down_until:
                log.warning("rate-limit storage unreachable; counting trades in this process")
            self._down_until = time.monotonic() + RETRY_STORAGE_S
            return None
        if self._down_until:
            log.info("rate-limit storage reachable again")
            self._down_until = 0.0
        return [(int(out[i]), int(out[i + 1]) / 1000) for i in range(0, len(out), 2)]

    def _evalsha(self, keys: list[str], args: list[int]) -> Any:
        """The script on a connection of this budget's own, without redis-py's per-command layers
        (retry wrapper, argument filters, the pool's health poll: half the call's CPU)."""
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._redis.connection_pool.make_connection()
        try:
            try:
                conn.send_command("EVALSHA", self._script.sha, len(keys), *keys, *args)
                out = conn.read_response()
            except self._no_script:  # Redis restarted or flushed its scripts: load it again
                self._script.sha = self._redis.script_load(_SPEND)
                conn.send_command("EVALSHA", self._script.sha, len(keys), *keys, *args)
                out = conn.read_response()
        except BaseException:
            conn.disconnect()  # a half-read reply must not reach the next caller
            raise
        self._idle.append(conn)
        return out

    def _in_process(self, keys: list[str]) -> list[tuple[int, float]]:
        counted = []
        for key, item in zip(keys, self.items, strict=True):
            count, left = self._local.hit(key, item.get_expiry())
            counted.append((count, left))
            if count > item.amount:
                break
        return counted

    def _verdict(self, counted: list[tuple[int, float]]) -> Spent:
        for (count, left), item in zip(counted, self.items, strict=False):
            if count > item.amount:
                return Spent(False, item, 0, left)
        count, left = counted[0]
        return Spent(True, self.items[0], max(0, self.items[0].amount - count), left)


def init_trade_budget(app: Flask) -> None:
    app.extensions[EXTENSION] = TradeBudget(
        app.config.get("RATELIMIT_STORAGE_URI"),
        enabled=bool(app.config.get("RATELIMIT_ENABLED", True)),
    )


def budget_of(app: Flask) -> TradeBudget:
    found: TradeBudget = app.extensions[EXTENSION]
    return found


def spend_socket_trade(budget: TradeBudget, player_id: int) -> None:
    """Count one socket trade against the player's budget; refuse it when the budget is spent."""
    spent = budget.spend(SOCKET_TRADES, str(player_id))
    if spent is not None and not spent.allowed:
        raise RateLimited(f"too many trades: at most {TRADES.replace(';', ' and ')}")
