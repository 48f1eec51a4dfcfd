"""/metrics: only for the holder of the token; trades, refusals and sockets are counted."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from martingale import create_app
from martingale.game import game_of

from ..helpers import make_config, new_asset
from .helpers import post_trade, register

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def scraped(database_url):
    """An app with a metrics token, and a scrape of it as {(name, labels): value}."""
    app = create_app(make_config(database_url, MARTINGALE_METRICS_TOKEN=TOKEN))

    def scrape(client) -> dict[tuple[str, tuple], float]:
        reply = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 200 and reply.mimetype == "text/plain"
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(reply.get_data(as_text=True))
            for s in family.samples
        }

    yield app, scrape
    game_of(app).database.dispose()


def test_metrics_are_not_public(app, scraped):
    plain = app.test_client()  # the test app has no token: no such page
    assert plain.get("/metrics").status_code == 404
    guarded, _ = scraped
    client = guarded.test_client()
    for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        reply = client.get("/metrics", headers=header)
        assert reply.status_code == 404 and b"martingale" not in reply.data


def test_trades_are_counted_by_outcome_and_timed(scraped):
    app, scrape = scraped
    game = game_of(app)
    client = app.test_client()
    asset = new_asset(game)
    tokens = register(client)
    before = scrape(client)
    assert post_trade(client, tokens, asset.symbol, "buy", "1", key="m-1").status_code == 201
    assert post_trade(client, tokens, asset.symbol, "buy", "1", key="m-1").status_code == 200
    assert post_trade(client, tokens, asset.symbol, "sell", "5", key="m-2").status_code == 409
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("martingale_trades_total", channel="rest", outcome="filled") == 1
    assert grew("martingale_trades_total", channel="rest", outcome="replayed") == 1
    assert grew("martingale_trades_total", channel="rest", outcome="insufficient_holdings") == 1
    assert grew("martingale_trade_seconds_count", channel="rest") == 3
