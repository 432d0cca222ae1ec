"""Fixtures shared by every test layer: simulators served over real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from pbxtui.config import Config
from pbxtui.drivers import create_driver
from pbxtui.drivers.base import Driver
from pbxtui.redact import secrets
from pbxtui.sim import SimulatedPbx
from pbxtui.sim.fleet import running_fleet, toml_value


def toml_config(entries: list[dict[str, Any]], settings: dict[str, Any] | None = None) -> str:
    """A TOML config text for these [[pbx]] entries (values: str, bool, number, list)."""
    lines: list[str] = []
    if settings:
        lines.append("[settings]")
        lines += [f"{k} = {toml_value(v)}" for k, v in settings.items()]
        lines.append("")
    for entry in entries:
        lines.append("[[pbx]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
        lines.append("")
    return "\n".join(lines)


@asynccontextmanager
async def served(*sims: SimulatedPbx, **overrides: Any) -> AsyncIterator[Config]:
    """Serve the simulators on loopback; yields a Config pointing at them."""
    async with running_fleet(list(sims), **overrides) as (config, _, _):
        yield config


@asynccontextmanager
async def driver_for(sim: SimulatedPbx, **overrides: Any) -> AsyncIterator[Driver]:
    """A real driver talking real HTTP to this simulator on 127.0.0.1."""
    async with served(sim, **overrides) as config, httpx.AsyncClient() as client:
        yield create_driver(config.pbx[0], client)


@pytest.fixture(autouse=True)
def _forget_secrets() -> None:
    secrets.clear()


@pytest.fixture(autouse=True)
def _own_state_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Audit logs, app logs and pending transfers of every test stay out of the real home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
