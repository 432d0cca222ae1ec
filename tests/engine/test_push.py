"""What the PBXs push, in the live state: over real HTTP to each vendor's simulator, the
engine polling it, and events handed to ``Engine.ingest`` as the webhook receiver does."""

from __future__ import annotations

import math

import anyio

from pbxtui.engine import Engine
from pbxtui.engine.push import PushTracker
from pbxtui.model import CallState, ChangeKind, EngineUpdate, Resource
from pbxtui.model.push import EndStatus, PushEvent, PushKind
from pbxtui.sim import build_simulator
from pbxtui.sim.fleet import running_fleet
from pbxtui.sim.scenario import ScenarioSpec, SimCall

OUTSIDE = "0501234567"


def still(seed: int, **fields: object) -> ScenarioSpec:
    return ScenarioSpec(
        seed=seed,
        live=False,
        warmup_seconds=0,
        stuck_call_seconds=None,
        unregistered_share=0.0,
        **fields,  # type: ignore[arg-type]
    )


def ringing(sim_scenario: object, ext: str) -> SimCall:
    s = sim_scenario
    call = s._new_call(caller=OUTSIDE, callee=ext, direction="inbound", extension=ext)  # type: ignore[attr-defined]
    s._ring(call, ext)  # type: ignore[attr-defined]
    call.ends_at = call.ring_until = call.patience_until = math.inf
    return call


async def test_an_incoming_alert_names_the_caller_of_a_ringing_dialup_extension() -> None:
    sim = build_simulator(
        "dialup", "branch", spec=still(33, extensions=4, first_extension=101, queues=(), flows=())
    )
    ringing(sim.scenario, "102")
    async with running_fleet([sim], poll_interval=60.0) as (config, _, _), Engine(config) as engine:
        (before,) = (await engine.poll_once(pbx="branch"))["branch"].calls()
        assert before.extension == "102" and before.caller != OUTSIDE  # the API never says
        updates: list[EngineUpdate] = []
        engine.subscribe(updates.append)
        event = PushEvent(
            pbx="branch",
            kind=PushKind.CALL_RINGING,
            route="incoming",
            call_id="1796.7",
            caller=OUTSIDE,
            callee="035550000",
            extension="102",
        )
        await engine.ingest(event)
        (after,) = engine.state()["branch"].calls()
        assert (after.caller, after.callee) == (OUTSIDE, "102")
        assert after.unique_id == before.unique_id  # what the poll said stays
        (update,) = updates
        assert update.resource is Resource.CALLS and update.seq > 0
        (said,) = update.changes
        assert said.source == "push" and "ringing at 102" in said.text
        assert engine.state()["branch"].health.pushes == 1


async def test_iexpbx_call_start_shows_before_the_poll_and_hangup_removes_it() -> None:
    sim = build_simulator("iexpbx", "istanbul", spec=still(22, extensions=6, first_extension=100))
    async with running_fleet([sim], poll_interval=60.0) as (config, _, _), Engine(config) as engine:
        await engine.poll_once(pbx="istanbul")
        assert engine.state()["istanbul"].calls() == ()
        start = PushEvent(
            pbx="istanbul",
            kind=PushKind.CALL_STARTED,
            route="call_start",
            call_id="SIP/trunk-000001",
            caller=OUTSIDE,
            callee="101",
        )
        await engine.ingest(start)
        (shown,) = engine.state()["istanbul"].calls()
        assert (shown.id, shown.caller, shown.state) == (
            "SIP/trunk-000001",
            OUTSIDE,
            CallState.RINGING,
        )
        # the next poll does not show it (the simulator has no such call): it stays a
        # moment, then the hang-up is pushed and the row goes at once, never doubled
        await engine.poll_once(pbx="istanbul")
        assert [c.id for c in engine.state()["istanbul"].calls()] == ["SIP/trunk-000001"]
        hangup = PushEvent(
            pbx="istanbul",
            kind=PushKind.CALL_ENDED,
            route="hangup",
            call_id="SIP/trunk-000001",
            status=EndStatus.ANSWERED,
            status_raw="ANSER",
            duration=85,
        )
        await engine.ingest(hangup)
        await engine.ingest(hangup)  # the sender retried
        assert engine.state()["istanbul"].calls() == ()
        (ended,) = engine.push_history("istanbul")
        assert ended.duration == 85


async def test_a_push_wakes_the_poll_of_its_pbx() -> None:
    sim = build_simulator("iexpbx", "istanbul", spec=still(23, extensions=4, first_extension=100))
    fleet = running_fleet([sim], poll_interval=3600.0)
    async with fleet as (config, _, _), Engine(config) as engine:
        polls: list[anyio.Event] = [anyio.Event(), anyio.Event()]

        def on_update(update: EngineUpdate) -> None:
            if update.resource is Resource.CALLS and not update.changes:  # a poll's result
                next(e for e in [*polls, anyio.Event()] if not e.is_set()).set()

        engine.subscribe(on_update)
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.run)
            with anyio.fail_after(10):
                await polls[0].wait()
            event = PushEvent(
                pbx="istanbul",
                kind=PushKind.CALL_STARTED,
                route="call_start",
                call_id="SIP/x-1",
                caller=OUTSIDE,
                callee="101",
            )
            await engine.ingest(event)
            with anyio.fail_after(10):  # an hour-long interval, yet it polls again now
                await polls[1].wait()
            tg.cancel_scope.cancel()


def test_a_push_only_pbx_knows_its_calls_from_its_events() -> None:
    tracker = PushTracker("w1", push_only=True)
    tracker.apply(
        PushEvent(
            pbx="w1",
            kind=PushKind.CALL_RINGING,
            route="caller_data",
            caller=OUTSIDE,
            callee="0210000000",
        )
    )
    (ringing_call,) = tracker.calls()
    assert ringing_call.state is CallState.RINGING and ringing_call.caller == OUTSIDE
    answered = PushEvent(
        pbx="w1",
        kind=PushKind.CALL_ANSWERED,
        route="queue_answer",
        call_id="1234567890.12",
        caller=OUTSIDE,
        agent="ion",
        queue="sales",
    )
    (change,) = tracker.apply(answered)
    assert change.kind is ChangeKind.CALL_ANSWERED
    (up,) = tracker.calls()  # the ringing caller became the answered call
    assert (up.id, up.state, up.callee, up.queue) == ("1234567890.12", CallState.UP, "ion", "sales")
    tracker.apply(
        PushEvent(
            pbx="w1",
            kind=PushKind.CALL_ENDED,
            route="queue_answer_end",
            call_id="1234567890.12",
            caller=OUTSIDE,
        )
    )
    assert tracker.calls() == ()
    missed = tracker.apply(
        PushEvent(
            pbx="w1",
            kind=PushKind.CALL_MISSED,
            route="missed_calls",
            caller="0722000000",
            hold_time=42,
            reason="queue_hangup",
        )
    )
    assert "waited 0:42" in missed[0].text and "queue_hangup" in missed[0].text
    assert [e.kind for e in tracker.history] == [PushKind.CALL_ENDED, PushKind.CALL_MISSED]


def test_what_a_sender_sends_cannot_bloat_the_tracker() -> None:
    tracker = PushTracker("w1", push_only=True)
    for i in range(10_000):
        tracker.apply(
            PushEvent(
                pbx="w1",
                kind=PushKind.CALL_ANSWERED,
                route="dial_answer",
                call_id=f"id{i}",
                caller=f"05{i:08d}",
            )
        )
    assert len(tracker.calls()) <= 2_000


async def test_a_while1_pbx_is_push_only_up_once_heard_from() -> None:
    from pbxtui.config import parse_config

    text = '[webhooks]\ntoken = "t0ken-t0ken"\n\n[[pbx]]\nname = "w1"\nkind = "while1"\n'
    config = parse_config(text, source="<test>")
    async with Engine(config) as engine:
        health = engine.state()["w1"].health
        assert health.push_only and health.state.value == "starting"
        assert await engine.probe("w1") == (
            True,
            "push-only: its events come to the webhook receiver",
            None,
        )
        await engine.ingest(
            PushEvent(pbx="w1", kind=PushKind.CALL_RINGING, route="caller_data", caller=OUTSIDE)
        )
        state = engine.state()["w1"]
        assert state.health.state.value == "ok" and state.health.last_push is not None
        (call,) = state.calls()
        assert call.caller == OUTSIDE and call.state is CallState.RINGING
        await engine.push_refused("w1", "wrong token from 10.0.0.9")
        assert engine.state()["w1"].health.push_refusals == 1
