"""A password-guessing budget per account, shared by every route that checks a password.

The per-address budgets (rate_limits.ACCOUNT_WRITES) bound what one address tries; they do not
bound what many addresses, or one address over several routes, try against one account. So the
failures are also counted per account (the lower-cased username, whether or not it exists: the
answer must not tell which): after ``THRESHOLD`` failures the account is locked for 30 s, and each
further failure doubles the lock up to ``CAP``. While locked, attempts are refused (429
``too_many_attempts``) before any password is checked, and are not counted, so a victim's own
tries never lengthen the lock. The first attempt after the lock is checked as usual: the right
password always works then and clears the count. Failures are forgotten ``WINDOW`` after the last
lock (or failure) ends. At the cap an attacker gets one guess per 15 minutes per account, about a
hundred a day, whatever the number of addresses.

The counters live in Flask-Limiter's storage (docs/decisions/0008): Redis when ``REDIS_URL`` or
``RATELIMIT_STORAGE_URI`` names one, so every worker shares them, else this process's memory (one
process: ``make run``). A failed guess then writes nothing to the database. While that storage is
unreachable this process counts on its own, as Flask-Limiter itself falls back. Time comes from the
game's clock; the storage's expiry only collects idle keys (``_KEEP``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from limits.storage import MemoryStorage, Storage

from .errors import TooManyAttempts
from .extensions import limiter
from .game import Game

log = logging.getLogger(__name__)

THRESHOLD = 5  # failures before the first lock
BASE_S = 30  # the first lock; each further failure doubles it
CAP_S = 15 * 60  # no lock is longer: an attacker cannot keep a victim out for good
WINDOW_S = 15 * 60  # quiet time after which failures are forgotten
_KEEP_S = 24 * 3600  # idle keys expire in the storage after this (wall time)
_FALLBACK = MemoryStorage()
T = TypeVar("T")


def lock_seconds(failures: int) -> int:
    if failures < THRESHOLD:
        return 0
    return min(BASE_S << min(failures - THRESHOLD, 16), CAP_S)


def _keys(account: str) -> tuple[str, str]:
    name = account.strip().lower()
    return f"pw-failures/{name}", f"pw-last-failure/{name}"


def _storage_call(work: Callable[[Storage], T]) -> T:
    try:
        return work(limiter.limiter.storage)
    except Exception:  # the storage's own errors (redis-py's) vary by backend: any of them
        log.warning("rate-limit storage unreachable; counting password failures in this process")
        return work(_FALLBACK)


def _state(storage: Storage, account: str, now: int) -> tuple[int, int]:
    """(failures, seconds still locked); failures older than the window count as none."""
    failures_key, last_key = _keys(account)
    failures = storage.get(failures_key)
    if not failures:
        return 0, 0
    last = storage.get(last_key)
    unlocked_at = last + lock_seconds(failures)
    if now >= unlocked_at + WINDOW_S:
        return 0, 0
    return failures, max(0, unlocked_at - now)


def _now(game: Game) -> int:
    return int(game.clock.now().timestamp())


def check(game: Game, account: str) -> None:
    """Refuse (``TooManyAttempts``) while the account is locked; call before checking a password."""
    if not limiter.enabled:
        return
    _, locked = _storage_call(lambda s: _state(s, account, _now(game)))
    if locked:
        raise TooManyAttempts(
            f"too many failed password attempts: try again in {locked} seconds",
            retry_after=locked,
        )


def failed(game: Game, account: str) -> None:
    """Count one wrong password against the account."""
    if not limiter.enabled:
        return
    now = _now(game)
    failures_key, last_key = _keys(account)

    def work(storage: Storage) -> None:
        if _state(storage, account, now) == (0, 0):
            storage.clear(failures_key)  # stale failures start over
        storage.incr(failures_key, _KEEP_S)  # atomic: concurrent failures all count
        # the storage only adds to counters: set the time by clearing and adding it
        storage.clear(last_key)
        storage.incr(last_key, _KEEP_S, amount=now)

    _storage_call(work)


def succeeded(game: Game, account: str) -> None:
    """The right password: the account's failures are forgiven."""
    if not limiter.enabled:
        return

    def work(storage: Storage) -> None:
        for key in _keys(account):
            storage.clear(key)

    _storage_call(work)
