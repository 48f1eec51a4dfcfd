"""Store readiness: a privacy policy and terms in the site's layout, linked wherever a player
decides something (register, account, footer, the phone's account tab), and the play-money notice
on every screen that shows money."""

from __future__ import annotations

import re

import pytest

from .helpers import register_by_form

NOTICE = "Play money: no real money, prizes or securities."


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.mark.parametrize(("path", "title", "must"), [
    ("/privacy", "Privacy policy", ["Deleting your account", "scrypt", "One cookie"]),
    ("/terms", "Terms of use", [NOTICE.split(":")[0], "not sponsors", "investment advice"]),
])  # fmt: skip
def test_the_legal_pages_are_public_and_in_the_sites_layout(client, game, path, title, must):
    r = client.get(path)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in page and 'class="site-header"' in page
    assert all(text in page for text in must)
    assert 'href="/privacy"' in page and 'href="/terms"' in page  # the footer


@pytest.mark.parametrize("path", ["/login", "/register", "/privacy", "/terms"])
def test_every_page_links_both_from_its_footer(client, game, path):
    footer = re.search(r'<footer class="site-footer">(.*?)</footer>', client.get(path).text, re.S)
    assert footer and 'href="/privacy"' in footer[1] and 'href="/terms"' in footer[1]
    assert "play money only" in footer[1]


def test_register_and_account_link_the_terms_and_the_policy(client, game):
    page = client.get("/register").get_data(as_text=True)
    form = re.search(r"<form.*?</form>", page, re.S)[0]
    assert 'href="/terms"' in form and 'href="/privacy"' in form
    register_by_form(client, "reader")
    page = client.get("/account").get_data(as_text=True)
    main = re.search(r"<main.*?</main>", page, re.S)[0]
    assert 'href="/privacy"' in main and 'href="/terms"' in main


def test_the_notice_is_on_every_screen_that_shows_money(client, game):
    register_by_form(client, "reader")
    page = client.get("/").get_data(as_text=True)
    desktop = re.search(r'<div class="desk">.*?<section', page, re.S)[0]  # above the stats
    phone_top = re.search(r'<div class="phone">.*?<div class="m-panel', page, re.S)[0]
    sheet = re.search(r'<dialog id="m-sheet".*?</dialog>', page, re.S)[0]
    for screen in (desktop, phone_top, sheet):
        assert NOTICE in screen
    account_tab = re.search(r'id="m-tab-account".*?</nav>', page, re.S)[0]
    assert 'href="/privacy"' in account_tab and 'href="/terms"' in account_tab
