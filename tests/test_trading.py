"""Worked examples of trades, read as an account statement."""

import pytest
from sqlalchemy import select

from martingale import errors
from martingale.models import Holding, Player, Trade
from martingale.money import USD_SCALE
from martingale.portfolio import portfolio
from martingale.transaction_utils import read

from .helpers import new_asset, new_player, trade

GRANT = 100_000 * USD_SCALE


def cash(game, player):
    return read(game.database, lambda s: s.get(Player, player).cash)


def test_a_new_player_is_granted_the_starting_cash(game):
    alice = new_player(game)
    view = portfolio(game, alice)
    assert (view.cash, view.granted, view.total_pnl, view.positions) == (GRANT, GRANT, 0, ())


def test_buy_then_sell_books_average_cost_and_realized_pnl(game, clock):
    asset = new_asset(game, initial="50")
    alice = new_player(game)
    bought = trade(game, alice, "buy", asset.symbol, "10")
    assert (bought.price, bought.total, bought.tick) == (50 * 10**8, 500 * USD_SCALE, 0)
    assert cash(game, alice) == GRANT - 500 * USD_SCALE

    clock.advance(3)
    price = game.path(asset).price(3)
    sold = trade(game, alice, "sell", asset.symbol, "4")
    assert sold.price == price and sold.tick == 3
    assert sold.total == 4 * price // 10**2  # floor to a micro-dollar
    assert sold.realized_pnl == sold.total - 200 * USD_SCALE  # 4 of 10 units release 4/10 of $500
    holding = read(game.database, lambda s: s.get(Holding, (alice, asset.id)))
    assert (holding.quantity, holding.cost_basis) == (6 * 10**8, 300 * USD_SCALE)
    view = portfolio(game, alice)
    assert view.realized_pnl == sold.realized_pnl
    assert view.total_pnl == view.realized_pnl + view.unrealized_pnl


def test_fractional_quantities_keep_all_eight_decimals(game):
    asset = new_asset(game, initial="3")
    alice = new_player(game)
    result = trade(game, alice, "buy", asset.symbol, "0.12345678")
    assert result.quantity == 12_345_678
    assert result.total == 370_371  # 0.37037034 rounded up to the micro-dollar


@pytest.mark.parametrize(
    ("side", "quantity", "code"),
    [("buy", "2000", "insufficient_funds"), ("sell", "1", "insufficient_holdings")],
)
def test_refusals_change_nothing(game, side, quantity, code):
    asset = new_asset(game, initial="100")
    alice = new_player(game)
    with pytest.raises(errors.MartingaleError) as refused:
        trade(game, alice, side, asset.symbol, quantity)
    assert refused.value.code == code
    assert cash(game, alice) == GRANT
    assert read(game.database, lambda s: s.scalars(select(Trade)).all()) == []


def test_unknown_symbol_and_value_cap(game):
    alice = new_player(game)
    with pytest.raises(errors.UnknownAsset):
        trade(game, alice, "buy", "ZZZ", "1")
    asset = new_asset(game, initial="1000")
    with pytest.raises(errors.TradeValueTooLarge):
        trade(game, alice, "buy", asset.symbol, "1000000000")


def test_a_trade_at_the_expiry_tick_is_refused_without_any_job_running(game, clock):
    asset = new_asset(game, lifetime_s="10", volatility="0.0001")
    alice = new_player(game)
    clock.advance(9.999)
    assert trade(game, alice, "buy", asset.symbol, "1").tick == 9
    clock.advance(0.001)  # tick 10 == expiry: nothing has settled the asset yet
    with pytest.raises(errors.AssetNotTradable):
        trade(game, alice, "buy", asset.symbol, "1")


def test_same_key_same_request_replays_without_trading_again(game):
    asset = new_asset(game)
    alice = new_player(game)
    first = trade(game, alice, "buy", asset.symbol, "1", key="abc")
    again = trade(game, alice, "buy", asset.symbol, "1.00000000", key="abc")
    assert again.replayed and not first.replayed
    assert (again.id, again.total, again.price) == (first.id, first.total, first.price)
    assert cash(game, alice) == GRANT - first.total


def test_same_key_different_request_is_a_duplicate(game):
    asset = new_asset(game)
    alice = new_player(game)
    trade(game, alice, "buy", asset.symbol, "1", key="abc")
    with pytest.raises(errors.DuplicateRequest):
        trade(game, alice, "buy", asset.symbol, "2", key="abc")


def test_keys_are_per_player(game):
    asset = new_asset(game)
    alice, bob = new_player(game, "alice"), new_player(game, "bob")
    a = trade(game, alice, "buy", asset.symbol, "1", key="same")
    b = trade(game, bob, "buy", asset.symbol, "1", key="same")
    assert a.id != b.id and not b.replayed


def test_usernames_are_unique_case_insensitively(game):
    new_player(game, "Alice")
    with pytest.raises(errors.UsernameTaken):
        new_player(game, "alice")
    with pytest.raises(errors.InvalidUsername):
        new_player(game, "admin")
