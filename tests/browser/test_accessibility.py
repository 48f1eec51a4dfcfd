"""Issue 11's check: every page passes axe-core's audit with no serious or critical violation, at
desktop and phone size. axe-core 4.10.3 is vendored under tests/browser/vendor/ (MPL-2.0, from the
npm registry); it is injected into a context that bypasses the site's CSP, which would refuse it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..helpers import execute, new_player, trade
from .helpers import DESKTOP, PHONE, register

AXE = Path(__file__).parent / "vendor" / "axe-4.10.3.min.js"
AUDIT = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}"""
PAGES = ["/", "/about", "/privacy", "/terms", "/account", "/change-password"]
ANONYMOUS = ["/login", "/register", "/about"]


@pytest.fixture
def backend() -> str:
    return "sqlite"


def audit(page, url: str) -> list[str]:
    page.goto(url)
    if url.endswith("/"):
        page.wait_for_selector('#app[data-state="ready"]', state="attached")
        page.wait_for_timeout(500)
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AUDIT)


@pytest.mark.parametrize("kind", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_passes_the_accessibility_audit(game, market, chromium, kind) -> None:
    rival = new_player(game, "rival", display_name="Seen Rival")
    (symbol,) = execute(game, "SELECT symbol FROM assets WHERE status = 'live' LIMIT 1")[0]
    trade(game, rival, "buy", symbol, "1")  # a profile with a trade in its table
    # reduced motion: a price flash (600 ms) would be audited at whatever frame it was in
    context = chromium.new_context(**kind, bypass_csp=True, reduced_motion="reduce")
    context.add_init_script("localStorage.setItem('martingale.introSeen', '1')")
    try:
        page = context.new_page()
        found = {path: audit(page, f"{market.url}{path}") for path in ANONYMOUS}
        found["/players (anonymous)"] = audit(page, f"{market.url}/players/Seen%20Rival")
        width = kind["viewport"]["width"]
        register(page, market.url, f"audited_{width}", f"Checked {width}")
        # the player's own profile, and another's, seen signed in
        profiles = [f"/players/Checked%20{width}", "/players/Seen%20Rival"]
        found |= {path: audit(page, f"{market.url}{path}") for path in [*PAGES, *profiles]}
    finally:
        context.close()
    failing = {path: v for path, v in found.items() if v}
    print(f"\naxe-core: {len(found)} pages, serious or critical violations: {failing or 'none'}")
    assert not failing, failing
