"""The whole surface, once more: no reply is ever a traceback or an unexpected failure."""

from __future__ import annotations

from ..helpers import new_asset
from .helpers import API, bearer, register


def test_no_reply_ever_contains_a_traceback(client, game, clock):
    """CheckedClient fails any unexpected error; this walks every route once, good and bad."""
    asset = new_asset(game)
    alice = register(client)
    auth_headers = bearer(alice)
    calls = [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", f"{API}/openapi.json"),
        ("get", f"{API}/assets"),
        ("get", f"{API}/assets/{asset.symbol}/history"),
        ("get", f"{API}/assets/{asset.symbol}/proof"),
        ("get", f"{API}/tape"),
        ("get", f"{API}/leaderboard"),
        ("get", f"{API}/portfolio"),
        ("get", f"{API}/trades"),
        ("get", f"{API}/settlements"),
        ("get", f"{API}/performance/history"),
        ("post", f"{API}/trades"),
        ("post", f"{API}/auth/register"),
        ("post", f"{API}/auth/login"),
        ("post", f"{API}/auth/refresh"),
        ("post", f"{API}/auth/password"),
        ("post", f"{API}/auth/logout"),
    ]
    for method, path in calls:
        for headers in ({}, auth_headers):
            r = getattr(client, method)(path, headers=headers, data="{bad json")
            assert r.status_code < 500 or path == "/readyz"
