"""What an operator asks a PBX to do: one small typed request per action (a tagged union).

A request carries the snapshot of the record the operator confirmed (the Call, the Agent, the
pending attended transfer), so the engine acts on exactly that, never on whatever row is
selected a second later. Each request says what it needs (``capability``), what it acts on
(``target_key``, for the in-flight guard), how it is named (``describe_target``) and what is
wrong with it (``problem``); the engine's policy asks these questions of every request, from
the console and the CLI alike. Requests are pydantic models: they serialize as they are, to
the audit log today and to a remote collector tomorrow (``REQUESTS.validate_json``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from pbxtui.model.labels import agent_label, call_label, format_duration
from pbxtui.model.records import Agent, Call, Consultation, Peer, Queue
from pbxtui.model.vocabulary import (
    ACTION_LABELS,
    DESTRUCTIVE_ACTIONS,
    READ_ACTIONS,
    Action,
    Click2CallOption,
    Step,
)

NUMBER_PATTERN = re.compile(r"^\+?[0-9*#]{1,32}$")
MAX_REASON_LENGTH = 80
MAX_ECHOED = 40
"""A value quoted back in a refusal is cut to this many characters."""


def number_problem(what: str, value: str) -> str:
    """Why ``value`` is not a dialable number, or "" when it is."""
    if not value:
        return f"the {what} is missing"
    if not NUMBER_PATTERN.fullmatch(value):
        return (
            f"the {what} {value[:MAX_ECHOED]!r} is not a phone number: "
            "use digits, * and #, with an optional leading +"
        )
    return ""


def text_problem(what: str, value: str) -> str:
    """Why ``value`` cannot be sent as free text (a pause reason), or ""."""
    if len(value) > MAX_REASON_LENGTH:
        return f"the {what} is longer than {MAX_REASON_LENGTH} characters"
    if any(not ch.isprintable() for ch in value):
        return f"the {what} contains control characters"
    return ""


def _wrong_pbx(what: str, record_pbx: str, pbx: str) -> str:
    return f"the {what} is on {record_pbx}, not {pbx}" if record_pbx != pbx else ""


class Click2Call(BaseModel):
    """Connect ``source`` (usually an extension) to ``destination``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    destination: str
    caller_id: str = ""
    timeout: int | None = None
    reverse: bool = False
    scheduled_at: datetime | None = None
    max_retry: int | None = None
    retry_time: int | None = None
    ident: str = ""

    def options_used(self) -> frozenset[Click2CallOption]:
        used = set()
        if self.caller_id:
            used.add(Click2CallOption.CALLER_ID)
        if self.timeout is not None:
            used.add(Click2CallOption.TIMEOUT)
        if self.reverse:
            used.add(Click2CallOption.REVERSE)
        return frozenset(used)


class IvrCall(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    dialplan: str = ""
    destination: str = ""
    announcements: tuple[str, ...] = ()


class Request(BaseModel):
    """What every request has; see the module docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    capability: ClassVar[Action]
    kind: str
    pbx: str
    confirmed_pbx: str = Field(
        "", description="A protected PBX's name as the operator typed it to confirm"
    )
    requested_by: str = Field(
        "",
        description="Who asked, when not the acting process's own user: the operator "
        "(user@host) of a console acting through a collector, for its audit line",
    )

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.capability]

    @property
    def destructive(self) -> bool:
        return self.capability in DESTRUCTIVE_ACTIONS

    @property
    def changes_pbx(self) -> bool:
        return self.capability not in READ_ACTIONS

    @property
    def record_key(self) -> str:
        """The ``Record.key`` this request is about ("" when it is about no record)."""
        return ""

    def target_key(self) -> str:
        """What this request acts on: two requests with the same key never fly at once."""
        return f"{self.kind}:{self.pbx}"

    def describe_target(self) -> str:
        """A short text naming the exact target, for confirmations and the audit."""
        return self.label

    def params(self) -> dict[str, str]:
        """The non-secret parameters, as strings, for the audit log."""
        return {}

    def problem(self, now: datetime | None = None) -> str:
        """Why this request cannot be sent as it is, or "" when it can (``now``: the
        operator's clock, for a time that must be to come)."""
        return ""

    def summary(self) -> str:
        """``hang up SIP/201-00a1 (0501234567 → 201, 3:12)``."""
        return f"{self.label} {self.describe_target()}"


class _CallRequest(Request):
    call: Call

    @property
    def record_key(self) -> str:
        return self.call.key

    def target_key(self) -> str:
        return f"call:{self.call.key}"

    def describe_target(self) -> str:
        call = self.call
        return f"{call.channel} ({call_label(call)}, {format_duration(call.duration_now())})"

    def params(self) -> dict[str, str]:
        return {"call_id": self.call.id}

    def problem(self, now: datetime | None = None) -> str:
        return _wrong_pbx("call", self.call.pbx, self.pbx)


class Hangup(_CallRequest):
    capability = Action.HANGUP
    kind: Literal["hangup"] = "hangup"


class _TransferRequest(_CallRequest):
    destination: str

    def params(self) -> dict[str, str]:
        return {**super().params(), "destination": self.destination}

    def problem(self, now: datetime | None = None) -> str:
        problem = super().problem(now) or number_problem("destination", self.destination)
        if problem:
            return problem
        on_call = {self.call.extension, self.call.caller, self.call.callee} - {""}
        if self.destination in on_call:
            return f"{self.destination} is already on this call: choose another destination"
        return ""

    def summary(self) -> str:
        return f"{super().summary()} to {self.destination}"


class BlindTransfer(_TransferRequest):
    capability = Action.TRANSFER
    kind: Literal["transfer"] = "transfer"


class AttendedTransfer(_TransferRequest):
    """Step one: the call's extension consults ``destination`` while the other party holds."""

    capability = Action.ATTENDED_TRANSFER
    kind: Literal["attended_transfer"] = "attended_transfer"


class _ConsultationStep(Request):
    capability = Action.ATTENDED_TRANSFER
    consultation: Consultation

    @property
    def record_key(self) -> str:
        return self.consultation.key

    def target_key(self) -> str:
        return f"call:{self.consultation.key}"

    def describe_target(self) -> str:
        c = self.consultation
        who = c.transferer or "the extension"
        return f"{who} consulting {c.destination}; held {c.held.channel} ({call_label(c.held)})"

    def params(self) -> dict[str, str]:
        c = self.consultation
        return {"call_id": c.held.id, "destination": c.destination, "transferer": c.transferer}

    def problem(self, now: datetime | None = None) -> str:
        return _wrong_pbx("attended transfer", self.consultation.pbx, self.pbx)


class CompleteTransfer(_ConsultationStep):
    """Step two: join the held party and the consulted one (the transferer drops out)."""

    kind: Literal["attended_transfer_complete"] = Step.TRANSFER_COMPLETE.value

    @property
    def label(self) -> str:
        return "complete attended transfer"


class CancelTransfer(_ConsultationStep):
    """Step two, the other way: end the consultation; the caller is back with the transferer."""

    kind: Literal["attended_transfer_cancel"] = Step.TRANSFER_CANCEL.value

    @property
    def label(self) -> str:
        return "cancel attended transfer"


class _AgentRequest(Request):
    agent: Agent

    @property
    def record_key(self) -> str:
        return self.agent.key

    def target_key(self) -> str:
        return f"agent:{self.agent.key}"

    def describe_target(self) -> str:
        return agent_label(self.agent)

    def params(self) -> dict[str, str]:
        params = {"agent_id": self.agent.id}
        if self.agent.queue_id:
            params["queue"] = self.agent.queue_id
        return params

    def problem(self, now: datetime | None = None) -> str:
        return _wrong_pbx("agent", self.agent.pbx, self.pbx)


class PauseAgent(_AgentRequest):
    capability = Action.PAUSE
    kind: Literal["pause"] = "pause"
    reason: str = ""

    def params(self) -> dict[str, str]:
        params = super().params()
        if self.reason:
            params["reason"] = self.reason
        return params

    def problem(self, now: datetime | None = None) -> str:
        return super().problem(now) or text_problem("reason", self.reason)


class UnpauseAgent(_AgentRequest):
    capability = Action.UNPAUSE
    kind: Literal["unpause"] = "unpause"


class _DialRequest(Request):
    dial: Click2Call

    def target_key(self) -> str:
        return f"dial:{self.pbx}:{self.dial.source}:{self.dial.destination}"

    def describe_target(self) -> str:
        dial = self.dial
        when = f" at {dial.scheduled_at.isoformat(sep=' ')}" if dial.scheduled_at else ""
        return f"{dial.source} → {dial.destination}{when}"

    def params(self) -> dict[str, str]:
        dial = self.dial
        optional = {
            "caller_id": dial.caller_id,
            "timeout": "" if dial.timeout is None else str(dial.timeout),
            "reverse": "yes" if dial.reverse else "",
            "scheduled_at": dial.scheduled_at.isoformat() if dial.scheduled_at else "",
            "max_retry": "" if dial.max_retry is None else str(dial.max_retry),
            "retry_time": "" if dial.retry_time is None else str(dial.retry_time),
            "ident": dial.ident,
        }
        return {
            "source": dial.source,
            "destination": dial.destination,
            **{k: v for k, v in optional.items() if v},
        }

    def problem(self, now: datetime | None = None) -> str:
        dial = self.dial
        problem = number_problem("source", dial.source) or number_problem(
            "destination", dial.destination
        )
        if not problem and dial.caller_id:
            problem = number_problem("caller id", dial.caller_id)
        if not problem and dial.source == dial.destination:
            problem = f"the source and the destination are the same number ({dial.source})"
        return problem


class PlaceCall(_DialRequest):
    """Click2call now."""

    capability = Action.CLICK2CALL
    kind: Literal["click2call"] = "click2call"

    def problem(self, now: datetime | None = None) -> str:
        if self.dial.scheduled_at is not None:
            return "a call with a time to place it is a scheduled call"
        return super().problem(now)


class ScheduleCall(_DialRequest):
    """Click2call at a later time, with retries (where the API schedules calls)."""

    capability = Action.SCHEDULED_CALL
    kind: Literal["scheduled_call"] = "scheduled_call"

    def problem(self, now: datetime | None = None) -> str:
        at = self.dial.scheduled_at
        if at is None:
            return "a scheduled call needs the time to place it"
        current = now or datetime.now().astimezone()
        # A naive time is the operator's local wall-clock time.
        if at.tzinfo is None:
            current = current.astimezone().replace(tzinfo=None) if current.tzinfo else current
        elif current.tzinfo is None:
            current = current.astimezone()
        if at <= current:
            shown = at.isoformat(sep=" ", timespec="minutes")
            return f"the time {shown} is in the past: a scheduled call needs a time to come"
        return super().problem(now)


class Callback(Request):
    """The PBX calls two numbers and connects them, each seeing the PBX's number."""

    capability = Action.CALLBACK
    kind: Literal["callback"] = "callback"
    number1: str
    number2: str

    def target_key(self) -> str:
        return f"dial:{self.pbx}:{':'.join(sorted((self.number1, self.number2)))}"

    def describe_target(self) -> str:
        return f"{self.number1} ↔ {self.number2}"

    def params(self) -> dict[str, str]:
        return {"number1": self.number1, "number2": self.number2}

    def problem(self, now: datetime | None = None) -> str:
        problem = number_problem("first number", self.number1) or number_problem(
            "second number", self.number2
        )
        if not problem and self.number1 == self.number2:
            problem = f"both numbers are {self.number1}: a callback connects two numbers"
        return problem


class IvrCallRequest(Request):
    """The PBX calls a number and plays announcements to it."""

    capability = Action.CALL_IVR
    kind: Literal["call_ivr"] = "call_ivr"
    ivr: IvrCall

    def target_key(self) -> str:
        return f"dial:{self.pbx}:{self.ivr.number}"

    def describe_target(self) -> str:
        dialplan = f" via {self.ivr.dialplan}" if self.ivr.dialplan else ""
        return f"{self.ivr.number}{dialplan}"

    def params(self) -> dict[str, str]:
        ivr = self.ivr
        params = {"number": ivr.number}
        if ivr.dialplan:
            params["dialplan"] = ivr.dialplan
        if ivr.destination:
            params["destination"] = ivr.destination
        if ivr.announcements:
            params["announcements"] = ", ".join(ivr.announcements)
        return params

    def problem(self, now: datetime | None = None) -> str:
        return number_problem("number", self.ivr.number)


class FetchDirectory(Request):
    """Read the PBX's phone directory (changes nothing: allowed when read-only)."""

    capability = Action.PHONEBOOK
    kind: Literal["phonebook"] = "phonebook"

    def describe_target(self) -> str:
        return "phone directory"

    def summary(self) -> str:
        return "phone directory"


# -- the vendor extras -------------------------------------------------------------------------
FLOW_STATES = ("INUSE", "NOT_INUSE", "UNAVAILABLE", "RINGING")
"""SETFLOW's documented states (pbx-cloud-api.txt)."""
FlowStateWord = Literal["INUSE", "NOT_INUSE", "UNAVAILABLE", "RINGING"]
CampaignVerb = Literal["start", "stop", "pause", "resume"]
CAMPAIGN_VERBS: tuple[CampaignVerb, ...] = ("start", "stop", "pause", "resume")
ALL_PEERS = "ALL"
"""What REBOOT and UNREGISTER take for every peer, and what the operator types to confirm."""
MAX_IDENT = 40


def ident_problem(what: str, value: str) -> str:
    """Why ``value`` cannot be sent as an identifier (a flow or campaign id), or ""."""
    if not value:
        return f"the {what} is missing"
    if len(value) > MAX_IDENT or not value.isprintable() or any(ch.isspace() for ch in value):
        return f"the {what} {value[:MAX_ECHOED]!r} must be at most {MAX_IDENT} printable characters"
    return ""


class QueueCallback(Request):
    """Put ``number`` on ``queue``'s callback list: the PBX calls it back and connects it to
    the queue once an agent there is free (dialup ``PBXpostOut.php`` ``AddCB``)."""

    capability = Action.QUEUE_CALLBACK
    kind: Literal["queue_callback"] = "queue_callback"
    number: str
    queue: str
    source: str = ""
    max_dial: int | None = Field(None, ge=1, le=20)

    def target_key(self) -> str:
        return f"dial:{self.pbx}:{self.number}"

    def describe_target(self) -> str:
        return f"{self.number} → queue {self.queue}"

    def params(self) -> dict[str, str]:
        params = {"number": self.number, "queue": self.queue}
        if self.source:
            params["source"] = self.source
        if self.max_dial is not None:
            params["max_dial"] = str(self.max_dial)
        return params

    def problem(self, now: datetime | None = None) -> str:
        problem = number_problem("number", self.number) or number_problem("queue", self.queue)
        if not problem and self.source:
            problem = number_problem("source number", self.source)
        return problem


class SetFlow(Request):
    """Set a flow's state (its BLF lamp) or its value (PBX Cloud ``SETFLOW``)."""

    capability = Action.SET_FLOW
    kind: Literal["set_flow"] = "set_flow"
    flow: str
    name: str = ""
    state: FlowStateWord | None = None
    value: str = ""

    def target_key(self) -> str:
        return f"flow:{self.pbx}:{self.flow}"

    def describe_target(self) -> str:
        name = f" ({self.name})" if self.name and self.name != self.flow else ""
        what = [f"state {self.state}"] if self.state else []
        if self.value:
            what.append(f"value {self.value!r}")
        return f"flow {self.flow}{name} → {', '.join(what) or '?'}"

    def params(self) -> dict[str, str]:
        params = {"flow": self.flow}
        if self.state:
            params["state"] = self.state
        if self.value:
            params["value"] = self.value
        return params

    def problem(self, now: datetime | None = None) -> str:
        problem = ident_problem("flow number", self.flow) or text_problem("value", self.value)
        if not problem and self.state is None and not self.value:
            problem = "give the flow a state or a value"
        return problem

    def summary(self) -> str:
        return f"set {self.describe_target()}"


def flow_toggled(state_raw: str) -> FlowStateWord:
    """What toggling a flow lamp sets: a lit lamp goes out, any other lights."""
    return "NOT_INUSE" if state_raw.strip().upper() in ("INUSE", "RINGING") else "INUSE"


class QueueReset(Request):
    """Reset a queue's statistics (PBX Cloud ``QUEUERESET``): its counts start again at 0."""

    capability = Action.QUEUE_RESET
    kind: Literal["queue_reset"] = "queue_reset"
    queue: Queue

    @property
    def record_key(self) -> str:
        return self.queue.key

    def target_key(self) -> str:
        return f"queue:{self.queue.key}"

    def describe_target(self) -> str:
        q = self.queue
        name = f" ({q.name})" if q.name and q.name != q.id else ""
        figures = [
            f"{label} {value}"
            for label, value in (("answered", q.answered), ("abandoned", q.abandoned))
            if value is not None
        ]
        return f"queue {q.id}{name}" + (f": {', '.join(figures)}" if figures else "")

    def params(self) -> dict[str, str]:
        return {"queue": self.queue.id}

    def problem(self, now: datetime | None = None) -> str:
        return _wrong_pbx("queue", self.queue.pbx, self.pbx)


class CampaignControl(Request):
    """Start, stop, pause or resume a call campaign (PBX Cloud ``CAMPAIGN``)."""

    capability = Action.CAMPAIGN
    kind: Literal["campaign"] = "campaign"
    campaign: str
    verb: CampaignVerb
    name: str = ""

    def target_key(self) -> str:
        return f"campaign:{self.pbx}:{self.campaign}"

    def describe_target(self) -> str:
        name = f" ({self.name})" if self.name and self.name != self.campaign else ""
        return f"campaign {self.campaign}{name}"

    def params(self) -> dict[str, str]:
        return {"campaign": self.campaign, "verb": self.verb}

    def problem(self, now: datetime | None = None) -> str:
        return ident_problem("campaign id", self.campaign)

    def summary(self) -> str:
        return f"{self.verb} {self.describe_target()}"


class _PeerRequest(Request):
    """One peer, or every peer of the PBX (``peer`` None) once ALL or the PBX's name has been
    typed (``typed``): the policy checks it, for the console and the CLI alike."""

    peer: Peer | None = None
    typed: str = Field("", description="What the operator typed to confirm every peer")

    @property
    def every_peer(self) -> bool:
        return self.peer is None

    @property
    def record_key(self) -> str:
        return self.peer.key if self.peer is not None else ""

    def target_key(self) -> str:
        return f"peer:{self.pbx}:{self.peer.id if self.peer else ALL_PEERS}"

    def describe_target(self) -> str:
        peer = self.peer
        if peer is None:
            return f"every peer of {self.pbx} ({ALL_PEERS})"
        detail = ", ".join(part for part in (peer.host, peer.status_raw) if part)
        return f"peer {peer.name}" + (f" ({detail})" if detail else "")

    def params(self) -> dict[str, str]:
        return {"peer": self.peer.id if self.peer else ALL_PEERS}

    def problem(self, now: datetime | None = None) -> str:
        if self.peer is not None:
            return _wrong_pbx("peer", self.peer.pbx, self.pbx)
        if self.typed.strip() not in (ALL_PEERS, self.pbx):
            return (
                f"{self.label} of every peer needs {ALL_PEERS} (or the PBX's name, "
                f"{self.pbx}) typed to confirm"
            )
        return ""


class RebootPeer(_PeerRequest):
    """Reboot a phone (or every phone) through the PBX (PBX Cloud ``REBOOT``)."""

    capability = Action.PEER_REBOOT
    kind: Literal["peer_reboot"] = "peer_reboot"


class UnregisterPeer(_PeerRequest):
    """Drop a peer's (or every peer's) registration (PBX Cloud ``UNREGISTER``)."""

    capability = Action.PEER_UNREGISTER
    kind: Literal["peer_unregister"] = "peer_unregister"


class DeleteVoicemail(Request):
    """Delete one voicemail message for good (where the API has voicemail)."""

    capability = Action.VOICEMAIL_DELETE
    kind: Literal["voicemail_delete"] = "voicemail_delete"
    message: str
    mailbox: str = ""

    def target_key(self) -> str:
        return f"voicemail:{self.pbx}:{self.message}"

    def describe_target(self) -> str:
        where = f" in mailbox {self.mailbox}" if self.mailbox else ""
        return f"message {self.message}{where}"

    def params(self) -> dict[str, str]:
        return {"message": self.message} | ({"mailbox": self.mailbox} if self.mailbox else {})

    def problem(self, now: datetime | None = None) -> str:
        if not self.message.strip():
            return "the voicemail message id is missing"
        return text_problem("voicemail message id", self.message)


ActionRequest = Annotated[
    Hangup
    | BlindTransfer
    | AttendedTransfer
    | CompleteTransfer
    | CancelTransfer
    | PauseAgent
    | UnpauseAgent
    | PlaceCall
    | ScheduleCall
    | Callback
    | IvrCallRequest
    | FetchDirectory
    | QueueCallback
    | SetFlow
    | QueueReset
    | CampaignControl
    | RebootPeer
    | UnregisterPeer
    | DeleteVoicemail,
    Field(discriminator="kind"),
]
"""Any one request; ``REQUESTS`` reads and writes them as JSON."""

REQUESTS: TypeAdapter[ActionRequest] = TypeAdapter(ActionRequest)

OneRequest = TypeVar("OneRequest", bound=Request)
"""A function over ``OneRequest`` keeps the request's own type (a list of hangups stays one).
Every concrete request is a member of ``ActionRequest``."""
