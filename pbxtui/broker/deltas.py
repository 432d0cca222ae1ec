"""The engine's updates as a collector publishes them: what changed since its last message
about the same PBX, and now and then the whole of it (a keyframe), so a console joining late
starts from the last keyframe and applies what came after.

A record the driver or the engine kept (the same object as in the poll before, see
``kept_records``) is not sent again: at 10,000 calls with a tenth changing a second, a
message carries the thousand that changed, not the ten thousand. ``Publisher`` makes the
messages on the collector, ``Replica`` reads them back into the very states and updates on
the console; both rebuild a resource's records with ``apply_records``, so the publisher can
tell when the order it would rebuild is not the PBX's, and only then sends the order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pbxtui.model.events import Change, EngineUpdate
from pbxtui.model.messages import (
    RECORD_TYPES,
    CapabilitiesMessage,
    ResourceMessage,
)
from pbxtui.model.records import (
    Agent,
    BlfLamp,
    Call,
    Consultation,
    Extension,
    PbxHealth,
    Peer,
    Queue,
    Record,
)
from pbxtui.model.state import PbxState, ResourceState
from pbxtui.model.vocabulary import Resource

DELTA_SCHEMA = 1
"""``DeltaMessage.schema_version``: bumped when a message's meaning changes."""

RECORDS_PER_MESSAGE = 1_000
"""A message carries at most this many records: a bigger change goes as several parts
(``more``), so none nears the broker's largest message (1 MiB by default)."""


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ResourceDelta(_Message):
    """How one resource's records changed: ``removed`` keys, the records upserted (in the
    message's typed lists), and ``order`` only where rebuilding would not give the PBX's."""

    meta: ResourceMessage
    replace: bool = False
    """The records that follow are the whole list (a keyframe's first part)."""
    removed: list[str] = Field(default_factory=list)
    order: list[str] | None = None


class DeltaMessage(_Message):
    """One part of one engine update (or of a keyframe), as published."""

    schema_version: Literal[1] = 1
    seq: int
    pbx: str
    resource: Resource | None = None
    """The resource whose poll made the update (None: an action, a push, health)."""
    keyframe: bool = False
    """The whole state of the PBX: a console joining may start here."""
    more: bool = False
    """Another part of the same update follows: announce the update after the last."""
    kind: str = ""
    capabilities: CapabilitiesMessage | None = None
    """In a keyframe: what the PBX can do."""
    health: PbxHealth | None = None
    consultations: list[Consultation] | None = None
    resources: dict[Resource, ResourceDelta] = Field(default_factory=dict)
    changes: list[Change] = Field(default_factory=list)
    """The engine's own changes, read into them directly (by way of a message model and a
    copy, a thousand a second took 70 % longer)."""
    calls: list[Call] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    peers: list[Peer] = Field(default_factory=list)
    blf: list[BlfLamp] = Field(default_factory=list)
    queues: list[Queue] = Field(default_factory=list)
    agents: list[Agent] = Field(default_factory=list)

    def upserts(self, resource: Resource) -> list[Record]:
        records: list[Record] = getattr(self, resource.value)
        return records


def apply_records(
    before: Sequence[Record],
    *,
    removed: Sequence[str] = (),
    upserts: Sequence[Record] = (),
    order: Sequence[str] | None = None,
) -> tuple[Record, ...]:
    """``before`` without ``removed``, each upserted record in the place of the one with its
    key (new keys after the rest, in their order), then put in ``order`` if given."""
    by_key = {record.key: record for record in before}
    for key in removed:
        by_key.pop(key, None)
    for record in upserts:
        by_key[record.key] = record
    if order is None:
        return tuple(by_key.values())
    return tuple(by_key[key] for key in order if key in by_key)


@dataclass
class _Part:
    """A message being filled, records counted."""

    fields: dict[str, object] = field(default_factory=dict)
    resources: dict[Resource, ResourceDelta] = field(default_factory=dict)
    lists: dict[Resource, list[Record]] = field(default_factory=dict)
    count: int = 0


class Publisher:
    """The collector's side: each update, or a keyframe, as its messages."""

    def __init__(self, records_per_message: int = RECORDS_PER_MESSAGE) -> None:
        self._limit = records_per_message
        self._published: dict[str, tuple[PbxState, int]] = {}
        """Each PBX's state as last published, and its update's number."""

    def forget(self) -> None:
        """Start again (messages were lost): the next message of each PBX is a keyframe."""
        self._published.clear()

    def again(self, pbx: str) -> list[DeltaMessage]:
        """A keyframe of what was last published of ``pbx`` (nothing if nothing was): the
        very state a console following it holds, so one that is may skip it unread."""
        if pbx not in self._published:
            return []
        state, seq = self._published[pbx]
        return self.keyframe(state, seq=seq)

    def delta(self, update: EngineUpdate) -> list[DeltaMessage]:
        """What changed in ``update.state`` since this PBX's last message (a keyframe if
        none was sent yet)."""
        if update.pbx not in self._published:
            return self.keyframe(update.state, seq=update.seq, update=update)
        before, _ = self._published[update.pbx]
        state = update.state
        self._published[update.pbx] = (state, update.seq)
        resources: list[tuple[Resource, ResourceDelta, Sequence[Record]]] = []
        for resource, now in state.resources.items():
            was = before.resources.get(resource)
            if was is now:
                continue
            resources.append(self._resource_delta(was, now, resource))
        return self._parts(
            update,
            base={
                "health": state.health if state.health != before.health else None,
                "consultations": (
                    list(state.consultations)
                    if state.consultations != before.consultations
                    else None
                ),
            },
            resources=resources,
            keyframe=False,
        )

    def keyframe(
        self, state: PbxState, *, seq: int, update: EngineUpdate | None = None
    ) -> list[DeltaMessage]:
        """The whole of ``state``: where a console may start."""
        self._published[state.name] = (state, seq)
        resources: list[tuple[Resource, ResourceDelta, Sequence[Record]]] = [
            (resource, ResourceDelta(meta=ResourceMessage.of(now), replace=True), now.records)
            for resource, now in state.resources.items()
        ]
        announced = update or EngineUpdate(state.name, None, state, seq=seq)
        return self._parts(
            announced,
            base={
                "kind": state.kind,
                "capabilities": CapabilitiesMessage.of(state.capabilities),
                "health": state.health,
                "consultations": list(state.consultations),
            },
            resources=resources,
            keyframe=True,
        )

    def _resource_delta(
        self, was: ResourceState | None, now: ResourceState, resource: Resource
    ) -> tuple[Resource, ResourceDelta, Sequence[Record]]:
        meta = ResourceMessage.of(now)
        if was is None:
            return resource, ResourceDelta(meta=meta, replace=True), now.records
        if was.records is now.records:
            return resource, ResourceDelta(meta=meta), ()
        old = {record.key: record for record in was.records}
        keys = [record.key for record in now.records]
        if len(set(keys)) != len(keys):  # keys repeat: only the whole list says it
            return resource, ResourceDelta(meta=meta, replace=True), now.records
        upserts = [record for record in now.records if old.get(record.key) is not record]
        current = set(keys)
        removed = [key for key in old if key not in current]
        rebuilt = apply_records(was.records, removed=removed, upserts=upserts)
        order = None if [r.key for r in rebuilt] == keys else keys
        return resource, ResourceDelta(meta=meta, removed=removed, order=order), upserts

    def _parts(
        self,
        update: EngineUpdate,
        *,
        base: dict[str, object],
        resources: list[tuple[Resource, ResourceDelta, Sequence[Record]]],
        keyframe: bool,
    ) -> list[DeltaMessage]:
        parts = [_Part(fields=dict(base))]
        for resource, delta, records in resources:
            start = 0
            while True:
                part = parts[-1]
                if part.count >= self._limit:
                    part = _Part()
                    parts.append(part)
                chunk = records[start : start + self._limit - part.count]
                first = start == 0
                start += len(chunk)
                last = start >= len(records)
                # Removals and replacing come with the first records, the order with the
                # last: a part in between only adds (its keys after the rest).
                part.resources[resource] = ResourceDelta(
                    meta=delta.meta,
                    replace=delta.replace and first,
                    removed=delta.removed if first else [],
                    order=delta.order if last else None,
                )
                part.lists[resource] = list(chunk)
                part.count += len(chunk)
                if last:
                    break
        messages = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            messages.append(
                DeltaMessage(
                    seq=update.seq,
                    pbx=update.pbx,
                    resource=update.resource,
                    keyframe=keyframe,
                    more=not last,
                    resources=part.resources,
                    changes=list(update.changes) if last else [],
                    **{r.value: records for r, records in part.lists.items()},
                    **part.fields,
                )
            )
        return messages


class Replica:
    """The console's side: the state of every PBX, rebuilt from the messages in their order.

    A PBX is followed from its first keyframe on: what comes before it (a console joining in
    the middle of a stream) is skipped."""

    def __init__(self) -> None:
        self._states: dict[str, PbxState] = {}
        self._building: dict[str, PbxState] = {}
        self._changes: dict[str, list[Change]] = {}
        self._keyed: dict[tuple[str, Resource], tuple[tuple[Record, ...], dict[str, Record]]] = {}
        """Each resource's records by key, with the records they index: a delta is applied
        to them in place of ``apply_records`` building them again (the same result, without
        a key made for each of a PBX's records at every message)."""

    def states(self) -> dict[str, PbxState]:
        return dict(self._states)

    def get(self, pbx: str) -> PbxState | None:
        return self._states.get(pbx)

    def following(self, pbx: str) -> bool:
        return pbx in self._states or pbx in self._building

    def apply(self, message: DeltaMessage) -> EngineUpdate | None:
        """Apply one part; the update it completes (None while parts are missing, or when
        the PBX has no keyframe yet)."""
        pbx = message.pbx
        before: PbxState | None = None
        if not (message.keyframe and message.capabilities is not None):  # not a start
            before = self._building.get(pbx) or self._states.get(pbx)
            if before is None:
                return None
        state = self._applied(before, message)
        if message.more:
            self._building[pbx] = state
            self._changes.setdefault(pbx, []).extend(message.changes)
            return None
        self._building.pop(pbx, None)
        changes = [*self._changes.pop(pbx, []), *message.changes]
        self._states[pbx] = state
        return EngineUpdate(
            pbx,
            message.resource,
            state,
            tuple(changes),
            seq=message.seq,
        )

    def _applied(self, before: PbxState | None, message: DeltaMessage) -> PbxState:
        resources = dict(before.resources) if before is not None else {}
        for resource, delta in message.resources.items():
            was = resources.get(resource)
            records = message.upserts(resource)
            if delta.replace or was is None:
                kept: tuple[Record, ...] = tuple(records)
            elif not records and not delta.removed and delta.order is None:
                kept = was.records
            else:
                kept = self._records_after((message.pbx, resource), was.records, delta, records)
            resources[resource] = delta.meta.to_state(kept)
        if before is None:
            caps = message.capabilities or CapabilitiesMessage(resources=[], actions=[])
            health = message.health or PbxHealth(pbx=message.pbx, kind=message.kind)
            return PbxState(
                name=message.pbx,
                kind=message.kind,
                capabilities=caps.to_capabilities(),
                health=health,
                resources=resources,
                consultations=tuple(message.consultations or ()),
            )
        return dataclasses.replace(
            before,
            health=message.health if message.health is not None else before.health,
            resources=resources,
            consultations=(
                tuple(message.consultations)
                if message.consultations is not None
                else before.consultations
            ),
        )

    def _records_after(
        self,
        where: tuple[str, Resource],
        before: tuple[Record, ...],
        delta: ResourceDelta,
        upserts: Sequence[Record],
    ) -> tuple[Record, ...]:
        """``apply_records(before, ...)``, on the index kept of ``before``."""
        known = self._keyed.get(where)
        if known is not None and known[0] is before:
            by_key = known[1]
        else:
            by_key = {record.key: record for record in before}
        for key in delta.removed:
            by_key.pop(key, None)
        for record in upserts:
            by_key[record.key] = record
        if delta.order is None:
            kept = tuple(by_key.values())
        else:
            order = [key for key in delta.order if key in by_key]
            kept = tuple(by_key[key] for key in order)
            by_key = dict(zip(order, kept, strict=True))
        self._keyed[where] = (kept, by_key)
        return kept


__all__ = ["RECORD_TYPES", "DeltaMessage", "Publisher", "Replica", "apply_records"]
