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
        before = known.starts if known is not None else {}
        seen = known.by_id if known is not None else {}
        calls = [c for c in source.records if isinstance(c, Call)]
        starts: dict[str, datetime] = {}
        by_id: dict[str, Call] = {}
        # The hot loop at 10,000 calls: locals, and a timedelta per distinct duration. A call
        # that is the record of the poll before (most are) keeps its start as it is.
        deltas, delta, steady = _DELTAS, _delta, STEADY
        get, was = before.get, seen.get
        for call in calls:
            ident = call.id
            by_id[ident] = call
            if was(ident) is call:
                starts[ident] = before[ident]
                continue
            seconds = call.duration
            start = call.observed_at - (deltas.get(seconds) or delta(seconds))
            kept = get(ident)
            if kept is not None and -steady <= start - kept <= steady:
                start = kept
            starts[ident] = start
        found = PbxCalls(source, calls, starts, by_id)
        self._pbxs[state.name] = found
        return found

    def start(self, call: Call, state: PbxState | None) -> datetime:
        """When ``call`` started, steady across polls (see the module docstring)."""
        if state is not None:
            start = self.of(state).starts.get(call.id)
            if start is not None:
                return start
        return call.implied_start()
