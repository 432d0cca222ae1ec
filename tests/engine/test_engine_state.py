"""ResourceState and PbxState: immutable snapshots and their typed views."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from pbxtui.model import (
    Agent,
    Call,
    Capabilities,
    Extension,
    PbxHealth,
    PbxState,
    Peer,
    Queue,
    Resource,
    ResourceState,
)

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def test_a_failure_keeps_the_records_and_marks_them_stale() -> None:
    call = Call(pbx="hq", id="c1", channel="SIP/201-1")
    good = ResourceState().succeeded((call,), at=T0, latency_ms=12)
    assert good.ok and not good.stale and good.failures == 0

    bad = good.failed("no answer within 5 s", "timeout", at=T0 + timedelta(seconds=1))
    assert bad.records == (call,)
    assert bad.fetched_at == T0
    assert bad.latency_ms == 12
    assert bad.stale and bad.failing and not bad.ok
    assert (bad.error, bad.error_kind, bad.failures) == ("no answer within 5 s", "timeout", 1)
    assert bad.failed("again", "timeout", at=T0).failures == 2

    recovered = bad.succeeded((), at=T0 + timedelta(seconds=2), latency_ms=5)
    assert recovered.ok and recovered.failures == 0 and recovered.error == ""


def test_a_failure_before_any_success_is_not_stale_but_failing() -> None:
    state = ResourceState().failed("refused", "auth refused", at=T0)
    assert state.failing and not state.stale and not state.pending
    assert ResourceState().pending


def _pbx_state(resources: dict[Resource, ResourceState]) -> PbxState:
    return PbxState(
        name="hq",
        kind="fake",
        capabilities=Capabilities(frozenset(resources), frozenset()),
        health=PbxHealth(pbx="hq", kind="fake"),
        resources=resources,
    )


def test_typed_views_and_age() -> None:
    call = Call(pbx="hq", id="c1", channel="SIP/201-1")
    ext = Extension(pbx="hq", id="201", number="201")
    peer = Peer(pbx="hq", id="t", name="trunk")
    queue = Queue(pbx="hq", id="q")
    agent = Agent(pbx="hq", id="a", extension="201")
    state = _pbx_state(
        {
            Resource.CALLS: ResourceState((call,), fetched_at=T0),
            Resource.EXTENSIONS: ResourceState((ext,), fetched_at=T0),
            Resource.PEERS: ResourceState((peer,), fetched_at=T0),
            Resource.QUEUES: ResourceState((queue,), fetched_at=T0),
            Resource.AGENTS: ResourceState((agent,)),
        }
    )
    assert state.calls() == (call,)
    assert state.extensions() == (ext,)
    assert state.peers() == (peer,)
    assert state.queues() == (queue,)
    assert state.agents() == (agent,)
    assert state.lamps() == ()  # not polled at all
    assert state.age(Resource.CALLS, T0 + timedelta(seconds=3)) == pytest.approx(3.0)
    assert state.age(Resource.AGENTS, T0) is None
    assert state.age(Resource.BLF, T0) is None


def test_snapshots_are_immutable() -> None:
    resources = {Resource.CALLS: ResourceState()}
    state = _pbx_state(resources)
    resources[Resource.PEERS] = ResourceState()  # the caller's dict changing later...
    assert Resource.PEERS not in state.resources  # ...does not change the snapshot
    with pytest.raises(TypeError):
        state.resources[Resource.PEERS] = ResourceState()  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.name = "eu"  # type: ignore[misc]
