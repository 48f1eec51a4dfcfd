"""The profile page, /players/<name>, over a browser-like client: its figures, 404s and links."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from martingale import account_deletion, auth, rate_limits
from martingale.engine import MarketEngine
from martingale.web.profile_page import price, qty, signed_usd, usd

from .helpers import new_asset, new_player, register_by_form, trade

API = "/api/v1"


@pytest.fixture
def client(app):
    return app.test_client()


def page_of(client, name: str, status: int = 200) -> str:
    r = client.get(f"/players/{quote(name)}")
    assert r.status_code == status, r.status_code
    assert r.mimetype == "text/html"
    return r.get_data(as_text=True)


def stat(page: str, name: str) -> str:
    """The text of a stat card's figure, tags dropped."""
    found = re.search(rf'data-stat="{name}">(.*?)</dd>', page, re.S)
    assert found, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_the_page_shows_the_players_standing_figures_and_trades(client, game, clock):
    winner = new_asset(game, drift="0.02", volatility="0.01", initial="20", lifetime_s="30")
    held = new_asset(game, initial="3.5", lifetime_s="600")
    ann = new_player(game, "annsecret", display_name="Ann Shown")
    new_player(game, "bob", display_name="Bob Other")
    trade(game, ann, "buy", winner.symbol, "2")
    trade(game, ann, "buy", held.symbol, "1.5")
    clock.advance(31)
    MarketEngine(game).step()  # the winner settles; a ranking pass
    api = client.get(f"{API}/players/Ann%20Shown").get_json()
    page = page_of(client, "Ann Shown")

    assert '<h1 id="profile-h">Ann Shown</h1>' in page
    assert "annsecret" not in page  # the username never reaches a public page
    assert re.search(r"#1</span>\s*<span class=\"muted\">of 2 players", page)
    total = int(api["total_pnl"].replace(".", ""))
    assert total > 0 and stat(page, "total") == signed_usd(total)
    assert stat(page, "return") == f"+{api['return_pct']}%"
    assert stat(page, "settled") == "1"
    assert stat(page, "win-rate") == "100.00% 1 of 1 made money"
    best = api["best"]
    assert stat(page, "best").startswith(f"{winner.symbol} +$")
    assert f"settled at {price(int(best['price'].replace('.', '')))}" in stat(page, "best")
    assert stat(page, "worst") == stat(page, "best")  # one settlement is both
    rows = re.findall(r'<th scope="row"><span class="sym">(\w+)</span></th>', page)
    assert rows == [held.symbol, winner.symbol]  # newest first
    assert ">1.5</td>" in page and ">$3.50</td>" in page and ">$5.25</td>" in page
    curve = re.search(r"data-curve='([^']*)'", page)
    assert curve and '"pnl": "0.000000"' in curve.group(1)


def test_a_new_player_reads_unranked_with_no_settlements(client, game):
    new_player(game, "cat", display_name="Cat New")
    page = page_of(client, "Cat New")
    assert "Not ranked yet" in page and "No trades yet." in page
    assert stat(page, "win-rate") == "—" and stat(page, "best") == "—"
    assert stat(page, "total") == "$0.00" and stat(page, "return") == "0.00%"


def test_unknown_renamed_and_deleted_names_get_the_404_page(client, game, app):
    page = page_of(client, "Nobody Here", 404)
    assert "Player not found" in page and "Back to the market" in page
    login = auth.register(game, "leaver", "Tulip-Harbor-93", auth.WEB, display_name="Gone Soon")
    assert "Gone Soon" in page_of(client, "Gone Soon")
    gone = account_deletion.delete_account(game, login.principal, "Tulip-Harbor-93", auth.WEB)
    for name in ("Gone Soon", gone.display_name):
        assert "Player not found" in page_of(client, name, 404)


def test_a_signed_in_player_has_a_link_to_their_own_profile(client, game):
    register_by_form(client, "dana")
    shown = client.get(f"{API}/account").get_json()["display_name"]
    href = f'href="/players/{quote(shown)}"'
    dashboard = client.get("/").get_data(as_text=True)
    assert dashboard.count(href) == 2  # the top bar's and the phone's Account tab
    assert ">My profile</a>" in dashboard
    about = client.get("/about").get_data(as_text=True)
    assert href in about  # on every page with the top bar
    # their own profile is the public one: the username is only in the top bar, theirs to see
    own = page_of(client, shown)
    assert "dana" not in own[own.index("<article") : own.index("</article>")].lower()


def test_the_page_runs_no_inline_script(client, game):
    new_player(game, "eve", display_name="Eve Strict")
    page = page_of(client, "Eve Strict")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert "/static/js/profile.js" in page and "/static/css/profile.css" in page
    assert not re.search(r"<[^>]*\s(style|on\w+)=", page)  # no inline style or handler


def test_the_page_spends_the_read_budget_the_api_does(client, game, monkeypatch):
    monkeypatch.setattr(rate_limits, "READS", "3 per minute")
    new_player(game, "fay", display_name="Fay Counted")
    assert client.get(f"{API}/players/Fay%20Counted").status_code == 200
    assert [client.get("/players/Fay%20Counted").status_code for _ in range(3)] == [200, 200, 429]
    assert "Too many requests" in client.get("/players/Fay%20Counted").get_data(as_text=True)


@pytest.mark.parametrize(
    ("fn", "atoms", "shown"),
    [
        (usd, 1_234_567_890, "$1,234.57"),
        (usd, -5_000, "\N{MINUS SIGN}$0.01"),
        (signed_usd, 12_345_000, "+$12.35"),
        (signed_usd, -4_999, "$0.00"),  # rounds to nothing: no sign
        (signed_usd, -10_000_000_000_000, "\N{MINUS SIGN}$10,000,000.00"),
        (price, 123_456_789, "$1.23"),
        (price, 12_345_678, "$0.1235"),
        (qty, 150_000_000, "1.5"),
        (qty, 123_456_700_000_001, "1,234,567.00000001"),
    ],
)
def test_figures_read_as_the_dashboard_writes_them(fn, atoms, shown):
    assert fn(atoms) == shown
