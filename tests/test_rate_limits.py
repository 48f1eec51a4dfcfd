"""The trade budget (rate_limits.TradeBudget): both windows per player and channel, Flask-Limiter's
replies, and an unreachable storage that never fails a trade."""

from __future__ import annotations

import itertools
import shutil
import time

import pytest

from martingale import rate_limits
from martingale.errors import RateLimited
from martingale.rate_limits import SOCKET_TRADES, TradeBudget

from .process_helpers import free_port, redis_call, start_redis

_players = itertools.count(10**9)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A private redis-server: the budget's Lua script runs on a real one."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    proc, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    proc.stop()


@pytest.fixture(params=["memory", "redis"])
def budget(request):
    uri = "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")
    return TradeBudget(uri)


def spend_until_refused(budget, who, limit=100):
    answers = [budget.spend(SOCKET_TRADES, who) for _ in range(limit)]
    return [a.allowed for a in answers], answers


def test_fifty_a_second_then_refused_with_flask_limiters_headers(budget):
    who = str(next(_players))
    allowed, answers = spend_until_refused(budget, who, 52)
    assert allowed == [True] * 50 + [False, False]
    first, last = answers[0], answers[-1]
    assert (first.item.amount, first.remaining) == (50, 49)
    assert (answers[49].remaining, last.remaining) == (0, 0)
    now = time.time()
    headers = last.headers(now)
    assert headers["X-RateLimit-Limit"] == "50" and headers["X-RateLimit-Remaining"] == "0"
    assert int(headers["X-RateLimit-Reset"]) - now <= 2 and headers["Retry-After"] in {"0", "1"}
    assert last.refusal().message == "too many requests: 50 per 1 second"
    # each player and each channel has a budget of its own
    assert budget.spend(SOCKET_TRADES, str(next(_players))).allowed
    assert budget.spend(rate_limits.REST_TRADES, who).allowed


def test_the_minute_window_counts_across_seconds(redis_url):
    budget = TradeBudget(redis_url, spec="3 per second;5 per minute")
    who = str(next(_players))
    assert [budget.spend(SOCKET_TRADES, who).allowed for _ in range(4)] == [True] * 3 + [False]
    time.sleep(1.05)  # a new second, the same minute: the refused trade did not count there
    answers = [budget.spend(SOCKET_TRADES, who) for _ in range(3)]
    assert [a.allowed for a in answers] == [True, True, False]
    assert str(answers[-1].item) == "5 per 1 minute" and answers[-1].reset_in > 55


def test_the_minute_window_counts_in_process_too():
    budget = TradeBudget("memory://", spec="3 per second;5 per minute")
    who = str(next(_players))
    assert [budget.spend(SOCKET_TRADES, who).allowed for _ in range(4)] == [True] * 3 + [False]
    time.sleep(1.05)
    assert [budget.spend(SOCKET_TRADES, who).allowed for _ in range(3)] == [True, True, False]


def test_off_counts_nothing():
    assert TradeBudget("memory://", enabled=False).spend(SOCKET_TRADES, "1") is None


def test_a_socket_trade_is_counted_in_process_while_the_storage_is_down():
    budget = TradeBudget(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    player = next(_players)
    for _ in range(50):  # 50 per second is the budget: all of them go through
        rate_limits.spend_socket_trade(budget, player)
    with pytest.raises(RateLimited):
        rate_limits.spend_socket_trade(budget, player)


def test_counts_stay_in_redis_when_it_forgets_the_script(redis_url):
    budget = TradeBudget(redis_url)
    who = str(next(_players))
    assert budget.spend(SOCKET_TRADES, who).remaining == 49
    redis_call(redis_url, "SCRIPT", "FLUSH")  # as after a Redis restart
    assert budget.spend(SOCKET_TRADES, who).remaining == 48
    other = TradeBudget(redis_url)  # another worker counts the same window
    assert other.spend(SOCKET_TRADES, who).remaining == 47
