"""The Heroku description agrees with the Procfile, the config and the Python the package needs."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

from martingale.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_app_json_runs_every_long_lived_procfile_process_and_provisions_what_they_read():
    app = json.loads((ROOT / "app.json").read_text())
    assert set(app["formation"]) == set(procfile()) - {"release"}
    assert all(p["quantity"] >= 1 for p in app["formation"].values())
    plans = {a["plan"].split(":")[0] for a in app["addons"]}
    assert plans == {"heroku-postgresql", "heroku-redis"}  # DATABASE_URL and REDIS_URL
    assert set(app["env"]) <= set(DEFAULTS) | {"WEB_CONCURRENCY"}
    assert app["env"]["MARTINGALE_ENV"]["value"] == "production"
    assert app["env"]["SECRET_KEY"]["generator"] == "secret"


def test_the_pinned_python_is_one_the_package_accepts_and_ci_runs():
    pinned = (ROOT / ".python-version").read_text().strip()
    major, minor = (int(x) for x in pinned.split(".")[:2])
    needs = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert needs.startswith(">=")
    floor = tuple(int(x) for x in needs[2:].split("."))
    assert (major, minor) >= floor
    assert (major, minor) == sys.version_info[:2]  # the suite runs on the Python a deploy gets
