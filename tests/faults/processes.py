"""Real processes for the fault tests: the Procfile's commands, engines, private servers.

Every process writes its output to a log file under the test's temporary directory, so a failing
assertion can show what the process said. ``Processes`` stops whatever a test started, even when the
test fails half-way. Private PostgreSQL and Redis servers run on free ports in temporary
directories: a test that stops or restarts a server never touches the shared ones.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("MARTINGALE_PG_BIN", "/usr/lib/postgresql/15/bin"))
T = TypeVar("T")

# Short lifetimes so that assets settle within a test; cheap password hashes; no request budgets
# (one address registers and trades for many players). The rest is the production configuration.
FAULT_ENV = {
    "SECRET_KEY": "fault-tests-secret-not-for-production",
    "INITIAL_CASH": "100000",
    "MARTINGALE_POOL_SIZE": "4",
    "MARTINGALE_TICK_SECONDS": "1",
    "MARTINGALE_LIFETIME_MIN_SECONDS": "8",
    "MARTINGALE_LIFETIME_MAX_SECONDS": "14",
    "MARTINGALE_LIFETIME_MEAN_SECONDS": "10",
    "MARTINGALE_WORTHLESS_PRICE": "0.01",
    "MARTINGALE_PASSWORD_HASH": "scrypt:1024:8:1",
    "RATELIMIT_ENABLED": "false",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], T], timeout: float, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of an app process: this one's, the fault configuration, the database."""
    skip = ("WEB_CONCURRENCY", "REDIS_URL", "PYTHONTRACEMALLOC")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(FAULT_ENV, DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def procfile() -> dict[str, str]:
    """The Procfile's process types and their commands."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(
        (name.strip(), command.strip())
        for name, _, command in (line.partition(":") for line in lines if ":" in line)
    )


def command_of(line: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """A Procfile command as argv (leading NAME=value words go to the environment)."""
    words = shlex.split(line)
    env = dict(env)
    while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    program = BIN / words[0]
    return [str(program) if program.exists() else words[0], *words[1:]], env


class Proc:
    """One child process with its output in ``log``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return f"--- {self.name} (pid {self.pid}) ---\n" + "\n".join(
            self.output().splitlines()[-lines:]
        )

    def kill9(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL to the whole session (workers included) if it lingers."""
        if self.alive():
            self.popen.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(30)


def children_of(pid: int) -> list[int]:
    """The live child processes of ``pid`` (gunicorn's workers, for its master)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in task.read_text().split()]
    return found


class Processes:
    """What a test started; ``stop_all`` ends it all (the fixture calls it)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Proc] = []
        self.cleanups: list[Callable[[], object]] = []

    def on_stop(self, cleanup: Callable[[], object]) -> None:
        """Run ``cleanup`` (stop a load generator, a client) before the processes stop."""
        self.cleanups.append(cleanup)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, argv, env, self.log_dir / f"{name}-{len(self.started)}.log")
        self.started.append(proc)
        return proc

    def procfile(self, kind: str, env: dict[str, str]) -> Proc:
        """Start the Procfile's ``kind`` command exactly as written there."""
        argv, env = command_of(procfile()[kind], env)
        return self.start(kind, argv, env)

    def flask(self, name: str, env: dict[str, str], *args: str) -> Proc:
        return self.start(name, [str(BIN / "flask"), "--app", "martingale", *args], env)

    def tails(self) -> str:
        return "\n".join(p.tail() for p in self.started)

    def stop_all(self) -> None:
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        for proc in reversed(self.started):
            proc.stop()


def production_env(
    processes: Processes, env: dict[str, str], workers: int = 2
) -> tuple[dict[str, str], PrivateRedis | None]:
    """The Procfile's environment, and its Redis if it has one. Where the app reads REDIS_URL
    (several web workers, the engine its own process), a private redis-server carries its messages
    and ``workers`` web workers serve; otherwise one worker, with the engine inside it."""
    from martingale import config

    if "REDIS_URL" not in config.DEFAULTS:
        return env | {"WEB_CONCURRENCY": "1"}, None
    if PrivateRedis.binary() is None:
        if os.environ.get("CI") == "true":
            raise AssertionError("CI: redis-server is needed for the Procfile's topology")
        pytest.skip("redis-server is not installed (the Procfile's topology needs it)")
    redis = PrivateRedis(processes.log_dir, processes)
    redis.start()
    return env | {"REDIS_URL": redis.url, "WEB_CONCURRENCY": str(workers)}, redis


def worker_serving(client_port: int, workers: list[int]) -> int | None:
    """Which of ``workers`` holds the server side of the TCP connection from ``client_port``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == client_port:  # remote address: the client
            inodes.add(fields[9])
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes:
                    return pid
    return None


def start_topology(processes: Processes, env: dict[str, str]) -> None:
    """The Procfile: ``release`` (migrate) to completion, then ``web``, and ``engine`` if listed."""
    kinds = procfile()
    argv, release_env = command_of(kinds["release"], env)
    done = subprocess.run(
        argv, cwd=ROOT, env=release_env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    processes.procfile("web", env)
    if "engine" in kinds:
        processes.procfile("engine", env)


def run_flask(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a short flask CLI command (reconcile, verify, db upgrade) to completion."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", "martingale", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_ready(url: str, timeout: float, procs: Processes) -> None:
    def ready() -> bool:
        try:
            return requests.get(f"{url}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(f"{url}/readyz to answer 200", ready, timeout, interval=0.1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{procs.tails()}") from None


def plain_url(url: str) -> str:
    """A libpq URL for psycopg from the app's SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own: initdb in a temporary directory, trust auth, a
    free port on 127.0.0.1, no fsync (a process crash keeps what the kernel holds).

    PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user (Debian's
    server package creates it) and its commands run through ``runuser``.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="martingale-pg-"))
        self.data, self.sockets, self.log = self.root / "data", self.root / "run", self.root / "log"
        self.port = free_port()
        self.sockets.mkdir()
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam(os.environ.get("MARTINGALE_PG_USER", "postgres"))
            for path in (self.root, self.sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", owner.pw_name, "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
                  "-E", "UTF8", "--locale=C", timeout=120)  # fmt: skip

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()

    def _run(self, program: str, *args: str, timeout: float = 90, check: bool = True) -> int:
        done = subprocess.run(
            [*self._as, str(PG_BIN / program), *args], capture_output=True, text=True,
            timeout=timeout, cwd=self.root,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(f"{program} {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.returncode

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockets} -c fsync=off "
            "-c full_page_writes=off -c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False) == 0

    def remove(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        with psycopg.connect(plain_url(self.url()), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class PrivateRedis:
    """A redis-server of this test's own on a free port, with nothing persisted."""

    def __init__(self, directory: Path, processes: Processes) -> None:
        self.directory, self.processes = directory, processes
        self.port = free_port()
        self.proc: Proc | None = None

    @staticmethod
    def binary() -> str | None:
        return shutil.which("redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary() or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory)]  # fmt: skip
        self.proc = self.processes.start("redis", argv, dict(os.environ))
        wait_for("redis to answer PING", self.answers, 15)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill9()
