"""Issue 11's check: the board, the trade ticket, a settlement, the about page and the player's
profile at five widths.

Each width writes its screenshots to test-artifacts/screens-<page>-<width>.png for a person to look
at, and asserts what a picture cannot be trusted to show by itself: nothing runs off the side of
the screen, and what the screenshot is of is on screen.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..helpers import new_asset
from .helpers import register, screenshot

# (width, height): the smallest phone still sold, a common phone, a tablet upright and lying down,
# a laptop. The phone layout is the one at 768 px and below (layout.js).
SIZES = [(320, 640), (390, 844), (768, 1024), (1024, 768), (1440, 900)]
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# how far the phone's asset cards' contents reach past the card's own bottom (each card is one
# screen of a vertical snap scroller: anything past it is painted over the next card)
CARD_OVERFLOW = """() => Math.max(0, ...[...document.querySelectorAll('.m-card')].map((card) => {
  const bottom = card.getBoundingClientRect().bottom;
  return Math.max(...[...card.querySelectorAll('*')].map((e) => e.getBoundingClientRect().bottom)) - bottom;
}))"""
# how many lines the position's P&L with its sign and amount takes (a Range's boxes from "P&L" to the end)
PNL_LINES = """(sel) => { const text = document.querySelector(sel).firstChild;
  const range = document.createRange(); range.setStart(text, text.data.indexOf('P&L'));
  range.setEnd(text, text.data.length);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; }"""
TABLE_OVERFLOW = "(t) => { const box = document.querySelector(t).parentElement; return box.scrollWidth - box.clientWidth; }"


@pytest.fixture
def backend() -> str:
    """The pictures are of the page; one database is enough."""
    return "sqlite"


def kind(width: int, height: int) -> dict:
    if width <= 768:
        return {
            "viewport": {"width": width, "height": height},
            "is_mobile": True,
            "has_touch": True,
            "device_scale_factor": 2,
        }
    return {"viewport": {"width": width, "height": height}, "locale": "en-US"}


def shoot(page, name: str, width: int, *, clear_toasts: bool = True) -> None:
    assert page.evaluate(OVERFLOW) <= 0, f"{name} at {width} px runs off the side"
    path = screenshot(page, f"screens-{name}-{width}.png", clear_toasts=clear_toasts)
    page.screenshot(path=str(path.with_name(f"screens-{name}-{width}-full.png")), full_page=True)
    print(f"{name} {width}: {path}")


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}" for w, _ in SIZES])
def test_the_main_pages_at_every_width(game, market, open_page, width, height) -> None:
    held = new_asset(game, lifetime_s="40", volatility="0.02")
    phone = width <= 768
    page = open_page(kind(width, height))
    register(page, market.url, f"shot_{width}", f"Shooter {width}")
    page.goto(
        f"{market.url}/asset/{held.symbol}"
    )  # the held asset brought forward on either layout
    page.wait_for_selector('#app[data-state="ready"]', state="attached")

    # the ticket, filled in, before the order goes
    if phone:
        buy = page.locator('[data-m-action="buy"]')
        expect(buy).to_have_text(f"Buy {held.symbol}")
        buy.tap()
        page.fill("#m-sheet-qty", "3")
        expect(page.locator('#m-sheet [data-sheet="estimate"]')).not_to_have_text("—")
    else:
        page.select_option("#trade-symbol", held.symbol)
        page.fill("#trade-qty", "3")
    shoot(page, "ticket", width)

    if phone:
        page.locator('#m-sheet [data-sheet-action="confirm"]').tap()
        expect(page.locator(f'.m-card[data-symbol="{held.symbol}"] .m-position')).to_contain_text(
            "Position 3"
        )
    else:
        page.click('#trade-form button[data-side="buy"]')
        expect(
            page.locator(f'#holdings-table tbody tr[data-symbol="{held.symbol}"]')
        ).to_have_count(1)
    page.wait_for_timeout(1500)  # a few ticks drawn on the charts
    if phone:
        over = page.evaluate(CARD_OVERFLOW)
        assert over <= 0.5, f"an asset card's contents run {over:.0f} px into the next card"
        lines = page.evaluate(PNL_LINES, f'.m-card[data-symbol="{held.symbol}"] .m-position')
        assert lines == 1, f"the card's P&L is broken over {lines} lines"
    if not phone:  # every column of the board in view, none behind a sideways scroll
        for table in ("#asset-table", "#holdings-table"):
            over = page.evaluate(TABLE_OVERFLOW, table)
            assert over <= 0, f"{table} scrolls sideways at {width} px, by {over} px"
    shoot(page, "board", width)

    market.fast_forward(10)  # the held asset expires and settles
    settled = page.locator("#toasts .toast", has_text="1 position settled")
    expect(settled).to_be_visible(timeout=30_000)
    market.fast_forward(1)
    page.wait_for_timeout(400)  # a toast that just arrived is still fading in (.18 s)
    shoot(page, "settlement", width, clear_toasts=False)

    page.goto(f"{market.url}/about")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shoot(page, "about", width)

    # the profile after the settlement: a trade, a settled position, a curve that moved
    page.goto(f"{market.url}/players/Shooter%20{width}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Shooter {width}")
    expect(page.locator('[data-stat="settled"]')).to_have_text("1")
    expect(page.locator(".profile-chart")).to_have_attribute("data-drawn", re.compile(r"^[1-9]"))
    over = page.evaluate(TABLE_OVERFLOW, "#profile-trades")
    assert over <= 0, f"the profile's trades scroll sideways at {width} px, by {over} px"
    shoot(page, "profile", width)
