"""Joins across one PBX's resources, so that every pane tells the same truth.

A driver fills what its own answers say. Some facts only show when two resources are put side
by side: the call an extension or a lamp is on, an agent's name, a queue's agent counts. They
are joined here, once, for every vendor, on every state the engine publishes, so the console
and ``snapshot --json`` agree and no view matches records on its own.

The rules (a driver's own value always wins, with one exception, said below):

- ``Extension.call_id`` and ``BlfLamp.call_id``: the call whose ``extension``, else whose
  ``callee`` or ``caller``, is the number. An answered call wins over a held one, then one
  dialling out, then a ringing one, then a queued one; then a call naming the number as its
  extension; then the smallest call id, so the answer never depends on the order of the rows.
  A driver's call id that names no call of the latest calls poll is joined again: a pane must
  not point at a call nobody can find. Before any calls poll, nothing is joined.
- ``Agent.name``: the name of the extension the agent is, when the agent has none.
- ``Queue`` agent counts the driver left ``None``: counted from that queue's agents, once the
  agents have been polled. The paused count only where the API can pause agents (it offers the
  pause action): elsewhere nothing is ever paused, and 0 would claim what the API cannot know.

Each join is a pass over the records with dict lookups. ``Joiner`` redoes one only when its
inputs changed (the same record tuples, by identity, mean the same inputs), so a peers poll
costs no join at all, and it hands back the previous record when a join came out the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TypeVar

from pbxtui.model import (
    Action,
    Agent,
    AgentState,
    BlfLamp,
    Call,
    CallState,
    Extension,
    PbxState,
    Queue,
    Record,
    Resource,
)
from pbxtui.model.state import kept_record

Linked = TypeVar("Linked", Extension, BlfLamp)
Records = tuple[Record, ...]

# Which call a number is "on" when it is on several: the one it is most engaged in.
STATE_RANK: dict[CallState, int] = {
    CallState.UP: 0,
    CallState.HELD: 1,
    CallState.DIALING: 2,
    CallState.RINGING: 3,
    CallState.QUEUED: 4,
    CallState.OTHER: 5,
}
AS_EXTENSION, AS_PARTY = 0, 1


class CallIndex:
    """The call each number is on, by the rule in the module docstring."""

    def __init__(self, calls: Iterable[Call]) -> None:
        best: dict[str, tuple[tuple[int, int, str], str]] = {}
        ids: set[str] = set()
        for call in calls:
            ids.add(call.id)
            for number, role in _numbers(call):
                rank = (STATE_RANK[call.state], role, call.id)
                held = best.get(number)
                if held is None or rank < held[0]:
                    best[number] = (rank, call.id)
        self.ids = frozenset(ids)
        self._by_number = {number: call_id for number, (_, call_id) in best.items()}

    def call_id(self, number: str, current: str) -> str:
        """``current`` while it names a known call, else the call ``number`` is on, or ""."""
        if current in self.ids:
            return current
        return self._by_number.get(number, "") if number else ""


def _numbers(call: Call) -> Iterator[tuple[str, int]]:
    if call.extension:
        yield call.extension, AS_EXTENSION
    for number in dict.fromkeys((call.callee, call.caller)):
        if number and number != call.extension:
            yield number, AS_PARTY


class _Sources:
    """One state's inputs, with what several joins share built once."""

    def __init__(self, state: PbxState, indexes: IndexMemo, linked: LinkMemo) -> None:
        self.state = state
        self.indexes = indexes
        self.linked = linked

    @cached_property
    def calls(self) -> CallIndex | None:
        if self.state.resource(Resource.CALLS).fetched_at is None:
            return None
        return self.indexes.of(self.state.records(Resource.CALLS))


class IndexMemo:
    """The ``CallIndex`` of the last calls seen: an extensions or lamps poll between two
    calls polls joins against the same calls, so their index is not built again."""

    def __init__(self) -> None:
        self._calls: Records | None = None
        self._index: CallIndex | None = None

    def of(self, calls: Records) -> CallIndex:
        if self._index is None or calls is not self._calls:
            self._calls = calls
            self._index = CallIndex(c for c in calls if isinstance(c, Call))
        return self._index


class LinkMemo:
    """The records given a call id by the last join, by identity of the record as polled:
    an extension on the same call as a second ago is the same joined record, not a copy
    (a big PBX has thousands, joined again on every calls poll)."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[Record, str, Record]] = {}
        self._next: dict[int, tuple[Record, str, Record]] = {}

    def linked(self, record: Linked, number: str, index: CallIndex) -> Linked:
        call_id = index.call_id(number, record.call_id)
        if call_id == record.call_id:
            return record
        hit = self._last.get(id(record))
        if hit is not None and hit[0] is record and hit[1] == call_id:
            joined: Linked = hit[2]  # type: ignore[assignment]
        else:
            joined = record.model_copy(update={"call_id": call_id})
        self._next[id(record)] = (record, call_id, joined)
        return joined

    def done(self) -> None:
        """Keep what this join used (holding each record keeps its id from being reused)."""
        self._last, self._next = self._next, {}


def join_extensions(sources: _Sources) -> Records:
    records = sources.state.records(Resource.EXTENSIONS)
    index = sources.calls
    if index is None:
        return records
    link = sources.linked.linked
    return tuple(link(r, r.number, index) if isinstance(r, Extension) else r for r in records)


def join_lamps(sources: _Sources) -> Records:
    records = sources.state.records(Resource.BLF)
    index = sources.calls
    if index is None:
        return records
    link = sources.linked.linked
    return tuple(link(r, r.extension, index) if isinstance(r, BlfLamp) else r for r in records)


def join_agent_names(sources: _Sources) -> Records:
    names = {e.number: e.name for e in sources.state.extensions() if e.name}
    return tuple(
        r.model_copy(update={"name": names[r.extension]})
        if isinstance(r, Agent) and not r.name and r.extension in names
        else r
        for r in sources.state.records(Resource.AGENTS)
    )


def join_queue_counts(sources: _Sources) -> Records:
    state = sources.state
    records = state.records(Resource.QUEUES)
    if state.resource(Resource.AGENTS).fetched_at is None:
        return records
    tallies: dict[str, Counter[AgentState]] = {}
    for agent in state.agents():
        tallies.setdefault(agent.queue_id, Counter())[agent.state] += 1
    can_pause = state.capabilities.supports(Action.PAUSE)
    return tuple(
        _counted(r, tallies.get(r.id, Counter()), can_pause) if isinstance(r, Queue) else r
        for r in records
    )


def _counted(queue: Queue, tally: Counter[AgentState], can_pause: bool) -> Queue:
    derived = {
        "agents_available": tally[AgentState.AVAILABLE],
        "agents_busy": tally[AgentState.BUSY],
        "agents_total": tally.total(),
    }
    if can_pause:
        derived["agents_paused"] = tally[AgentState.PAUSED]
    missing = {name: value for name, value in derived.items() if getattr(queue, name) is None}
    return queue.model_copy(update=missing) if missing else queue


@dataclass(frozen=True)
class Rule:
    """How ``target``'s records are joined, and which resources they are joined from."""

    target: Resource
    sources: tuple[Resource, ...]
    apply: Callable[[_Sources], Records]


RULES = (
    Rule(Resource.EXTENSIONS, (Resource.EXTENSIONS, Resource.CALLS), join_extensions),
    Rule(Resource.BLF, (Resource.BLF, Resource.CALLS), join_lamps),
    Rule(Resource.AGENTS, (Resource.AGENTS, Resource.EXTENSIONS), join_agent_names),
    Rule(Resource.QUEUES, (Resource.QUEUES, Resource.AGENTS), join_queue_counts),
)


@dataclass(frozen=True)
class _Memo:
    inputs: tuple[object, ...]
    output: Records


def _inputs(state: PbxState, rule: Rule) -> tuple[object, ...]:
    """What a rule's result depends on: the capabilities, and each source's records and
    whether it has been polled at all."""
    inputs: list[object] = [state.capabilities]
    for resource in rule.sources:
        inputs += [state.records(resource), state.resource(resource).fetched_at is not None]
    return tuple(inputs)


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    """Records compare by identity (they are replaced, never mutated, so the same tuple means
    the same records, and comparing 10,000 calls would cost what the join costs); the rest,
    small, by value."""
    return len(a) == len(b) and all(
        x is y or (not isinstance(x, tuple) and x == y) for x, y in zip(a, b, strict=True)
    )


class Joiner:
    """Joins the successive states of one PBX, each rule only when its inputs changed."""

    def __init__(self) -> None:
        self._memos: dict[Resource, _Memo] = {}
        self._links = {rule.target: LinkMemo() for rule in RULES}
        self._indexes = IndexMemo()

    def join(self, state: PbxState) -> PbxState:
        resources = dict(state.resources)
        for rule in RULES:
            current = state.resources.get(rule.target)
            if current is None:
                continue
            # The call index is shared through ``IndexMemo``: built once for every rule.
            sources = _Sources(state, self._indexes, self._links[rule.target])
            records = self._joined(rule, sources)
            if records is not current.records:
                resources[rule.target] = replace(current, records=records)
        return replace(state, resources=resources)

    def _joined(self, rule: Rule, sources: _Sources) -> Records:
        inputs = _inputs(sources.state, rule)
        memo = self._memos.get(rule.target)
        if memo is not None and _same(memo.inputs, inputs):
            return memo.output
        output = rule.apply(sources)
        sources.linked.done()
        if memo is not None:
            output = _stable(output, sources.state.records(rule.target), memo.output)
        self._memos[rule.target] = _Memo(inputs, output)
        return output


def _stable(output: Records, source: Records, previous: Records) -> Records:
    """``output`` with each joined record that came out as before replaced by the previous
    one: a view caching rows by record sees no change where there is none."""
    before = {r.key: r for r in previous}
    return tuple(
        new if new is old else kept_record(before.get(new.key), new)
        for new, old in zip(output, source, strict=True)
    )


def join(state: PbxState) -> PbxState:
    """``state`` with every join applied (pure; the engine keeps a ``Joiner`` per PBX)."""
    return Joiner().join(state)
