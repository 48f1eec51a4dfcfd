"""Presence across processes (realtime.queue.RedisQueue): a private push is published only when a
socket of some process may be in the player's room, and a join is never missed."""

from __future__ import annotations

import json
import shutil

import pytest
import socketio

from martingale.realtime import queue
from martingale.realtime.queue import PRESENCE_JOINED, RedisQueue

from .process_helpers import redis_call, start_redis


@pytest.fixture
def redis_url(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    proc, url = start_redis(tmp_path)
    yield url
    proc.stop()


def process(url: str, **options: object) -> RedisQueue:
    """One process's manager (its listener is not started: the tests deliver its messages)."""
    manager = RedisQueue(url, redis_options=options)
    socketio.Server(async_mode="threading", client_manager=manager)
    return manager


def joined(manager: RedisQueue, room: str) -> None:
    """What the listener does with another process's join message."""
    assert (
        manager._parse(json.dumps({"method": PRESENCE_JOINED, "room": room, "host_id": "x"}))
        is None
    )


def test_a_room_is_heard_wherever_its_socket_is_and_a_join_is_never_missed(redis_url):
    a, b = process(redis_url), process(redis_url)
    assert not b.listening("/", "player:1")  # nobody anywhere; b now remembers that
    sid = a.connect("eio-1", "/")
    a.basic_enter_room(sid, "/", "player:1")
    assert a.listening("/", "player:1")  # its own socket
    joined(b, "player:1")  # the join message reaches b: it forgets its "nobody"
    assert b.listening("/", "player:1")
    assert b.listening("/", "session:s1")  # rooms without presence are always pushed to


def test_a_remembered_answer_lasts_until_a_join_or_its_time(redis_url, monkeypatch):
    a, b = process(redis_url), process(redis_url)
    assert not b.listening("/", "player:2")
    a.basic_enter_room(a.connect("eio-2", "/"), "/", "player:2")
    assert not b.listening("/", "player:2")  # remembered: one Redis call per room and interval
    monkeypatch.setattr(queue, "PRESENCE_CACHE_S", 0.0)
    b._heard.clear()
    assert b.listening("/", "player:2")


def test_leaving_and_redis_losing_its_sets(redis_url, monkeypatch):
    monkeypatch.setattr(queue, "PRESENCE_CACHE_S", 0.0)
    a, b = process(redis_url), process(redis_url)
    first, second = a.connect("eio-3", "/"), a.connect("eio-4", "/")
    a.basic_enter_room(first, "/", "player:3")
    a.basic_enter_room(second, "/", "player:3")
    a.basic_disconnect(first, "/")
    assert b.listening("/", "player:3")  # one socket of the player remains
    redis_call(redis_url, "FLUSHALL")  # a Redis restart without persistence
    assert not b.listening("/", "player:3")
    a._record_all()
    assert b.listening("/", "player:3")
    a.basic_disconnect(second, "/")
    assert not b.listening("/", "player:3")


def test_unreachable_redis_means_push_anyway():
    from .process_helpers import free_port

    lost = process(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    assert lost.listening("/", "player:4")
