"""Event bus -> Socket.IO, after commit: public market data by broadcast, private pushes per room.

Public messages (``prices``, ``asset_born``, ``asset_expired``, ``asset_settled``, ``tape``,
``leaderboard``, ``market_status``) name no player beyond a public display name. Private ones
(``portfolio``, ``settlement``) go only to the room ``player:<id>``. The tape is batched: each
process sends the trades of the last ``TAPE_SECONDS`` as one ``tape`` message carrying a list,
oldest first, so the public push costs one message on the queue per interval instead of one per
trade. A player's settlements of one engine step are pushed together when that step's ``prices``
arrive: "N positions settled for $X".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask_socketio import SocketIO
from socketio.pubsub_manager import PubSubManager

from .. import market, money, reports, wire
from ..game import Game
from ..portfolio import portfolio as portfolio_view
from ..reports import SettlementRow
from ..trading import TradeResult
from .queue import RedisQueue, disconnect_room
from .rooms import player_room, session_room

NAMESPACE = "/"
TAPE_SECONDS = 0.1  # a tape a tenth of a second behind is live to a person; one message per batch


class Bridge:
    """One per app: subscribed to its game's event bus, emitting through ``socketio``."""

    def __init__(self, game: Game, socketio: SocketIO) -> None:
        self.game = game
        self.socketio = socketio
        self._pending: dict[int, list[SettlementRow]] = {}  # player id -> this step's settlements
        self._lock = threading.Lock()
        self._tape: list[dict[str, Any]] = []  # public trades waiting for the next batch
        self._routes: dict[str, Callable[[dict[str, Any]], None]] = {
            "prices": self.on_prices,
            "asset_born": self.on_asset_born,
            "asset_settled": self.on_asset_settled,
            "trade": self.on_trade,
            "sessions_revoked": self.on_sessions_revoked,
            "leaderboard": self.on_leaderboard,
            "market_status": self.on_market_status,
        }

    def __call__(self, name: str, payload: dict[str, Any]) -> None:
        route = self._routes.get(name)
        if route is not None:
            route(payload)

    # -- public --------------------------------------------------------------------------------
    def on_prices(self, payload: dict[str, Any]) -> None:
        """The engine's payload is the message: {tick_seq, t, prices: {SYM: "price"}, ticks: {SYM: k}}."""
        self.socketio.emit("prices", payload, namespace=NAMESPACE)
        self._flush_settlements()

    def on_leaderboard(self, payload: dict[str, Any]) -> None:
        """The engine's ranking pass: the top rows, display names only, to everyone."""
        self.socketio.emit("leaderboard", wire.leaderboard(payload["board"]), namespace=NAMESPACE)

    def on_market_status(self, payload: dict[str, Any]) -> None:
        """The operator halted or resumed trading: {trading: "halted" | "open", reason}."""
        self.socketio.emit("market_status", payload, namespace=NAMESPACE)

    def on_asset_born(self, payload: dict[str, Any]) -> None:
        quote = next(
            (q for q in market.live_quotes(self.game) if q.id == payload["asset_id"]), None
        )
        body = (
            wire.quote(quote) if quote else {"id": payload["asset_id"], "symbol": payload["symbol"]}
        )
        self.socketio.emit("asset_born", body, namespace=NAMESPACE)

    def on_asset_settled(self, report: dict[str, Any]) -> None:
        asset = {"id": report["asset_id"], "symbol": report["symbol"]}
        reason = "worthless" if report["worthless"] else "expired"
        # the final price rides with the expiry: the last tick a client saw is not the final one
        final = money.price(report["final_price"])
        self.socketio.emit(
            "asset_expired",
            {**asset, "tick": report["final_tick"], "price": final, "reason": reason},
            namespace=NAMESPACE,
        )
        self.socketio.emit(
            "asset_settled",
            {
                **asset,
                "seed": report["seed_hex"],
                "settlement_tick": report["final_tick"],
                "settlement_price": final,
                "worthless": report["worthless"],
            },
            namespace=NAMESPACE,
        )
        if report["holders"]:
            self._queue_settlements(report["asset_id"])

    def on_trade(self, result: dict[str, Any]) -> None:
        """The trade's own transaction returned all a push needs: the trader's display name for
        the tape, and the account it left for the trader's room. Nothing is read."""
        trade = TradeResult(**result)
        self._queue_tape(wire.public_trade(trade))
        room = player_room(trade.player_id)
        if trade.portfolio is None:
            self._push_portfolio(trade.player_id)
        elif self._listening(room):
            body = wire.portfolio(trade.portfolio)
            self.socketio.emit("portfolio", body, to=room, namespace=NAMESPACE)

    def _queue_tape(self, body: dict[str, Any]) -> None:
        with self._lock:
            self._tape.append(body)
            first = len(self._tape) == 1
        if first:  # the first trade of a batch schedules its sending
            self.socketio.start_background_task(self._send_tape_later)

    def _send_tape_later(self) -> None:
        self.socketio.sleep(TAPE_SECONDS)
        self.flush_tape()

    def flush_tape(self) -> None:
        """Send the waiting trades now, as one message (the batch timer does; tests may)."""
        with self._lock:
            batch, self._tape = self._tape, []
        if batch:
            self.socketio.emit("tape", batch, namespace=NAMESPACE)

    # -- private -------------------------------------------------------------------------------
    def _push_portfolio(self, player_id: int) -> None:
        room = player_room(player_id)
        if self._listening(room):
            body = wire.portfolio(portfolio_view(self.game, player_id))
            self.socketio.emit("portfolio", body, to=room, namespace=NAMESPACE)

    def _queue_settlements(self, asset_id: int) -> None:
        rows = reports.asset_settlements(self.game, asset_id)
        with self._lock:
            for row in rows:
                if self._listening(player_room(row.player_id)):
                    self._pending.setdefault(row.player_id, []).append(row)

    def _flush_settlements(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for player_id, rows in pending.items():
            body = {
                "count": len(rows),
                "value": money.usd(sum(r.value for r in rows)),
                "items": [wire.settlement(r) for r in rows],
            }
            self.socketio.emit("settlement", body, to=player_room(player_id), namespace=NAMESPACE)
            self._push_portfolio(player_id)

    # -- sessions ------------------------------------------------------------------------------
    def on_sessions_revoked(self, payload: dict[str, Any]) -> None:
        """Logout, password change or a stolen refresh token: drop those sessions' sockets."""
        # rooms are per process: the queue tells every web worker to drop the room's sockets it holds
        for session_id in payload["session_ids"]:
            disconnect_room(self.socketio.server, session_room(session_id), NAMESPACE)

    def _listening(self, room: str) -> bool:
        """Whether anyone may be in ``room``: this server's rooms, else the queue's presence."""
        manager = self.socketio.server.manager
        if isinstance(manager, RedisQueue):
            return manager.listening(NAMESPACE, room)
        if isinstance(manager, PubSubManager):
            return True
        return next(iter(manager.get_participants(NAMESPACE, room)), None) is not None
