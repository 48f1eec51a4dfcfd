"""Structured logs from the processes an operator runs: the engine's commands and its settlements."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import requests

from martingale.engine import MarketEngine

from .helpers import new_asset, new_player, trade
from .process_helpers import migrate, start_web, wait_for

ROOT = Path(__file__).resolve().parent.parent


def test_an_engine_command_logs_json_lines_only(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'game.db'}",
           "MARTINGALE_POOL_SIZE": "3", "SECRET_KEY": "x" * 40}  # fmt: skip
    env.pop("MARTINGALE_LOG_FORMAT", None)
    flask = [sys.executable, "-m", "flask", "--app", "martingale"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    done = subprocess.run([*flask, "settle-due"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]  # every line is JSON
    births = [x for x in lines if x.get("event") == "birth"]
    assert len(births) == 3 and {"ts", "level", "logger", "msg", "symbol"} <= set(births[0])
    assert "0 assets settled, 3 born" in done.stdout


def test_a_settlement_is_logged_with_its_summary(game, clock, caplog):
    asset = new_asset(game, lifetime_s="5")
    trade(game, new_player(game), "buy", asset.symbol, "2")
    engine = MarketEngine(game)
    with caplog.at_level(logging.INFO, logger="martingale.engine"):
        for _ in range(6):
            clock.advance(1)
            engine.step()
    [record] = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "settlement"]
    fields = record.fields
    assert (fields["symbol"], fields["holders"], fields["final_tick"]) == (asset.symbol, 1, 5)
    assert fields["quantity"] == 2 * 10**8 and fields["value"] > 0


def test_the_web_server_logs_only_json_lines_with_the_request_id(tmp_path):
    """The `make run` topology (gunicorn, one worker, engine inside): gunicorn's own lines, the
    engine's and the app's request lines are all JSON, each request once."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'game.db'}", "MARTINGALE_ACCESS_LOG": "-",
           "WEB_CONCURRENCY": "1", "MARTINGALE_ENGINE": "on"}  # fmt: skip
    migrate(env, tmp_path)
    command = 'gunicorn --config gunicorn.conf.py "martingale:create_app()"'
    web, url = start_web(env, tmp_path, command=command)
    try:
        assert requests.get(f"{url}/readyz", headers={"X-Request-ID": "probe-12345678"},
                            timeout=10).status_code in (200, 503)  # fmt: skip
        wait_for(lambda: "probe-12345678" in web.output(), 10, "the request's log line")
    finally:
        web.stop()
    lines = [json.loads(line) for line in web.output().splitlines() if line.strip()]
    mine = [x for x in lines if x.get("request_id") == "probe-12345678"]
    assert len(mine) == 1 and mine[0]["path"] == "/readyz"
    assert {x["logger"] for x in lines} >= {
        "gunicorn.error",
        "martingale.engine",
        "martingale.access",
    }


def gunicorn_settings(monkeypatch, tmp_path) -> dict:
    """gunicorn.conf.py's names, read as gunicorn reads them (one worker, JSON logs)."""
    import runpy

    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    monkeypatch.setenv("MARTINGALE_ENGINE", "on")
    monkeypatch.delenv("MARTINGALE_LOG_FORMAT", raising=False)
    # the config file sets these two with setdefault: keep them out of this process's environment
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("MARTINGALE_ASYNC_MODE", "gevent")
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_builds_no_access_line_that_nobody_reads(monkeypatch, tmp_path):
    """gunicorn formats its access line whenever a log config is set, then the CRITICAL level
    drops it: the config's logger must not build it at all (5% of a trade's web CPU)."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    settings = gunicorn_settings(monkeypatch, tmp_path)
    cfg = Config()
    cfg.set("logconfig_dict", settings["logconfig_dict"])
    logger_class = settings["logger_class"]
    assert issubclass(logger_class, Logger)

    def no_atoms(*args, **kwargs):
        raise AssertionError("an access line was built")

    monkeypatch.setattr(logger_class, "atoms", no_atoms)
    logger_class(cfg).access(None, None, {}, None)


def test_gunicorns_json_lines_carry_the_traceback(monkeypatch, tmp_path):
    """ "Exception in worker process" alone left an operator guessing why a worker died at boot."""
    settings = gunicorn_settings(monkeypatch, tmp_path)
    formatter = settings["logconfig_dict"]["formatters"]["generic"]["()"]()
    try:
        raise ValueError("the reason")
    except ValueError:
        record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1,
                                   "Exception in worker process", None, sys.exc_info())  # fmt: skip
    line = json.loads(formatter.format(record))
    assert line["msg"] == "Exception in worker process"
    assert "ValueError: the reason" in line["exc"]
