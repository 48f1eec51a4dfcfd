"""The phone apps' bridge (static/js/native.js, wrapper.js) in Chromium, with a stand-in native side.

An init script plays Capacitor's part: it injects ``window.Capacitor`` with the plugins the apps
ship (their real method names) and records every call; ``fire`` delivers an event as the native
side would (the back button, pause, resume, a link the app was opened with). The tests then make
the game do what a player does and check the calls came at those moments, and none before. The
last tests run the bundled shell (web/shell.py) on its bearer-token path, and the site with no
Capacitor at all.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from martingale.web.shell import build_shell

from ..helpers import new_asset
from .helpers import DESKTOP, PHONE, register, screenshot

SHELL_PASSWORD = "Quartz-Lantern-31"
INTRO_SEEN = "martingale.introSeen"  # static/js: the introduction is shown once per browser

# each plugin with the methods the app reaches (the names of the native plugins' own methods)
PLUGINS = {
    "App": ["exitApp", "getLaunchUrl", "addListener"],
    "Haptics": ["impact", "notification", "vibrate"],
    "LocalNotifications": [
        "checkPermissions",
        "requestPermissions",
        "schedule",
        "cancel",
        "addListener",
    ],
    "StatusBar": ["setStyle", "setBackgroundColor"],
    "SplashScreen": ["hide", "show"],
    "Share": ["share"],
    "SecureStorage": ["internalGetItem", "internalSetItem", "internalRemoveItem"],
}
FAKE_NATIVE = """
(() => {
  const config = %s;
  const calls = [];
  const listeners = {};
  let permission = config.permission || "prompt";
  // the keychain outlives a page, as the device's does
  let keychain = {};
  try { keychain = JSON.parse(localStorage.getItem("fake-keychain") || "{}"); } catch {}
  const save = () => { try { localStorage.setItem("fake-keychain", JSON.stringify(keychain)); } catch {} };
  const answers = {
    "App.getLaunchUrl": () => (config.launchUrl ? { url: config.launchUrl } : {}),
    "LocalNotifications.checkPermissions": () => ({ display: permission }),
    "LocalNotifications.requestPermissions": () => { permission = "granted"; return { display: permission }; },
    "SecureStorage.internalGetItem": (o) => ({ data: keychain[o.prefixedKey] ?? null }),
    "SecureStorage.internalSetItem": (o) => { keychain[o.prefixedKey] = o.data; save(); return {}; },
    "SecureStorage.internalRemoveItem": (o) => {
      const had = o.prefixedKey in keychain; delete keychain[o.prefixedKey]; save(); return { success: had };
    },
  };
  const Plugins = {};
  for (const [name, methods] of Object.entries(config.plugins)) {
    Plugins[name] = {};
    for (const method of methods) {
      Plugins[name][method] = method === "addListener"
        ? (event, fn) => {
            calls.push({ plugin: name, method, options: event });
            (listeners[`${name}.${event}`] ||= []).push(fn);
            return Promise.resolve({ remove() {} });
          }
        : async (options) => {
            // what crosses the bridge is JSON, Dates as ISO strings
            calls.push({ plugin: name, method, options: JSON.parse(JSON.stringify(options ?? null)) });
            return answers[`${name}.${method}`]?.(options) ?? {};
          };
    }
  }
  window.Capacitor = { Plugins, isNativePlatform: () => true, getPlatform: () => "android" };
  window.__native = {
    calls,
    fire(plugin, event, data) {
      const fns = listeners[`${plugin}.${event}`] || [];
      for (const fn of fns) fn(data);
      return fns.length;
    },
    keychain: () => keychain,
  };
})();
"""


@pytest.fixture
def backend() -> str:
    """The bridge does not depend on the database: one is enough."""
    return "sqlite"


def with_native(page, **config) -> None:
    """Every document the page loads from now on gets the stand-in native side."""
    page.context.add_init_script(FAKE_NATIVE % json.dumps({"plugins": PLUGINS, **config}))


def calls(page, plugin: str, method: str | None = None) -> list:
    found = page.evaluate("() => window.__native.calls")
    return [
        c["options"]
        for c in found
        if c["plugin"] == plugin and (method is None or c["method"] == method)
    ]


def wait_for_call(page, plugin: str, method: str, timeout: float = 15_000) -> list:
    page.wait_for_function(
        "([p, m]) => window.__native.calls.some((c) => c.plugin === p && c.method === m)",
        arg=[plugin, method],
        timeout=timeout,
    )
    return calls(page, plugin, method)


def fire(page, plugin: str, event: str, data: object = None) -> None:
    listening = page.evaluate("([p, e, d]) => window.__native.fire(p, e, d)", [plugin, event, data])
    assert listening, f"nothing listens for {plugin}.{event}"


def session_keys(cookie: dict) -> set[str]:
    payload = cookie["value"].split(".")[0]
    return set(json.loads(base64.urlsafe_b64decode(payload + "==")))


def refresh_status(url: str, token: str) -> int:
    request = urllib.request.Request(
        f"{url}/api/v1/auth/refresh",
        data=json.dumps({"refresh_token": token}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as refused:
        return refused.code


def tick(page) -> int:
    return int(page.locator("#app").get_attribute("data-tick") or 0)


def expires_at(page, symbol: str) -> str:
    assets = page.evaluate("async () => (await (await fetch('/api/v1/assets')).json()).assets")
    return next(a["expires_at"] for a in assets if a["symbol"] == symbol)


def phone_buy(page, symbol: str, quantity: str) -> None:
    page.fill("#m-search", symbol)
    expect(page.locator('[data-m-action="buy"]')).to_have_text(f"Buy {symbol}")
    page.locator('[data-m-action="buy"]').tap()
    page.fill("#m-sheet-qty", quantity)
    page.locator('#m-sheet [data-sheet-action="confirm"]').tap()
    expect(page.locator("#m-sheet")).to_be_hidden()


def test_fill_settlement_expiry_notice_and_share_reach_the_native_side(
    game, market, open_page
) -> None:
    doomed = new_asset(game, lifetime_s="300", initial="20")
    page = open_page(PHONE)
    with_native(page)
    register(page, market.url, "native_trader")

    # at launch: the bars styled, the splash gone, the app's events heard; nothing asked yet
    assert calls(page, "StatusBar", "setStyle") == [{"style": "DARK"}]
    wait_for_call(page, "SplashScreen", "hide")
    heard = calls(page, "App", "addListener")
    assert {"backButton", "pause", "resume", "appUrlOpen"} <= set(heard)
    assert not calls(page, "LocalNotifications", "requestPermissions")
    assert not calls(page, "Haptics")

    # the first buy: a tap of the haptic engine, then the question, then the expiry notice
    phone_buy(page, doomed.symbol, "3")
    assert wait_for_call(page, "Haptics", "impact") == [{"style": "MEDIUM"}]
    wait_for_call(page, "LocalNotifications", "requestPermissions")
    [notice] = wait_for_call(page, "LocalNotifications", "schedule")[0]["notifications"]
    assert notice["id"] == doomed.id
    assert notice["title"] == f"{doomed.symbol} expires in 2 minutes"
    assert "You hold 3 " in notice["body"]
    assert notice["extra"] == {"url": f"/asset/{doomed.symbol}"}
    # two minutes before the asset's own expiry, to the millisecond
    expiry = expires_at(page, doomed.symbol)
    assert (
        page.evaluate(
            "([at, expiry]) => Date.parse(expiry) - Date.parse(at)",
            [notice["schedule"]["at"], expiry],
        )
        == 120_000
    )

    # settlement: a success or warning tap, and the notice for a holding gone is cancelled
    market.fast_forward(10)
    [settled] = wait_for_call(page, "Haptics", "notification", timeout=30_000)
    assert settled["type"] in ("SUCCESS", "WARNING")
    cancelled = wait_for_call(page, "LocalNotifications", "cancel")
    assert cancelled[-1] == {"notifications": [{"id": doomed.id}]}
    assert len(calls(page, "LocalNotifications", "requestPermissions")) == 1

    # the settled row links to the proof, which the app can share by the site's own address
    page.get_by_role("tab", name="History").tap()
    page.get_by_role("link", name=f"Proof of {doomed.symbol}").tap()
    page.wait_for_url(f"{market.url}/proof/{doomed.id}")
    expect(page.locator("#proof")).to_have_attribute("data-state", "settled")
    share = page.get_by_role("button", name="Share proof")
    expect(share).to_be_visible()
    print(f"\nproof page screenshot: {screenshot(page, 'native-proof.png')}")
    share.tap()
    [shared] = wait_for_call(page, "Share", "share")
    assert shared["url"] == f"{market.url}/proof/{doomed.id}"
    assert doomed.symbol in shared["title"]


def test_back_button_closes_the_sheet_then_the_overview_then_goes_back_then_exits(
    game, market, open_page
) -> None:
    asset = new_asset(game, lifetime_s="900")
    page = open_page(PHONE)
    with_native(page)
    register(page, market.url, "back_presser")
    page.goto(f"{market.url}/asset/{asset.symbol}")
    page.wait_for_selector('#app[data-state="ready"]', state="attached")

    page.locator('[data-m-action="buy"]').tap()
    expect(page.locator("#m-sheet")).to_be_visible()
    fire(page, "App", "backButton", {"canGoBack": True})
    expect(page.locator("#m-sheet")).to_be_hidden()

    page.click("#m-overview-toggle")
    expect(page.locator("#m-overview")).to_be_visible()
    fire(page, "App", "backButton", {"canGoBack": True})
    expect(page.locator("#m-overview")).to_be_hidden()
    assert page.url == f"{market.url}/asset/{asset.symbol}"
    assert not calls(page, "App", "exitApp")

    fire(page, "App", "backButton", {"canGoBack": True})
    page.wait_for_url(f"{market.url}/")
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    fire(page, "App", "backButton", {"canGoBack": False})
    wait_for_call(page, "App", "exitApp")


def test_resume_reconnects_and_fills_the_gap(game, market, open_page) -> None:
    page = open_page(DESKTOP)
    with_native(page)
    register(page, market.url, "sleepy_trader")
    status = page.locator('.desk [data-role="conn"]')
    expect(status).to_have_text("Live")

    fire(page, "App", "pause")
    expect(status).to_have_text("Reconnecting…")
    paused_at = tick(page)
    page.wait_for_timeout(2000)  # ticks go by on the server, none reach the page
    assert tick(page) == paused_at

    fills: list[str] = []
    page.on("request", lambda r: fills.append(r.url) if "/api/v1/" in r.url else None)
    fire(page, "App", "resume")
    expect(status).to_have_text("Live")
    page.wait_for_function(
        f"() => Number(document.getElementById('app').dataset.tick) > {paused_at}"
    )
    page.wait_for_timeout(500)
    assert any(re.search(r"/assets/\d+/history\?since_tick=\d+", url) for url in fills), fills
    assert any(url.endswith("/api/v1/portfolio") for url in fills), fills


def test_deep_links_select_the_asset_and_open_the_proof(game, market, open_page) -> None:
    first = new_asset(game, lifetime_s="900")
    second = new_asset(game, lifetime_s="900")
    desk = open_page(DESKTOP)
    register(desk, market.url, "link_follower")
    desk.goto(f"{market.url}/asset/{second.symbol}")
    desk.wait_for_selector('#app[data-state="ready"]', state="attached")
    expect(desk.locator("#trade-symbol")).to_have_value(second.symbol)
    print(f"\ndesktop deep link screenshot: {screenshot(desk, 'link-desktop.png')}")

    phone = open_page(PHONE)
    with_native(phone)
    register(phone, market.url, "link_tapper")
    phone.goto(f"{market.url}/asset/{first.symbol}")
    phone.wait_for_selector('#app[data-state="ready"]', state="attached")
    expect(phone.locator('[data-m-action="buy"]')).to_have_text(f"Buy {first.symbol}")

    # a link tapped elsewhere opens the app at its screen (universal links, app links)
    fire(phone, "App", "appUrlOpen", {"url": f"https://play.example/asset/{second.symbol}"})
    expect(phone.locator('[data-m-action="buy"]')).to_have_text(f"Buy {second.symbol}")
    print(f"phone deep link screenshot: {screenshot(phone, 'link-phone.png')}")
    fire(phone, "App", "appUrlOpen", {"url": f"https://play.example/proof/{first.id}"})
    phone.wait_for_url(f"{market.url}/proof/{first.id}")
    expect(phone.locator("#proof")).to_have_attribute("data-state", "live")
    # a live asset's proof keeps its seed, and is not offered for sharing yet
    expect(phone.locator('[data-proof="seed"]')).to_have_text("secret until settlement")
    expect(phone.get_by_role("button", name="Share proof")).to_be_hidden()


def test_a_plain_browser_calls_nothing_native(game, market, open_page) -> None:
    asset = new_asset(game, lifetime_s="300", initial="20")
    page = open_page(PHONE)
    # a trap where Capacitor would be: reading it is allowed, it is never there
    page.context.add_init_script(
        "Object.defineProperty(window, 'Capacitor', { get() { window.__asked = (window.__asked || 0) + 1; } });"
    )
    register(page, market.url, "browser_only")
    phone_buy(page, asset.symbol, "1")
    expect(page.locator(".toast", has_text=f"Bought 1 {asset.symbol}")).to_be_visible()
    market.fast_forward(10)
    expect(page.locator(".toast", has_text="1 position settled")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="History").tap()
    page.get_by_role("link", name=f"Proof of {asset.symbol}").tap()
    expect(page.locator("#proof")).to_have_attribute("data-state", "settled")
    expect(page.get_by_role("button", name="Share proof")).to_be_hidden()
    # nothing of the apps' was kept on the device either
    # (the site's own first-visit flag aside)
    kept = page.evaluate("() => [Object.keys(localStorage), Object.keys(sessionStorage)]")
    assert kept == [[INTRO_SEEN], []]
    # (open_page fails the test on any console error or failed request)


class ShellPages:
    """WSGI middleware: the shell's pages at the game's own address, as the app's own web server
    serves them at its own (no headers of the site's). What the apps do across origins (CORS,
    docs/mobile.md) is not what these tests are about."""

    def __init__(self, wsgi_app, pages: dict[str, bytes]) -> None:
        self.wsgi_app = wsgi_app
        self.pages = pages

    def __call__(self, environ, start_response):
        body = self.pages.get(environ["PATH_INFO"])
        if body is None:
            return self.wsgi_app(environ, start_response)
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]


@pytest.fixture
def shell(app, tmp_path, market) -> Path:
    out = tmp_path / "www"
    build_shell(app, out, market.url)
    pages = {"/": "index.html", "/proof.html": "proof.html"}
    app.wsgi_app = ShellPages(app.wsgi_app, {p: (out / n).read_bytes() for p, n in pages.items()})
    return out


def test_the_shell_signs_in_with_tokens_kept_in_secure_storage(
    game, market, open_page, shell
) -> None:
    asset = new_asset(game, lifetime_s="900")
    page = open_page(PHONE)
    with_native(page)
    page.goto(f"{market.url}/")
    login = page.locator("#shell-login")
    expect(login).to_be_visible()
    wait_for_call(page, "SplashScreen", "hide")
    print(f"\nshell login screenshot: {screenshot(page, 'shell-login.png')}")

    page.get_by_role("button", name="New here? Create an account").tap()
    page.fill("#shell-username", "pocket_trader")
    page.fill("#shell-password", SHELL_PASSWORD)
    page.fill("#shell-display-name", "Night Owl 7")
    page.get_by_role("button", name="Create account").tap()
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    expect(page.locator('.m-top .dot + [data-role="conn-m"]')).to_have_text("Live")

    # the refresh token is in the keychain, the session in no cookie and no web storage
    keychain = page.evaluate("() => window.__native.keychain()")
    first = keychain["martingale.refresh"]
    assert first
    # (the socket's handshake leaves Flask's cookie with a CSRF token in it, and no login)
    assert all(session_keys(c) <= {"csrf_token"} for c in page.context.cookies())
    # the stand-in's own keychain, and the site's first-visit flag: no token
    stored = page.evaluate("() => Object.keys(localStorage)")
    assert set(stored) <= {"fake-keychain", INTRO_SEEN}

    # a trade over the token-authenticated socket
    phone_buy(page, asset.symbol, "1")
    expect(page.locator(".toast", has_text=f"Bought 1 {asset.symbol}")).to_be_visible()

    # the next launch needs no password: the refresh token is spent and replaced
    page.reload()
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    expect(page.locator('[data-role="shell-who"]').first).to_have_text("Night Owl 7")
    assert page.evaluate("() => window.__native.keychain()")["martingale.refresh"] != first
    print(f"shell dashboard screenshot: {screenshot(page, 'shell-dashboard.png')}")

    # logging out ends the session on the server and forgets the token here
    last = page.evaluate("() => window.__native.keychain()")["martingale.refresh"]
    page.get_by_role("tab", name="Account").tap()
    page.locator('.m-links [data-action="shell-logout"]').tap()
    expect(login).to_be_visible()
    assert page.evaluate("() => window.__native.keychain()") == {}
    # (from outside the page: its cookie would make this a cookie request, which wants CSRF)
    assert refresh_status(market.url, last) == 401
