"""Room names, and who is behind each authenticated socket of this server."""

from __future__ import annotations

import threading

from ..auth import Principal


def player_room(player_id: int) -> str:
    return f"player:{player_id}"


def session_room(session_id: str) -> str:
    return f"session:{session_id}"


class Connections:
    """The principal of each authenticated socket connected to this server, by Socket.IO sid."""

    def __init__(self) -> None:
        self._by_sid: dict[str, Principal] = {}
        self._lock = threading.Lock()

    def add(self, sid: str, principal: Principal) -> None:
        with self._lock:
            self._by_sid[sid] = principal

    def get(self, sid: str) -> Principal | None:
        with self._lock:
            return self._by_sid.get(sid)

    def drop(self, sid: str) -> Principal | None:
        with self._lock:
            return self._by_sid.pop(sid, None)
