"""Cross-origin: the API answers exactly the Capacitor origins and MARTINGALE_CORS_ORIGINS.

A wrapped app (Capacitor's capacitor://localhost on iOS, https://localhost on Android) calls the
hosted API with a bearer token. Its preflight must pass for the headers and methods the API uses,
its replies must name it and expose the headers it reads; any other origin gets nothing that would
let a browser hand it a reply, and pages are never opened cross-origin.
"""

from __future__ import annotations

import pytest

from martingale import cors, create_app
from martingale.config import ConfigError, load_config
from martingale.game import game_of

from ..helpers import make_config
from .helpers import API, CheckedClient, assert_error, bearer, post_trade, register

EXTRA = "https://play.example"
ALLOWED = ["capacitor://localhost", "https://localhost", EXTRA]
REFUSED = ["https://evil.example", "http://localhost", "capacitor://evil", "null",
           "https://play.example.evil.example", "https://play.example:8443"]  # fmt: skip


@pytest.fixture
def app(database_url):
    app = create_app(make_config(database_url, MARTINGALE_CORS_ORIGINS=(EXTRA,)))
    app.test_client_class = CheckedClient
    yield app
    game_of(app).database.dispose()


def preflight(
    client, origin, method="POST", headers="authorization, content-type, idempotency-key"
):
    return client.options(
        f"{API}/trades",
        headers={"Origin": origin, "Access-Control-Request-Method": method,
                 "Access-Control-Request-Headers": headers},
    )  # fmt: skip


@pytest.mark.parametrize("origin", ALLOWED)
def test_an_allowed_origins_preflight_passes_for_the_apis_headers_and_methods(app, game, origin):
    client = app.test_client()
    r = preflight(client, origin)
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == origin
    allowed_headers = {
        h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "idempotency-key"} <= allowed_headers
    methods = {m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods
    assert int(r.headers["Access-Control-Max-Age"]) >= 600
    assert "Origin" in r.headers["Vary"]
    # bearer tokens only: a cross-origin page never rides on the player's cookie
    assert "Access-Control-Allow-Credentials" not in r.headers
    for method in ("GET", "PATCH", "DELETE"):
        assert preflight(client, origin, method, "authorization").status_code == 204


@pytest.mark.parametrize("origin", REFUSED)
def test_any_other_origins_preflight_is_refused_and_names_nobody(app, game, origin):
    r = preflight(app.test_client(), origin)
    assert_error(r, 403, "origin_not_allowed")
    assert not [h for h in r.headers if h[0].lower().startswith("access-control-")]


def test_a_preflight_for_a_method_or_header_the_api_does_not_take_is_refused(app, game):
    client = app.test_client()
    assert_error(preflight(client, EXTRA, "PUT"), 403, "origin_not_allowed")
    assert_error(preflight(client, EXTRA, "POST", "x-csrftoken"), 403, "origin_not_allowed")


@pytest.mark.parametrize("origin", ALLOWED)
def test_an_allowed_origins_replies_name_it_and_expose_what_a_client_reads(app, game, origin):
    client = app.test_client()
    tokens = register(client, "wrapped")
    r = post_trade(client, tokens, "ZZZ", "buy", "1", Origin=origin)
    assert_error(r, 404, "unknown_asset")  # past auth, into the trade service
    assert r.headers["Access-Control-Allow-Origin"] == origin
    exposed = {h.strip() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
            "X-Request-ID"} <= exposed  # fmt: skip
    assert "X-RateLimit-Remaining" in r.headers and "X-Request-ID" in r.headers
    assert "Origin" in r.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in r.headers
    # the wrapper's other calls: a read, and an error it must be able to read too
    r = client.get(f"{API}/account", headers={**bearer(tokens), "Origin": origin})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == origin
    r = client.get(f"{API}/account", headers={"Origin": origin})
    assert_error(r, 401, "unauthorized")
    assert r.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("origin", REFUSED)
def test_any_other_origins_requests_get_no_cors_header(app, game, origin):
    client = app.test_client()
    r = client.get(f"{API}/assets", headers={"Origin": origin})
    assert r.status_code == 200  # served as to anyone, but a browser will not hand it to the page
    assert not [h for h in r.headers if h[0].lower().startswith("access-control-")]
    assert "Origin" in r.headers["Vary"]


def test_the_games_own_pages_need_no_cors_headers(app, game):
    r = app.test_client().get(f"{API}/assets", headers={"Origin": "http://localhost"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/static/css/app.css"])
def test_pages_are_never_opened_cross_origin(app, game, path):
    client = app.test_client()
    r = client.get(path, headers={"Origin": "capacitor://localhost"})
    r.close()
    assert not [h for h in r.headers if h[0].lower().startswith("access-control-")]
    r = client.options(path, headers={"Origin": "capacitor://localhost",
                                      "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert "Access-Control-Allow-Origin" not in r.headers


def test_cross_origin_replies_keep_the_security_headers(app, game):
    client = app.test_client()
    for r in (preflight(client, "capacitor://localhost"), preflight(client, "https://evil.example"),
              client.get(f"{API}/assets", headers={"Origin": "capacitor://localhost"})):  # fmt: skip
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"


def test_every_api_method_is_one_a_preflight_allows(app):
    used = {
        m for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
        for m in rule.methods - {"HEAD", "OPTIONS"}
    }  # fmt: skip
    assert used <= set(cors.METHODS), used - set(cors.METHODS)


def test_the_setting_is_comma_separated_and_checked():
    config = load_config({"MARTINGALE_CORS_ORIGINS": "https://a.example, https://B.example:8443"})
    assert config["MARTINGALE_CORS_ORIGINS"] == ("https://a.example", "https://b.example:8443")
    for bad in (
        "*",
        "https://a.example/",
        "https://a.example/app",
        "a.example",
        "https://*.example",
    ):
        with pytest.raises(ConfigError, match="MARTINGALE_CORS_ORIGINS"):
            load_config({"MARTINGALE_CORS_ORIGINS": bad})
