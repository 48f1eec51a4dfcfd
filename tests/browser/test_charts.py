"""Issue 11, "charts over an asset's whole life": the x axis runs from birth to the scheduled
expiry (a dashed line marks it), the player's own buys and sells are marked at their prices, a
holding's average cost is a line, a range selector (1m / 5m / All) is remembered, and several
symbols on one chart are drawn as % since each one's birth. Each test failed on the charts
before (they drew the last 300 prices the page had seen, in dollars, with nothing marked)."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from ..helpers import new_asset
from .helpers import ARTIFACTS, DESKTOP, PHONE, TICK_S, desktop_buy, register


@pytest.fixture
def backend() -> str:
    """What these tests check happens in the page; one database is enough."""
    return "sqlite"


# What a chart draws: its x bounds, the expiry lines, and each dataset's label and points.
CHART = """(canvas) => {
  const chart = Chart.getChart(canvas);
  return {
    x0: chart.options.scales.x.min, x1: chart.options.scales.x.max,
    expiry: chart.options.plugins.expiryLine?.at ?? [],
    yLabels: chart.scales.y.ticks.map((t) => t.label),
    sets: chart.data.datasets.map((d) => ({
      label: d.label, points: d.data.map((p) => ({ x: p.x, y: p.y, price: p.price ?? null })),
    })),
  };
}"""


def ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def api(page, path: str) -> dict:
    """What the API says, asked with the page's session (not through the page: no request of
    the page's own is added)."""
    origin = page.evaluate("() => location.origin")
    response = page.request.get(f"{origin}/api/v1{path}")
    assert response.ok, response.status
    return response.json()


def quote(page, symbol: str) -> dict:
    return next(a for a in api(page, "/assets")["assets"] if a["symbol"] == symbol)


def drawn(page, canvas_selector: str) -> dict:
    return page.eval_on_selector(canvas_selector, CHART)


def keep(locator, name: str) -> None:
    """The chart as a player sees it, under test-artifacts/ to be looked at."""
    ARTIFACTS.mkdir(exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / name))


def dataset(chart: dict, label: str) -> dict | None:
    return next((d for d in chart["sets"] if d["label"].startswith(label)), None)


FIRST_CHART = "#price-charts .price-chart canvas"
FIRST_SYMBOL = (
    "() => document.querySelector('#price-charts .price-chart .tags li span').textContent"
)


def test_a_chart_spans_the_assets_whole_life_and_remembers_its_range(
    game, market, open_page
) -> None:
    page = open_page(DESKTOP)
    register(page, market.url, "life_watcher")
    page.wait_for_function("() => Number(document.getElementById('app').dataset.tick) > 2")
    symbol = page.evaluate(FIRST_SYMBOL)
    asset = quote(page, symbol)
    born, expires = ms(asset["born_at"]), ms(asset["expires_at"])

    chart = drawn(page, FIRST_CHART)
    assert (chart["x0"], chart["x1"]) == (born, expires), "All: birth to the scheduled expiry"
    assert expires in chart["expiry"]
    line = dataset(chart, symbol)
    assert line and line["points"][0]["x"] <= born + 1000, "the price line starts at birth"

    controls = page.locator(".desk .chart-controls .range-pick")
    expect(controls.locator('button[aria-pressed="true"]')).to_have_text("All")
    controls.get_by_role("button", name="1m").click()
    page.wait_for_timeout(int(3 * TICK_S * 1000))
    chart = drawn(page, FIRST_CHART)
    assert 0 < chart["x1"] - chart["x0"] <= 60_000, chart
    assert chart["x1"] < expires, "the last minute ends now, not at the expiry"

    page.reload()
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    expect(controls.locator('button[aria-pressed="true"]')).to_have_text("1m")
    page.wait_for_timeout(int(3 * TICK_S * 1000))
    chart = drawn(page, FIRST_CHART)
    assert 0 < chart["x1"] - chart["x0"] <= 60_000, chart


def test_own_buys_and_sells_are_marked_with_the_average_cost_line(game, market, open_page) -> None:
    page = open_page(DESKTOP)
    register(page, market.url, "marker_maker")
    symbol = page.evaluate(FIRST_SYMBOL)
    desktop_buy(page, symbol, "2")
    form = page.locator("#trade-form")
    form.locator('input[name="side"][value="sell"]').check()
    page.fill("#trade-qty", "0.5")
    form.locator('button[data-side="sell"]').click()
    row = page.locator(f'#holdings-table tbody tr[data-symbol="{symbol}"]')
    expect(row).to_contain_text("1.5")

    trades = api(page, "/trades")["trades"]
    bought = next(t for t in trades if t["side"] == "buy")
    sold = next(t for t in trades if t["side"] == "sell")
    held = next(h for h in api(page, "/portfolio")["holdings"] if h["symbol"] == symbol)
    page.wait_for_timeout(int(2 * TICK_S * 1000))
    chart = drawn(page, FIRST_CHART)

    buys, sells, avg = (dataset(chart, k) for k in ("Your buys", "Your sells", "Avg cost"))
    assert buys and [(p["x"], p["y"]) for p in buys["points"]] == [
        (ms(bought["executed_at"]), float(bought["price"]))
    ]
    assert sells and [(p["x"], p["y"]) for p in sells["points"]] == [
        (ms(sold["executed_at"]), float(sold["price"]))
    ]
    assert avg and {p["y"] for p in avg["points"]} == {float(held["avg_cost"])}
    assert [p["x"] for p in avg["points"]] == [chart["x0"], chart["x1"]]
    keep(page.locator(".price-chart").first, "chart-desktop-markers.png")


def test_several_symbols_on_one_chart_are_drawn_as_percent_since_birth(
    game, market, open_page
) -> None:
    cheap = new_asset(game, initial="0.40", lifetime_s="300")
    dear = new_asset(game, initial="90", lifetime_s="300")
    page = open_page(DESKTOP)
    register(page, market.url, "percent_reader")
    page.select_option("#chart-count", "1")
    page.locator(".price-chart .pc-head").get_by_role("button", name="Clear").click()
    for symbol in (cheap.symbol, dear.symbol):
        page.select_option("#pc-0-sym", symbol)
        page.locator(".price-chart .pc-head").get_by_role("button", name="Add").click()
    page.wait_for_timeout(int(3 * TICK_S * 1000))
    chart = drawn(page, FIRST_CHART)

    assert all(label.endswith("%") for label in chart["yLabels"]), chart["yLabels"]
    for asset, initial in ((cheap, 0.40), (dear, 90.0)):
        line = dataset(chart, asset.symbol)
        assert line and line["points"], chart["sets"]
        for p in line["points"]:
            assert p["y"] == pytest.approx((p["price"] / initial - 1) * 100, abs=1e-9)
    assert len(set(chart["expiry"])) >= 1
    keep(page.locator(".price-chart").first, "chart-desktop-percent.png")


def test_a_phone_card_charts_the_whole_life_with_the_players_buy(game, market, open_page) -> None:
    asset = new_asset(game, lifetime_s="300")
    page = open_page(PHONE)
    register(page, market.url, "card_charter")
    page.fill("#m-search", asset.symbol)
    card = page.locator(f'.m-card[data-symbol="{asset.symbol}"]')
    expect(card).to_be_in_viewport()
    page.locator('[data-m-action="buy"]').tap()
    page.fill("#m-sheet-qty", "1")
    page.locator('#m-sheet [data-sheet-action="confirm"]').tap()
    expect(card.locator(".m-position")).to_contain_text("Position 1")
    page.wait_for_timeout(int(2 * TICK_S * 1000))

    q = quote(page, asset.symbol)
    chart = drawn(page, f'.m-card[data-symbol="{asset.symbol}"] canvas')
    assert (chart["x0"], chart["x1"]) == (ms(q["born_at"]), ms(q["expires_at"]))
    assert ms(q["expires_at"]) in chart["expiry"]
    buys = dataset(chart, "Your buys")
    bought = api(page, "/trades")["trades"][0]
    assert buys and [p["y"] for p in buys["points"]] == [float(bought["price"])]
    assert dataset(chart, "Avg cost")
    keep(card, "chart-phone-card.png")

    # one choice for every card, remembered
    card.locator(".range-pick").get_by_role("button", name="5m").tap()
    page.wait_for_timeout(int(2 * TICK_S * 1000))
    chart = drawn(page, f'.m-card[data-symbol="{asset.symbol}"] canvas')
    assert 0 < chart["x1"] - chart["x0"] <= 300_000
    assert chart["x1"] < ms(q["expires_at"])
    pressed = page.locator('.range-pick button[aria-pressed="true"]')
    assert set(pressed.all_inner_texts()) == {"5m"}
