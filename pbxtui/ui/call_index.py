"""Each PBX's calls by id, and when each call started, worked out once per calls poll.

A driver reports a call's duration in whole seconds as of the poll (``observed_at``), so the
start it implies (``observed_at - duration``) wobbles by up to a second from one poll to the
next. The start kept here stays the one first seen while a new poll's start is within
``STEADY`` of it: a call that did not change has the same start, so its row compares equal
and is not rebuilt, and its duration is drawn from that start as it is painted. A start that
moves further (a PBX that restarted the call's clock) is taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pbxtui.model import STEADY_SECONDS, Call, PbxState, Resource, ResourceState

STEADY = timedelta(seconds=STEADY_SECONDS)
"""How far a new poll's start may drift from the one kept before it is taken instead."""


@dataclass
class PbxCalls:
    source: ResourceState
    calls: list[Call]
    starts: dict[str, datetime]
    """By call id."""
    by_id: dict[str, Call]
    objects: dict[int, Call]
    """The calls by their ``id()``: the next poll's calls that are the same objects (most
    are: ``Call.observed_again``) are found as a set, and keep their starts."""


_DELTAS: dict[int, timedelta] = {}


def _delta(seconds: int) -> timedelta:
    found = _DELTAS.get(seconds)
    if found is None:
        if len(_DELTAS) > 100_000:
            _DELTAS.clear()
        found = _DELTAS[seconds] = timedelta(seconds=seconds)
    return found


@dataclass
class CallIndex:
    """Shared by every view of one console, so the panes agree on each call's start."""

    _pbxs: dict[str, PbxCalls] = field(default_factory=dict)

    def of(self, state: PbxState) -> PbxCalls:
        source = state.resource(Resource.CALLS)
        known = self._pbxs.get(state.name)
        if known is not None and known.source is source:
            return known
        calls = [c for c in source.records if isinstance(c, Call)]
        objects = dict(zip(map(id, calls), calls, strict=True))
        found = None if known is None else _by_identity(known, source, calls, objects)
        if found is None:
            found = _walk(known, source, calls, objects)
        self._pbxs[state.name] = found
        return found

    def start(self, call: Call, state: PbxState | None) -> datetime:
        """When ``call`` started, steady across polls (see the module docstring)."""
        if state is not None:
            start = self.of(state).starts.get(call.id)
            if start is not None:
                return start
        return call.implied_start()


def _start(call: Call, kept: datetime | None) -> datetime:
    start = call.observed_at - _delta(call.duration)
    if kept is not None and -STEADY <= start - kept <= STEADY:
        return kept
    return start


def _by_identity(
    known: PbxCalls, source: ResourceState, calls: list[Call], objects: dict[int, Call]
) -> PbxCalls | None:
    """The calls that arrived and left since ``known``, found as sets of identities; the
    others keep their starts untouched. None where an id comes twice (``_walk`` then)."""
    before = known.objects
    arrived = [objects[i] for i in objects.keys() - before.keys()]
    starts, by_id = dict(known.starts), dict(known.by_id)
    for i in before.keys() - objects.keys():
        ident = before[i].id
        if by_id.get(ident) is before[i]:
            del by_id[ident], starts[ident]
    kept = known.starts.get
    for call in arrived:
        by_id[call.id] = call
        starts[call.id] = _start(call, kept(call.id))
    if not len(by_id) == len(calls) == len(objects):
        return None
    return PbxCalls(source, calls, starts, by_id, objects)


def _walk(
    known: PbxCalls | None, source: ResourceState, calls: list[Call], objects: dict[int, Call]
) -> PbxCalls:
    """Every call looked at in turn: a PBX's first poll, or one with an id twice (the last
    call of an id is the one kept, as a dict keeps it)."""
    before = known.starts if known is not None else {}
    seen = known.by_id if known is not None else {}
    starts: dict[str, datetime] = {}
    by_id: dict[str, Call] = {}
    for call in calls:
        ident = call.id
        by_id[ident] = call
        starts[ident] = (
            before[ident] if seen.get(ident) is call else _start(call, before.get(ident))
        )
    return PbxCalls(source, calls, starts, by_id, objects)
