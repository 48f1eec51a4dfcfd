"""The phone apps' side of the server: deep-link pages, the /.well-known files that hand /asset and
/proof links to the apps, and the bundled shell the apps ship (web/shell.py)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from martingale import create_app
from martingale.cli import mobile_shell_command
from martingale.game import game_of
from martingale.web.shell import ShellError, build_shell, server_origin

from .helpers import make_config

FINGERPRINT = ":".join(["AB"] * 32)


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def linked(database_url):
    app = create_app(
        make_config(
            database_url,
            MARTINGALE_IOS_APP_IDS=("ABCDE12345.com.martingale.app",),
            MARTINGALE_ANDROID_PACKAGE="com.martingale.app",
            MARTINGALE_ANDROID_CERT_SHA256=(FINGERPRINT,),
        )
    )
    yield app.test_client()
    game_of(app).database.dispose()


def test_the_well_known_files_name_the_configured_apps_and_paths(linked) -> None:
    apple = linked.get("/.well-known/apple-app-site-association")
    assert apple.status_code == 200 and apple.mimetype == "application/json"
    assert apple.get_json() == {
        "applinks": {
            "details": [
                {
                    "appIDs": ["ABCDE12345.com.martingale.app"],
                    "components": [{"/": "/asset/*"}, {"/": "/proof/*"}],
                }
            ]
        }
    }
    android = linked.get("/.well-known/assetlinks.json")
    assert android.status_code == 200 and android.mimetype == "application/json"
    [statement] = android.get_json()
    assert statement["relation"] == ["delegate_permission/common.handle_all_urls"]
    assert statement["target"] == {
        "namespace": "android_app",
        "package_name": "com.martingale.app",
        "sha256_cert_fingerprints": [FINGERPRINT],
    }


def test_without_app_settings_there_are_no_well_known_files(app) -> None:
    client = app.test_client()
    assert client.get("/.well-known/apple-app-site-association").status_code == 404
    assert client.get("/.well-known/assetlinks.json").status_code == 404


def test_an_asset_link_needs_a_login_and_a_proof_page_does_not(app) -> None:
    client = app.test_client()
    r = client.get("/asset/ABC")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = client.get("/proof/7")
    assert page.status_code == 200
    assert 'src="/static/js/proof.js"' in page.get_data(as_text=True)
    assert client.get("/proof/not-a-number").status_code == 404


def test_the_shell_names_its_server_and_carries_the_sites_policy(app, tmp_path) -> None:
    out = tmp_path / "www"
    build_shell(app, out, "https://play.example/")
    index = (out / "index.html").read_text()
    assert '<meta name="martingale-server" content="https://play.example">' in index
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', index)
    assert policy is not None
    text = policy.group(1).replace("&#39;", "'")
    assert "script-src 'self';" in text
    assert "connect-src 'self' https://play.example wss://play.example;" in text
    # built once for everybody: no CSRF token, no service worker, the apps' own sign-in
    assert "csrf-token" not in index and "pwa.js" not in index
    assert 'id="shell-login"' in index
    assert "<script>" not in index  # no inline script, as on the site
    assert (out / "proof.html").exists()
    assert (out / "static" / "js" / "native.js").exists()


@pytest.mark.parametrize(
    "url",
    ["ftp://play.example", "http://play.example", "https://play.example/game", "play.example"],
)
def test_the_shell_refuses_a_server_it_could_not_safely_reach(url) -> None:
    with pytest.raises(ShellError):
        server_origin(url)


def test_a_local_server_may_be_plain_http() -> None:
    assert server_origin("http://10.0.2.2:5000") == "http://10.0.2.2:5000"


def test_the_mobile_shell_command_writes_the_folder(app, tmp_path) -> None:
    out = tmp_path / "www"
    runner = CliRunner()
    with app.app_context():
        result = runner.invoke(
            mobile_shell_command, ["--server-url", "https://play.example", "--out", str(out)]
        )
    assert result.exit_code == 0, result.output
    assert (out / "index.html").exists()
    with app.app_context():
        refused = runner.invoke(
            mobile_shell_command, ["--server-url", "http://play.example", "--out", str(out)]
        )
    assert refused.exit_code == 2 and "https" in refused.output
