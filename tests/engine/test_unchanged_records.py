"""A record that did not change is the same object from poll to poll, through the whole engine.

At NOC scale a poll lists thousands of calls of which nine in ten did not change; the
drivers hand those back as the records of the poll before (``Call.observed_again``), so
naming, joining, diffing and the panes' rows can skip them by identity. Over real HTTP to
each vendor's simulator, with the scenario's clock moved on between the polls.
"""

from __future__ import annotations

from pbxtui.engine import Engine
from pbxtui.model import STEADY_SECONDS, CallState, PbxState, Resource
from pbxtui.sim.fleet import running_fleet
from pbxtui.sim.scenario import CallPhase
from tests.engine.test_joins_over_http import _frozen_at, place_calls, still_fleet


async def test_unchanged_calls_and_extensions_are_the_records_of_the_poll_before() -> None:
    sims = still_fleet()
    for sim in sims:
        place_calls(sim)
    async with running_fleet(sims) as (config, _, _), Engine(config) as engine:
        first = await engine.poll_once()
        for sim in sims:
            sim.scenario.clock = _frozen_at(sim.scenario.clock() + 1.0)
        second = await engine.poll_once()
        for name in first:
            assert_kept(first[name], second[name])


def assert_kept(before: PbxState, after: PbxState) -> None:
    calls = after.calls()
    assert len(calls) >= 4, after.name  # the placed mix: enough for the checks to bite
    assert after.records(Resource.CALLS) is before.records(Resource.CALLS), after.name
    # Each call's duration still reads as the PBX's: the record kept implies it.
    for call in calls:
        assert call.duration_now(call.observed_at) == call.duration
    busy = [e for e in after.extensions() if e.call_id]
    assert busy, after.name
    old = {e.key: e for e in before.extensions()}
    assert all(old[e.key] is e for e in busy), after.name


async def test_a_call_that_changed_is_a_new_record_and_its_clock_is_kept() -> None:
    sims = still_fleet()
    hq = sims[0]
    place_calls(hq)
    ringing = next(c for c in hq.scenario.calls.values() if c.phase is CallPhase.RINGING)
    async with running_fleet([hq]) as (config, _, _), Engine(config) as engine:
        before = {c.channel: c for c in (await engine.poll_once())["hq"].calls()}
        hq.scenario._answer(ringing)
        # Far enough on that every kept record's duration is STEADY_SECONDS behind or more.
        hq.scenario.clock = _frozen_at(hq.scenario.clock() + 10 * STEADY_SECONDS)
        after = (await engine.poll_once())["hq"].calls()
    answered = next(c for c in after if hq.scenario.find_call(c.channel) is ringing)
    assert answered.state is CallState.UP and answered is not before[answered.channel]
    for call in after:
        # A clock moved further than STEADY_SECONDS is taken: a new record, the PBX's duration.
        assert call is not before[call.channel]
        assert call.duration >= 10 * STEADY_SECONDS
