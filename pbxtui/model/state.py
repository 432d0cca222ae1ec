"""Immutable snapshots of what the engine knows: per resource, and per PBX.

A ``ResourceState`` is replaced, never mutated, after every poll. A failed poll keeps the last
good records and sets ``error``: the data is then *stale*, and views say so instead of silently
showing frozen rows or wiping them.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

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
    utcnow,
)
from pbxtui.model.vocabulary import Capabilities, Resource


@dataclass(frozen=True)
class ResourceState:
    """The latest result of polling one resource of one PBX."""

    records: tuple[Record, ...] = ()
    fetched_at: datetime | None = None
    """When ``records`` were fetched (the last successful poll)."""
    error: str = ""
    """Why the last poll failed, safe to show; "" when it succeeded."""
    error_kind: str = ""
    """The ``DriverError.label`` of that failure ("timeout", "auth refused", ...), or ""."""
    latency_ms: int | None = None
    """How long the last successful poll took."""
    failures: int = 0
    """Consecutive failed polls (0 after a success)."""
    error_at: datetime | None = None
    """When the last failure happened (kept after a recovery, for ordering)."""

    @property
    def ok(self) -> bool:
        return self.fetched_at is not None and not self.error

    @property
    def failing(self) -> bool:
        return bool(self.error)

    @property
    def pending(self) -> bool:
        """No poll of this resource has finished yet."""
        return self.fetched_at is None and not self.error

    @property
    def stale(self) -> bool:
        """The last poll failed, but earlier good records are still shown."""
        return bool(self.error) and self.fetched_at is not None

    def succeeded(
        self, records: tuple[Record, ...], *, at: datetime, latency_ms: int | None
    ) -> ResourceState:
        return ResourceState(
            records=kept_records(self.records, records),
            fetched_at=at,
            latency_ms=latency_ms,
            error_at=self.error_at,
        )

    def failed(self, error: str, kind: str, *, at: datetime) -> ResourceState:
        """This state after a failed poll: same records, error set, one more failure."""
        return replace(self, error=error, error_kind=kind, error_at=at, failures=self.failures + 1)


def kept_records(before: tuple[Record, ...], after: tuple[Record, ...]) -> tuple[Record, ...]:
    """``after`` with each record equal to the one of the same key ``before`` replaced by
    that one; ``before`` itself when nothing changed.

    So a record that did not change is the same object from poll to poll, whatever the
    driver made anew, and whatever names, joins or draws records (the engine, the panes)
    can skip it by identity, at any scale. Drivers keep their calls themselves
    (``Call.observed_again``): these compare unequal on the time they were observed."""
    if len(after) == len(before) and all(map(operator.is_, after, before)):
        return before
    if not before:
        return after
    old = {record.key: record for record in before}
    kept = tuple(kept_record(old.get(record.key), record) for record in after)
    if len(kept) == len(before) and all(map(operator.is_, kept, before)):
        return before
    return kept


def kept_record(old: Record | None, new: Record) -> Record:
    """``old`` when it is equal to ``new`` (so the same object stays), else ``new``."""
    return old if old is not None and (old is new or old == new) else new


def _frozen(resources: Mapping[Resource, ResourceState]) -> Mapping[Resource, ResourceState]:
    return MappingProxyType(dict(resources))


@dataclass(frozen=True)
class PbxState:
    """Everything known about one PBX at one moment."""

    name: str
    kind: str
    capabilities: Capabilities
    health: PbxHealth
    resources: Mapping[Resource, ResourceState] = field(
        default_factory=lambda: MappingProxyType({})
    )
    consultations: tuple[Consultation, ...] = ()
    """Attended transfers waiting for their second step (complete or cancel)."""

    def __post_init__(self) -> None:
        if not isinstance(self.resources, MappingProxyType):
            object.__setattr__(self, "resources", _frozen(self.resources))

    def resource(self, resource: Resource) -> ResourceState:
        """The state of ``resource`` (an empty one if this PBX does not poll it)."""
        return self.resources.get(resource, _EMPTY)

    def records(self, resource: Resource) -> tuple[Record, ...]:
        return self.resource(resource).records

    def calls(self) -> tuple[Call, ...]:
        return tuple(r for r in self.records(Resource.CALLS) if isinstance(r, Call))

    def extensions(self) -> tuple[Extension, ...]:
        return tuple(r for r in self.records(Resource.EXTENSIONS) if isinstance(r, Extension))

    def peers(self) -> tuple[Peer, ...]:
        return tuple(r for r in self.records(Resource.PEERS) if isinstance(r, Peer))

    def lamps(self) -> tuple[BlfLamp, ...]:
        return tuple(r for r in self.records(Resource.BLF) if isinstance(r, BlfLamp))

    def queues(self) -> tuple[Queue, ...]:
        return tuple(r for r in self.records(Resource.QUEUES) if isinstance(r, Queue))

    def agents(self) -> tuple[Agent, ...]:
        return tuple(r for r in self.records(Resource.AGENTS) if isinstance(r, Agent))

    def age(self, resource: Resource, now: datetime | None = None) -> float | None:
        """Seconds since ``resource`` was last fetched successfully, or None if never."""
        fetched_at = self.resource(resource).fetched_at
        if fetched_at is None:
            return None
        return max(0.0, ((now or utcnow()) - fetched_at).total_seconds())


_EMPTY = ResourceState()
