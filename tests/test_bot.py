"""End to end: the Procfile's web command serves, and scripts/bot.py plays a whole round on it."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(game, database_url, tmp_path):
    """gunicorn exactly as the Procfile runs it (gevent, engine inside), with short lifetimes."""
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        PORT=str(port),
        HOST="127.0.0.1",
        MARTINGALE_POOL_SIZE="4",
        MARTINGALE_LIFETIME_MIN_SECONDS="8",
        MARTINGALE_LIFETIME_MAX_SECONDS="15",
        MARTINGALE_LIFETIME_MEAN_SECONDS="8",
        MARTINGALE_PASSWORD_HASH="scrypt:1024:8:1",
    )
    web = (ROOT / "Procfile").read_text().split("web:", 1)[1].splitlines()[0].split()
    assert web[0] == "gunicorn"
    bin_dir = Path(sys.executable).parent
    log = (tmp_path / "web.log").open("w")
    proc = subprocess.Popen(
        [str(bin_dir / "gunicorn"), *[a.strip('"') for a in web[1:]]],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(
                "the web command never became ready:\n" + (tmp_path / "web.log").read_text()
            )
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
