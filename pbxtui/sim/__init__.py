"""Faithful simulators of each vendor API, served as ASGI apps.

Every simulator renders the same live ``Scenario`` in its vendor's format, with that vendor's
quirks behind switches, and the same ``Faults`` for failure injection. Each vendor module
offers ``build(name, spec=..., faults=..., quirks=...) -> SimulatedPbx``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp

from pbxtui.sim.faults import Faults
from pbxtui.sim.scenario import Scenario, ScenarioSpec

if TYPE_CHECKING:
    from pbxtui.sim.hooks import HookEmitter

SIMULATOR_MODULES: dict[str, str] = {
    "pbxcloud": "pbxtui.sim.pbxcloud",
    "iexpbx": "pbxtui.sim.iexpbx",
    "dialup": "pbxtui.sim.dialup",
}
"""The simulators of PBXs with an API to poll."""
PUSH_ONLY_MODULES: dict[str, str] = {"while1": "pbxtui.sim.while1"}
"""The simulators of PBXs that only push (webhooks), with no API to poll."""


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
    hooks: HookEmitter | None = None  # the webhooks it sends, for vendors that send any
    polled: bool = True  # False: a push-only PBX, with no API to poll (its app: control only)

    def url(self, port: int, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{port}{self.path}"

    def config_entry(self, port: int, **overrides: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.polled:
            entry["url"] = self.url(port)
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
    module = importlib.import_module({**SIMULATOR_MODULES, **PUSH_ONLY_MODULES}[kind])
    build: Callable[..., SimulatedPbx] = module.build
    return build(name, spec=spec, faults=faults, quirks=quirks, **options)


def available_kinds(*, push_only: bool = False) -> list[str]:
    """The polled kinds whose simulator is installed (and the push-only ones, if asked)."""
    modules = {**SIMULATOR_MODULES, **(PUSH_ONLY_MODULES if push_only else {})}
    kinds = []
    for kind, module in modules.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        kinds.append(kind)
    return kinds
