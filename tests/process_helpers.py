"""Real processes for the scale-out tests: a private Redis, and the Procfile's commands as they are.

Every process runs in a session of its own, so stopping it also stops what its shell started. A
private ``redis-server`` on a free port keeps these tests off any shared Redis: Redis pub/sub
channels ignore the database number, so two suites on one server would hear each other's ticks.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# the processes' own settings, on top of the test's: short, cheap, deterministic enough
PROCESS_ENV = {
    "SECRET_KEY": "scale-out-test",
    "MARTINGALE_POOL_SIZE": "4",
    "MARTINGALE_PASSWORD_HASH": "scrypt:1024:8:1",
    "MARTINGALE_ACCESS_LOG": "",
    "HOST": "127.0.0.1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def procfile(name: str) -> str:
    """The command of one Procfile line, exactly as written."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(f"no {name}: line in the Procfile")


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} not within {seconds} s")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start(name: str, command: str, env: dict[str, str], logs: Path) -> Process:
    """Run ``command`` through the shell (as a Procfile runner does), the venv's tools first."""
    full_env = {**os.environ, **PROCESS_ENV, **env}
    full_env["PATH"] = f"{BIN}{os.pathsep}{full_env.get('PATH', '')}"
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name, popen, log)


def start_redis(logs: Path, port: int | None = None) -> tuple[Process, str]:
    """A private redis-server on ``port`` (default: a free one): (process, URL)."""
    server = shutil.which("redis-server")
    if server is None:
        raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
    port = port or free_port()
    command = shlex.join(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    )
    proc = start("redis", command, {}, logs)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: redis_call(url, "PING") in (True, "PONG"), 10, "redis-server")
    except TimeoutError:
        proc.stop()
        raise RuntimeError(f"redis-server did not start:\n{proc.output()}") from None
    return proc, url


def redis_call(url: str, *command: str) -> object:
    import redis

    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
    try:
        return client.execute_command(*command)
    finally:
        client.close()


def start_web(
    env: dict[str, str], logs: Path, name: str = "web", command: str | None = None
) -> tuple[Process, str]:
    """The Procfile's web line (or ``command``) on a free port: (process, URL) once it serves."""
    port = free_port()
    proc = start(name, command or procfile("web"), {**env, "PORT": str(port)}, logs)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{proc.output()}")
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200

    try:
        wait_for(up, 40, name)
    except (TimeoutError, RuntimeError):
        proc.stop()
        raise RuntimeError(f"{name} never served:\n{proc.output()}") from None
    return proc, url


def migrate(env: dict[str, str], logs: Path) -> None:
    """The Procfile's release line."""
    proc = start("release", procfile("release"), env, logs)
    if proc.popen.wait(120) != 0:
        raise RuntimeError(f"release failed:\n{proc.output()}")
