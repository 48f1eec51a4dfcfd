"""Every page under the Content-Security-Policy: no violation, and the live board still works."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .helpers import DESKTOP, PHONE, register, screenshot

# installed by the browser itself (not subject to the page's policy) before any page script runs
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def _watched(open_page, kind: dict):
    page = open_page(kind)
    page.context.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page, console


def _no_violation(page, console: list[str], where: str) -> None:
    page.wait_for_timeout(300)  # a violation report is an event, delivered a moment later
    found = page.evaluate("() => window.__csp")
    assert found == [] and console == [], (where, found, console)


def _live_prices_arrive(page) -> None:
    before = int(page.get_attribute("#app", "data-tick") or 0)
    # a function, not an expression: Playwright evaluates an expression with eval(), which the
    # policy refuses ('unsafe-eval' is not allowed)
    page.wait_for_function(
        "(before) => Number(document.getElementById('app').dataset.tick) > before", arg=before
    )


def test_every_page_runs_under_the_policy(market, open_page) -> None:
    page, console = _watched(open_page, DESKTOP)
    # the control: an inline style attribute is refused and seen by both listeners
    page.goto(f"{market.url}/login")
    page.evaluate(
        "() => { const d = document.createElement('div');"
        " d.innerHTML = '<p style=\"color: red\">x</p>'; document.body.append(d); }"
    )
    page.wait_for_function("() => window.__csp.length > 0")
    assert "style-src" in page.evaluate("() => window.__csp")[0]
    page.wait_for_timeout(300)
    assert console and "Content Security Policy" in console[0]
    console.clear()
    open_page.errors[:] = [e for e in open_page.errors if "Content Security Policy" not in e]
    for path, name in (("/login", "login"), ("/register", "register"), ("/nowhere", "404")):
        response = page.goto(f"{market.url}{path}")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        if name == "404":
            open_page.errors.remove(f"HTTP 404 {market.url}/nowhere")  # asked for on purpose
            expect(page.locator("h1")).to_have_text("Page not found")
        screenshot(page, f"csp-{name}.png")
        _no_violation(page, console, path)

    register(page, market.url, "csp_desk")
    _live_prices_arrive(page)
    expect(page.locator("#asset-table tbody tr td.price").first).to_have_text(re.compile(r"^\$\d"))
    page.wait_for_timeout(1500)  # charts drawn, leaderboard and history loaded
    screenshot(page, "csp-dashboard-desktop.png")
    _no_violation(page, console, "dashboard (desktop)")
    page.goto(f"{market.url}/change-password")
    _no_violation(page, console, "/change-password")
    page.get_by_role("link", name="My profile").click()  # its curve drawn by a module, no inline
    page.wait_for_url(re.compile(r"/players/"))
    expect(page.locator(".profile-chart")).to_have_attribute("data-drawn", re.compile(r"^[1-9]"))
    _no_violation(page, console, "the profile page")

    phone, phone_console = _watched(open_page, PHONE)
    register(phone, market.url, "csp_phone")
    _live_prices_arrive(phone)
    expect(phone.locator(".phone")).to_be_visible()
    phone.wait_for_timeout(1500)
    screenshot(phone, "csp-dashboard-phone.png")
    _no_violation(phone, phone_console, "dashboard (phone)")
