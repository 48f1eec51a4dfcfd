"""A player's account as a trader sees it: cash, positions at current prices, and P&L."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import UnknownPlayer
from .game import Game, expires_at
from .models import LIVE, Asset, Holding, Player
from .money import value_floor
from .transaction_utils import read


@dataclass(frozen=True)
class Position:
    asset_id: int
    symbol: str
    quantity: int
    cost_basis: int
    price: int
    market_value: int
    expires_at: datetime

    @property
    def unrealized_pnl(self) -> int:
        return self.market_value - self.cost_basis


@dataclass(frozen=True)
class PortfolioView:
    player_id: int
    cash: int
    granted: int
    realized_pnl: int
    positions: tuple[Position, ...]

    @property
    def value(self) -> int:
        return self.cash + sum(p.market_value for p in self.positions)

    @property
    def unrealized_pnl(self) -> int:
        return sum(p.unrealized_pnl for p in self.positions)

    @property
    def total_pnl(self) -> int:
        return self.value - self.granted


def portfolio(game: Game, player_id: int) -> PortfolioView:
    """Mark open positions at the current tick (proceeds rounded down, as a sale would be)."""

    def work(session: Session) -> PortfolioView:
        player = session.get(Player, player_id)
        if player is None:
            raise UnknownPlayer("no such player")
        now = game.clock.now()
        rows = session.execute(
            select(Holding, Asset)
            .join(Asset, Asset.id == Holding.asset_id)
            .where(Holding.player_id == player_id, Holding.quantity > 0, Asset.status == LIVE)
            .order_by(Asset.symbol)
        ).all()
        positions = []
        for holding, asset in rows:
            price = game.price_at(asset, now)
            positions.append(
                Position(
                    asset_id=asset.id,
                    symbol=asset.symbol,
                    quantity=holding.quantity,
                    cost_basis=holding.cost_basis,
                    price=price,
                    market_value=value_floor(holding.quantity, price),
                    expires_at=expires_at(asset),
                )
            )
        return PortfolioView(
            player_id=player.id,
            cash=player.cash,
            granted=player.granted,
            realized_pnl=player.realized_pnl,
            positions=tuple(positions),
        )

    return read(game.database, work)
