"""Fault tests run real processes on PostgreSQL; what a test started is stopped when it ends, and
the logs of those processes are printed when it fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .processes import Processes


@pytest.fixture
def backend() -> str:
    """Every fault test is about PostgreSQL (and Redis): no SQLite run."""
    return "postgresql"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def processes(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
        if request.node.stash.get(FAILED, False):
            print(procs.tails())
