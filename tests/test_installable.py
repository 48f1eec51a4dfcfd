"""The installable web app, over HTTP: the manifest, its icons, the pages' tags, the service worker's
script. What Chromium makes of them is in tests/browser/test_installable.py."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import re
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from martingale.web import pwa

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "martingale" / "static"


@pytest.fixture
def backend() -> str:
    """What the manifest and the worker are does not depend on the database: one is enough."""
    return "sqlite"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def manifest(client) -> dict:
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200
    assert r.mimetype == "application/manifest+json"
    return json.loads(r.get_data(as_text=True))


def png(client, src: str) -> Image.Image:
    r = client.get(src)
    assert r.status_code == 200, src
    assert r.mimetype == "image/png", src
    image = Image.open(io.BytesIO(r.get_data()))
    r.close()
    assert image.format == "PNG", src
    return image


def css_colour(name: str) -> str:
    css = (STATIC / "css" / "app.css").read_text()
    match = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", css)
    assert match, name
    return match.group(1).lower()


def test_the_manifest_describes_a_standalone_app(manifest):
    assert manifest["name"] == "Martingale"
    assert (
        manifest["short_name"] and len(manifest["short_name"]) <= 12
    )  # fits under a launcher icon
    assert manifest["description"]
    assert manifest["start_url"] == "/?source=pwa"
    assert manifest["scope"] == "/" and manifest["id"] == "/"
    assert manifest["display"] == "standalone"


def test_the_manifest_colours_are_the_stylesheets(manifest, client):
    # the OS's title/status bar continues the top bars; the launch screen is the page's background
    assert manifest["theme_color"] == css_colour("panel")
    assert manifest["background_color"] == css_colour("bg")
    page = client.get("/login").get_data(as_text=True)
    assert f'<meta name="theme-color" content="{css_colour("panel")}">' in page


def test_every_manifest_icon_exists_at_its_declared_size(manifest, client):
    declared = {(i["purpose"], i["sizes"]) for i in manifest["icons"]}
    wanted_any = (48, 72, 96, 128, 144, 152, 192, 256, 384, 512)
    assert {("any", f"{s}x{s}") for s in wanted_any} <= declared
    assert {("maskable", "192x192"), ("maskable", "512x512")} <= declared
    for icon in manifest["icons"]:
        assert icon["type"] == "image/png"
        image = png(client, icon["src"])
        width, height = (int(n) for n in icon["sizes"].split("x"))
        assert image.size == (width, height), icon


def test_maskable_icons_keep_the_mark_inside_the_safe_zone(manifest, client):
    """Every mask keeps the central circle of radius 40%: outside it, only the tile's colour."""
    for icon in (i for i in manifest["icons"] if i["purpose"] == "maskable"):
        image = png(client, icon["src"]).convert("RGBA")
        size = image.width
        background = image.getpixel((0, 0))
        assert background[3] == 255, "a maskable icon is opaque to its edges"
        c = (size - 1) / 2
        inside = outside = 0
        for y in range(size):
            for x in range(size):
                mark = image.getpixel((x, y)) != background
                if math.hypot(x - c, y - c) > 0.4 * size:
                    outside += mark
                else:
                    inside += mark
        assert outside == 0, f"{icon['src']}: {outside} pixels of the mark outside the safe zone"
        assert inside > size * size * 0.05, f"{icon['src']}: the mark is missing"


def _make_icons():
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "scripts" / "make_icons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_icons"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_committed_icons_are_the_svg_rendered():
    """Edit icon.svg, run scripts/make_icons.py, commit both: the PNGs never drift from the drawing."""
    make_icons = _make_icons()
    for name, fresh in make_icons.icons(make_icons.load()).items():
        committed = Image.open(STATIC / name)
        assert committed.size == fresh.size, name
        diff = ImageChops.difference(committed.convert("RGBA"), fresh.convert("RGBA"))
        assert max(hi for _, hi in diff.getextrema()) <= 2, f"{name} is stale: run make_icons.py"


def test_pages_link_the_manifest_icons_and_the_ios_tags(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'href="data:' not in page  # the empty favicon placeholder is gone
    assert re.search(r'name="viewport" content="[^"]*viewport-fit=cover', page)
    for tag in (
        '<meta name="apple-mobile-web-app-capable" content="yes">',
        '<meta name="mobile-web-app-capable" content="yes">',
        '<meta name="apple-mobile-web-app-status-bar-style" content="black-translucent">',
        '<meta name="apple-mobile-web-app-title" content="Martingale">',
    ):
        assert tag in page
    apple = re.search(r'<link rel="apple-touch-icon" href="([^"]+)"', page)
    assert apple and png(client, apple.group(1)).size == (180, 180)
    assert png(client, apple.group(1)).mode == "RGB", "iOS paints transparency black"
    icons = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert len(icons) == 2
    for href in icons:
        r = client.get(href)
        assert r.status_code == 200 and r.mimetype in ("image/svg+xml", "image/vnd.microsoft.icon")
        if href.endswith(".ico"):
            assert Image.open(io.BytesIO(r.get_data())).format == "ICO"
        r.close()


def test_the_shortcuts_open_the_board_and_the_portfolio(manifest):
    urls = {s["short_name"]: s["url"] for s in manifest["shortcuts"]}
    assert urls == {"Board": "/#board", "Portfolio": "/#portfolio"}
    js = (STATIC / "js" / "sections.js").read_text()
    for url in urls.values():
        assert f"{url.split('#')[1]}:" in js  # the fragment the dashboard knows


def test_the_service_worker_is_served_from_the_root_and_always_revalidated(client, app):
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "no-cache"
    body = r.get_data(as_text=True)
    shell = app.extensions[pwa.EXTENSION]
    assert json.dumps(shell.version) in body
    # it stores the offline page, the stylesheet, every script, the vendored libraries, the icons
    assert "/offline" in shell.precache and "/static/css/app.css" in shell.precache
    for path in [*STATIC.glob("js/**/*.js"), *STATIC.glob("vendor/*.js"), *STATIC.glob("icons/*")]:
        assert f"/static/{path.relative_to(STATIC).as_posix()}" in shell.precache, path
    # and nothing live
    assert not [u for u in shell.precache if u.startswith(("/api/", "/socket.io"))]
    for url in shell.precache:
        reply = client.get(url)
        assert reply.status_code == 200, url
        reply.close()


def test_the_offline_page_carries_nothing_of_the_player(client, game, app):
    page = client.get("/register").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/register", data={"csrf_token": token, "username": "offline_olga",
                                   "password": "Quartz-Lantern-31", "password2": "Quartz-Lantern-31"})  # fmt: skip
    assert "offline_olga" in client.get("/").get_data(as_text=True)
    offline = client.get("/offline")
    html = offline.get_data(as_text=True)
    assert offline.status_code == 200 and "offline" in html.lower()
    assert "offline_olga" not in html and "csrf" not in html.lower()
    # the worker fetches it without cookies: rendering it must not start a session either
    anonymous = app.test_client().get("/offline")
    assert anonymous.status_code == 200 and "Set-Cookie" not in anonymous.headers


def test_the_cache_version_follows_the_front_end_files(app, tmp_path):
    """A deploy that changes any static file or template gets a new cache; one that does not, not."""
    static, templates = tmp_path / "static", tmp_path / "templates"
    for folder in (static / "css", static / "js", templates):
        folder.mkdir(parents=True)
    (static / "css" / "app.css").write_text("body {}")
    (static / "js" / "main.js").write_text("// one")
    (templates / "base.html").write_text("<!doctype html>")
    app.static_folder = str(static)
    app.root_path = str(tmp_path)
    first = pwa.build_shell(app)
    assert pwa.build_shell(app) == first  # every worker process of a deploy agrees
    (static / "js" / "main.js").write_text("// two")
    second = pwa.build_shell(app)
    assert second.version != first.version
    (templates / "base.html").write_text("<!doctype html><title>x</title>")
    assert pwa.build_shell(app).version not in (first.version, second.version)
    assert "/static/js/main.js" in first.precache
