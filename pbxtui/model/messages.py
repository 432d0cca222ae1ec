"""Engine updates as messages: what ``pbxtui listen --state`` prints and what a collector
will publish to a broker for many consoles. Versioned (``schema``), numbered (``seq``), and
read back into the very ``EngineUpdate`` they were made from (``to_update``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pbxtui.model.events import Change, ChangeKind, EngineUpdate
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
from pbxtui.model.vocabulary import Action, Capabilities, Click2CallOption, Resource

MESSAGE_SCHEMA = 1
"""``UpdateMessage.schema_version``: bumped when a message's meaning changes."""

RECORD_TYPES: dict[Resource, type[Record]] = {
    Resource.CALLS: Call,
    Resource.EXTENSIONS: Extension,
    Resource.PEERS: Peer,
    Resource.BLF: BlfLamp,
    Resource.QUEUES: Queue,
    Resource.AGENTS: Agent,
}


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChangeMessage(_Message):
    at: datetime
    pbx: str
    kind: ChangeKind
    text: str
    key: str = ""
    ok: bool = True
    source: str = "poll"

    @classmethod
    def of(cls, change: Change) -> ChangeMessage:
        return cls(**{name: getattr(change, name) for name in cls.model_fields})

    def to_change(self) -> Change:
        # Field by field: a console following a collector reads about a thousand a second,
        # and ``model_dump`` cost five times as much.
        return Change(self.at, self.pbx, self.kind, self.text, self.key, self.ok, self.source)


class CapabilitiesMessage(_Message):
    resources: list[Resource]
    actions: list[Action]
    click2call_options: list[Click2CallOption] = Field(default_factory=list)

    @classmethod
    def of(cls, caps: Capabilities) -> CapabilitiesMessage:
        return cls(
            resources=sorted(caps.resources),
            actions=sorted(caps.actions),
            click2call_options=sorted(caps.click2call_options),
        )

    def to_capabilities(self) -> Capabilities:
        return Capabilities(
            frozenset(self.resources),
            frozenset(self.actions),
            frozenset(self.click2call_options),
        )


class ResourceMessage(_Message):
    """One resource's latest result: its records in ``PbxMessage``, the rest here."""

    fetched_at: datetime | None = None
    error: str = ""
    error_kind: str = ""
    latency_ms: int | None = None
    failures: int = 0
    error_at: datetime | None = None

    @classmethod
    def of(cls, state: ResourceState) -> ResourceMessage:
        return cls(
            fetched_at=state.fetched_at,
            error=state.error,
            error_kind=state.error_kind,
            latency_ms=state.latency_ms,
            failures=state.failures,
            error_at=state.error_at,
        )

    def to_state(self, records: tuple[Record, ...]) -> ResourceState:
        """The resource's state with these records (field by field: a console following a
        collector makes several a message, and ``model_dump`` cost five times as much)."""
        return ResourceState(
            records=records,
            fetched_at=self.fetched_at,
            error=self.error,
            error_kind=self.error_kind,
            latency_ms=self.latency_ms,
            failures=self.failures,
            error_at=self.error_at,
        )


class PbxMessage(_Message):
    name: str
    kind: str
    health: PbxHealth
    capabilities: CapabilitiesMessage
    resources: dict[Resource, ResourceMessage] = Field(default_factory=dict)
    calls: list[Call] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    peers: list[Peer] = Field(default_factory=list)
    blf: list[BlfLamp] = Field(default_factory=list)
    queues: list[Queue] = Field(default_factory=list)
    agents: list[Agent] = Field(default_factory=list)
    consultations: list[Consultation] = Field(default_factory=list)

    @classmethod
    def of(cls, state: PbxState) -> PbxMessage:
        lists: dict[str, list[Record]] = {r.value: list(state.records(r)) for r in state.resources}
        return cls(
            name=state.name,
            kind=state.kind,
            health=state.health,
            capabilities=CapabilitiesMessage.of(state.capabilities),
            resources={r: ResourceMessage.of(rs) for r, rs in state.resources.items()},
            consultations=list(state.consultations),
            **lists,
        )

    def to_state(self) -> PbxState:
        resources = {
            r: rm.to_state(tuple(getattr(self, r.value))) for r, rm in self.resources.items()
        }
        return PbxState(
            name=self.name,
            kind=self.kind,
            capabilities=self.capabilities.to_capabilities(),
            health=self.health,
            resources=resources,
            consultations=tuple(self.consultations),
        )


class UpdateMessage(_Message):
    """One engine update, as published."""

    schema_version: Literal[1] = 1
    type: Literal["update"] = "update"
    seq: int
    pbx: str
    resource: Resource | None
    state: PbxMessage
    changes: list[ChangeMessage] = Field(default_factory=list)

    @classmethod
    def of(cls, update: EngineUpdate) -> UpdateMessage:
        return cls(
            seq=update.seq,
            pbx=update.pbx,
            resource=update.resource,
            state=PbxMessage.of(update.state),
            changes=[ChangeMessage.of(c) for c in update.changes],
        )

    def to_update(self) -> EngineUpdate:
        return EngineUpdate(
            self.pbx,
            self.resource,
            self.state.to_state(),
            tuple(c.to_change() for c in self.changes),
            seq=self.seq,
        )
