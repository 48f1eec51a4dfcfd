"""Errors: pages get the site's own error page, /api paths the JSON shape; no internals leak."""

from __future__ import annotations

import pytest

API = "/api/v1"


@pytest.fixture
def client(app):
    return app.test_client()


def _page(r, status: int, heading: str) -> str:
    html = r.get_data(as_text=True)
    assert r.status_code == status and r.mimetype == "text/html", (r.status_code, html[:300])
    assert 'class="site-header"' in html and 'class="site-footer"' in html  # the site's layout
    assert heading in html
    assert "Werkzeug" not in html and "Traceback" not in html
    assert 'href="/"' in html  # a way back
    return html


def test_an_unknown_page_is_the_sites_404(client, game):
    _page(client.get("/no-such-page"), 404, "Page not found")


def test_a_method_a_page_lacks_is_the_sites_405(client, game):
    r = client.get("/logout")
    _page(r, 405, "Method not allowed")
    assert "POST" in r.headers["Allow"]


def test_a_failing_page_is_the_sites_500_without_internals(app, client, game):
    @app.get("/__boom")
    def boom():
        raise RuntimeError("password=hunter2 at db.internal:5432")

    r = client.get("/__boom")
    html = _page(r, 500, "Something went wrong")
    assert "hunter2" not in html and "RuntimeError" not in html and "db.internal" not in html


def test_api_paths_keep_the_json_error_shape(app, client, game):
    @app.get(f"{API}/__boom")
    def boom():
        raise RuntimeError("password=hunter2 at db.internal:5432")

    for path, method, status, code in [
        (f"{API}/nope", "get", 404, "not_found"),
        (f"{API}/assets", "post", 405, "method_not_allowed"),
        (f"{API}/__boom", "get", 500, "internal_error"),
    ]:
        r = getattr(client, method)(path)
        assert r.status_code == status and r.mimetype == "application/json"
        assert r.get_json()["error"]["code"] == code
        assert "hunter2" not in r.get_data(as_text=True)
