"""The message queue between processes: Socket.IO over Redis, and dropping a room everywhere.

With several processes (web workers, the engine) each Socket.IO server knows only its own sockets
and rooms. python-socketio's Redis manager carries every emit to every server, so a broadcast or a
room emit reaches the sockets wherever they are; what it cannot do is "disconnect everyone in this
room", because no process can list another's rooms. ``RedisQueue`` adds that one message: each
server that receives it disconnects the room's sockets it holds. ``sessions_revoked`` uses it, so a
logout handled by one worker drops the session's socket held by another.

Presence, so a private push is published only when someone may hear it: each process records its
sockets of a player's room in a Redis set (``martingale:listening:<room>``, one member per socket)
when they join and leave it, and a process asks "is anyone listening to this room?" of its own
rooms first, then of Redis, remembering the answer for ``PRESENCE_CACHE_S``. A socket joining
tells every process to forget what it remembered of that room (a message on the channel), so a
remembered "nobody" never outlives a join by more than the channel's delay. Wrong the other way is
harmless: a remembered "yes" after the last socket left costs one push nobody hears, and so do the
members a killed process leaves behind. After Redis comes back (its sets may be gone), every
process records its sockets again when its listener resubscribes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import socketio

from .fanout import FramedEmit

log = logging.getLogger(__name__)
RETRY_S = 0.5  # a listener that lost Redis tries again this often
CHANNEL = "martingale"  # the pub/sub channel: every process of one deployment uses the same one
DROP_ROOM = "martingale:disconnect_room"
PRESENCE_ROOMS = ("player:",)  # the rooms private pushes go to; others are assumed heard
PRESENCE_KEY = "martingale:listening:"
PRESENCE_JOINED = "martingale:presence_joined"
PRESENCE_CACHE_S = 5.0
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "valkey://", "valkeys://")


class RedisQueue(socketio.RedisManager, FramedEmit):
    """python-socketio's Redis manager plus ``disconnect_room`` and presence across every process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._presence: Any = None  # a Redis client of its own: the listener replaces ``redis``
        self._heard: dict[str, tuple[bool, float]] = {}  # room -> (anyone listening, until)
        self._subscribed_once = False

    # -- presence -----------------------------------------------------------------------------
    def listening(self, namespace: str, room: str) -> bool:
        """Whether any socket of any process may be in ``room`` (yes when unsure)."""
        if next(iter(self.get_participants(namespace, room)), None) is not None:
            return True
        if not room.startswith(PRESENCE_ROOMS):
            return True
        now = time.monotonic()
        known = self._heard.get(room)
        if known is not None and known[1] > now:
            return known[0]
        try:
            found = bool(self._presence_client().exists(PRESENCE_KEY + room))
        except Exception:  # Redis unreachable: push as if someone listens (the push fails too)
            return True
        if self._heard.get(room) is known:  # no join was heard meanwhile
            if len(self._heard) > 100_000:
                self._heard.clear()
            self._heard[room] = (found, now + PRESENCE_CACHE_S)
        return found

    def basic_enter_room(
        self, sid: str, namespace: str, room: str, eio_sid: str | None = None
    ) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        if isinstance(room, str) and room.startswith(PRESENCE_ROOMS):
            self._record(namespace, room, [sid])
            self._publish({"method": PRESENCE_JOINED, "room": room, "host_id": self.host_id})

    def basic_leave_room(self, sid: str, namespace: str, room: str) -> None:
        super().basic_leave_room(sid, namespace, room)
        if isinstance(room, str) and room.startswith(PRESENCE_ROOMS):
            try:
                self._presence_client().srem(PRESENCE_KEY + room, self._member(namespace, sid))
            except Exception:  # a member left behind costs pushes nobody hears, nothing more
                log.warning("presence: could not forget a socket of %s", room, exc_info=True)

    def _record(self, namespace: str, room: str, sids: list[str]) -> None:
        self._heard.pop(room, None)
        try:
            self._presence_client().sadd(
                PRESENCE_KEY + room, *(self._member(namespace, sid) for sid in sids)
            )
        except Exception:  # recorded again when the listener resubscribes
            log.warning("presence: could not record a socket of %s", room, exc_info=True)

    def _record_all(self) -> None:
        """Every socket of this process in a presence room, recorded again (Redis came back)."""
        self._heard.clear()
        for namespace, rooms in list(self.rooms.items()):
            for room, members in list(rooms.items()):
                if isinstance(room, str) and room.startswith(PRESENCE_ROOMS) and members:
                    self._record(namespace, room, list(members))

    def _member(self, namespace: str, sid: str) -> str:
        return f"{self.host_id}:{namespace}:{sid}"

    def _presence_client(self) -> Any:
        if self._presence is None:
            self._presence = self._get_redis_module().Redis.from_url(
                self.redis_url, **self.redis_options
            )
        return self._presence

    # -- dropping a room everywhere -------------------------------------------------------------

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
                if self._subscribed_once:  # back after a failure: Redis may have lost our sets
                    self._record_all()
                self._subscribed_once = True
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
        if message.get("method") == PRESENCE_JOINED:
            self._heard.pop(str(message.get("room")), None)
            return None
        if message.get("method") == DROP_ROOM:
            if message.get("host_id") != self.host_id:
                self._drop_here(str(message.get("room")), str(message.get("namespace")))
            return None
        return message


def manager_for(url: str | None, *, write_only: bool = False) -> Any:
    """The client manager for a server: in-process rooms alone, or rooms shared through Redis."""
    if not url:
        return FramedEmit()
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
