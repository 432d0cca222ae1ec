"""A hidden event-loop lag probe, for the benchmarks: off unless ``PBXTUI_LOOP_PROBE`` names a file.

While the console runs, a task sleeps ``INTERVAL`` again and again and notes how much later
than asked it woke: the time the event loop was busy elsewhere (a repaint, a parse), during
which no key could be handled. Once a second it appends one JSON line to the file:
``{"t": <unix time>, "n": <samples>, "lags_ms": [<each lag over FLOOR_MS>]}``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

ENV = "PBXTUI_LOOP_PROBE"
INTERVAL = 0.01
FLOOR_MS = 2.0
"""Lags below this are only counted: the timer's own jitter."""


@asynccontextmanager
async def loop_probe() -> AsyncIterator[None]:
    """Run the probe around the body when ``PBXTUI_LOOP_PROBE`` is set; else do nothing."""
    target = os.environ.get(ENV, "")
    if not target:
        yield
        return
    async with anyio.create_task_group() as group:
        group.start_soon(_probe, Path(target))
        try:
            yield
        finally:
            group.cancel_scope.cancel()


async def _probe(path: Path) -> None:
    with path.open("a", encoding="utf-8") as out:
        while True:
            samples, lags = 0, []
            until = time.monotonic() + 1.0
            while time.monotonic() < until:
                asked = time.monotonic()
                await anyio.sleep(INTERVAL)
                lag_ms = (time.monotonic() - asked - INTERVAL) * 1000
                samples += 1
                if lag_ms > FLOOR_MS:
                    lags.append(round(lag_ms, 1))
            out.write(json.dumps({"t": time.time(), "n": samples, "lags_ms": lags}) + "\n")
            out.flush()
