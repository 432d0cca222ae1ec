"""Diffing successive snapshots into events (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pbxtui.engine.changes import diff_health, diff_records
from pbxtui.model import (
    Agent,
    AgentState,
    Call,
    CallState,
    ChangeKind,
    HealthState,
    PbxHealth,
    Peer,
    Resource,
    format_duration,
)

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def call(id: str = "c1", state: CallState = CallState.RINGING, duration: int = 0) -> Call:
    return Call(
        pbx="hq",
        id=id,
        channel=f"SIP/201-{id}",
        caller="0501234567",
        callee="201",
        state=state,
        duration=duration,
        observed_at=T0,
    )


def agent(state: AgentState, reason: str = "") -> Agent:
    return Agent(
        pbx="hq",
        id="a201",
        extension="201",
        name="Alice",
        queue_id="sales",
        state=state,
        pause_reason=reason,
    )


def peer(registered: bool | None, status: str = "") -> Peer:
    return Peer(pbx="hq", id="trunk", name="trunk", registered=registered, status_raw=status)


def test_the_first_snapshot_is_a_baseline_without_events() -> None:
    assert diff_records("hq", Resource.CALLS, None, [call()], at=T0) == []
    assert diff_records("hq", Resource.AGENTS, None, [agent(AgentState.PAUSED)], at=T0) == []


def test_identical_snapshots_produce_nothing() -> None:
    records = [call(state=CallState.UP)]
    assert diff_records("hq", Resource.CALLS, records, list(records), at=T0) == []


def test_call_started_then_answered_then_ended() -> None:
    started = diff_records("hq", Resource.CALLS, [], [call()], at=T0)
    assert [c.kind for c in started] == [ChangeKind.CALL_STARTED]
    assert started[0].text == "hq: call 0501234567 → 201 started (ringing)"
    assert started[0].key == call().key and started[0].pbx == "hq" and started[0].at == T0

    answered = diff_records("hq", Resource.CALLS, [call()], [call(state=CallState.UP)], at=T0)
    assert [c.kind for c in answered] == [ChangeKind.CALL_ANSWERED]
    assert answered[0].text == "hq: call 0501234567 → 201 answered"

    later = T0 + timedelta(seconds=10)
    ended = diff_records(
        "hq", Resource.CALLS, [call(state=CallState.UP, duration=65)], [], at=later
    )
    assert [c.kind for c in ended] == [ChangeKind.CALL_ENDED]
    assert ended[0].text == "hq: call 0501234567 → 201 ended after 1:15"


def test_a_new_call_already_up_is_reported_answered() -> None:
    changes = diff_records("hq", Resource.CALLS, [], [call(state=CallState.UP)], at=T0)
    assert [c.kind for c in changes] == [ChangeKind.CALL_ANSWERED]


def test_a_call_held_then_resumed_is_not_answered_twice() -> None:
    up, held = call(state=CallState.UP), call(state=CallState.HELD)
    assert diff_records("hq", Resource.CALLS, [up], [held], at=T0) == []
    resumed = diff_records("hq", Resource.CALLS, [held], [up], at=T0)
    assert [c.kind for c in resumed] == [ChangeKind.CALL_ANSWERED]


def test_several_calls_are_diffed_by_key() -> None:
    before = [call("c1", CallState.UP), call("c2")]
    after = [call("c2", CallState.UP), call("c3")]
    kinds = {
        (c.key.split("\x1f")[1], c.kind)
        for c in diff_records("hq", Resource.CALLS, before, after, at=T0)
    }
    assert kinds == {
        ("c1", ChangeKind.CALL_ENDED),
        ("c2", ChangeKind.CALL_ANSWERED),
        ("c3", ChangeKind.CALL_STARTED),
    }


def test_agent_paused_with_reason_and_unpaused() -> None:
    paused = diff_records(
        "hq",
        Resource.AGENTS,
        [agent(AgentState.AVAILABLE)],
        [agent(AgentState.PAUSED, "Lunch")],
        at=T0,
    )
    assert [c.kind for c in paused] == [ChangeKind.AGENT_PAUSED]
    assert paused[0].text == "hq: agent 201 (Alice) in sales paused: Lunch"

    unpaused = diff_records(
        "hq", Resource.AGENTS, [agent(AgentState.PAUSED, "Lunch")], [agent(AgentState.BUSY)], at=T0
    )
    assert [c.kind for c in unpaused] == [ChangeKind.AGENT_UNPAUSED]
    assert "unpaused" in unpaused[0].text

    other = diff_records(
        "hq", Resource.AGENTS, [agent(AgentState.AVAILABLE)], [agent(AgentState.BUSY)], at=T0
    )
    assert [(c.kind, c.text) for c in other] == [
        (ChangeKind.AGENT_STATE, "hq: agent 201 (Alice) in sales available → busy")
    ]


def test_peer_dropped_and_registered_but_unknown_is_silent() -> None:
    dropped = diff_records("hq", Resource.PEERS, [peer(True)], [peer(False, "UNREACHABLE")], at=T0)
    assert [(c.kind, c.text) for c in dropped] == [
        (ChangeKind.PEER_DROPPED, "hq: peer trunk dropped (UNREACHABLE)")
    ]
    registered = diff_records("hq", Resource.PEERS, [peer(False)], [peer(True)], at=T0)
    assert [c.kind for c in registered] == [ChangeKind.PEER_REGISTERED]
    assert diff_records("hq", Resource.PEERS, [peer(None)], [peer(False)], at=T0) == []


def test_health_down_and_up_with_the_reason() -> None:
    ok = PbxHealth(pbx="hq", kind="fake", state=HealthState.OK)
    down = PbxHealth(
        pbx="hq", kind="fake", state=HealthState.DOWN, last_error="calls: connection refused"
    )
    went_down = diff_health(ok, down, at=T0)
    assert [c.kind for c in went_down] == [ChangeKind.PBX_DOWN]
    assert "connection refused" in went_down[0].text and went_down[0].text.startswith("hq:")

    came_up = diff_health(down, ok, at=T0)
    assert [c.kind for c in came_up] == [ChangeKind.PBX_UP]
    assert "connection refused" in came_up[0].text

    starting = PbxHealth(pbx="hq", kind="fake")
    assert [c.kind for c in diff_health(starting, down, at=T0)] == [ChangeKind.PBX_DOWN]
    assert diff_health(starting, ok, at=T0) == []
    degraded = ok.model_copy(update={"state": HealthState.DEGRADED})
    assert diff_health(ok, degraded, at=T0) == []
    assert diff_health(down, down, at=T0) == []


def test_format_duration() -> None:
    assert format_duration(5) == "0:05"
    assert format_duration(3725) == "1:02:05"
