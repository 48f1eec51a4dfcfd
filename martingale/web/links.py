"""Deep links: /asset/SYM and /proof/ID, the pages behind them, and the files under /.well-known/
that let the phone apps open those links themselves (universal links, Android app links).

The wrapper maps the same paths to the same screens (static/js/links.js); docs/mobile.md says how
the apps are told about the domain. Each well-known file exists only when its settings are given:
without an app id there is nothing true to say, and a 404 is what the platforms expect then.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, render_template
from flask_login import login_required

from .blueprint import bp

# the paths the apps may open; everything else stays in the browser
APP_PATHS = ("/asset/*", "/proof/*")


@bp.get("/asset/<symbol>")
@login_required
def asset_link(symbol: str) -> Any:
    """The dashboard with that asset selected (static/js/links.js reads the path)."""
    return render_template("index.html")


@bp.get("/proof/<int:asset_id>")
def proof_page(asset_id: int) -> Any:
    """An asset's commit-reveal proof, public like the API it reads (static/js/proof.js)."""
    return render_template("proof.html")


@bp.get("/.well-known/apple-app-site-association")
def apple_app_site_association() -> Any:
    """Which iOS apps may open this site's /asset and /proof links (MARTINGALE_IOS_APP_IDS)."""
    app_ids = current_app.config["MARTINGALE_IOS_APP_IDS"]
    if not app_ids:
        abort(404)
    components = [{"/": path} for path in APP_PATHS]
    return jsonify(applinks={"details": [{"appIDs": list(app_ids), "components": components}]})


@bp.get("/.well-known/assetlinks.json")
def android_asset_links() -> Any:
    """Which Android app, signed by which keys, may open this site's links (Digital Asset Links)."""
    package = current_app.config["MARTINGALE_ANDROID_PACKAGE"]
    fingerprints = current_app.config["MARTINGALE_ANDROID_CERT_SHA256"]
    if not (package and fingerprints):
        abort(404)
    return jsonify(
        [
            {
                "relation": ["delegate_permission/common.handle_all_urls"],
                "target": {
                    "namespace": "android_app",
                    "package_name": package,
                    "sha256_cert_fingerprints": list(fingerprints),
                },
            }
        ]
    )
