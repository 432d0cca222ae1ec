"""The Calls pane's recently ended calls: a call is noted once however many ways its end
was learnt (a PBX's webhook, then the poll that no longer lists it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pbxtui.model import (
    Call,
    CallState,
    Capabilities,
    Change,
    ChangeKind,
    PbxHealth,
    PbxState,
    Resource,
    ResourceState,
)
from pbxtui.ui.recent_calls import RecentCalls

AT = datetime(2026, 12, 1, 23, 35, 7, tzinfo=UTC)


def shown(*calls: Call) -> dict[str, PbxState]:
    return {
        "istanbul": PbxState(
            name="istanbul",
            kind="iexpbx",
            capabilities=Capabilities(frozenset(Resource), frozenset()),
            health=PbxHealth(pbx="istanbul", kind="iexpbx"),
            resources={Resource.CALLS: ResourceState(tuple(calls), fetched_at=AT)},
        )
    }


def ended(call: Call, source: str, at: datetime) -> Change:
    return Change(
        at=at, pbx=call.pbx, kind=ChangeKind.CALL_ENDED, text="ended", key=call.key, source=source
    )


CALL = Call(
    pbx="istanbul",
    id="SIP/trunk-sip-Trunk110-201fd",
    channel="SIP/trunk-sip-Trunk110-201fd",
    caller="0502007826",
    callee="106",
    state=CallState.UP,
    duration=115,
    observed_at=AT,
)


def test_a_call_whose_end_was_pushed_then_polled_is_noted_once() -> None:
    recent = RecentCalls()
    before = shown(CALL)
    pushed = ended(CALL, "push", AT)
    polled = ended(CALL, "poll", AT + timedelta(milliseconds=300))
    recent.note(before, [pushed, polled])  # both in one repaint
    assert [f.call.key for f in recent.calls] == [CALL.key]
    recent.note(before, [polled])  # or the poll's in the next one, the call still shown
    assert [f.call.key for f in recent.calls] == [CALL.key]


def test_other_calls_ending_are_each_noted() -> None:
    channel = "SIP/trunk-sip-Trunk110-201fe"
    other = CALL.model_copy(update={"id": channel, "channel": channel})
    recent = RecentCalls()
    recent.note(shown(CALL, other), [ended(CALL, "poll", AT), ended(other, "poll", AT)])
    assert [f.call.key for f in recent.calls] == [CALL.key, other.key]
