"""The normalized domain: what every driver produces and every view consumes.

Vendor vocabularies are mapped onto a few enums here, and the vendor's own word is kept beside
each one (``*_raw``) so nothing is lost and the console can still show it. Durations are whole
seconds as reported at poll time; views add the time elapsed since ``observed_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from pbxtui.model.figures import TenantFigures


def utcnow() -> datetime:
    return datetime.now(UTC)


class CallState(StrEnum):
    RINGING = "ringing"
    QUEUED = "queued"
    """A caller waiting in a queue, not yet ringing anyone."""
    DIALING = "dialing"
    UP = "up"
    HELD = "held"
    OTHER = "other"


class LineState(StrEnum):
    """State of an extension or a BLF lamp."""

    IDLE = "idle"
    RINGING = "ringing"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


class AgentState(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"
    UNKNOWN = "unknown"


class HealthState(StrEnum):
    STARTING = "starting"
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


class LampKind(StrEnum):
    EXTENSION = "extension"
    FLOW = "flow"


class Record(BaseModel):
    """Common shape: every object names its PBX and the vendor id needed to act on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pbx: str
    id: str = Field(description="The vendor's id for this object, used to act on it")

    @property
    def key(self) -> str:
        """A key unique across every PBX, stable between polls: used for table rows."""
        return f"{self.pbx}\x1f{self.id}"


STEADY_SECONDS = 2
"""How far a call's reported duration may drift from the one its last record implies before
the record is made anew (see ``Call.observed_again``)."""


class Call(Record):
    """One call, as the PBX lists it. ``channel`` and ``unique_id`` are one leg's own (the
    leg the call is acted on through); ``bridged_channel`` and ``bridged_unique_id`` are the
    other leg's, in the same two kinds: a channel *name* (``SIP/201-0000a1b2``) and an
    Asterisk *unique id* (``1717240000.42``), never one in the other's place. Either may be
    empty when the API does not say: PBX Cloud fills both when both legs are listed (only the
    channel when a lone leg's BridgedTo names a peer on another node); the dialup.php family
    gives the other party's unique id, and its channel only when that party is a watched
    extension too; IEXPBX lists one channel per call, so neither.
    """

    channel: str
    caller: str = ""
    caller_name: str = ""
    """Who the caller is, as the engine's name sources say (the PBX itself, a push, the
    contacts file, the vendor's directory, an extension's name, the CRM lookup); "" if none."""
    callee: str = ""
    callee_name: str = ""
    """Who the callee is, from the same sources; "" if none."""
    backend_link: str = ""
    """The caller's page in the CRM or contacts file (their ``backend_link``), if any."""
    state: CallState = CallState.OTHER
    state_raw: str = ""
    duration: int = Field(0, ge=0, description="Seconds, as reported at observed_at")
    queue: str = ""
    direction: Direction = Direction.UNKNOWN
    extension: str = ""
    unique_id: str = ""
    bridged_channel: str = Field("", description="The channel name of the other leg, if known")
    bridged_unique_id: str = Field("", description="The unique id of the other leg, if known")
    application: str = ""
    observed_at: datetime = Field(default_factory=utcnow)

    def duration_now(self, now: datetime | None = None) -> int:
        elapsed = ((now or utcnow()) - self.observed_at).total_seconds()
        return self.duration + max(0, int(elapsed))

    def implied_start(self) -> datetime:
        """When the call started, as its duration at ``observed_at`` implies."""
        return self.observed_at - timedelta(seconds=self.duration)

    def observed_again(self, duration: int, at: datetime) -> Call:
        """This call as a later poll at ``at`` reports it, every other field unchanged.

        Itself while the reported ``duration`` agrees with the one it implies (within
        ``STEADY_SECONDS``: whole seconds at poll times wobble): an unchanged call stays the
        same object from poll to poll, so everything downstream (names, joins, change
        events, the panes' rows) can tell it unchanged by identity alone, at any scale. A
        clock that moved further (a PBX that restarted it) is taken."""
        if abs(self.duration_now(at) - duration) <= STEADY_SECONDS:
            return self
        return self.model_copy(update={"duration": duration, "observed_at": at})


class Extension(Record):
    number: str
    name: str = ""
    state: LineState = LineState.UNKNOWN
    state_raw: str = ""
    registered: bool | None = None
    latency_ms: int | None = None
    call_id: str = Field("", description="Id of the Call this extension is on, if any")


class Peer(Record):
    name: str
    host: str = ""
    status_raw: str = ""
    registered: bool | None = None
    latency_ms: int | None = None
    description: str = ""


class BlfLamp(Record):
    label: str
    kind: LampKind = LampKind.EXTENSION
    state: LineState = LineState.UNKNOWN
    state_raw: str = ""
    since: datetime | None = None
    extension: str = ""
    call_id: str = Field("", description="Id of the Call this lamp's extension is on, if any")


class Queue(Record):
    name: str = ""
    waiting: int = 0
    longest_wait: int | None = Field(None, description="Seconds the first caller has waited")
    agents_available: int | None = None
    agents_busy: int | None = None
    agents_paused: int | None = None
    agents_total: int | None = None
    service_level: float | None = Field(None, description="Percent, when the vendor gives it")
    answered: int | None = None
    abandoned: int | None = None
    members: tuple[str, ...] = ()


class Agent(Record):
    """A queue member. ``id`` is the vendor's agent id; one Agent per (agent, queue)."""

    extension: str
    queue_id: str = ""
    name: str = ""
    state: AgentState = AgentState.UNAVAILABLE
    state_raw: str = ""
    pause_reason: str = ""
    paused_since: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.pbx}\x1f{self.id}\x1f{self.queue_id}"


class Consultation(BaseModel):
    """An attended transfer between its two steps: the caller holds while ``transferer``
    consults ``destination``. Complete joins them; cancel returns the caller to the transferer.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pbx: str
    held: Call
    """The call as the operator confirmed it (the party now on hold)."""
    transferer: str
    """The extension doing the consulting."""
    destination: str
    started_at: datetime = Field(default_factory=utcnow)
    before: tuple[str, ...] = ()
    """Keys of the PBX's calls when it started: a new one with the parties is the consult."""

    @property
    def key(self) -> str:
        return self.held.key


class SourceHealth(BaseModel):
    """A source of data beside the PBXs (the CRM that names callers): one for the whole
    console, carried on every PBX's health so the strip can show it once."""

    model_config = ConfigDict(frozen=True)

    name: str
    """What it is, as shown: "names"."""
    state: HealthState = HealthState.OK
    last_error: str = ""
    """Why its last request failed ("" when it answered), safe to show."""
    failures: int = 0
    """Consecutive failed requests."""


class PbxHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    pbx: str
    kind: str
    state: HealthState = HealthState.STARTING
    latency_ms: int | None = None
    last_error: str = ""
    last_ok: datetime | None = None
    consecutive_failures: int = 0
    read_only: bool = False
    protected: bool = False
    tls_verified: bool = True
    """False when the config says ``verify_tls = false``: said wherever health is shown."""
    push_only: bool = False
    """The PBX has no polling API: what is known of it is what it pushes."""
    last_push: datetime | None = None
    """When the last webhook of this PBX was accepted."""
    pushes: int = 0
    """Webhooks accepted from this PBX."""
    push_refusals: int = 0
    """Webhook requests for this PBX refused (bad token, source, size, rate)."""
    last_push_refusal: str = ""
    names: SourceHealth | None = None
    """The caller-name lookup (``[lookup]``), when one is configured: the same on every PBX."""
    figures: TenantFigures | None = None
    """The tenant's own counts and credit, read rarely, where the API gives them."""
    push_error: str = ""
    """Why what this PBX pushes cannot be received now (the receiver cannot listen)."""


class DirectoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    pbx: str
    name: str
    number: str
    extra: dict[str, str] = Field(default_factory=dict)


class ActionResult(BaseModel):
    """What a vendor said about an action: ``ok`` and its own words."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    message: str = ""
    vendor_id: str = Field("", description="An id the vendor returned (originate id, uniqueid)")
