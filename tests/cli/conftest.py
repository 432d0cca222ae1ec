"""A simulator fleet served from a background thread, for commands that run their own loop."""

from __future__ import annotations

import asyncio
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pbxtui.sim import SimulatedPbx
from pbxtui.sim.faults import CONTROL_PATH
from pbxtui.sim.fleet import build_fleet, running_fleet, toml_value

T = TypeVar("T")


class RequestLog:
    """ASGI middleware in front of a simulator: every API request that reached it, in order
    (the fault control endpoint excepted). Query keys are lowercased, as the vendors read them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != CONTROL_PATH:
            query = scope.get("query_string", b"").decode("utf-8", "replace")
            self.seen.append({k.lower(): v for k, v in parse_qsl(query, keep_blank_values=True)})
        await self.app(scope, receive, send)

    def count(self, **match: str) -> int:
        """Requests whose query has every ``key=value`` given (case-insensitive values)."""
        return sum(
            all(seen.get(k, "").lower() == v.lower() for k, v in match.items())
            for seen in list(self.seen)
        )


@dataclass
class ThreadedFleet:
    sims: dict[str, SimulatedPbx]
    ports: dict[str, int]
    config_path: Path
    loop: asyncio.AbstractEventLoop
    logs: dict[str, RequestLog] = field(default_factory=dict)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in the simulators' loop (scenario state belongs to that thread)."""
        done = threading.Event()
        result: list[T] = []

        def run() -> None:
            try:
                result.append(fn())
            finally:
                done.set()

        self.loop.call_soon_threadsafe(run)
        assert done.wait(5)
        assert result, "the function raised in the simulators' loop"
        return result[0]

    def write_config(self, path: Path, **changes: dict[str, Any]) -> Path:
        """A copy of the fleet's config with some PBXs changed: ``hq={"protected": True}``."""
        data = tomllib.loads(self.config_path.read_text(encoding="utf-8"))
        lines = []
        for entry in data["pbx"]:
            entry.update(changes.get(entry["name"], {}))
            lines.append("[[pbx]]")
            lines += [f"{key} = {toml_value(value)}" for key, value in entry.items()]
            lines.append("")
        path.write_text("\n".join(lines), encoding="utf-8")
        return path


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every command under test reads and writes under ``tmp_path``, never the user's files:
    returns its XDG state directory (audit log, pending transfers)."""
    for variable in ("PBXTUI_AUDIT_LOG", "PBXTUI_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "state" / "pbxtui"


@pytest.fixture
def fleet_sims() -> Callable[[], list[SimulatedPbx]]:
    """What ``fleet`` serves: the demo fleet (a test module may override this fixture)."""
    return build_fleet


@pytest.fixture
def fleet(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    state_home: Path,
    fleet_sims: Callable[[], list[SimulatedPbx]],
) -> Iterator[ThreadedFleet]:
    monkeypatch.setenv("PBXTUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    config_path = tmp_path / "sim.toml"
    ready = threading.Event()
    stop: asyncio.Event | None = None
    holder: dict[str, ThreadedFleet] = {}

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        sims = fleet_sims()
        logs = {}
        for sim in sims:
            sim.app = logs[sim.name] = RequestLog(sim.app)
        async with running_fleet(sims, write_config=config_path, timeout=1.0) as (_, _, ports):
            holder["fleet"] = ThreadedFleet(
                {s.name: s for s in sims}, ports, config_path, asyncio.get_running_loop(), logs
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
