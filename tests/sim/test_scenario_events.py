"""The scenario's call events, which the webhook emitters turn into vendors' requests."""

from __future__ import annotations

from collections import Counter

from pbxtui.sim.scenario import (
    CallEvent,
    CallEventKind,
    EndCause,
    Scenario,
    ScenarioSpec,
)


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def run(spec: ScenarioSpec, minutes: int) -> tuple[Scenario, list[CallEvent]]:
    """A scenario on a clock of its own, observed for ``minutes`` of simulated time."""
    clock = Clock()
    scenario = Scenario(spec, clock=clock)
    events: list[CallEvent] = []
    scenario.observers.append(events.append)
    for _ in range(minutes):
        clock.t += 60
        scenario.advance()
    return scenario, events


def summary(events: list[CallEvent]) -> list[tuple[str, int, str, str, str, str]]:
    return [
        (e.kind.value, e.call.id, e.call.caller, e.call.callee, e.extension, str(e.at))
        for e in events
    ]


BUSY = ScenarioSpec(seed=8, calls_per_minute=12.0, stuck_call_seconds=None)


def test_the_same_seed_tells_the_same_events() -> None:
    _, first = run(BUSY, 20)
    _, again = run(BUSY, 20)
    _, other = run(ScenarioSpec(seed=9, calls_per_minute=12.0, stuck_call_seconds=None), 20)
    assert len(first) > 100
    assert summary(first) == summary(again)
    assert summary(first) != summary(other)


def test_observing_changes_nothing_in_the_pbx() -> None:
    """Failed attempts and events have their own random draws and ids: a PBX with
    observers has the very calls, channels and ids of one without."""
    observed, _ = run(BUSY, 20)
    clock = Clock()
    plain = Scenario(BUSY, clock=clock)
    for _ in range(20):
        clock.t += 60
        plain.advance()

    def calls(scenario: Scenario) -> list[tuple[int, str, list[str]]]:
        return [
            (c.id, c.caller, [leg.channel + leg.unique_id for leg in c.legs])
            for c in scenario.calls.values()
        ]

    assert calls(observed) == calls(plain)


def test_each_call_starts_once_and_ends_once() -> None:
    scenario, events = run(BUSY, 30)
    started = Counter(e.call.id for e in events if e.kind is CallEventKind.STARTED)
    ended = Counter(e.call.id for e in events if e.kind is CallEventKind.ENDED)
    assert started and ended
    assert max(started.values()) == 1 and max(ended.values()) == 1
    # Calls up before the observer came (the warm-up's) end without having started for it.
    assert set(ended) - set(started) <= {c for c in ended if c < min(started)}
    for call_id in started:
        assert (call_id in ended) != (call_id in scenario.calls)


def test_ringing_names_the_extension_and_answer_follows() -> None:
    scenario, events = run(BUSY, 10)
    rings = [e for e in events if e.kind is CallEventKind.RINGING]
    assert rings
    assert all(e.extension in scenario.extensions for e in rings)
    answered = {e.call.id for e in events if e.kind is CallEventKind.ANSWERED}
    assert {e.call.id for e in rings if e.call.id not in scenario.calls} <= answered


def test_every_call_ends_for_a_reason() -> None:
    _, events = run(BUSY, 60)
    ends = [e for e in events if e.kind in (CallEventKind.ENDED, CallEventKind.FAILED)]
    causes = Counter(e.call.end_cause for e in ends)
    assert None not in causes
    assert {EndCause.COMPLETED, EndCause.ABANDONED, EndCause.BUSY, EndCause.CONGESTION} <= set(
        causes
    )
    assert EndCause.NO_ANSWER in causes
    for e in ends:
        answered = e.call.answered is not None
        assert (e.call.end_cause is EndCause.COMPLETED) == answered, e.call


def test_failed_attempts_are_never_live_calls() -> None:
    scenario, events = run(BUSY, 60)
    failed = [e for e in events if e.kind is CallEventKind.FAILED]
    assert failed
    for event in failed:
        call = event.call
        assert call.id < 0 and call.id not in scenario.calls
        assert call.direction == "outbound" and call.caller in scenario.extensions
        assert call.end_cause in (EndCause.BUSY, EndCause.CONGESTION, EndCause.NO_ANSWER)
        assert int(call.legs[0].unique_id.split(".")[1]) >= 1_000_000


def test_actions_tell_their_causes() -> None:
    clock = Clock()
    scenario = Scenario(
        ScenarioSpec(live=False, warmup_seconds=0, stuck_call_seconds=None), clock=clock
    )
    events: list[CallEvent] = []
    scenario.observers.append(events.append)
    unanswered = scenario.originate("203", "0501234567", answer_after=None)
    assert unanswered is not None
    scenario.cancel(unanswered)
    talking = scenario.originate("204", "0501234568", answer_after=0)
    assert talking is not None
    clock.t += 10
    scenario.advance()
    assert scenario.hangup_extension("204")
    kinds = [(e.kind, e.call.id) for e in events]
    assert kinds[0] == (CallEventKind.STARTED, unanswered.id)
    assert unanswered.end_cause is EndCause.NO_ANSWER
    assert talking.end_cause is EndCause.COMPLETED
    assert (CallEventKind.ANSWERED, talking.id) in kinds
    # A click2call is told once its legs are its own: the first is the extension's.
    started = next(e for e in events if e.kind is CallEventKind.STARTED and e.call is talking)
    assert started.call.legs[0].party == "204"


def test_queue_share_sends_every_inbound_call_to_a_queue() -> None:
    spec = ScenarioSpec(seed=4, calls_per_minute=12.0, queue_share=1.0, stuck_call_seconds=None)
    _, events = run(spec, 20)
    inbound = [
        e.call for e in events if e.kind is CallEventKind.STARTED and e.call.direction == "inbound"
    ]
    assert inbound and all(call.queue for call in inbound)
