"""The fleets the benchmarks serve, at any scale: what a load server runs and a run expects.

Every fleet is a list of ``FleetMember`` (``pbxtui.sim.fleet``): the same simulators as the
demo, at the sizes the issue's scenarios name. ``noc`` uses the simulators' scale mode
(``pbxtui.sim.scale``): calls kept up at a steady level with a fixed share changing per second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pbxtui.sim.fleet import DEMO_FLEET, FleetMember
from pbxtui.sim.scale import ScaleSpec
from pbxtui.sim.scenario import ScenarioSpec

IEXPBX_EVERY = 4  # one PBX in four is an IEXPBX, the others PBX Cloud (the two with call lists)


@dataclass(frozen=True)
class FleetSize:
    pbxs: int = 20
    calls: int = 10_000
    """Calls over the whole fleet."""
    churn: float = 0.10
    extensions: int = 100
    """Extensions per PBX."""


def _kind(index: int) -> str:
    return "iexpbx" if index % IEXPBX_EVERY == IEXPBX_EVERY - 1 else "pbxcloud"


def _options(kind: str, index: int) -> dict[str, str]:
    return {"tenant": f"T{index:02d}"} if kind == "pbxcloud" else {}


def noc(size: FleetSize) -> list[FleetMember]:
    """Many busy PBXs: ``size.calls`` calls over ``size.pbxs``, ``size.churn`` changing a second."""
    per_pbx = max(1, size.calls // size.pbxs)
    members = []
    for i in range(size.pbxs):
        kind = _kind(i)
        spec = ScaleSpec(
            seed=100 + i,
            calls=per_pbx,
            churn=size.churn,
            extensions=size.extensions,
            first_extension=1000,
        )
        members.append(FleetMember(f"noc{i + 1:02d}", kind, spec, _options(kind, i)))
    return members


def wide(size: FleetSize) -> list[FleetMember]:
    """Many small PBXs (a few calls each), for poll rounds over the whole fleet."""
    members = []
    for i in range(size.pbxs):
        kind = _kind(i)
        spec = ScenarioSpec(
            seed=200 + i,
            extensions=12,
            queues=(("630", "Sales"),),
            flows=(),
            calls_per_minute=4.0,
            warmup_seconds=300,
            stuck_call_seconds=None,
        )
        members.append(FleetMember(f"w{i + 1:02d}", kind, spec, _options(kind, i)))
    return members


def snapshot(size: FleetSize) -> list[FleetMember]:
    """Three simulators, one of each vendor, carrying ``size.calls`` calls between the two
    that list calls (the dialup.php API has none: it is the demo's)."""
    half = max(1, size.calls // 2)
    spec = {"extensions": max(size.extensions, 50), "churn": size.churn}
    branch = next(m for m in DEMO_FLEET if m.kind == "dialup")
    return [
        FleetMember("big1", "pbxcloud", ScaleSpec(seed=301, calls=half, **spec), {"tenant": "BIG"}),
        FleetMember("big2", "iexpbx", ScaleSpec(seed=302, calls=half, **spec), {}),
        branch,
    ]


def demo(size: FleetSize) -> list[FleetMember]:
    """The demo's own four PBXs (the size is ignored)."""
    return list(DEMO_FLEET)


FLEETS: dict[str, Callable[[FleetSize], list[FleetMember]]] = {
    "demo": demo,
    "noc": noc,
    "wide": wide,
    "snapshot": snapshot,
}
