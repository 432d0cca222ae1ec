"""The vendor-neutral live scenario: deterministic, lively, and reacting to actions."""

from __future__ import annotations

from pbxtui.sim.scenario import CallPhase, LegState, Scenario, ScenarioSpec


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def quiet(**kwargs: object) -> Scenario:
    spec = ScenarioSpec(live=False, warmup_seconds=0, stuck_call_seconds=None, **kwargs)  # type: ignore[arg-type]
    return Scenario(spec, clock=Clock())


def test_same_seed_same_clock_same_pbx() -> None:
    a = Scenario(ScenarioSpec(seed=5), clock=Clock())
    b = Scenario(ScenarioSpec(seed=5), clock=Clock())
    assert [(c.caller, c.callee, c.phase) for c in a.calls.values()] == [
        (c.caller, c.callee, c.phase) for c in b.calls.values()
    ]
    c = Scenario(ScenarioSpec(seed=6), clock=Clock())
    assert [x.caller for x in a.calls.values()] != [x.caller for x in c.calls.values()]


def test_live_scenario_has_calls_and_a_stuck_one() -> None:
    s = Scenario(ScenarioSpec(seed=2), clock=Clock())
    assert len(s.calls) >= 3
    oldest = max(s.now - call.started for call in s.calls.values())
    assert oldest >= 2 * 3600


def test_calls_end_and_arrive_over_time() -> None:
    clock = Clock()
    s = Scenario(ScenarioSpec(seed=3, stuck_call_seconds=None), clock=clock)
    before = set(s.calls)
    clock.t += 600
    s.advance()
    after = set(s.calls)
    assert before - after, "some calls ended"
    assert after - before, "new calls arrived"


def test_hangup_removes_the_call() -> None:
    s = quiet()
    call = s.originate("201", "0501234567", answer_after=0)
    assert call is not None
    s.now += 0  # the first leg rings until the next step
    s.clock.t += 2  # type: ignore[attr-defined]
    s.advance()
    assert s.extension_state("201") == "busy"
    assert s.hangup_channel(call.legs[0].channel)
    assert call.id not in s.calls
    assert s.extension_state("201") == "idle"
    assert not s.hangup_channel("SIP/nope-0000")


def test_blind_transfer_rings_the_destination() -> None:
    s = quiet()
    call = s.originate("201", "0501234567", answer_after=0)
    assert call is not None
    s.clock.t += 10  # type: ignore[attr-defined]
    s.advance()
    trunk = call.legs[1]
    assert s.transfer(trunk.channel, "205")
    assert call.phase is CallPhase.RINGING and call.extension == "205"
    assert s.extension_state("201") == "idle"
    assert s.extension_state("205") == "ringing"


def test_attended_transfer_consult_then_complete() -> None:
    s = quiet()
    call = s.originate("201", "0501234567", answer_after=0)
    assert call is not None
    s.clock.t += 10  # type: ignore[attr-defined]
    s.advance()
    own = call.leg_of("201")
    assert own is not None
    consult = s.attended_transfer(own.channel, "206")
    assert consult is not None and call.phase is CallPhase.HELD
    s.clock.t += 10  # type: ignore[attr-defined]
    s.advance()
    assert consult.legs[-1].state is LegState.UP
    # The transferer hangs up: the held caller is connected to 206.
    assert s.hangup_channel(own.channel)
    assert consult.id not in s.calls
    assert call.phase is CallPhase.UP and call.extension == "206"
    assert s.extension_state("201") == "idle" and s.extension_state("206") == "busy"


def test_attended_transfer_cancel_returns_to_caller() -> None:
    s = quiet()
    call = s.originate("201", "0501234567", answer_after=0)
    assert call is not None
    s.clock.t += 10  # type: ignore[attr-defined]
    s.advance()
    own = call.leg_of("201")
    assert own is not None
    consult = s.attended_transfer(own.channel, "206")
    assert consult is not None
    assert s.hangup_channel(consult.legs[-1].channel)
    assert call.phase is CallPhase.UP and call.id in s.calls


def test_pause_and_unpause_agent() -> None:
    s = quiet()
    agent = s.agents[0]
    assert s.pause(agent.extension, agent.queue_id, "Lunch")
    assert s.agent_state(agent) == "paused" and agent.pause_reason == "Lunch"
    assert agent.paused_since == s.now
    assert s.unpause(agent.extension, None)
    assert s.agent_state(agent) != "paused"
    assert not s.pause("999", None, "x")


def test_click2call_first_leg_never_answers() -> None:
    s = quiet()
    call = s.originate("203", "0501234567", answer_after=None)
    assert call is not None
    s.clock.t += 60  # type: ignore[attr-defined]
    assert not s.first_leg_answered(call)
    s.cancel(call)
    assert s.extension_state("203") == "idle"


def test_warmup_runs_its_whole_length() -> None:
    """Random events during warm-up must not jump the clock to now (they once did)."""
    clock = Clock()
    s = Scenario(ScenarioSpec(seed=11, stuck_call_seconds=None), clock=clock)
    assert s.now == clock.t
    paused = [a.paused_since for a in s.agents if a.paused and a.paused_since is not None]
    assert paused and min(paused) < clock.t - 60
    assert min(call.started for call in s.calls.values()) < clock.t - 120
