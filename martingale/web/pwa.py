"""The installable web app: the manifest, the icons' names, the service worker and its offline page.

The service worker (templates/sw.js) keeps one cache per deploy: its name carries a hash of every
front-end file (static/ and templates/) and of the manifest, computed once when the app starts,
so any change to what the browser runs makes a new worker, which stores the new files and deletes
the old cache. Every process of a deploy computes the same hash from the same files. It never
caches the API or the socket (prices, portfolios and trades are only ever live), nor the
dashboard's HTML, which carries the player's username and CSRF token: offline, a page load gets
the offline page (templates/offline.html), which carries neither.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Response, current_app, render_template
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App

from .blueprint import bp

EXTENSION = "martingale.web_app_shell"

NAME = "Martingale"
DESCRIPTION = "A realtime play-money trading game: trade short-lived synthetic assets, live."
# app.css's --panel (the top bars, which the OS's title or status bar continues) and --bg (the page
# behind them, shown on the launch screen); a test keeps them equal to the stylesheet's
THEME_COLOR = "#171d26"
BACKGROUND_COLOR = "#0f1319"
START_URL = "/?source=pwa"

ICON_SOURCE = "icons/icon.svg"
# every size the platforms ask for: Android's launcher densities, Windows' tiles, iPad's 152,
# 192 and 512 (what Chromium requires and builds its splash screen from)
ANY_SIZES = (48, 72, 96, 128, 144, 152, 192, 256, 384, 512)
MASKABLE_SIZES = (192, 512)
APPLE_TOUCH_SIZE = 180
APPLE_TOUCH_ICON = "icons/apple-touch-icon.png"
FAVICON_SIZES = (16, 32, 48)
FAVICON = "icons/favicon.ico"

# the dashboard's sections a shortcut can open (static/js/sections.js reads the same fragments)
SHORTCUTS = (
    ("Leaderboard", "Board", "Players ranked by profit and loss", "/#board"),
    ("Portfolio", "Portfolio", "Your cash, holdings and performance", "/#portfolio"),
)
OFFLINE_PAGE = "/offline"
MANIFEST_PATH = "/manifest.webmanifest"


def icon_path(size: int, purpose: str) -> str:
    """The icon's path under static/ (scripts/make_icons.py writes it)."""
    return f"icons/icon-{size}.png" if purpose == "any" else f"icons/{purpose}-{size}.png"


def manifest(static_url: str) -> dict[str, Any]:
    icons = [
        {
            "src": f"{static_url}/{icon_path(size, purpose)}",
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }
        for purpose, sizes in (("any", ANY_SIZES), ("maskable", MASKABLE_SIZES))
        for size in sizes
    ]
    return {
        "id": "/",
        "name": NAME,
        "short_name": NAME,
        "description": DESCRIPTION,
        "start_url": START_URL,
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "categories": ["games", "finance"],
        "icons": icons,
        "shortcuts": [
            {"name": name, "short_name": short, "description": text, "url": url}
            for name, short, text, url in SHORTCUTS
        ],
    }


@dataclass(frozen=True)
class Shell:
    """What this deploy's service worker stores, and the version that names its cache."""

    version: str
    precache: tuple[str, ...]


def build_shell(app: App) -> Shell:
    static = Path(app.static_folder or "")
    templates = Path(app.root_path) / (app.template_folder or "templates")
    prefix = app.static_url_path or "/static"
    stored = sorted(
        p
        for pattern in ("css/*.css", "js/**/*.js", "vendor/*.js", "icons/*")
        for p in static.glob(pattern)
        if p.is_file()
    )
    digest = hashlib.sha256(json.dumps(manifest(prefix), sort_keys=True).encode())
    for root in (static, templates):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(root.parent)}\0".encode())
            digest.update(path.read_bytes())
    precache = (
        OFFLINE_PAGE,
        MANIFEST_PATH,
        *(f"{prefix}/{p.relative_to(static).as_posix()}" for p in stored),
    )
    return Shell(version=digest.hexdigest()[:16], precache=precache)


@bp.record_once
def _build_shell(state: BlueprintSetupState) -> None:
    state.app.extensions[EXTENSION] = build_shell(state.app)


def current_shell() -> Shell:
    shell: Shell = current_app.extensions[EXTENSION]
    return shell


@bp.app_context_processor
def web_app_terms() -> dict[str, object]:
    return {
        "theme_color": THEME_COLOR,
        "app_icons": {"apple": APPLE_TOUCH_ICON, "svg": ICON_SOURCE, "favicon": FAVICON},
    }


@bp.get(MANIFEST_PATH)
def web_app_manifest() -> Response:
    body = json.dumps(manifest(current_app.static_url_path or "/static"), indent=2)
    return Response(body, mimetype="application/manifest+json")


@bp.get("/sw.js")
def service_worker() -> Response:
    """Served from the root so its scope is the whole site; always revalidated, so a deploy's
    new version reaches browsers at their next page load."""
    shell = current_shell()
    body = render_template(
        "sw.js", version=shell.version, precache=shell.precache, offline_page=OFFLINE_PAGE
    )
    return Response(body, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.get(OFFLINE_PAGE)
def offline() -> str:
    """What a page load shows when the network is gone (the service worker serves it from its
    cache). Nothing of the player's in it: it is stored on the device."""
    return render_template("offline.html")
