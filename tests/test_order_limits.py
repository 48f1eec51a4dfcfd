"""Orders sized in dollars and bounded by a limit price (issue 11, items 12 and 13), on both
databases: the amount buys the most units it pays for, a price beyond the limit is refused and
writes nothing, and a retry of a key that executed replays whatever the price has done since."""

import hashlib

import pytest
from sqlalchemy import func, select

from martingale import errors, trading
from martingale.models import JournalEntry, Player, Posting, Trade
from martingale.money import PRICE_SCALE, QTY_SCALE, USD_SCALE, value_ceil
from martingale.reconcile import reconcile
from martingale.transaction_utils import read
from martingale.validators import Order

from .helpers import new_asset, new_player, trade

GRANT = 100_000 * USD_SCALE


def order(game, player, side, symbol, key, *, quantity=None, amount=None, limit_price=None):
    return trading.execute_trade(
        game, player_id=player, side=side, symbol=symbol, quantity=quantity, amount=amount,
        limit_price=limit_price, idempotency_key=key,
    )  # fmt: skip


def books(game):
    """Everything a refusal must leave alone."""

    def counts(s):
        rows = [
            s.scalar(select(func.count()).select_from(m)) for m in (Trade, JournalEntry, Posting)
        ]
        return (*rows, tuple(s.scalars(select(Player.cash).order_by(Player.id))))

    return read(game.database, counts)


@pytest.mark.parametrize("amount", ["575.85", "0.01", "100000", "33.333333"])
def test_an_amount_buys_the_most_units_whose_cost_is_within_it(game, clock, amount):
    asset = new_asset(game, initial="3.17", volatility="0.05")
    alice = new_player(game)
    clock.advance(2)
    bought = order(game, alice, "buy", asset.symbol, "a", amount=amount)
    whole, _, cents = amount.partition(".")
    dollars = int(whole) * USD_SCALE + int(cents.ljust(6, "0") or "0")
    assert bought.price == game.path(asset).price(2)
    assert bought.total == value_ceil(bought.quantity, bought.price) <= dollars
    # one atom more would cost more than the amount
    assert value_ceil(bought.quantity + 1, bought.price) > dollars
    assert all(c.ok for c in reconcile(game.database))


def test_a_buy_of_all_the_cash_by_amount_is_never_refused_for_funds(game, clock):
    asset = new_asset(game, initial="7.3", volatility="0.05")
    alice = new_player(game)
    clock.advance(1.5)
    bought = order(game, alice, "buy", asset.symbol, "all", amount="100000")
    left = read(game.database, lambda s: s.get(Player, alice).cash)
    assert left == GRANT - bought.total and 0 <= left < bought.price // 100 + 1


def test_an_amount_that_buys_nothing_is_refused_and_changes_nothing(game):
    asset = new_asset(game, initial="1000")
    alice = new_player(game)
    before = books(game)
    with pytest.raises(errors.AmountTooSmall):  # an atom costs $0.00001
        order(game, alice, "buy", asset.symbol, "tiny", amount="0.000001")
    assert books(game) == before


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"quantity": "1", "amount": "10"}, "invalid_amount"),
        ({"amount": "-1"}, "invalid_amount"),
        ({"amount": "1.0000001"}, "invalid_amount"),
        ({"amount": 1.5}, "invalid_amount"),
        ({"amount": "0"}, "invalid_amount"),
        ({"amount": "10000000000.000001"}, "invalid_amount"),
        ({"quantity": "1", "limit_price": "0"}, "invalid_limit_price"),
        ({"quantity": "1", "limit_price": "1.000000001"}, "invalid_limit_price"),
        ({"quantity": "1", "limit_price": 2.5}, "invalid_limit_price"),
        ({}, "invalid_quantity"),
    ],
)
def test_malformed_sizes_and_limits_are_refused(game, kwargs, code):
    asset = new_asset(game)
    alice = new_player(game)
    before = books(game)
    with pytest.raises(errors.InvalidInput) as refused:
        order(game, alice, "buy", asset.symbol, "bad", **kwargs)
    assert refused.value.code == code
    assert books(game) == before


def test_a_sell_is_sized_in_units_not_dollars(game):
    asset = new_asset(game)
    alice = new_player(game)
    trade(game, alice, "buy", asset.symbol, "2")
    with pytest.raises(errors.InvalidAmount, match="size a sell in units"):
        order(game, alice, "sell", asset.symbol, "s", amount="50")


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_a_price_beyond_the_limit_is_refused_as_price_moved_and_writes_nothing(game, clock, side):
    asset = new_asset(game, initial="100", volatility="0.05")
    alice = new_player(game)
    trade(game, alice, "buy", asset.symbol, "5")
    clock.advance(3)
    price = game.path(asset).price(3)
    # a buy's limit one atom below the price, a sell's one atom above: both just miss
    limit = price - 1 if side == "buy" else price + 1
    limit_text = f"{limit // PRICE_SCALE}.{limit % PRICE_SCALE:08d}"
    before = books(game)
    with pytest.raises(errors.PriceMoved) as refused:
        order(game, alice, side, asset.symbol, "lim", quantity="1", limit_price=limit_text)
    assert refused.value.status == 409 and refused.value.code == "price_moved"
    assert refused.value.details == {
        "price": f"{price // PRICE_SCALE}.{price % PRICE_SCALE:08d}",
        "limit_price": limit_text,
    }
    assert limit_text in refused.value.message
    assert books(game) == before
    # at the limit exactly, it fills
    exact = f"{price // PRICE_SCALE}.{price % PRICE_SCALE:08d}"
    filled = order(game, alice, side, asset.symbol, "lim2", quantity="1", limit_price=exact)
    assert filled.price == price and not filled.replayed


def test_a_retry_of_an_executed_key_replays_though_its_limit_is_now_breached(game, clock):
    asset = new_asset(game, initial="100", volatility="0.05")
    alice = new_player(game)
    trade(game, alice, "buy", asset.symbol, "10")
    start = game.path(asset).price(0)
    limit = f"{start // PRICE_SCALE}.{start % PRICE_SCALE:08d}"  # exactly today's price
    # the first tick whose price differs: above it a buy's limit is breached, below it a sell's
    tick = next(t for t in range(1, 500) if game.path(asset).price(t) != start)
    side = "buy" if game.path(asset).price(tick) > start else "sell"
    size = {"amount": "250"} if side == "buy" else {"quantity": "2"}
    first = order(game, alice, side, asset.symbol, "r1", limit_price=limit, **size)
    clock.advance(tick)
    with pytest.raises(errors.PriceMoved):  # a fresh order would be refused now
        order(game, alice, side, asset.symbol, "fresh", limit_price=limit, **size)
    before = books(game)
    again = order(game, alice, side, asset.symbol, "r1", limit_price=limit, **size)
    assert again.replayed
    assert (again.id, again.quantity, again.total) == (first.id, first.quantity, first.total)
    assert books(game) == before
    # the same key with another request is still a duplicate, not a replay
    with pytest.raises(errors.DuplicateRequest):
        order(game, alice, side, asset.symbol, "r1", **size)


def test_a_retry_of_an_executed_amount_buy_replays_even_when_the_amount_buys_nothing_now(
    game, monkeypatch
):
    asset = new_asset(game, initial="0.5", volatility="0.05")
    alice = new_player(game)
    first = order(game, alice, "buy", asset.symbol, "tiny", amount="0.000001")
    assert first.quantity == 200  # $0.000001 at $0.50
    # the price has since risen past $100, where a micro-dollar buys not one atom: the database
    # gets quantity 0, and answers the key before it looks at the quantity
    monkeypatch.setattr(trading, "units_for", lambda amount, price: 0)
    assert order(game, alice, "buy", asset.symbol, "tiny", amount="0.000001").replayed
    with pytest.raises(errors.AmountTooSmall):
        order(game, alice, "buy", asset.symbol, "tiny2", amount="0.000001")


def test_fingerprints_tell_amounts_quantities_and_limits_apart():
    def fp(**kw):
        return Order(side="buy", symbol="XSL", idempotency_key="k", **kw).fingerprint

    plain = fp(quantity=QTY_SCALE)
    # unchanged for orders of units without a limit: keys stored before still replay
    assert plain == hashlib.sha256(f"buy|XSL|{QTY_SCALE}".encode()).hexdigest()
    others = {
        fp(quantity=None, amount=QTY_SCALE),
        fp(quantity=QTY_SCALE, limit_price=1),
        fp(quantity=None, amount=QTY_SCALE, limit_price=1),
    }
    assert len(others) == 3 and plain not in others
