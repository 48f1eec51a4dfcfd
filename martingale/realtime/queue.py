"""The message queue between processes: Socket.IO over Redis, and dropping a room everywhere.

With several processes (web workers, the engine) each Socket.IO server knows only its own sockets
and rooms. python-socketio's Redis manager carries every emit to every server, so a broadcast or a
room emit reaches the sockets wherever they are; what it cannot do is "disconnect everyone in this
room", because no process can list another's rooms. ``RedisQueue`` adds that one message: each
server that receives it disconnects the room's sockets it holds. ``sessions_revoked`` uses it, so a
logout handled by one worker drops the session's socket held by another.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import socketio

CHANNEL = "martingale"  # the pub/sub channel: every process of one deployment uses the same one
DROP_ROOM = "martingale:disconnect_room"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "valkey://", "valkeys://")


class RedisQueue(socketio.RedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager plus ``disconnect_room`` across every process."""

    def disconnect_room(self, room: str, namespace: str) -> None:
        self._drop_here(room, namespace)
        self._publish(
            {"method": DROP_ROOM, "room": room, "namespace": namespace, "host_id": self.host_id}
        )

    def _drop_here(self, room: str, namespace: str) -> None:
        server = self.server
        if server is None:  # a write-only manager holds no sockets
            return
        for sid, _ in list(self.get_participants(namespace, room)):
            server.disconnect(sid, namespace=namespace, ignore_queue=True)

    def _listen(self) -> Iterator[Any]:
        """The base listener's messages, with ours handled here and never passed on."""
        for raw in super()._listen():
            message = raw
            if not isinstance(raw, dict):
                try:
                    message = self.json.loads(raw)
                except ValueError:
                    continue
            if isinstance(message, dict) and message.get("method") == DROP_ROOM:
                if message.get("host_id") != self.host_id:
                    self._drop_here(str(message.get("room")), str(message.get("namespace")))
                continue
            yield message  # parsed once: the base listener takes dicts as they are


def manager_for(url: str | None, *, write_only: bool = False) -> Any:
    """The client manager for a server: in-process rooms alone, or rooms shared through Redis."""
    if not url:
        return socketio.Manager()
    if not url.startswith(REDIS_SCHEMES):
        raise ValueError(f"the message queue must be a Redis URL, got {url.split(':', 1)[0]}://")
    return RedisQueue(url, channel=CHANNEL, write_only=write_only)


def disconnect_room(server: Any, room: str, namespace: str) -> None:
    """Disconnect every socket in ``room``, on this process and, through the queue, on the others."""
    manager = server.manager
    if isinstance(manager, RedisQueue):
        manager.disconnect_room(room, namespace)
        return
    for sid, _ in list(manager.get_participants(namespace, room)):
        server.disconnect(sid, namespace=namespace)
