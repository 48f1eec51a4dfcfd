"""Deleting an account in the browser: the account page's section, a confirmation page with the
password and a checkbox (CSRF checked), then logged out with a message."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from martingale.models import Player
from martingale.transaction_utils import read

from .helpers import csrf_from, register_by_form

PASSWORD = "Quartz-Lantern-31"


@pytest.fixture
def client(app):
    return app.test_client()


def confirm_page(client):
    r = client.get("/account/delete")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_the_account_page_leads_to_a_confirmation_step(client, game):
    register_by_form(client, "deleter")
    page = client.get("/account").get_data(as_text=True)
    assert "Delete account" in page and 'href="/account/delete"' in page
    page = confirm_page(client)
    assert "cannot be undone" in page and 'type="password"' in page and 'type="checkbox"' in page
    assert client.get("/account").status_code == 200  # looking changed nothing


def test_deleting_logs_out_with_a_message_and_the_name_cannot_log_in(client, game):
    register_by_form(client, "deleter")
    page = confirm_page(client)
    r = client.post("/account/delete", data={"csrf_token": csrf_from(page), "password": PASSWORD,
                                             "confirm": "y"})  # fmt: skip
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert "Your account has been deleted" in page
    assert client.get("/").status_code == 302  # logged out
    login = client.post("/login", data={"csrf_token": csrf_from(page), "username": "deleter",
                                        "password": PASSWORD})  # fmt: skip
    assert login.status_code == 401
    players = read(game.database, lambda s: s.scalars(select(Player)).all())
    assert [p.display_name for p in players] == [f"Deleted player #{players[0].id}"]


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"password": "Wrong-Password-77", "confirm": "y"}, 403, "incorrect"),
        ({"password": PASSWORD}, 422, "Tick the box"),
        ({"confirm": "y"}, 422, "This field is required"),
    ],
)
def test_a_wrong_password_or_no_confirmation_deletes_nothing(client, game, form, status, message):
    register_by_form(client, "deleter")
    r = client.post("/account/delete", data={"csrf_token": csrf_from(confirm_page(client)), **form})
    assert r.status_code == status and message in r.get_data(as_text=True)
    assert client.get("/account").status_code == 200  # still logged in
    assert read(game.database, lambda s: s.scalar(select(Player.deleted_at))) is None


def test_without_the_csrf_token_nothing_is_deleted(client, game):
    register_by_form(client, "deleter")
    r = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert r.status_code in (400, 403)
    assert client.get("/account").status_code == 200
    assert read(game.database, lambda s: s.scalar(select(Player.deleted_at))) is None
