"""The message queue between processes: Socket.IO over Redis, and dropping a room everywhere.

With several processes (web workers, the engine) each Socket.IO server knows only its own sockets
and rooms. python-socketio's Redis manager carries every emit to every server, so a broadcast or a
room emit reaches the sockets wherever they are; what it cannot do is "disconnect everyone in this
room", because no process can list another's rooms. ``RedisQueue`` adds that one message: each
server that receives it disconnects the room's sockets it holds. ``sessions_revoked`` uses it, so a
logout handled by one worker drops the session's socket held by another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import socketio

log = logging.getLogger(__name__)
RETRY_S = 0.5  # a listener that lost Redis tries again this often
CHANNEL = "martingale"  # the pub/sub channel: every process of one deployment uses the same one
DROP_ROOM = "martingale:disconnect_room"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "valkey://", "valkeys://")


class RedisQueue(socketio.RedisManager):
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
        """Every message on the channel, ours handled here; reconnects every RETRY_S while down.

        (The base listener doubles its wait after each failure, up to a minute, so a Redis restart
        could silence a worker long after Redis is back; here a worker hears again within RETRY_S.)
        """
        channel = self.channel.encode()
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                for item in self.pubsub.listen():
                    if item.get("type") != "message" or item.get("channel") != channel:
                        continue
                    message = self._parse(item.get("data"))
                    if message is not None:
                        yield message
            except Exception as exc:
                log.warning("Redis listener: %s; reconnecting in %.1f s", exc, RETRY_S)
                self._close_quietly()
                time.sleep(RETRY_S)

    def _close_quietly(self) -> None:
        """Let go of the broken connections before the next attempt opens new ones."""
        for held in (self.pubsub, self.redis):
            try:
                if held is not None:
                    held.close()
            except Exception:  # already broken: nothing more to release
                log.debug("closing a broken Redis connection failed", exc_info=True)
        self.connected = False

    def _parse(self, raw: Any) -> dict[str, Any] | None:
        """A message for the base listener (parsed once), or None when it was ours or garbage."""
        try:
            message = self.json.loads(raw)
        except (TypeError, ValueError):
            return None
        if not isinstance(message, dict):
            return None
        if message.get("method") == DROP_ROOM:
            if message.get("host_id") != self.host_id:
                self._drop_here(str(message.get("room")), str(message.get("namespace")))
            return None
        return message


def manager_for(url: str | None, *, write_only: bool = False) -> Any:
    """The client manager for a server: in-process rooms alone, or rooms shared through Redis."""
    if not url:
        return socketio.Manager()
    if not url.startswith(REDIS_SCHEMES):
        raise ValueError(f"the message queue must be a Redis URL, got {url.split(':', 1)[0]}://")
    # a Redis that does not answer must not hold a worker's greenlet for long
    options = {"socket_connect_timeout": 2, "socket_keepalive": True}
    return RedisQueue(url, channel=CHANNEL, write_only=write_only, redis_options=options)


def disconnect_room(server: Any, room: str, namespace: str) -> None:
    """Disconnect every socket in ``room``, on this process and, through the queue, on the others."""
    manager = server.manager
    if isinstance(manager, RedisQueue):
        manager.disconnect_room(room, namespace)
        return
    for sid, _ in list(manager.get_participants(namespace, room)):
        server.disconnect(sid, namespace=namespace)
