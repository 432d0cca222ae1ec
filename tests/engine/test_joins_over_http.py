"""Every pane tells the same truth: the engine's joins over real HTTP to each vendor's simulator.

Each simulator runs a still scenario (frozen clock, nothing happens by itself) with the same
kinds of calls placed on it; what every extension, lamp, agent and queue should say is read
back from the scenario, never from what a driver produced.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from pbxtui import headless
from pbxtui.engine import Engine
from pbxtui.model import AgentState, Call, CallState, PbxState
from pbxtui.sim import SimulatedPbx, build_simulator
from pbxtui.sim.fleet import running_fleet
from pbxtui.sim.scenario import (
    CallPhase,
    LegState,
    Scenario,
    ScenarioSpec,
    SimCall,
    SimLeg,
)

OUTSIDE = "0501234567"


def still(**fields: Any) -> ScenarioSpec:
    """A PBX where nothing happens by itself: only the calls a test places exist."""
    return ScenarioSpec(
        live=False, warmup_seconds=0, stuck_call_seconds=None, unregistered_share=0.0, **fields
    )


def still_fleet() -> list[SimulatedPbx]:
    """One PBX of each vendor, each with its clock frozen."""
    sims = [
        build_simulator("pbxcloud", "hq", spec=still(seed=11, extensions=12), tenant="ACME"),
        build_simulator(
            "iexpbx",
            "istanbul",
            spec=still(seed=22, extensions=12, first_extension=100, queues=(("630", "Sale"),)),
        ),
        build_simulator(
            "dialup",
            "branch",
            spec=still(seed=33, extensions=8, first_extension=101, queues=(), flows=()),
        ),
    ]
    for sim in sims:
        sim.scenario.clock = _frozen_at(sim.scenario.now)
    return sims


def _frozen_at(moment: float) -> Callable[[], float]:
    return lambda: moment


def _still(call: SimCall) -> SimCall:
    call.ends_at = call.ring_until = call.patience_until = math.inf
    return call


def inbound(s: Scenario, ext: str, *, answered: bool) -> SimCall:
    call = s._new_call(caller=OUTSIDE, callee=ext, direction="inbound", extension=ext)
    s._ring(call, ext)
    if answered:
        s._answer(call)
    return _still(call)


def internal(s: Scenario, a: str, b: str) -> SimCall:
    call = s._new_call(caller=a, callee=b, direction="internal", extension=b)
    call.legs[0].state = LegState.UP
    s._ring(call, b)
    s._answer(call)
    return _still(call)


def outbound(s: Scenario, ext: str) -> SimCall:
    call = s._new_call(caller=ext, callee="0309876543", direction="outbound", extension=ext)
    call.legs[0].state = LegState.UP
    call.legs.append(s._leg("0309876543", internal=False, state=LegState.RINGING))
    call.phase = CallPhase.DIALING
    return _still(call)


def queued(s: Scenario, queue_id: str) -> SimCall:
    call = s._new_call(caller=OUTSIDE, callee=queue_id, direction="inbound")
    call.phase, call.queue = CallPhase.QUEUED, queue_id
    return _still(call)


def place_calls(sim: SimulatedPbx) -> None:
    """The same mix on every PBX: answered, ringing, internal, dialling out, queued."""
    s = sim.scenario
    # The mix on the last extensions: the first ones are queue agents, most left free.
    numbers = list(s.extensions)[::-1]
    inbound(s, numbers[0], answered=True)
    inbound(s, numbers[1], answered=False)
    internal(s, numbers[2], numbers[3])
    outbound(s, numbers[4])
    for queue_id in s.queues:
        queued(s, queue_id)
    # An agent on a call and one paused, so queue counts have something to count.
    if s.agents:
        inbound(s, s.agents[-1].extension, answered=True)
        s._pause(s.agents[0].extension, s.agents[0].queue_id, "Lunch")


@asynccontextmanager
async def polled_fleet() -> AsyncIterator[tuple[dict[str, PbxState], dict[str, SimulatedPbx]]]:
    sims = still_fleet()
    for sim in sims:
        place_calls(sim)
    async with running_fleet(sims) as (config, _, _), Engine(config) as engine:
        states = await engine.poll_once()
        assert all(not r.error for s in states.values() for r in s.resources.values()), states
        yield states, {sim.name: sim for sim in sims}


def sim_call_of(sim: SimulatedPbx, call: Call) -> SimCall | None:
    """The scenario's call behind a driver's Call (any vendor names one leg's channel)."""
    return sim.scenario.find_call(call.channel)


# -- extensions and lamps ---------------------------------------------------------------------
async def test_every_extension_on_a_call_names_that_call_on_every_vendor() -> None:
    async with polled_fleet() as (states, sims):
        for name, state in states.items():
            sim = sims[name]
            calls = {c.id: c for c in state.calls()}
            on_call = {n for n in sim.scenario.extensions if sim.scenario.call_of(n)}
            assert len(on_call) >= 5, name  # the placed mix, so the check below has teeth
            for ext in state.extensions():
                found = sim.scenario.call_of(ext.number)
                if found is None:
                    assert ext.call_id == "", (name, ext)
                    continue
                assert ext.call_id in calls, (name, ext)
                assert sim_call_of(sim, calls[ext.call_id]) is found[0], (name, ext)


async def test_every_lamp_names_the_call_of_its_extension() -> None:
    async with polled_fleet() as (states, _):
        for name, state in states.items():
            extensions = {e.number: e for e in state.extensions()}
            lamps = [lamp for lamp in state.lamps() if lamp.extension]
            assert lamps and any(lamp.call_id for lamp in lamps), name
            for lamp in lamps:
                assert lamp.call_id == extensions[lamp.extension].call_id, (name, lamp)
            assert all(lamp.call_id == "" for lamp in state.lamps() if not lamp.extension)


async def test_snapshot_json_shows_the_call_of_every_busy_extension() -> None:
    """The tester's symptom: PBX Cloud's busy extensions had no call in ``snapshot --json``."""
    sims = still_fleet()
    for sim in sims:
        place_calls(sim)
    async with running_fleet(sims) as (config, _, _):
        document = await headless.snapshot(config)
    for pbx in document["pbx"]:
        busy = [e for e in pbx["extensions"] if e["state"] in ("busy", "ringing")]
        call_ids = {c["id"] for c in pbx["calls"]}
        assert busy, pbx["name"]
        assert [e["number"] for e in busy if e["call_id"] not in call_ids] == [], pbx["name"]
        assert all("call_id" in lamp for lamp in pbx["blf"])


async def test_the_other_leg_is_named_by_channel_and_by_unique_id_alike() -> None:
    async with polled_fleet() as (states, sims):
        for name in ("hq", "branch"):  # IEXPBX lists one channel per call: no other leg
            sim, both = sims[name], 0
            for call in states[name].calls():
                if not (call.bridged_channel or call.bridged_unique_id):
                    continue
                own, other = _legs(sim, call)
                assert call.bridged_channel in ("", other.channel), (name, call)
                assert call.bridged_unique_id in ("", other.unique_id), (name, call)
                assert call.unique_id in ("", own.unique_id), (name, call)
                both += bool(call.bridged_channel and call.bridged_unique_id)
            assert both, name


def _legs(sim: SimulatedPbx, call: Call) -> tuple[SimLeg, SimLeg]:
    """The call's own leg (its channel) and the other one, in the scenario."""
    found = sim.scenario.find_leg(call.channel)
    assert found is not None, call
    sim_call, own = found
    other = sim_call.other_leg(own)
    assert other is not None, call
    return own, other


async def test_a_caller_waiting_in_a_queue_is_queued_wherever_the_api_can_tell() -> None:
    async with polled_fleet() as (states, sims):
        for name in ("hq", "istanbul"):
            behind = {c.id: sim_call_of(sims[name], c) for c in states[name].calls()}
            queued = {i for i, sc in behind.items() if sc and sc.phase is CallPhase.QUEUED}
            assert queued, name
            got = {c.id for c in states[name].calls() if c.state is CallState.QUEUED}
            assert got == queued, name


# -- agents and queues ------------------------------------------------------------------------
async def test_agents_are_named_like_their_extensions() -> None:
    async with polled_fleet() as (states, sims):
        for name in ("hq", "istanbul"):
            agents = states[name].agents()
            names = {n: e.name for n, e in sims[name].scenario.extensions.items()}
            assert agents and all(a.name == names[a.extension] for a in agents), name


async def test_queue_counts_agree_with_the_agents_pane() -> None:
    async with polled_fleet() as (states, _):
        for name in ("hq", "istanbul"):
            state = states[name]
            for queue in state.queues():
                agents = [a for a in state.agents() if a.queue_id == queue.id]
                counts = (
                    queue.agents_available,
                    queue.agents_busy,
                    queue.agents_total,
                )
                expected = (
                    _count(agents, AgentState.AVAILABLE),
                    _count(agents, AgentState.BUSY),
                    len(agents),
                )
                assert counts == expected, (name, queue)
            assert any(q.agents_busy for q in state.queues()), name
            assert any(q.agents_available for q in state.queues()), name


async def test_pause_counts_only_where_the_api_can_tell_a_pause() -> None:
    async with polled_fleet() as (states, sims):
        hq = states["hq"]
        paused = {q.id: _count(hq.agents(), AgentState.PAUSED, q.id) for q in hq.queues()}
        assert {q.id: q.agents_paused for q in hq.queues()} == paused
        assert sum(paused.values()) == 1
        # IEXPBX has no pause at all: a count of 0 would claim what its API cannot know.
        assert sims["istanbul"].scenario.agents[0].paused
        assert [q.agents_paused for q in states["istanbul"].queues()] == [None]


def _count(agents: Any, state: AgentState, queue_id: str | None = None) -> int:
    return sum(1 for a in agents if a.state is state and queue_id in (None, a.queue_id))
