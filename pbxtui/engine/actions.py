"""What an operator asks the engine to do, and what came of it.

An ``ActionRequest`` carries the snapshot of the Call or Agent the operator confirmed; the
engine acts on exactly that object, never on whatever row is selected a second later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pbxtui.drivers.base import ACTION_LABELS, Action, Click2Call, IvrCall
from pbxtui.engine.changes import agent_label, call_label, format_duration
from pbxtui.model import ActionResult, Agent, Call, DirectoryEntry

NUMBER_PATTERN = re.compile(r"^\+?[0-9*#]{1,32}$")
MAX_REASON_LENGTH = 80


class ActionStatus(StrEnum):
    """The outcome of an attempt, in the words the audit log uses."""

    OK = "ok"
    FAILED = "failed"
    REFUSED = "refused"
    UNSUPPORTED = "unsupported"
    READ_ONLY = "read-only"


@dataclass(frozen=True)
class ActionRequest:
    action: Action
    pbx: str
    call: Call | None = None
    agent: Agent | None = None
    destination: str = ""
    reason: str = ""
    click2call: Click2Call | None = None
    ivr: IvrCall | None = None
    number1: str = ""
    number2: str = ""

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, str(self.action))

    @property
    def key(self) -> str:
        """The record key of the target, when the target is a record."""
        if self.call is not None:
            return self.call.key
        if self.agent is not None:
            return self.agent.key
        return ""

    def describe_target(self) -> str:
        """A short description naming the exact target, for confirmations and the audit."""
        action = self.action
        if action in (Action.HANGUP, Action.TRANSFER, Action.ATTENDED_TRANSFER):
            if self.call is None:
                return "(no call)"
            call = self.call
            return f"{call.channel} ({call_label(call)}, {format_duration(call.duration_now())})"
        if action in (Action.PAUSE, Action.UNPAUSE):
            return agent_label(self.agent) if self.agent is not None else "(no agent)"
        if action in (Action.CLICK2CALL, Action.SCHEDULED_CALL):
            if self.click2call is None:
                return "(no call details)"
            c2c = self.click2call
            when = f" at {c2c.scheduled_at.isoformat()}" if c2c.scheduled_at else ""
            return f"{c2c.source} → {c2c.destination}{when}"
        if action is Action.CALLBACK:
            return f"{self.number1} ↔ {self.number2}"
        if action is Action.CALL_IVR:
            if self.ivr is None:
                return "(no IVR call details)"
            dialplan = f" via {self.ivr.dialplan}" if self.ivr.dialplan else ""
            return f"{self.ivr.number}{dialplan}"
        return "phone directory"

    def params(self) -> dict[str, str]:
        """The non-secret parameters of this request, as strings (for the audit log)."""
        params: dict[str, str] = {}
        if self.destination:
            params["destination"] = self.destination
        if self.reason:
            params["reason"] = self.reason
        if self.call is not None:
            params["call_id"] = self.call.id
        if self.agent is not None:
            params["agent_id"] = self.agent.id
            if self.agent.queue_id:
                params["queue"] = self.agent.queue_id
        if self.click2call is not None:
            c2c = self.click2call
            params["source"] = c2c.source
            params["destination"] = c2c.destination
            optional = {
                "caller_id": c2c.caller_id,
                "timeout": "" if c2c.timeout is None else str(c2c.timeout),
                "reverse": "yes" if c2c.reverse else "",
                "scheduled_at": c2c.scheduled_at.isoformat() if c2c.scheduled_at else "",
                "max_retry": "" if c2c.max_retry is None else str(c2c.max_retry),
                "retry_time": "" if c2c.retry_time is None else str(c2c.retry_time),
                "ident": c2c.ident,
            }
            params.update({k: v for k, v in optional.items() if v})
        if self.action is Action.CALLBACK:
            params["number1"] = self.number1
            params["number2"] = self.number2
        if self.ivr is not None:
            params["number"] = self.ivr.number
            if self.ivr.dialplan:
                params["dialplan"] = self.ivr.dialplan
            if self.ivr.destination:
                params["destination"] = self.ivr.destination
            if self.ivr.announcements:
                params["announcements"] = ", ".join(self.ivr.announcements)
        return params

    def summary(self) -> str:
        """``hang up SIP/201-00a1 (0501234567 → 201, 3:12)``, plus the destination if any."""
        destination = f" to {self.destination}" if self.destination else ""
        return f"{self.label} {self.describe_target()}{destination}"


@dataclass(frozen=True)
class ActionOutcome:
    request: ActionRequest
    ok: bool
    status: ActionStatus
    message: str
    """Readable; on failure, the vendor's own reason."""
    result: ActionResult | None = None
    entries: tuple[DirectoryEntry, ...] = ()
    """The directory, for PHONEBOOK."""

    def text(self) -> str:
        """``hq: hang up SIP/201-00a1 (…) → ok: Channel Hungup``."""
        message = f": {self.message}" if self.message else ""
        return f"{self.request.pbx}: {self.request.summary()} → {self.status.value}{message}"


def validate(request: ActionRequest) -> str:
    """Why ``request`` cannot be sent as it is, or "" when it can."""
    action = request.action
    if action in (Action.HANGUP, Action.TRANSFER, Action.ATTENDED_TRANSFER):
        if request.call is None:
            return f"{request.label} needs the call to act on"
        if request.call.pbx != request.pbx:
            return f"the call is on {request.call.pbx}, not {request.pbx}"
        if action is not Action.HANGUP:
            return _number_problem("destination", request.destination)
    elif action in (Action.PAUSE, Action.UNPAUSE):
        if request.agent is None:
            return f"{request.label} needs the agent to act on"
        if request.agent.pbx != request.pbx:
            return f"the agent is on {request.agent.pbx}, not {request.pbx}"
        if action is Action.PAUSE:
            return _text_problem("reason", request.reason)
    elif action in (Action.CLICK2CALL, Action.SCHEDULED_CALL):
        c2c = request.click2call
        if c2c is None:
            return f"{request.label} needs a source and a destination"
        if action is Action.SCHEDULED_CALL and c2c.scheduled_at is None:
            return "a scheduled call needs the time to place it"
        return _number_problem("source", c2c.source) or _number_problem(
            "destination", c2c.destination
        )
    elif action is Action.CALLBACK:
        return _number_problem("first number", request.number1) or _number_problem(
            "second number", request.number2
        )
    elif action is Action.CALL_IVR:
        if request.ivr is None:
            return "an IVR call needs the number to call"
        return _number_problem("number", request.ivr.number)
    return ""


def _number_problem(what: str, value: str) -> str:
    if not value:
        return f"the {what} is missing"
    if not NUMBER_PATTERN.fullmatch(value):
        return (
            f"the {what} {value[:40]!r} is not a phone number: "
            "use digits, * and #, with an optional leading +"
        )
    return ""


def _text_problem(what: str, value: str) -> str:
    if len(value) > MAX_REASON_LENGTH:
        return f"the {what} is longer than {MAX_REASON_LENGTH} characters"
    if any(not ch.isprintable() for ch in value):
        return f"the {what} contains control characters"
    return ""
