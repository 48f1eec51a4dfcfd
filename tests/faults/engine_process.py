"""``flask --app martingale engine``, plus what a fault test needs to watch it and to pause it.

Run as ``python -m tests.faults.engine_process``. It builds the app from the environment and runs
``MarketEngine.run`` as the engine command does, and in addition:

- writes every event the engine publishes, after its commit, as one JSON line to
  ``FAULT_EVENTS`` (so a test sees exactly what each engine published, and when);
- while the file ``FAULT_PAUSE`` exists, holds each step at its start, after the leader lock was
  checked and before the first write (a long GC pause or a descheduled process, at the worst
  moment), and creates ``FAULT_PAUSE.held`` to say it is holding.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from martingale import create_app
from martingale.engine import MarketEngine, StepReport
from martingale.game import game_of


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    game = game_of(create_app())
    events = Path(os.environ["FAULT_EVENTS"]).open("a", buffering=1)  # noqa: SIM115 (process-long)

    def record(name: str, payload: dict[str, Any]) -> None:
        line = {"at": time.time(), "pid": os.getpid(), "name": name, "payload": payload}
        events.write(json.dumps(line, default=str) + "\n")

    game.events.subscribe(record)
    pause = os.environ.get("FAULT_PAUSE")
    if pause:
        real_step = MarketEngine.step

        def step(self: MarketEngine) -> StepReport:
            held = Path(pause + ".held")
            while Path(pause).exists():
                held.touch()
                time.sleep(0.01)
            held.unlink(missing_ok=True)
            return real_step(self)

        MarketEngine.step = step  # type: ignore[method-assign]
    MarketEngine(game).run()


if __name__ == "__main__":
    main()
