"""Events worth telling the operator, found by diffing successive snapshots (pure).

Only the difference between two snapshots produces events: the first snapshot of a resource
is the baseline and produces none, so starting the console does not flood the event log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from pbxtui.model import (
    Agent,
    AgentState,
    Call,
    CallState,
    Change,
    ChangeKind,
    HealthState,
    PbxHealth,
    Peer,
    Record,
    Resource,
    agent_label,
    call_label,
    format_duration,
)
from pbxtui.redact import scrub

T = TypeVar("T", bound=Record)


def diff_records(
    pbx: str,
    resource: Resource,
    before: Sequence[Record] | None,
    after: Sequence[Record],
    *,
    at: datetime,
    named: Callable[[Call], Call] | None = None,
) -> list[Change]:
    """The events between two snapshots of ``resource``; none when ``before`` is None.
    ``named`` gives a call its parties' names, for the calls an event is about only."""
    if before is None:
        return []
    if resource is Resource.CALLS:
        return _diff_calls(pbx, _only(before, Call), _only(after, Call), at, named or _as_is)
    if resource is Resource.AGENTS:
        return _diff_agents(pbx, _only(before, Agent), _only(after, Agent), at)
    if resource is Resource.PEERS:
        return _diff_peers(pbx, _only(before, Peer), _only(after, Peer), at)
    return []


def diff_health(before: PbxHealth, after: PbxHealth, *, at: datetime) -> list[Change]:
    """``pbx_down`` when a PBX goes DOWN, ``pbx_up`` when it comes back."""
    pbx = after.pbx
    if after.state is HealthState.DOWN and before.state is not HealthState.DOWN:
        reason = after.last_error or "no reason given"
        return [_change(at, pbx, ChangeKind.PBX_DOWN, f"{pbx}: down ({reason})")]
    if before.state is HealthState.DOWN and after.state is not HealthState.DOWN:
        was = f" after: {before.last_error}" if before.last_error else ""
        text = f"{pbx}: up again, {after.state.value}{was}"
        return [_change(at, pbx, ChangeKind.PBX_UP, text)]
    return []


def _only(records: Sequence[Record], cls: type[T]) -> dict[str, T]:
    return {r.key: r for r in records if isinstance(r, cls)}


def _change(at: datetime, pbx: str, kind: ChangeKind, text: str, key: str = "") -> Change:
    return Change(at=at, pbx=pbx, kind=kind, text=scrub(text), key=key)


def _as_is(call: Call) -> Call:
    return call


def _diff_calls(
    pbx: str,
    before: dict[str, Call],
    after: dict[str, Call],
    at: datetime,
    named: Callable[[Call], Call],
) -> list[Change]:
    changes: list[Change] = []
    for key, call in after.items():
        old = before.get(key)
        answered = call.state is CallState.UP and (old is None or old.state is not CallState.UP)
        if old is not None and not answered:
            continue
        # Only the calls an event is about are named and labelled: 10,000 a poll are not.
        label = f"{pbx}: call {call_label(named(call))}"
        if answered:
            changes.append(_change(at, pbx, ChangeKind.CALL_ANSWERED, f"{label} answered", key))
        else:
            state = call.state_raw or call.state.value
            text = f"{label} started ({state})"
            changes.append(_change(at, pbx, ChangeKind.CALL_STARTED, text, key))
    for key, call in before.items():
        if key not in after:
            duration = format_duration(call.duration_now(at))
            text = f"{pbx}: call {call_label(named(call))} ended after {duration}"
            changes.append(_change(at, pbx, ChangeKind.CALL_ENDED, text, key))
    return changes


def _diff_agents(
    pbx: str, before: dict[str, Agent], after: dict[str, Agent], at: datetime
) -> list[Change]:
    changes: list[Change] = []
    for key, agent in after.items():
        old = before.get(key)
        was = old.state if old is not None else None
        if agent.state == was:
            continue
        label = f"{pbx}: {agent_label(agent)}"
        if agent.state is AgentState.PAUSED:
            reason = f": {agent.pause_reason}" if agent.pause_reason else ""
            changes.append(
                _change(at, pbx, ChangeKind.AGENT_PAUSED, f"{label} paused{reason}", key)
            )
        elif was is AgentState.PAUSED:
            text = f"{label} unpaused, now {agent.state.value}"
            changes.append(_change(at, pbx, ChangeKind.AGENT_UNPAUSED, text, key))
        elif was is not None:
            text = f"{label} {was.value} → {agent.state.value}"
            changes.append(_change(at, pbx, ChangeKind.AGENT_STATE, text, key))
    return changes


def _diff_peers(
    pbx: str, before: dict[str, Peer], after: dict[str, Peer], at: datetime
) -> list[Change]:
    changes: list[Change] = []
    for key, peer in after.items():
        old = before.get(key)
        if old is None:
            continue
        status = f" ({peer.status_raw})" if peer.status_raw else ""
        if old.registered is True and peer.registered is False:
            text = f"{pbx}: peer {peer.name} dropped{status}"
            changes.append(_change(at, pbx, ChangeKind.PEER_DROPPED, text, key))
        elif old.registered is False and peer.registered is True:
            text = f"{pbx}: peer {peer.name} registered{status}"
            changes.append(_change(at, pbx, ChangeKind.PEER_REGISTERED, text, key))
    return changes
