"""GET routes are rate-limited per client, so one client looping on a read cannot take the process
from everyone else and from the tick (budgets: rate_limits.py)."""

from __future__ import annotations

import pytest

from martingale import rate_limits

from .helpers import API, bearer, register
from .openapi_spec import validate_response

LIGHT = ["/assets", "/tape", "/leaderboard"]
ACCOUNT = ["/portfolio", "/trades", "/settlements"]


@pytest.fixture
def small_budgets(monkeypatch):
    monkeypatch.setattr(rate_limits, "READS", "4 per minute")
    monkeypatch.setattr(rate_limits, "HEAVY_READS", "2 per minute")


def test_the_light_reads_share_one_budget_per_client(client, small_budgets):
    for path in [*LIGHT, "/assets"]:  # four, counted together whatever the route
        assert client.get(f"{API}{path}").status_code == 200
    r = client.get(f"{API}/tape")
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert r.headers["Retry-After"]
    validate_response("get", "/api/v1/tape", r)
    # another address has a budget of its own
    other = client.get(f"{API}/tape", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


def test_an_authenticated_client_is_counted_per_player(client, small_budgets):
    alice, bob = register(client, "alice"), register(client, "bob")
    for path in [*ACCOUNT, "/leaderboard"]:
        assert client.get(f"{API}{path}", headers=bearer(alice)).status_code == 200
    limited = client.get(f"{API}/portfolio", headers=bearer(alice))
    assert limited.status_code == 429
    validate_response("get", "/api/v1/portfolio", limited)
    # the same address: bob and anonymous callers keep their own budgets
    assert client.get(f"{API}/portfolio", headers=bearer(bob)).status_code == 200
    assert client.get(f"{API}/assets").status_code == 200
    # a forged token is counted against the address, and the route still refuses it
    assert client.get(f"{API}/assets", headers=bearer("forged")).status_code == 200
    assert client.get(f"{API}/leaderboard", headers=bearer("forged")).status_code == 401


def test_performance_history_has_a_smaller_budget_of_its_own(client, small_budgets):
    alice = register(client, "alice")
    path = f"{API}/performance/history"
    assert [client.get(path, headers=bearer(alice)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert client.get(f"{API}/portfolio", headers=bearer(alice)).status_code == 200


def test_the_budgets_leave_a_page_load_room():
    """The page asks about 25 reads at load (one history per live asset): under the budget."""
    per_second = int(rate_limits.READS.split(";")[0].split()[0])
    assert per_second >= 30
    assert "per second" in rate_limits.HEAVY_READS and "per minute" in rate_limits.READS


def test_flask_limiter_does_no_work_on_the_trade_route(client, game, monkeypatch):
    """The trade spends its own budget (rate_limits.TradeBudget); Flask-Limiter's per-request walk
    there was 3% of a trade's web CPU for nothing. It still guards every other route."""
    from martingale.extensions import limiter

    from ..helpers import new_asset
    from .helpers import post_trade

    walks = []
    scope = limiter.limit_manager.exemption_scope

    def counted(*args, **kwargs):
        walks.append(args[1] if len(args) > 1 else kwargs.get("endpoint"))
        return scope(*args, **kwargs)

    monkeypatch.setattr(limiter.limit_manager, "exemption_scope", counted)
    alice = register(client, "alice")
    walks.clear()
    asset = new_asset(game)
    r = post_trade(client, alice, asset.symbol, "buy", "1")
    assert r.status_code == 201 and r.headers["X-RateLimit-Limit"] == "50"
    assert walks == []
    assert client.get(f"{API}/assets").status_code == 200
    assert walks  # the read route is still walked (and limited)
