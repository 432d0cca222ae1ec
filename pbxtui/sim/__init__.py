"""Faithful simulators of each vendor API, served as ASGI apps.

Every simulator renders the same live ``Scenario`` in its vendor's format, with that vendor's
quirks behind switches, and the same ``Faults`` for failure injection. Each vendor module
offers ``build(name, spec=..., faults=..., quirks=...) -> SimulatedPbx``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp

from pbxtui.sim.faults import Faults
from pbxtui.sim.scenario import Scenario, ScenarioSpec

SIMULATOR_MODULES: dict[str, str] = {
    "pbxcloud": "pbxtui.sim.pbxcloud",
    "iexpbx": "pbxtui.sim.iexpbx",
    "dialup": "pbxtui.sim.dialup",
}


@dataclass
class SimulatedPbx:
    """One simulated PBX: its live scenario, its API app, and how a config reaches it."""

    name: str
    kind: str
    scenario: Scenario
    faults: Faults
    app: ASGIApp
    path: str  # the endpoint's path, e.g. "/pbx/proxyapi.php"
    credentials: dict[str, Any]  # config fields other than name/kind/url
    quirks: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def url(self, port: int, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{port}{self.path}"

    def config_entry(self, port: int, **overrides: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "kind": self.kind, "url": self.url(port)}
        entry.update(self.credentials)
        entry.update(overrides)
        return entry


def build_simulator(
    kind: str,
    name: str,
    *,
    spec: ScenarioSpec | None = None,
    faults: Faults | None = None,
    quirks: Any = None,
    **options: Any,
) -> SimulatedPbx:
    module = importlib.import_module(SIMULATOR_MODULES[kind])
    build: Callable[..., SimulatedPbx] = module.build
    return build(name, spec=spec, faults=faults, quirks=quirks, **options)


def available_kinds() -> list[str]:
    kinds = []
    for kind, module in SIMULATOR_MODULES.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        kinds.append(kind)
    return kinds
