"""End to end: scripts/bot.py plays a whole round against real processes.

On SQLite the server is `make run`'s: one gunicorn worker with the engine inside. On PostgreSQL it
is the Procfile's topology: the engine as its own process, the web line with two workers, and a
private Redis carrying the engine's ticks and settlements to the bot's socket.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from .process_helpers import procfile, start, start_redis, start_web

ROOT = Path(__file__).resolve().parent.parent
MAKE_RUN_WEB = (
    'gunicorn --config gunicorn.conf.py "martingale:create_app()"'  # as `make run` runs it
)


@pytest.fixture
def server(game, backend, database_url, tmp_path):
    env = {
        "DATABASE_URL": database_url,
        "MARTINGALE_LIFETIME_MIN_SECONDS": "8",
        "MARTINGALE_LIFETIME_MAX_SECONDS": "15",
        "MARTINGALE_LIFETIME_MEAN_SECONDS": "8",
    }
    started = []
    try:
        if backend == "sqlite":
            proc, url = start_web({**env, "WEB_CONCURRENCY": "1"}, tmp_path, command=MAKE_RUN_WEB)
            started.append(proc)
        else:
            redis, redis_url = start_redis(tmp_path)
            started.append(redis)
            env["REDIS_URL"] = redis_url
            started.append(start("engine", procfile("engine"), env, tmp_path))
            proc, url = start_web({**env, "WEB_CONCURRENCY": "2"}, tmp_path)
            started.append(proc)
        yield url
    finally:
        for proc in reversed(started):
            proc.stop()


def test_the_bot_plays_a_round_and_verifies_the_proof(server):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bot.py"), "--url", server, "--timeout", "60"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replayed=True" in result.stdout
    assert "position(s) settled" in result.stdout
    assert "commitment ok" in result.stdout and "settlement ok" in result.stdout
