"""Player profiles as a player meets them: a leaderboard name opens that player's profile, and a
signed-in player finds their own, at desktop and phone sizes."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from ..helpers import new_player, trade
from .helpers import DESKTOP, PHONE, desktop_buy, register, screenshot


@pytest.fixture
def backend() -> str:
    """What these tests check happens in the page; one database is enough."""
    return "sqlite"


def expect_profile(page, url: str, name: str) -> None:
    page.wait_for_url(f"{url}/players/{quote(name)}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    # the curve is drawn from the page's own points: at least the one at joining
    expect(page.locator(".profile-chart")).to_have_attribute("data-drawn", re.compile(r"^[1-9]"))
    # times are the reader's, not the server's UTC
    expect(page.locator('time[data-local="date"]')).not_to_contain_text("UTC")


def test_a_leaderboard_name_opens_that_players_profile_on_the_desktop(game, market, open_page):
    rival = new_player(game, "rival", display_name="Rival Rhea")
    page = open_page(DESKTOP)
    register(page, market.url, "desk_reader", "Desk Watcher")
    first = page.locator("#asset-table tbody tr").first
    symbol = first.get_attribute("data-symbol")
    trade(game, rival, "buy", symbol, "2")
    desktop_buy(page, symbol, "1")
    link = page.locator("#lead-table tbody th a", has_text="Rival Rhea")
    expect(link).to_have_attribute("href", "/players/Rival%20Rhea")
    # a ranking pass every 5 ticks (1.5 s here) updates the rows, and keeps the link under the
    # pointer the same element: a press and its release on two nodes would be no click
    held = link.element_handle()
    page.wait_for_timeout(2500)
    assert held.evaluate("(a) => a.isConnected")
    link.click()
    expect_profile(page, market.url, "Rival Rhea")
    expect(page.locator("#profile-trades tbody tr")).to_have_count(1)
    expect(page.locator("#profile-trades tbody tr").first).to_contain_text(symbol)
    expect(page.locator('[data-stat="settled"]')).to_have_text("0")
    screenshot(page, "profile-desktop.png")

    page.go_back()
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    page.get_by_role("link", name="My profile").click()
    expect_profile(page, market.url, "Desk Watcher")
    expect(page.locator("#profile-trades tbody tr")).to_have_count(1)


def test_a_leaderboard_name_opens_that_players_profile_on_a_phone(game, market, open_page):
    new_player(game, "thumbed", display_name="Thumb Target")
    page = open_page(PHONE)
    register(page, market.url, "phone_reader", "Pocket Watcher")
    page.get_by_role("tab", name="Leaders").tap()
    link = page.locator("#m-leaders-table tbody th a", has_text="Thumb Target")
    expect(link).to_be_visible()
    screenshot(page, "profile-leaders-phone.png")
    link.tap()
    expect_profile(page, market.url, "Thumb Target")
    expect(page.get_by_text("No trades yet.")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, "profile-phone.png")

    page.go_back()
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    page.get_by_role("tab", name="Account").tap()
    page.get_by_role("link", name="My profile: what other players see").tap()
    expect_profile(page, market.url, "Pocket Watcher")


def test_an_unknown_name_is_the_sites_404_page(market, open_page):
    page = open_page(DESKTOP)
    response = page.goto(f"{market.url}/players/No%20Such%20Player")
    assert response.status == 404
    open_page.errors.remove(f"HTTP 404 {market.url}/players/No%20Such%20Player")  # on purpose
    expect(page.locator("h1")).to_have_text("Player not found")
