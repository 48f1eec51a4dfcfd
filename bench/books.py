"""`flask reconcile` on a benchmark's database, as the operator would run it: every check printed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def reconcile(database_url: str, say: Callable[[str], None]) -> bool:
    """True when every check of the books passes; the command's report goes to ``say``."""
    env = dict(os.environ, DATABASE_URL=database_url)
    flask = str(Path(sys.executable).parent / "flask")
    result = subprocess.run([flask, "--app", "martingale", "reconcile"], cwd=ROOT, env=env,
                            capture_output=True, text=True)  # fmt: skip
    say(result.stdout.rstrip() + result.stderr.rstrip())
    return result.returncode == 0
