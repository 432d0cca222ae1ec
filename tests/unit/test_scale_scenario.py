"""The simulators' scale mode: a steady number of calls, a fixed share changing each second."""

from __future__ import annotations

from pbxtui.sim.scale import ScaleScenario, ScaleSpec
from pbxtui.sim.scenario import CallPhase, ScenarioSpec


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def snapshot(s: ScaleScenario) -> dict[int, CallPhase]:
    return {call.id: call.phase for call in s.calls.values()}


def test_it_starts_at_the_steady_state() -> None:
    s = ScaleSpec(seed=1, calls=400, churn=0.1).scenario(clock=Clock())
    assert len(s.calls) == 400
    answered = sum(1 for c in s.calls.values() if c.phase is CallPhase.UP)
    assert answered > 300  # most calls of a steady state have been answered long ago


def test_calls_stay_near_the_level_while_a_tenth_change_each_second() -> None:
    clock = Clock()
    s = ScaleSpec(seed=2, calls=400, churn=0.1).scenario(clock=clock)
    assert isinstance(s, ScaleScenario)
    changes, seconds = 0, 60
    for _ in range(seconds):
        before = snapshot(s)
        clock.t += 1
        s.advance()
        after = snapshot(s)
        changes += len(before.keys() ^ after.keys())
        changes += sum(1 for k in before.keys() & after.keys() if before[k] != after[k])
        assert 300 <= len(s.calls) <= 500
    churn = changes / seconds / 400
    assert 0.07 <= churn <= 0.13


def test_an_extension_is_on_one_call_at_most() -> None:
    clock = Clock()
    s = ScaleSpec(seed=3, calls=300, extensions=60, extension_share=0.9).scenario(clock=clock)
    for _ in range(30):
        clock.t += 1
        s.advance()
        parties = [leg.party for call in s.calls.values() for leg in call.legs if leg.internal]
        assert len(parties) == len(set(parties))
    assert parties  # the share asked for rings extensions while they are free


def test_it_answers_actions_like_any_scenario() -> None:
    s = ScaleSpec(seed=4, calls=50).scenario(clock=Clock())
    call = next(iter(s.calls.values()))
    assert s.hangup_channel(call.legs[0].channel)
    assert call.id not in s.calls


def test_the_plain_spec_still_builds_the_plain_scenario() -> None:
    s = ScenarioSpec(seed=5).scenario(clock=Clock())
    assert not isinstance(s, ScaleScenario)


def test_without_churn_nothing_arrives_or_ends() -> None:
    clock = Clock()
    s = ScaleSpec(seed=6, calls=100, churn=0.0).scenario(clock=clock)
    ids = set(s.calls)
    clock.t += 120
    s.advance()
    assert set(s.calls) == ids
