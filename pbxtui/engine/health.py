"""Deriving a PBX's health badge from the states of the resources it polls (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from pbxtui.drivers.base import AuthRefused
from pbxtui.model import HealthState, PbxHealth, Resource, ResourceState


def derive_health(
    pbx: str,
    kind: str,
    resources: Mapping[Resource, ResourceState],
    *,
    read_only: bool = False,
    protected: bool = False,
    tls_verified: bool = True,
) -> PbxHealth:
    """The health of one PBX given the latest state of each resource it polls.

    Resources whose first poll has not finished yet are left out: with none finished the
    PBX is STARTING. Then: an authentication refusal, or every finished resource failing,
    is DOWN; some failing is DEGRADED; all fine is OK.
    """
    done = {resource: state for resource, state in resources.items() if not state.pending}
    failing = {resource: state for resource, state in done.items() if state.failing}

    if not done:
        state = HealthState.STARTING
    elif len(failing) == len(done) or any(
        s.error_kind == AuthRefused.label for s in failing.values()
    ):
        state = HealthState.DOWN
    elif failing:
        state = HealthState.DEGRADED
    else:
        state = HealthState.OK

    fetched = [s for s in done.values() if s.fetched_at is not None]
    latest_ok = max(fetched, key=_fetched_at, default=None)
    latest_error = max(failing.items(), key=lambda item: _error_at(item[1]), default=None)
    last_error = f"{latest_error[0]}: {latest_error[1].error}" if latest_error else ""

    return PbxHealth(
        pbx=pbx,
        kind=kind,
        state=state,
        latency_ms=latest_ok.latency_ms if latest_ok else None,
        last_error=last_error,
        last_ok=latest_ok.fetched_at if latest_ok else None,
        consecutive_failures=max((s.failures for s in done.values()), default=0),
        read_only=read_only,
        protected=protected,
        tls_verified=tls_verified,
    )


def _fetched_at(state: ResourceState) -> float:
    return state.fetched_at.timestamp() if state.fetched_at else 0.0


def _error_at(state: ResourceState) -> float:
    return state.error_at.timestamp() if state.error_at else 0.0
