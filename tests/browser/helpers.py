"""What the browser tests share besides fixtures: viewports, the test password, page helpers."""

from __future__ import annotations

import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TICK_S = 0.3  # real seconds per game tick (one game second)
# The player's zone differs from UTC on purpose: times must be shown in it.
DESKTOP = {
    "viewport": {"width": 1366, "height": 900},
    "locale": "en-US",
    "timezone_id": "America/New_York",
}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
PASSWORD = "correct-horse-9"


def register(page, url: str, username: str, display_name: str = "") -> None:
    """Create an account through the /register form; it lands on the dashboard."""
    page.goto(f"{url}/register")
    page.fill("#username", username)
    page.fill("#display_name", display_name)
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.wait_for_selector('#app[data-state="ready"]', state="attached")


def screenshot(page, name: str, *, clear_toasts: bool = True) -> Path:
    """Save a screenshot under test-artifacts/ (the toasts dismissed first, so the page shows)."""
    if clear_toasts:
        page.evaluate(
            "() => document.querySelectorAll('#toasts .toast-close').forEach((b) => b.click())"
        )
        page.wait_for_timeout(250)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def wait_until(predicate, timeout: float = 15.0, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError("condition not met in time")


def desktop_buy(page, symbol: str, quantity: str) -> None:
    """Buy through the desktop trade form and wait for the holding's row."""
    # imported on use, as conftest does: a machine without the browser never imports it
    from playwright.sync_api import expect

    page.select_option("#trade-symbol", symbol)
    page.fill("#trade-qty", quantity)
    page.click('#trade-form button[data-side="buy"]')
    expect(page.locator(f'#holdings-table tbody tr[data-symbol="{symbol}"]')).to_have_count(1)
