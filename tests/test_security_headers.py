"""Every response carries the security headers; HSTS only in production."""

from __future__ import annotations

import pytest

from martingale import create_app
from martingale.game import game_of

from .helpers import make_config

PATHS = ["/login", "/register", "/api/v1/assets", "/static/css/app.css", "/no-such-page"]


def _directives(policy: str) -> dict[str, str]:
    pairs = (d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in pairs}


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client, game, path):
    r = client.get(path, headers={"Host": "game.example:8443"})
    r.close()  # a static file's stream
    csp = _directives(r.headers["Content-Security-Policy"])
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["connect-src"] == "'self' ws://game.example:8443 wss://game.example:8443"
    assert csp["img-src"] == "'self'"  # the icons are the site's own files
    # the service worker and the web app manifest: the site's own, named so no fallback decides
    assert csp["worker-src"] == "'self'" and csp["manifest-src"] == "'self'"
    assert csp["object-src"] == csp["base-uri"] == csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert "'unsafe-inline'" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in r.headers["Permissions-Policy"]
    assert "geolocation=()" in r.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in r.headers  # development: no TLS promised


def test_a_host_header_cannot_write_into_the_policy(client, game):
    r = client.get("/login", headers={"Host": "evil.example; script-src *"})
    csp = _directives(r.headers["Content-Security-Policy"])
    assert csp["script-src"] == "'self'" and csp["connect-src"] == "'self'"


def test_production_adds_hsts(database_url):
    app = create_app(make_config(database_url, MARTINGALE_ENV="production", SECRET_KEY="s" * 40))
    try:
        r = app.test_client().get("/login")
    finally:
        game_of(app).database.dispose()
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_templates_have_no_inline_script_style_or_handler():
    """CSP (script-src/style-src 'self') would block them: they belong in static files."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[1] / "martingale" / "templates"
    for path in templates.rglob("*.html"):
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"<style\b|\sstyle=", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "javascript:" not in html, path
