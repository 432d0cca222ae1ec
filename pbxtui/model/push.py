"""What a PBX pushes to us, normalized: one ``PushEvent`` whatever the vendor's URL said.

GlobalEx (the dialup.php family) sends an incoming-call alert and an end-call event; IEXPBX
calls a URL when a call starts and when it hangs up; While1 Voice asks our caller-data
webservice about each caller and sends its "Send Events". The webhook receiver reads each
vendor's parameters into this shape (the vendor's words are kept in ``raw``), and the engine
turns the events into live state, Events-pane lines and history.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from pbxtui.model.records import Direction, utcnow

MAX_RAW_FIELDS = 40
MAX_RAW_VALUE = 200


class PushKind(StrEnum):
    CALL_RINGING = "call_ringing"
    """A call rings (GlobalEx incoming alert; a While1 caller-data request)."""
    CALL_STARTED = "call_started"
    """A call started (IEXPBX call start)."""
    CALL_ANSWERED = "call_answered"
    """Someone answered (While1 dial_answer, queue_answer, call_forward_answer)."""
    CALL_ENDED = "call_ended"
    """A call ended (GlobalEx end call, IEXPBX hang-up, While1 queue_answer_end/outgoing_end)."""
    CALL_MISSED = "call_missed"
    """A caller gave up or was not answered (While1 missed_calls)."""


class EndStatus(StrEnum):
    """How a call ended, in the words history uses for every vendor."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CANCELLED = "cancelled"
    CONGESTION = "congestion"
    FAILED = "failed"
    ABANDONED = "abandoned"
    UNKNOWN = "unknown"


class PushEvent(BaseModel):
    """One event a PBX pushed, normalized. Every text is as the vendor sent it, cut short."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    pbx: str
    kind: PushKind
    route: str = Field(description="The route it came in on: incoming, end_call, events, ...")
    received_at: datetime = Field(default_factory=utcnow)
    call_id: str = Field("", description="The vendor's id of the call (callid, chan, uniqueid)")
    caller: str = ""
    callee: str = ""
    extension: str = ""
    agent: str = ""
    queue: str = ""
    queue_name: str = ""
    did: str = ""
    direction: Direction = Direction.UNKNOWN
    status: EndStatus | None = None
    status_raw: str = ""
    duration: int | None = Field(None, ge=0, description="Seconds, overall")
    billable: int | None = Field(None, ge=0, description="Seconds talked (billable)")
    hold_time: int | None = Field(None, ge=0, description="Seconds waited in a queue")
    recording: str = Field("", description="The vendor's name or link for the recording")
    reason: str = Field("", description="Why a call was missed or failed, in the vendor's words")
    raw: dict[str, str] = Field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """Senders retry: the same event twice is one event."""
        ident = self.call_id or f"{self.caller}>{self.callee}@{self.extension}"
        return f"{self.pbx}\x1f{self.kind.value}\x1f{ident}"

    @property
    def parties(self) -> str:
        """``0501234567 → 201`` (``?`` for a party the vendor did not name)."""
        return f"{self.caller or '?'} → {self.callee or self.extension or '?'}"


def bounded_raw(params: dict[str, str]) -> dict[str, str]:
    """The vendor's parameters, kept for the detail view: a bounded copy."""
    items = list(params.items())[:MAX_RAW_FIELDS]
    return {str(k)[:MAX_RAW_VALUE]: str(v)[:MAX_RAW_VALUE] for k, v in items}
