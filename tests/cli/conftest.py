"""A simulator fleet served from a background thread, for commands that run their own loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pbxtui.sim import SimulatedPbx
from pbxtui.sim.fleet import build_fleet, running_fleet


@dataclass
class ThreadedFleet:
    sims: dict[str, SimulatedPbx]
    ports: dict[str, int]
    config_path: Path
    loop: asyncio.AbstractEventLoop

    def call(self, fn: object) -> None:
        """Run ``fn`` in the simulators' loop (scenario state belongs to that thread)."""
        done = threading.Event()

        def run() -> None:
            fn()  # type: ignore[operator]
            done.set()

        self.loop.call_soon_threadsafe(run)
        assert done.wait(5)


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedFleet]:
    monkeypatch.setenv("PBXTUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    config_path = tmp_path / "sim.toml"
    ready = threading.Event()
    stop: asyncio.Event | None = None
    holder: dict[str, ThreadedFleet] = {}

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        sims = build_fleet()
        async with running_fleet(sims, write_config=config_path, timeout=1.0) as (_, _, ports):
            holder["fleet"] = ThreadedFleet(
                {s.name: s for s in sims}, ports, config_path, asyncio.get_running_loop()
            )
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(20), "simulators did not start"
    fleet = holder["fleet"]
    yield fleet
    fleet.loop.call_soon_threadsafe(stop.set)  # type: ignore[union-attr]
    thread.join(10)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures the ``pbxtui`` logger for its process; undo that after each test."""
    import logging

    logger = logging.getLogger("pbxtui")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved
