"""The play-money notice is on screen wherever money is, at phone and desktop sizes, and the
privacy policy and terms are one tap away; screenshots under test-artifacts/ for a person to judge."""

from __future__ import annotations

from playwright.sync_api import expect

from ..helpers import new_asset
from .helpers import DESKTOP, PHONE, register, screenshot

NOTICE = "Play money: no real money, prizes or securities."
WIDE = {**DESKTOP, "viewport": {"width": 1440, "height": 900}}


def test_desktop_shows_the_notice_beside_the_money_and_links_the_policies(
    game, market, open_page
) -> None:
    new_asset(game, lifetime_s="900")
    page = open_page(WIDE)
    register(page, market.url, "desk_reader")
    notice = page.locator(".desk .play-money")
    expect(notice).to_have_text(NOTICE)
    expect(notice).to_be_in_viewport()  # above the fold, beside the portfolio figures
    screenshot(page, "legal-desktop-dashboard.png")
    page.goto(f"{market.url}/account")
    page.click("text=Privacy policy")
    expect(page.locator("h1")).to_have_text("Privacy policy")
    screenshot(page, "legal-desktop-privacy.png")
    page.locator(".site-footer").get_by_role("link", name="Terms").click()
    expect(page.locator("h1")).to_have_text("Terms of use")


def test_phone_shows_the_notice_on_every_tab_and_in_the_sheet(game, market, open_page) -> None:
    asset = new_asset(game, lifetime_s="900")
    page = open_page(PHONE)
    register(page, market.url, "phone_reader")
    notice = page.locator(".phone .play-money")
    for tab in ("assets", "history", "leaders", "account"):
        page.locator(f'[data-tab="{tab}"]').tap()
        expect(notice).to_have_text(NOTICE)
        expect(notice).to_be_in_viewport()
    screenshot(page, "legal-phone-account-tab.png")
    expect(page.locator("#m-tab-account").get_by_role("link", name="Privacy")).to_be_visible()
    page.locator('[data-tab="assets"]').tap()
    page.fill("#m-search", asset.symbol)
    expect(page.locator(f'.m-card[data-symbol="{asset.symbol}"]')).to_be_in_viewport()
    screenshot(page, "legal-phone-assets.png")
    page.locator('[data-m-action="buy"]').tap()
    sheet = page.locator("#m-sheet")
    expect(sheet.locator(".play-money")).to_be_visible()
    screenshot(page, "legal-phone-sheet.png")
    sheet.locator('[data-sheet-action="cancel"]').tap()
    page.goto(f"{market.url}/terms")
    expect(page.locator("h1")).to_have_text("Terms of use")
    screenshot(page, "legal-phone-terms.png")
    stranger = open_page(PHONE)
    stranger.goto(f"{market.url}/register")
    expect(stranger.locator("form").get_by_role("link", name="terms")).to_be_visible()
    screenshot(stranger, "legal-phone-register.png")
