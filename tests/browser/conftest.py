"""Browser tests: the real app on a live threaded Werkzeug server, a ticking engine, and Chromium.

The app runs on the test configuration (a ManualClock). A background thread advances that clock and
steps one ``MarketEngine`` every ``TICK_S`` seconds of real time, so prices, expiries and settlements
reach the page over Socket.IO just as in production, only faster. Debian's Chromium is driven by
Playwright's sync API; where it is missing the tests skip (and fail under CI=true).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from werkzeug.serving import make_server

from martingale.engine import MarketEngine
from martingale.game import Game

from .helpers import CHROMIUM, CHROMIUM_ARGS, TICK_S


@dataclass
class Market:
    """The live server and the engine thread that ticks the game's manual clock."""

    game: Game
    url: str = ""
    seconds_per_step: float = 1.0
    steps: int = 0
    errors: list[BaseException] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def tick_loop(self) -> None:
        engine = MarketEngine(self.game)
        while not self._stop.is_set():
            try:
                self.game.clock.advance(self.seconds_per_step)
                engine.step()
                self.steps += 1
            except Exception as exc:  # reported by the fixture, never swallowed
                self.errors.append(exc)
                return
            self._stop.wait(TICK_S)

    def fast_forward(self, seconds_per_step: float) -> None:
        """Make each tick cover more game time, so expiries come sooner."""
        self.seconds_per_step = seconds_per_step

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: Chromium is not installed at {CHROMIUM}")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def market(app: Flask, game: Game) -> Iterator[Market]:
    """Serve the app on 127.0.0.1 and tick the engine until the test ends."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    m = Market(game=game, url=f"http://127.0.0.1:{server.server_port}")
    serving = threading.Thread(target=server.serve_forever, name="browser-server", daemon=True)
    serving.start()
    MarketEngine(game).step()  # the pool exists before the first page loads
    ticking = threading.Thread(target=m.tick_loop, name="browser-engine", daemon=True)
    ticking.start()
    yield m
    m.stop()
    ticking.join(10)
    server.shutdown()
    serving.join(10)
    server.server_close()
    assert not m.errors, f"engine step failed: {m.errors!r}"


@pytest.fixture
def open_page(chromium):
    """A fresh browser context (cookies and all) per page, closed after the test."""
    contexts = []

    def open_(kind: dict, *, first_visit: bool = False) -> object:
        context = chromium.new_context(**kind)
        context.set_default_timeout(15_000)
        if not first_visit:  # a returning player: the introduction would cover what a test drives
            context.add_init_script("localStorage.setItem('martingale.introSeen', '1')")
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        page.on("console", lambda msg: on_console(msg))
        page.on("response", lambda r: on_response(r))
        return page

    def on_console(msg) -> None:
        # failed loads are judged by on_response, which knows the URL
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"console: {msg.text}")

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"HTTP {response.status} {response.url}")

    errors: list[str] = []
    open_.errors = errors  # type: ignore[attr-defined]
    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"the page reported errors: {errors}"
