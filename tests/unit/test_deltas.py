"""The collector's messages read back into the very states they were made from, whatever
the sequence of polls, with records sent only when they changed (pbxtui.broker.deltas)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pbxtui.broker.deltas import DeltaMessage, Publisher, Replica
from pbxtui.model.events import Change, ChangeKind, EngineUpdate
from pbxtui.model.records import Call, CallState, Extension, PbxHealth
from pbxtui.model.state import PbxState, ResourceState
from pbxtui.model.vocabulary import Action, Capabilities, Resource

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CAPS = Capabilities(frozenset({Resource.CALLS, Resource.EXTENSIONS}), frozenset({Action.HANGUP}))


def _call(n: int, state: int) -> Call:
    return Call(
        pbx="hq",
        id=f"c{n}",
        channel=f"SIP/{n}-0001",
        caller=f"05{n:08d}",
        state=list(CallState)[state % len(CallState)],
        duration=n % 90,
        observed_at=T0,
    )


# A poll: which calls are up (by number) and each one's state; extensions fixed or not.
polls = st.lists(
    st.tuples(
        st.dictionaries(st.integers(0, 40), st.integers(0, 3), max_size=30),
        st.booleans(),
        st.booleans(),  # the order shuffled (reversed)
    ),
    min_size=1,
    max_size=8,
)


def _published(
    steps: list[tuple[dict[int, int], bool, bool]], limit: int
) -> tuple[list[PbxState], list[list[DeltaMessage]]]:
    publisher = Publisher(records_per_message=limit)
    states: list[PbxState] = []
    sent: list[list[DeltaMessage]] = []
    calls: dict[int, Call] = {}
    extensions = (Extension(pbx="hq", id="201", number="201"),)
    for seq, (up, ext_changed, reverse) in enumerate(steps, 1):
        # A call unchanged is the same object from poll to poll, as drivers keep them.
        calls = {
            n: calls[n] if n in calls and calls[n] == _call(n, s) else _call(n, s)
            for n, s in up.items()
        }
        records = tuple(calls[n] for n in sorted(calls, reverse=reverse))
        if ext_changed:
            extensions = (Extension(pbx="hq", id="201", number="201", name=f"v{seq}"),)
        at = T0 + timedelta(seconds=seq)
        state = PbxState(
            name="hq",
            kind="pbxcloud",
            capabilities=CAPS,
            health=PbxHealth(pbx="hq", kind="pbxcloud", latency_ms=seq),
            resources={
                Resource.CALLS: ResourceState(records=records, fetched_at=at, latency_ms=seq),
                Resource.EXTENSIONS: ResourceState(records=extensions, fetched_at=at),
            },
        )
        change = Change(at=at, pbx="hq", kind=ChangeKind.CALL_STARTED, text=f"poll {seq}")
        sent.append(publisher.delta(EngineUpdate("hq", Resource.CALLS, state, (change,), seq)))
        states.append(state)
    return states, sent


def _wire(message: DeltaMessage) -> DeltaMessage:
    return DeltaMessage.model_validate_json(message.model_dump_json())


@settings(max_examples=150, deadline=None)
@given(steps=polls, limit=st.integers(1, 12))
def test_every_update_reads_back_as_it_was(
    steps: list[tuple[dict[int, int], bool, bool]], limit: int
) -> None:
    states, sent = _published(steps, limit)
    replica = Replica()
    for state, messages in zip(states, sent, strict=True):
        assert all(len(m.calls) + len(m.extensions) <= limit for m in messages)
        assert [m.more for m in messages] == [True] * (len(messages) - 1) + [False]
        updates = [replica.apply(_wire(m)) for m in messages]
        assert updates[:-1] == [None] * (len(messages) - 1)
        update = updates[-1]
        assert update is not None
        assert update.state.resources == state.resources
        assert update.state.health == state.health
        assert update.state.capabilities == state.capabilities
        assert [c.text for c in update.changes] == [f"poll {update.seq}"]


def test_an_unchanged_call_is_not_sent_again_and_stays_the_same_object() -> None:
    steps = [
        ({n: 0 for n in range(10)}, False, False),
        ({**{n: 0 for n in range(10)}, 3: 1}, False, False),
    ]
    _, sent = _published(steps, 1000)
    replica = Replica()
    first = replica.apply(_wire(sent[0][0]))
    second = replica.apply(_wire(sent[1][0]))
    assert first is not None and second is not None
    assert [c.id for c in sent[1][0].calls] == ["c3"]
    assert sent[1][0].extensions == []
    before, after = first.state.calls(), second.state.calls()
    assert [a is b for a, b in zip(before, after, strict=True)].count(False) == 1
    assert second.state.records(Resource.EXTENSIONS) is first.state.records(Resource.EXTENSIONS)


def test_a_console_joining_midway_starts_at_a_keyframe() -> None:
    steps = [({1: 0}, False, False), ({1: 1, 2: 0}, False, False), ({2: 1}, False, False)]
    states, sent = _published(steps, 1000)
    publisher = Publisher()
    publisher.delta(EngineUpdate("hq", Resource.CALLS, states[0], (), 1))
    keyframe = publisher.keyframe(states[1], seq=2)
    replica = Replica()
    assert replica.apply(_wire(sent[1][0])) is None  # a delta before any keyframe: skipped
    joined = replica.apply(_wire(keyframe[0]))
    assert joined is not None and joined.state.resources == states[1].resources
    later = replica.apply(_wire(sent[2][0]))
    assert later is not None and later.state.resources == states[2].resources
