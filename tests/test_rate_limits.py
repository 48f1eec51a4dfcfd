"""Socket trades share the trade budget; an unreachable limiter storage never fails a trade."""

from __future__ import annotations

import itertools

import pytest

from martingale import rate_limits
from martingale.errors import RateLimited
from martingale.extensions import limiter

_players = itertools.count(10**9)


@pytest.fixture
def storage_down(app, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with app.app_context():
        monkeypatch.setattr(limiter.limiter, "hit", unreachable)
        yield


def test_a_socket_trade_is_counted_in_process_while_the_storage_is_down(storage_down):
    player = next(_players)  # a budget no other test (or backend's run) spends
    for _ in range(50):  # 50 per second is the budget: all of them go through
        rate_limits.spend_socket_trade(player)
    with pytest.raises(RateLimited):
        rate_limits.spend_socket_trade(player)
