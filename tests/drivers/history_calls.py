"""Scripted finished calls on a still scenario, for the history tests of every vendor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pbxtui.sim.scenario import Scenario, ScenarioSpec, SimCall

OUTSIDE = "0501234567"
FAR = "0529876543"


def still(seed: int = 5, **overrides: object) -> ScenarioSpec:
    """A scenario where nothing happens by itself: only the scripted calls end."""
    options: dict[str, object] = {
        "seed": seed,
        "live": False,
        "warmup_seconds": 0,
        "stuck_call_seconds": None,
        "extensions": 10,
        "queues": (("630", "Sales"),),
        "flows": (),
    }
    options.update(overrides)
    return ScenarioSpec(**options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scripted:
    call: SimCall
    started: float
    ended: float

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.started, UTC)

    @property
    def unique_id(self) -> str:
        return self.call.linked_id


def finished(
    scenario: Scenario,
    *,
    caller: str,
    callee: str,
    direction: str,
    ago: float,
    ring: float = 5,
    talk: float | None = 60,
    queue: str = "",
    agent: str = "",
) -> Scripted:
    """A call that began ``ago`` seconds before the scenario's now, rang ``ring`` seconds,
    talked ``talk`` (None: never answered) and ended, as the switch records it."""
    extension = callee if callee in scenario.extensions else caller
    call = scenario._new_call(
        caller=caller, callee=callee, direction=direction, extension=extension
    )
    started = float(int(scenario.now - ago))
    call.started = started
    call.legs[0].created = started
    if queue:
        call.queue = queue
    if agent:
        scenario._ring(call, agent)
    elif callee in scenario.extensions:
        scenario._ring(call, callee)
    if talk is not None:
        scenario._answer(call, at=started + ring)
        ended = started + ring + talk
    else:
        ended = started + ring
    saved = scenario.now
    scenario.now = ended
    scenario._end(call)
    scenario.now = saved
    return Scripted(call, started, ended)


def three_calls(scenario: Scenario, base: float = 600) -> dict[str, Scripted]:
    """An answered inbound call, an answered outbound one, and an internal one not answered."""
    numbers = list(scenario.extensions)
    return {
        "inbound": finished(
            scenario, caller=OUTSIDE, callee=numbers[4], direction="inbound", ago=base + 300
        ),
        "outbound": finished(
            scenario, caller=numbers[5], callee=FAR, direction="outbound", ago=base + 200, talk=30
        ),
        "missed": finished(
            scenario,
            caller=numbers[6],
            callee=numbers[7],
            direction="internal",
            ago=base + 100,
            ring=20,
            talk=None,
        ),
    }
