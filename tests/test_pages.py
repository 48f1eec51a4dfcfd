"""Account pages over a browser-like client: forms, field errors, CSRF, cookie session lifetime."""

from decimal import Decimal

import pytest

from martingale import create_app
from martingale.game import game_of
from martingale.web import VENDOR

from .helpers import csrf_from, make_config

API = "/api/v1"


@pytest.fixture
def client(app):
    return app.test_client()


def register(client, name="alice", password="Quartz-Lantern-31", confirm=None):
    page = client.get("/register").get_data(as_text=True)
    return client.post(
        "/register",
        data={"csrf_token": csrf_from(page), "username": name, "password": password,
              "password2": confirm or password},
    )  # fmt: skip


def test_the_dashboard_asks_for_a_login(client, game):
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_login_page_offers_the_configured_initial_cash(database_url):
    app = create_app(make_config(database_url, INITIAL_CASH=Decimal("2500.5")))
    try:
        page = app.test_client().get("/login").get_data(as_text=True)
    finally:
        game_of(app).database.dispose()
    assert "get $2,500.50 of play money" in page and "100,000" not in page


def test_the_login_page_says_what_the_game_is(client, game):
    """Issue 11: a visitor learns what Martingale is before being asked for a password."""
    page = client.get("/login").get_data(as_text=True)
    assert "trading game with play money" in page
    assert "expire within minutes" in page and "leaderboard" in page


def test_the_about_page_explains_the_rules_and_is_linked_from_every_page(client, game):
    """Issue 11 (parity): rules, expiry and settlement, how prices are made and verified, the
    play-money disclaimer; linked from every page."""
    about = client.get("/about")
    assert about.status_code == 200
    text = about.get_data(as_text=True)
    for words in ("Play money only", "Expiry and settlement", "drift", "commitment", "/proof"):
        assert words in text
    for path in ("/login", "/register", "/about"):
        assert 'href="/about"' in client.get(path).get_data(as_text=True), path


def test_registering_signs_in_with_a_lasting_httponly_cookie(client, game):
    r = register(client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    page = client.get("/").get_data(as_text=True)
    assert "Signed in as" in page and "alice" in page
    assert "play money" in page  # the footer disclaimer
    portfolio = client.get(f"{API}/portfolio").get_json()
    assert portfolio["cash"] == "100000.000000"


@pytest.mark.parametrize(
    ("name", "password", "confirm", "message"),
    [
        ("al", "Quartz-Lantern-31", None, "between 3 and 20"),
        ("admin", "Quartz-Lantern-31", None, "reserved"),
        ("alice_2", "short", None, "between 8 and 128"),
        ("alice_3", "Quartz-Lantern-31", "different1", "Passwords differ"),
    ],
)
def test_registration_errors_are_shown_next_to_their_field(
    client, game, name, password, confirm, message
):
    r = register(client, name, password, confirm)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert message in html and 'class="field-error"' in html and 'aria-invalid="true"' in html


def test_a_taken_username_is_a_field_error_whatever_its_case(client, game, app):
    register(client, "Alice")
    other = app.test_client()
    r = register(other, "alice")
    assert r.status_code == 422 and "taken" in r.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(client, game):
    r = client.post("/register", data={"username": "bob", "password": "Quartz-Lantern-31",
                                       "password2": "Quartz-Lantern-31"})  # fmt: skip
    assert r.status_code in (400, 403, 422)
    assert client.get(f"{API}/portfolio").status_code == 401


def test_wrong_password_and_unknown_user_read_the_same(client, game, app):
    register(client, "carol")
    outsider = app.test_client()
    page = outsider.get("/login").get_data(as_text=True)
    token = csrf_from(page)
    wrong = outsider.post(
        "/login", data={"csrf_token": token, "username": "carol", "password": "nope-nope"}
    )
    unknown = outsider.post(
        "/login", data={"csrf_token": token, "username": "nobody", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "invalid username or password" in wrong.get_data(as_text=True)
    assert "invalid username or password" in unknown.get_data(as_text=True)


def test_logout_is_a_post_with_csrf_and_ends_the_session(client, game):
    register(client)
    assert client.get("/logout").status_code == 405
    page = client.get("/").get_data(as_text=True)
    assert client.post("/logout").status_code in (400, 403)  # no token
    r = client.post("/logout", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.get(f"{API}/portfolio").status_code == 401


def test_cookie_writes_to_the_json_api_need_the_csrf_token(client, game):
    register(client)
    page = client.get("/").get_data(as_text=True)
    token = csrf_from(page)
    body = {"symbol": "ZZZ", "side": "buy", "quantity": "1"}
    refused = client.post(f"{API}/trades", json=body, headers={"Idempotency-Key": "k1"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    allowed = client.post(
        f"{API}/trades", json=body, headers={"Idempotency-Key": "k1", "X-CSRFToken": token}
    )
    assert allowed.get_json()["error"]["code"] == "unknown_asset"  # past CSRF, into the service


def test_changing_the_password_ends_other_sessions(client, game, app):
    register(client, "dave", "Quartz-Lantern-31")
    phone = app.test_client()
    page = phone.get("/login").get_data(as_text=True)
    phone.post(
        "/login",
        data={"csrf_token": csrf_from(page), "username": "dave", "password": "Quartz-Lantern-31"},
    )
    assert phone.get(f"{API}/portfolio").status_code == 200

    form = client.get("/change-password").get_data(as_text=True)
    token = csrf_from(form)
    bad = client.post("/change-password", data={"csrf_token": token, "current_password": "wrong-one",
                                                "new_password": "Harbor-Violet-58", "confirm_password": "Harbor-Violet-58"})  # fmt: skip
    assert bad.status_code == 422 and "current password is incorrect" in bad.get_data(as_text=True)
    ok = client.post("/change-password", data={"csrf_token": token, "current_password": "Quartz-Lantern-31",
                                               "new_password": "Harbor-Violet-58", "confirm_password": "Harbor-Violet-58"})  # fmt: skip
    assert ok.status_code == 302
    assert client.get(f"{API}/portfolio").status_code == 200  # this browser got a fresh session
    assert phone.get(f"{API}/portfolio").status_code == 401  # the other one is out


def test_the_session_lifetime_is_enforced_server_side(client, game, clock):
    register(client)
    assert client.get(f"{API}/portfolio").status_code == 200
    clock.advance(game.settings.web_session_seconds + 1)
    assert client.get(f"{API}/portfolio").status_code == 401
    assert client.get("/").status_code == 302


def test_vendored_scripts_match_their_integrity_hashes(app):
    import base64
    import hashlib
    from pathlib import Path

    static = Path(app.static_folder)
    for lib in VENDOR.values():
        digest = hashlib.sha384((static / lib["src"]).read_bytes()).digest()
        assert lib["integrity"] == "sha384-" + base64.b64encode(digest).decode()


def test_the_register_form_takes_an_optional_display_name(client, game, app):
    page = client.get("/register").get_data(as_text=True)
    r = client.post(
        "/register",
        data={"csrf_token": csrf_from(page), "username": "alice", "password": "Quartz-Lantern-31",
              "password2": "Quartz-Lantern-31", "display_name": "Queen of Hearts"},
    )  # fmt: skip
    assert r.status_code == 302
    assert client.get(f"{API}/account").get_json()["display_name"] == "Queen of Hearts"
    other = app.test_client()
    refused = register_named(other, "bob", "QUEEN_0F_HEARTS")
    assert refused.status_code == 422
    assert "taken, or looks too much like another player" in refused.get_data(as_text=True)
    assert other.get(f"{API}/portfolio").status_code == 401  # nobody was registered


def register_named(client, name, display_name):
    page = client.get("/register").get_data(as_text=True)
    return client.post(
        "/register",
        data={"csrf_token": csrf_from(page), "username": name, "password": "Quartz-Lantern-31",
              "password2": "Quartz-Lantern-31", "display_name": display_name},
    )  # fmt: skip


def test_the_account_page_shows_both_names_and_changes_the_display_name(client, game):
    register_named(client, "alice", "Queen of Hearts")
    page = client.get("/account").get_data(as_text=True)
    assert "alice" in page and "Queen of Hearts" in page and "only you see it" in page
    token = csrf_from(page)
    own = client.post("/account", data={"csrf_token": token, "display_name": "Al1ce"})
    assert own.status_code == 422
    assert "must not look like your username" in own.get_data(as_text=True)
    bad = client.post("/account", data={"csrf_token": token, "display_name": "no!"})
    assert bad.status_code == 422 and "only letters, digits" in bad.get_data(as_text=True)
    assert client.get(f"{API}/account").get_json()["display_name"] == "Queen of Hearts"
    ok = client.post("/account", data={"csrf_token": token, "display_name": "Red Queen"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/account")
    assert client.get(f"{API}/account").get_json()["display_name"] == "Red Queen"
    assert "Red Queen" in client.get("/").get_data(as_text=True)


def test_the_account_page_needs_a_login_and_its_form_the_csrf_token(client, game):
    r = client.get("/account")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    register_named(client, "alice", "Queen of Hearts")
    refused = client.post("/account", data={"display_name": "Red Queen"})
    assert refused.status_code in (400, 403, 422)
    assert client.get(f"{API}/account").get_json()["display_name"] == "Queen of Hearts"
