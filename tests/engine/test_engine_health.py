"""derive_health: pure, from the per-resource states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pbxtui.drivers.base import AuthRefused
from pbxtui.engine.health import derive_health
from pbxtui.model import HealthState, Resource, ResourceState

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def ok(seconds: float = 0, latency: int = 10) -> ResourceState:
    return ResourceState(fetched_at=T0 + timedelta(seconds=seconds), latency_ms=latency)


def bad(
    error: str = "no answer", kind: str = "timeout", seconds: float = 0, failures: int = 1
) -> ResourceState:
    return ResourceState(
        error=error,
        error_kind=kind,
        error_at=T0 + timedelta(seconds=seconds),
        failures=failures,
    )


def test_starting_before_any_result() -> None:
    health = derive_health("hq", "fake", {Resource.CALLS: ResourceState()})
    assert health.state is HealthState.STARTING
    assert (health.pbx, health.kind, health.last_error, health.last_ok) == ("hq", "fake", "", None)


def test_all_fine_is_ok_with_the_latest_latency_and_last_ok() -> None:
    health = derive_health(
        "hq",
        "fake",
        {Resource.CALLS: ok(5, latency=30), Resource.PEERS: ok(1, latency=900)},
    )
    assert health.state is HealthState.OK
    assert health.latency_ms == 30
    assert health.last_ok == T0 + timedelta(seconds=5)
    assert health.consecutive_failures == 0


def test_pending_resources_are_not_counted() -> None:
    health = derive_health("hq", "fake", {Resource.CALLS: ok(), Resource.PEERS: ResourceState()})
    assert health.state is HealthState.OK


def test_some_failing_is_degraded_with_the_most_recent_error() -> None:
    health = derive_health(
        "hq",
        "fake",
        {
            Resource.CALLS: ok(),
            Resource.PEERS: bad("old error", seconds=1, failures=4),
            Resource.QUEUES: bad("new error", seconds=9, failures=2),
        },
    )
    assert health.state is HealthState.DEGRADED
    assert health.last_error == "queues: new error"
    assert health.consecutive_failures == 4


def test_every_resource_failing_is_down_even_with_stale_records() -> None:
    stale = ok(0).failed("connection refused", "unreachable", at=T0 + timedelta(seconds=3))
    health = derive_health("hq", "fake", {Resource.CALLS: stale, Resource.PEERS: bad()})
    assert health.state is HealthState.DOWN
    assert health.last_error == "calls: connection refused"
    assert health.last_ok == T0


def test_an_auth_refusal_is_down_even_if_other_resources_work() -> None:
    health = derive_health(
        "hq",
        "fake",
        {Resource.CALLS: ok(), Resource.PEERS: bad("bad key", kind=AuthRefused.label)},
    )
    assert health.state is HealthState.DOWN
    assert "bad key" in health.last_error


def test_flags_are_copied() -> None:
    health = derive_health("hq", "fake", {Resource.CALLS: ok()}, read_only=True, protected=True)
    assert health.read_only and health.protected
    plain = derive_health("hq", "fake", {Resource.CALLS: ok()})
    assert not plain.read_only and not plain.protected
