"""The installable web app in Chromium: installability, the service worker, offline, a new deploy.

What the worker stores, and when, is judged from the page (caches.keys(), the cache's entries,
navigator.serviceWorker) and from Playwright's view of each response (from the worker or not).
``context.set_offline`` cuts the page and its service worker off the network alike.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from martingale.web import pwa

from ..helpers import new_asset
from .helpers import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, register, screenshot, wait_until

# an iPhone's notch and home indicator, in CSS px: what an installed app must keep clear of
NOTCH = {"top": 47, "bottom": 34, "left": 0, "right": 0}
PHONE_APP = {**PHONE}  # 390 x 844, touch: the installed app, with no browser chrome
WIDE = {**DESKTOP, "viewport": {"width": 1440, "height": 900}}

OFFLINE_TITLE = "You\N{RIGHT SINGLE QUOTATION MARK}re offline"
CACHE_KEYS = "async () => await caches.keys()"
REGISTRATION = """async () => {
  const r = await navigator.serviceWorker.getRegistration();
  return r && { installing: r.installing?.state, waiting: r.waiting?.state,
                active: r.active?.state, caches: await caches.keys() };
}"""
CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""


@pytest.fixture
def backend() -> str:
    """The worker and the manifest do not depend on the database: one is enough."""
    return "sqlite"


def controlled(page) -> None:
    """Wait until this deploy's worker controls the page. It claims the pages open when it
    activates; a page whose load began before that is controlled from its next load on."""
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    if page.evaluate("() => navigator.serviceWorker.controller === null"):
        page.reload()
    try:
        page.wait_for_function(
            "() => navigator.serviceWorker.controller?.state === 'activated'", timeout=15_000
        )
    except PlaywrightTimeout as exc:
        state = page.evaluate(REGISTRATION)
        raise AssertionError(f"no service worker controls {page.url}: {state}") from exc


def forgive_the_offline_socket(open_page) -> None:
    """Offline, Socket.IO's reconnection attempts fail, and Chromium logs each as an error."""
    open_page.errors[:] = [e for e in open_page.errors if "ERR_INTERNET_DISCONNECTED" not in e]


def shell_version(app) -> str:
    return app.extensions[pwa.EXTENSION].version


def test_chromium_finds_the_manifest_and_reports_no_installability_errors(
    chromium, market, tmp_path
) -> None:
    # a persistent profile: Chromium calls every page of an off-the-record context (what
    # new_context makes) not installable, whatever the site does
    context = chromium.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        viewport=DESKTOP["viewport"],
    )
    try:
        page = context.new_page()
        register(page, market.url, "installer")
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        print(f"\nmanifest {manifest['url']}: parse errors {manifest['errors']}")
        print(f"installability errors: {json.dumps(errors)}")
        assert manifest["url"] == f"{market.url}/manifest.webmanifest"
        assert manifest["errors"] == []
        assert errors == []
    finally:
        context.close()


def test_the_service_worker_registers_controls_the_page_and_stores_the_shell(
    app, market, open_page
) -> None:
    page = open_page(DESKTOP)
    register(page, market.url, "worker_watcher")
    controlled(page)
    assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL") == (
        f"{market.url}/sw.js"
    )
    scope = page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).scope")
    assert scope == f"{market.url}/"
    assert page.evaluate(CACHE_KEYS) == [f"martingale-shell-{shell_version(app)}"]
    stored = set(page.evaluate(CACHED_URLS))
    assert set(app.extensions[pwa.EXTENSION].precache) == stored
    assert {"/offline", "/static/css/app.css", "/static/js/main.js"} <= stored


def test_offline_a_reload_shows_the_offline_page_and_comes_back_by_itself(
    market, open_page
) -> None:
    page = open_page(PHONE_APP)
    register(page, market.url, "subway_rider")
    controlled(page)
    page.context.set_offline(True)
    page.reload()
    assert page.url == f"{market.url}/"  # the dashboard's address, answered by the worker
    expect(page.locator("h1")).to_have_text(OFFLINE_TITLE)
    # any page the app opens offline gets the same answer
    page.goto(f"{market.url}/register")
    expect(page.locator("h1")).to_have_text(OFFLINE_TITLE)
    page.goto(f"{market.url}/")
    # (only now: once a DevTools session is open, the next document loaded reads navigator.onLine
    # true despite the offline emulation, a quirk of the emulation, not of browsers)
    page.context.new_cdp_session(page).send(
        "Emulation.setSafeAreaInsetsOverride", {"insets": NOTCH}
    )
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    expect(page.locator('[data-role="offline-status"]')).to_have_text("Offline")
    # the site's own shell: its stylesheet and icons came from the worker's cache
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == (
        "rgb(15, 19, 25)"
    )
    assert (
        page.evaluate("() => document.querySelector('.site-header').getBoundingClientRect().top")
        == 0
    )
    brand_top = page.evaluate("() => document.querySelector('.brand').getBoundingClientRect().top")
    assert brand_top >= NOTCH["top"], "the header's content clears the notch"
    print(f"\noffline, phone: {screenshot(page, 'offline-phone.png', clear_toasts=False)}")

    # back online: the page reloads itself into the game
    page.context.set_offline(False)
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    forgive_the_offline_socket(open_page)


def test_offline_reload_on_a_wide_screen(market, open_page) -> None:
    page = open_page(WIDE)
    register(page, market.url, "desk_commuter")
    controlled(page)
    page.wait_for_function("() => Number(document.getElementById('app').dataset.tick) > 3")
    page.wait_for_timeout(1000)  # charts drawn
    print(f"\nonline, desktop: {screenshot(page, 'app-desktop.png')}")
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("h1")).to_have_text(OFFLINE_TITLE)
    print(f"offline, desktop: {screenshot(page, 'offline-desktop.png', clear_toasts=False)}")
    page.context.set_offline(False)
    forgive_the_offline_socket(open_page)


def test_a_new_deploy_installs_its_cache_and_deletes_the_old_one(app, market, open_page) -> None:
    page = open_page(DESKTOP)
    register(page, market.url, "long_sitter")
    controlled(page)
    old = f"martingale-shell-{shell_version(app)}"
    assert page.evaluate(CACHE_KEYS) == [old]

    # a deploy: other front-end files, so another version (what build_shell derives from them)
    shell = app.extensions[pwa.EXTENSION]
    app.extensions[pwa.EXTENSION] = dataclasses.replace(shell, version="0123456789abcdef")
    new = "martingale-shell-0123456789abcdef"
    page.reload()  # a page load is when browsers look for a new worker
    # (polled from here: wait_for_function takes an async function's promise for a true answer)
    try:
        wait_until(lambda: page.evaluate(CACHE_KEYS) == [new])
    except AssertionError:
        raise AssertionError(f"caches after the deploy: {page.evaluate(CACHE_KEYS)}") from None
    assert set(page.evaluate(CACHED_URLS)) == set(shell.precache)
    # and the new cache is the one that answers offline
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("h1")).to_have_text(OFFLINE_TITLE)
    page.context.set_offline(False)
    forgive_the_offline_socket(open_page)


def test_api_and_socket_traffic_never_touches_the_cache(market, open_page) -> None:
    page = open_page(DESKTOP)
    live: list[tuple[str, bool]] = []
    page.on(
        "response",
        lambda r: (
            live.append((r.url, r.from_service_worker))
            if re.search(r"/(api/v1|socket\.io)/", r.url)
            else None
        ),
    )
    register(page, market.url, "fresh_prices")
    controlled(page)
    page.reload()  # now under the worker from the first byte
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    page.wait_for_function("() => Number(document.getElementById('app').dataset.tick) > 0")
    assert any("/api/v1/assets" in u for u, _ in live)
    assert [u for u, from_worker in live if from_worker] == [], "answered by the service worker"
    assert [u for u in page.evaluate(CACHED_URLS) if u.startswith(("/api/", "/socket.io"))] == []

    # offline, the API fails rather than answering from some copy
    page.context.set_offline(True)
    outcome = page.evaluate(
        """async () => {
          try { const r = await fetch('/api/v1/assets'); return `answered ${r.status}`; }
          catch (err) { return `failed: ${err.name}`; }
        }"""
    )
    assert outcome == "failed: TypeError"
    page.context.set_offline(False)
    forgive_the_offline_socket(open_page)


def test_losing_the_network_disables_trading_until_it_is_back(game, market, open_page) -> None:
    held = new_asset(game, lifetime_s="900", initial="50")
    page = open_page(DESKTOP)
    register(page, market.url, "flaky_wifi")
    buy = page.locator('#trade-form button[data-side="buy"]')
    expect(page.locator('.desk [data-role="conn"]')).to_have_text("Live")
    page.select_option("#trade-symbol", held.symbol)
    page.fill("#trade-qty", "1")
    buy.click()
    row = page.locator(f'#holdings-table tbody tr[data-symbol="{held.symbol}"]')
    expect(row).to_have_count(1)

    page.context.set_offline(True)
    expect(page.locator('.desk [data-role="conn"]')).to_have_text("Offline")
    expect(page.locator("#toasts .toast", has_text=OFFLINE_TITLE)).to_be_visible()
    expect(buy).to_be_disabled()
    expect(page.locator("#trade-max")).to_be_disabled()
    # a holding's own Sell all button stays, and says why it does nothing
    row.get_by_role("button", name=f"Sell all {held.symbol}").click()
    expect(page.locator("#toasts .toast-error", has_text=OFFLINE_TITLE)).to_be_visible()
    expect(row).to_have_count(1)  # nothing was sold

    page.context.set_offline(False)
    expect(buy).to_be_enabled()
    expect(page.locator("#toasts .toast", has_text=OFFLINE_TITLE)).to_have_count(0)
    expect(page.locator('.desk [data-role="conn"]')).to_have_text("Live", timeout=15_000)
    forgive_the_offline_socket(open_page)


def test_losing_the_network_on_the_phone(game, market, open_page) -> None:
    page = open_page(PHONE_APP)
    register(page, market.url, "phone_tunnel")
    buy = page.locator('[data-m-action="buy"]')
    expect(buy).to_be_enabled()
    buy.tap()
    confirm = page.locator('#m-sheet [data-sheet-action="confirm"]')
    expect(confirm).to_be_enabled()
    page.context.set_offline(True)
    expect(confirm).to_be_disabled()
    page.locator('#m-sheet [data-sheet-action="cancel"]').tap()
    expect(buy).to_be_disabled()
    expect(page.locator('[data-role="conn-m"]')).to_have_text("Offline")
    expect(page.locator("#toasts .toast", has_text=OFFLINE_TITLE)).to_be_visible()
    page.context.new_cdp_session(page).send(
        "Emulation.setSafeAreaInsetsOverride", {"insets": NOTCH}
    )
    page.wait_for_timeout(300)
    shot = screenshot(page, "offline-live-phone.png", clear_toasts=False)
    print(f"\nlive page gone offline, phone: {shot}")
    page.context.set_offline(False)
    expect(buy).to_be_enabled()
    forgive_the_offline_socket(open_page)


@pytest.mark.parametrize(("fragment", "tab"), [("board", "Leaders"), ("portfolio", "Account")])
def test_a_shortcut_opens_its_tab_on_the_phone(market, open_page, fragment, tab) -> None:
    page = open_page(PHONE_APP)
    register(page, market.url, f"short_{fragment}")
    page.goto(f"{market.url}/#{fragment}")
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_have_count(1)
    panel = page.get_by_role("tabpanel")
    expect(panel).to_have_attribute(
        "aria-labelledby", page.get_by_role("tab", name=tab).get_attribute("id")
    )


def test_a_shortcut_scrolls_the_desktop_to_its_section(market, open_page) -> None:
    page = open_page(WIDE)
    register(page, market.url, "short_desk")
    page.goto(f"{market.url}/#board")
    page.wait_for_selector('#app[data-state="ready"]', state="attached")
    expect(page.locator("#lead-h")).to_be_in_viewport()
    page.goto(f"{market.url}/#portfolio")
    expect(page.locator("#holdings-h")).to_be_in_viewport()


TARGETS = """(root) => [...root.querySelectorAll('button, a[href], input, select, [role="tab"]')]
  .filter((el) => el.checkVisibility() && el.type !== 'hidden')
  .map((el) => { const r = el.getBoundingClientRect();
    return { what: `${el.tagName.toLowerCase()} ${(el.textContent || el.id || el.name || '').trim().slice(0, 30)}`,
             w: Math.round(r.width), h: Math.round(r.height) }; })"""


def small_targets(page, selector: str) -> list[dict]:
    found = page.eval_on_selector(selector, TARGETS)
    assert found, f"no targets in {selector}"
    return [t for t in found if t["w"] < 44 or t["h"] < 44]


def test_the_installed_phone_app_keeps_clear_of_the_notch_with_44px_targets(
    game, market, open_page
) -> None:
    held = new_asset(game, lifetime_s="900", initial="50")
    page = open_page(PHONE_APP)
    register(page, market.url, "thumb_user")
    page.context.new_cdp_session(page).send(
        "Emulation.setSafeAreaInsetsOverride", {"insets": NOTCH}
    )
    box = lambda sel: page.locator(sel).bounding_box()  # noqa: E731
    expect(page.locator(".m-brand")).to_be_visible()
    assert box(".m-top")["y"] == 0 and box(".m-brand")["y"] >= NOTCH["top"]
    tabs = box(".m-tabs")
    assert tabs["y"] + tabs["height"] == PHONE_APP["viewport"]["height"]
    tab = page.get_by_role("tab", name="Assets").bounding_box()
    assert tab["y"] + tab["height"] <= PHONE_APP["viewport"]["height"] - NOTCH["bottom"]
    page.fill("#m-search", held.symbol)
    expect(page.locator(f'.m-card[data-symbol="{held.symbol}"]')).to_be_in_viewport()
    buy = page.locator('[data-m-action="buy"]')
    expect(buy).to_have_text(f"Buy {held.symbol}")
    buy.tap()
    page.fill("#m-sheet-qty", "1")
    page.locator('#m-sheet [data-sheet-action="confirm"]').tap()
    expect(page.locator(f'.m-card[data-symbol="{held.symbol}"] .m-position')).to_contain_text(
        "Position 1"
    )
    print(f"\nphone app, assets: {screenshot(page, 'app-phone-assets.png')}")
    assert small_targets(page, ".phone") == []

    page.locator('[data-m-action="sell"]').tap()
    sheet = box("#m-sheet")
    assert sheet["y"] + sheet["height"] == PHONE_APP["viewport"]["height"]
    confirm = box('#m-sheet [data-sheet-action="confirm"]')
    assert confirm["y"] + confirm["height"] <= PHONE_APP["viewport"]["height"] - NOTCH["bottom"]
    assert small_targets(page, "#m-sheet") == []
    print(f"phone app, sell sheet: {screenshot(page, 'app-phone-sheet.png')}")
    page.locator('#m-sheet [data-sheet-action="cancel"]').tap()

    page.click("#m-overview-toggle")
    expect(page.locator(".o-tile").first).to_be_visible()
    assert small_targets(page, ".phone") == []
    print(f"phone app, overview: {screenshot(page, 'app-phone-overview.png')}")
    page.click("#m-overview-toggle")
    for tab in ("History", "Leaders", "Account"):
        page.get_by_role("tab", name=tab).tap()
        page.wait_for_timeout(300)
        assert small_targets(page, ".phone") == [], tab
        print(f"phone app, {tab}: {screenshot(page, f'app-phone-{tab.lower()}.png')}")
