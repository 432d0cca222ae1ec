"""A fleet of simulated PBXs, one of each vendor, for ``--demo``, ``pbxtui sim`` and tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pbxtui.config import Config, parse_config
from pbxtui.sim import SimulatedPbx, available_kinds, build_simulator
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.sim.server import serve


@dataclass(frozen=True)
class FleetMember:
    name: str
    kind: str
    spec: ScenarioSpec
    options: Mapping[str, Any]


DEMO_FLEET: tuple[FleetMember, ...] = (
    FleetMember(
        "hq",
        "pbxcloud",
        ScenarioSpec(seed=11, extensions=30, calls_per_minute=7.0),
        {"tenant": "ACME", "timezone": "Europe/London"},
    ),
    FleetMember(
        "istanbul",
        "iexpbx",
        ScenarioSpec(
            seed=22,
            extensions=16,
            first_extension=100,
            queues=(("630", "Sale"), ("640", "Destek")),
            calls_per_minute=4.0,
            stuck_call_seconds=None,
        ),
        {"timezone": "Europe/Istanbul"},
    ),
    FleetMember(
        "branch",
        "dialup",
        ScenarioSpec(
            seed=33,
            extensions=12,
            first_extension=101,
            queues=(),
            flows=(),
            calls_per_minute=3.0,
            stuck_call_seconds=None,
        ),
        {"first_leg_delay": 4.0, "timezone": "Asia/Jerusalem"},
    ),
    FleetMember(
        "eu",
        "pbxcloud",
        ScenarioSpec(
            seed=44,
            extensions=20,
            first_extension=401,
            queues=(("700", "Helpdesk"),),
            calls_per_minute=4.0,
            stuck_call_seconds=None,
        ),
        {"tenant": "EUROPA", "timezone": "Europe/Berlin"},
    ),
)


def build_fleet(members: Iterable[FleetMember] = DEMO_FLEET) -> list[SimulatedPbx]:
    """The fleet's simulators, skipping vendors whose simulator is not installed."""
    kinds = set(available_kinds())
    return [
        build_simulator(m.kind, m.name, spec=m.spec, **m.options)
        for m in members
        if m.kind in kinds
    ]


def fleet_config_toml(
    sims: Iterable[SimulatedPbx], ports: Mapping[str, int], **overrides: Any
) -> str:
    """A config file's text pointing at the served fleet."""
    lines = [
        "# Written by `pbxtui sim`: these PBXs are simulators on this machine.",
        "# Their credentials are made up for this run only.",
        "",
    ]
    for sim in sims:
        lines.append("[[pbx]]")
        for key, value in sim.config_entry(ports[sim.name], **overrides).items():
            lines.append(f"{key} = {toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def toml_value(value: Any) -> str:
    """A TOML value: booleans, numbers, lists, inline tables, and strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@asynccontextmanager
async def running_fleet(
    sims: list[SimulatedPbx] | None = None,
    *,
    ports: Mapping[str, int] | None = None,
    write_config: Path | None = None,
    **overrides: Any,
) -> AsyncIterator[tuple[Config, list[SimulatedPbx], dict[str, int]]]:
    """Serve the fleet on loopback; yields the Config that reaches it, the sims and ports."""
    sims = sims if sims is not None else build_fleet()
    async with serve({sim.name: sim.app for sim in sims}, ports=ports) as bound:
        text = fleet_config_toml(sims, bound, **overrides)
        if write_config is not None:
            _write_private(write_config, text)
        yield parse_config(text, source=str(write_config or "<demo>")), sims, bound


def _write_private(path: Path, text: str) -> None:
    """A small file only its owner can read: it holds (made-up) credentials."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
